"""Fixed-step explicit Runge–Kutta on a host-built time grid (:mod:`._grid`),
vectorised over lanes (the state a tuple of (N,) arrays, see :mod:`._lanes`).

All lanes share the steps, so each step is a few fused elementwise kernels over
(N,) arrays and the save times cost no per-lane bookkeeping. Every stimulus
discontinuity is a step boundary and the stimulus is evaluated strictly inside
each step, so edges are exact. Each step

- advances the state (RK stages; with an FSAL pair the last stage is the
  derivative at the new point),
- writes the save times inside it by cubic Hermite interpolation of the step's
  end values and derivatives (value and dV/dt),
- locates an upward threshold crossing of V inside it (the same interpolant, by
  :func:`hh_jax.spikes.step_crossing`), and
- with an embedded pair, estimates its local error (a per-lane maximum is kept,
  so that lanes the step was too long for can be detected).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..spikes import step_crossing
from ._grid import StepGrid
from ._lanes import Lanes, hermite
from ._step import current, inside, rk_step
from ._tableaus import Tableau


class FixedOutput(NamedTuple):
    saved: tuple[Float[Array, "T N"], ...]  # saved components (V first), ts[1:]
    dVdt: Float[Array, "T N"] | None  # dV/dt at ts[1:] (None: not asked for)
    crossings: Float[Array, "S N"] | None  # crossing time per step or NaN
    error: Float[Array, " N"]  # largest local error estimate (RMS norm) of a lane
    y_end: tuple  # state at the end


def chunk_function(lanes: Lanes, tableau: Tableau, M: int, options: "Options"):
    """``chunk(carry, xs) -> (carry, outputs)``: the steps of one chunk (a scan),
    carry ``(y, f, worst)``, xs ``(t_start, h, theta)`` of the chunk's steps."""

    def one_step(carry, xs):
        y, f, worst = carry
        t, hk, th = xs
        y_new, f_end, f_next, error = rk_step(
            lanes, tableau, t, hk, y, f, options.rtol, options.atol
        )
        rows = []
        for m in range(M):
            theta_m = jnp.where(jnp.isnan(th[m]), 0.0, th[m])
            values = []
            for c in range(options.n_saved):
                v, s = hermite(theta_m, hk, y[c], y_new[c], f[c], f_end[c])
                values.append(v)
                if c == 0:
                    slope = s
            rows.append((tuple(values), slope))
        saved = tuple(
            jnp.stack([r[0][c] for r in rows]) for c in range(options.n_saved)
        )
        # dV/dt rows only when asked for: each is one more (steps, M, N) output,
        # and under autodiff its sensitivities too.
        slopes = jnp.stack([r[1] for r in rows]) if options.save_dVdt else None
        out = (saved, slopes)
        if options.spikes:
            crossed, s = step_crossing(
                y[0], y_new[0], f[0], f_end[0], hk, options.threshold
            )
            out = out + (jnp.where(crossed & (hk > 0), t + hk * s, jnp.nan),)
        worst = jnp.maximum(worst, jnp.where(jnp.isnan(error), jnp.inf, error))
        return (y_new, f_next, worst), out

    def chunk(carry, xs):
        return jax.lax.scan(one_step, carry, xs)

    return chunk


class Options(NamedTuple):
    """Static settings of a fixed-step solve."""

    n_saved: int  # state components saved (1: V only)
    spikes: bool
    threshold: float  # mV
    rtol: float  # of the error monitor's norm
    atol: float
    save_dVdt: bool = True  # dV/dt at the save times


def start_derivative(lanes: Lanes, t, h, y):
    """d/dt of `y` at the start of a step (t, t + h): the stimulus just after t."""
    after, _ = inside(t, h)
    return lanes.rhs(y, current(lanes, after, y[0].shape[0]))


def raw_solve(lanes, tableau, xs, y0, M, options: Options, keep_starts=False):
    """The scan over chunks. `xs` = (t_start, h, theta) shaped (n_chunks, C, ...).
    Returns (outputs stacked (n_chunks, C, ...), y_end, worst error, chunk-start
    states or None)."""
    N = y0[0].shape[0]
    f0 = start_derivative(lanes, xs[0][0, 0], xs[1][0, 0], y0)
    chunk = chunk_function(lanes, tableau, M, options)

    def outer(carry, xs_c):
        new, outs = chunk(carry, xs_c)
        return new, ((outs, carry[0]) if keep_starts else (outs, None))

    worst0 = jnp.zeros((N,), y0[0].dtype)
    (y_end, _, worst), (outs, starts) = jax.lax.scan(outer, (y0, f0, worst0), xs)
    return outs, y_end, worst, starts


def grid_arrays(grid: StepGrid, dtype):
    """The grid as device arrays shaped (n_chunks, C, ...), in `dtype`."""
    shape = (-1, grid.chunk)
    return (
        jnp.asarray(grid.t_start, dtype).reshape(shape),
        jnp.asarray(grid.h, dtype).reshape(shape),
        jnp.asarray(grid.theta, dtype).reshape(shape + (grid.slots,)),
    )


def assemble(grid: StepGrid, outs, y_end, worst, n_saved: int, spikes: bool):
    """Save-time rows (T - 1, N) from the per-step outputs."""
    N = y_end[0].shape[0]
    flat = lambda x: x.reshape((-1, N))  # noqa: E731
    pick = jnp.asarray(grid.slot_of_save)
    saved = tuple(flat(s)[pick] for s in outs[0])
    crossings = outs[2].reshape((-1, N)) if spikes else None
    return FixedOutput(
        saved=saved,
        dVdt=None if outs[1] is None else flat(outs[1])[pick],
        crossings=crossings,
        error=worst,
        y_end=y_end,
    )


def solve(
    lanes: Lanes,
    tableau: Tableau,
    grid: StepGrid,
    y0: tuple,
    *,
    n_saved: int,
    spikes: bool,
    threshold: float,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    save_dVdt: bool = True,
    differentiable: bool = True,
) -> FixedOutput:
    """Integrate every lane over the grid (see the module docstring); with
    `differentiable` through the discrete forward sensitivities / adjoint of
    :mod:`._adjoint` (forward and reverse mode), else plain JAX."""
    options = Options(
        n_saved, spikes, float(threshold), float(rtol), float(atol), save_dVdt
    )
    xs = grid_arrays(grid, y0[0].dtype)
    if differentiable:
        from ._adjoint import fixed_core

        outs, y_end, worst = fixed_core(lanes, tableau, xs, y0, grid.slots, options)
    else:
        outs, y_end, worst, _ = raw_solve(lanes, tableau, xs, y0, grid.slots, options)
    return assemble(grid, outs, y_end, worst, n_saved, spikes)


def compact_spikes(crossings: Float[Array, "S N"], max_spikes: int):
    """The first `max_spikes` crossing times of each lane (NaN-padded, (N, K)) and
    the full counts, from one crossing time (or NaN) per step."""
    hit = ~jnp.isnan(crossings)
    count = jnp.sum(hit, axis=0).astype(jnp.int32)
    rank = jnp.cumsum(hit, axis=0) - 1
    N = crossings.shape[1]
    column = jnp.where(hit & (rank < max_spikes), rank, max_spikes)
    lanes = jnp.broadcast_to(jnp.arange(N), crossings.shape)
    out = jnp.full((N, max_spikes), jnp.nan, crossings.dtype)
    out = out.at[lanes, column].set(crossings, mode="drop")
    return out, count
