"""Fixed-step integration of a batch of neurons on a shared time grid.

All neurons share the steps and the batch is the trailing axis of the state:
every step is a few fused elementwise kernels over arrays of shape (N,)
(:mod:`hh_jax.solvers`). The grid is built on the host: uniform steps of at most
`dt` between consecutive stimulus discontinuities (each a step boundary, the
stimulus evaluated strictly inside each step, so edges are exact), independent
of the save times, which are written by cubic Hermite interpolation of each
step (value and dV/dt).

Accuracy: classical RK4 is fourth order in `dt`; the Tsitouras 5(4) pair
(``method="tsit5"``) fifth order and far more accurate per evaluation here
(docs/performance.md). Saved with each V is dV/dt (``Trace.dVdt``), so that
spike times can be interpolated with cubic Hermite polynomials
(:func:`hh_jax.spike_times` with `dVdt`), accurate on a coarse grid.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from ._checks import check_increasing, concrete
from .initial_state import InitialState, resolve_y0
from .model import PointNeuron
from .solvers import _batch as fast
from .spikes import THRESHOLD, check_threshold
from .stimulus import AbstractStimulus, as_stimulus
from .trace import Trace


def step_schedule(ts: np.ndarray, jumps: np.ndarray, dt: float) -> np.ndarray:
    """Step sizes (ms) as a table (T - 1, K): row i subdivides the save interval
    [ts[i], ts[i+1]] into K steps (K the same for every row) such that every jump
    time inside the interval is a step boundary and no step exceeds `dt`."""
    gaps = np.diff(ts)
    inner = [jumps[(jumps > a) & (jumps < b)] for a, b in zip(ts[:-1], ts[1:])]
    K = max(int(math.ceil(np.max(gaps) / dt - 1e-9)), 1)
    K = max(K, max(len(j) for j in inner) + 1)

    def split(a, b, points):
        edges = np.concatenate([[a], np.sort(points), [b]])
        lengths = np.diff(edges)
        # Give each segment at least one step, the rest in proportion to length.
        counts = np.maximum(np.ceil(lengths / dt - 1e-9).astype(int), 1)
        while counts.sum() < K:
            counts[np.argmax(lengths / counts)] += 1
        if counts.sum() > K:  # cannot happen: K covers the uniform case
            raise AssertionError("step schedule overflow")
        return np.concatenate([np.full(c, seg / c) for c, seg in zip(counts, lengths)])

    rows = []
    for (a, b), points in zip(zip(ts[:-1], ts[1:]), inner):
        if len(points) == 0:
            rows.append(np.full(K, (b - a) / K))
        else:
            rows.append(split(a, b, points))
    return np.stack(rows)


@eqx.filter_jit
def _solve(model, stimulus, ts, y0, settings, grid):
    trace, _ = fast.solve(model, stimulus, ts, y0, settings, grid)
    return trace


def simulate_fixed(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"],
    *,
    dt: float = 0.05,
    y0: InitialState | None = "steady",
    gates: bool = False,
    checkpoint: bool = True,
    max_spikes: int = 0,
    threshold: float = THRESHOLD,
    method: str = "rk4",
) -> Trace:
    """Simulate a (batched) model with fixed steps on a shared time grid.

    **Arguments:**

    - `model`: a :class:`hh_jax.PointNeuron`; fields with a leading axis of length
      N make a batch of N neurons (no ``vmap`` needed: the batch is vectorised).
    - `stimulus`: shared by all neurons (uA/cm^2). Its jump times must be concrete
      (known outside ``jit``): they become grid points.
    - `ts`: save times (ms), concrete and increasing.
    - `dt`: largest step (ms). With RK4, 0.025 ms gives spike times within
      ~2e-4 ms of NEURON on its reference cases (f64).
    - `y0`: initial state, as for :func:`hh_jax.simulate` (``"steady"``, the
      default, ``"rest"``: each neuron's own resting state, a State or an
      array), shared or batched.
    - `gates`: also return the gates at the save times.
    - `checkpoint`: kept for compatibility; derivatives now come from the
      solver's own forward sensitivities / discrete adjoint
      (:mod:`hh_jax.solvers`), whatever its value.
    - `max_spikes`: if > 0, record each neuron's first `max_spikes` upward
      crossings of `threshold` (mV, default -20) during integration, each located
      within its step by the cubic Hermite interpolant of V and dV/dt at the
      step's ends (fourth order in `dt`): ``trace.spikes`` (ms, NaN-padded) and
      ``trace.spike_count`` (the full count). More accurate than spike times
      interpolated from the saved grid, and independent of it.
    - `method`: ``"rk4"`` (classical RK4) or ``"tsit5"`` (the Tsitouras 5(4) pair).

    **Returns:** a :class:`hh_jax.Trace` whose arrays have the batch axis first,
    ``(N, T)`` (or ``(T,)`` unbatched), with ``trace.dVdt`` holding dV/dt
    (mV/ms) at the save times (also as ``currents["dVdt"]``, its name in earlier
    versions). Status is NON_FINITE for members that blew up (INVALID_INPUT for
    a member without a resting state under ``y0="rest"``).
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    stimulus = as_stimulus(stimulus)
    if not (isinstance(dt, int | float) and dt > 0):
        raise ValueError(f"`dt` must be a positive number of ms; got {dt!r}.")
    if method not in fast.FIXED:
        raise ValueError(
            f"`method` must be one of {tuple(fast.FIXED)}; got {method!r}."
        )
    ts_np = concrete(ts)
    if ts_np is None:
        raise ValueError("simulate_fixed needs concrete save times `ts` (not traced).")
    check_increasing("ts", ts_np, "ms")
    if ts_np.ndim != 1 or ts_np.size < 2:
        raise ValueError("`ts` must be a 1-D array of at least two save times (ms).")
    with jax.ensure_compile_time_eval():  # concrete even inside an outer jit
        jumps = concrete(stimulus.jump_times())
    if jumps is None:
        raise ValueError(
            "simulate_fixed needs the stimulus's jump times outside jit (they become "
            "grid points); use hh_jax.simulate for traced stimuli."
        )
    check_threshold(threshold)
    model.check_values()
    ts = jnp.asarray(ts)
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.result_type(float))
    del checkpoint
    settings = fast.Settings(
        method=method,
        dt=float(dt),
        rtol=fast.DEFAULT_ADAPTIVE_TOL,
        atol=fast.DEFAULT_ADAPTIVE_TOL,
        max_steps=1,
        gates=bool(gates),
        currents=False,
        max_spikes=int(max_spikes),
        threshold=float(threshold),
        stimulus_batched=False,
        dVdt=True,
    )
    grid = fast.host_grid(settings, ts_np, stimulus, 1)
    state = resolve_y0(model, y0, throw=False)
    if not (y0 is None or isinstance(y0, str)):
        # concrete values only: NaN V or a gate outside [0, 1]
        model.check_state(state)
    batch = jnp.broadcast_shapes(
        *(jnp.shape(x) for x in jax.tree.leaves((model, state)))
    )
    n = int(np.prod(batch, dtype=int))
    flat = lambda x: jnp.reshape(jnp.broadcast_to(x, batch), (n,))  # noqa: E731
    lanes_model = jax.tree.map(lambda x: flat(x) if jnp.ndim(x) else x, model)
    lanes_state = jax.tree.map(flat, state)
    trace = _solve(lanes_model, stimulus, ts, lanes_state, settings, grid)
    # (n, ...) -> batch + (...)
    shape = lambda x: None if x is None else x.reshape(batch + x.shape[1:])  # noqa: E731
    return Trace(
        t=ts,
        V=shape(trace.V),
        gates={g: shape(v) for g, v in trace.gates.items()},
        currents={k: shape(v) for k, v in trace.currents.items()},
        status=shape(trace.status),
        num_steps=shape(trace.num_steps),
        spikes=shape(trace.spikes),
        spike_count=shape(trace.spike_count),
        dVdt=shape(trace.dVdt),
        method=trace.method,
    )
