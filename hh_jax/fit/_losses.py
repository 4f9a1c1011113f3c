"""Loss terms: small pure functions from (simulated sweeps, data) to residuals.

Each term returns residuals with a leading sweep axis ``(S, ...)``; the objective
sums ``weight * mean(residual^2)`` over the terms, so terms combine with weights and
least-squares solvers see every residual. Residuals are in the units stated per
term, divided by a `scale` in the same unit (so that 1 means "one typical error").
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ._data import FitData


class SimulatedSweeps(eqx.Module):
    """Model voltage at the data's sample times: `t`, `V` (S, T) in ms and mV;
    `ok` (S,) False where the simulation failed."""

    t: Float[Array, "S T"]
    V: Float[Array, "S T"]
    ok: Bool[Array, " S"]


class AbstractLoss(eqx.Module):
    """A loss term; `weight` multiplies its mean squared residual."""

    weight: eqx.AbstractVar[float]
    name: ClassVar[str]

    @abc.abstractmethod
    def residuals(self, sim: SimulatedSweeps, data: FitData) -> Float[Array, "S ..."]:
        """Residuals (dimensionless: error / scale), leading axis over sweeps."""


def _window_mask(t, start, end):
    return (t >= start[:, None]) & (t < end[:, None])


class TraceMSE(AbstractLoss):
    """``(V_model - V_data) / scale`` at every recorded sample (mV / mV), optionally
    only inside `window` (start, end) in ms (the same for every sweep).

    Right for subthreshold data and for data made by the same model; on spiking
    data from far away it is multi-modal (a spike shifted by its width costs as
    much as a missing spike)."""

    weight: float = eqx.field(static=True, default=1.0)
    scale: float = eqx.field(static=True, default=1.0)
    window: tuple[float, float] | None = eqx.field(static=True, default=None)
    name: ClassVar[str] = "trace_mse"

    def residuals(self, sim, data):
        use = data.mask
        if self.window is not None:
            use = use & (data.t >= self.window[0]) & (data.t < self.window[1])
        return jnp.where(use, (sim.V - data.V) / self.scale, 0.0)


def _window_mean(t, V, mask, start, end):
    w = _window_mask(t, start, end) & mask
    return jnp.sum(jnp.where(w, V, 0.0), axis=-1) / jnp.maximum(jnp.sum(w, axis=-1), 1)


def _moving_average(V, width: int):
    """Centred running mean over `width` samples (edges use what exists)."""
    c = jnp.cumsum(jnp.pad(V, ((0, 0), (1, 0))), axis=-1)
    T = V.shape[-1]
    lo = jnp.clip(jnp.arange(T) - width // 2, 0, T)
    hi = jnp.clip(jnp.arange(T) + width - width // 2, 0, T)
    return (c[:, hi] - c[:, lo]) / (hi - lo)


class SubthresholdStats(AbstractLoss):
    """Per sweep, model minus data (mV / `scale`) of: the resting potential (mean
    before the step), the steady-state potential (mean over the last `tail` of the
    step) and the sag (steady state minus the extreme of the first half of the
    step, toward the step's direction). The extreme is taken of a running mean
    over `smooth` ms, so that recording noise does not bias it (the raw extreme of
    noisy data is ~2 sigma beyond the true one). Input resistance follows from the
    steady deflection and the step amplitude, so it is matched through these."""

    weight: float = eqx.field(static=True, default=1.0)
    scale: float = eqx.field(static=True, default=1.0)
    tail: float = eqx.field(static=True, default=0.1)
    smooth: float = eqx.field(static=True, default=1.0)
    name: ClassVar[str] = "subthreshold"

    def _stats(self, t, V, data):
        start, end = data.stimulus_windows[:, 0], data.stimulus_windows[:, 1]
        t0 = data.t[:, 0]
        rest = _window_mean(t, V, data.mask, t0, start)
        steady = _window_mean(t, V, data.mask, end - self.tail * (end - start), end)
        early = _window_mask(t, start, start + 0.5 * (end - start)) & data.mask
        direction = jnp.sign(data.step_amplitudes)[:, None]
        smooth = _moving_average(V, max(int(round(self.smooth / data.dt)), 1))
        extreme = jnp.max(jnp.where(early, direction * smooth, -jnp.inf), axis=-1)
        sag = direction[:, 0] * steady - extreme
        return jnp.stack([rest, steady, sag], axis=-1)

    def residuals(self, sim, data):
        model = self._stats(sim.t, sim.V, data)
        target = self._stats(data.t, data.V, data)
        return (model - target) / self.scale
