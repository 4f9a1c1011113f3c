"""Sampled traces ``(t ms, V mV)`` with any leading batch axes: input checks, and
per-trace (1-D) computations applied over the batch.

Shared by :mod:`hh_jax.spikes` and :mod:`hh_jax.features`.
"""

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Real

from ._checks import check_increasing, concrete


def as_trace(
    t: Real[ArrayLike, "*#batch T"], V: Real[ArrayLike, "*batch T"]
) -> tuple[Array, Array]:
    """`t` and `V` as floating arrays of one dtype, checked where concrete."""
    V = jnp.asarray(V)
    if not jnp.issubdtype(V.dtype, jnp.floating):
        V = V.astype(jnp.result_type(float))
    t = jnp.asarray(t, dtype=V.dtype)
    if V.ndim < 1 or t.ndim < 1:
        raise ValueError("`t` (ms) and `V` (mV) need a last axis of samples.")
    if t.shape[-1] != V.shape[-1]:
        raise ValueError(
            f"`t` ({t.shape[-1]} samples) and `V` ({V.shape[-1]} samples) must have "
            "the same length."
        )
    if V.shape[-1] < 3:
        raise ValueError("`V` needs at least three samples along its last axis.")
    if t.ndim > V.ndim:
        raise ValueError(f"`t` {t.shape} has more axes than `V` {V.shape}.")
    if concrete(t) is not None:
        check_increasing("t", t, "ms")
    return t, V


def next_power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def resolve_max_spikes(max_spikes: int | None, counts: Callable[[], Array]) -> int:
    """`max_spikes` if given, else the largest count in the batch rounded up to a
    power of two (so that eager calls on traces with slightly different counts
    reuse one compiled program)."""
    if max_spikes is not None:
        return max_spikes
    value = concrete(counts())
    if value is None:
        raise ValueError("`max_spikes` must be given when called under jit/vmap.")
    return next_power_of_two(int(np.max(value, initial=0)))


def per_trace(scalars: dict[str, ArrayLike], V: Array) -> dict[str, Array]:
    """Each scalar setting as an array of ``V``'s dtype and batch shape.

    Done before entering ``jit`` so that Python floats, 0-d and per-trace arrays
    all reach the compiled program with the same abstract value (no recompiles).
    """
    batch = V.shape[:-1]
    return {
        k: jnp.broadcast_to(jnp.asarray(v, V.dtype), batch) for k, v in scalars.items()
    }


def batched(
    fn: Callable, t: Array, V: Array, scalars: dict[str, Array]
) -> dict[str, Array]:
    """Apply a per-trace ``fn(t, V, scalars) -> dict`` over the leading axes of `V`.

    `t` is ``(T,)`` (shared) or broadcastable to ``V``; each entry of `scalars`
    broadcasts to the batch shape ``V.shape[:-1]``.
    """
    batch, T = V.shape[:-1], V.shape[-1]
    flat_V = V.reshape(-1, T)
    if t.ndim == 1:
        flat_t, t_axis = t, None
    else:
        flat_t, t_axis = jnp.broadcast_to(t, V.shape).reshape(-1, T), 0
    flat_s = {
        k: jnp.broadcast_to(jnp.asarray(v, V.dtype), batch).reshape(-1)
        for k, v in scalars.items()
    }
    out = jax.vmap(fn, in_axes=(t_axis, 0, 0))(flat_t, flat_V, flat_s)
    return {k: v.reshape(batch + v.shape[1:]) for k, v in out.items()}
