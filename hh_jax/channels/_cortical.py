"""Channels of the minimal cortical neuron models of Pospischil et al. (2008),
Biol. Cybern. 99:427–441: Traub–Miles Na and K currents with a threshold shift
V_T, and a slow non-inactivating M-type K current for spike-frequency adaptation.

Rates follow the authors' NEURON mechanisms (ModelDB 123623, ``hh2`` and ``im``):
1/ms at 36 degC, scaled by ``3 ** ((T - 36) / 10)`` (Na, K) and
``2.3 ** ((T - 36) / 10)`` (M). Voltages in mV.
"""

from typing import ClassVar

import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import q10_factor, sigmoid, x_over_expm1
from .._parameter import parameter
from ._base import AbstractChannel, GateRates, ohmic

CORTICAL_REFERENCE_TEMPERATURE = 36.0  # degC


def _threshold_shift(default: float):
    return parameter(
        default,
        unit="mV",
        doc="threshold shift V_T of the Traub–Miles rates",
        fit_bounds=(-75.0, -40.0),
    )


def _potassium_reversal(default: float):
    return parameter(
        default,
        unit="mV",
        doc="potassium reversal potential",
        fit_bounds=(-110.0, -70.0),
    )


class TraubMilesSodium(AbstractChannel):
    """``I_Na = g_Na m^3 h (V - E_Na)`` with Traub–Miles rates of ``V - V_T``.

    ``V_T`` is shared with :class:`TraubMilesPotassium` (one parameter)."""

    g_Na: Float[Array, ""] = parameter(
        50.0,
        unit="mS/cm^2",
        doc="maximal sodium conductance",
        minimum=0.0,
        fit_bounds=(5.0, 200.0),
    )
    E_Na: Float[Array, ""] = parameter(
        50.0, unit="mV", doc="sodium reversal potential", fit_bounds=(20.0, 80.0)
    )
    V_T: Float[Array, ""] = _threshold_shift(-55.0)

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    current_name: ClassVar[str] = "I_Na"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"V_T"})

    def gate_rates(self, V, temperature):
        phi = q10_factor(temperature, CORTICAL_REFERENCE_TEMPERATURE, 3.0)
        u = V - self.V_T
        return {
            "m": GateRates(
                phi * 1.28 * x_over_expm1((13.0 - u) / 4.0),
                phi * 1.4 * x_over_expm1((u - 40.0) / 5.0),
            ),
            "h": GateRates(
                phi * 0.128 * jnp.exp((17.0 - u) / 18.0),
                phi * 4.0 * sigmoid((u - 40.0) / 5.0),
            ),
        }

    def current(self, V, gates):
        m = gates["m"]
        return ohmic(self.g_Na, m * m * m * gates["h"], V, self.E_Na)


class TraubMilesPotassium(AbstractChannel):
    """Delayed rectifier ``I_K = g_K n^4 (V - E_K)`` with Traub–Miles rates of
    ``V - V_T``. ``V_T`` is shared with the sodium current, ``E_K`` with the
    M current."""

    g_K: Float[Array, ""] = parameter(
        5.0,
        unit="mS/cm^2",
        doc="maximal delayed-rectifier K conductance",
        minimum=0.0,
        fit_bounds=(0.5, 50.0),
    )
    E_K: Float[Array, ""] = _potassium_reversal(-100.0)
    V_T: Float[Array, ""] = _threshold_shift(-55.0)

    gates: ClassVar[tuple[str, ...]] = ("n",)
    current_name: ClassVar[str] = "I_K"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"V_T", "E_K"})

    def gate_rates(self, V, temperature):
        phi = q10_factor(temperature, CORTICAL_REFERENCE_TEMPERATURE, 3.0)
        u = V - self.V_T
        return {
            "n": GateRates(
                phi * 0.16 * x_over_expm1((15.0 - u) / 5.0),
                phi * 0.5 * jnp.exp((10.0 - u) / 40.0),
            )
        }

    def current(self, V, gates):
        n2 = gates["n"] * gates["n"]
        return ohmic(self.g_K, n2 * n2, V, self.E_K)


class MCurrent(AbstractChannel):
    """Slow non-inactivating K current ``I_M = g_M p (V - E_K)``:
    ``p_inf = 1 / (1 + exp(-(V + 35) / 10))``,
    ``tau_p = tau_max / (3.3 exp((V + 35) / 20) + exp(-(V + 35) / 20))``."""

    g_M: Float[Array, ""] = parameter(
        0.07,
        unit="mS/cm^2",
        doc="maximal M-current conductance",
        minimum=0.0,
        fit_bounds=(0.0, 1.0),
    )
    tau_max: Float[Array, ""] = parameter(
        1000.0,
        unit="ms",
        doc="peak time constant of the M current",
        strictly_positive=True,
        fit_bounds=(50.0, 3000.0),
    )
    E_K: Float[Array, ""] = _potassium_reversal(-100.0)

    gates: ClassVar[tuple[str, ...]] = ("p",)
    current_name: ClassVar[str] = "I_M"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_K"})

    def gate_rates(self, V, temperature):
        phi = q10_factor(temperature, CORTICAL_REFERENCE_TEMPERATURE, 2.3)
        x = (V + 35.0) / 20.0
        tau = self.tau_max / (3.3 * jnp.exp(x) + jnp.exp(-x)) / phi
        return {"p": GateRates.from_steady_state(sigmoid((V + 35.0) / 10.0), tau)}

    def current(self, V, gates):
        return ohmic(self.g_M, gates["p"], V, self.E_K)
