"""The hyperpolarisation-activated cation current I_h (HCN channels): the sag
and rebound of pyramidal cells under hyperpolarising current."""

from typing import ClassVar

from jaxtyping import Array, Float

from .._parameter import parameter
from ._cortical import maximal_conductance
from ._gates import Gate, shift_parameter, tau_scale_parameter
from ._hh import AbstractHHChannel
from ._rates import ExpLinear, Exponential


class HCurrent(AbstractHHChannel):
    """``I_h = g_Ih m_ih (V - E_Ih)`` with the rates of Kole, Hallermann & Stuart
    (2006) for layer 5 pyramidal neurons, in 1/ms:

    - ``alpha = 0.001 * 6.43 (V + 154.9) / (exp((V + 154.9) / 11.9) - 1)``
    - ``beta = 0.001 * 193 exp(V / 33.1)``

    ``E_Ih = -45`` mV. The published mechanism (Hay et al. 2011, ModelDB 139653,
    Ih.mod) has no temperature dependence and was run at 34 degC; hh_jax takes
    34 degC as the reference temperature and assumes Q10 = 3 away from it.
    Carries no single ion (``ion`` is None). The default ``g_Ih`` (0.1
    mS/cm^2) is the :class:`~hh_jax.AdaptingPyramidal` value, chosen there.
    Reference: Kole MHP, Hallermann S, Stuart GJ (2006) J Neurosci 26:1677;
    Hay E et al. (2011) PLoS Comput Biol 7:e1002107."""

    g_Ih: Float[Array, ""] = maximal_conductance(0.1, "I_h", (0.0, 1.0))
    E_Ih: Float[Array, ""] = parameter(
        -45.0, unit="mV", doc="reversal potential of I_h", fit_bounds=(-60.0, -20.0)
    )
    shift_m_ih: Float[Array, ""] = shift_parameter("m_ih")
    tau_scale_m_ih: Float[Array, ""] = tau_scale_parameter("m_ih")

    gates: ClassVar[tuple[str, ...]] = ("m_ih",)
    current_name: ClassVar[str] = "I_h"
    conductance: ClassVar[str] = "g_Ih"
    reversal: ClassVar[str] = "E_Ih"
    q10: ClassVar[float] = 3.0
    reference_temperature: ClassVar[float] = 34.0
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "m_ih",
            1,
            alpha=ExpLinear(0.001 * 6.43 * 11.9, -154.9, -11.9),
            beta=Exponential(0.001 * 193.0, 0.0, 33.1),
        ),
    )
