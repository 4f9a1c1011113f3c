"""One explicit Runge–Kutta step for all lanes at once, with a shared step
(fixed-step solvers) or one per lane (the adaptive solver)."""

import jax
import jax.numpy as jnp
import numpy as np

from ._lanes import Lanes, axpy
from ._tableaus import Tableau


def current(lanes: Lanes, t, N):
    """The applied current at time `t` (shared, a scalar, or one per lane): a
    scalar for a shared stimulus at a shared time (broadcast for free), else one
    value per lane."""
    if lanes.stimulus_batched or jnp.ndim(t) > 0:
        return lanes.current(jnp.broadcast_to(t, (N,)))
    return jnp.asarray(lanes.stimulus(t), t.dtype)


def inside(t, h):
    """Stimulus evaluation bounds strictly inside the step (t, t + h), so that a
    step ending or starting on a discontinuity sees only its own interval's
    current (the margin exceeds the rounding of t in float32 as in float64)."""
    margin = jnp.maximum(1e-7 * h, 4 * jnp.finfo(h.dtype).eps * jnp.abs(t + h))
    return t + margin, t + h - margin


def rk_step(lanes: Lanes, tableau: Tableau, t, h, y, f, rtol, atol):
    """One explicit RK step of length `h` (a scalar shared by the lanes, or one per
    lane, as `t`) from (t, y) with derivative `f` at the start.

    Returns (y_new, f_end, f_next, error): the derivative at the end under this
    step's stimulus and under the next one's (they differ at a discontinuity),
    and the RMS error estimate of the embedded pair (0 without one)."""
    N = y[0].shape[0]
    lo, hi = inside(t, h)
    S = len(tableau.c)
    # The stages are one loop over a table of their derivatives (S, N) per state
    # variable, so the program holds one copy of the vector field, and XLA keeps
    # each stage's derivatives in memory instead of fusing (and so recomputing)
    # the cheap part of every stage's vector field into the later stages that
    # read it. Measured on W(1e4), float64, 2-core CPU, against one copy per
    # stage (each in a never-false conditional, which also kept the derivatives):
    # 0.93 -> 0.74 s per call, compilation 1.72 -> 1.19 s.
    a = np.zeros((S, S))
    for i, row in enumerate(tableau.a):
        a[i, : len(row)] = row
    a = jnp.asarray(a, y[0].dtype)
    c = jnp.asarray(tableau.c, y[0].dtype)
    K0 = tuple(
        jnp.zeros((S,) + x.shape, x.dtype).at[0].set(k.astype(x.dtype))
        for x, k in zip(y, f)
    )
    I0 = jnp.zeros_like(current(lanes, t, N))  # a scalar when shared

    def stage(i, carry):
        K, _, _ = carry
        Y = tuple(x + h * jnp.tensordot(a[i], Kx, axes=1) for x, Kx in zip(y, K))
        I_i = current(lanes, jnp.clip(t + c[i] * h, lo, hi), N)
        k = lanes.rhs(Y, I_i)
        K = tuple(Kx.at[i].set(kx.astype(Kx.dtype)) for Kx, kx in zip(K, k))
        return K, Y, I_i.astype(I0.dtype)

    K, Y, I_last = jax.lax.fori_loop(1, S, stage, (K0, y, I0))
    ks = [tuple(Kx[i] for Kx in K) for i in range(S)]
    if tableau.fsal:
        y_new, f_end = Y, ks[-1]
    else:
        y_new = axpy(y, h, ks, tableau.b)
        I_last = current(lanes, hi, N)
        f_end = lanes.rhs(y_new, I_last)
    # dV/dt is affine in the applied current with slope 1/C_m.
    after, _ = inside(t + h, jnp.maximum(h, 1e-3))
    dI = current(lanes, after, N) - I_last
    f_next = (f_end[0] + dI / lanes.model.C_m,) + tuple(f_end[1:])
    if any(tableau.e):
        zero = tuple(jnp.zeros_like(x) for x in y)
        err = axpy(zero, h, ks, tableau.e)
        total = None
        for e, a, b in zip(err, y, y_new):
            r = e / (atol + rtol * jnp.maximum(jnp.abs(a), jnp.abs(b)))
            total = r * r if total is None else total + r * r
        error = jnp.sqrt(total / len(y))
    else:
        error = jnp.zeros_like(y[0])
    return y_new, f_end, f_next, error
