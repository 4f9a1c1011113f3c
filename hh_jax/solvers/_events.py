"""Spike times located inside integration steps, recorded per lane: the upward
threshold crossings of the cubic Hermite interpolant of V and dV/dt over each
step, found by :func:`hh_jax.spikes.step_crossing` (the same root, and implicit
derivative, as spike times interpolated from saved samples)."""

import jax.numpy as jnp

from ..spikes import step_crossing


def record_spikes(spikes, count, t, h, V0, V1, dV0, dV1, threshold, mask=True):
    """Write the crossing time of this step (t, t + h) into each lane's next free
    slot of `spikes` (..., S); `count` keeps the full number of crossings."""
    crossed, s = step_crossing(V0, V1, dV0, dV1, h, threshold)
    crossed = crossed & mask
    slots = spikes.shape[-1]
    index = jnp.minimum(count, slots - 1)
    write = crossed & (count < slots)
    old = jnp.take_along_axis(spikes, index[..., None], axis=-1)[..., 0]
    new = jnp.where(write, t + h * s, old)
    rows = jnp.indices(count.shape)
    spikes = spikes.at[(*rows, index)].set(new)
    return spikes, count + crossed.astype(count.dtype)
