"""Options shared by the subcommands: precision, compilation cache, model
parameters, outputs."""

import argparse
import json
import os
from pathlib import Path


def add_precision_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("numerics")
    group.add_argument(
        "--float32",
        action="store_true",
        help="compute in float32 (faster; spike times within ~3e-4 ms of NEURON "
        "at the default tolerances). Default: float64.",
    )
    group.add_argument(
        "--no-cache",
        action="store_true",
        help="do not use the persistent compilation cache (default: "
        "$HH_JAX_CACHE or ~/.cache/hh_jax/xla), which makes a second run skip "
        "compilation.",
    )


def configure_jax(args: argparse.Namespace) -> None:
    """Precision and the persistent compilation cache, before any array exists."""
    import jax

    jax.config.update("jax_enable_x64", not getattr(args, "float32", False))
    if not getattr(args, "no_cache", False):
        _checks_without_callbacks()
        cache = os.environ.get("HH_JAX_CACHE") or str(
            Path.home() / ".cache" / "hh_jax" / "xla"
        )
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def squid_parameter_infos() -> dict:
    """The Hodgkin–Huxley model's parameters (units, defaults), read from the
    classes: no arrays are made, so building the parser does not start JAX's
    backend (``jax.distributed.initialize`` must come before that)."""
    from .._parameter import parameter_infos
    from ..channels import Leak, SquidPotassium, SquidSodium
    from ..model import PointNeuron

    infos = {}
    for cls in (PointNeuron, SquidSodium, SquidPotassium, Leak):
        infos.update(parameter_infos(cls))
    return infos


def add_model_options(parser: argparse.ArgumentParser, infos: dict) -> None:
    """One ``--NAME VALUE`` option per parameter in `infos` (``g_Na`` ->
    ``--g-Na``), with its unit and default in the help, plus ``--params
    FILE.json``. `infos`: name -> :class:`hh_jax.ParameterInfo`."""
    group = parser.add_argument_group("model parameters")
    for name, info in infos.items():
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=f"param_{name}",
            type=float,
            metavar=info.unit,
            help=f"{info.doc} ({info.unit}; default {info.default:g})",
        )
    group.add_argument(
        "--params",
        type=Path,
        metavar="FILE.json",
        help='parameter values as JSON, {"g_Na": 100.0, ...} in the units above, '
        'or a fit result with a "parameters" entry; explicit options override it.',
    )


def model_overrides(args: argparse.Namespace) -> dict[str, float]:
    values: dict[str, float] = {}
    if args.params is not None:
        data = json.loads(Path(args.params).read_text())
        data = data.get("parameters", data)
        values.update({k: _number(v) for k, v in data.items()})
    for key, value in vars(args).items():
        if key.startswith("param_") and value is not None:
            values[key.removeprefix("param_")] = value
    return values


def _number(value) -> float:
    if isinstance(value, dict):  # {"value": ..., "unit": ...}
        value = value["value"]
    return float(value)


def _checks_without_callbacks() -> None:
    """Make Equinox's in-graph checks (``eqx.error_if``, used by Diffrax) return NaN
    instead of calling back into Python, as ``EQX_ON_ERROR=nan`` does.

    JAX never writes an executable with host callbacks to its persistent cache, so
    without this every CLI run would recompile. The CLI validates its inputs in
    Python and checks each result's status on the host, so nothing goes unreported.
    Equinox reads the setting when a function is traced; the CLI owns its process,
    so changing it here affects nobody else."""
    os.environ.setdefault("EQX_ON_ERROR", "nan")
    try:
        import equinox._errors as eqx_errors
    except ImportError:  # a future Equinox layout: only the cache is lost
        return
    if hasattr(eqx_errors, "EQX_ON_ERROR"):
        eqx_errors.EQX_ON_ERROR = os.environ["EQX_ON_ERROR"]


def add_stimulus_options(parser: argparse.ArgumentParser) -> None:
    """``--step AMP START STOP`` (repeatable), ``--constant AMP`` and ``--stimulus
    FILE``: currents in uA/cm^2, times in ms; several add up."""
    stim = parser.add_argument_group("stimulus (uA/cm^2; several add up)")
    stim.add_argument(
        "--step",
        nargs=3,
        type=float,
        action="append",
        metavar=("AMP", "START", "STOP"),
        help="a step of AMP uA/cm^2 from START to STOP ms (repeatable)",
    )
    stim.add_argument(
        "--constant", type=float, metavar="AMP", help="a constant current, uA/cm^2"
    )
    stim.add_argument(
        "--stimulus",
        type=Path,
        metavar="FILE",
        help="a step-function stimulus: .npz with stim_t (ms), stim_I (uA/cm^2), or "
        ".csv with header 't (ms), I (uA/cm^2)'",
    )


def stimulus_from_args(args: argparse.Namespace, default=None):
    """The sum of the stimuli given by :func:`add_stimulus_options`; `default` (a
    stimulus) when none is given, else a ValueError."""
    from ..io import load_stimulus
    from ..stimulus import Constant, Step

    parts = [Step(*s) for s in args.step or []]
    if args.constant is not None:
        parts.append(Constant(args.constant))
    if args.stimulus is not None:
        parts.append(load_stimulus(args.stimulus))
    if not parts:
        if default is not None:
            return default
        raise ValueError(
            "no stimulus: give --step AMP START STOP, --constant AMP or --stimulus FILE"
        )
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def add_dt_option(group, flag: str, default: float, help: str) -> None:
    """A time option in ms, `flag` ``--save-dt`` (the interval of the saved trace;
    an adaptive solver chooses its own steps) or ``--step-dt`` (a fixed
    integration step), read as ``args.save_dt`` / ``args.step_dt``. ``--dt``, the
    name of earlier versions, is still accepted with the same meaning."""
    dest = flag.lstrip("-").replace("-", "_")
    group.add_argument(
        flag, dest=dest, type=float, default=default, metavar="MS", help=help
    )
    group.add_argument(
        "--dt", dest=dest, type=float, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def add_y0_option(group, default: str) -> None:
    """``--y0 steady|rest|V GATE...`` (hh_jax.initial_state)."""
    group.add_argument(
        "--y0",
        nargs="+",
        default=[default],
        metavar="X",
        help="initial state: 'steady' (V = -65 mV, the gates at their steady "
        "state there), 'rest' (the model's resting state, moving with the "
        "parameters), or V (mV) followed by each gate (m h n)",
    )


def y0_from_args(values: list[str]):
    """The ``y0`` that ``--y0`` names: "steady", "rest" or an array."""
    import jax.numpy as jnp

    if len(values) == 1 and values[0] in ("steady", "rest"):
        return values[0]
    try:
        return jnp.asarray([float(x) for x in values])
    except ValueError:
        raise ValueError(
            f"--y0 must be 'steady', 'rest' or numbers V (mV) m h n; got "
            f"{' '.join(values)}."
        ) from None


def add_tolerance_options(group, defaults) -> None:
    """``--rtol``, ``--atol``, ``--max-steps`` with the defaults of the entry point
    (an :class:`hh_jax.tolerances.Tolerances`)."""
    group.add_argument(
        "--rtol", type=float, default=defaults.rtol, help="relative tolerance"
    )
    group.add_argument(
        "--atol",
        type=float,
        default=defaults.atol,
        help="absolute tolerance (mV for V, 1 for gates)",
    )
    group.add_argument(
        "--max-steps",
        type=int,
        default=defaults.max_steps,
        help="most solver steps per simulation",
    )


def millivolts(text: str) -> float:
    """argparse type: a finite voltage, mV."""
    import math

    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of mV; got {text}")
    return value


def add_threshold_option(group, default=None, extra: str = "") -> None:
    """``--threshold MV``: the spike threshold (upward crossings of it are spikes;
    default :data:`hh_jax.spikes.THRESHOLD`)."""
    from ..spikes._threshold import THRESHOLD

    group.add_argument(
        "--threshold",
        type=millivolts,
        default=THRESHOLD if default is None else default,
        metavar="MV",
        help="spike threshold, mV: spikes are its upward crossings (default: "
        f"{THRESHOLD:g}, eFEL's; NEURON's reference traces use 0){extra}",
    )


def add_simulation_options(
    parser: argparse.ArgumentParser,
    *,
    duration: float,
    save_dt: float,
    y0: str,
    tolerances,
) -> None:
    """The options of one adaptive simulation of the squid-axon model: stimulus,
    ``--duration``/``--save-dt`` (ms), ``--y0``, the model's parameters and the
    solver's ``--rtol``/``--atol``/``--max-steps`` (defaults `tolerances`)."""
    add_stimulus_options(parser)
    time = parser.add_argument_group("time and initial state")
    time.add_argument("--duration", type=float, default=duration, help="simulated ms")
    add_dt_option(
        time,
        "--save-dt",
        save_dt,
        "save interval, ms (the solver's steps are adaptive)",
    )
    add_y0_option(time, y0)
    add_model_options(parser, squid_parameter_infos())
    add_tolerance_options(parser.add_argument_group("solver"), tolerances)
