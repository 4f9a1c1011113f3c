"""eFEL's first step: linear resampling of a trace onto a uniform time grid.

eFEL computes every feature on ``V`` linearly interpolated onto
``t[0], t[0] + step, ...`` (``interp_step``, default 0.1 ms), whatever the
sampling of the input. :func:`resample` reproduces that grid bit for bit (built
by repeated addition, as eFEL does) and the interpolation formula, so features of
``resample(t, V, step)`` equal eFEL's with ``interp_step=step``.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Real

from .._checks import check_increasing, concrete
from ._common import INTERP_STEP


def _concrete_times(t) -> np.ndarray:
    arr = concrete(t)
    if arr is None:
        raise ValueError("`t` must be concrete (not traced) to resample.")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(
            f"`t` must be 1-D with at least 2 times (ms); got {arr.shape}."
        )
    check_increasing("t", arr, "ms")
    return arr


def efel_grid(t: np.ndarray, step: float) -> np.ndarray:
    """eFEL's interpolation grid (ms) for sample times `t` (ms)."""
    start, stop = float(t[0]), float(t[-1])
    n = int(np.ceil((stop - start) / step))
    # x_{k+1} = x_k + step, accumulated in order like eFEL's loop.
    grid = np.cumsum(np.concatenate([[start], np.full(n, step)]))
    if grid[n - 1] < stop:  # eFEL appends one more point past the end
        return grid
    return grid[:n]


def resample(
    t: Real[np.ndarray, " T"] | Real[Array, " T"],
    V: Real[Array, "*batch T"] | Real[np.ndarray, "*batch T"],
    interp_step: float = INTERP_STEP,
) -> tuple[Float[np.ndarray, " N"], Float[Array, "*batch N"]]:
    """`V` (mV) linearly interpolated onto eFEL's grid of spacing `interp_step`
    (ms), as eFEL does before computing any feature.

    `t` (ms) must be concrete (not traced) and shared by the batch: the output
    length depends on it. `V` may be traced; the result is differentiable with
    respect to `V` (a fixed linear map). Returns ``(grid, V_on_grid)``; the grid is
    a float64 NumPy array (cast it to ``V``'s dtype as needed). Grid points past
    ``t[-1]`` take ``V[..., -1]``, as in eFEL.
    """
    t = _concrete_times(t)
    if not interp_step > 0:
        raise ValueError(f"`interp_step` must be > 0 ms; got {interp_step!r}.")
    V = jnp.asarray(V)
    if not jnp.issubdtype(V.dtype, jnp.floating):
        V = V.astype(jnp.result_type(float))
    if V.shape[-1] != t.shape[0]:
        raise ValueError(
            f"`t` ({t.shape[0]} samples) and `V` ({V.shape[-1]} samples) must have "
            "the same length."
        )
    grid = efel_grid(t, interp_step)
    # eFEL's j: the first index with t[j + 1] >= x (so x in (t[j], t[j + 1]]).
    upper = np.searchsorted(t, grid, side="left")
    past = upper >= t.shape[0]
    j = np.clip(upper - 1, 0, t.shape[0] - 2)
    dx = t[j + 1] - t[j]
    offset = grid - t[j]
    lead = (1,) * (V.ndim - 1)
    V_j, V_j1 = V[..., j], V[..., j + 1]
    slope = (V_j1 - V_j) / jnp.asarray(dx, V.dtype).reshape(*lead, -1)
    values = V_j + slope * jnp.asarray(offset, V.dtype).reshape(*lead, -1)
    past = jnp.broadcast_to(jnp.asarray(past), values.shape)
    values = jnp.where(past, V[..., -1:], values)
    return grid, values
