"""Spike-based loss terms, built on the differentiable surrogates of
:mod:`hh_jax.features`: they stay smooth when spikes are misaligned or missing, the
situation in which the trace MSE is flat or multi-modal."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ..features import soft_spike_count, soft_spike_times
from ._losses import AbstractLoss

SPIKE_THRESHOLD = 0.0  # mV


def _recorded_end(data):
    """Time (ms) of the last recorded sample of each sweep."""
    return jnp.max(jnp.where(data.mask, data.t, -jnp.inf), axis=1)


class SpikeTiming(AbstractLoss):
    """Matched spike times, model minus data (ms / `scale`), the k-th crossing of
    `threshold` (mV) against the k-th; a missing spike counts at the sweep's end
    and moves in continuously as it appears (:func:`hh_jax.features.soft_spike_times`).
    `max_spikes` slots per sweep (static)."""

    max_spikes: int = eqx.field(static=True)
    weight: float = eqx.field(static=True, default=1.0)
    scale: float = eqx.field(static=True, default=1.0)
    threshold: float = eqx.field(static=True, default=SPIKE_THRESHOLD)
    sharpness: float = eqx.field(static=True, default=0.5)
    name: ClassVar[str] = "spike_timing"

    def _times(self, t, V, data):
        V = jnp.where(data.mask, V, jnp.min(V, axis=1, keepdims=True))
        return soft_spike_times(
            t,
            V,
            threshold=self.threshold,
            sharpness=self.sharpness,
            start=t[:, 0],
            end=_recorded_end(data),
            max_spikes=self.max_spikes,
        )

    def residuals(self, sim, data):
        return (
            self._times(sim.t, sim.V, data) - self._times(data.t, data.V, data)
        ) / self.scale


class SpikeCount(AbstractLoss):
    """Soft spike count, model minus data (spikes / `scale`), per sweep."""

    weight: float = eqx.field(static=True, default=1.0)
    scale: float = eqx.field(static=True, default=1.0)
    threshold: float = eqx.field(static=True, default=SPIKE_THRESHOLD)
    sharpness: float = eqx.field(static=True, default=0.5)
    name: ClassVar[str] = "spike_count"

    def _count(self, t, V, data):
        V = jnp.where(data.mask, V, jnp.min(V, axis=1, keepdims=True))
        return soft_spike_count(
            t,
            V,
            threshold=self.threshold,
            sharpness=self.sharpness,
            start=t[:, 0],
            end=_recorded_end(data),
        )

    def residuals(self, sim, data):
        return (
            (self._count(sim.t, sim.V, data) - self._count(data.t, data.V, data))
            / self.scale
        )[:, None]


def spike_losses(
    data=None, *, max_spikes: int | None = None
) -> tuple[AbstractLoss, ...]:
    """Spike timing and soft count terms. `max_spikes` defaults to twice the
    largest recorded count plus 2 (so extra model spikes are penalised too)."""
    if max_spikes is None:
        if data is None:
            raise ValueError("give `data` or `max_spikes`.")
        V = jnp.where(data.mask, data.V, -jnp.inf)
        up = (V[:, :-1] < SPIKE_THRESHOLD) & (V[:, 1:] >= SPIKE_THRESHOLD)
        max_spikes = 2 * int(jnp.max(jnp.sum(up, axis=1))) + 2
    return (SpikeTiming(max_spikes=max_spikes), SpikeCount())
