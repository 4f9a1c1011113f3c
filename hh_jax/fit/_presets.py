"""The candidate models of a whole-cell fit, and what is searched in each.

A candidate is a named preset of the channel library with the parameters a fit
frees by default and their search bounds. The passive parameters are not
searched freely: the leak reversal is pinned to the recorded rest, and the leak
conductance is searched near the measured input conductance (its bounds are set
from the data, see :func:`leak_bounds`).
"""

import dataclasses
from collections.abc import Callable

from .. import presets as _presets
from ..model import PointNeuron


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A model a fit can choose: `name` (as on the command line), `build` (the
    preset's constructor), `free` (searched parameters besides ``g_L``),
    `bounds` (search bounds overriding the declared fit bounds, each in the
    parameter's unit), `summary` (one line for the result)."""

    name: str
    build: Callable[[], PointNeuron]
    free: tuple[str, ...]
    bounds: dict[str, tuple[float, float]]
    summary: str


# Bounds shared by the spiking candidates: reversal potentials and temperature
# wide enough for recordings made at room or body temperature with any
# solutions, the kinetic scales within a factor of a few of the literature.
_SPIKE_BOUNDS = {
    "temperature": (10.0, 40.0),
    "E_K": (-110.0, -65.0),
    "E_Na": (30.0, 90.0),
    "g_M": (0.001, 1.0),
    "shift_m": (-15.0, 15.0),
    "shift_h": (-15.0, 15.0),
    "tau_scale_n": (0.3, 5.0),
    "tau_scale_n_kv3": (0.3, 5.0),
}

CANDIDATES: dict[str, Candidate] = {
    "cortical-rs": Candidate(
        name="cortical-rs",
        build=_presets.CorticalRegularSpiking,
        free=(
            "g_Na",
            "g_K",
            "g_M",
            "V_T",
            "tau_max",
            "E_Na",
            "E_K",
            "temperature",
            "shift_h",
            "tau_scale_n",
        ),
        bounds=_SPIKE_BOUNDS,
        summary="Pospischil et al. 2008 regular spiking: Traub-Miles Na, K, M, leak",
    ),
    "adapting-pyramidal": Candidate(
        name="adapting-pyramidal",
        build=_presets.AdaptingPyramidal,
        free=(
            "g_Na",
            "g_K",
            "g_M",
            "V_T",
            "E_Na",
            "E_K",
            "temperature",
            "shift_h",
            "tau_scale_n",
            "g_AHP",
            "g_CaL",
            "tau_Ca",
            "g_Ih",
        ),
        bounds={
            **_SPIKE_BOUNDS,
            "g_AHP": (0.001, 5.0),
            "g_CaL": (0.001, 1.0),
            "tau_Ca": (10.0, 1000.0),
            "g_Ih": (0.001, 2.0),
        },
        summary=(
            "adapting pyramidal cell: regular-spiking currents, L-type Ca, "
            "a Ca pool and Ca-activated K (AHP), h-current"
        ),
    ),
    "fast-spiking": Candidate(
        name="fast-spiking",
        build=_presets.FastSpikingInterneuron,
        free=(
            "g_Na",
            "g_Kv3",
            "E_Na",
            "E_K",
            "temperature",
            "shift_m",
            "shift_h",
            "tau_scale_n_kv3",
        ),
        bounds=_SPIKE_BOUNDS,
        summary="fast-spiking interneuron: Erisir Na, Kv3 delayed rectifier, leak",
    ),
}

AUTO_CANDIDATES = ("cortical-rs", "adapting-pyramidal", "fast-spiking")


def candidate(name: str) -> Candidate:
    """The candidate called `name` (ValueError listing the choices if unknown)."""
    if name not in CANDIDATES:
        raise ValueError(
            f"unknown model {name!r}; choose 'auto' or one of {sorted(CANDIDATES)}."
        )
    return CANDIDATES[name]


def leak_bounds(input_conductance: float | None) -> tuple[float, float] | None:
    """Search bounds of ``g_L`` (mS/cm^2) from the measured input conductance per
    area (mS/cm^2): the leak carries between a twentieth and all of it (active
    currents open at rest carry the rest), with 20 % slack for the estimate."""
    if input_conductance is None or not input_conductance > 0:
        return None
    return (0.05 * input_conductance, 1.2 * input_conductance)
