"""Reading the NEURON reference traces (``shared/reference/neuron_hh``).

Each case is a pair ``NAME.npz`` (``t``, ``V``, ``stim_t``, ``stim_I``) and
``NAME.json`` (parameters, temperature, initial state, protocol). This module turns
a case into the model, stimulus, save times and initial state that reproduce it.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from .model import HodgkinHuxley, PointNeuron, State, steady_state
from .stimulus import PiecewiseConstant

_PARAMETER_NAMES = ("C_m", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L")


@dataclasses.dataclass(frozen=True)
class ReferenceCase:
    """One reference simulation: what to run and what NEURON computed."""

    name: str
    model: PointNeuron
    stimulus: PiecewiseConstant
    t: np.ndarray  # ms
    V: np.ndarray  # mV
    y0: State


def load_reference_case(path: str | Path) -> ReferenceCase:
    """Load ``NAME.npz`` and ``NAME.json`` (give either path, or the stem)."""
    stem = str(path)
    for suffix in (".npz", ".json"):
        stem = stem.removesuffix(suffix)
    data = np.load(stem + ".npz")
    meta = json.loads(Path(stem + ".json").read_text())
    params = meta["params"]
    model = HodgkinHuxley(
        **{k: float(params[k]) for k in _PARAMETER_NAMES},
        temperature=float(params["celsius"]),
    )
    init = meta["initial_state"]
    if isinstance(init, dict):
        y0 = State(
            V=np.float64(init["V"]), gates={g: np.float64(init[g]) for g in "mhn"}
        )
    else:
        V0 = float(str(init).split("V0=")[1].split()[0])
        y0 = steady_state(model, V0)
    stimulus = PiecewiseConstant(
        np.asarray(data["stim_t"], dtype=float), np.asarray(data["stim_I"], dtype=float)
    )
    return ReferenceCase(
        name=meta["name"],
        model=model,
        stimulus=stimulus,
        t=np.asarray(data["t"], dtype=float),
        V=np.asarray(data["V"], dtype=float),
        y0=y0,
    )
