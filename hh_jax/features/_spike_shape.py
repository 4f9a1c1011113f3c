"""eFEL's spike-shape features: peak voltage, AP amplitude, widths and AHP depth.

Voltages in mV, times in ms, one entry per spike (last axis `max_spikes`, NaN
padded, in eFEL's list order). The landmarks (peak, AHP minimum, AP begin) are
sample indices found as in eFEL (see ``_detect``); voltage features read ``V`` at
those samples, so their derivative with respect to ``V`` is exact and their
derivative with respect to model parameters is that of ``V`` at a fixed sample
(piecewise smooth: it jumps when a landmark moves to another sample). Widths from
sample times (``AP_width``) are piecewise constant; ``spike_half_width``
interpolates linearly and is piecewise smooth. In float32 the same landmarks are
found unless two samples tie to within rounding (measured on the test traces:
same indices, values within 5e-5).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from ._api import run
from ._common import DERIVATIVE_THRESHOLD, DERIVATIVE_WINDOW, THRESHOLD
from ._detect import compact, first_true_from
from ._engine import Context, register

# ---------------------------------------------------------------- formulas


def _masked(valid: Array, value: Array) -> Array:
    return jnp.where(valid, value, jnp.nan)


@register("peak_voltage", per_spike=True, unit="mV")
def _peak_voltage(c: Context) -> Array:
    peak = c.lm.peak[: c.max_spikes]
    return _masked(peak < c.T, c.take_V(peak))


@register("AP_height", per_spike=True, unit="mV")
def _ap_height(c: Context) -> Array:
    return c.feature("peak_voltage")


@register("min_AHP_indices", per_spike=True, unit="sample")
def _min_ahp_indices(c: Context) -> Array:
    S = c.max_spikes
    return jnp.where(c.lm.ahp_valid[:S], c.lm.ahp[:S], -1)


@register("min_AHP_values", per_spike=True, unit="mV")
def _min_ahp_values(c: Context) -> Array:
    S = c.max_spikes
    return _masked(c.lm.ahp_valid[:S], c.take_V(c.lm.ahp[:S]))


@register("AHP_depth_abs", per_spike=True, unit="mV")
def _ahp_depth_abs(c: Context) -> Array:
    return c.feature("min_AHP_values")


@register("AHP_depth", per_spike=True, unit="mV")
def _ahp_depth(c: Context) -> Array:
    S = c.max_spikes
    depth = c.take_V(c.lm.ahp[:S]) - c.feature("voltage_base")
    return _masked(c.lm.ahp_valid[:S], depth)


@register("AP_begin_indices", per_spike=True, unit="sample")
def _ap_begin_indices(c: Context) -> Array:
    return jnp.where(c.lm.begin < c.T, c.lm.begin, -1)


@register("AP_begin_voltage", per_spike=True, unit="mV")
def _ap_begin_voltage(c: Context) -> Array:
    return _masked(c.lm.begin < c.T, c.take_V(c.lm.begin))


@register("AP_begin_time", per_spike=True, unit="ms")
def _ap_begin_time(c: Context) -> Array:
    return _masked(c.lm.begin < c.T, c.take_t(c.lm.begin))


@register("AP_amplitude", per_spike=True, unit="mV")
def _ap_amplitude(c: Context) -> Array:
    lm, S = c.lm, c.max_spikes
    peak = lm.peak[: S + 1]
    t_peak = c.take_t(peak)
    during = (peak < c.T) & (t_peak >= c.stim_start) & (t_peak <= c.stim_end)
    in_stim, _ = compact(during, peak, S, c.T)
    n_in = jnp.minimum(jnp.sum(during), S)
    # eFEL pairs the q-th peak during the stimulus with the q-th AP begin, and
    # fails when there are fewer begins than such peaks.
    fails = (lm.begin_count < 0) | (n_in > lm.begin_count)
    valid = (in_stim < c.T) & (lm.begin < c.T) & ~fails
    return _masked(valid, c.take_V(in_stim) - c.take_V(lm.begin))


@register("AP_width", per_spike=True, unit="ms")
def _ap_width(c: Context) -> Array:
    lm, S = c.lm, c.max_spikes
    hi = lm.ahp[:S]
    lo = jnp.concatenate([jnp.zeros((1,), hi.dtype), hi[:-1]])
    V = jax.lax.stop_gradient(c.V)
    onset = jnp.minimum(first_true_from(V >= c.threshold, lo), hi)
    end = jnp.minimum(first_true_from(V <= c.threshold, onset), hi)
    return _masked(lm.ahp_valid[:S], c.take_t(end) - c.take_t(onset))


def _crossing_offset(c: Context, index: Array, level: Array) -> Array:
    """eFEL's linear correction: crossing time minus ``t[index]``."""
    previous = jnp.clip(index - 1, 0, c.T - 1)
    dv = c.take_V(index) - c.V[previous]
    dt = c.take_t(index) - c.t[previous]
    safe = jnp.where(dv == 0, 1.0, dv)
    return jnp.where(dv == 0, 0.0, dt * (level - c.take_V(index)) / safe)


@register("spike_half_width", per_spike=True, unit="ms")
def _spike_half_width(c: Context) -> Array:
    lm, S, T = c.lm, c.max_spikes, c.T
    peak, hi = lm.peak[:S], lm.ahp[:S]
    lo = jnp.concatenate([lm.stim_begin[None].astype(hi.dtype), hi[:-1]])
    v_half = (c.take_V(peak) + c.take_V(hi)) / 2
    V = jax.lax.stop_gradient(c.V)
    level = jax.lax.stop_gradient(v_half)

    def search(args):
        lo_i, peak_i, hi_i, level_i = args
        rising = (c.idx >= lo_i) & (c.idx < peak_i) & (V >= level_i)
        falling = (c.idx >= peak_i) & (c.idx < hi_i) & (V <= level_i)
        rise = jnp.where(jnp.any(rising), jnp.argmax(rising), peak_i)
        fall = jnp.where(jnp.any(falling), jnp.argmax(falling), hi_i)
        return rise, fall

    rise, fall = jax.lax.map(search, (lo, peak, jnp.clip(hi, 0, T), level))
    t_rise = c.take_t(rise) + _crossing_offset(c, rise, v_half)
    t_fall = c.take_t(fall) + _crossing_offset(c, fall, v_half)
    return _masked(lm.ahp_valid[:S], t_fall - t_rise)


# ---------------------------------------------------------------- public API

_T = Real[ArrayLike, "*#batch T"]
_V = Real[ArrayLike, "*batch T"]
_Scalar = Real[ArrayLike, "*#batch"]


def peak_voltage(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``peak_voltage``: ``V`` (mV) at each spike's peak sample (see
    :func:`peak_time`), all spikes of the trace. Also eFEL's ``AP_height``."""
    return run("peak_voltage", t, V, threshold=threshold, max_spikes=max_spikes)


def AP_height(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``AP_height``: the same as :func:`peak_voltage` (mV)."""
    return run("AP_height", t, V, threshold=threshold, max_spikes=max_spikes)


def AP_begin_voltage(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    threshold: float = THRESHOLD,
    derivative_threshold: float = DERIVATIVE_THRESHOLD,
    derivative_window: int = DERIVATIVE_WINDOW,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """eFEL ``AP_begin_voltage``: ``V`` (mV) where each spike after `stim_start`
    (ms) begins.

    The begin is the first sample of the last run of at least `derivative_window`
    samples with ``dV/dt >= derivative_threshold`` (mV/ms; eFEL's
    ``DerivativeThreshold``, default 10) before the peak, searched back to the
    previous AHP minimum (first spike: to two samples before `stim_start`).
    ``dV/dt`` is the central difference of the samples. Spikes without such a run
    are left out of the list (as in eFEL).
    """
    return run(
        "AP_begin_voltage",
        t,
        V,
        stim_start=stim_start,
        threshold=threshold,
        derivative_threshold=derivative_threshold,
        derivative_window=derivative_window,
        max_spikes=max_spikes,
    )


def AP_amplitude(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    threshold: float = THRESHOLD,
    derivative_threshold: float = DERIVATIVE_THRESHOLD,
    derivative_window: int = DERIVATIVE_WINDOW,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """eFEL ``AP_amplitude`` (mV): peak voltage minus AP begin voltage, for the
    spikes whose peak lies in ``[stim_start, stim_end]`` (ms).

    Relative to the AP begin (see :func:`AP_begin_voltage`), not to
    ``voltage_base``. eFEL pairs the q-th peak in the window with the q-th AP begin
    after stimulus onset and is undefined (NaN) when there are fewer begins.
    """
    return run(
        "AP_amplitude",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        threshold=threshold,
        derivative_threshold=derivative_threshold,
        derivative_window=derivative_window,
        max_spikes=max_spikes,
    )


def AHP_depth_abs(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``AHP_depth_abs`` (= ``min_AHP_values``): ``V`` (mV) at the AHP
    minimum after each spike.

    eFEL's minimum is the *first* sample between this peak and the next (the last
    spike: the end of the trace) that is followed by two samples at least as high,
    else the lowest sample. Noise can stop it early on recorded data. The last
    spike has none if the trace is still falling at its end.
    """
    return run("AHP_depth_abs", t, V, threshold=threshold, max_spikes=max_spikes)


def AHP_depth(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    threshold: float = THRESHOLD,
    max_spikes: int | None = None,
    **voltage_base_settings,
) -> Float[Array, "*batch S"]:
    """eFEL ``AHP_depth`` (mV): :func:`AHP_depth_abs` minus :func:`voltage_base`
    (which takes `voltage_base_settings`)."""
    return run(
        "AHP_depth",
        t,
        V,
        stim_start=stim_start,
        threshold=threshold,
        max_spikes=max_spikes,
        **voltage_base_settings,
    )


def AP_width(
    t: _T, V: _V, *, threshold: float = THRESHOLD, max_spikes: int | None = None
) -> Float[Array, "*batch S"]:
    """eFEL ``AP_width`` (ms): time from the first sample at or above `threshold`
    (mV) to the next sample at or below it, within each interval between AHP
    minima (the first from the trace start).

    Sample times, not interpolated: piecewise constant, zero gradient.
    """
    return run("AP_width", t, V, threshold=threshold, max_spikes=max_spikes)


def spike_half_width(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    threshold: float = THRESHOLD,
    max_spikes: int | None = None,
) -> Float[Array, "*batch S"]:
    """eFEL ``spike_half_width`` (ms): width at half height, the half height being
    midway between the peak and the *following* AHP minimum (mV).

    The crossing times are linearly interpolated between samples, so the width is
    piecewise smooth in ``V``. The rise of the first spike is searched from
    `stim_start` (ms) on; spikes before `stim_start` are not supported (eFEL's
    result is undefined there).
    """
    return run(
        "spike_half_width",
        t,
        V,
        stim_start=stim_start,
        threshold=threshold,
        max_spikes=max_spikes,
    )
