"""eFEL's spike landmarks on one sampled trace: peaks, AHP minima, AP begins.

Everything here is an *index* into the samples (no interpolation; thresholds in
mV, dV/dt in mV/ms, t in ms), computed with O(T) scans so that it works under
``jit``/``vmap`` with static sizes. The definitions follow eFEL 5.7
(``SpikeEvent::peak_indices``, ``SpikeShape::min_AHP_indices``,
``SpikeShape::AP_begin_indices``):

- peaks: the k-th upward crossing of the threshold (``V[i-1] < thr < V[i]``, the
  strict form of :func:`hh_jax.spikes.upward_crossings`) is
  paired with the k-th downward crossing after the first upward one; the peak is
  the first maximum of ``V`` on ``[up, down]``. A spike that never comes back
  below threshold is not a spike.
- AHP: for each peak, eFEL's "first minimum" of ``V`` on ``[peak, next peak)``
  (the last peak: up to the end of the trace): the first sample followed by two
  samples at least as high, else the first global minimum. An AHP that falls on
  the last sample of the trace is dropped.
- AP begin: between the previous AHP (for the first spike after stimulus onset:
  two samples before onset) and the peak, the last sample ``j`` with
  ``dV/dt[j] <= dth`` whose next `window` samples all have ``dV/dt >= dth``; the AP
  begins at ``j + 1``. ``dV/dt`` is eFEL's central difference.

Indices are padded with ``T`` (the trace length); ``index < T`` marks a valid one.
Voltage comparisons use ``stop_gradient(V)``: indices carry no derivative.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from ..spikes import downward_crossings, upward_crossings


class Landmarks(NamedTuple):
    count: Int[Array, ""]  # eFEL spike_count: all peaks in the trace
    count_stim: Int[Array, ""]  # peaks with stim_start <= t <= stim_end
    last_stim_time: Float[Array, ""]  # time of the last such peak; -inf if none
    peak: Int[Array, " P"]  # first P peaks (P = max_spikes + 2), padded with T
    ahp: Int[Array, " Q"]  # min_AHP index of each of the first Q = P - 1 peaks
    ahp_valid: Bool[Array, " Q"]
    begin: Int[Array, " S"]  # AP_begin_indices as eFEL lists them, padded with T
    begin_count: Int[Array, ""]  # their number (capped at S); -1: eFEL fails
    stim_begin: Int[Array, ""]  # first index with t >= stim_start


def _first_true_from(mask: Array) -> Array:
    """``out[j]`` = the first ``i >= j`` with ``mask[i]``, else ``len(mask)``."""
    T = mask.shape[0]
    return jax.lax.cummin(jnp.where(mask, jnp.arange(T), T), reverse=True)


def first_true_from(mask: Bool[Array, " T"], start: Int[Array, "..."]) -> Array:
    """The first ``i >= start`` with ``mask[i]`` (``len(mask)`` if none)."""
    T = mask.shape[0]
    nxt = _first_true_from(mask)
    return jnp.where(start < T, nxt[jnp.clip(start, 0, T - 1)], T)


def central_difference(x: Float[Array, " T"]) -> Float[Array, " T"]:
    """eFEL's ``getCentralDifferenceDerivative`` (per sample, unit spacing)."""
    inner = (x[2:] - x[:-2]) / 2
    return jnp.concatenate([x[1:2] - x[:1], inner, x[-1:] - x[-2:-1]])


def compact(valid: Array, values: Array, size: int, fill) -> tuple[Array, Array]:
    """The entries of `values` where `valid`, in order, padded to `size`.

    For short arrays: an all-pairs comparison (cheaper to compile than
    ``jnp.nonzero``).
    """
    n = valid.shape[0]
    position = jnp.arange(n)
    rank = jnp.sum(valid[None, :] & (position[None, :] <= position[:, None]), 1) - 1
    hit = valid[None, :] & (rank[None, :] == jnp.arange(size)[:, None])  # (size, n)
    found = jnp.any(hit, axis=1)
    out = jnp.where(found, values[jnp.argmax(hit, axis=1)], fill)
    return out, jnp.sum(valid)


def _compact_long(valid: Array, values: Array, size: int, fill) -> Array:
    """As :func:`compact`, for long arrays (a cumulative sum and a scatter)."""
    rank = jnp.cumsum(valid) - 1
    target = jnp.where(valid & (rank < size), rank, size)
    return jnp.full((size + 1,), fill, values.dtype).at[target].set(values)[:size]


def _positions_by_rank(mask: Array) -> Array:
    """``out[r]`` = index of the r-th true entry of `mask` (``T`` past the last)."""
    T = mask.shape[0]
    rank = jnp.cumsum(mask) - 1
    target = jnp.where(mask, rank, T)
    return jnp.full((T + 1,), T).at[target].set(jnp.arange(T))[:T]


def _peaks(t, V, threshold, stim_start, stim_end, P):
    """All peaks as eFEL pairs crossings; the first `P` as a list."""
    T = V.shape[0]
    idx = jnp.arange(T)
    # eFEL's strict crossings, indexed by the sample after the crossing.
    no = jnp.zeros((1,), bool)
    up = jnp.concatenate([no, upward_crossings(V, threshold, strict=True)])
    down = jnp.concatenate([no, downward_crossings(V, threshold, strict=True)])
    first_up = jnp.argmax(up)  # 0 when there is none; then nothing pairs anyway
    down = down & (idx > first_up)
    up_at = _positions_by_rank(up)
    down_at = _positions_by_rank(down)
    paired = (up_at < T) & (down_at < T) & (down_at >= up_at)  # per rank
    # Each sample belongs to the window of the latest upward crossing.
    rank = jnp.cumsum(up) - 1
    r = jnp.clip(rank, 0, T - 1)
    inside = (rank >= 0) & paired[r] & (idx <= down_at[r])
    segment = jnp.where(inside, r, T)
    top = jax.ops.segment_max(V, segment, num_segments=T + 1)
    is_top = inside & (V == top[segment])
    first = jax.ops.segment_min(jnp.where(is_top, idx, T), segment, num_segments=T + 1)
    peak_by_rank = jnp.where(paired, first[:T], T)
    t_peak = t[jnp.clip(peak_by_rank, 0, T - 1)]
    in_stim = paired & (t_peak >= stim_start) & (t_peak <= stim_end)
    last_stim = jnp.max(jnp.where(in_stim, t_peak, -jnp.inf))
    peak = _compact_long(paired, peak_by_rank, P, T)
    return peak, jnp.sum(paired), jnp.sum(in_stim), last_stim


def _min_ahp(V, peak):
    """eFEL's ``first_min_element`` on ``[peak[k], peak[k + 1])``, k < P - 1."""
    T, P = V.shape[0], peak.shape[0]
    idx = jnp.arange(T)
    rising = jnp.zeros((T,), bool)
    rising = rising.at[:-2].set((V[1:-1] >= V[:-2]) & (V[2:] >= V[:-2]))
    lo, hi = peak[:-1], peak[1:]
    candidate = first_true_from(rising, lo)
    found = candidate <= hi - 3  # the two samples after it lie inside the interval
    # Fallback: the first global minimum of the interval.
    seg = jnp.searchsorted(peak, idx, side="right") - 1
    seg = jnp.where(seg >= 0, seg, P)
    low = jax.ops.segment_min(V, seg, num_segments=P + 1)
    first_low = jax.ops.segment_min(
        jnp.where(V == low[seg], idx, T), seg, num_segments=P + 1
    )
    ahp = jnp.where(found, candidate, first_low[: P - 1])
    valid = (lo < T) & (ahp != T - 1)
    return jnp.where(valid, ahp, T), valid


def _ap_begin(t, V, peak, ahp, ahp_valid, stim_begin, dth, window, S):
    T = V.shape[0]
    idx = jnp.arange(T)
    dvdt = central_difference(V) / central_difference(t)
    steep = jnp.ones((T,), bool)
    for i in range(1, window + 1):  # static window length
        steep = steep.at[: T - i].set(steep[: T - i] & (dvdt[i:] >= dth))
        steep = steep.at[T - i :].set(False)
    onset = (dvdt <= dth) & steep
    last_onset = jax.lax.cummax(jnp.where(onset, idx, -1))
    # eFEL pairs the q-th peak after stimulus onset with the q-th "minimum":
    # [stim_begin - 2, AHPs after stim_begin...].
    peak = peak[:-1]  # Q = P - 1 peaks have an AHP entry
    Q = peak.shape[0]
    valid_peak = peak < T
    after = valid_peak & (peak > stim_begin)
    n_before = jnp.sum(valid_peak & (peak <= stim_begin))
    n_ahp_before = jnp.sum(ahp_valid & (ahp <= stim_begin))
    q = jnp.arange(Q) - n_before
    first_minimum = jnp.maximum(stim_begin - 2, 0)
    prev_ahp = ahp[jnp.clip(n_ahp_before + q - 1, 0, Q - 1)]
    lo = jnp.where(q == 0, first_minimum, prev_ahp)
    j = last_onset[jnp.clip(peak - 1, 0, T - 1)]
    has = after & (j >= lo)
    n_minima = 1 + jnp.sum(ahp_valid & (ahp > stim_begin))
    fails = n_minima < jnp.sum(after)  # "More peaks than min_AHP" in eFEL
    begin, n = compact(has, j + 1, S, T)
    begin = jnp.where(fails, T, begin)
    return begin, jnp.where(fails, -1, jnp.minimum(n, S))


def landmarks(
    t: Float[Array, " T"],
    V: Float[Array, " T"],
    *,
    threshold,
    derivative_threshold,
    stim_start,
    stim_end,
    max_spikes: int,
    derivative_window: int,
) -> Landmarks:
    """eFEL's peaks, AHP minima and AP begins of one trace (see module docs)."""
    V = jax.lax.stop_gradient(V)
    t = jax.lax.stop_gradient(t)
    S = max_spikes
    P = S + 2  # two extra peaks: ISI_values skips the first, AHPs end at the next
    peak, count, count_stim, last_stim = _peaks(
        t, V, threshold, stim_start, stim_end, P
    )
    ahp, ahp_valid = _min_ahp(V, peak)
    stim_begin = jnp.sum(t < stim_start)
    begin, begin_count = _ap_begin(
        t,
        V,
        peak,
        ahp,
        ahp_valid,
        stim_begin,
        derivative_threshold,
        derivative_window,
        S,
    )
    return Landmarks(
        count=count,
        count_stim=count_stim,
        last_stim_time=last_stim,
        peak=peak,
        ahp=ahp,
        ahp_valid=ahp_valid,
        begin=begin,
        begin_count=begin_count,
        stim_begin=stim_begin,
    )
