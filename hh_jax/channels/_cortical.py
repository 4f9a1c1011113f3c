"""Channels of the minimal cortical neuron models of Pospischil et al. (2008),
Biol. Cybern. 99:427–441 (ModelDB 123623): Traub–Miles Na and K currents with a
threshold shift V_T, and a slow non-inactivating M-type K current for
spike-frequency adaptation. (The paper's Ca currents are in ``_calcium.py``.)

Rates follow the authors' NEURON mechanisms (``hh2`` in HH_traub.mod, ``im`` in
IM_cortex.mod): 1/ms at 36 degC, scaled by ``3 ** ((T - 36) / 10)`` (Na, K) and
``2.3 ** ((T - 36) / 10)`` (M). Voltages in mV.
"""

from typing import ClassVar

from jaxtyping import Array, Float

from .._parameter import parameter
from ._gates import Gate, shift_parameter, tau_scale_parameter
from ._hh import AbstractHHChannel
from ._rates import ExpLinear, Exponential, Expression, Sigmoid

CORTICAL_REFERENCE_TEMPERATURE = 36.0  # degC


def _threshold_shift(default: float):
    return parameter(
        default,
        unit="mV",
        doc="threshold shift V_T of the Traub–Miles rates",
        fit_bounds=(-75.0, -40.0),
    )


def potassium_reversal(default: float):
    """Declare the K reversal ``E_K`` (mV), shared by the K channels of a model."""
    return parameter(
        default,
        unit="mV",
        doc="potassium reversal potential",
        fit_bounds=(-110.0, -70.0),
    )


def sodium_reversal(default: float):
    """Declare the Na reversal ``E_Na`` (mV)."""
    return parameter(
        default, unit="mV", doc="sodium reversal potential", fit_bounds=(20.0, 80.0)
    )


def maximal_conductance(default: float, what: str, fit_bounds: tuple[float, float]):
    """Declare a maximal conductance (mS/cm^2, >= 0)."""
    return parameter(
        default,
        unit="mS/cm^2",
        doc=f"maximal {what} conductance",
        minimum=0.0,
        fit_bounds=fit_bounds,
        log_scale=True,
    )


class TraubMilesSodium(AbstractHHChannel):
    """``I_Na = g_Na m^3 h (V - E_Na)`` with the Traub–Miles (1991) rates of
    Pospischil et al. (2008), functions of ``u = V - V_T`` (mV), 1/ms at 36 degC:

    - ``alpha_m = 0.32 (13 - u) / (exp((13 - u) / 4) - 1)``,
      ``beta_m = 0.28 (u - 40) / (exp((u - 40) / 5) - 1)``
    - ``alpha_h = 0.128 exp((17 - u) / 18)``,
      ``beta_h = 4 / (1 + exp((40 - u) / 5))``

    Q10 = 3. ``V_T`` is shared with :class:`TraubMilesPotassium` (one parameter).
    Reference: Pospischil M et al. (2008) Biol Cybern 99:427; Traub RD, Miles R
    (1991) Neuronal Networks of the Hippocampus; ModelDB 123623 (HH_traub.mod).
    """

    g_Na: Float[Array, ""] = maximal_conductance(50.0, "sodium", (5.0, 200.0))
    E_Na: Float[Array, ""] = sodium_reversal(50.0)
    V_T: Float[Array, ""] = _threshold_shift(-55.0)
    shift_m: Float[Array, ""] = shift_parameter("m")
    tau_scale_m: Float[Array, ""] = tau_scale_parameter("m")
    shift_h: Float[Array, ""] = shift_parameter("h")
    tau_scale_h: Float[Array, ""] = tau_scale_parameter("h")

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    current_name: ClassVar[str] = "I_Na"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"V_T"})
    ion: ClassVar[str | None] = "na"
    conductance: ClassVar[str] = "g_Na"
    reversal: ClassVar[str] = "E_Na"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = CORTICAL_REFERENCE_TEMPERATURE
    voltage_offset: ClassVar[tuple[float, str] | None] = (1.0, "V_T")
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate("m", 3, alpha=ExpLinear(1.28, 13.0, 4.0), beta=ExpLinear(1.4, 40.0, -5.0)),
        Gate(
            "h", 1, alpha=Exponential(0.128, 17.0, -18.0), beta=Sigmoid(4.0, 40.0, 5.0)
        ),
    )


class TraubMilesPotassium(AbstractHHChannel):
    """Delayed rectifier ``I_K = g_K n^4 (V - E_K)`` with the Traub–Miles rates of
    Pospischil et al. (2008), ``u = V - V_T`` (mV), 1/ms at 36 degC:
    ``alpha_n = 0.032 (15 - u) / (exp((15 - u) / 5) - 1)``,
    ``beta_n = 0.5 exp((10 - u) / 40)``. Q10 = 3.

    ``V_T`` is shared with the sodium current, ``E_K`` with the other K currents.
    Reference: Pospischil et al. (2008); ModelDB 123623 (HH_traub.mod)."""

    g_K: Float[Array, ""] = maximal_conductance(5.0, "delayed-rectifier K", (0.5, 50.0))
    E_K: Float[Array, ""] = potassium_reversal(-100.0)
    V_T: Float[Array, ""] = _threshold_shift(-55.0)
    shift_n: Float[Array, ""] = shift_parameter("n")
    tau_scale_n: Float[Array, ""] = tau_scale_parameter("n")

    gates: ClassVar[tuple[str, ...]] = ("n",)
    current_name: ClassVar[str] = "I_K"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"V_T", "E_K"})
    ion: ClassVar[str | None] = "k"
    conductance: ClassVar[str] = "g_K"
    reversal: ClassVar[str] = "E_K"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = CORTICAL_REFERENCE_TEMPERATURE
    voltage_offset: ClassVar[tuple[float, str] | None] = (1.0, "V_T")
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "n", 4, alpha=ExpLinear(0.16, 15.0, 5.0), beta=Exponential(0.5, 10.0, -40.0)
        ),
    )


class MCurrent(AbstractHHChannel):
    """Slow non-inactivating K current ``I_M = g_M p (V - E_K)`` (Yamada, Koch &
    Adams 1989, as used by Pospischil et al. 2008), at 36 degC:
    ``p_inf = 1 / (1 + exp(-(V + 35) / 10))``,
    ``tau_p = tau_max / (3.3 exp((V + 35) / 20) + exp(-(V + 35) / 20))`` (ms).
    Q10 = 2.3. ``tau_scale_p`` multiplies ``tau_max`` (keep one of them fixed
    when fitting). Reference: Pospischil et al. (2008); ModelDB 123623
    (IM_cortex.mod)."""

    g_M: Float[Array, ""] = maximal_conductance(0.07, "M-current", (0.0, 1.0))
    tau_max: Float[Array, ""] = parameter(
        1000.0,
        unit="ms",
        doc="peak time constant of the M current",
        strictly_positive=True,
        fit_bounds=(50.0, 3000.0),
    )
    E_K: Float[Array, ""] = potassium_reversal(-100.0)
    shift_p: Float[Array, ""] = shift_parameter("p")
    tau_scale_p: Float[Array, ""] = tau_scale_parameter("p")

    gates: ClassVar[tuple[str, ...]] = ("p",)
    current_name: ClassVar[str] = "I_M"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_K"})
    ion: ClassVar[str | None] = "k"
    conductance: ClassVar[str] = "g_M"
    reversal: ClassVar[str] = "E_K"
    q10: ClassVar[float] = 2.3
    reference_temperature: ClassVar[float] = CORTICAL_REFERENCE_TEMPERATURE
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "p",
            1,
            inf=Sigmoid(1.0, -35.0, 10.0),
            tau=Expression(
                "tau_max / (3.3 * exp((v + 35) / 20) + exp(-(v + 35) / 20))"
            ),
        ),
    )
