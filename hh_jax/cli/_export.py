"""``hh-jax export``: a fitted cell (a fit directory's params.json) for NEURON
(.mod files and cell.py) or as NeuroML 2."""

import argparse
from pathlib import Path

from ._common import add_precision_options


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "export",
        help="write a fitted cell for NEURON (.mod + cell.py) or as NeuroML 2",
        description="Read FIT_DIR/params.json (written by hh-jax fit) and write the "
        "fitted single-compartment cell: --to neuron writes one NMODL .mod file per "
        "channel and pool and a cell.py that builds the cell (area, C_m, celsius, "
        "parameters) from its resting state and replays a stimulus into an IClamp "
        "(run it with python DIR/cell.py after nrnivmodl, or pass --compile); "
        "--to neuroml writes DIR/<model>.cell.nml. Stimulus amplitudes are in pA "
        "for a whole-cell fit (one with a membrane area) and in uA/cm^2 otherwise.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("fit_dir", metavar="FIT_DIR", help="directory of params.json")
    parser.add_argument(
        "--to", choices=("neuron", "neuroml"), default="neuron", help="target"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--model",
        default=None,
        help="preset of a density fit (its params.json does not name it; default hh)",
    )
    stim = parser.add_argument_group("stimulus (NEURON)")
    stim.add_argument(
        "--step",
        nargs=3,
        type=float,
        metavar=("AMP", "START", "STOP"),
        help="a current step: amplitude (pA whole-cell, else uA/cm^2), start and "
        "stop (ms)",
    )
    stim.add_argument(
        "--recording",
        metavar="FILE",
        help="replay a recorded sweep's command (ABF, NWB, CSV, NPZ) instead",
    )
    stim.add_argument("--sweep", type=int, default=0, help="sweep index in --recording")
    stim.add_argument(
        "--t-stop",
        type=float,
        default=None,
        metavar="MS",
        help="run length of cell.py, ms (default: the sweep's duration, else 200)",
    )
    parser.add_argument(
        "--compile", action="store_true", help="run nrnivmodl in DIR afterwards"
    )
    add_precision_options(parser)


def _stimulus(args, fitted):
    """(stimulus in uA/cm^2 or None, t_stop in ms)."""
    from ..stimulus import Step

    area_cm2 = None if fitted.area_um2 is None else fitted.area_um2 * 1e-8
    t_stop = args.t_stop
    if args.recording is not None:
        if args.step is not None:
            raise ValueError("give --step or --recording, not both.")
        from ..io import load

        recording = load(args.recording).zero_time()
        if not 0 <= args.sweep < len(recording):
            raise ValueError(
                f"--sweep {args.sweep} is not in {args.recording} "
                f"({len(recording)} sweeps)."
            )
        sweep = recording[args.sweep]
        stimulus = sweep.stimulus(area_cm2) if area_cm2 else sweep.stimulus()
        return stimulus, t_stop or float(sweep.t[-1])
    if args.step is None:
        return None, t_stop or 200.0
    amp, start, stop = args.step
    if area_cm2 is not None:
        amp = amp * 1e-6 / area_cm2  # pA -> uA/cm^2
    return Step(amp, start, stop), t_stop or 200.0


def run(args) -> int:
    import numpy as np

    from ..export import load_fit, to_neuron
    from ..model import resting_state

    fitted = load_fit(args.fit_dir, model=args.model)
    out = Path(args.out)
    if args.to == "neuroml":
        from ..export import to_neuroml

        # Start the NeuroML cell at the fitted model's own rest (no current), not
        # at a generic -65 mV.
        V_guess = -65.0 if fitted.V_rest is None else fitted.V_rest
        rest = resting_state(fitted.model, V_guess=V_guess)
        path = to_neuroml(
            fitted.model, out, area_um2=fitted.area_um2, V_init=float(rest.V)
        )
        print(f"{fitted.model_name}: V_init {float(rest.V):.3f} mV; wrote {path}")
        return 0
    stimulus, t_stop = _stimulus(args, fitted)
    holding = 0.0 if stimulus is None else float(np.asarray(stimulus(0.0)))
    V_guess = -65.0 if fitted.V_rest is None else fitted.V_rest
    state = resting_state(fitted.model, holding_current=holding, V_guess=V_guess)
    export = to_neuron(
        fitted.model,
        out,
        None if fitted.area_um2 is None else fitted.area_um2 * 1e-8,
        stimulus,
        initial_state=state,
        t_stop=t_stop,
        compile=args.compile,
    )
    print(
        f"{fitted.model_name}: rest {float(state.V):.3f} mV under {holding:.4g} "
        f"uA/cm^2; wrote {len(export.mod_files)} mechanisms "
        f"({', '.join(export.mechanisms)}) and {export.script}"
    )
    if not args.compile:
        print(f"next: cd {out} && nrnivmodl && python cell.py")
    return 0
