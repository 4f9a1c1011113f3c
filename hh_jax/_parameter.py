"""Model parameters as array fields that carry their unit and physical range.

Every numeric model field is declared with :func:`parameter`. The field is converted
to a JAX array (so ``jit``, ``vmap`` and ``grad`` see it as a leaf) and its metadata
records the unit, the physically admissible range and a one-line description. Input
checks, error messages, the command-line interface and the fitting bounds all read
this metadata, so a unit is written down exactly once. Choosing which of them an
analysis varies (by name or path, with bounds and transforms taken from these
declarations) is :mod:`hh_jax.parameters`.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np


class UnknownParameterError(KeyError, ValueError):
    """A parameter name that the model (and the stimulus, and the analysis) lack.
    Both a ``KeyError`` (a name lookup failed) and a ``ValueError`` (a bad
    argument), so callers catching either see it; the message lists the valid
    names with their units."""

    def __str__(self) -> str:
        return str(self.args[0])


def unknown_parameter(
    names: Sequence[str], valid: Mapping[str, str], reason: str | None = None
) -> UnknownParameterError:
    """The error for unknown `names`; `valid`: every valid name and its unit;
    `reason`: why they are unknown (default: the model has no such parameter)."""
    listed = ", ".join(map(repr, names))
    plural = "s" if len(names) > 1 else ""
    reason = f"the model has no parameter {listed}" if reason is None else reason
    choices = ", ".join(f"{n} ({u})" for n, u in valid.items())
    return UnknownParameterError(
        f"unknown parameter{plural} {listed}: {reason}. Valid names: {choices}."
    )


def as_float_array(x) -> Any:
    """``x`` as a strongly typed floating-point JAX array (ints become the default
    float type). Strong types keep ``jit`` from compiling twice for the same value
    passed once as a Python float and once as an array."""
    x = jnp.asarray(x)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.result_type(float)
    return jnp.asarray(x, dtype=dtype)


def parameter(
    default: Any = dataclasses.MISSING,
    *,
    unit: str,
    doc: str,
    minimum: float = -math.inf,
    strictly_positive: bool = False,
    fit_bounds: tuple[float, float] | None = None,
    log_scale: bool | None = None,
    discontinuity: bool = False,
) -> Any:
    """Declare a numeric field of a model, channel, pool or stimulus.

    **Arguments:**

    - `default`: default value, in `unit` (none: the field must be given).
    - `unit`: physical unit, e.g. ``"mS/cm^2"``.
    - `doc`: what the parameter is, in a few words.
    - `minimum`: smallest admissible value (inclusive), e.g. ``0`` for a conductance.
    - `strictly_positive`: the value must be ``> 0`` (capacitance, time constants).
    - `fit_bounds`: default search interval when the parameter is fitted.
    - `log_scale`: the parameter spans decades (conductances, time constants,
      scales): searched and sampled uniformly in its logarithm when its bounds are
      positive. Default: `strictly_positive`.
    - `discontinuity`: the value places a jump of a stimulus (a start or stop
      time); the solver steps onto it, so it cannot be differentiated.
    """

    def convert(x):
        if isinstance(x, str | bytes):
            raise TypeError(
                f"a parameter in {unit} ({doc}) must be a number or a numeric "
                f"array; got the text {x!r}."
            )
        return as_float_array(x)

    return eqx.field(
        default=default,
        converter=convert,
        metadata=dict(
            unit=unit,
            doc=doc,
            minimum=minimum,
            strictly_positive=strictly_positive,
            fit_bounds=fit_bounds,
            log_scale=strictly_positive if log_scale is None else bool(log_scale),
            discontinuity=bool(discontinuity),
        ),
    )


@dataclasses.dataclass(frozen=True)
class ParameterInfo:
    """Description of one parameter, read from its field declaration (see
    :func:`parameter` for the meaning of each field). `default` is None for a
    field without a default (stimulus fields)."""

    name: str
    default: float | None
    unit: str
    doc: str
    minimum: float
    strictly_positive: bool
    fit_bounds: tuple[float, float] | None
    log_scale: bool = False
    discontinuity: bool = False

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
        default = field.default
        infos[field.name] = ParameterInfo(
            name=field.name,
            default=None if default is dataclasses.MISSING else default,
            unit=meta["unit"],
            doc=meta["doc"],
            minimum=meta["minimum"],
            strictly_positive=meta["strictly_positive"],
            fit_bounds=meta["fit_bounds"],
            log_scale=meta["log_scale"],
            discontinuity=meta["discontinuity"],
        )
    return infos
