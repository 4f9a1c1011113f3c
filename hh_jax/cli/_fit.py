"""``hh-jax fit``: fit model parameters to recorded sweeps; ``--demo`` makes noisy
data from known parameters and fits them."""

import argparse
from pathlib import Path

from ._common import add_precision_options

MODELS = ("hh", "cortical-rs")
LOSSES = ("auto", "trace", "subthreshold", "spikes")
DEMO_TRUTH = dict(g_Na=108.0, g_K=33.0, g_L=0.27)  # mS/cm^2, hidden from the fit
DEMO_AMPLITUDES = (-3.0, 3.0, 7.0, 12.0)  # uA/cm^2


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "fit",
        help="fit conductances (and other parameters) to recorded voltage traces",
        description="Fit the free parameters of a model to current-clamp sweeps. "
        "Files: .npz (t ms, V mV, stim_t ms, stim_I uA/cm^2; one or several "
        "sweeps), .csv (header 't (ms), V (mV), I (pA)'), .abf, .nwb. Several files "
        "are fitted jointly. Whole-cell currents (pA) need --area (um^2) or 'area' "
        "among the free parameters.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="fit noisy synthetic sweeps (steps of "
        f"{', '.join(f'{a:g}' for a in DEMO_AMPLITUDES)} uA/cm^2, 0.5 mV noise) made "
        "with hidden g_Na, g_K, g_L = "
        f"{', '.join(f'{v:g}' for v in DEMO_TRUTH.values())} mS/cm^2",
    )
    parser.add_argument(
        "--free",
        nargs="+",
        default=["g_Na", "g_K", "g_L"],
        metavar="NAME",
        help="parameters to fit (e.g. g_Na g_K g_L C_m E_L V_T g_M area)",
    )
    parser.add_argument(
        "--model",
        choices=MODELS,
        default="hh",
        help="hh: squid axon (6.3 degC); cortical-rs: Pospischil et "
        "al. 2008 regular-spiking cell (36 degC)",
    )
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default="auto",
        help="auto: trace + subthreshold (+ spike timing when the data "
        "spike); trace: voltage MSE only; subthreshold: rest, steady "
        "state, sag; spikes: spike timing and count",
    )
    parser.add_argument("--method", choices=("lm", "adam", "lbfgs"), default="lm")
    parser.add_argument("--starts", type=int, default=4, help="multi-start count K")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps")
    parser.add_argument("--learning-rate", type=float, default=0.05, help="Adam step")
    parser.add_argument(
        "--init",
        choices=("regression", "model", "random"),
        default="regression",
        help="how start 0 is chosen",
    )
    parser.add_argument(
        "--bounds",
        nargs="+",
        default=[],
        metavar="NAME=LOW:HIGH",
        help="override bounds, in each parameter's unit",
    )
    parser.add_argument(
        "--area",
        type=float,
        default=None,
        help="membrane area (um^2) for whole-cell data",
    )
    parser.add_argument(
        "--sweeps",
        type=str,
        default=None,
        help="sweep indices to fit, e.g. 0,2,4-8 (default all)",
    )
    parser.add_argument(
        "--downsample",
        type=int,
        default=1,
        help="average blocks of this many samples first",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("fit_out"),
        help="directory for params.json, fit.npz, fit.png",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from DIR/checkpoint.npz"
    )
    parser.add_argument("--no-progress", action="store_true")
    add_precision_options(parser)


def _indices(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _bounds(specs: list[str]) -> dict[str, tuple[float, float]]:
    bounds = {}
    for spec in specs:
        try:
            name, rng = spec.split("=")
            lo, hi = (float(x) for x in rng.split(":"))
        except ValueError:
            raise ValueError(f"--bounds expects NAME=LOW:HIGH; got {spec!r}.") from None
        bounds[name] = (lo, hi)
    return bounds


def _model(name: str):
    from ..model import CorticalRegularSpiking, HodgkinHuxley

    return HodgkinHuxley() if name == "hh" else CorticalRegularSpiking()


def _losses(name: str, data):
    from ..fit import SubthresholdStats, TraceMSE, default_losses, spike_losses

    if name == "auto":
        return default_losses(data)
    if name == "trace":
        return (TraceMSE(),)
    if name == "subthreshold":
        return (SubthresholdStats(),)
    return spike_losses(data)


def run(args) -> int:
    import numpy as np

    from ..fit import fit, fit_data, synthetic_recording
    from ..io import Recording, load

    truth = None
    if args.demo:
        if args.files:
            raise ValueError("--demo makes its own data; drop the FILE arguments.")
        from ..model import HodgkinHuxley

        recording = synthetic_recording(
            HodgkinHuxley(**DEMO_TRUTH),
            DEMO_AMPLITUDES,
            start=10.0,
            stop=90.0,
            duration=100.0,
            dt=0.05,
            noise=0.5,
            seed=args.seed,
        )
        truth = dict(DEMO_TRUTH)
        print(f"demo: {len(recording)} synthetic sweeps, hidden parameters {truth}")
    else:
        if not args.files:
            raise ValueError("give data FILEs to fit, or --demo.")
        sweeps = []
        for path in args.files:
            sweeps.extend(load(path).sweeps)
        recording = Recording(sweeps, source=", ".join(map(str, args.files)))
        if args.sweeps:
            recording = recording.select(_indices(args.sweeps))
        if args.downsample > 1:
            recording = recording.downsample(args.downsample)
        recording = recording.zero_time()
    data = fit_data(recording)
    model = _model(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = fit(
        data,
        model,
        args.free,
        bounds=_bounds(args.bounds),
        losses=_losses(args.loss, data),
        starts=args.starts,
        method=args.method,
        steps=args.steps,
        learning_rate=args.learning_rate,
        init=args.init,
        area=args.area,
        seed=args.seed,
        progress=not args.no_progress,
        checkpoint=out / "checkpoint.npz",
        resume=args.resume,
    )
    print()
    print(result.table(truth))
    print(
        f"\nloss {result.loss:.6g} (best of {len(result.final_losses)} starts); "
        f"{result.timing['steps']} steps in {result.timing['wall_time_s']:.1f} s "
        f"(first step incl. compilation {result.timing['first_step_s']:.1f} s)"
    )
    if result.area is not None:
        how = "fitted" if result.area["fitted"] else "given"
        print(f"membrane area: {result.area['value']:.4g} um^2 ({how})")
    for note in result.notes:
        print("note:", note)
    if result.resets:
        print(f"{len(result.resets)} start(s) reset after non-finite values")
    print()
    print(result.feature_table())
    result.save(out)
    import matplotlib

    matplotlib.use("Agg")
    from ..plot import plot_fit

    fig = plot_fit(result, truth=truth)
    fig.savefig(out / "fit.png", dpi=110)
    print(f"\nwrote {out / 'params.json'}, {out / 'fit.npz'}, {out / 'fit.png'}")
    if truth is not None:
        errors = [abs(result.parameters[k] - v) / abs(v) for k, v in truth.items()]
        print(f"largest relative error: {max(errors):.2e}")
    return 0 if np.isfinite(result.loss) else 1
