"""``hh-jax simulate``: one neuron, one stimulus, a trace file and a figure."""

import argparse
from pathlib import Path

from ._common import (
    add_model_options,
    add_precision_options,
    add_stimulus_options,
    add_threshold_option,
    model_overrides,
    squid_parameter_infos,
    stimulus_from_args,
)

SEED_START = (-65.0, 0.05, 0.6, 0.32)  # V (mV), m, h, n of the seed experiment


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "simulate",
        help="simulate one neuron and write the trace (NPZ or CSV) and a plot",
        description="Simulate the Hodgkin–Huxley model under a stimulus. Units: "
        "time ms, voltage mV, current density uA/cm^2 (positive depolarises), "
        "conductance mS/cm^2, capacitance uF/cm^2, temperature degC.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="the seed experiment: 10 uA/cm^2 from t = 0, 50 ms, start "
        "(V, m, h, n) = (-65 mV, 0.05, 0.6, 0.32)",
    )
    add_stimulus_options(parser)
    time = parser.add_argument_group("time")
    time.add_argument("--duration", type=float, default=100.0, help="simulated ms")
    time.add_argument("--dt", type=float, default=0.025, help="save interval, ms")
    parser.add_argument(
        "--y0",
        nargs="+",
        type=float,
        metavar="X",
        help="initial state V (mV) then each gate (m h n); default: rest at -65 mV",
    )
    add_model_options(parser, squid_parameter_infos())
    solver = parser.add_argument_group("solver")
    solver.add_argument("--rtol", type=float, default=None, help="relative tolerance")
    solver.add_argument("--atol", type=float, default=None, help="absolute tolerance")
    solver.add_argument("--max-steps", type=int, default=None)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("trace.npz"),
        help="trace file, .npz or .csv (t, V, gates, currents)",
    )
    out.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="figure path (default: next to --out, .png)",
    )
    out.add_argument("--no-plot", action="store_true", help="skip the figure")
    add_threshold_option(out)
    add_precision_options(parser)


def run(args) -> int:
    import jax.numpy as jnp
    import numpy as np

    from ..model import HodgkinHuxley
    from ..simulate import simulate
    from ..spikes import spike_times
    from ..stimulus import Constant

    model = HodgkinHuxley().replace(**model_overrides(args))
    if args.demo:
        if args.step or args.constant is not None or args.stimulus:
            raise ValueError("--demo fixes the stimulus; drop --step/--constant.")
        stimulus, duration, y0 = Constant(10.0), 50.0, jnp.asarray(SEED_START)
    else:
        stimulus, duration = stimulus_from_args(args), args.duration
        y0 = None if args.y0 is None else jnp.asarray(args.y0)
    if not duration > 0 or not args.dt > 0:
        raise ValueError("--duration and --dt must be > 0 ms.")
    ts = jnp.arange(0.0, duration + 0.5 * args.dt, args.dt)
    options = {
        k: v
        for k, v in dict(
            rtol=args.rtol, atol=args.atol, max_steps=args.max_steps
        ).items()
        if v is not None
    }
    trace = simulate(model, stimulus, ts, y0=y0, currents=True, **options)
    trace.raise_if_failed()

    spikes = np.asarray(spike_times(trace.t, trace.V, args.threshold))
    spikes = spikes[np.isfinite(spikes)]
    print(f"simulated {duration:g} ms, {int(trace.num_steps)} solver steps")
    print(
        f"{len(spikes)} spikes ({args.threshold:g} mV crossings) at ms: "
        + ", ".join(f"{s:.4f}" for s in spikes)
    )

    columns = {"t": trace.t, "V": trace.V, **trace.gates, **trace.currents}
    columns = {k: np.asarray(v) for k, v in columns.items()}
    units = {"t": "ms", "V": "mV", **{g: "1" for g in trace.gates}}
    units.update({c: "uA/cm^2" for c in trace.currents})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        header = ",".join(f"{k} ({units[k]})" for k in columns)
        np.savetxt(
            out,
            np.column_stack(list(columns.values())),
            delimiter=",",
            header=header,
            comments="",
        )
    elif out.suffix.lower() == ".npz":
        np.savez(out, **columns, units=np.asarray(str(units)))
    else:
        raise ValueError(f"--out must end in .npz or .csv; got {out}.")
    print(f"wrote {out}")
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plot import plot_trace

        path = args.plot or out.with_suffix(".png")
        title = "Seed experiment: HH neuron, I = 10 uA/cm$^2$" if args.demo else None
        fig = plot_trace(trace, title=title, threshold=args.threshold)
        fig.savefig(path, dpi=120)
        print(f"wrote {path}")
    return 0
