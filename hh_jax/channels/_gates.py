"""Declarative gates and the one place where their kinetics are transformed.

A :class:`Gate` names a gating variable, its exponent in the conductance and its
kinetics as rate forms (:mod:`hh_jax.channels._rates`): either opening and
closing rates ``alpha, beta`` (1/ms) or a steady state ``inf`` (1) and time
constant ``tau`` (ms); with ``tau=None`` the gate is instantaneous (always at its
steady state, e.g. the T-type Ca activation ``s``).

Every gate of the library channels carries two fittable parameters, declared
with :func:`shift_parameter` and :func:`tau_scale_parameter`: a half-activation
shift ``shift_<gate>`` (mV; positive moves the curves to depolarised potentials)
and a time-constant scale ``tau_scale_<gate>`` (dimensionless; 2 makes the gate
twice as slow). :func:`transformed_rates` applies them, with the temperature
factor, the same way for every gate:
``alpha(V - shift) * phi / tau_scale``, ``beta(V - shift) * phi / tau_scale``.
"""

import dataclasses
from collections.abc import Mapping

from jaxtyping import Array

from .._parameter import parameter
from ._base import GateRates
from ._rates import AbstractRate

SHIFT_BOUNDS = (-20.0, 20.0)  # mV
TAU_SCALE_BOUNDS = (0.3, 5.0)


@dataclasses.dataclass(frozen=True)
class Gate:
    """One gating variable: `name`, exponent `power` in the conductance, and its
    kinetics, either `alpha` and `beta` (1/ms) or `inf` (1) and `tau` (ms);
    `tau` None means instantaneous (``x = inf(V)``, not a state variable)."""

    name: str
    power: int
    alpha: AbstractRate | None = None
    beta: AbstractRate | None = None
    inf: AbstractRate | None = None
    tau: AbstractRate | None = None

    def __post_init__(self):
        rates = self.alpha is not None and self.beta is not None
        steady = self.inf is not None and self.alpha is None and self.beta is None
        if not (rates and self.inf is None and self.tau is None) and not steady:
            raise ValueError(
                f"gate {self.name!r}: give either alpha and beta, or inf (and tau, "
                "or no tau for an instantaneous gate)."
            )
        if not (isinstance(self.power, int) and self.power >= 1):
            raise ValueError(f"gate {self.name!r}: `power` must be an int >= 1.")

    @property
    def instantaneous(self) -> bool:
        """True if the gate is always at its steady state (no state variable)."""
        return self.inf is not None and self.tau is None

    @property
    def forms(self) -> tuple[AbstractRate, ...]:
        return tuple(
            f for f in (self.alpha, self.beta, self.inf, self.tau) if f is not None
        )

    @property
    def reads_voltage(self) -> bool:
        """Whether any of its forms depends on the membrane potential."""
        return any(f.reads_voltage for f in self.forms)

    @property
    def names(self) -> frozenset[str]:
        """Named quantities (parameters, state variables) its forms read."""
        return frozenset().union(*(f.names for f in self.forms))


def shift_parameter(gate: str):
    """Declare the half-activation shift ``shift_<gate>`` (mV, default 0)."""
    return parameter(
        0.0,
        unit="mV",
        doc=f"voltage shift of the {gate} gate's kinetics",
        fit_bounds=SHIFT_BOUNDS,
    )


def tau_scale_parameter(gate: str):
    """Declare the time-constant scale ``tau_scale_<gate>`` (1, default 1, > 0)."""
    return parameter(
        1.0,
        unit="1",
        doc=f"time-constant scale of the {gate} gate",
        strictly_positive=True,
        fit_bounds=TAU_SCALE_BOUNDS,
    )


def steady_value(gate: Gate, u: Array, values: Mapping) -> Array:
    """Steady state of `gate` at the shifted potential `u` (mV)."""
    if gate.inf is not None:
        return gate.inf(u, values)
    alpha, beta = gate.alpha(u, values), gate.beta(u, values)
    return alpha / (alpha + beta)


def transformed_rates(
    gate: Gate,
    u: Array,
    values: Mapping,
    *,
    phi: Array,
    tau_scale: Array,
) -> GateRates:
    """The gate's rates at the shifted potential ``u = V - offset - shift`` (mV),
    sped up by the temperature factor `phi` and slowed by `tau_scale`."""
    if gate.alpha is not None:
        speed = phi / tau_scale
        return GateRates(gate.alpha(u, values) * speed, gate.beta(u, values) * speed)
    if gate.tau is None:
        raise ValueError(f"gate {gate.name!r} is instantaneous: it has no rates.")
    tau = gate.tau(u, values) * (tau_scale / phi)
    return GateRates.from_steady_state(gate.inf(u, values), tau)
