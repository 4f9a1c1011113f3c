"""The feature objective: eFEL-named features of a window, z-scored against data.

Each training window (a stretch of a sweep around a current step) is summarised
by a few eFEL-named features, computed for data and model by the same code
(:mod:`hh_jax.features`, which matches eFEL). A model is scored by how many
"spreads" each feature lies from the data — the z-score that BluePyOpt uses —
where the spread is the feature's variation across the spikes of the recorded
window (per-spike features), floored by an absolute and a relative resolution
(one recording gives no spread for a count or a latency). Every z is capped, so
one hopeless feature cannot drown the rest, and a feature the data have but the
model lacks (no spike) scores the cap.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ..features import compute

Z_CAP = 10.0  # largest z of one feature (also the score of a missing one)


@dataclasses.dataclass(frozen=True)
class FeatureTerm:
    """One feature of the objective: `name` (eFEL's, or ``"ISI_log_ratio"``, the
    log of the last over the first inter-spike interval, for adaptation),
    `floor` (smallest spread, in the feature's unit) and `relative` (smallest
    spread as a fraction of the data's value). `spiking`: used on windows whose
    data spike (True), whose data do not (False), or both (None). `weight`
    multiplies the feature's squared z in the score."""

    name: str
    floor: float
    relative: float = 0.0
    spiking: bool | None = None
    weight: float = 1.0


# Floors are about half the tolerance users judge a fit by (spike counts within
# 15 %, latencies within 10 ms, peaks within 5 mV, widths within 25 %, baselines
# within 2 mV), so a feature at its tolerance costs z ~ 2. Those five carry the
# full weight (the count twice: it decides the f-I curve); the features that
# shape the fit but are not judged on their own (rate, adaptation, trough, sag)
# half.
DEFAULT_TERMS = (
    FeatureTerm("Spikecount", 1.0, 0.075, weight=2.0),
    FeatureTerm("time_to_first_spike", 2.0, 0.1, spiking=True),
    FeatureTerm("mean_frequency", 1.0, 0.075, spiking=True, weight=0.5),
    FeatureTerm("ISI_log_ratio", 0.1, 0.0, spiking=True, weight=0.5),
    FeatureTerm("peak_voltage", 2.5, 0.0, spiking=True),
    FeatureTerm("AP_width", 0.05, 0.125, spiking=True),
    FeatureTerm("AHP_depth_abs", 2.5, 0.0, spiking=True, weight=0.5),
    FeatureTerm("voltage_base", 1.0),
    FeatureTerm("steady_state_voltage_stimend", 1.0, 0.0, spiking=False),
    FeatureTerm("sag_amplitude", 0.5, 0.1, spiking=False, weight=0.5),
)

_PER_SPIKE = ("peak_voltage", "AP_width", "AHP_depth_abs")
_EFEL_NEEDED = (
    "Spikecount",
    "time_to_first_spike",
    "mean_frequency",
    "all_ISI_values",
    "voltage_base",
    "steady_state_voltage_stimend",
    "sag_amplitude",
) + _PER_SPIKE


def _finite_mean_std(x):
    ok = jnp.isfinite(x)
    n = jnp.sum(ok, axis=-1)
    mean = jnp.sum(jnp.where(ok, x, 0.0), axis=-1) / jnp.maximum(n, 1)
    var = jnp.sum(jnp.where(ok, (x - mean[..., None]) ** 2, 0.0), axis=-1)
    std = jnp.sqrt(var / jnp.maximum(n - 1, 1))
    return jnp.where(n > 0, mean, jnp.nan), jnp.where(n > 1, std, 0.0)


def _isi_log_ratio(isis):
    ok = jnp.isfinite(isis)
    n = jnp.sum(ok, axis=-1)
    first = isis[..., 0]
    last = jnp.take_along_axis(isis, jnp.maximum(n - 1, 0)[..., None], axis=-1)[..., 0]
    ratio = jnp.log(jnp.where(n >= 2, last / jnp.where(n >= 2, first, 1.0), 1.0))
    return jnp.where(n >= 2, ratio, jnp.nan)


@functools.partial(jax.jit, static_argnames=("names", "max_spikes"))
def window_features(
    t: Float[Array, "*#batch T"],
    V: Float[Array, "*batch T"],
    stim_start: Float[Array, "*#batch"],
    stim_end: Float[Array, "*#batch"],
    threshold: Float[Array, ""],
    *,
    names: tuple[str, ...],
    max_spikes: int,
) -> tuple[Float[Array, "*batch F"], Float[Array, "*batch F"]]:
    """Features `names` of each trace (the per-spike ones averaged over its
    spikes) and their spread across spikes (0 for whole-trace features)."""
    raw = compute(
        _EFEL_NEEDED,
        t,
        V,
        stim_start,
        stim_end,
        max_spikes=max_spikes,
        threshold=threshold,
    )
    values, spreads = [], []
    for name in names:
        if name in _PER_SPIKE:
            mean, std = _finite_mean_std(raw[name])
        elif name == "ISI_log_ratio":
            mean, std = _isi_log_ratio(raw["all_ISI_values"]), jnp.zeros(V.shape[:-1])
        else:
            mean, std = raw[name], jnp.zeros(V.shape[:-1])
        values.append(jnp.asarray(mean, V.dtype))
        spreads.append(jnp.asarray(std, V.dtype))
    return jnp.stack(values, axis=-1), jnp.stack(spreads, axis=-1)


@dataclasses.dataclass(frozen=True)
class WindowTargets:
    """The data's features of one training window: `values`, `scales` (the
    z-score denominators), `active` (the features scored) and `weights`, each
    (F,) in the order of `terms`; `spiking`: whether the data spike in the
    window."""

    terms: tuple[FeatureTerm, ...]
    values: np.ndarray
    scales: np.ndarray
    active: np.ndarray
    spiking: bool
    weights: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return {
            term.name: float(v)
            for term, v, a in zip(self.terms, self.values, self.active)
            if a
        }


def window_targets(
    values: np.ndarray, spreads: np.ndarray, terms: tuple[FeatureTerm, ...]
) -> WindowTargets:
    """Targets from the data's feature values and spreads (F,)."""
    names = [t.name for t in terms]
    spiking = bool(values[names.index("Spikecount")] > 0)
    scales, active = [], []
    for term, value, spread in zip(terms, values, spreads):
        scale = max(term.floor, term.relative * abs(value), float(spread))
        use = term.spiking is None or term.spiking == spiking
        if term.name != "Spikecount" and not np.isfinite(value):
            use = False
        scales.append(scale)
        active.append(use)
    return WindowTargets(
        tuple(terms),
        np.asarray(values),
        np.asarray(scales),
        np.asarray(active),
        spiking,
        np.asarray([t.weight for t in terms], float),
    )


def z_scores(
    model_values: Float[Array, "*batch F"],
    values: Float[Array, "*#batch F"],
    scales: Float[Array, "*#batch F"],
    active: Bool[Array, "*#batch F"],
) -> Float[Array, "*batch F"]:
    """``|model - data| / scale`` capped at :data:`Z_CAP`; a feature the model
    lacks (NaN) scores the cap; inactive features score 0. The data's arrays
    broadcast against the model's leading axes (e.g. windows x features against
    candidates x windows x features)."""
    shape = model_values.shape
    values, scales, active = (
        jnp.broadcast_to(x, shape) for x in (values, scales, active)
    )
    z = jnp.abs(model_values - values) / scales
    z = jnp.where(jnp.isfinite(z), jnp.minimum(z, Z_CAP), Z_CAP)
    return jnp.where(active, z, 0.0)
