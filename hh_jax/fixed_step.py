"""The fast path for large batches: classical fixed-step RK4, vectorised over neurons.

A vmapped adaptive solve advances every neuron in lock-step until the slowest has
finished, paying the step-size machinery for each. Here all neurons share one time
grid and the batch is simply the trailing axis of the state: every step is a few
fused elementwise kernels over arrays of shape (n_state, N). The grid is built on
the host so that every save time and every stimulus discontinuity is a grid point
(each save interval holds the same number of steps, at most `dt` long), and the
stimulus is evaluated strictly inside each step, so edges are exact as in the
adaptive path.

Accuracy: fourth order in `dt`; measured on W(N) (docs/performance.md): with
``dt = 0.05`` ms the largest spike-time error is ~2e-4 ms in float64. Saved with
each V is dV/dt, so that spike times can be interpolated with cubic Hermite
polynomials (:func:`hh_jax.spike_times` with `dVdt`), accurate on a coarse grid.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from ._checks import check_increasing, concrete
from .model import PointNeuron, State, as_state
from .stimulus import AbstractStimulus, as_stimulus
from .trace import Trace, status_from_flags


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


def _derivative(model, stimulus, names, t_lo, t_hi, t, Y):
    """d/dt of the stacked state Y (n_state, ...), the stimulus evaluated at `t`
    clamped strictly inside the current step (t_lo, t_hi)."""
    inside = jnp.clip(t, t_lo + 1e-7 * (t_hi - t_lo), t_hi - 1e-7 * (t_hi - t_lo))
    state = State(Y[0], {g: Y[i + 1] for i, g in enumerate(names)})
    d = model.derivative(state, stimulus(inside))
    return jnp.stack([d.V] + [d.gates[g] for g in names])


def _hermite_root(v0, v1, m0, m1, threshold, iterations: int = 3):
    """Fraction s in [0, 1] of a step where the cubic Hermite interpolant through
    (V, h dV/dt) at both ends crosses `threshold`: Newton from the linear guess."""
    a0, a1 = v0 - threshold, v1 - threshold
    s = jnp.clip(a0 / jnp.where(a0 == a1, 1.0, a0 - a1), 0.0, 1.0)
    for _ in range(iterations):
        s2 = s * s
        s3 = s2 * s
        p = (2 * s3 - 3 * s2 + 1) * a0 + (s3 - 2 * s2 + s) * m0
        p = p + (-2 * s3 + 3 * s2) * a1 + (s3 - s2) * m1
        dp = (6 * s2 - 6 * s) * a0 + (3 * s2 - 4 * s + 1) * m0
        dp = dp + (-6 * s2 + 6 * s) * a1 + (3 * s2 - 2 * s) * m1
        s = jnp.clip(s - p / jnp.where(dp == 0, 1.0, dp), 0.0, 1.0)
    return s


def _record_spikes(spikes, count, t, h, V0, V1, dV0, dV1, threshold):
    """Write the crossing times of this step into each neuron's next free slot."""
    crossed = (V0 < threshold) & (V1 >= threshold)
    s = _hermite_root(V0, V1, h * dV0, h * dV1, threshold)
    slots = spikes.shape[-1]
    index = jnp.minimum(count, slots - 1)
    write = crossed & (count < slots)
    old = jnp.take_along_axis(spikes, index[..., None], axis=-1)[..., 0]
    new = jnp.where(write, t + h * s, old)
    rows = jnp.indices(count.shape)
    spikes = spikes.at[(*rows, index)].set(new)
    return spikes, count + crossed.astype(count.dtype)


def _rk4_interval(model, stimulus, names, threshold, save_gates, carry, steps):
    """Advance (t, Y, dY/dt at t, spikes, count) over one save interval of steps
    `steps` (K,); return the carry and what is saved at the interval's end."""

    def one(k, c):
        t, Y, k1, spikes, count = c
        h = steps[k]
        f = lambda s, y: _derivative(model, stimulus, names, t, t + h, s, y)  # noqa: E731
        k2 = f(t + 0.5 * h, Y + 0.5 * h * k1)
        k3 = f(t + 0.5 * h, Y + 0.5 * h * k2)
        k4 = f(t + h, Y + h * k3)
        Y_new = Y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        t_new = t + h
        # Slope at the new point, for the next step (stimulus: just after t_new).
        k1_new = _derivative(model, stimulus, names, t_new, t_new + h, t_new, Y_new)
        if spikes is not None:
            spikes, count = _record_spikes(
                spikes, count, t, h, Y[0], Y_new[0], k1[0], k1_new[0], threshold
            )
        return t_new, Y_new, k1_new, spikes, count

    carry = jax.lax.fori_loop(0, steps.shape[0], one, carry)
    _, Y, k1, _, _ = carry
    return carry, (Y if save_gates else Y[:1], k1[0])


@eqx.filter_jit
def _integrate(
    model,
    stimulus,
    t0,
    Y0,
    schedule,
    names,
    checkpoint,
    max_spikes,
    threshold,
    save_gates,
):
    def body(carry, steps):
        return _rk4_interval(
            model, stimulus, names, threshold, save_gates, carry, steps
        )

    if checkpoint:
        body = jax.checkpoint(body)
    k1 = _derivative(model, stimulus, names, t0, t0 + schedule[1, 0], t0, Y0)
    if max_spikes:
        spikes = jnp.full(Y0.shape[1:] + (max_spikes,), jnp.nan, Y0.dtype)
        count = jnp.zeros(Y0.shape[1:], jnp.int32)
    else:
        spikes = count = None
    carry = (t0, Y0, k1, spikes, count)
    # Row 0 of the schedule is all zeros: it "advances" to ts[0], so the scan's
    # outputs line up with every save time without copying to prepend the start.
    carry, (Ys, dV) = jax.lax.scan(body, carry, schedule)
    return Ys, dV, carry[3], carry[4]


def simulate_fixed(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"],
    *,
    dt: float = 0.05,
    y0: State | Float[ArrayLike, "... n"] | None = None,
    gates: bool = False,
    checkpoint: bool = True,
    max_spikes: int = 0,
    threshold: float = 0.0,
) -> Trace:
    """Simulate a (batched) model with fixed-step RK4 on a shared time grid.

    **Arguments:**

    - `model`: a :class:`hh_jax.PointNeuron`; fields with a leading axis of length
      N make a batch of N neurons (no ``vmap`` needed: the batch is vectorised).
    - `stimulus`: shared by all neurons (uA/cm^2). Its jump times must be concrete
      (known outside ``jit``): they become grid points.
    - `ts`: save times (ms), concrete and increasing.
    - `dt`: largest step (ms). 0.05 ms gives spike times within ~2e-4 ms (f64).
    - `y0`: initial state (default: steady state at -65 mV), shared or batched.
    - `gates`: also return the gates at the save times.
    - `checkpoint`: recompute each save interval in reverse mode (memory grows with
      the number of save times, not of steps).
    - `max_spikes`: if > 0, record each neuron's first `max_spikes` upward
      crossings of `threshold` (mV) during integration, each located within its
      step by the cubic Hermite interpolant of V and dV/dt at the step's ends
      (fourth order in `dt`): ``trace.spikes`` (ms, NaN-padded) and
      ``trace.spike_count`` (the full count). More accurate than spike times
      interpolated from the saved grid, and independent of it.

    **Returns:** a :class:`hh_jax.Trace` whose arrays have the batch axis first,
    ``(N, T)`` (or ``(T,)`` unbatched), with ``currents["dVdt"]`` holding dV/dt
    (mV/ms) at the save times. Status is NON_FINITE for members that blew up.
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    stimulus = as_stimulus(stimulus)
    if not (isinstance(dt, int | float) and dt > 0):
        raise ValueError(f"`dt` must be a positive number of ms; got {dt!r}.")
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
    model.check_values()
    jumps = np.unique(np.ravel(jumps)[np.isfinite(np.ravel(jumps))])
    ts = jnp.asarray(ts)
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.result_type(float))
    schedule = step_schedule(ts_np.astype(float), jumps, dt)
    schedule = np.concatenate([np.zeros((1, schedule.shape[1])), schedule])
    schedule = jnp.asarray(schedule, ts.dtype)
    names = model.gate_names
    batch = jnp.broadcast_shapes(*(jnp.shape(x) for x in jax.tree.leaves(model)))
    state = as_state(model, y0)
    Y0 = jnp.stack(
        [jnp.broadcast_to(state.V, batch)]
        + [jnp.broadcast_to(state.gates[g], batch) for g in names]
    ).astype(ts.dtype)
    Ys, dV, spikes, count = _integrate(
        model,
        stimulus,
        ts[0],
        Y0,
        schedule,
        names,
        checkpoint,
        int(max_spikes),
        float(threshold),
        bool(gates),
    )
    # (T, n, ...) -> (..., T) per quantity.
    move = lambda x: jnp.moveaxis(x, 0, -1)  # noqa: E731
    V = move(Ys[:, 0])
    finite = jnp.all(jnp.isfinite(V), axis=-1)
    invalid = model.invalid_parameters() | jnp.zeros(batch, bool)
    import diffrax as dfx

    status = status_from_flags(dfx.RESULTS.successful, finite, invalid)
    return Trace(
        t=ts,
        V=V,
        gates={g: move(Ys[:, i + 1]) for i, g in enumerate(names)} if gates else {},
        currents={"dVdt": move(dV)},
        status=status,
        num_steps=jnp.full(batch, schedule.size, jnp.int32),
        spikes=spikes,
        spike_count=count,
    )
