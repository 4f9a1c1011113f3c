"""Threshold crossings of sampled voltage: the one definition of a spike.

A spike is an upward crossing of `threshold` (mV) between two consecutive samples,
``V[k] < threshold <= V[k + 1]``. eFEL (and :mod:`hh_jax.features`, which follows
it) uses the strict form ``V[k] < threshold < V[k + 1]``; both are here, so that
every layer builds on the same masks. The two differ only when a sample equals the
threshold exactly (quantised recordings, round thresholds).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._threshold import THRESHOLD, Threshold, check_threshold


def crosses_up(before, after, threshold, *, strict: bool = False):
    """Elementwise: V goes from `before` to `after` (mV) across `threshold` (mV)
    upwards (``before < threshold <= after``; with `strict`, ``< after``)."""
    reached = after > threshold if strict else after >= threshold
    return (before < threshold) & reached


def upward_crossings(
    V: Float[Array, "*batch T"], threshold, *, strict: bool = False
) -> Bool[Array, "*batch T-1"]:
    """``out[..., k]``: V (mV) crosses `threshold` (mV) upwards between samples k
    and k + 1 (see :func:`crosses_up`)."""
    return crosses_up(V[..., :-1], V[..., 1:], threshold, strict=strict)


def downward_crossings(
    V: Float[Array, "*batch T"], threshold, *, strict: bool = False
) -> Bool[Array, "*batch T-1"]:
    """``out[..., k]``: V crosses `threshold` (mV) downwards between samples k and
    k + 1 (``V[k] >= threshold > V[k + 1]``; with `strict`, ``V[k] >`` )."""
    return upward_crossings(-V, -threshold, strict=strict)


def spike_count(
    V: Float[ArrayLike, "*batch T"], threshold: Threshold = THRESHOLD
) -> Int[Array, "*batch"]:
    """Number of spikes (upward crossings of `threshold`, mV, default -20) along
    the last axis of `V` (mV).

    :func:`hh_jax.features.spike_count` counts the same crossings (eFEL's strict
    form) but only those that come back down below `threshold` before the trace
    ends; the two agree on every spike train that ends repolarised.
    """
    check_threshold(threshold)
    return _spike_count(jnp.asarray(V), threshold)


@jax.jit
def _spike_count(V, threshold):
    return jnp.sum(upward_crossings(V, threshold), axis=-1)
