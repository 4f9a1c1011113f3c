"""Ion concentration pools: state variables that are concentrations, not gates.

A pool is fed by the total current of every channel of the model that carries
its ion (channels declare ``ion``) and is read by channels that list its state
variable in ``reads`` (e.g. the Ca-activated K current reads ``Ca_i``).
Its kinetics are returned in the same linear form as a gate's,
``dx/dt = alpha - (alpha + beta) x``, with ``alpha + beta = 1 / tau``; the
concentration it relaxes to may depend on V and the gates (through the current),
never on itself.
"""

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._parameter import parameter, parameter_infos
from ._base import GateRates, StateInfo

FARADAY = 96485.33212  # C/mol (CODATA 2018)


class AbstractPool(eqx.Module):
    """A concentration state variable fed by the currents of one ion.

    Class variables: `name` (the state variable, unique in a model, e.g.
    ``"Ca_i"``), `ion` (e.g. ``"ca"``), `unit` (e.g. ``"mM"``), `valence`, and
    `shared_parameters` as for channels. Numeric fields are declared with
    :func:`hh_jax.parameter`."""

    name: ClassVar[str]
    ion: ClassVar[str]
    unit: ClassVar[str]
    valence: ClassVar[int]
    shared_parameters: ClassVar[frozenset[str]] = frozenset()
    concentration_range: ClassVar[tuple[float, float]] = (0.0, math.inf)

    @abc.abstractmethod
    def rates(
        self, current: Float[Array, "*shape"], temperature: Float[Array, "..."]
    ) -> GateRates:
        """Kinetics of the concentration given the total outward current density
        of the pool's ion, `current` (uA/cm^2; an inward Ca current is negative),
        at `temperature` (degC)."""

    def state_infos(self) -> dict[str, StateInfo]:
        """Unit and admissible range of the concentration."""
        lower, upper = self.concentration_range
        doc = f"{type(self).__name__} concentration"
        info = StateInfo(self.name, "concentration", self.unit, lower, upper, doc)
        return {self.name: info}

    def parameter_infos(self):
        """Declared parameters of this pool, with units and ranges."""
        return parameter_infos(self)


class CalciumPool(AbstractPool):
    """Submembrane Ca concentration ``Ca_i`` (mM) in a shell of depth `depth_Ca`
    (um) under the membrane, with first-order removal (Destexhe et al. 1994;
    the ``cad`` mechanism used by Pospischil et al. 2008):

    ``dCa_i/dt = max(-10 I_Ca / (2 F depth_Ca), 0) - (Ca_i - Ca_rest) / tau_Ca``

    with ``I_Ca`` the total Ca current (uA/cm^2, outward positive), F the Faraday
    constant (C/mol) and 10 the unit factor to mM/ms. The ``max`` is part of the
    published model (the influx term cannot pump Ca out); with a fixed ``E_Ca``
    above the membrane potential the Ca current is inward and it never binds.

    Defaults are those of the Pospischil et al. (2008) bursting and LTS cells
    (ModelDB 123623, sPYb/sPYr templates): depth 1 um, tau 5 ms, rest 2.4e-4 mM.
    Reference: Destexhe A, Babloyantz A, Sejnowski TJ (1993) Biophys J 65:1538;
    Destexhe A, Contreras D, Sejnowski TJ, Steriade M (1994) J Neurophysiol
    72:803; ModelDB 123623 (cadecay_destexhe.mod)."""

    depth_Ca: Float[Array, ""] = parameter(
        1.0,
        unit="um",
        doc="depth of the submembrane Ca shell",
        strictly_positive=True,
        fit_bounds=(0.05, 5.0),
    )
    tau_Ca: Float[Array, ""] = parameter(
        5.0,
        unit="ms",
        doc="time constant of Ca removal",
        strictly_positive=True,
        fit_bounds=(1.0, 1000.0),
    )
    Ca_rest: Float[Array, ""] = parameter(
        2.4e-4,
        unit="mM",
        doc="resting intracellular Ca concentration",
        minimum=0.0,
        fit_bounds=(1e-5, 1e-3),
    )

    name: ClassVar[str] = "Ca_i"
    ion: ClassVar[str] = "ca"
    unit: ClassVar[str] = "mM"
    valence: ClassVar[int] = 2

    def influx(self, current: Float[Array, "..."]) -> Float[Array, "..."]:
        """Rate of rise (mM/ms) from a Ca current density (uA/cm^2)."""
        drive = -10.0 * current / (self.valence * FARADAY * self.depth_Ca)
        return jnp.maximum(drive, 0.0)

    def rates(self, current, temperature) -> GateRates:
        steady = self.Ca_rest + self.tau_Ca * self.influx(current)
        return GateRates.from_steady_state(steady, self.tau_Ca)
