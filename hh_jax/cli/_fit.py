"""``hh-jax fit``: fit model parameters to recorded sweeps; ``--demo`` makes noisy
data from known parameters and fits them."""

import argparse
from pathlib import Path

from ._common import add_precision_options, millivolts

MODELS = ("auto", "hh", "cortical-rs")  # whole-cell data: "auto" and the candidates
LOSSES = ("auto", "trace", "subthreshold", "spikes")
DEMO_TRUTH = dict(g_Na=108.0, g_K=33.0, g_L=0.27)  # mS/cm^2, hidden from the fit
DEMO_AMPLITUDES = (-3.0, 3.0, 7.0, 12.0)  # uA/cm^2


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "fit",
        help="fit conductances (and other parameters) to recorded voltage traces",
        description="Fit a model to current-clamp sweeps. Files: .npz (t ms, V mV, "
        "stim_t ms, stim_I uA/cm^2; one or several sweeps), .csv (header 't (ms), "
        "V (mV), I (pA)'), .abf, .nwb. Several files are fitted jointly. "
        "Whole-cell recordings (currents in pA or nA) are fitted in stages: passive "
        "properties from the data, a global CMA-ES search of each candidate model "
        "on eFEL features of the --train sweeps, and (--model auto) the model that "
        "predicts left-out training sweeps best; --validate replays other sweeps "
        "and judges them with eFEL (DIR/validation.npz, .json, .png). Density data "
        "(uA/cm^2) are fitted by multi-start least squares (--method).",
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
        default=None,
        metavar="NAME",
        help="parameters to fit (e.g. g_Na g_K g_L C_m E_L V_T g_M area; default "
        "g_Na g_K g_L for density data, the candidate's own for whole-cell data)",
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="whole-cell data: 'auto' (default: choose among the candidate presets "
        "by cross-validation) or a candidate: "
        + ", ".join(_candidate_names())
        + "; density data: hh (squid axon, 6.3 degC; default) or cortical-rs",
    )
    parser.add_argument(
        "--train",
        type=str,
        default=None,
        metavar="K,...",
        help="sweep indices to fit, as the file orders them, e.g. 0,2,4-8 "
        "(default: all; same as --sweeps)",
    )
    parser.add_argument(
        "--validate",
        type=str,
        default=None,
        metavar="K,...",
        help="sweep indices to replay with the fitted model and judge with eFEL "
        "(whole-cell data): writes DIR/validation.npz, validation.json, "
        "validation.png",
    )
    parser.add_argument(
        "--threshold",
        type=millivolts,
        default=None,
        metavar="MV",
        help="spike detection threshold, mV (default: eFEL's -20, or lower for "
        "whole-cell data whose spikes are small)",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="S",
        help="whole-cell data: wall-time limit of the model searches, s (default "
        "from hh_jax.fit.CellFitSettings)",
    )
    parser.add_argument(
        "--popsize", type=int, default=None, help="whole-cell data: CMA-ES population"
    )
    parser.add_argument(
        "--generations",
        type=int,
        default=None,
        help="whole-cell data: CMA-ES generations per candidate model",
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


def _candidate_names() -> list[str]:
    from ..fit import CANDIDATES

    return sorted(CANDIDATES)


def _model(name: str | None):
    from ..model import CorticalRegularSpiking, HodgkinHuxley

    if name in (None, "hh"):
        return HodgkinHuxley()
    if name == "cortical-rs":
        return CorticalRegularSpiking()
    raise ValueError(
        f"--model for density data must be hh or cortical-rs; got {name!r}."
    )


def _losses(name: str, data, threshold: float | None):
    from ..fit import SubthresholdStats, TraceMSE, default_losses, spike_losses
    from ..spikes import EFEL_THRESHOLD

    threshold = EFEL_THRESHOLD if threshold is None else threshold
    if name == "auto":
        return default_losses(data, threshold=threshold)
    if name == "trace":
        return (TraceMSE(),)
    if name == "subthreshold":
        return (SubthresholdStats(),)
    return spike_losses(data, threshold=threshold)


def _load(args):
    from ..io import Recording, load

    if not args.files:
        raise ValueError("give data FILEs to fit, or --demo.")
    sweeps = []
    for path in args.files:
        sweeps.extend(load(path).sweeps)
    recording = Recording(sweeps, source=", ".join(map(str, args.files)))
    if args.downsample > 1:
        recording = recording.downsample(args.downsample)
    return recording


def _train_indices(args, count: int) -> list[int] | None:
    if args.train and args.sweeps and _indices(args.train) != _indices(args.sweeps):
        raise ValueError("--train and --sweeps disagree; give one of them.")
    spec = args.train or args.sweeps
    return None if spec is None else _indices(spec)


def run(args) -> int:
    if args.demo:
        if args.files:
            raise ValueError("--demo makes its own data; drop the FILE arguments.")
        return _run_density(args, None)
    recording = _load(args)
    whole_cell = recording[0].current_unit != "uA/cm^2"
    if whole_cell:
        return _run_cell(args, recording)
    if args.validate:
        raise ValueError("--validate is for whole-cell recordings (currents in pA).")
    return _run_density(args, recording)


def _run_cell(args, recording) -> int:
    import dataclasses

    from ..fit import CellFitSettings, fit_cell

    for option in ("resume",):
        if getattr(args, option):
            raise ValueError(f"--{option} is not available for whole-cell fits.")
    train = _train_indices(args, len(recording))
    validate = None if args.validate is None else _indices(args.validate)
    settings = CellFitSettings(progress=not args.no_progress, seed=args.seed)
    overrides = dict(
        threshold=args.threshold,
        time_budget_s=args.time_budget,
        popsize=args.popsize,
        generations=args.generations,
    )
    settings = dataclasses.replace(
        settings, **{k: v for k, v in overrides.items() if v is not None}
    )
    model = args.model or "auto"
    if model == "hh":
        raise ValueError(
            "--model hh is the squid axon at 6.3 degC and is not a whole-cell "
            f"candidate; use auto or one of {', '.join(_candidate_names())}."
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"fitting {len(train) if train else len(recording)} of {len(recording)} "
        f"sweeps of {recording.source} (model: {model})"
    )
    result = fit_cell(
        recording,
        model=model,
        train=train,
        free=args.free,
        bounds=_bounds(args.bounds) or None,
        area_um2=args.area,
        settings=settings,
    )
    print()
    print(result.table())
    print(f"\nmodel selection: {result.selection}")
    print(f"spike threshold: {result.threshold:g} mV")
    print("\ntraining windows:")
    print(result.feature_table())
    for warning in result.warnings:
        print(f"WARNING: {warning}")
    result.save(out)
    written = [out / "params.json"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import plot_validation

    on_train = result.validate(recording, result.train_sweeps)
    fig = plot_validation(on_train)
    fig.savefig(out / "fit.png", dpi=100)
    plt.close(fig)
    written.append(out / "fit.png")
    print(
        f"\non the training sweeps: {on_train.passed} of {on_train.applicable} "
        "eFEL checks passed"
    )
    for failure in on_train.failures:
        print(f"WARNING: {failure}")
    if validate:
        validation = result.validate(recording, validate)
        validation.save(out)
        print("\nvalidation (held-out sweeps, data/model):")
        print(validation.table())
        for failure in validation.failures:
            print(f"WARNING: {failure}")
        written += [out / f"validation.{x}" for x in ("npz", "json", "png")]
    print(
        f"\nfit took {result.timing['total_s']:.1f} s; wrote "
        + ", ".join(map(str, written))
    )
    return 0


def _run_density(args, recording) -> int:
    import numpy as np

    from ..fit import fit, fit_data, synthetic_recording

    truth = None
    if recording is None:
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
        train = _train_indices(args, len(recording))
        if train is not None:
            recording = recording.select(train)
        recording = recording.zero_time()
    data = fit_data(recording)
    model = _model(args.model)
    free = args.free or ["g_Na", "g_K", "g_L"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = fit(
        data,
        model,
        free,
        bounds=_bounds(args.bounds),
        losses=_losses(args.loss, data, args.threshold),
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
