"""Per-lane adaptive explicit Runge–Kutta inside one vectorised loop.

Every lane (neuron) has its own time, step size and error controller; one
iteration of the loop attempts one step in every lane at once (a few fused
elementwise kernels over arrays of shape (N,)). A lane whose step is rejected
retries with a smaller one in the next iteration; a lane that has finished
idles. So the cost is the largest number of step attempts over the lanes, not
(as with ``jax.vmap`` of an adaptive solver, which advances in lock-step with
one step size for the batch and per-member bookkeeping) the sum of everybody's
difficulties.

Every lane steps exactly onto its stimulus discontinuities (the stimulus is
evaluated strictly inside each step) and onto the end time. The solution is
written at the save times by cubic Hermite interpolation of each accepted step
(its end values and derivatives), and spikes are located inside the steps by the
same interpolant, so the steps do not depend on the save grid.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ._events import record_spikes
from ._lanes import Lanes, hermite, where
from ._step import current, inside, rk_step
from ._tableaus import Tableau

SAFETY, FACTOR_MIN, FACTOR_MAX = 0.9, 0.2, 10.0


class Solution(NamedTuple):
    """What a batched solver returns (arrays with the lane axis first)."""

    ys: tuple[Float[Array, "N T"], ...]  # saved state variables (V first)
    dVdt: Float[Array, "N T"] | None
    spikes: Float[Array, "N S"] | None
    spike_count: Int[Array, " N"] | None
    finished: Bool[Array, " N"]  # reached the end time
    failed: Bool[Array, " N"]  # step size collapsed / non-finite step
    num_steps: Int[Array, " N"]  # accepted steps
    num_rejected: Int[Array, " N"]


def _rms(parts):
    total = None
    for p in parts:
        total = p * p if total is None else total + p * p
    norm = jnp.sqrt(total / len(parts))
    return jnp.where(jnp.isnan(norm), jnp.inf, norm)


def initial_step(lanes: Lanes, y0, f0, t0, t_end, order, rtol, atol, hmax):
    """Hairer, Nørsett & Wanner's starting step (Solving ODEs I, II.4), per lane."""
    scale = tuple(atol + rtol * jnp.abs(y) for y in y0)
    d0 = _rms([y / s for y, s in zip(y0, scale)])
    d1 = _rms([f / s for f, s in zip(f0, scale)])
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1)
    h0 = jnp.minimum(jnp.minimum(h0, hmax), t_end - t0)
    y1 = tuple(y + h0 * f for y, f in zip(y0, f0))
    _, hi = inside(t0, h0)
    f1 = lanes.rhs(y1, current(lanes, hi, y1[0].shape[0]))
    d2 = _rms([(a - b) / s for a, b, s in zip(f1, f0, scale)]) / h0
    dmax = jnp.maximum(d1, d2)
    h1 = jnp.where(
        dmax <= 1e-15,
        jnp.maximum(1e-6, h0 * 1e-3),
        (0.01 / jnp.where(dmax <= 1e-15, 1.0, dmax)) ** (1.0 / (order + 1)),
    )
    h = jnp.minimum(jnp.minimum(100 * h0, h1), hmax)
    return jnp.where(jnp.isfinite(h) & (h > 0), h, 1e-6)


class _Carry(NamedTuple):
    t: Array
    y: tuple
    f: tuple  # derivative at (t, y) under the stimulus of the step that follows
    h: Array
    j: Array  # next save index to write
    out: tuple  # (N, T) arrays: saved components, then dV/dt if asked
    spikes: Array | None
    count: Array | None
    steps: Array
    rejected: Array
    failed: Array
    iteration: Array


def solve(
    lanes: Lanes,
    tableau: Tableau,
    ts: Float[Array, " T"],
    y0: tuple,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
    hmax: Float[Array, " N"],
    save_all: bool,
    save_dVdt: bool,
    max_spikes: int,
    threshold: float,
    active: Bool[Array, " N"] | None = None,
) -> Solution:
    """Integrate every lane from ``ts[0]`` to ``ts[-1]`` with the adaptive pair
    `tableau`; see the module docstring. Lanes where `active` is False are not
    integrated (they are reported finished, with their initial state saved)."""
    dtype = ts.dtype
    N = y0[0].shape[0]
    T = ts.shape[0]
    t0, t_end = ts[0], ts[-1]
    t = jnp.full((N,), t0, dtype)
    if active is not None:
        t = jnp.where(active, t, t_end)
    lo, _ = inside(t, jnp.ones_like(t))
    f0 = lanes.rhs(y0, current(lanes, lo, N))
    h = initial_step(lanes, y0, f0, t, t_end, tableau.error_order, rtol, atol, hmax)
    n_saved = len(y0) if save_all else 1
    out = tuple(jnp.zeros((N, T), dtype).at[:, 0].set(y0[c]) for c in range(n_saved))
    if save_dVdt:
        out = out + (jnp.zeros((N, T), dtype).at[:, 0].set(f0[0]),)
    if max_spikes:
        spikes = jnp.full((N, max_spikes), jnp.nan, dtype)
        count = jnp.zeros((N,), jnp.int32)
    else:
        spikes = count = None
    zeros = jnp.zeros((N,), jnp.int32)
    carry = _Carry(
        t=t,
        y=y0,
        f=f0,
        h=h,
        j=jnp.ones((N,), jnp.int32),
        out=out,
        spikes=spikes,
        count=count,
        steps=zeros,
        rejected=zeros,
        failed=jnp.zeros((N,), bool),
        iteration=jnp.asarray(0, jnp.int32),
    )
    rows = jnp.arange(N)
    exponent = -1.0 / (tableau.error_order + 1)

    def active_of(c: _Carry):
        return (c.t < t_end) & ~c.failed

    def cond(c: _Carry):
        return jnp.any(active_of(c)) & (c.iteration < max_steps)

    def body(c: _Carry) -> _Carry:
        active = active_of(c)
        stop = jnp.minimum(lanes.next_jump(c.t), t_end)
        h_try = jnp.minimum(c.h, hmax)
        lands = h_try >= (stop - c.t) * (1 - 1e-9)
        t_new = jnp.where(lands, stop, c.t + h_try)
        t_new = jax.lax.stop_gradient(jnp.where(active, t_new, c.t))
        h_step = t_new - c.t
        y_new, f_new, f_next, err = rk_step(
            lanes, tableau, c.t, h_step, c.y, c.f, rtol, atol
        )
        finite = jnp.all(jnp.stack([jnp.isfinite(x) for x in y_new]), axis=0)
        err = jnp.where(finite & ~jnp.isnan(err), err, jnp.inf)
        accept = active & (err <= 1.0)

        # Step-size control (integral controller on the embedded error).
        # The power in float32: cheaper, and ample for a step-size factor.
        err32 = jnp.where(err == 0.0, 1.0, err).astype(jnp.float32)
        factor = jnp.where(
            err == 0.0, FACTOR_MAX, (SAFETY * err32**exponent).astype(err.dtype)
        )
        factor = jnp.clip(factor, FACTOR_MIN, jnp.where(accept, FACTOR_MAX, 1.0))
        factor = jnp.where(jnp.isfinite(err), factor, FACTOR_MIN)
        h_next = h_step * factor
        # A step shortened to land on a discontinuity says nothing about the
        # step the dynamics allow: keep the attempted size.
        h_next = jnp.where(accept & lands, jnp.maximum(h_next, h_try), h_next)
        h_next = jnp.where(active, h_next, c.h)
        # Step sizes are not differentiated: derivatives are those of the
        # discrete solution on the steps taken.
        h_next = jax.lax.stop_gradient(h_next)
        ulp = 2 * jnp.finfo(h_next.dtype).eps * jnp.maximum(jnp.abs(c.t), 1.0)
        failed = c.failed | (active & ~accept & ~(h_next > 4 * ulp))

        # Save points in (t, t_new] of accepted steps, by Hermite interpolation.
        def emit_cond(e):
            j, _ = e
            jc = jnp.minimum(j, T - 1)
            return jnp.any(accept & (j < T) & (ts[jc] <= t_new))

        def emit_body(e):
            j, out = e
            jc = jnp.minimum(j, T - 1)
            emit = accept & (j < T) & (ts[jc] <= t_new)
            theta = jnp.where(
                h_step > 0, (ts[jc] - c.t) / jnp.where(h_step > 0, h_step, 1.0), 1.0
            )
            theta = jnp.clip(theta, 0.0, 1.0)
            column = jnp.where(emit, jc, T)
            new_out = []
            for comp in range(n_saved):
                value, slope = hermite(
                    theta, h_step, c.y[comp], y_new[comp], c.f[comp], f_new[comp]
                )
                new_out.append(out[comp].at[rows, column].set(value, mode="drop"))
                if comp == 0:
                    dV = slope
            if save_dVdt:
                new_out.append(out[-1].at[rows, column].set(dV, mode="drop"))
            return j + emit.astype(j.dtype), tuple(new_out)

        j, out = jax.lax.while_loop(emit_cond, emit_body, (c.j, c.out))

        spikes, count = c.spikes, c.count
        if max_spikes:
            spikes, count = record_spikes(
                spikes,
                count,
                c.t,
                h_step,
                c.y[0],
                y_new[0],
                c.f[0],
                f_new[0],
                threshold,
                mask=accept,
            )

        return _Carry(
            t=jnp.where(accept, t_new, c.t),
            y=where(accept, y_new, c.y),
            f=where(accept, f_next, c.f),
            h=h_next,
            j=j,
            out=out,
            spikes=spikes,
            count=count,
            steps=c.steps + accept.astype(jnp.int32),
            rejected=c.rejected + (active & ~accept).astype(jnp.int32),
            failed=failed,
            iteration=c.iteration + 1,
        )

    c = jax.lax.while_loop(cond, body, carry)
    dVdt = c.out[-1] if save_dVdt else None
    ys = c.out[:n_saved]
    return Solution(
        ys=ys,
        dVdt=dVdt,
        spikes=c.spikes,
        spike_count=c.count,
        finished=c.t >= t_end,
        failed=c.failed,
        num_steps=c.steps,
        num_rejected=c.rejected,
    )
