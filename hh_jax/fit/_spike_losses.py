"""Spike-based loss terms, built on the differentiable surrogates of
:mod:`hh_jax.spikes`: they stay smooth when spikes are misaligned or missing, the
situation in which the trace MSE is flat or multi-modal."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ..spikes import THRESHOLD, soft_spike_count, soft_spike_times, spike_count
from ._losses import AbstractLoss

SPIKE_THRESHOLD = THRESHOLD  # mV (hh_jax.spikes.THRESHOLD: eFEL's -20 mV)


def recorded_voltage(data):
    """The recorded voltage (mV) of each sweep, its padding below any threshold."""
    return jnp.where(data.mask, data.V, -jnp.inf)


def _recorded_end(data):
    """Time (ms) of the last recorded sample of each sweep."""
    return jnp.max(jnp.where(data.mask, data.t, -jnp.inf), axis=1)


def _padding_below(V, data):
    """`V` with padded samples set to the sweep's minimum, so padding adds no
    threshold crossing."""
    return jnp.where(data.mask, V, jnp.min(V, axis=1, keepdims=True))


class SpikeTiming(AbstractLoss):
    """Matched spike times, model minus data (ms / `scale`), the k-th crossing of
    `threshold` (mV) against the k-th; a missing spike counts at the sweep's end
    and moves in continuously as it appears (:func:`hh_jax.spikes.soft_spike_times`).
    `max_spikes` slots per sweep (static)."""

    max_spikes: int = eqx.field(static=True)
    weight: float = eqx.field(static=True, default=1.0)
    scale: float = eqx.field(static=True, default=1.0)
    threshold: float = eqx.field(static=True, default=SPIKE_THRESHOLD)
    sharpness: float = eqx.field(static=True, default=0.5)
    name: ClassVar[str] = "spike_timing"

    def _times(self, t, V, data):
        V = _padding_below(V, data)
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
        V = _padding_below(V, data)
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
    data=None, *, max_spikes: int | None = None, threshold: float = SPIKE_THRESHOLD
) -> tuple[AbstractLoss, ...]:
    """Spike timing and soft count terms at `threshold` (mV). `max_spikes`
    defaults to twice the largest recorded count plus 2 (so extra model spikes
    are penalised too)."""
    if max_spikes is None:
        if data is None:
            raise ValueError("give `data` or `max_spikes`.")
        counts = spike_count(recorded_voltage(data), threshold)
        max_spikes = 2 * int(jnp.max(counts)) + 2
    return (
        SpikeTiming(max_spikes=max_spikes, threshold=threshold),
        SpikeCount(threshold=threshold),
    )


class FeatureMatch(AbstractLoss):
    """Model minus data of eFEL-named features (:mod:`hh_jax.features`), per
    sweep, each divided by its scale: e.g. ``{"AP_amplitude": 5.0, "AP_width":
    0.2, "AHP_depth_abs": 2.0}`` (in each feature's unit: mV, ms, ...). Per-spike
    features are averaged over the sweep's spikes in the stimulus window.

    Differentiable where the feature is (amplitudes and widths interpolate
    between samples; eFEL's peak *times* snap to samples and carry no gradient:
    use :class:`SpikeTiming` for timing). A feature missing in the model but not
    in the data (no spike) costs `missing` per feature; missing in both, nothing.
    """

    scales: tuple[tuple[str, float], ...] = eqx.field(static=True)
    max_spikes: int = eqx.field(static=True, default=32)
    weight: float = eqx.field(static=True, default=1.0)
    missing: float = eqx.field(static=True, default=3.0)
    name: ClassVar[str] = "features"

    def __init__(self, scales, *, max_spikes=32, weight=1.0, missing=3.0):
        from ..features import feature_units

        scales = dict(scales)
        unknown = sorted(set(scales) - set(feature_units()))
        if unknown or not scales:
            raise ValueError(
                f"unknown feature(s) {unknown}; see hh_jax.features.efel_names()."
            )
        self.scales = tuple(sorted(scales.items()))
        self.max_spikes = max_spikes
        self.weight = weight
        self.missing = missing

    def _values(self, t, V, data):
        from ..features import compute

        names = [n for n, _ in self.scales]
        V = jnp.where(data.mask, V, V[:, :1])
        table = compute(
            names,
            t,
            V,
            data.stimulus_windows[:, 0],
            data.stimulus_windows[:, 1],
            max_spikes=self.max_spikes,
        )
        out = []
        for n in names:
            x = table[n]
            if x.ndim == 2:  # per spike: mean over the finite entries
                ok = jnp.isfinite(x)
                x = jnp.sum(jnp.where(ok, x, 0.0), axis=1) / jnp.maximum(
                    jnp.sum(ok, axis=1), 1
                )
                x = jnp.where(jnp.any(ok, axis=1), x, jnp.nan)
            out.append(x)
        return jnp.stack(out, axis=-1)

    def residuals(self, sim, data):
        model = self._values(sim.t, sim.V, data)
        target = self._values(data.t, data.V, data)
        scale = jnp.asarray([s for _, s in self.scales])[None, :]
        both = jnp.isfinite(model) & jnp.isfinite(target)
        diff = jnp.where(both, model, 0.0) - jnp.where(both, target, 0.0)
        one_missing = jnp.isfinite(model) != jnp.isfinite(target)
        return jnp.where(one_missing, self.missing, diff / scale)
