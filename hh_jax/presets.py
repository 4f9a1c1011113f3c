"""Named neuron models: subclasses of :class:`~hh_jax.PointNeuron` with
keyword-only constructors and literature defaults.

Each preset is an ordinary PointNeuron (``isinstance(m, hh_jax.PointNeuron)``)
whose type names what it is (``isinstance(m, hh_jax.HodgkinHuxley)``); every
parameter stays addressable by name (``m.replace(g_M=0.1)``). Any keyword may be
an array with a leading batch axis.

- :class:`HodgkinHuxley`: the squid giant axon (reference model).
- :class:`CorticalRegularSpiking`, :class:`CorticalFastSpiking`,
  :class:`CorticalIntrinsicBursting`, :class:`CorticalLowThresholdSpiking`: the
  four minimal cortical cell classes of Pospischil et al. (2008).
- :class:`FastSpikingInterneuron`: Erisir et al. (1999), Na + Kv3 + leak.
- :class:`AdaptingPyramidal`: a pyramidal cell with strong Ca-dependent
  adaptation and an h-current sag (a composition of the library's channels).
"""

from jaxtyping import ArrayLike, Float

from .channels import (
    CalciumActivatedPotassium,
    CalciumPool,
    ErisirSodium,
    HCurrent,
    Kv3Potassium,
    Leak,
    LTypeCalcium,
    MCurrent,
    SquidPotassium,
    SquidSodium,
    TraubMilesPotassium,
    TraubMilesSodium,
    TTypeCalcium,
)
from .model import PointNeuron

Param = Float[ArrayLike, "..."]


class HodgkinHuxley(PointNeuron):
    """The Hodgkin–Huxley squid-axon model (rest at -65 mV).

    **Arguments** (all keyword; any may be an array with a leading batch axis):

    - `g_Na`, `g_K`, `g_L`: maximal conductances, mS/cm^2.
    - `E_Na`, `E_K`, `E_L`: reversal potentials, mV.
    - `C_m`: membrane capacitance, uF/cm^2.
    - `temperature`: degrees Celsius; rates scale by ``3 ** ((T - 6.3) / 10)``.

    Channels ``(SquidSodium, SquidPotassium, Leak)``, gates ``m, h, n``.
    Reference: Hodgkin AL, Huxley AF (1952) J Physiol 117:500.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 120.0,
        g_K: Param = 36.0,
        g_L: Param = 0.3,
        E_Na: Param = 50.0,
        E_K: Param = -77.0,
        E_L: Param = -54.387,
        C_m: Param = 1.0,
        temperature: Param = 6.3,
    ):
        self.channels = (
            SquidSodium(g_Na=g_Na, E_Na=E_Na),
            SquidPotassium(g_K=g_K, E_K=E_K),
            Leak(g_L=g_L, E_L=E_L),
        )
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


def _pospischil_core(g_Na, g_K, g_M, g_L, E_Na, E_K, E_L, V_T, tau_max):
    """Traub–Miles Na and K (shared V_T), the M current, a leak."""
    return (
        TraubMilesSodium(g_Na=g_Na, E_Na=E_Na, V_T=V_T),
        TraubMilesPotassium(g_K=g_K, E_K=E_K, V_T=V_T),
        MCurrent(g_M=g_M, tau_max=tau_max, E_K=E_K),
        Leak(g_L=g_L, E_L=E_L),
    )


class CorticalRegularSpiking(PointNeuron):
    """The regular-spiking cortical pyramidal neuron of Pospischil et al. (2008):
    Traub–Miles Na and K currents (threshold shift `V_T`, mV), a slow M-type K
    current (`g_M`, `tau_max` in ms) for adaptation, and a leak.

    Defaults: the authors' RS cell (ModelDB 123623, sPY_template and
    demo_PY_RS.hoc); conductances mS/cm^2, potentials mV, `C_m` uF/cm^2, 36 degC.
    Gates ``m, h, n, p``. Use: excitatory cells with moderate, slow adaptation.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 50.0,
        g_K: Param = 5.0,
        g_M: Param = 0.07,
        g_L: Param = 0.1,
        E_Na: Param = 50.0,
        E_K: Param = -100.0,
        E_L: Param = -70.0,
        V_T: Param = -55.0,
        tau_max: Param = 1000.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = _pospischil_core(
            g_Na, g_K, g_M, g_L, E_Na, E_K, E_L, V_T, tau_max
        )
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


class CorticalFastSpiking(PointNeuron):
    """The fast-spiking cortical interneuron of Pospischil et al. (2008):
    Traub–Miles Na and K currents and a leak; no adaptation current.

    Defaults: the authors' FS cell (ModelDB 123623, sIN_template and
    demo_IN_FS.hoc): g_Na 50, g_K 10, g_L 0.15 mS/cm^2, E_L -70 mV, V_T -55 mV,
    36 degC. Gates ``m, h, n``. Use: inhibitory cells with little adaptation.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 50.0,
        g_K: Param = 10.0,
        g_L: Param = 0.15,
        E_Na: Param = 50.0,
        E_K: Param = -100.0,
        E_L: Param = -70.0,
        V_T: Param = -55.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = (
            TraubMilesSodium(g_Na=g_Na, E_Na=E_Na, V_T=V_T),
            TraubMilesPotassium(g_K=g_K, E_K=E_K, V_T=V_T),
            Leak(g_L=g_L, E_L=E_L),
        )
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


class CorticalIntrinsicBursting(PointNeuron):
    """The intrinsically bursting pyramidal cell of Pospischil et al. (2008): the
    regular-spiking currents plus the L-type Ca current of Reuveni et al. (1993),
    which gives a burst at the onset of a depolarising step.

    Defaults: the authors' IB cell (ModelDB 123623, sPYb_template and
    demo_PY_IB.hoc): g_Na 50, g_K 5, g_M 0.03, g_CaL 0.17, g_L 0.01 mS/cm^2,
    E_L -85 mV, V_T -55 mV, E_Ca 120 mV (fixed, as in the paper; the ModelDB
    code uses a Nernst potential), 36 degC. With a fixed E_Ca the Ca pool of the
    original code does not act on the dynamics and is left out.
    Gates ``m, h, n, p, q, r``. Use: bursting pyramidal cells.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 50.0,
        g_K: Param = 5.0,
        g_M: Param = 0.03,
        g_CaL: Param = 0.17,
        g_L: Param = 0.01,
        E_Na: Param = 50.0,
        E_K: Param = -100.0,
        E_Ca: Param = 120.0,
        E_L: Param = -85.0,
        V_T: Param = -55.0,
        tau_max: Param = 1000.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = _pospischil_core(
            g_Na, g_K, g_M, g_L, E_Na, E_K, E_L, V_T, tau_max
        ) + (LTypeCalcium(g_CaL=g_CaL, E_Ca=E_Ca),)
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


class CorticalLowThresholdSpiking(PointNeuron):
    """The low-threshold spiking cell of Pospischil et al. (2008): the
    regular-spiking currents plus the T-type Ca current (Destexhe et al. 1996),
    which gives a rebound burst after hyperpolarisation.

    Defaults: the authors' LTS cell (ModelDB 123623, sPYr_template and
    demo_PY_LTS.hoc): g_Na 50, g_K 5, g_M 0.03, g_CaT 0.4, g_L 0.01 mS/cm^2,
    V_T -55 mV, V_x 2 mV, E_Ca 120 mV (fixed), 36 degC, with E_L = -60 mV, the
    value that demo gives for rebound (LTS) behaviour (-85 mV there is its
    bursting setting). The Ca pool is left out (fixed E_Ca).
    Gates ``m, h, n, p, u``. Use: Martinotti-like LTS interneurons, rebound cells.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 50.0,
        g_K: Param = 5.0,
        g_M: Param = 0.03,
        g_CaT: Param = 0.4,
        g_L: Param = 0.01,
        E_Na: Param = 50.0,
        E_K: Param = -100.0,
        E_Ca: Param = 120.0,
        E_L: Param = -60.0,
        V_T: Param = -55.0,
        V_x: Param = 2.0,
        tau_max: Param = 1000.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = _pospischil_core(
            g_Na, g_K, g_M, g_L, E_Na, E_K, E_L, V_T, tau_max
        ) + (TTypeCalcium(g_CaT=g_CaT, E_Ca=E_Ca, V_x=V_x),)
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


class FastSpikingInterneuron(PointNeuron):
    """A fast-spiking (parvalbumin-type) interneuron: the Na and Kv3 currents of
    Erisir et al. (1999) and a leak: narrow spikes, high rates, no adaptation.

    Defaults (Erisir et al. 1999 as given by Börgers 2017): g_Na 112, g_Kv3 224,
    g_L 0.5 mS/cm^2, E_Na 60, E_K -90, E_L -70 mV, C_m 1 uF/cm^2, at 36 degC (the
    channels' assumed reference temperature). Gates ``m, h, n_kv3``.
    """

    def __init__(
        self,
        *,
        g_Na: Param = 112.0,
        g_Kv3: Param = 224.0,
        g_L: Param = 0.5,
        E_Na: Param = 60.0,
        E_K: Param = -90.0,
        E_L: Param = -70.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = (
            ErisirSodium(g_Na=g_Na, E_Na=E_Na),
            Kv3Potassium(g_Kv3=g_Kv3, E_K=E_K),
            Leak(g_L=g_L, E_L=E_L),
        )
        self.C_m = C_m
        self.temperature = temperature
        self.pools = None


class AdaptingPyramidal(PointNeuron):
    """A pyramidal cell with strong spike-frequency adaptation and a sag: the
    regular-spiking currents of Pospischil et al. (2008), an L-type Ca current
    (Reuveni et al. 1993) feeding a Ca pool (Destexhe et al. 1994), a
    Ca-activated K (AHP) current (Destexhe et al. 1994) and an h-current (Kole
    et al. 2006).

    Each channel's kinetics are as published; the conductances and pool
    constants are not from one paper but chosen here so that a step gives an
    progressively adapting train and a hyperpolarising step a sag: g_CaL 0.05,
    g_AHP 0.3, g_Ih 0.1 mS/cm^2, Ca shell depth 0.1 um, Ca removal tau 200 ms;
    the other values are the RS cell's, 36 degC.
    Gates ``m, h, n, p, q, r, m_ahp, m_ih`` and the pool ``Ca_i`` (mM).
    """

    def __init__(
        self,
        *,
        g_Na: Param = 50.0,
        g_K: Param = 5.0,
        g_M: Param = 0.07,
        g_CaL: Param = 0.05,
        g_AHP: Param = 0.3,
        g_Ih: Param = 0.1,
        g_L: Param = 0.1,
        E_Na: Param = 50.0,
        E_K: Param = -100.0,
        E_Ca: Param = 120.0,
        E_Ih: Param = -45.0,
        E_L: Param = -70.0,
        V_T: Param = -55.0,
        tau_max: Param = 1000.0,
        depth_Ca: Param = 0.1,
        tau_Ca: Param = 200.0,
        C_m: Param = 1.0,
        temperature: Param = 36.0,
    ):
        self.channels = _pospischil_core(
            g_Na, g_K, g_M, g_L, E_Na, E_K, E_L, V_T, tau_max
        ) + (
            LTypeCalcium(g_CaL=g_CaL, E_Ca=E_Ca),
            CalciumActivatedPotassium(g_AHP=g_AHP, E_K=E_K),
            HCurrent(g_Ih=g_Ih, E_Ih=E_Ih),
        )
        self.C_m = C_m
        self.temperature = temperature
        self.pools = (CalciumPool(depth_Ca=depth_Ca, tau_Ca=tau_Ca),)
