"""Differentiable (soft) spike count and spike times: surrogates of
:func:`hh_jax.spikes.spike_count` and :func:`hh_jax.spikes.spike_times` for
gradient-based fitting and sensitivities (also in :mod:`hh_jax.features`).

All are built on one quantity, the *soft cumulative spike count*

    g(V) = sigmoid(sharpness (V - threshold)),
    C_i  = sum over samples j < i in the window of max(0, g(V[j+1]) - g(V[j])),

the total upward variation of ``g(V)``: each excursion from well below to well
above `threshold` (mV) adds 1, subthreshold wiggles add almost nothing. ``C`` is a
continuous, piecewise smooth function of ``V`` (it is not differentiable only
where two consecutive samples have equal ``g``, i.e. at extrema of ``V``), and its
gradient is finite everywhere and non-zero near threshold.

- :func:`soft_spike_count` is ``C`` at the end of the window. For clean spikes
  (each peak above ``threshold + m`` and each trough between spikes below
  ``threshold - m``) it differs from the hard count by at most
  ``2 exp(-sharpness m)`` per spike plus the (exponentially small) variation of
  ``g`` below threshold. On recordings, noise on a slow downstroke near threshold
  adds upward variation: +0.003 per spike on the test recording (20 kHz, default
  sharpness), a consistent bias rather than a count error.
- :func:`soft_spike_times`: the k-th soft spike time is
  ``start + integral over the window of clip(k - C(t), 0, 1) dt`` (trapezoid rule
  on the samples). When ``C`` steps from k-1 to k at a crossing, this is the
  crossing time; a spike that is missing sits at the window end, and as a
  subthreshold bump grows into a spike its time moves in continuously from the
  end. So the times are always finite and continuous in ``V``, with gradients
  that pull missing spikes in and extra ones out.
- :func:`soft_time_to_first_spike` and :func:`soft_isi_values` follow from them.

The soft times measure threshold *crossings*, not eFEL's peak times: they are
earlier by the rise time from threshold to peak (about 0.3-0.5 ms for squid HH).
Compare model and data with the same function. Their accuracy is limited by the
trapezoid rule: choose `sharpness` so that the sigmoid's width (about
``4 / sharpness`` mV) spans a few samples of the upstroke, i.e.
``sharpness << 4 / (dt dV/dt)``; with a much larger `sharpness` the times snap to
the middle of the sample interval of the crossing. The default 0.5 /mV suits
0.01-0.05 ms sampling of mammalian or squid spikes (upstroke ~100-400 mV/ms).

Units: t in ms, V in mV, `threshold` mV, `sharpness` 1/mV. Float32 is fine for
all of these (relative error ~1e-6 of the window length for the times).
"""

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from .._traces import as_trace, batched, per_trace, resolve_max_spikes
from ._crossings import spike_count
from ._threshold import THRESHOLD, check_threshold

SHARPNESS = 0.5  # 1/mV

_T = Real[ArrayLike, "*#batch T"]
_V = Real[ArrayLike, "*batch T"]
_Scalar = Real[ArrayLike, "*#batch"]


def _cumulative(t, V, s):
    """Soft cumulative count at each sample (non-decreasing), and the window."""
    g = jax.nn.sigmoid(s["sharpness"] * (V - s["threshold"]))
    rise = jnp.maximum(g[1:] - g[:-1], 0.0)
    inside = (t[:-1] >= s["start"]) & (t[1:] <= s["end"])
    rise = jnp.where(inside, rise, 0.0)
    C = jnp.concatenate([jnp.zeros((1,), V.dtype), jnp.cumsum(rise)])
    return C, inside


def _count_and_times(t, V, s, K: int) -> dict[str, Array]:
    """The soft count and the first `K` soft spike times (ms) of one trace."""
    C, inside = _cumulative(t, V, s)
    T = t.shape[0]
    idx = jnp.arange(T)
    # Trapezoid weights of the samples in the window, plus the partial intervals
    # from `start` to the first sample and from the last sample to `end`.
    step = jnp.where(inside, t[1:] - t[:-1], 0.0)
    zero = jnp.zeros((1,), V.dtype)
    w = (jnp.concatenate([step, zero]) + jnp.concatenate([zero, step])) / 2
    node_in = (t >= s["start"]) & (t <= s["end"])
    first = jnp.min(jnp.where(node_in, idx, T))
    last = jnp.max(jnp.where(node_in, idx, -1))
    w = w + jnp.where(idx == first, t - s["start"], 0.0)
    w = w + jnp.where(idx == last, s["end"] - t, 0.0)
    # sum_i w_i clip(k - C_i, 0, 1) for each k. C is non-decreasing (to rounding),
    # so the samples with C <= k - 1 (weight 1) and those with k - 1 < C < k
    # (weight k - C) are consecutive runs: prefix sums give both.
    W = jnp.concatenate([zero, jnp.cumsum(w)])
    WC = jnp.concatenate([zero, jnp.cumsum(w * C)])
    k = jnp.arange(1, K + 1, dtype=V.dtype)
    level = jax.lax.stop_gradient(C)[None, :]
    below = jnp.sum(level <= (k - 1)[:, None], axis=1)
    partial = jnp.sum(level < k[:, None], axis=1)
    integral = W[below] + k * (W[partial] - W[below]) - (WC[partial] - WC[below])
    # Without samples in the window the integral is the whole window.
    times = s["start"] + jnp.where(last >= 0, integral, s["end"] - s["start"])
    return {"count": C[-1], "times": times}


def _window(t, start, end):
    start = t[..., 0] if start is None else start
    end = t[..., -1] if end is None else end
    return start, end


@functools.partial(jax.jit, static_argnames=("K",))
def _program(t, V, scalars, K):
    return batched(functools.partial(_count_and_times, K=K), t, V, scalars)


def soft_count_and_times(
    t: Array, V: Array, *, threshold, sharpness, start, end, K: int
) -> dict[str, Array]:
    """``{"count": (...,), "times": (..., K)}`` for checked `t`, `V` (see
    :func:`as_trace`); `start`/`end` ``None`` mean the whole trace."""
    check_threshold(threshold)
    start, end = _window(t, start, end)
    scalars = {
        "threshold": threshold,
        "sharpness": sharpness,
        "start": start,
        "end": end,
    }
    return _program(t, V, per_trace(scalars, V), K)


def soft_spike_count(
    t: _T,
    V: _V,
    *,
    threshold: float = THRESHOLD,
    sharpness: float = SHARPNESS,
    start: _Scalar | None = None,
    end: _Scalar | None = None,
) -> Float[Array, "*batch"]:
    """A differentiable spike count: the total upward variation of
    ``sigmoid(sharpness (V - threshold))`` over the sample pairs within
    ``[start, end]`` (ms; default: the whole trace).

    Tends to :func:`hh_jax.spikes.spike_count` (the upward crossings of
    `threshold`, mV) of the window as `sharpness` (1/mV) grows, and so to eFEL's
    ``spike_count`` (for `start`/`end`: ``spike_count_stimint``, counting
    crossings rather than peaks in the window); see the module docs for the
    tolerance. A spike still above threshold at the end of the window counts
    here, as in :func:`hh_jax.spike_count`, but not in eFEL.
    """
    t, V = as_trace(t, V)
    return soft_count_and_times(
        t, V, threshold=threshold, sharpness=sharpness, start=start, end=end, K=1
    )["count"]


def soft_spike_times(
    t: _T,
    V: _V,
    *,
    threshold: float = THRESHOLD,
    sharpness: float = SHARPNESS,
    start: _Scalar | None = None,
    end: _Scalar | None = None,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """Differentiable spike (threshold-crossing) times in ms, ``(..., max_spikes)``.

    The k-th entry is ``start + integral of clip(k - C(t), 0, 1) dt`` over
    ``[start, end]`` (ms, default the whole trace), ``C`` being the soft
    cumulative count (module docs). It equals the k-th crossing time of
    `threshold` (mV) for clean spikes as `sharpness` grows, and `end` for spikes
    that are missing. Never NaN. `max_spikes` defaults to the spike count
    (:func:`hh_jax.spikes.spike_count`) rounded up to a power of two (pass it
    under ``jit``).
    """
    t, V = as_trace(t, V)
    max_spikes = resolve_max_spikes(max_spikes, lambda: spike_count(V, threshold))
    return soft_count_and_times(
        t,
        V,
        threshold=threshold,
        sharpness=sharpness,
        start=start,
        end=end,
        K=max_spikes,
    )["times"]


def soft_time_to_first_spike(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    threshold: float = THRESHOLD,
    sharpness: float = SHARPNESS,
) -> Float[Array, "*batch"]:
    """Differentiable first-spike latency (ms) after `stim_start`: the first
    :func:`soft_spike_times` in ``[stim_start, stim_end]`` minus `stim_start`.

    Without a spike it is ``stim_end - stim_start``, and it decreases continuously
    as a subthreshold response approaches threshold. A crossing latency: shorter
    than eFEL's ``time_to_first_spike`` (a peak time) by the rise time.
    """
    times = soft_spike_times(
        t,
        V,
        threshold=threshold,
        sharpness=sharpness,
        start=stim_start,
        end=stim_end,
        max_spikes=1,
    )
    onset = jnp.broadcast_to(jnp.asarray(stim_start, times.dtype), times.shape[:-1])
    return times[..., 0] - onset


def soft_isi_values(
    t: _T,
    V: _V,
    *,
    threshold: float = THRESHOLD,
    sharpness: float = SHARPNESS,
    start: _Scalar | None = None,
    end: _Scalar | None = None,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """Differentiable inter-spike intervals (ms), ``(..., max_spikes)``: the
    differences of ``max_spikes + 1`` :func:`soft_spike_times`.

    Like eFEL's ``all_ISI_values`` for clean spikes (but from crossings, not peaks).
    An interval ending at a missing spike runs to `end`; between two missing
    spikes it is 0.
    """
    t, V = as_trace(t, V)
    max_spikes = resolve_max_spikes(max_spikes, lambda: spike_count(V, threshold))
    times = soft_spike_times(
        t,
        V,
        threshold=threshold,
        sharpness=sharpness,
        start=start,
        end=end,
        max_spikes=max_spikes + 1,
    )
    return jnp.diff(times, axis=-1)
