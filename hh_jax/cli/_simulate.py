"""``hh-jax simulate``: one neuron, one stimulus, a trace file and a figure."""

import argparse
from pathlib import Path

from ..tolerances import DEFAULT as TOLERANCES
from ._common import (
    add_precision_options,
    add_simulation_options,
    add_threshold_option,
    model_overrides,
    stimulus_from_args,
    y0_from_args,
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
    add_simulation_options(
        parser, duration=100.0, save_dt=0.025, y0="steady", tolerances=TOLERANCES
    )
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
        y0 = y0_from_args(args.y0)
    if not duration > 0 or not args.save_dt > 0:
        raise ValueError("--duration and --save-dt must be > 0 ms.")
    ts = jnp.arange(0.0, duration + 0.5 * args.save_dt, args.save_dt)
    options = dict(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)
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
