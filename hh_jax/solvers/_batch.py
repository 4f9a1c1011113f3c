"""The batched solve behind :func:`hh_jax.simulate_batch`: methods, their
defaults, and the assembly of a :class:`hh_jax.Trace` with per-member status.

Methods (chosen by the work–precision measurement in docs/performance.md):

- ``"tsit5"``: fixed steps (default 0.05 ms; under "auto" 0.075 ms in float32)
  of the Tsitouras 5(4) pair on a shared grid, vectorised over neurons. On
  W(1000) spike times within 5.2e-4 ms of a DOP853 1e-11 reference (float32 at
  0.075 ms: 2.3e-2 ms), exact counts.
- ``"rk4"``: classical RK4, fixed steps (default 0.025 ms).
- ``"adaptive"``: every neuron its own step size and error control (Tsit5,
  default rtol = atol = 1e-8) in one vectorised loop.
- ``"auto"`` (the default): ``"tsit5"``, with every neuron whose embedded error
  estimate exceeds the bound of `AUTO` at some step (a much faster or stiffer
  model than the squid axon at 6.3 degC, or an absurd parameter set)
  re-integrated by ``"adaptive"``. Falls back to ``"adaptive"`` for all when
  the stimulus discontinuities are not known outside ``jit`` or too many to
  put on a shared grid.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import concrete
from ..model import PointNeuron, State, steady_state
from ..trace import Status, Trace
from . import _adaptive as adaptive_solver
from . import _fixed
from ._adjoint import differentiable
from ._grid import step_grid
from ._lanes import Lanes
from ._tableaus import RK4, TSIT5

FIXED = {"tsit5": TSIT5, "rk4": RK4}
DEFAULT_DT = {"tsit5": 0.05, "rk4": 0.025}  # ms
DEFAULT_ADAPTIVE_TOL = 1e-8
# Method "auto", by bytes per number: (Tsit5 step in ms, error bound). The
# embedded error estimate (RMS norm, rtol = atol = 1e-6) of the Tsit5 steps at
# 0.05 ms reaches 202 on W(1000) and 287 on the NEURON reference cases, at 0.075
# ms 2078 and 3063 (measured, float32 and float64 alike); a neuron above the
# bound (1.74x those maxima at both steps) is re-integrated adaptively.
# float32 takes the longer step: its spike times are limited by rounding, not
# by the step (W(1000): 2.2e-2 ms at 0.05 ms, 2.3e-2 ms at 0.075 ms; 0.31 ms at
# 0.1 ms), within its 0.05 ms contract at 1.5x fewer steps. float64 keeps 0.05
# ms (5.2e-4 ms; its contract is 1e-3 ms, 1.8e-3 ms at 0.0625 ms).
AUTO = {8: (0.05, 500.0), 4: (0.075, 5300.0)}
AUTO_ERROR_BOUND = AUTO[8][1]
MONITOR_TOL = 1e-6
# At most this many distinct discontinuities on a shared fixed-step grid.
MAX_SHARED_JUMPS = 256
METHODS = ("auto", "tsit5", "rk4", "adaptive")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Static settings of a batched solve (hashable: part of the compiled key)."""

    method: str
    dt: float | None
    rtol: float
    atol: float
    max_steps: int
    gates: bool
    currents: bool
    max_spikes: int
    threshold: float
    stimulus_batched: bool
    # "auto": re-integrate flagged neurons inside the compiled function (under
    # an outer jit/grad), else report them (``only`` = the flagged ones for a
    # second call, None = all) and let the caller re-integrate them.
    fallback_in_graph: bool = True
    dVdt: bool = False  # save dV/dt (mV/ms) as Trace.dVdt (implied by currents)
    error_bound: float = AUTO_ERROR_BOUND  # "auto": re-integrate above this


def auto_defaults(dtype) -> tuple[float, float]:
    """Method "auto"'s (Tsit5 step in ms, error bound) for state of `dtype`."""
    return AUTO.get(np.dtype(dtype).itemsize, AUTO[8])


def method_name(settings: Settings, grid) -> str:
    if settings.method == "adaptive" or (settings.method == "auto" and grid is None):
        return f"adaptive (tsit5, rtol={settings.rtol:g}, atol={settings.atol:g})"
    base = "tsit5" if settings.method == "auto" else settings.method
    name = f"{base} (fixed dt={settings.dt:g} ms)"
    if settings.method == "auto":
        name = "auto: " + name + ", adaptive where the error estimate exceeds the bound"
    return name


def host_grid(settings: Settings, ts, stimulus, n_lanes: int):
    """The fixed-step grid, or None (adaptive) when the method is adaptive or the
    discontinuities are traced or too many for a shared grid."""
    if settings.method == "adaptive":
        return None
    with jax.ensure_compile_time_eval():
        ts_np = concrete(ts)
        jumps = (
            concrete(stimulus.jump_times())
            if not settings.stimulus_batched
            else (
                concrete(jax.vmap(lambda s: jnp.atleast_1d(s.jump_times()))(stimulus))
            )
        )
    if ts_np is None or jumps is None:
        if settings.method == "auto":
            return None
        raise ValueError(
            f"method {settings.method!r} needs concrete save times and stimulus "
            "discontinuities (known outside jit: they become grid points); use "
            "method='adaptive' for traced ones."
        )
    jumps = np.unique(np.ravel(jumps)[np.isfinite(np.ravel(jumps))])
    inside = jumps[(jumps > ts_np[0]) & (jumps < ts_np[-1])]
    if settings.method == "auto" and inside.size > MAX_SHARED_JUMPS:
        return None
    # Chunks of C steps are the unit of the reverse-mode adjoint's checkpoints.
    return step_grid(ts_np.astype(np.float64), jumps, settings.dt, chunk=4)


def _cast(tree, dtype):
    return jax.tree.map(
        lambda x: (
            x.astype(dtype)
            if eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.floating)
            else x
        ),
        tree,
    )


def _invalid_state(y0: State) -> jax.Array:
    bad = ~jnp.isfinite(y0.V)
    for x in y0.gates.values():
        bad = bad | ~jnp.isfinite(x)
    return bad


def _adaptive_kinds(p):
    lanes, y0, ts, hmax, active = p
    N = y0[0].shape[0]
    kinds = [
        bool(jnp.ndim(x) >= 1 and jnp.shape(x)[0] == N)
        for x in jax.tree.leaves(lanes.model)
    ]
    kinds += [lanes.stimulus_batched] * len(jax.tree.leaves(lanes.stimulus))
    kinds += [None]  # the jump times: no derivative by convention
    return kinds + [True] * len(y0) + [None, None, None]


def _adaptive(lanes, y0, ts, settings: Settings, n_saved, active, wrapped=True):
    """The adaptive solver; `wrapped`: with its own forward and reverse
    derivatives (:func:`._adjoint.differentiable`), else plain JAX (for use
    inside another such function, which only takes its forward derivatives)."""
    hmax = 2.0 / lanes.fastest_rate(y0)
    hmax = jnp.where(jnp.isfinite(hmax) & (hmax > 0), hmax, jnp.inf)
    hmax = jax.lax.stop_gradient(hmax)

    def plain(p):
        lanes, y0, ts, hmax, active = p
        sol = adaptive_solver.solve(
            lanes,
            TSIT5,
            ts,
            y0,
            rtol=settings.rtol,
            atol=settings.atol,
            max_steps=settings.max_steps,
            hmax=hmax,
            save_all=n_saved > 1,
            save_dVdt=True,
            max_spikes=settings.max_spikes,
            threshold=settings.threshold,
            active=active > 0.5,
        )
        f = lambda x: x.astype(ts.dtype)  # noqa: E731
        aux = (f(sol.finished), f(sol.failed), f(sol.num_steps))
        if settings.max_spikes:
            aux = aux + (f(sol.spike_count),)
        # The lane axis last, as `differentiable` expects.
        T = lambda x: None if x is None else x.T  # noqa: E731
        return (tuple(T(x) for x in sol.ys), T(sol.dVdt), T(sol.spikes)), aux

    f = differentiable(plain, _adaptive_kinds) if wrapped else plain
    (ys, dVdt, spikes), aux = f((lanes, y0, ts, hmax, active.astype(ts.dtype)))
    ys = tuple(x.T for x in ys)
    dVdt = dVdt.T
    spikes = None if spikes is None else spikes.T
    finished, failed, steps = (aux[0] > 0.5), (aux[1] > 0.5), aux[2]
    count = aux[3].astype(jnp.int32) if settings.max_spikes else None
    return ys, dVdt, spikes, count, finished, failed, steps.astype(jnp.int32)


def _fixed_solve(lanes, y0, grid, settings: Settings, n_saved, tableau, wrapped=True):
    out = _fixed.solve(
        lanes,
        tableau,
        grid,
        y0,
        n_saved=n_saved,
        spikes=settings.max_spikes > 0,
        threshold=settings.threshold,
        rtol=MONITOR_TOL,
        atol=MONITOR_TOL,
        save_dVdt=settings.dVdt or settings.currents,
        differentiable=wrapped,
    )
    ys = tuple(jnp.concatenate([y0[c][None], s]).T for c, s in enumerate(out.saved))
    dVdt = None
    if out.dVdt is not None:
        f0 = _fixed.start_derivative(
            lanes, jnp.asarray(grid.t_start[0], y0[0].dtype), grid.h[0], y0
        )
        dVdt = jnp.concatenate([f0[0][None], out.dVdt]).T
    spikes = count = None
    if settings.max_spikes:
        spikes, count = _fixed.compact_spikes(out.crossings, settings.max_spikes)
    return ys, dVdt, spikes, count, out.error


def _auto_kinds(p):
    lanes, y0, ts, invalid, grid_arrays = p
    kinds = _adaptive_kinds((lanes, y0, ts, None, None))[:-3]
    return kinds + [None, None] + [None] * len(grid_arrays)


def _auto_in_graph(lanes, y, ts, grid, settings: Settings, n_saved, invalid):
    """Method "auto" inside one program (under jit or autodiff, where the flagged
    neurons are not known when it is built): the shared Tsit5 steps, and the
    adaptive lanes for the neurons whose error estimate exceeds the bound, in a
    conditional that runs only if there are any.

    The whole is one differentiable function (:func:`._adjoint.differentiable`)
    whose forward derivatives are taken through both solvers at once: under
    ``jax.grad`` the conditional then runs only its taken branch, where
    reverse-mode differentiation of a conditional keeps the residuals of both
    branches (gradient of W(1e4), float64, 2-core CPU: 1.91 GB peak RSS and
    4.0 s, against 2.24 GB and 4.5 s with each solver's own derivatives). When the
    sensitivities would exceed ``SENSITIVITY_BYTES``, reverse mode goes through
    each solver's own derivatives instead (the fixed steps' checkpointed
    adjoint)."""
    N = y[0].shape[0]

    def run(p, wrapped):
        # The grid's arrays too: under filter_jit they are traced (and a
        # custom_jvp function must not close over tracers); its chunk is static.
        lanes, y, ts, invalid, grid_arrays = p
        grid = type(static_grid)(*grid_arrays, static_grid.chunk)
        ys, dVdt, spikes, count, error = _fixed_solve(
            lanes, y, grid, settings, n_saved, TSIT5, wrapped
        )
        bad = ~(invalid > 0.5) & ~(error <= settings.error_bound)

        def redo(_):
            out = _adaptive(lanes, y, ts, settings, n_saved, bad, wrapped)
            return out if dVdt is not None else (out[0], None) + out[2:]

        def keep(_):
            return (
                ys,
                dVdt,
                spikes,
                count,
                jnp.ones(N, bool),
                jnp.zeros(N, bool),
                jnp.zeros(N, jnp.int32),
            )

        again = jax.lax.cond(jnp.any(bad), redo, keep, None)

        def pick(a, b):
            if a is None:
                return None
            mask = bad.reshape((N,) + (1,) * (a.ndim - 1))
            return jnp.where(mask, b, a)

        ys = tuple(pick(a, b) for a, b in zip(ys, again[0]))
        f = lambda x: x.astype(ts.dtype)  # noqa: E731
        aux = (
            f(jnp.where(bad, again[4], True)),
            f(jnp.where(bad, again[5], False)),
            f(jnp.where(bad, again[6], grid.n_steps)),
        )
        if count is not None:
            aux = aux + (f(pick(count, again[3])),)
        # The lane axis last, as `differentiable` expects.
        T = lambda x: None if x is None else x.T  # noqa: E731
        outputs = (
            tuple(x.T for x in ys),
            T(pick(dVdt, again[1])),
            T(pick(spikes, again[2])),
        )
        return outputs, aux

    def prepare(p):
        outputs, aux = run(p, True)
        return outputs, aux, None

    def reverse(p, _, ct):
        return jax.vjp(lambda q: run(q, True)[0], p)[1](ct)[0]

    f = differentiable(
        lambda p: run(p, False), _auto_kinds, reverse=reverse, prepare=prepare
    )
    static_grid = grid
    (ys, dVdt, spikes), aux = f((lanes, y, ts, invalid.astype(ts.dtype), grid[:4]))
    T = lambda x: None if x is None else x.T  # noqa: E731
    count = aux[3].astype(jnp.int32) if len(aux) > 3 else None
    return (
        tuple(x.T for x in ys),
        T(dVdt),
        T(spikes),
        count,
        aux[0] > 0.5,
        aux[1] > 0.5,
        aux[2].astype(jnp.int32),
    )


def solve(
    model: PointNeuron,
    stimulus,
    ts: jax.Array,
    y0: State,
    settings: Settings,
    grid,
    active=None,
) -> tuple[Trace, jax.Array]:
    """Integrate a batch of N neurons (model fields scalar or (N,), y0 fields (N,)
    or scalar). Returns their Trace (arrays (N, T)) and the mask of neurons that
    method "auto" flags for re-integration (all False once done in the graph).
    With `active` (grid None: adaptive) only those neurons are integrated."""
    dtype = ts.dtype
    model = _cast(model, dtype)
    stimulus = _cast(stimulus, dtype)
    y0 = _cast(y0, dtype)
    names = model.gate_names
    leaves = [y0.V] + [y0.gates[g] for g in names] + jax.tree.leaves(model)
    if settings.stimulus_batched:
        leaves += [x for x in jax.tree.leaves(stimulus) if eqx.is_array(x)]
    N = max((x.shape[0] for x in leaves if jnp.ndim(x) >= 1), default=1)

    invalid = (model.invalid_parameters() | _invalid_state(y0)) & jnp.ones(N, bool)
    model = model.defaults_where(invalid)
    rest = steady_state(model, jnp.asarray(-65.0, dtype))
    y0 = jax.tree.map(lambda x, safe: jnp.where(invalid, safe, x), y0, rest)
    y = (jnp.broadcast_to(y0.V, (N,)),) + tuple(
        jnp.broadcast_to(y0.gates[g], (N,)) for g in names
    )
    lanes = Lanes.build(model, stimulus, settings.stimulus_batched, dtype)
    n_saved = len(y) if (settings.gates or settings.currents) else 1

    flagged = jnp.zeros(N, bool)
    if grid is None:
        mask = jnp.ones(N, bool) if active is None else active
        ys, dVdt, spikes, count, finished, failed, steps = _adaptive(
            lanes, y, ts, settings, n_saved, mask
        )
    elif settings.method == "auto" and settings.fallback_in_graph:
        ys, dVdt, spikes, count, finished, failed, steps = _auto_in_graph(
            lanes, y, ts, grid, settings, n_saved, invalid
        )
    else:
        tableau = FIXED["tsit5" if settings.method == "auto" else settings.method]
        ys, dVdt, spikes, count, error = _fixed_solve(
            lanes, y, grid, settings, n_saved, tableau
        )
        finished = jnp.ones(N, bool)
        failed = jnp.zeros(N, bool)
        steps = jnp.full((N,), grid.n_steps, jnp.int32)
        if settings.method == "auto":  # the caller re-integrates these
            flagged = ~invalid & ~(error <= settings.error_bound)

    finite = jnp.all(jnp.isfinite(ys[0]), axis=-1)
    status = jnp.where(
        finished,
        jnp.where(finite, Status.OK, Status.NON_FINITE),
        jnp.where(failed, Status.SOLVER_FAILED, Status.MAX_STEPS_REACHED),
    )
    status = jnp.where(invalid, Status.INVALID_INPUT, status).astype(jnp.int32)
    nan = lambda x: jnp.where(invalid[:, None], jnp.nan, x)  # noqa: E731
    ys = tuple(nan(x) for x in ys)
    V = ys[0]
    gates = {g: ys[i + 1] for i, g in enumerate(names)} if settings.gates else {}
    currents = {"dVdt": nan(dVdt)} if settings.dVdt else {}
    if settings.currents:
        states = State(ys[0], {g: ys[i + 1] for i, g in enumerate(names)})
        axes = jax.tree.map(lambda x: 0 if jnp.ndim(x) >= 1 else None, model)
        currents = dict(
            jax.vmap(lambda m, s: m.currents(s), in_axes=(axes, 0))(model, states)
        )
        if settings.stimulus_batched:
            I_ext = jax.vmap(lambda s: jax.vmap(s)(ts))(stimulus)
        else:
            I_ext = jnp.broadcast_to(jax.vmap(stimulus)(ts), V.shape)
        currents["I_ext"] = I_ext.astype(dtype)
        currents["dVdt"] = nan(dVdt)
    trace = Trace(
        t=ts,
        V=V,
        gates=gates,
        currents=currents,
        status=status,
        num_steps=steps,
        spikes=None if spikes is None else jnp.where(invalid[:, None], jnp.nan, spikes),
        spike_count=count,
        dVdt=nan(dVdt) if (settings.dVdt or settings.currents) else None,
        method=method_name(settings, grid),
    )
    return trace, flagged
