"""Single-compartment conductance-based neurons and their state.

A :class:`PointNeuron` is a membrane capacitance, a temperature, a tuple of
channels and a tuple of concentration pools. Its state is a :class:`State`: the
membrane potential and one entry per other state variable (the gates of the
channels, then the pools' concentrations). Both are Equinox modules, so ``jit``,
``vmap`` and ``grad`` apply directly.

State beyond gates. A pool (e.g. :class:`hh_jax.channels.CalciumPool`, state
variable ``Ca_i`` in mM) is stored in ``State.gates`` under its own name, listed
in ``gate_names`` after the gates, and its kinetics are returned by
:meth:`PointNeuron.state_rates` in the same linear form as a gate's. It is fed by
the summed current of the channels whose ``ion`` matches the pool's, and read by
channels that name it in ``reads`` (the Ca-activated K current). The admissible
range of each state variable (gates [0, 1], concentrations >= 0) is declared by
its owner and reported by :meth:`PointNeuron.state_infos`.

Units: V in mV, t in ms, currents in uA/cm^2, conductances in mS/cm^2,
capacitance in uF/cm^2, temperature in degrees Celsius, concentrations in mM.
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import concrete, describe_bad
from ._parameter import (
    ParameterInfo,
    as_float_array,
    parameter,
    parameter_infos,
    unknown_parameter,
)
from .channels import AbstractChannel, AbstractPool, GateRates, StateInfo


def _float_dict(gates) -> dict:
    return {name: as_float_array(x) for name, x in dict(gates).items()}


def _as_pools(pools):
    """A tuple of pools, or None for none. (An empty tuple in the model's pytree
    trips ``eqx.tree_at(..., replace_fn=...)``, which Diffrax's BacksolveAdjoint
    applies to its augmented state, model included.)"""
    if pools is None:
        return None
    pools = tuple(pools) if isinstance(pools, list | tuple) else pools
    return pools if pools != () else None


class State(eqx.Module):
    """Membrane potential ``V`` (mV) and the other state variables: gates
    (dimensionless, in [0, 1]) and pool concentrations (mM, >= 0).

    They are stored by name in `gates`; each is also readable as an attribute,
    so ``state.m`` is ``state.gates["m"]`` and ``state.Ca_i`` a concentration.
    Fields may carry leading batch axes.
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
    - `pools`: concentration pools (a tuple of
      :class:`hh_jax.channels.AbstractPool`); None (the default) or an empty
      tuple for none, stored as None.

    Every numeric field of the model, its channels and pools is a JAX array, so
    the whole model can be differentiated, vmapped (give a field a leading axis)
    and passed through ``jit`` without recompiling for new values.

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
    pools: tuple[AbstractPool, ...] | None = eqx.field(
        default=None, converter=_as_pools
    )

    def __check_init__(self):
        if not isinstance(self.channels, tuple) or not all(
            isinstance(c, AbstractChannel) for c in self.channels
        ):
            raise TypeError("`channels` must be a tuple of AbstractChannel instances.")
        if not isinstance(self._pools, tuple) or not all(
            isinstance(p, AbstractPool) for p in self._pools
        ):
            raise TypeError("`pools` must be a tuple of AbstractPool instances.")
        seen: dict[str, str] = {}
        for owner in (*self.channels, *self._pools):
            names = owner.gates if isinstance(owner, AbstractChannel) else (owner.name,)
            for g in names:
                if g in seen:
                    raise ValueError(
                        f"gate name {g!r} is used by both {seen[g]} and "
                        f"{type(owner).__name__}; gate names must be unique in a model."
                    )
                seen[g] = type(owner).__name__
        holders: dict[str, list] = {}
        for owner in self._owners():
            for name in parameter_infos(owner):
                holders.setdefault(name, []).append(owner)
        for name, owners in holders.items():
            if len(owners) > 1 and not all(
                not isinstance(o, PointNeuron) and name in o.shared_parameters
                for o in owners
            ):
                kinds = ", ".join(type(o).__name__ for o in owners)
                raise ValueError(
                    f"parameter name {name!r} appears in {kinds}; names must be "
                    "unique unless every channel declares it shared."
                )
        self._kinetic_order()  # raises for unresolvable or circular dependencies
        self.check_values()

    @property
    def _pools(self) -> tuple:
        """The pools as a tuple (empty for none)."""
        return () if self.pools is None else self.pools

    def _owners(self) -> tuple:
        return (self, *self.channels, *self._pools)

    # -- parameters by name -------------------------------------------------------

    def parameter_infos(self) -> dict[str, ParameterInfo]:
        """Every parameter of the model by name, with unit, range and description."""
        infos = {}
        for owner in self._owners():
            infos.update(parameter_infos(owner))
        return infos

    def _locations(self, name: str):
        """Getters for every leaf that carries parameter `name`."""
        if name in parameter_infos(self):
            return [lambda m, n=name: getattr(m, n)]
        getters = [
            lambda m, i=i, n=name: getattr(m.channels[i], n)
            for i, ch in enumerate(self.channels)
            if name in parameter_infos(ch)
        ] + [
            lambda m, i=i, n=name: getattr(m.pools[i], n)
            for i, pool in enumerate(self._pools)
            if name in parameter_infos(pool)
        ]
        if not getters:  # the error every analysis gives (hh_jax.parameters)
            units = {n: i.unit for n, i in self.parameter_infos().items()}
            raise unknown_parameter([name], units)
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
        for owner in self._owners():
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
        for owner in self._owners():
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
        model = eqx.tree_at(
            lambda m: m.channels, model, tuple(park(ch) for ch in model.channels)
        )
        if self.pools is None:
            return model
        return eqx.tree_at(
            lambda m: m.pools, model, tuple(park(p) for p in model.pools)
        )

    # -- state variables ----------------------------------------------------------

    @property
    def gate_names(self) -> tuple[str, ...]:
        """Names of every state variable besides V, in state order: the gates in
        channel order, then the pools' concentrations."""
        return tuple(g for ch in self.channels for g in ch.gates) + tuple(
            p.name for p in self._pools
        )

    @property
    def current_names(self) -> tuple[str, ...]:
        """Names of the channel currents, e.g. ``("I_Na", "I_K", "I_L")``."""
        return tuple(ch.current_name for ch in self.channels)

    def state_infos(self) -> dict[str, StateInfo]:
        """Unit, admissible range and description of every state variable besides
        V (in ``gate_names`` order), as declared by its channel or pool."""
        infos: dict[str, StateInfo] = {}
        for owner in (*self.channels, *self._pools):
            infos.update(owner.state_infos())
        return infos

    def invalid_state(self, state: State) -> Array:
        """Boolean (batch-shaped) array: True where V is not finite or a state
        variable lies outside its admissible range. Usable under ``jit``."""
        bad = ~jnp.isfinite(state.V)
        for name, info in self.state_infos().items():
            bad = bad | ~info.admissible(jnp.asarray(state.gates[name]))
        return bad

    def check_state(self, state: State, what: str = "initial") -> None:
        """Raise ``ValueError`` naming the variable and its unit if a concrete
        `state` has a non-finite V or a variable outside its range."""
        V = concrete(state.V)
        if V is not None and not np.all(np.isfinite(V)):
            raise ValueError(f"{what} `V` must be finite (mV); got {V}.")
        for name, info in self.state_infos().items():
            value = concrete(state.gates[name])
            if value is None:
                continue
            ok = np.asarray(info.admissible(value))
            if not np.all(ok):
                raise ValueError(
                    f"{what} {info.kind} `{name}` ({info.doc}) must "
                    f"{info.requirement()}; {describe_bad(value, ok)}."
                )

    # -- dynamics -----------------------------------------------------------------

    def _kinetic_order(self) -> tuple[tuple[str, int], ...]:
        """Channels (``("channel", i)``) and pools (``("pool", j)``) in an order in
        which each one's state variables depend only on V and earlier ones: a
        channel on the variables it `reads`, a pool on the gates (and reads) of
        the channels carrying its ion. Raises ``ValueError`` if a variable is
        missing or the dependencies are circular (the steady state would be
        implicit)."""
        provided = set(self.gate_names)
        needs: dict[tuple[str, int], set[str]] = {}
        gives: dict[tuple[str, int], set[str]] = {}
        for i, ch in enumerate(self.channels):
            missing = set(ch.reads) - provided
            if missing:
                raise ValueError(
                    f"{type(ch).__name__} reads {sorted(missing)}, which no channel "
                    "or pool of the model provides (add e.g. a CalciumPool to "
                    "`pools`)."
                )
            needs[("channel", i)] = set(ch.reads)
            gives[("channel", i)] = set(ch.gates)
        for j, pool in enumerate(self._pools):
            feeding = [ch for ch in self.channels if ch.ion == pool.ion]
            needs[("pool", j)] = set().union(
                *(set(ch.gates) | set(ch.reads) for ch in feeding)
            )
            gives[("pool", j)] = {pool.name}
        order, known = [], set()
        pending = list(needs)
        while pending:
            ready = [
                k
                for k in pending
                if needs[k] - (gives[k] if k[0] == "channel" else set()) <= known
            ]
            if not ready:
                names = sorted(set().union(*(gives[k] for k in pending)))
                raise ValueError(
                    f"the state variables {names} depend on each other in a circle "
                    "(e.g. a current of a pool's ion that reads the pool); hh_jax "
                    "needs an explicit order to compute the steady state."
                )
            for k in ready:
                order.append(k)
                known |= gives[k]
                pending.remove(k)
        return tuple(order)

    def _pool_currents(self, currents: Sequence[Array]) -> list[Array]:
        """Total outward current (uA/cm^2) of each pool's ion, from the channel
        currents in channel order."""
        totals = []
        for pool in self._pools:
            total = 0.0
            for ch, I in zip(self.channels, currents):
                if ch.ion == pool.ion:
                    total = total + I
            totals.append(total)
        return totals

    def _rates(
        self, V: Array, variables: dict, currents: Sequence[Array] | None = None
    ) -> dict[str, GateRates]:
        """Rates of every state variable given V and all other state variables;
        `currents` (channel order) are computed if not given."""
        rates: dict[str, GateRates] = {}
        for ch in self.channels:
            rates.update(ch.state_rates(V, variables, self.temperature))
        if self._pools:
            if currents is None:
                currents = [ch.current(V, variables) for ch in self.channels]
            for pool, I in zip(self._pools, self._pool_currents(currents)):
                I = I + jnp.zeros_like(V)
                rates[pool.name] = pool.rates(I, self.temperature)
        return rates

    def _steady_variables(self, V: Array) -> dict:
        """Joint steady state of every state variable at potential ``V``: each
        in dependency order, from the steady states before it. Exact and
        differentiable (closed form, no iteration)."""
        known: dict = {}
        for kind, i in self._kinetic_order():
            if kind == "channel":
                ch = self.channels[i]
                for g, r in ch.state_rates(V, known, self.temperature).items():
                    known[g] = r.steady_state
            else:
                pool = self._pools[i]
                I = jnp.zeros_like(V)
                for ch in self.channels:
                    if ch.ion == pool.ion:
                        I = I + ch.current(V, known)
                known[pool.name] = pool.rates(I, self.temperature).steady_state
        return {g: known[g] for g in self.gate_names}

    def gate_rates(self, V: Float[ArrayLike, "*shape"]) -> dict[str, GateRates]:
        """Rates (1/ms) of every state variable at potential ``V`` (mV), the
        others held at their joint steady state at ``V`` (for a voltage-gated
        gate: just its rates at ``V``). The dynamics use :meth:`state_rates`."""
        V = jnp.asarray(V)
        if self._pools or any(ch.reads for ch in self.channels):
            return self._rates(V, self._steady_variables(V))
        return self._rates(V, {})

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
        ``alpha`` and ``beta`` (1/ms; for a concentration alpha in mM/ms) may
        depend on V and on the other state variables but not on ``x`` itself.
        Solvers that treat the gates exponentially (exact for fixed V) and cable
        solvers read this."""
        return self._rates(state.V, state.gates)

    def derivative(self, state: State, I_ext: Float[ArrayLike, "*shape"]) -> State:
        """Time derivative of `state` (mV/ms, 1/ms for gates, mM/ms for
        concentrations) under applied current ``I_ext`` (uA/cm^2, positive =
        depolarising)."""
        currents = [ch.current(state.V, state.gates) for ch in self.channels]
        total = jnp.zeros_like(state.V)
        for I in currents:
            total = total + I
        rates = self._rates(state.V, state.gates, currents)
        dV = (I_ext - total) / self.C_m
        dgates = {g: rates[g].derivative(state.gates[g]) for g in self.gate_names}
        return State(V=dV, gates=dgates)


def steady_state(model: PointNeuron, V: Float[ArrayLike, "*shape"]) -> State:
    """The state with membrane potential held at ``V`` (mV) and every other state
    variable at its joint steady state: each gate at ``x_inf = alpha / (alpha +
    beta)``, each pool at the concentration the currents at ``V`` sustain, and
    gates that read a pool at their steady state for that concentration.
    Exact and differentiable."""
    V = jnp.asarray(V)
    if not jnp.issubdtype(V.dtype, jnp.floating):
        V = V.astype(jnp.result_type(float))
    return State(V=V, gates=model._steady_variables(V))


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

    Solved by Newton's method (Optimistix) from `V_guess` (mV) to `rtol`, `atol`
    (floored at 64 and 1000 machine epsilons of the precision: float32 cannot
    resolve 1e-10); differentiable with
    respect to the model by the implicit function theorem. When Newton fails it
    raises. With ``throw=False`` (use it under ``vmap``, so that one failing member
    cannot stop the others) a fixed number of plain Newton steps is taken instead,
    differentiated by unrolling, and a member that did not converge gets V = NaN.
    """
    V_guess = jnp.asarray(V_guess, dtype=jnp.result_type(float))
    args = (model, jnp.asarray(holding_current))
    # Tolerances below the precision's resolution cannot be met (float32: V near
    # -65 mV is resolved to ~8e-6 mV): floor them there, so that rest in float32
    # converges instead of exhausting Newton's steps.
    eps = float(jnp.finfo(V_guess.dtype).eps)
    rtol, atol = max(float(rtol), 64 * eps), max(float(atol), 1e3 * eps)
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


# The named presets are subclasses of PointNeuron defined in hh_jax.presets;
# importing them here keeps ``from hh_jax.model import HodgkinHuxley`` working.
from .presets import (  # noqa: E402
    AdaptingPyramidal as AdaptingPyramidal,
)
from .presets import (  # noqa: E402
    CorticalFastSpiking as CorticalFastSpiking,
)
from .presets import (  # noqa: E402
    CorticalIntrinsicBursting as CorticalIntrinsicBursting,
)
from .presets import (  # noqa: E402
    CorticalLowThresholdSpiking as CorticalLowThresholdSpiking,
)
from .presets import (  # noqa: E402
    CorticalRegularSpiking as CorticalRegularSpiking,
)
from .presets import (  # noqa: E402
    FastSpikingInterneuron as FastSpikingInterneuron,
)
from .presets import HodgkinHuxley as HodgkinHuxley  # noqa: E402
