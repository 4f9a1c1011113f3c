"""Channels of the fast-spiking neocortical interneuron model of Erisir et al.
(1999): a fast Na current and a Kv3.1–Kv3.2-type fast delayed rectifier, whose
fast deactivation lets the cell fire narrow spikes at high rates without
adaptation.

Rates in 1/ms as given by Börgers (2017, An Introduction to Modeling Neuronal
Dynamics, Springer, section 5.3) for the Erisir model, here with a dynamic
activation ``m`` as in the original. The paper states no temperature for the
rates; hh_jax takes them as valid at 36 degC and assumes Q10 = 3 away from it.
Reference: Erisir A, Lau D, Rudy B, Leonard CS (1999) J Neurophysiol 82:2476.
"""

from typing import ClassVar

from jaxtyping import Array, Float

from ._cortical import maximal_conductance, potassium_reversal, sodium_reversal
from ._gates import Gate, shift_parameter, tau_scale_parameter
from ._hh import AbstractHHChannel
from ._rates import ExpLinear, Exponential

ERISIR_REFERENCE_TEMPERATURE = 36.0  # degC (assumed; see the module docstring)


class ErisirSodium(AbstractHHChannel):
    """``I_Na = g_Na m^3 h (V - E_Na)`` of Erisir et al. (1999), 1/ms:

    - ``alpha_m = 40 (75.5 - V) / (exp((75.5 - V) / 13.5) - 1)``,
      ``beta_m = 1.2262 exp(-V / 42.248)``
    - ``alpha_h = 0.0035 exp(-V / 24.186)``,
      ``beta_h = 0.017 (-51.25 - V) / (exp((-51.25 - V) / 5.2) - 1)``

    Gates ``m, h`` (like every Na current of the library: use one per model)."""

    g_Na: Float[Array, ""] = maximal_conductance(112.0, "sodium", (10.0, 400.0))
    E_Na: Float[Array, ""] = sodium_reversal(60.0)
    shift_m: Float[Array, ""] = shift_parameter("m")
    tau_scale_m: Float[Array, ""] = tau_scale_parameter("m")
    shift_h: Float[Array, ""] = shift_parameter("h")
    tau_scale_h: Float[Array, ""] = tau_scale_parameter("h")

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    current_name: ClassVar[str] = "I_Na"
    ion: ClassVar[str | None] = "na"
    conductance: ClassVar[str] = "g_Na"
    reversal: ClassVar[str] = "E_Na"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = ERISIR_REFERENCE_TEMPERATURE
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "m",
            3,
            alpha=ExpLinear(40.0 * 13.5, 75.5, 13.5),
            beta=Exponential(1.2262, 0.0, -42.248),
        ),
        Gate(
            "h",
            1,
            alpha=Exponential(0.0035, 0.0, -24.186),
            beta=ExpLinear(0.017 * 5.2, -51.25, 5.2),
        ),
    )


class Kv3Potassium(AbstractHHChannel):
    """Kv3.1–Kv3.2-type fast delayed rectifier ``I_Kv3 = g_Kv3 n_kv3^2 (V - E_K)``
    of Erisir et al. (1999), 1/ms:
    ``alpha = (95 - V) / (exp((95 - V) / 11.8) - 1)``,
    ``beta = 0.025 exp(-V / 22.222)``. High threshold (activates above about
    -20 mV), fast deactivation. ``E_K`` is shared with the other K currents."""

    g_Kv3: Float[Array, ""] = maximal_conductance(224.0, "Kv3 K", (5.0, 500.0))
    E_K: Float[Array, ""] = potassium_reversal(-90.0)
    shift_n_kv3: Float[Array, ""] = shift_parameter("n_kv3")
    tau_scale_n_kv3: Float[Array, ""] = tau_scale_parameter("n_kv3")

    gates: ClassVar[tuple[str, ...]] = ("n_kv3",)
    current_name: ClassVar[str] = "I_Kv3"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_K"})
    ion: ClassVar[str | None] = "k"
    conductance: ClassVar[str] = "g_Kv3"
    reversal: ClassVar[str] = "E_K"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = ERISIR_REFERENCE_TEMPERATURE
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "n_kv3",
            2,
            alpha=ExpLinear(11.8, 95.0, 11.8),
            beta=Exponential(0.025, 0.0, -22.222),
        ),
    )
