"""Calcium currents and the Ca-activated K current.

- :class:`LTypeCalcium`: high-threshold L-type current of Reuveni et al. (1993),
  as used by Pospischil et al. (2008) for intrinsically bursting cells.
- :class:`TTypeCalcium`: low-threshold T-type current of Destexhe et al. (1996) /
  Huguenard & McCormick (1992), as used by Pospischil et al. (2008) for
  low-threshold spiking cells.
- :class:`CalciumActivatedPotassium`: the slow AHP current of Destexhe et al.
  (1994), gated by the intracellular Ca concentration ``Ca_i`` (mM) of a
  :class:`~hh_jax.channels.CalciumPool`.

Calcium reversal: a fixed ``E_Ca`` (default 120 mV, the value Pospischil et al.
use), shared by the Ca currents of a model. (The ModelDB mechanisms compute a
Nernst potential from the pool instead; at the resting 2.4e-4 mM it is 120 mV.)
A fixed reversal keeps the Ca currents independent of ``Ca_i``, so the joint
steady state of gates and pool is explicit.
"""

from typing import ClassVar

from jaxtyping import Array, Float

from .._parameter import parameter
from ._cortical import maximal_conductance, potassium_reversal
from ._gates import Gate, shift_parameter, tau_scale_parameter
from ._hh import AbstractHHChannel
from ._rates import ExpLinear, Exponential, Expression, Sigmoid


def calcium_reversal(default: float = 120.0):
    """Declare the Ca reversal ``E_Ca`` (mV), shared by the Ca currents."""
    return parameter(
        default,
        unit="mV",
        doc="calcium reversal potential (fixed)",
        fit_bounds=(50.0, 150.0),
    )


class LTypeCalcium(AbstractHHChannel):
    """High-threshold L-type Ca current ``I_CaL = g_CaL q^2 r (V - E_Ca)``
    (Reuveni et al. 1993, the form of Pospischil et al. 2008), 1/ms at 36 degC:

    - ``alpha_q = 0.055 (-27 - V) / (exp((-27 - V) / 3.8) - 1)``,
      ``beta_q = 0.94 exp((-75 - V) / 17)``
    - ``alpha_r = 0.000457 exp((-13 - V) / 50)``,
      ``beta_r = 0.0065 / (exp((-15 - V) / 28) + 1)``

    The ModelDB mechanism has no temperature dependence ("rates correspond to 36
    degC"); hh_jax applies Q10 = 3 about 36 degC (the value its commented-out
    line uses), so at 36 degC the rates are exactly as published.
    Reference: Reuveni I, Friedman A, Amitai Y, Gutnick MJ (1993) J Neurosci
    13:4609; Pospischil et al. (2008) Biol Cybern 99:427; ModelDB 123623
    (IL_gutnick.mod)."""

    g_CaL: Float[Array, ""] = maximal_conductance(0.1, "L-type Ca", (0.0, 1.0))
    E_Ca: Float[Array, ""] = calcium_reversal()
    shift_q: Float[Array, ""] = shift_parameter("q")
    tau_scale_q: Float[Array, ""] = tau_scale_parameter("q")
    shift_r: Float[Array, ""] = shift_parameter("r")
    tau_scale_r: Float[Array, ""] = tau_scale_parameter("r")

    gates: ClassVar[tuple[str, ...]] = ("q", "r")
    current_name: ClassVar[str] = "I_CaL"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_Ca"})
    ion: ClassVar[str | None] = "ca"
    conductance: ClassVar[str] = "g_CaL"
    reversal: ClassVar[str] = "E_Ca"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = 36.0
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "q",
            2,
            alpha=ExpLinear(0.055 * 3.8, -27.0, 3.8),
            beta=Exponential(0.94, -75.0, -17.0),
        ),
        Gate(
            "r",
            1,
            alpha=Exponential(0.000457, -13.0, -50.0),
            beta=Sigmoid(0.0065, -15.0, 28.0),
        ),
    )


class TTypeCalcium(AbstractHHChannel):
    """Low-threshold T-type Ca current ``I_CaT = g_CaT s_inf^2 u (V - E_Ca)``
    (Destexhe et al. 1996 after Huguenard & McCormick 1992, the form of
    Pospischil et al. 2008), with ``W = V + V_x`` (mV):

    - ``s_inf = 1 / (1 + exp(-(W + 57) / 6.2))`` (instantaneous activation)
    - ``u_inf = 1 / (1 + exp((W + 81) / 4))``,
      ``tau_u = 30.8 + (211.4 + exp((W + 113.2) / 5)) / (1 + exp((W + 84) / 3.2))``
      ms at 24 degC, Q10 = 3.

    At 36 degC tau_u is divided by ``3 ** 1.2 = 3.737``, as in the ModelDB
    mechanism (the paper rounds the factor to 3.7). ``V_x`` (default 2 mV, the
    mechanism's screening-charge shift; Pospischil's fitted LTS cell uses
    -7 mV) moves both curves; ``shift_s``, ``shift_u`` move each one.
    Reference: Destexhe A, Contreras D, Steriade M, Sejnowski TJ, Huguenard JR
    (1996) J Neurosci 16:169; Huguenard JR, McCormick DA (1992) J Neurophysiol
    68:1373; Pospischil et al. (2008); ModelDB 123623 (IT_huguenard.mod)."""

    g_CaT: Float[Array, ""] = maximal_conductance(0.4, "T-type Ca", (0.0, 5.0))
    E_Ca: Float[Array, ""] = calcium_reversal()
    V_x: Float[Array, ""] = parameter(
        2.0,
        unit="mV",
        doc="voltage shift V_x of the T-type Ca kinetics",
        fit_bounds=(-15.0, 15.0),
    )
    shift_s: Float[Array, ""] = shift_parameter("s")
    shift_u: Float[Array, ""] = shift_parameter("u")
    tau_scale_u: Float[Array, ""] = tau_scale_parameter("u")

    gates: ClassVar[tuple[str, ...]] = ("u",)
    current_name: ClassVar[str] = "I_CaT"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_Ca"})
    ion: ClassVar[str | None] = "ca"
    conductance: ClassVar[str] = "g_CaT"
    reversal: ClassVar[str] = "E_Ca"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = 24.0
    voltage_offset: ClassVar[tuple[float, str] | None] = (-1.0, "V_x")
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate("s", 2, inf=Sigmoid(1.0, -57.0, 6.2)),
        Gate(
            "u",
            1,
            inf=Sigmoid(1.0, -81.0, -4.0),
            tau=Expression(
                "30.8 + (211.4 + exp((v + 113.2) / 5)) / (1 + exp((v + 84) / 3.2))"
            ),
        ),
    )


class CalciumActivatedPotassium(AbstractHHChannel):
    """Slow Ca-activated K (AHP, SK-type) current ``I_AHP = g_AHP m_ahp^2 (V - E_K)``
    (Destexhe et al. 1994): the gate binds two Ca ions,
    ``dm/dt = alpha Ca_i^2 (1 - m) - beta m`` with ``beta = 0.03`` 1/ms and
    ``alpha = beta / Ca_half_ahp^2`` (``Ca_half_ahp = 0.025`` mM, i.e. alpha = 48
    1/(ms mM^2)), at 22 degC, Q10 = 3. Voltage independent, so it has no shift
    parameter: ``Ca_half_ahp`` (mM) plays that role. Needs a model with a
    :class:`~hh_jax.channels.CalciumPool` (state variable ``Ca_i``).

    The NEURON mechanisms add a floor on the time constant (0.1 ms); the paper's
    equation has none, nor has this class. The default ``g_AHP`` (0.3 mS/cm^2)
    is the :class:`~hh_jax.AdaptingPyramidal` value, chosen there, not published.
    Reference: Destexhe A, Contreras D, Sejnowski TJ, Steriade M (1994)
    J Neurophysiol 72:803 (ModelDB iahp.mod)."""

    g_AHP: Float[Array, ""] = maximal_conductance(0.3, "Ca-activated K", (0.0, 5.0))
    E_K: Float[Array, ""] = potassium_reversal(-100.0)
    Ca_half_ahp: Float[Array, ""] = parameter(
        0.025,
        unit="mM",
        doc="Ca concentration of half activation of the AHP current",
        strictly_positive=True,
        fit_bounds=(1e-4, 0.1),
    )
    tau_scale_m_ahp: Float[Array, ""] = tau_scale_parameter("m_ahp")

    gates: ClassVar[tuple[str, ...]] = ("m_ahp",)
    current_name: ClassVar[str] = "I_AHP"
    shared_parameters: ClassVar[frozenset[str]] = frozenset({"E_K"})
    ion: ClassVar[str | None] = "k"
    reads: ClassVar[tuple[str, ...]] = ("Ca_i",)
    conductance: ClassVar[str] = "g_AHP"
    reversal: ClassVar[str] = "E_K"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = 22.0
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "m_ahp",
            2,
            alpha=Expression("0.03 * (Ca_i / Ca_half_ahp) ** 2"),
            beta=Expression("0.03"),
        ),
    )
