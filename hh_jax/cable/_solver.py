"""Integrating a cable: implicit voltage steps with a tree solve, exponential gates.

Each step of length h from t to t + h:

1. Membrane current ``I`` (uA/cm^2) and its slope ``G = dI/dV`` (mS/cm^2, at
   fixed gates) at every node, from ``neuron.membrane_current``.
2. The voltage change solves the tree system (in uA, per node i of area a_i)
   ``(k C_m a / h + G a + L) dV = I_inj + I_axial - I a``,
   where L is the axial conductance matrix (a tree: :func:`tree_solve`).
   With ``k = 2`` this is the half step of Crank–Nicolson and
   ``V(t + h) = V + 2 dV`` (second order, NEURON's ``secondorder = 2``); with
   ``k = 1`` it is the linearised backward Euler step ``V(t + h) = V + dV``
   (first order, NEURON's default). Injected currents are taken at ``t + h/2``;
   steps never straddle a stimulus discontinuity.
3. Every other state variable follows ``neuron.state_rates``: with alpha and beta
   at the new V, ``x`` relaxes exactly towards ``alpha / (alpha + beta)``
   (Rush–Larsen / NEURON's ``cnexp``). For Crank–Nicolson the gates are staggered
   half a step from V (as in NEURON), which keeps the scheme second order.

No host loop per step: the whole integration is one compiled scan; reverse mode
recomputes each save interval (checkpointing), forward mode and ``vmap`` apply.
"""

import dataclasses
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from .._checks import check_increasing, concrete
from ..channels import GateRates
from ..model import State, steady_state
from ..settings import resolve_settings
from ..stimulus import AbstractStimulus, as_stimulus
from ..trace import Status
from ._cable import Cable, Position
from ._grid import gate_intervals, time_grid
from ._tree import tree_solve

_METHODS = ("crank_nicolson", "backward_euler")
NA_TO_UA = 1e-3
UM2_TO_CM2 = 1e-8


class Injection(eqx.Module):
    """A current injected at one point of the cell, like NEURON's ``IClamp``.

    **Fields:**

    - `stimulus`: any hh_jax stimulus (``Step``, ``PiecewiseConstant``, ...);
      here its value is read in **nA** (a point current, positive depolarises),
      not uA/cm^2.
    - `section`, `x`: where: section index or name and fraction x in [0, 1] along
      it (static: the node is found once).
    """

    stimulus: AbstractStimulus
    section: "int | str" = eqx.field(static=True, default=0)
    x: float = eqx.field(static=True, default=0.0)

    def __check_init__(self):
        if not isinstance(self.stimulus, AbstractStimulus):
            raise TypeError(
                "`stimulus` must be an hh_jax stimulus (Step, PiecewiseConstant, "
                f"...), read in nA; got {type(self.stimulus).__name__}."
            )


class CableTrace(eqx.Module):
    """The result of :func:`simulate_cable`.

    - `t`: ``(T,)`` save times, ms.
    - `V`: ``(R, T)`` membrane potential (mV) at the recorded nodes.
    - `nodes`: the recorded node indices (static), in the order of `V`'s rows.
    - `final`: the full state at ``t[-1]``, V and gates ``(N,)`` (to continue).
    - `status`: a :class:`hh_jax.Status` code (``OK``, ``NON_FINITE``,
      ``INVALID_INPUT``); ``trace.ok`` is True on success.
    - `num_steps`: time steps taken.
    """

    t: Float[Array, " T"]
    V: Float[Array, "R T"]
    final: State
    status: Int[Array, ""]
    num_steps: int = eqx.field(static=True)
    nodes: tuple[int, ...] = eqx.field(static=True)

    @property
    def ok(self) -> Array:
        return self.status == Status.OK

    def raise_if_failed(self) -> "CableTrace":
        """Raise ``RuntimeError`` if any member failed, else return self."""
        status = np.asarray(self.status)
        if np.all(status == Status.OK):
            return self
        first = int(np.ravel(status)[np.ravel(status) != Status.OK][0])
        raise RuntimeError(f"cable simulation failed: {Status(first).message}.")


def _relax(x, rates: GateRates, h):
    """Exact step of ``dx/dt = alpha - (alpha + beta) x`` over `h` at fixed rates:
    ``x + (alpha - lam x) (1 - exp(-lam h)) / lam``, finite as ``lam -> 0``."""
    lam = rates.alpha + rates.beta
    z = lam * h
    tiny = jnp.abs(z) < 1e-12
    phi = jnp.where(tiny, h, -jnp.expm1(-z) / jnp.where(tiny, 1.0, lam))
    return x + (rates.alpha - lam * x) * phi


@eqx.filter_jit
def _integrate(
    cable: Cable,
    stimuli: tuple[AbstractStimulus, ...],
    starts: Float[Array, "I K"],
    steps: Float[Array, "I K"],
    gsteps: Float[Array, "I K"],
    v_init: Float[Array, ""],
    y0: State | None,
    inject_at: tuple[int, ...],
    record: tuple[int, ...],
    method: str,
    checkpoint: bool,
    width: int | None,
):
    neuron = cable.neuron
    names = neuron.gate_names
    layout = cable.layout
    k = 2.0 if method == "crank_nicolson" else 1.0
    area = cable.area * UM2_TO_CM2  # cm^2
    capacitance = area * neuron.C_m  # uF
    g = cable.conductances()  # mS
    up = np.where(layout.parent < 0, np.arange(layout.num_nodes), layout.parent)
    laplacian_diag = g + jnp.zeros_like(g).at[up].add(g)
    inject_at_idx = np.asarray(inject_at, dtype=np.int32)
    record_idx = np.asarray(record, dtype=np.int32)
    schedule = layout.schedule(width)
    n = layout.num_nodes
    dtype = steps.dtype
    if y0 is None:  # every node at v_init, gates at their steady state
        y0 = steady_state(neuron, jnp.full((n,), v_init, dtype))
    V0 = jnp.broadcast_to(jnp.asarray(y0.V, dtype), (n,))
    gates0 = tuple(
        jnp.broadcast_to(jnp.asarray(y0.gates[g], dtype), (n,)) for g in names
    )

    def step(carry, t, h, hg):
        V, gates = carry
        gd = dict(zip(names, gates))
        current = lambda v: neuron.membrane_current(State(v, gd))  # noqa: E731
        I_ion, G = jax.jvp(current, (V,), (jnp.ones_like(V),))
        flow = g * (V[up] - V)  # uA from each node's parent into it
        rhs = flow - jnp.zeros_like(V).at[up].add(flow) - area * I_ion
        if stimuli:
            t_mid = t + 0.5 * h
            amps = jnp.stack([jnp.asarray(s(t_mid), V.dtype) for s in stimuli])
            rhs = rhs.at[inject_at_idx].add(NA_TO_UA * amps)
        diag = capacitance * (k / h) + area * G + laplacian_diag
        dV = tree_solve(schedule, diag, g, rhs)
        V_new = V + k * dV
        rates = neuron.state_rates(State(V_new, gd))
        return V_new, tuple(_relax(gd[n], rates[n], hg) for n in names)

    def interval(carry, row):
        t_row, h_row, hg_row = row

        def body(j, c):
            return step(c, t_row[j], h_row[j], hg_row[j])

        carry = jax.lax.fori_loop(0, h_row.shape[0], body, carry)
        return carry, carry[0][record_idx]

    if checkpoint:
        interval = jax.checkpoint(interval)
    final, Vs = jax.lax.scan(interval, (V0, gates0), (starts, steps, gsteps))
    V = jnp.concatenate([V0[record_idx][None], Vs]).T
    finite = jnp.all(jnp.isfinite(V)) & jnp.all(jnp.isfinite(final[0]))
    for x in final[1]:
        finite = finite & jnp.all(jnp.isfinite(x))
    status = jnp.where(
        cable.invalid_parameters(),
        Status.INVALID_INPUT,
        jnp.where(finite, Status.OK, Status.NON_FINITE),
    ).astype(jnp.int32)
    return V, final, status


def _solve_width(tree_width: int | None) -> int | None:
    if tree_width is not None:
        if not (isinstance(tree_width, int) and tree_width >= 1):
            raise ValueError(
                f"`tree_width` must be a positive int; got {tree_width!r}."
            )
        return tree_width
    return 1 if jax.default_backend() == "cpu" else None


def _as_injections(injections) -> tuple[Injection, ...]:
    if injections is None:
        return ()
    if isinstance(injections, Injection):
        return (injections,)
    out = tuple(injections)
    for i, inj in enumerate(out):
        if not isinstance(inj, Injection):
            raise TypeError(
                f"injections[{i}] must be an hh_jax.cable.Injection; got "
                f"{type(inj).__name__}."
            )
    return out


@dataclasses.dataclass(frozen=True)
class CableSettings:
    """How :func:`simulate_cable` integrates (each field may also be passed to it
    as a keyword; :mod:`hh_jax.settings`).

    - `dt`: largest step (ms). Every save time and stimulus discontinuity is a
      step boundary (the stimulus jump times must be concrete).
    - `method`: ``"crank_nicolson"`` (second order; NEURON's ``secondorder = 2``)
      or ``"backward_euler"`` (first order, damps everything; NEURON's default).
    - `tree_width`: nodes eliminated per sequential step of the tree solve. None:
      1 on CPU (measured fastest there: scalar steps, no scatter) and about
      N / height elsewhere (fewest sequential steps, for GPUs).
    """

    dt: float = 0.025
    method: str = "crank_nicolson"
    checkpoint: bool = True
    tree_width: int | None = None


def simulate_cable(
    cable: Cable,
    injections: "Injection | Sequence[Injection] | None",
    ts: Float[ArrayLike, " T"] | Sequence[float],
    *,
    record: "Sequence[Position | float] | None" = None,
    v_init: float = -65.0,
    y0: State | None = None,
    throw: bool = True,
    settings: CableSettings | None = None,
    **options,
) -> CableTrace:
    """Simulate a cable on a fixed time grid.

    **Arguments:**

    - `cable`: a :class:`Cable`.
    - `injections`: one :class:`Injection` or several (currents in nA), or None.
    - `ts`: save times (ms), concrete and increasing; the run goes from ``ts[0]``
      to ``ts[-1]``.
    - `record`: positions whose V is saved, each ``(section, x)`` (or ``x`` on
      section 0); None saves every node.
    - `v_init`: initial potential (mV) of every node, gates at their steady state
      (as NEURON's ``finitialize(v_init)``); or give `y0`, a full
      :class:`hh_jax.State` with ``(N,)`` arrays.
    - `throw`: with concrete inputs, raise ``RuntimeError`` if the result is not
      finite or a parameter is out of range; else report it in ``status`` (use
      ``throw=False`` under ``vmap``).
    - `settings`: a :class:`CableSettings`: the step `dt` (ms, default 0.025),
      the `method` (``"crank_nicolson"`` or ``"backward_euler"``), `checkpoint`
      and `tree_width`. Each field may also be passed as a keyword
      (``simulate_cable(cable, injection, ts, dt=0.01)``).

    **Returns:** a :class:`CableTrace`.

    Works under ``jax.grad``/``jax.jvp``/``jax.vmap`` (the cable's arrays and the
    stimulus amplitudes are ordinary inputs); batch with
    ``jax.vmap(lambda g: simulate_cable(cable.with_parameters(g_Na=g), ...).V)``.
    """
    if not isinstance(cable, Cable):
        raise TypeError(f"`cable` must be an hh_jax.cable.Cable; got {type(cable)}.")
    settings = resolve_settings(
        CableSettings, settings, options, entry="simulate_cable"
    )
    dt, method = settings.dt, settings.method
    checkpoint, tree_width = settings.checkpoint, settings.tree_width
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {_METHODS}; got {method!r}.")
    if not (isinstance(dt, int | float) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"`dt` must be a positive number of ms; got {dt!r}.")
    injections = _as_injections(injections)
    ts_np = concrete(ts)
    if ts_np is None:
        raise ValueError("simulate_cable needs concrete save times `ts` (ms).")
    ts_np = np.asarray(ts_np, dtype=float)
    if ts_np.ndim != 1 or ts_np.size < 2:
        raise ValueError("`ts` must be a 1-D array of at least two save times (ms).")
    check_increasing("ts", ts_np, "ms")
    stimuli = tuple(as_stimulus(inj.stimulus) for inj in injections)
    jumps, eps = [np.zeros(0)], float(np.finfo(np.float64).eps)
    with jax.ensure_compile_time_eval():
        for s in stimuli:
            j = concrete(s.jump_times())
            if j is None:
                raise ValueError(
                    "the stimulus jump times must be concrete (they become grid "
                    "points); do not trace stimulus start/stop times."
                )
            if np.issubdtype(j.dtype, np.floating):
                eps = max(eps, float(np.finfo(j.dtype).eps))
            jumps.append(np.ravel(j))
    starts, steps = time_grid(ts_np, np.concatenate(jumps), float(dt), eps=eps)
    gsteps = gate_intervals(steps, staggered=method == "crank_nicolson")
    inject_at = tuple(cable.node((inj.section, inj.x)) for inj in injections)
    if record is None:
        nodes = tuple(range(cable.num_nodes))
    else:
        nodes = cable.nodes(list(record))
        if not nodes:
            raise ValueError("`record` must name at least one position.")
    dtype = jnp.asarray(ts).dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    if y0 is not None and set(y0.gates) != set(cable.neuron.gate_names):
        raise ValueError(
            f"`y0` has gates {sorted(y0.gates)}; the cable's neuron has "
            f"{list(cable.neuron.gate_names)}."
        )
    V, final, status = _integrate(
        cable,
        stimuli,
        jnp.asarray(starts, dtype),
        jnp.asarray(steps, dtype),
        jnp.asarray(gsteps, dtype),
        jnp.asarray(v_init, dtype),
        y0,
        inject_at,
        nodes,
        method,
        bool(checkpoint),
        _solve_width(tree_width),
    )
    trace = CableTrace(
        t=jnp.asarray(ts_np, dtype),
        V=V,
        final=State(final[0], dict(zip(cable.neuron.gate_names, final[1]))),
        status=status,
        num_steps=int(steps.size),
        nodes=nodes,
    )
    if throw and concrete(status) is not None:
        trace.raise_if_failed()
    return trace
