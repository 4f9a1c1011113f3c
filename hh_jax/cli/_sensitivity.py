"""``hh-jax sensitivity``: local (default), Fisher (``--fisher SIGMA``), global
(``--global N``) and threshold (``--thresholds``) sensitivity analyses, written
as tables (CSV, JSON) and figures (PNG) into one folder."""

import argparse
import dataclasses
from pathlib import Path

from ..tolerances import LOCAL_SENSITIVITY
from ._common import (
    add_precision_options,
    add_simulation_options,
    add_threshold_option,
    model_overrides,
    stimulus_from_args,
    y0_from_args,
)


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "sensitivity",
        help="derivatives, elasticities, Fisher information and Sobol indices of "
        "model outputs with respect to parameters",
        description="Sensitivity analysis of the Hodgkin–Huxley model. Local "
        "derivatives and elasticities by default; --fisher SIGMA for the Fisher "
        "information of a step protocol; --global N for Sobol indices and DGSM; "
        "--thresholds for rheobase and instability-current derivatives. Units: "
        "time ms, voltage mV, current density uA/cm^2, conductance mS/cm^2.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    what = parser.add_argument_group("what to analyse")
    what.add_argument(
        "--outputs",
        nargs="+",
        default=["spike_count", "latency"],
        metavar="NAME",
        help="outputs: V (trace, mV), spike_count (soft, 1), latency (ms), rate "
        "(Hz), AP_amplitude (mV), rest (mV)",
    )
    what.add_argument(
        "--wrt",
        nargs="+",
        default=["g_Na", "g_K", "g_L"],
        metavar="NAME",
        help="parameters: model names (g_Na, C_m, ...) or stimulus.amplitude",
    )
    what.add_argument(
        "--mode",
        choices=("auto", "forward", "reverse"),
        default="auto",
        help="differentiation mode of the local analysis (auto: forward when "
        "parameters are no more than output values)",
    )
    what.add_argument(
        "--fisher",
        type=float,
        metavar="SIGMA",
        help="also the Fisher information for voltage noise SIGMA (mV)",
    )
    what.add_argument(
        "--protocol-amplitudes",
        nargs="+",
        type=float,
        metavar="AMP",
        help="Fisher protocol: one step sweep per AMP (uA/cm^2), timed like the "
        "first --step (default: the stimulus as one sweep)",
    )
    what.add_argument(
        "--global",
        dest="global_n",
        type=int,
        metavar="N",
        help="also Sobol indices and DGSM from N base samples (rounded up to a "
        "power of 2; N (P + 2) simulations)",
    )
    what.add_argument(
        "--range",
        nargs=3,
        action="append",
        metavar=("NAME", "LOW", "HIGH"),
        help="range of a parameter for --global, in its unit (default: +-20 %% "
        "around the value of each --wrt parameter)",
    )
    what.add_argument(
        "--chunk-size", type=int, default=256, help="simulations per batch (--global)"
    )
    what.add_argument("--seed", type=int, default=0, help="Sobol' scrambling seed")
    what.add_argument(
        "--thresholds",
        action="store_true",
        help="also d(rheobase)/d(theta) and d(instability current)/d(theta) by "
        "implicit differentiation (model parameters only)",
    )
    add_threshold_option(what, extra="; of the soft spike count, rate and latency")
    add_simulation_options(
        parser, duration=50.0, save_dt=0.05, y0="rest", tolerances=LOCAL_SENSITIVITY
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("sensitivity"),
        metavar="DIR",
        help="folder for the tables (CSV, JSON) and figures (PNG)",
    )
    out.add_argument("--no-plot", action="store_true", help="skip the figures")
    add_precision_options(parser)


def _power_of_two(n: int) -> int:
    if n < 2:
        raise ValueError(f"--global needs N >= 2 base samples; got {n}.")
    return 1 << (n - 1).bit_length()


def _save(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def _write_tables(result, out: Path, stem: str) -> None:
    """`result`'s table printed and written as ``stem.csv`` and ``stem.json``."""
    print(result.table())
    result.to_csv(out / f"{stem}.csv")
    result.to_json(out / f"{stem}.json")
    print(f"wrote {out / f'{stem}.csv'}, {out / f'{stem}.json'}")


@dataclasses.dataclass(frozen=True)
class _Job:
    """What every analysis of one ``hh-jax sensitivity`` call shares."""

    model: object
    stimulus: object
    ts: object
    y0: object
    tolerances: dict
    out: Path
    plot: object | None  # hh_jax.plot, or None with --no-plot

    def save(self, fig, name: str) -> None:
        _save(fig, self.out / name)


def _job(args) -> _Job:
    """Check the arguments (before any work is done or written) and set up."""
    import jax.numpy as jnp

    from ..model import HodgkinHuxley
    from ..sensitivity._fisher import check_sigma
    from ..stimulus import Step

    if args.global_n is not None:
        try:
            import SALib  # noqa: F401
        except ImportError:
            raise ValueError(
                "--global needs SALib (Sobol sampling and estimators): "
                "pip install SALib"
            ) from None
    model = HodgkinHuxley().replace(**model_overrides(args))
    if not args.duration > 0 or not args.save_dt > 0:
        raise ValueError("--duration and --save-dt must be > 0 ms.")
    if args.fisher is not None:
        check_sigma(args.fisher)
    stimulus = stimulus_from_args(
        args, default=Step(10.0, 5.0, min(45.0, args.duration))
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot = None
    if not args.no_plot:
        import matplotlib

        matplotlib.use("Agg")
        from .. import plot
    return _Job(
        model=model,
        stimulus=stimulus,
        ts=jnp.arange(0.0, args.duration + 0.5 * args.save_dt, args.save_dt),
        y0=y0_from_args(args.y0),
        tolerances=dict(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps),
        out=out,
        plot=plot,
    )


def _local(args, job: _Job):
    import jax
    import numpy as np

    from .. import sensitivity as sens

    local = sens.local_sensitivity(
        job.model,
        job.stimulus,
        job.ts,
        outputs=args.outputs,
        wrt=args.wrt,
        mode=args.mode,
        y0=job.y0,
        threshold=args.threshold,
        **job.tolerances,
    )
    _write_tables(local, job.out, "local")
    print(f"local analysis: {local.wall_time_s:.2f} s")
    scalars = [o for o in local.outputs if np.ndim(local.values[o]) == 0]
    if job.plot and scalars:
        job.save(job.plot.plot_elasticities(local, outputs=scalars), "elasticities.png")
    if "V" in local.outputs:
        trace = sens.TraceSensitivity(
            t=local.t,
            V=local.values["V"],
            I_ext=np.asarray(jax.vmap(job.stimulus)(job.ts)),
            wrt=local.wrt,
            parameter_units=local.parameter_units,
            parameter_values=local.parameter_values,
            dV=local.jacobian["V"],
            status=local.status,
            wall_time_s=local.wall_time_s,
        )
        trace.to_csv(job.out / "trace_sensitivity.csv")
        print(f"wrote {job.out / 'trace_sensitivity.csv'}")
        if job.plot:
            job.save(job.plot.plot_trace_sensitivity(trace), "trace_sensitivity.png")
    return local


def _model_parameters(args) -> list[str]:
    return [n for n in args.wrt if not n.startswith("stimulus.")]


def _fisher(args, job: _Job) -> None:
    from .. import sensitivity as sens
    from ..stimulus import Step

    if args.protocol_amplitudes:
        first = (args.step or [[10.0, 5.0, min(45.0, args.duration)]])[0]
        stimuli = [Step(a, first[1], first[2]) for a in args.protocol_amplitudes]
    else:
        stimuli = [job.stimulus]
    fisher = sens.fisher_information(
        job.model,
        stimuli,
        job.ts,
        wrt=_model_parameters(args),
        sigma=args.fisher,
        y0=job.y0,
        **job.tolerances,
    )
    _write_tables(fisher, job.out, "fisher")
    print(f"Fisher information: {fisher.wall_time_s:.2f} s")
    if job.plot:
        job.save(job.plot.plot_fisher(fisher), "fisher.png")


def _global(args, job: _Job, local) -> None:
    from .. import sensitivity as sens

    n = _power_of_two(args.global_n)
    if n != args.global_n:
        print(f"--global {args.global_n}: using {n} base samples (a power of 2)")
    if args.range:
        ranges = {r[0]: (float(r[1]), float(r[2])) for r in args.range}
    else:
        ranges = {
            p: tuple(sorted((0.8 * v, 1.2 * v)))
            for p, v in zip(local.wrt, local.parameter_values)
        }
    outputs = [o for o in args.outputs if o != "V"]
    if not outputs:
        raise ValueError("--global needs a scalar output (not only V).")
    result = sens.global_sensitivity(
        job.model,
        job.stimulus,
        job.ts,
        ranges,
        outputs=outputs,
        n=n,
        y0=job.y0,
        threshold=args.threshold,
        chunk_size=args.chunk_size,
        seed=args.seed,
    )
    _write_tables(result, job.out, "global")
    print(f"global analysis: {result.wall_time_s:.2f} s")
    if job.plot:
        job.save(job.plot.plot_global(result), "global.png")
        job.save(job.plot.plot_sobol_heatmap(result), "global_heatmap.png")


def _thresholds(args, job: _Job) -> None:
    from .. import sensitivity as sens
    from .._tables import write_csv, write_json

    wrt = _model_parameters(args)
    results = [
        sens.rheobase_sensitivity(job.model, wrt),
        sens.instability_sensitivity(job.model, wrt),
    ]
    rows = []
    for r in results:
        print(r.table())
        print(f"{r.name}: {r.wall_time_s:.2f} s")
        rows.extend(r.rows())
    write_csv(job.out / "thresholds.csv", rows)
    write_json(job.out / "thresholds.json", dict(rows=rows))
    print(f"wrote {job.out / 'thresholds.csv'}, {job.out / 'thresholds.json'}")
    if job.plot:
        job.save(job.plot.plot_elasticities(results), "threshold_elasticities.png")


def run(args) -> int:
    job = _job(args)
    local = _local(args, job)
    if args.fisher is not None:
        _fisher(args, job)
    if args.global_n is not None:
        _global(args, job, local)
    if args.thresholds:
        _thresholds(args, job)
    return 0
