"""Export a :class:`~hh_jax.PointNeuron` to NEURON: one ``.mod`` file per
channel class and pool, and a ``cell.py`` that builds and runs the cell."""

import dataclasses
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .._parameter import parameter_infos
from ..model import PointNeuron, State, steady_state
from ..stimulus import AbstractStimulus
from ._cell_script import cell_script
from ._declared import DeclaredChannel, declared_channel
from ._nmodl import CONDUCTANCE, channel_mod, mechanism_name, pool_mod
from ._stimulus import piecewise_constant

DEFAULT_AREA_CM2 = 1e-5  # 1000 um^2; only scales the clamp current (nA)
_CONCENTRATION_NAMES = {"ca": "cai"}


@dataclasses.dataclass(frozen=True)
class NeuronExport:
    """What :func:`to_neuron` wrote: the `directory`, the `mod_files` (by
    mechanism name), the `script` (``cell.py``) and the NEURON `mechanisms`."""

    directory: Path
    mod_files: dict[str, Path]
    script: Path

    @property
    def mechanisms(self) -> list[str]:
        return list(self.mod_files)


def _pool_ions(model: PointNeuron) -> dict[str, str]:
    """State-variable name of each pool -> its ion."""
    return {p.name: p.ion for p in model._pools}


def mod_texts(model: PointNeuron) -> dict[str, str]:
    """The NMODL text of every mechanism of `model`, by mechanism name
    (``hhjax_<ClassName>``): its channels, then its pools. Raises
    ``NotImplementedError`` naming a channel or pool that cannot be written."""
    return {name: text for name, (text, _) in _mechanisms(model).items()}


def _mechanisms(model: PointNeuron):
    temperature = float(np.asarray(model.temperature))
    pools = _pool_ions(model)
    out: dict[str, tuple[str, object]] = {}
    for ch in model.channels:
        declared = declared_channel(ch, temperature)
        missing = [r for r in declared.reads if r not in pools]
        if missing:
            raise NotImplementedError(
                f"{declared.name} reads {missing}, which is not the concentration of "
                "a pool of the model: the NMODL export cannot map it."
            )
        reads = {r: pools[r] for r in declared.reads}
        text = channel_mod(declared, reads, f"hh_jax.channels.{declared.name}")
        _add(out, mechanism_name(declared.name), text, declared)
    for pool in model._pools:
        text = pool_mod(pool, f"hh_jax.channels.{type(pool).__name__}")
        _add(out, mechanism_name(type(pool).__name__), text, pool)
    return out


def _add(out: dict, name: str, text: str, source) -> None:
    if name in out:
        raise NotImplementedError(
            f"the model has two channels or pools of class {name[len('hhjax_') :]}; "
            "the NEURON export writes one mechanism per class."
        )
    out[name] = (text, source)


def _nrn_parameters(source) -> dict[str, float]:
    if isinstance(source, DeclaredChannel):
        values = dict(source.parameters)
        values[CONDUCTANCE] = source.values[source.conductance] * 1e-3  # S/cm^2
        return {CONDUCTANCE: values.pop(CONDUCTANCE), **values}
    return {n: float(np.asarray(getattr(source, n))) for n in parameter_infos(source)}


def _scalar(name: str, value, unit: str) -> float:
    arr = np.asarray(value, dtype=float)
    if arr.shape != ():
        raise ValueError(
            f"`{name}` has shape {arr.shape}: export one cell, not a batch ({unit})."
        )
    x = float(arr)
    if not math.isfinite(x):
        raise ValueError(f"`{name}` must be finite ({unit}); got {x}.")
    return x


def to_neuron(
    model: PointNeuron,
    out_dir: str | Path,
    area_cm2: float | None = None,
    stimulus: AbstractStimulus | float | None = None,
    *,
    initial_state: State | None = None,
    t_stop: float = 100.0,
    compile: bool = False,
) -> NeuronExport:
    """Write `model` as a NEURON cell into `out_dir`.

    **Arguments:**

    - `model`: a scalar (unbatched) :class:`hh_jax.PointNeuron`.
    - `out_dir`: directory to write (created if needed; existing files of the
      same names are replaced).
    - `area_cm2`: membrane area, cm^2 (default 1e-5 cm^2 = 1000 um^2; with
      densities it only scales the clamp current).
    - `stimulus`: the applied current in uA/cm^2 (an hh_jax piecewise-constant
      stimulus: Constant, Step, PulseTrain, PiecewiseConstant or a sum), replayed
      in NEURON as an IClamp in nA; None for none.
    - `initial_state`: hh_jax state to start from (default, as in
      :func:`hh_jax.simulate`: the steady state at -65 mV).
    - `t_stop`: the script's default run length, ms.
    - `compile`: run ``nrnivmodl`` in `out_dir` afterwards.

    **Returns:** a :class:`NeuronExport` (paths of the files written).

    Units in NEURON: ``gbar`` S/cm^2 (hh_jax mS/cm^2 x 1e-3), cm uF/cm^2,
    currents mA/cm^2, ``celsius`` = ``model.temperature``. Raises
    ``NotImplementedError`` naming any channel or pool that cannot be written.
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(f"`model` must be an hh_jax.PointNeuron; got {type(model)}.")
    area = (
        DEFAULT_AREA_CM2 if area_cm2 is None else _scalar("area_cm2", area_cm2, "cm^2")
    )
    if not area > 0:
        raise ValueError(f"`area_cm2` must be > 0 cm^2; got {area}.")
    t_stop = _scalar("t_stop", t_stop, "ms")
    if not t_stop > 0:
        raise ValueError(f"`t_stop` must be > 0 ms; got {t_stop}.")
    mechanisms = _mechanisms(model)
    state = steady_state(model, -65.0) if initial_state is None else initial_state
    model.check_state(state)
    stim_times, stim_values = (
        (np.zeros(1), np.zeros(1))
        if stimulus is None
        else piecewise_constant(stimulus, t_stop)
    )

    gates: dict[tuple[str, str], float] = {}
    concentrations: dict[str, float] = {}
    for ch in model.channels:
        for g in ch.gates:
            value = _scalar(g, state.gates[g], "1")
            gates[(mechanism_name(type(ch).__name__), g)] = value
    for pool in model._pools:
        if pool.ion not in _CONCENTRATION_NAMES:
            raise NotImplementedError(f"pool of ion {pool.ion!r} cannot be exported.")
        concentrations[_CONCENTRATION_NAMES[pool.ion]] = _scalar(
            pool.name, state.gates[pool.name], pool.unit
        )

    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    mod_files = {}
    for name, (text, _) in mechanisms.items():
        path = directory / f"{name}.mod"
        path.write_text(text)
        mod_files[name] = path
    script = directory / "cell.py"
    script.write_text(
        cell_script(
            model_name=type(model).__name__,
            mechanisms=list(mechanisms),
            area_um2=area * 1e8,
            cm=_scalar("C_m", model.C_m, "uF/cm^2"),
            celsius=_scalar("temperature", model.temperature, "degC"),
            t_stop=t_stop,
            parameters={n: _nrn_parameters(src) for n, (_, src) in mechanisms.items()},
            v_init=_scalar("V", state.V, "mV"),
            gates=gates,
            concentrations=concentrations,
            stim_times=[float(t) for t in stim_times],
            stim_na=[float(i) * area * 1e3 for i in stim_values],  # uA/cm^2 -> nA
        )
    )
    export = NeuronExport(directory=directory, mod_files=mod_files, script=script)
    if compile:
        compile_mechanisms(directory)
    return export


def compile_mechanisms(directory: str | Path, *flags: str) -> None:
    """Run NEURON's ``nrnivmodl`` in `directory` (extra command-line `flags`,
    e.g. ``"-incflags", "-O0"``); raises ``RuntimeError`` with its output if it
    fails or is not installed."""
    exe = shutil.which("nrnivmodl")
    if exe is None:
        raise RuntimeError("nrnivmodl not found: install NEURON (pip install neuron).")
    done = subprocess.run(
        [exe, *flags], cwd=directory, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"nrnivmodl failed in {directory}:\n{done.stdout[-4000:]}{done.stderr}"
        )
