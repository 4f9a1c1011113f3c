"""Losses between spike trains with possibly different numbers of spikes.

Spike trains are NaN-padded arrays of times in ms, ``(..., S)``, as returned by
:func:`hh_jax.spike_times`, :func:`peak_time` or :func:`soft_spike_times`. Both
losses are finite, and have finite gradients, whatever the NaN padding.

When the counts differ, hard spike times (interpolated crossings, peak times) give
no gradient that creates or removes a spike: a missing spike is a constant
penalty, and the loss jumps when the count changes. Use them with
:func:`soft_spike_times`, whose missing spikes sit at the window end and move in
continuously, or add a :func:`soft_spike_count` term.
"""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real


def _pad(x: Array, size: int) -> Array:
    extra = size - x.shape[-1]
    if extra == 0:
        return x
    pad = jnp.full(x.shape[:-1] + (extra,), jnp.nan, x.dtype)
    return jnp.concatenate([x, pad], axis=-1)


def _align(a, b) -> tuple[Array, Array]:
    a, b = jnp.asarray(a), jnp.asarray(b)
    dtype = jnp.result_type(a.dtype, b.dtype, float)
    a, b = a.astype(dtype), b.astype(dtype)
    size = max(a.shape[-1], b.shape[-1])
    a, b = _pad(a, size), _pad(b, size)
    batch = jnp.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    return jnp.broadcast_to(a, batch + (size,)), jnp.broadcast_to(b, batch + (size,))


def spike_time_loss(
    times: Real[ArrayLike, "*#batch S1"],
    target: Real[ArrayLike, "*#batch S2"],
    *,
    t_end: Real[ArrayLike, "*#batch"],
    missing_penalty: float | None = None,
) -> Float[Array, "*batch"]:
    """Sum of squared differences (ms^2) between the k-th spike of `times` and the
    k-th of `target` (both NaN-padded, ms), matched in order.

    A spike present in one train and missing in the other costs
    ``(t_spike - t_end)^2`` (the missing one is put at `t_end`, ms, e.g. the end of
    the stimulus: the convention of :func:`soft_spike_times`, with which this loss
    is continuous), or the constant `missing_penalty` (ms^2) if given. Slots
    missing in both cost nothing. The shorter train is NaN-padded.
    """
    a, b = _align(times, target)
    end = jnp.broadcast_to(jnp.asarray(t_end, a.dtype), a.shape[:-1])
    penalty = jnp.asarray(0.0 if missing_penalty is None else missing_penalty, a.dtype)
    return _matched_cost(a, b, end, penalty, missing_penalty is not None)


@functools.partial(jax.jit, static_argnames=("use_penalty",))
def _matched_cost(a, b, end, penalty, use_penalty: bool) -> Array:
    end = jnp.broadcast_to(end[..., None], a.shape)
    miss_a, miss_b = jnp.isnan(a), jnp.isnan(b)
    a_safe = jnp.where(miss_a, end, a)
    b_safe = jnp.where(miss_b, end, b)
    cost = (a_safe - b_safe) ** 2
    if use_penalty:
        cost = jnp.where(miss_a != miss_b, penalty, cost)
    return jnp.sum(cost, axis=-1)


def _kernel_sum(x, mx, y, my, tau) -> Array:
    """sum_ij exp(-|x_i - y_j| / tau) over present spikes."""
    diff = x[..., :, None] - y[..., None, :]
    mask = mx[..., :, None] & my[..., None, :]
    safe = jnp.where(mask, diff, 0.0)
    return jnp.sum(jnp.where(mask, jnp.exp(-jnp.abs(safe) / tau), 0.0), axis=(-2, -1))


def _self_sum(x, mx, tau) -> Array:
    """sum_ij exp(-|x_i - x_j| / tau): n on the diagonal, pairs i < j twice."""
    S = x.shape[-1]
    diff = x[..., :, None] - x[..., None, :]
    upper = jnp.broadcast_to(jnp.triu(jnp.ones((S, S), bool), k=1), diff.shape)
    mask = mx[..., :, None] & mx[..., None, :] & upper
    safe = jnp.where(mask, diff, 0.0)
    pairs = jnp.sum(jnp.where(mask, jnp.exp(-jnp.abs(safe) / tau), 0.0), (-2, -1))
    return jnp.sum(mx, axis=-1) + 2 * pairs


def van_rossum_loss(
    times: Real[ArrayLike, "*#batch S1"],
    target: Real[ArrayLike, "*#batch S2"],
    *,
    tau: float,
) -> Float[Array, "*batch"]:
    """Squared van Rossum distance (dimensionless) between two NaN-padded spike
    trains (ms), with exponential kernel time constant `tau` (ms).

    ``D^2 = (1/tau) integral (f - g)^2 dt`` with ``f = sum_i H(t - t_i)
    exp(-(t - t_i) / tau)``: in closed form ``(1/2) sum k(a, a) + (1/2) sum k(b, b)
    - sum k(a, b)``, ``k = exp(-|dt| / tau)``. Each unmatched spike adds about 1/2;
    two spikes ``d`` apart cost ``1 - exp(-d / tau)``. No matching by order: an
    extra early spike does not shift the pairing of the later ones.
    """
    a, b = _align(times, target)
    return _van_rossum(a, b, jnp.asarray(tau, a.dtype))


@jax.jit
def _van_rossum(a, b, tau) -> Array:
    ma, mb = ~jnp.isnan(a), ~jnp.isnan(b)
    a, b = jnp.where(ma, a, 0.0), jnp.where(mb, b, 0.0)
    return (
        0.5 * _self_sum(a, ma, tau)
        + 0.5 * _self_sum(b, mb, tau)
        - _kernel_sum(a, ma, b, mb, tau)
    )
