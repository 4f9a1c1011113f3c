"""``hh-jax sensitivity``: local (default), Fisher (``--fisher SIGMA``), global
(``--global N``) and threshold (``--thresholds``) sensitivity analyses, written
as tables (CSV, JSON) and figures (PNG) into one folder."""

import argparse
from pathlib import Path

from ..tolerances import LOCAL_SENSITIVITY
from ._common import (
    add_dt_option,
    add_model_options,
    add_precision_options,
    add_stimulus_options,
    add_threshold_option,
    add_tolerance_options,
    add_y0_option,
    model_overrides,
    squid_parameter_infos,
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
    add_stimulus_options(parser)
    time = parser.add_argument_group("time and initial state")
    time.add_argument("--duration", type=float, default=50.0, help="simulated ms")
    add_dt_option(
        time, "--save-dt", 0.05, "save interval, ms (the solver's steps are adaptive)"
    )
    add_y0_option(time, "rest")
    add_model_options(parser, squid_parameter_infos())
    add_tolerance_options(parser.add_argument_group("solver"), LOCAL_SENSITIVITY)
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


def run(args) -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from .. import sensitivity as sens
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
    if args.fisher is not None:  # before any work is done or written
        check_sigma(args.fisher)
    stimulus = stimulus_from_args(
        args, default=Step(10.0, 5.0, min(45.0, args.duration))
    )
    ts = jnp.arange(0.0, args.duration + 0.5 * args.save_dt, args.save_dt)
    y0 = y0_from_args(args.y0)
    tol = dict(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plots = not args.no_plot
    if plots:
        import matplotlib

        matplotlib.use("Agg")
        from .. import plot

    local = sens.local_sensitivity(
        model,
        stimulus,
        ts,
        outputs=args.outputs,
        wrt=args.wrt,
        mode=args.mode,
        y0=y0,
        threshold=args.threshold,
        **tol,
    )
    print(local.table())
    print(f"local analysis: {local.wall_time_s:.2f} s")
    local.to_csv(out / "local.csv")
    local.to_json(out / "local.json")
    print(f"wrote {out / 'local.csv'}, {out / 'local.json'}")
    scalars = [o for o in local.outputs if np.ndim(local.values[o]) == 0]
    if plots and scalars:
        _save(plot.plot_elasticities(local, outputs=scalars), out / "elasticities.png")
    if "V" in local.outputs:
        trace = sens.TraceSensitivity(
            t=local.t,
            V=local.values["V"],
            I_ext=np.asarray(jax.vmap(stimulus)(ts)),
            wrt=local.wrt,
            parameter_units=local.parameter_units,
            parameter_values=local.parameter_values,
            dV=local.jacobian["V"],
            status=local.status,
            wall_time_s=local.wall_time_s,
        )
        trace.to_csv(out / "trace_sensitivity.csv")
        print(f"wrote {out / 'trace_sensitivity.csv'}")
        if plots:
            _save(plot.plot_trace_sensitivity(trace), out / "trace_sensitivity.png")

    if args.fisher is not None:
        if args.protocol_amplitudes:
            first = (args.step or [[10.0, 5.0, min(45.0, args.duration)]])[0]
            stimuli = [Step(a, first[1], first[2]) for a in args.protocol_amplitudes]
        else:
            stimuli = [stimulus]
        wrt = [n for n in args.wrt if not n.startswith("stimulus.")]
        fisher = sens.fisher_information(
            model, stimuli, ts, wrt=wrt, sigma=args.fisher, y0=y0, **tol
        )
        print(fisher.table())
        print(f"Fisher information: {fisher.wall_time_s:.2f} s")
        fisher.to_csv(out / "fisher.csv")
        fisher.to_json(out / "fisher.json")
        print(f"wrote {out / 'fisher.csv'}, {out / 'fisher.json'}")
        if plots:
            _save(plot.plot_fisher(fisher), out / "fisher.png")

    if args.global_n is not None:
        n = _power_of_two(args.global_n)
        if n != args.global_n:
            print(f"--global {args.global_n}: using {n} base samples (a power of 2)")
        if args.range:
            ranges = {r[0]: (float(r[1]), float(r[2])) for r in args.range}
        else:
            values = local.parameter_values
            ranges = {
                p: tuple(sorted((0.8 * v, 1.2 * v))) for p, v in zip(local.wrt, values)
            }
        outputs = [o for o in args.outputs if o != "V"]
        if not outputs:
            raise ValueError("--global needs a scalar output (not only V).")
        result = sens.global_sensitivity(
            model,
            stimulus,
            ts,
            ranges,
            outputs=outputs,
            n=n,
            chunk_size=args.chunk_size,
            seed=args.seed,
            y0=y0,
            threshold=args.threshold,
        )
        print(result.table())
        print(f"global analysis: {result.wall_time_s:.2f} s")
        result.to_csv(out / "global.csv")
        result.to_json(out / "global.json")
        print(f"wrote {out / 'global.csv'}, {out / 'global.json'}")
        if plots:
            _save(plot.plot_global(result), out / "global.png")
            _save(plot.plot_sobol_heatmap(result), out / "global_heatmap.png")

    if args.thresholds:
        wrt = [n for n in args.wrt if not n.startswith("stimulus.")]
        results = [
            sens.rheobase_sensitivity(model, wrt),
            sens.instability_sensitivity(model, wrt),
        ]
        rows = []
        for r in results:
            print(r.table())
            print(f"{r.name}: {r.wall_time_s:.2f} s")
            rows.extend(r.rows())
        from ..sensitivity._tables import write_csv, write_json

        write_csv(out / "thresholds.csv", rows)
        write_json(out / "thresholds.json", dict(rows=rows))
        print(f"wrote {out / 'thresholds.csv'}, {out / 'thresholds.json'}")
        if plots:
            _save(plot.plot_elasticities(results), out / "threshold_elasticities.png")
    return 0
