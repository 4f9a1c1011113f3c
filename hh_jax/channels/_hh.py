"""The base of the library channels: an ohmic current declared by its gates.

A subclass is data: its :class:`~hh_jax.channels.Gate` list (rate forms), the
names of its conductance and reversal parameters, its temperature dependence
(Q10 and the temperature its rates were published for), an optional voltage
offset parameter (the Traub–Miles ``V_T``), and one declared ``shift_<gate>``
(mV) and ``tau_scale_<gate>`` (1) parameter per gate. Rates, the current
``g * prod(x ** power) * (V - E)`` and the per-gate transformation are written
once, here.
"""

from collections.abc import Mapping
from typing import ClassVar

import jax.numpy as jnp

from .._numerics import q10_factor
from .._parameter import parameter_infos
from ._base import AbstractChannel, GateRates, ohmic
from ._gates import Gate, steady_value, transformed_rates


class AbstractHHChannel(AbstractChannel):
    """An ohmic current ``g * prod(gate ** power) * (V - E)`` whose gates are
    declared as rate forms.

    Class variables a subclass sets (besides `gates`, `current_name`, `ion`):

    - `kinetics`: the :class:`~hh_jax.channels.Gate` s, in state order;
      instantaneous gates (``tau=None``) appear here but not in `gates`.
    - `conductance`, `reversal`: names of the parameter fields g (mS/cm^2) and
      E (mV).
    - `q10`, `reference_temperature` (degC): rates are multiplied (time constants
      divided) by ``q10 ** ((T - reference_temperature) / 10)``.
    - `voltage_offset`: ``(sign, name)`` of a parameter subtracted from V before
      the rate forms are evaluated, ``u = V - sign * param`` (e.g. ``(1.0,
      "V_T")``), or None.

    Fields: one ``shift_<gate>`` for each gate whose kinetics depend on V and one
    ``tau_scale_<gate>`` for each non-instantaneous gate (checked when the class
    is created), besides the channel's own parameters. Rate forms of type
    :class:`~hh_jax.channels.Expression` may read any parameter of the channel
    and any state variable listed in `reads` by name.
    """

    q10: ClassVar[float]
    reference_temperature: ClassVar[float]
    voltage_offset: ClassVar[tuple[float, str] | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kinetics" not in cls.__dict__:
            return  # an intermediate abstract class
        missing = [n for n in _required_fields(cls) if not hasattr(cls, n)]
        state_gates = tuple(g.name for g in cls.kinetics if not g.instantaneous)
        if missing or state_gates != tuple(cls.gates):
            raise TypeError(
                f"{cls.__name__}: gates {cls.gates} must be the non-instantaneous "
                f"gates of `kinetics` {state_gates}, and it must declare "
                f"{missing} (shift_parameter / tau_scale_parameter)."
            )

    # -- kinetics -------------------------------------------------------------------

    def temperature_factor(self, temperature):
        """``q10 ** ((T - reference_temperature) / 10)`` (dimensionless)."""
        return q10_factor(temperature, self.reference_temperature, self.q10)

    def _values(self, variables: Mapping) -> dict:
        values = {name: getattr(self, name) for name in parameter_infos(self)}
        values.update(variables)
        return values

    def _shifted(self, V, gate: Gate):
        """``V - sign * offset - shift_<gate>`` (mV)."""
        u = V
        if self.voltage_offset is not None:
            sign, name = self.voltage_offset
            u = u - sign * getattr(self, name)
        if gate.reads_voltage:
            u = u - getattr(self, f"shift_{gate.name}")
        return u

    def gate_rates(self, V, temperature) -> dict[str, GateRates]:
        if self.reads:
            raise TypeError(
                f"the gates of {type(self).__name__} depend on {list(self.reads)}, "
                "not on V alone; use state_rates(V, variables, temperature)."
            )
        return self.state_rates(V, {}, temperature)

    def state_rates(self, V, variables, temperature) -> dict[str, GateRates]:
        phi = self.temperature_factor(temperature)
        values = self._values(variables)
        return {
            g.name: transformed_rates(
                g,
                self._shifted(V, g),
                values,
                phi=phi,
                tau_scale=getattr(self, f"tau_scale_{g.name}"),
            )
            for g in self.kinetics
            if not g.instantaneous
        }

    def steady_gate(self, name: str, V, variables: Mapping | None = None):
        """Steady state of gate `name` at ``V`` (mV), dimensionless (also the
        value of an instantaneous gate)."""
        gate = next(g for g in self.kinetics if g.name == name)
        return steady_value(gate, self._shifted(V, gate), self._values(variables or {}))

    # -- current --------------------------------------------------------------------

    def current(self, V, gates):
        open_fraction = jnp.ones_like(V)
        for g in self.kinetics:
            if g.instantaneous:
                x = steady_value(g, self._shifted(V, g), self._values(gates))
            else:
                x = gates[g.name]
            open_fraction = open_fraction * x**g.power
        return ohmic(
            getattr(self, self.conductance),
            open_fraction,
            V,
            getattr(self, self.reversal),
        )


def _required_fields(cls) -> list[str]:
    names = [cls.conductance, cls.reversal]
    if cls.voltage_offset is not None:
        names.append(cls.voltage_offset[1])
    for g in cls.kinetics:
        if g.reads_voltage:
            names.append(f"shift_{g.name}")
        if not g.instantaneous:
            names.append(f"tau_scale_{g.name}")
    return names
