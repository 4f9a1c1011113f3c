"""The channel interface: a channel owns its gates, rate functions and reversal."""

import abc
import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._parameter import parameter_infos

if TYPE_CHECKING:
    from ._gates import Gate


class GateRates(eqx.Module):
    """Linear kinetics of one state variable at the model temperature.

    The variable obeys ``dx/dt = alpha - (alpha + beta) x``; for a gate that is
    ``alpha (1 - x) - beta x`` with `alpha`, `beta` in 1/ms. For a concentration
    (mM) `alpha` is in mM/ms and ``alpha + beta`` is ``1 / tau`` (1/ms), so that
    :attr:`steady_state` is the concentration it relaxes to and
    :attr:`time_constant` its relaxation time.
    """

    alpha: Float[Array, "*shape"]
    beta: Float[Array, "*shape"]

    @property
    def steady_state(self) -> Float[Array, "*shape"]:
        """``x_inf = alpha / (alpha + beta)`` (dimensionless for a gate)."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def time_constant(self) -> Float[Array, "*shape"]:
        """``tau = 1 / (alpha + beta)``, in ms."""
        return 1.0 / (self.alpha + self.beta)

    @classmethod
    def from_steady_state(cls, steady_state, time_constant) -> "GateRates":
        """Build rates from ``x_inf`` (dimensionless, or mM for a concentration)
        and ``tau`` (ms)."""
        alpha = steady_state / time_constant
        return cls(alpha=alpha, beta=(1.0 - steady_state) / time_constant)

    def derivative(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """``dx/dt`` in 1/ms (mM/ms for a concentration)."""
        return self.alpha - (self.alpha + self.beta) * x


@dataclasses.dataclass(frozen=True)
class StateInfo:
    """A state variable besides V: its unit, admissible range and meaning, as
    declared by the channel or pool that owns it."""

    name: str
    kind: str  # "gate" or "concentration"
    unit: str
    lower: float
    upper: float
    doc: str

    def admissible(self, value):
        """Boolean array: finite and within ``[lower, upper]``. NumPy in, NumPy
        out; JAX arrays give a JAX array (usable under ``jit``)."""
        xp = np if isinstance(value, np.ndarray | np.generic | float | int) else jnp
        value = xp.asarray(value)
        return xp.isfinite(value) & (value >= self.lower) & (value <= self.upper)

    def requirement(self) -> str:
        """Human-readable statement of the admissible range."""
        upper = "inf" if self.upper == math.inf else f"{self.upper:g}"
        unit = "dimensionless" if self.unit == "1" else self.unit
        return f"lie in [{self.lower:g}, {upper}] ({unit})"


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

    Optional class variables:

    - `ion`: the ion the current carries, ``"na"``, ``"k"``, ``"ca"`` or ``None``
      (leak, mixed cations). A concentration pool of an ion is fed by the currents
      of every channel of the model that carries it.
    - `reads`: other state variables (besides V and the channel's own gates) that
      its gate kinetics or its current depend on, e.g. ``("Ca_i",)`` for a
      Ca-activated K current. Such a channel overrides :meth:`state_rates`.
    - `kinetics`: declarative description of the gates
      (:class:`hh_jax.channels.Gate`, rate forms) for exporters; empty if none.
    - `conductance`, `reversal`: names of the maximal-conductance and reversal
      parameters of an ohmic current, for exporters.
    - `q10`, `reference_temperature`: temperature dependence of the rates
      (``q10 ** ((T - reference_temperature) / 10)``), for exporters; None if
      the rates do not depend on temperature.
    - `gate_range`: admissible range of every gate (default ``[0, 1]``).

    Adding a channel to the library is writing one such class; nothing else changes.
    """

    gates: ClassVar[tuple[str, ...]]
    current_name: ClassVar[str]
    shared_parameters: ClassVar[frozenset[str]] = frozenset()
    ion: ClassVar[str | None] = None
    reads: ClassVar[tuple[str, ...]] = ()
    kinetics: ClassVar[tuple["Gate", ...]] = ()
    conductance: ClassVar[str | None] = None
    reversal: ClassVar[str | None] = None
    q10: ClassVar[float | None] = None
    reference_temperature: ClassVar[float | None] = None
    gate_range: ClassVar[tuple[float, float]] = (0.0, 1.0)

    @abc.abstractmethod
    def gate_rates(
        self, V: Float[Array, "*shape"], temperature: Float[Array, "..."]
    ) -> dict[str, GateRates]:
        """Rates of each gate (1/ms) at membrane potential ``V`` (mV) and
        ``temperature`` (degrees Celsius)."""

    def state_rates(
        self,
        V: Float[Array, "*shape"],
        variables: Mapping[str, Array],
        temperature: Float[Array, "..."],
    ) -> dict[str, GateRates]:
        """Rates of each gate given ``V`` (mV) and the model's other state variables
        `variables` (by name; those in `reads` are guaranteed to be present).

        The default is :meth:`gate_rates`: a voltage-gated channel writes only
        that. A channel whose gates depend on other state variables (listed in
        `reads`) overrides this method instead."""
        return self.gate_rates(V, temperature)

    def state_infos(self) -> dict[str, StateInfo]:
        """Unit and admissible range of each gate of this channel."""
        lower, upper = self.gate_range
        return {
            g: StateInfo(
                g, "gate", "1", lower, upper, f"{type(self).__name__} gating variable"
            )
            for g in self.gates
        }

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
