"""Model parameters as array fields that carry their unit and physical range.

Every numeric model field is declared with :func:`parameter`. The field is converted
to a JAX array (so ``jit``, ``vmap`` and ``grad`` see it as a leaf) and its metadata
records the unit, the physically admissible range and a one-line description. Input
checks, error messages, the command-line interface and the fitting bounds all read
this metadata, so a unit is written down exactly once.
"""

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np


def as_float_array(x) -> Any:
    """``x`` as a strongly typed floating-point JAX array (ints become the default
    float type). Strong types keep ``jit`` from compiling twice for the same value
    passed once as a Python float and once as an array."""
    x = jnp.asarray(x)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return jnp.asarray(x, dtype=dtype)


def parameter(
    default: float,
    *,
    unit: str,
    doc: str,
    minimum: float = -math.inf,
    strictly_positive: bool = False,
    fit_bounds: tuple[float, float] | None = None,
) -> Any:
    """Declare a numeric model field.

    **Arguments:**

    - `default`: default value, in `unit`.
    - `unit`: physical unit, e.g. ``"mS/cm^2"``.
    - `doc`: what the parameter is, in a few words.
    - `minimum`: smallest admissible value (inclusive), e.g. ``0`` for a conductance.
    - `strictly_positive`: the value must be ``> 0`` (capacitance, time constants).
    - `fit_bounds`: default search interval when the parameter is fitted.
    """
    return eqx.field(
        default=default,
        converter=as_float_array,
        metadata=dict(
            unit=unit,
            doc=doc,
            minimum=minimum,
            strictly_positive=strictly_positive,
            fit_bounds=fit_bounds,
        ),
    )


@dataclasses.dataclass(frozen=True)
class ParameterInfo:
    """Description of one model parameter, read from its field declaration."""

    name: str
    default: float
    unit: str
    doc: str
    minimum: float
    strictly_positive: bool
    fit_bounds: tuple[float, float] | None

    def admissible(self, value) -> Any:
        """Boolean array: where ``value`` lies in the physical range (NaN fails).
        NumPy in, NumPy out (no JAX dispatch for checks on concrete values)."""
        xp = np if isinstance(value, np.ndarray | np.generic | float | int) else jnp
        value = xp.asarray(value)
        ok = xp.isfinite(value)
        if self.strictly_positive:
            ok = ok & (value > 0)
        if self.minimum > -math.inf:
            ok = ok & (value >= self.minimum)
        return ok

    def requirement(self) -> str:
        """Human-readable statement of the admissible range."""
        if self.strictly_positive:
            return f"a finite value > 0 {self.unit}"
        if self.minimum > -math.inf:
            return f"a finite value >= {self.minimum:g} {self.unit}"
        return f"a finite value in {self.unit}"


def parameter_infos(module: "eqx.Module | type") -> dict[str, ParameterInfo]:
    """The declared parameters of a module or module class (not recursing into
    sub-modules)."""
    infos = {}
    for field in dataclasses.fields(module):
        meta = field.metadata
        if "unit" not in meta:
            continue
        infos[field.name] = ParameterInfo(
            name=field.name,
            default=field.default,
            unit=meta["unit"],
            doc=meta["doc"],
            minimum=meta["minimum"],
            strictly_positive=meta["strictly_positive"],
            fit_bounds=meta["fit_bounds"],
        )
    return infos
