"""A channel's declared kinetics, read once for every exporter, and checked
against what the channel computes.

Exporters write a channel from its class data (``kinetics``, ``conductance``,
``reversal``, ``q10``, ``reference_temperature``, ``voltage_offset``, the
``shift_<gate>`` and ``tau_scale_<gate>`` fields). A channel whose own
``state_rates`` or ``current`` differ from that description (a hand-written
channel with other kinetics than it declares) would be exported wrongly, so
:func:`declared_channel` evaluates both on a voltage grid and raises if they
disagree.
"""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from .._numerics import q10_factor
from .._parameter import parameter_infos
from ..channels import AbstractChannel, Gate
from ..channels._gates import steady_value, transformed_rates

# Relative agreement required between the declaration and the channel (float64:
# the squid rates' shared-exponential evaluation differs by ~40 ulp, 1e-14).
_AGREEMENT = 1e-9
_CHECK_V = np.concatenate([np.linspace(-120.0, 60.0, 37), [-40.0, -55.0, -35.0]])


@dataclasses.dataclass(frozen=True)
class DeclaredGate:
    """One gate as an exporter writes it: the rate forms (`gate`), whether a
    ``shift_<name>`` (mV) and a ``tau_scale_<name>`` (1) parameter apply."""

    gate: Gate
    shifted: bool
    scaled: bool

    @property
    def name(self) -> str:
        return self.gate.name


@dataclasses.dataclass(frozen=True)
class DeclaredChannel:
    """A channel reduced to data: class name, ion (or None), conductance and
    reversal parameter names, every parameter by name (`values` of this channel
    and the class `defaults`, in `units`), gates, temperature dependence,
    voltage offset and the state variables it reads."""

    name: str
    ion: str | None
    current_name: str
    conductance: str
    reversal: str
    values: dict[str, float]
    defaults: dict[str, float]
    units: dict[str, str]
    gates: tuple[DeclaredGate, ...]
    q10: float | None
    reference_temperature: float | None
    voltage_offset: tuple[float, str] | None
    reads: tuple[str, ...]

    @property
    def parameters(self) -> dict[str, float]:
        """Every parameter except the conductance, by name."""
        return {k: v for k, v in self.values.items() if k != self.conductance}


def _scalar(channel, name: str) -> float:
    value = np.asarray(getattr(channel, name))
    if value.shape != ():
        raise ValueError(
            f"{type(channel).__name__}.{name} has shape {value.shape}: export "
            "needs one cell (scalar parameters), not a batch."
        )
    return float(value)


def declared_channel(channel: AbstractChannel, temperature: float) -> DeclaredChannel:
    """The declaration of `channel`, checked against its own rates and current
    at `temperature` (degC). Raises ``NotImplementedError`` naming the channel if
    it declares no kinetics (or they are not what it computes)."""
    if not math.isfinite(temperature):
        raise ValueError(f"`temperature` must be finite (degC); got {temperature}.")
    cls = type(channel)
    name = cls.__name__
    if cls.conductance is None or cls.reversal is None:
        raise NotImplementedError(
            f"{name} does not declare `conductance` and `reversal`: only ohmic "
            "channels described by rate forms can be exported."
        )
    if channel.gates and not cls.kinetics:
        raise NotImplementedError(
            f"{name} declares no `kinetics` (rate forms): its gates cannot be exported."
        )
    values = {n: _scalar(channel, n) for n in parameter_infos(channel)}
    gates = tuple(
        DeclaredGate(
            g,
            shifted=g.reads_voltage and f"shift_{g.name}" in values,
            scaled=not g.instantaneous and f"tau_scale_{g.name}" in values,
        )
        for g in cls.kinetics
    )
    declared = DeclaredChannel(
        name=name,
        ion=cls.ion,
        current_name=cls.current_name,
        conductance=cls.conductance,
        reversal=cls.reversal,
        values=values,
        defaults={n: float(i.default) for n, i in parameter_infos(cls).items()},
        units={n: i.unit for n, i in parameter_infos(cls).items()},
        gates=gates,
        q10=cls.q10,
        reference_temperature=cls.reference_temperature,
        voltage_offset=getattr(cls, "voltage_offset", None),
        reads=tuple(cls.reads),
    )
    _check(channel, declared, temperature)
    return declared


# -- evaluation of a declaration (the exporters' reading of it) ---------------------


def shifted_voltage(declared: DeclaredChannel, dg: DeclaredGate, V):
    """``V - sign * offset - shift_<gate>`` (mV), as the exporters write it."""
    u = V
    if declared.voltage_offset is not None:
        sign, name = declared.voltage_offset
        u = u - sign * declared.values[name]
    if dg.shifted:
        u = u - declared.values[f"shift_{dg.name}"]
    return u


def temperature_factor(declared: DeclaredChannel, temperature: float) -> float:
    """``q10 ** ((T - T_ref) / 10)``; 1 for a temperature-independent channel."""
    if declared.q10 is None:
        return 1.0
    return float(q10_factor(temperature, declared.reference_temperature, declared.q10))


def declared_rates(declared: DeclaredChannel, V, variables: dict, temperature: float):
    """Rates (alpha, beta in 1/ms) of each non-instantaneous gate, by name."""
    phi = temperature_factor(declared, temperature)
    scope = {**declared.values, **variables}
    out = {}
    for dg in declared.gates:
        if dg.gate.instantaneous:
            continue
        scale = declared.values[f"tau_scale_{dg.name}"] if dg.scaled else 1.0
        u = shifted_voltage(declared, dg, V)
        out[dg.name] = transformed_rates(
            dg.gate, u, scope, phi=jnp.asarray(phi), tau_scale=jnp.asarray(scale)
        )
    return out


def declared_current(declared: DeclaredChannel, V, gates: dict):
    """``g * prod(x ** power) * (V - E)`` (uA/cm^2), instantaneous gates at their
    steady state."""
    scope = {**declared.values, **gates}
    open_fraction = jnp.ones_like(V)
    for dg in declared.gates:
        if dg.gate.instantaneous:
            x = steady_value(dg.gate, shifted_voltage(declared, dg, V), scope)
        else:
            x = gates[dg.name]
        open_fraction = open_fraction * x**dg.gate.power
    g, E = declared.values[declared.conductance], declared.values[declared.reversal]
    return g * open_fraction * (V - E)


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(np.abs(a - b) <= _AGREEMENT * scale + 1e-300))


def _check(channel, declared: DeclaredChannel, temperature: float) -> None:
    V = jnp.asarray(_CHECK_V)
    rng = np.random.default_rng(0)
    variables = {
        r: jnp.asarray(rng.uniform(1e-5, 0.05, V.shape)) for r in declared.reads
    }
    gates = {g: jnp.asarray(rng.uniform(0.05, 0.95, V.shape)) for g in channel.gates}
    mine = declared_rates(declared, V, variables, temperature)
    theirs = channel.state_rates(V, {**variables, **gates}, jnp.asarray(temperature))
    if set(mine) != set(theirs):
        raise NotImplementedError(
            f"{declared.name}: its gates {sorted(theirs)} are not the dynamic gates "
            f"of its declared kinetics {sorted(mine)}."
        )
    for g in mine:
        if not (
            _close(mine[g].alpha, theirs[g].alpha)
            and _close(mine[g].beta, theirs[g].beta)
        ):
            raise NotImplementedError(
                f"{declared.name}: the rates of gate {g!r} it computes differ from "
                "its declared rate forms, which are what an exporter writes."
            )
    I_mine = declared_current(declared, V, {**variables, **gates})
    I_theirs = channel.current(V, {**variables, **gates})
    if not _close(I_mine, I_theirs):
        raise NotImplementedError(
            f"{declared.name}: its current differs from the declared ohmic form "
            f"{declared.conductance} * prod(gate^power) * (V - {declared.reversal})."
        )
