"""eFEL's spike-event features: counts, peak times, ISIs and firing frequency.

Times in ms, frequencies in Hz. A spike's time is eFEL's ``peak_time``: the time of
the highest *sample* of the spike (not a threshold crossing, not interpolated), so
these features move in steps of the sampling interval and have zero derivative
almost everywhere; use :mod:`hh_jax.features` ``soft_*`` functions to fit them.
In float32 the same peaks are found (measured on the test traces); the times
carry float32 rounding (~1e-5 ms at 100 ms).
"""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, Real

from ._api import run
from ._common import IGNORE_FIRST_ISI, THRESHOLD
from ._engine import Context, register

# ---------------------------------------------------------------- formulas


def _peak_times_all(c: Context) -> Array:
    """Times of the first max_spikes + 2 peaks, NaN-padded."""
    peak = c.lm.peak
    return jnp.where(peak < c.T, c.take_t(peak), jnp.nan)


@register("spike_count", per_spike=False, unit="1")
def _spike_count(c: Context) -> Array:
    return c.lm.count


@register("Spikecount", per_spike=False, unit="1")
def _spikecount(c: Context) -> Array:
    return c.lm.count


@register("spike_count_stimint", per_spike=False, unit="1")
def _spike_count_stimint(c: Context) -> Array:
    return c.lm.count_stim


@register("peak_indices", per_spike=True, unit="sample")
def _peak_indices(c: Context) -> Array:
    peak = c.lm.peak[: c.max_spikes]
    return jnp.where(peak < c.T, peak, -1)


@register("peak_time", per_spike=True, unit="ms")
def _peak_time(c: Context) -> Array:
    return _peak_times_all(c)[: c.max_spikes]


@register("time_to_first_spike", per_spike=False, unit="ms")
def _time_to_first_spike(c: Context) -> Array:
    return _peak_times_all(c)[0] - c.stim_start


@register("inv_time_to_first_spike", per_spike=False, unit="Hz")
def _inv_time_to_first_spike(c: Context) -> Array:
    return 1000.0 / c.feature("time_to_first_spike")


@register("all_ISI_values", per_spike=True, unit="ms")
def _all_isi_values(c: Context) -> Array:
    return jnp.diff(_peak_times_all(c))[: c.max_spikes]


@register("ISI_values", per_spike=True, unit="ms")
def _isi_values(c: Context) -> Array:
    skip = 1 if c.ignore_first_ISI else 0
    return jnp.diff(_peak_times_all(c))[skip : skip + c.max_spikes]


@register("mean_frequency", per_spike=False, unit="Hz")
def _mean_frequency(c: Context) -> Array:
    lm = c.lm
    # eFEL starts the last in-window peak time at 0, so with spikes only outside
    # the window the result is 0 (as -0.0), and undefined if stim_start == 0.
    last = jnp.where(lm.count_stim > 0, lm.last_stim_time, 0.0)
    span = last - c.stim_start
    ok = (lm.count > 0) & (span != 0)
    safe = jnp.where(ok, span, 1.0)
    return jnp.where(ok, lm.count_stim * 1000.0 / safe, jnp.nan)


# ---------------------------------------------------------------- public API

_T = Real[ArrayLike, "*#batch T"]
_V = Real[ArrayLike, "*batch T"]
_Scalar = Real[ArrayLike, "*#batch"]


def spike_count(t: _T, V: _V, *, threshold: float = THRESHOLD) -> Int[Array, "*batch"]:
    """eFEL ``spike_count``: the number of spikes in the whole trace.

    A spike is an upward crossing of `threshold` (mV; eFEL's ``Threshold``, default
    -20 like every spike threshold of hh_jax) that is followed by a downward one;
    see :func:`peak_time`. The crossings are those of :func:`hh_jax.spike_count`
    (:func:`hh_jax.spikes.upward_crossings`, in eFEL's strict form), so the two
    counts agree, except that a spike still above threshold at the end of the
    trace is not counted here. Not differentiable (an integer); see
    :func:`soft_spike_count`.
    """
    return run("spike_count", t, V, threshold=threshold)


def Spikecount(t: _T, V: _V, *, threshold: float = THRESHOLD) -> Int[Array, "*batch"]:
    """eFEL ``Spikecount`` (deprecated there in favour of ``spike_count``): the same
    as :func:`spike_count`."""
    return run("Spikecount", t, V, threshold=threshold)


def spike_count_stimint(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    threshold: float = THRESHOLD,
) -> Int[Array, "*batch"]:
    """eFEL ``spike_count_stimint``: spikes whose peak time lies in
    ``[stim_start, stim_end]`` (ms)."""
    return run(
        "spike_count_stimint",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        threshold=threshold,
    )


def peak_time(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``peak_time``: the time (ms) of each spike's peak.

    eFEL pairs the k-th upward crossing of `threshold` (``V[i-1] < thr < V[i]``,
    mV) with the k-th downward one and takes the first highest sample in between.
    Both inequalities are strict, so a sample exactly at `threshold` (possible with
    quantised recordings and a round threshold) hides a crossing and puts the
    pairing out of step: eFEL then loses that spike, and on an upstroke all later
    ones. This is reproduced here.
    The result has `max_spikes` entries, NaN-padded; by default `max_spikes` is the
    batch's largest spike count rounded up to a power of two (pass it under
    ``jit``). Piecewise constant in ``V``.
    """
    return run("peak_time", t, V, threshold=threshold, max_spikes=max_spikes)


def peak_indices(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Int[Array, "*batch S"]:
    """eFEL ``peak_indices``: the sample index of each peak, padded with -1."""
    return run("peak_indices", t, V, threshold=threshold, max_spikes=max_spikes)


def time_to_first_spike(
    t: _T, V: _V, *, stim_start: _Scalar, threshold: float = THRESHOLD
) -> Float[Array, "*batch"]:
    """eFEL ``time_to_first_spike``: first peak time minus `stim_start` (ms).

    The first peak of the whole trace (negative if it precedes the stimulus); NaN
    without spikes. A peak time, so it exceeds the threshold-crossing latency by the
    rise time (about 0.5 ms for squid HH). See :func:`soft_time_to_first_spike`.
    """
    return run(
        "time_to_first_spike",
        t,
        V,
        stim_start=stim_start,
        threshold=threshold,
    )


def inv_time_to_first_spike(
    t: _T, V: _V, *, stim_start: _Scalar, threshold: float = THRESHOLD
) -> Float[Array, "*batch"]:
    """eFEL ``inv_time_to_first_spike``: ``1000 / time_to_first_spike`` (Hz)."""
    return run(
        "inv_time_to_first_spike",
        t,
        V,
        stim_start=stim_start,
        threshold=threshold,
    )


def all_ISI_values(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``all_ISI_values``: differences (ms) of consecutive peak times, the
    first `max_spikes` of them, NaN-padded."""
    return run("all_ISI_values", t, V, threshold=threshold, max_spikes=max_spikes)


def ISI_values(
    t: _T,
    V: _V,
    *,
    threshold: float = THRESHOLD,
    ignore_first_ISI: bool = IGNORE_FIRST_ISI,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """eFEL ``ISI_values``: :func:`all_ISI_values` without the first interval when
    `ignore_first_ISI` (eFEL's default)."""
    return run(
        "ISI_values",
        t,
        V,
        threshold=threshold,
        ignore_first_ISI=ignore_first_ISI,
        max_spikes=max_spikes,
    )


def mean_frequency(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    threshold: float = THRESHOLD,
) -> Float[Array, "*batch"]:
    """eFEL ``mean_frequency`` (Hz): ``1000 n / (t_last - stim_start)`` with `n`
    the peaks in ``[stim_start, stim_end]`` (ms) and ``t_last`` the last of them.

    Not the count over the stimulus duration: one spike early in the step gives a
    high frequency. NaN without spikes; 0 when all spikes are outside the window.
    """
    return run(
        "mean_frequency",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        threshold=threshold,
    )
