"""The free parameters of a fit: a :class:`hh_jax.parameters.ParameterSelection`
whose every parameter has bounds, plus the membrane ``area`` of whole-cell data.

The optimiser sees only the unconstrained vector ``u``; ``space.values(u)`` maps
it to physical values in each parameter's unit. Names, bounds, transforms and the
error for an unknown name are those of :mod:`hh_jax.parameters`, shared with the
sensitivity analyses and sweeps; this module adds only what is particular to
fitting recordings (the area, and which combinations a recording can identify).
"""

from collections.abc import Mapping, Sequence
from typing import Any

from .._parameter import ParameterInfo
from .._transforms import Logistic, LogLogistic
from ..model import PointNeuron
from ..parameters import ParameterSelection, select

__all__ = ["AREA", "Logistic", "LogLogistic", "ParameterSpace", "build_space"]

AREA = "area"  # fitted membrane area of a whole-cell recording, um^2
AREA_UNIT = "um^2"
AREA_BOUNDS = (100.0, 1e6)  # um^2: a small neuron's soma to a large pyramidal cell
AREA_INFO = ParameterInfo(
    name=AREA,
    default=None,
    unit=AREA_UNIT,
    doc="membrane area of a whole-cell recording",
    minimum=0.0,
    strictly_positive=True,
    fit_bounds=AREA_BOUNDS,
    log_scale=True,
)

# The fit's name for the selection (same class): names, units, transforms,
# ``values(u)``, ``unconstrained(values)``, ``bounds()``, ``quasi_random``.
ParameterSpace = ParameterSelection


def build_space(
    model: PointNeuron,
    free: Sequence[str] | ParameterSelection,
    bounds: Mapping[str, Any] | None = None,
    *,
    whole_cell: bool = False,
) -> ParameterSpace:
    """The space of `free` parameters of `model`, with `bounds` overriding the
    defaults (a parameter's declared fit bounds; ``area``: 100 to 1e6 um^2).

    `free` may also be a selection made with :func:`hh_jax.parameters.select`
    (its bounds are kept unless `bounds` overrides them).

    Raises ``ValueError`` for no free parameters, unknown names
    (:class:`hh_jax.parameters.UnknownParameterError`, listing the valid names),
    bounds outside a parameter's admissible range, ``area`` without whole-cell
    data, and unidentifiable combinations (``C_m`` with ``area``: only their
    product, the total capacitance, shows in a whole-cell recording)."""
    if isinstance(free, ParameterSelection):
        bounds = {**free.bounds(), **(bounds or {})}
        free = list(free.names)
    if isinstance(free, str):
        free = [free]
    free = list(free)
    if AREA in free and not whole_cell:
        raise ValueError(
            "'area' can be fitted only for whole-cell recordings (currents in pA or "
            "nA); this data is a current density (uA/cm^2)."
        )
    if AREA in free and "C_m" in free:
        raise ValueError(
            "C_m and area cannot both be free: a whole-cell recording shows only "
            "their product, the total capacitance. Fix C_m (e.g. 1 uF/cm^2)."
        )
    return select(
        model,
        None,
        free,
        bounds=bounds,
        extras={AREA: AREA_INFO} if whole_cell else None,
        require_bounds=True,
    )
