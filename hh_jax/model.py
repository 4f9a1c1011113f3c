"""Single-compartment conductance-based neurons and their state.

A :class:`PointNeuron` is a membrane capacitance, a temperature and a tuple of
channels. Its state is a :class:`State`: the membrane potential and one entry per
gate. Both are Equinox modules, so ``jit``, ``vmap`` and ``grad`` apply directly.

Units: V in mV, t in ms, currents in uA/cm^2, conductances in mS/cm^2,
capacitance in uF/cm^2, temperature in degrees Celsius.
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import concrete, describe_bad
from ._parameter import ParameterInfo, as_float_array, parameter, parameter_infos
from .channels import AbstractChannel, GateRates, Leak, SquidPotassium, SquidSodium


def _float_dict(gates) -> dict:
    return {name: as_float_array(x) for name, x in dict(gates).items()}


class State(eqx.Module):
    """Membrane potential ``V`` (mV) and gating variables (dimensionless, in [0, 1]).

    Gates are stored by name in `gates`; each is also readable as an attribute,
    so ``state.m`` is ``state.gates["m"]``. Fields may carry leading batch axes.
    """

    V: Float[Array, "*batch"] = eqx.field(converter=as_float_array)
    gates: dict[str, Float[Array, "*batch"]] = eqx.field(converter=_float_dict)

    def __getattr__(self, name: str):
        if name.startswith("_") or name in type(self).__dataclass_fields__:
            raise AttributeError(name)
        try:
            return self.gates[name]
        except KeyError:
            raise AttributeError(
                f"State has no field or gate {name!r}; gates: {sorted(self.gates)}"
            ) from None

    def to_array(self, gate_names: Sequence[str]) -> Float[Array, "*batch n"]:
        """Stack as ``[V, gate_1, gate_2, ...]`` along a new last axis."""
        return jnp.stack([self.V] + [self.gates[g] for g in gate_names], axis=-1)

    @classmethod
    def from_array(
        cls,
        y: Float[ArrayLike, "*batch n"] | Sequence[float],
        gate_names: Sequence[str],
    ) -> "State":
        """Inverse of :meth:`to_array`: ``y[..., 0]`` is V, then the gates in order."""
        y = jnp.asarray(y)
        if y.shape[-1] != 1 + len(gate_names):
            raise ValueError(
                f"an initial state array needs {1 + len(gate_names)} entries "
                f"[V (mV), {', '.join(gate_names)}], got {y.shape[-1]}."
            )
        gates = {g: y[..., i + 1] for i, g in enumerate(gate_names)}
        return cls(V=y[..., 0], gates=gates)


class PointNeuron(eqx.Module):
    """A single-compartment neuron: ``C_m dV/dt = I_ext - sum(channel currents)``.

    **Fields:**

    - `channels`: the ionic currents (instances of
      :class:`hh_jax.channels.AbstractChannel`).
    - `C_m`: membrane capacitance, uF/cm^2.
    - `temperature`: degrees Celsius; each channel scales its rates from it.

    Every numeric field of the model and of its channels is a JAX array, so the
    whole model can be differentiated, vmapped (give a field a leading axis) and
    passed through ``jit`` without recompiling for new values.

    Parameters are addressed by their name, which is unique across the model (e.g.
    ``"g_Na"``, ``"C_m"``): see :meth:`parameter_infos`, :meth:`get` and
    :meth:`replace`; ``model.g_Na`` reads a value directly.
    """

    channels: tuple[AbstractChannel, ...]
    C_m: Float[Array, ""] = parameter(
        1.0,
        unit="uF/cm^2",
        doc="specific membrane capacitance",
        strictly_positive=True,
        fit_bounds=(0.3, 3.0),
    )
    temperature: Float[Array, ""] = parameter(
        6.3, unit="degC", doc="temperature", fit_bounds=(0.0, 40.0)
    )

    def __check_init__(self):
        if not isinstance(self.channels, tuple) or not all(
            isinstance(c, AbstractChannel) for c in self.channels
        ):
            raise TypeError("`channels` must be a tuple of AbstractChannel instances.")
        seen_gates: dict[str, str] = {}
        for ch in self.channels:
            for g in ch.gates:
                if g in seen_gates:
                    raise ValueError(
                        f"gate name {g!r} is used by both {seen_gates[g]} and "
                        f"{type(ch).__name__}; gate names must be unique in a model."
                    )
                seen_gates[g] = type(ch).__name__
        holders: dict[str, list[AbstractChannel]] = {}
        for owner in (self, *self.channels):
            for name in parameter_infos(owner):
                holders.setdefault(name, []).append(owner)
        for name, owners in holders.items():
            if len(owners) > 1 and not all(
                isinstance(o, AbstractChannel) and name in o.shared_parameters
                for o in owners
            ):
                kinds = ", ".join(type(o).__name__ for o in owners)
                raise ValueError(
                    f"parameter name {name!r} appears in {kinds}; names must be "
                    "unique unless every channel declares it shared."
                )
        self.check_values()

    # -- parameters by name -------------------------------------------------------

    def parameter_infos(self) -> dict[str, ParameterInfo]:
        """Every parameter of the model by name, with unit, range and description."""
        infos = dict(parameter_infos(self))
        for ch in self.channels:
            infos.update(parameter_infos(ch))
        return infos

    def _locations(self, name: str):
        """Getters for every leaf that carries parameter `name`."""
        if name in parameter_infos(self):
            return [lambda m, n=name: getattr(m, n)]
        getters = [
            lambda m, i=i, n=name: getattr(m.channels[i], n)
            for i, ch in enumerate(self.channels)
            if name in parameter_infos(ch)
        ]
        if not getters:
            raise KeyError(
                f"model has no parameter {name!r}; it has: "
                f"{', '.join(self.parameter_infos())}"
            )
        return getters

    def get(self, name: str) -> Float[Array, "*batch"]:
        """Value of parameter `name` (for a shared name, its first holder)."""
        return self._locations(name)[0](self)

    def parameters(self) -> dict[str, Float[Array, "*batch"]]:
        """All parameter values by name."""
        return {name: self.get(name) for name in self.parameter_infos()}

    def replace(self, **values: Float[ArrayLike, "*batch"]) -> "PointNeuron":
        """A copy with the named parameters set (shared names set everywhere).

        ``model.replace(g_Na=100.0, g_K=jnp.linspace(20, 40, 8))`` — values in the
        parameter's unit; arrays with a leading axis make a batched model.
        """
        getters, new = [], []
        for name, value in values.items():
            for get in self._locations(name):
                getters.append(get)
                new.append(as_float_array(value))
        if not getters:
            return self
        model = eqx.tree_at(lambda m: tuple(g(m) for g in getters), self, tuple(new))
        model.check_values()
        return model

    def __getattr__(self, name: str):
        if name.startswith("_") or name in type(self).__dataclass_fields__:
            raise AttributeError(name)
        try:
            return self.get(name)
        except KeyError as err:
            raise AttributeError(str(err)) from None

    def check_values(self) -> None:
        """Raise ``ValueError`` if a concrete parameter is outside its physical range
        (e.g. a negative conductance, a non-positive capacitance, NaN)."""
        for owner in (self, *self.channels):
            for name, info in parameter_infos(owner).items():
                value = concrete(getattr(owner, name))
                if value is None:
                    continue
                ok = np.asarray(info.admissible(value))
                if not np.all(ok):
                    raise ValueError(
                        f"parameter `{name}` ({info.doc}) must be "
                        f"{info.requirement()}; {describe_bad(value, ok)}."
                    )

    def invalid_parameters(self) -> Array:
        """Boolean (batch-shaped) array: True where any parameter is out of range.

        Usable under ``jit``/``vmap``, where :meth:`check_values` cannot look."""
        bad = jnp.asarray(False)
        for owner in (self, *self.channels):
            for name, info in parameter_infos(owner).items():
                bad = bad | ~info.admissible(getattr(owner, name))
        return bad

    def defaults_where(self, mask: Array) -> "PointNeuron":
        """A copy in which every parameter is replaced by its default where `mask`
        is True (used to park invalid members of a batch on harmless values)."""

        def park(owner):
            infos = parameter_infos(owner)
            return eqx.tree_at(
                lambda o: tuple(getattr(o, n) for n in infos),
                owner,
                tuple(
                    jnp.where(mask, info.default, getattr(owner, n))
                    for n, info in infos.items()
                ),
            )

        model = park(self)
        return eqx.tree_at(
            lambda m: m.channels, model, tuple(park(ch) for ch in model.channels)
        )

    # -- dynamics -----------------------------------------------------------------

    @property
    def gate_names(self) -> tuple[str, ...]:
        """All gate names, in channel order."""
        return tuple(g for ch in self.channels for g in ch.gates)

    @property
    def current_names(self) -> tuple[str, ...]:
        """Names of the channel currents, e.g. ``("I_Na", "I_K", "I_L")``."""
        return tuple(ch.current_name for ch in self.channels)

    def gate_rates(self, V: Float[ArrayLike, "*shape"]) -> dict[str, GateRates]:
        """Rates (1/ms) of every gate at potential ``V`` (mV)."""
        V = jnp.asarray(V)
        rates: dict[str, GateRates] = {}
        for ch in self.channels:
            rates.update(ch.gate_rates(V, self.temperature))
        return rates

    def currents(self, state: State) -> dict[str, Float[Array, "*shape"]]:
        """Each channel's outward current density (uA/cm^2) in `state`."""
        return {
            ch.current_name: ch.current(state.V, state.gates) for ch in self.channels
        }

    def membrane_current(self, state: State) -> Float[Array, "*shape"]:
        """Total outward ionic current (uA/cm^2)."""
        total = jnp.zeros_like(state.V)
        for ch in self.channels:
            total = total + ch.current(state.V, state.gates)
        return total

    def state_rates(self, state: State) -> dict[str, GateRates]:
        """The linear kinetics of every state variable besides V, by name (the
        entries of ``gate_names``): ``dx/dt = alpha - (alpha + beta) x``, where
        ``alpha`` and ``beta`` (1/ms) may depend on V and on the other state
        variables but not on ``x`` itself. Solvers that treat the gates
        exponentially (exact for fixed V) and cable solvers read this."""
        return self.gate_rates(state.V)

    def derivative(self, state: State, I_ext: Float[ArrayLike, "*shape"]) -> State:
        """Time derivative of `state` (mV/ms and 1/ms) under applied current
        ``I_ext`` (uA/cm^2, positive = depolarising)."""
        rates = self.state_rates(state)
        dV = (I_ext - self.membrane_current(state)) / self.C_m
        dgates = {g: rates[g].derivative(state.gates[g]) for g in self.gate_names}
        return State(V=dV, gates=dgates)


def HodgkinHuxley(
    *,
    g_Na: Float[ArrayLike, "..."] = 120.0,
    g_K: Float[ArrayLike, "..."] = 36.0,
    g_L: Float[ArrayLike, "..."] = 0.3,
    E_Na: Float[ArrayLike, "..."] = 50.0,
    E_K: Float[ArrayLike, "..."] = -77.0,
    E_L: Float[ArrayLike, "..."] = -54.387,
    C_m: Float[ArrayLike, "..."] = 1.0,
    temperature: Float[ArrayLike, "..."] = 6.3,
) -> PointNeuron:
    """The Hodgkin–Huxley squid-axon model (rest at -65 mV).

    **Arguments** (all keyword; any may be an array with a leading batch axis):

    - `g_Na`, `g_K`, `g_L`: maximal conductances, mS/cm^2.
    - `E_Na`, `E_K`, `E_L`: reversal potentials, mV.
    - `C_m`: membrane capacitance, uF/cm^2.
    - `temperature`: degrees Celsius; rates scale by ``3 ** ((T - 6.3) / 10)``.

    **Returns:** a :class:`PointNeuron` with channels
    ``(SquidSodium, SquidPotassium, Leak)`` and gates ``m, h, n``.
    """
    return PointNeuron(
        channels=(
            SquidSodium(g_Na=g_Na, E_Na=E_Na),
            SquidPotassium(g_K=g_K, E_K=E_K),
            Leak(g_L=g_L, E_L=E_L),
        ),
        C_m=C_m,
        temperature=temperature,
    )


def CorticalRegularSpiking(
    *,
    g_Na: Float[ArrayLike, "..."] = 50.0,
    g_K: Float[ArrayLike, "..."] = 5.0,
    g_M: Float[ArrayLike, "..."] = 0.07,
    g_L: Float[ArrayLike, "..."] = 0.1,
    E_Na: Float[ArrayLike, "..."] = 50.0,
    E_K: Float[ArrayLike, "..."] = -100.0,
    E_L: Float[ArrayLike, "..."] = -70.0,
    V_T: Float[ArrayLike, "..."] = -55.0,
    tau_max: Float[ArrayLike, "..."] = 1000.0,
    C_m: Float[ArrayLike, "..."] = 1.0,
    temperature: Float[ArrayLike, "..."] = 36.0,
) -> PointNeuron:
    """The minimal regular-spiking cortical pyramidal neuron of Pospischil et al.
    (2008): Traub–Miles Na and K currents (threshold shift `V_T`, mV), a slow
    M-type K current (`g_M`, `tau_max` in ms) for adaptation, and a leak.

    Defaults are the authors' regular-spiking cell (ModelDB 123623): conductances
    in mS/cm^2, potentials in mV, `C_m` in uF/cm^2, 36 degC. Gates ``m, h, n, p``.
    """
    from .channels import MCurrent, TraubMilesPotassium, TraubMilesSodium

    return PointNeuron(
        channels=(
            TraubMilesSodium(g_Na=g_Na, E_Na=E_Na, V_T=V_T),
            TraubMilesPotassium(g_K=g_K, E_K=E_K, V_T=V_T),
            MCurrent(g_M=g_M, tau_max=tau_max, E_K=E_K),
            Leak(g_L=g_L, E_L=E_L),
        ),
        C_m=C_m,
        temperature=temperature,
    )


def steady_state(model: PointNeuron, V: Float[ArrayLike, "*shape"]) -> State:
    """The state with membrane potential held at ``V`` (mV) and every gate at its
    steady state ``x_inf(V) = alpha / (alpha + beta)``."""
    V = jnp.asarray(V)
    if not jnp.issubdtype(V.dtype, jnp.floating):
        V = V.astype(jnp.result_type(float))
    rates = model.gate_rates(V)
    return State(V=V, gates={g: rates[g].steady_state for g in model.gate_names})


def _net_current_at_steady_state(V, args):
    model, I_hold = args
    return model.membrane_current(steady_state(model, V)) - I_hold


def resting_state(
    model: PointNeuron,
    *,
    holding_current: Float[ArrayLike, ""] = 0.0,
    V_guess: Float[ArrayLike, ""] = -65.0,
    rtol: float = 1e-10,
    atol: float = 1e-10,
    throw: bool = True,
) -> State:
    """The resting state: the potential where the net steady-state ionic current
    equals `holding_current` (uA/cm^2; 0 for true rest), and its gates.

    Solved by Newton's method (Optimistix) from `V_guess` (mV); differentiable with
    respect to the model by the implicit function theorem. When Newton fails it
    raises. With ``throw=False`` (use it under ``vmap``, so that one failing member
    cannot stop the others) a fixed number of plain Newton steps is taken instead,
    differentiated by unrolling, and a member that did not converge gets V = NaN.
    """
    V_guess = jnp.asarray(V_guess, dtype=jnp.result_type(float))
    args = (model, jnp.asarray(holding_current))
    if not throw:
        return steady_state(model, _unrolled_newton(V_guess, args, atol))
    import optimistix as optx

    sol = optx.root_find(
        _net_current_at_steady_state,
        optx.Newton(rtol=rtol, atol=atol),
        V_guess,
        args=args,
        max_steps=256,
    )
    return steady_state(model, sol.value)


def _unrolled_newton(V, args, atol, iterations: int = 40):
    """Newton's method for the resting potential as plain array code (steps clipped
    to 10 mV): never raises, so it is safe under ``vmap`` with absurd members;
    its derivative converges to the implicit one. NaN where it did not converge."""
    f = lambda v: _net_current_at_steady_state(v, args)  # noqa: E731

    def step(v, _):
        value, slope = jax.jvp(f, (v,), (jnp.ones_like(v),))
        dv = -value / jnp.where(slope == 0, 1.0, slope)
        return v + jnp.clip(dv, -10.0, 10.0), None

    V, _ = jax.lax.scan(step, V, None, length=iterations)
    converged = jnp.abs(f(V)) <= jnp.maximum(atol, 1e-8) * 1e3
    return jnp.where(converged, V, jnp.nan)


def as_state(model: PointNeuron, y0) -> State:
    """Normalise an initial condition: ``None`` (steady state at -65 mV), a
    :class:`State`, or an array ``[V, gate_1, ...]`` in the model's gate order."""
    if y0 is None:
        return steady_state(model, jnp.asarray(-65.0))
    if isinstance(y0, State):
        missing = set(model.gate_names) - set(y0.gates)
        extra = set(y0.gates) - set(model.gate_names)
        if missing or extra:
            raise ValueError(
                f"initial state gates {sorted(y0.gates)} do not match the model's "
                f"gates {list(model.gate_names)}."
            )
        return y0
    return State.from_array(y0, model.gate_names)
