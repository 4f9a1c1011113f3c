"""The channel interface: a channel owns its gates, rate functions and reversal."""

import abc
from typing import ClassVar

import equinox as eqx
from jaxtyping import Array, Float

from .._parameter import parameter_infos


class GateRates(eqx.Module):
    """Opening and closing rates of one gate, in 1/ms, at the model temperature.

    The gate obeys ``dx/dt = alpha (1 - x) - beta x``.
    """

    alpha: Float[Array, "*shape"]
    beta: Float[Array, "*shape"]

    @property
    def steady_state(self) -> Float[Array, "*shape"]:
        """``x_inf = alpha / (alpha + beta)`` (dimensionless)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def time_constant(self) -> Float[Array, "*shape"]:
        """``tau = 1 / (alpha + beta)``, in ms."""
        return 1.0 / (self.alpha + self.beta)

    @classmethod
    def from_steady_state(cls, steady_state, time_constant) -> "GateRates":
        """Build rates from ``x_inf`` (dimensionless) and ``tau`` (ms)."""
        alpha = steady_state / time_constant
        return cls(alpha=alpha, beta=(1.0 - steady_state) / time_constant)

    def derivative(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """``dx/dt`` in 1/ms."""
        return self.alpha - (self.alpha + self.beta) * x


class AbstractChannel(eqx.Module):
    """An ionic current of a single-compartment neuron.

    Subclasses declare their numeric fields with :func:`hh_jax.parameter` (so each is
    a JAX array with a unit) and set two class variables:

    - `gates`: names of the gating variables this channel owns, in order. Names are
      unique within a model (the model checks), so a gate is addressed by name.
    - `current_name`: the name of the current in traces, e.g. ``"I_Na"``.

    A subclass may also list in `shared_parameters` the names that are meant to be one
    parameter across channels (e.g. the threshold shift ``V_T`` of Traub–Miles Na and
    K currents); any other name may appear in only one channel of a model.

    Adding a channel to the library is writing one such class; nothing else changes.
    """

    gates: ClassVar[tuple[str, ...]]
    current_name: ClassVar[str]
    shared_parameters: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def gate_rates(
        self, V: Float[Array, "*shape"], temperature: Float[Array, "..."]
    ) -> dict[str, GateRates]:
        """Rates of each gate (1/ms) at membrane potential ``V`` (mV) and
        ``temperature`` (degrees Celsius)."""

    @abc.abstractmethod
    def current(
        self, V: Float[Array, "*shape"], gates: dict[str, Float[Array, "*shape"]]
    ) -> Float[Array, "*shape"]:
        """Outward membrane current density in uA/cm^2 (positive = outward)."""

    def parameter_infos(self):
        """Declared parameters of this channel, with units and ranges."""
        return parameter_infos(self)


def ohmic(conductance, open_fraction, V, reversal) -> Array:
    """``g * open_fraction * (V - E)``: mS/cm^2 * mV = uA/cm^2."""
    return conductance * open_fraction * (V - reversal)


def no_gates() -> dict[str, GateRates]:
    """Rates of a channel without gates."""
    return {}
