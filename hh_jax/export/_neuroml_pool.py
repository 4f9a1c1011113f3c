"""The Ca pool in NeuroML 2: NeuroML's ``fixedFactorConcentrationModel``.

hh_jax's :class:`~hh_jax.channels.CalciumPool` is a planar shell of depth d
under a membrane patch:

``dCa/dt = max(-10 I_Ca / (2 F d), 0) - (Ca - Ca_rest) / tau_Ca``

(mM/ms, I_Ca outward uA/cm^2, d um). NeuroML's ``fixedFactorConcentrationModel``
is ``dC/dt = (iCa / surfaceArea) * rho - (C - restingConc) / decayConstant``
with iCa the inward Ca current, so with ``rho = 1 / (2 F d)`` (written in
``mol_per_m_per_A_per_s``, SI) it is the same equation without the ``max``.
(``decayingPoolConcentrationModel`` is a spherical shell whose volume depends
on the cell's radius: a different equation.) The ``max`` binds only while the
Ca current is outward, i.e. while V exceeds the fixed reversal ``E_Ca``
(120 mV by default), so on every trajectory with V < E_Ca the two agree.

An imported ``fixedFactorConcentrationModel`` becomes a
:class:`FixedFactorCalciumPool`: NeuroML's equation, without the ``max``.
"""

import math

import jax.numpy as jnp

from ..channels import CalciumPool
from ..channels._pool import FARADAY
from ._lems import lems_number
from ._neuroml_units import quantity, written

# unit of rho -> factor to SI (mol / (m A s)); NeuroMLCoreDimensions.xml
_RHO_UNITS = {
    "mol_per_m_per_A_per_s": 1.0,
    "mol_per_cm_per_uA_per_ms": 1e11,
    "umol_per_cm_per_nA_per_ms": 1e8,
}
RHO_UNIT = "mol_per_m_per_A_per_s"


class FixedFactorCalciumPool(CalciumPool):
    """A :class:`~hh_jax.channels.CalciumPool` read from NeuroML's
    ``fixedFactorConcentrationModel``: the influx ``-10 I_Ca / (2 F depth_Ca)``
    (mM/ms) is not clipped at 0, as in NeuroML."""

    def influx(self, current):
        return -10.0 * current / (self.valence * FARADAY * self.depth_Ca)


def rho_si(depth_um: float) -> float:
    """``1 / (2 F d)`` in mol/(m A s) for a shell depth `depth_um` (um)."""
    return 1.0 / (2.0 * FARADAY * depth_um * 1e-6)


def depth_um(rho_text: str, what: str) -> float:
    """The shell depth (um) of a NeuroML ``rho`` quantity."""
    text = str(rho_text).strip()
    for unit, factor in _RHO_UNITS.items():
        if text.endswith(unit):
            value = quantity(text[: -len(unit)], "1", what) * factor
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{what}: rho must be > 0; got {rho_text!r}.")
            return 1e6 / (2.0 * FARADAY * value)
    raise ValueError(
        f"{what}: unit of rho {rho_text!r} is not one of {sorted(_RHO_UNITS)}."
    )


def pool_note(pool) -> str:
    """What the pool element cannot say (jLEMS refuses notes inside it)."""
    depth = float(jnp.asarray(pool.depth_Ca))
    return (
        f"Ca pool: hh_jax {type(pool).__name__}, depth_Ca {depth!r} um, written as "
        "a fixedFactorConcentrationModel with rho = 1 / (2 F depth_Ca), F = "
        "96485.33212 C/mol; hh_jax clips the influx at 0 (only while V > E_Ca), "
        "NeuroML does not."
    )


def pool_element(neuroml, pool, pool_id: str):
    """The ``fixedFactorConcentrationModel`` of `pool` (a CalciumPool)."""
    if not isinstance(pool, CalciumPool):
        raise NotImplementedError(
            f"{type(pool).__name__}: only hh_jax.channels.CalciumPool can be "
            "written as a NeuroML concentration model."
        )
    depth = float(jnp.asarray(pool.depth_Ca))
    return neuroml.FixedFactorConcentrationModel(
        id=pool_id,
        ion="ca",
        resting_conc=written(float(jnp.asarray(pool.Ca_rest)), "mM"),
        decay_constant=written(float(jnp.asarray(pool.tau_Ca)), "ms"),
        rho=f"{lems_number(rho_si(depth))}{RHO_UNIT}",
    )


def pool_from_element(element) -> FixedFactorCalciumPool:
    """A NeuroML ``fixedFactorConcentrationModel`` of Ca as an hh_jax pool."""
    what = f"concentration model {element.id!r}"
    if element.ion != "ca":
        raise NotImplementedError(f"{what}: ion {element.ion!r}; hh_jax pools Ca.")
    return FixedFactorCalciumPool(
        depth_Ca=depth_um(element.rho, f"{what} rho"),
        tau_Ca=quantity(element.decay_constant, "ms", f"{what} decayConstant"),
        Ca_rest=quantity(element.resting_conc, "mM", f"{what} restingConc"),
    )
