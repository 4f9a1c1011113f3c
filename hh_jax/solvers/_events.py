"""Spike times located inside integration steps (upward threshold crossings of the
cubic Hermite interpolant of V and dV/dt over each step), recorded per lane."""

import jax.numpy as jnp


def hermite_root(v0, v1, m0, m1, threshold, iterations: int = 3):
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


def record_spikes(spikes, count, t, h, V0, V1, dV0, dV1, threshold, mask=True):
    """Write the crossing time of this step (t, t + h) into each lane's next free
    slot of `spikes` (..., S); `count` keeps the full number of crossings."""
    crossed = (V0 < threshold) & (V1 >= threshold) & mask
    s = hermite_root(V0, V1, h * dV0, h * dV1, threshold)
    slots = spikes.shape[-1]
    index = jnp.minimum(count, slots - 1)
    write = crossed & (count < slots)
    old = jnp.take_along_axis(spikes, index[..., None], axis=-1)[..., 0]
    new = jnp.where(write, t + h * s, old)
    rows = jnp.indices(count.shape)
    spikes = spikes.at[(*rows, index)].set(new)
    return spikes, count + crossed.astype(count.dtype)
