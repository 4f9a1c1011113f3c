"""The initial state, ``y0``: one vocabulary and one resolver for every entry point.

Every function that starts a simulation (``simulate``, ``simulate_batch``,
``simulate_fixed``, ``fit``, the sensitivity analyses, ``run_sweep``) takes
``y0`` as one of

- ``"steady"``: V = -65 mV (:data:`STEADY_V`) and every other state variable at
  its steady state there (:func:`hh_jax.steady_state`); NEURON's
  ``finitialize(-65)``. ``None`` means the same (kept for compatibility).
- ``"rest"``: the model's own resting state (:func:`hh_jax.resting_state`,
  Newton's method, differentiable), which moves with the parameters. It is the
  rest under the holding current: 0 uA/cm^2 except in ``fit``, where each sweep's
  first current value is its holding current.
- a :class:`hh_jax.State`, or an array ``[V (mV), gate_1, ...]`` in
  ``model.gate_names`` order; with a leading batch axis for batched runs.

:func:`resolve_y0` turns any of these into a :class:`hh_jax.State`; the defaults
of each entry point are listed in :data:`DEFAULT_Y0` (README, "Vocabulary").
"""

import warnings
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Float

from .model import PointNeuron, State, as_state, resting_state, steady_state

STEADY_V = -65.0  # mV: the potential of y0="steady" (the NEURON reference traces)
NAMES = ("steady", "rest")

# Any string is accepted by the annotation so that a wrong name gets the clear
# ValueError of `check_y0` (naming the argument and the valid names).
InitialState = State | Float[ArrayLike, "*batch n"] | Sequence[float] | str

# The default `y0` of each entry point. Simulations start where NEURON's reference
# traces start ("steady"); the analyses of a neuron's own behaviour (fits,
# sensitivities) start at its resting state, which moves with the parameters, so
# that a derivative or a fitted value is not that of a relaxation from -65 mV.
DEFAULT_Y0 = {
    "simulate": "steady",
    "analysis": "rest",
}


def check_y0(y0, *, allowed: Sequence[str] = NAMES, name: str = "y0") -> None:
    """Raise ``ValueError`` naming `name` unless `y0` is None, one of `allowed`, a
    State or array-like (the array's shape is checked by :func:`resolve_y0`)."""
    if isinstance(y0, str) and y0 not in allowed:
        raise ValueError(
            f"`{name}` must be one of {tuple(allowed)}, a State or an array "
            f"[V (mV), gates...]; got {y0!r}."
        )


def is_named(y0, which: str | None = None) -> bool:
    """True if `y0` is a named initial state (`which`, or any when None)."""
    if not isinstance(y0, str):
        return False
    return y0 in NAMES if which is None else y0 == which


def resolve_y0(
    model: PointNeuron,
    y0: InitialState | None,
    *,
    holding_current: Float[ArrayLike, ""] = 0.0,
    throw: bool = True,
    name: str = "y0",
) -> State:
    """The :class:`hh_jax.State` that `y0` names for `model`.

    - `y0`: ``"steady"`` (or None), ``"rest"``, a State or an array (module
      docstring).
    - `holding_current`: uA/cm^2, the current under which ``"rest"`` is rest.
    - `throw`: for ``"rest"``: raise if Newton's method fails; with
      ``throw=False`` (under ``vmap``) a member without a rest gets V = NaN, which
      the entry points report as INVALID_INPUT or NON_FINITE.

    A model with batched fields (a leading axis) gets a batched state: each
    member's own rest for ``"rest"``.
    """
    check_y0(y0, name=name)
    if y0 is None or is_named(y0, "steady"):
        return _steady(model)
    if is_named(y0, "rest"):
        return _rest(model, holding_current, throw)
    if not isinstance(y0, State):
        y0 = jnp.asarray(y0)
    return as_state(model, y0)


def _rest(model: PointNeuron, holding_current, throw: bool) -> State:
    is_batched = lambda x: eqx.is_array(x) and x.ndim >= 1  # noqa: E731
    batched, shared = eqx.partition(model, is_batched)
    leaves = jax.tree.leaves(batched)
    if not leaves:
        return resting_state(model, holding_current=holding_current, throw=throw)
    if any(x.ndim > 1 for x in leaves):
        raise ValueError(
            "y0='rest' needs the model's batched fields along one axis (B,); got "
            f"shapes {sorted({x.shape for x in leaves})}."
        )

    # A batch never raises for one member: NaN marks a member without a rest.
    return _batched_rest(batched, shared, jnp.asarray(holding_current))


@eqx.filter_jit
def _steady(model: PointNeuron) -> State:
    # Compiled once per model structure: evaluated eagerly, the rate functions
    # were ~25 single-operation compilations (0.38 s of a first simulate_batch).
    return steady_state(model, jnp.asarray(STEADY_V))


@eqx.filter_jit
def _batched_rest(batched, shared, holding_current):
    def one(b):
        return resting_state(
            eqx.combine(b, shared), holding_current=holding_current, throw=False
        )

    return eqx.filter_vmap(one)(batched)


def renamed_y0(old_name: str, old_value, y0, default):
    """`y0` for an entry point whose initial state used to be called `old_name`:
    the old keyword still works, with a ``DeprecationWarning``."""
    if old_value is None:
        return y0
    warnings.warn(
        f"`{old_name}` is deprecated; pass `y0` instead (same values).",
        DeprecationWarning,
        stacklevel=3,
    )
    if not (y0 is default or (isinstance(y0, str) and y0 == default)):
        raise TypeError(f"pass `y0` or the deprecated `{old_name}`, not both.")
    return old_value
