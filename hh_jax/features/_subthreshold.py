"""eFEL's subthreshold features: baseline, steady state, deflection, input
resistance and sag.

Voltages in mV, times in ms. Input resistances are ``mV / stim_amplitude`` scaled
to the unit of the current: MOhm for pA (the default) or nA (eFEL's
``stimulus_current`` unit), kOhm cm^2 for uA/cm^2 (hh_jax's model currents).

These are means, minima and maxima of samples in time windows fixed by
``stim_start``/``stim_end``, so they are smooth in ``V`` (minima/maxima: piecewise)
and their gradients are exact. Window edges compare sample times with ``>=`` and
``<`` exactly as eFEL does; where a sample lies on an edge to within rounding,
build ``t`` as eFEL does (:func:`resample`). In float32, times are rounded to
~1e-7 relative (1e-5 ms at 100 ms), so an edge that falls on a sample can move by
one sample: a window mean then changes by the jump over the window length (0.05
mV on the spiking test trace, 0.004 mV on the recording; ``minimum_voltage`` by
0.1 mV there); otherwise float32 agrees to ~1e-5 mV.
"""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Real

from ._api import run
from ._common import (
    PRECISION_THRESHOLD,
    VOLTAGE_BASE_END_PERC,
    VOLTAGE_BASE_START_PERC,
)
from ._engine import Context, register

# ---------------------------------------------------------------- formulas


def _mean(c: Context, mask: Array) -> Array:
    n = jnp.sum(mask)
    total = jnp.sum(jnp.where(mask, c.V, 0.0))
    return jnp.where(n > 0, total / jnp.maximum(n, 1), jnp.nan)


def _between(c: Context, start: Array, stop: Array) -> Array:
    """Samples ``start <= index < stop``."""
    return (c.idx >= start) & (c.idx < stop)


def _divide(numerator: Array, denominator: Array) -> Array:
    ok = (denominator != 0) & ~jnp.isnan(denominator)
    return jnp.where(ok, numerator / jnp.where(ok, denominator, 1.0), jnp.nan)


@register("voltage_base", per_spike=False, unit="mV")
def _voltage_base(c: Context) -> Array:
    start_time = c.stim_start * c.voltage_base_start_perc
    end_time = c.stim_start * c.voltage_base_end_perc
    # eFEL's get_time_index: the first t >= start (else 0), through the last
    # t - end < precision_threshold (searched down to index 1; else to the end).
    start = c.first_index(c.t >= start_time)
    start = jnp.where(start == c.T, 0, start)
    below = (c.t - end_time < c.precision_threshold) & (c.idx >= 1)
    last = jnp.max(jnp.where(below, c.idx, -1))
    stop = jnp.where(last >= 0, last + 1, c.T)
    mask = _between(c, start, stop)
    if c.voltage_base_mode == "median":
        value = jnp.nanmedian(jnp.where(mask, c.V, jnp.nan))
    else:
        value = _mean(c, mask)
    return jnp.where(start_time < end_time, value, jnp.nan)


@register("steady_state_voltage_stimend", per_spike=False, unit="mV")
def _steady_state_voltage_stimend(c: Context) -> Array:
    start_time = c.stim_end - 0.1 * (c.stim_end - c.stim_start)
    start = c.first_index(c.t >= start_time)
    stop = c.first_index(c.t >= c.stim_end)
    return _mean(c, _between(c, start, stop))


@register("voltage_deflection", per_spike=False, unit="mV")
def _voltage_deflection(c: Context) -> Array:
    base = _mean(c, c.t < c.stim_start)
    end = c.first_index(c.t > c.stim_end)
    # Mean of the 5 samples from 10 to 6 before the first sample after stim_end.
    window = _mean(c, _between(c, end - 10, end - 5))
    ok = (end < c.T) & (end >= 10)
    return jnp.where(ok, window - base, jnp.nan)


@register("voltage_deflection_vb_ssse", per_spike=False, unit="mV")
def _voltage_deflection_vb_ssse(c: Context) -> Array:
    return c.feature("steady_state_voltage_stimend") - c.feature("voltage_base")


@register("ohmic_input_resistance", per_spike=False, unit="MOhm")
def _ohmic_input_resistance(c: Context) -> Array:
    deflection = c.feature("voltage_deflection")
    return _divide(deflection * c.resistance_factor, c.stim_amplitude)


@register("ohmic_input_resistance_vb_ssse", per_spike=False, unit="MOhm")
def _ohmic_input_resistance_vb_ssse(c: Context) -> Array:
    deflection = c.feature("voltage_deflection_vb_ssse")
    return _divide(deflection * c.resistance_factor, c.stim_amplitude)


def _stimulus_samples(c: Context) -> Array:
    """eFEL's ``__maxmin_voltage`` window: ``[stim_start, min(stim_end, t[-1]))``."""
    end = jnp.minimum(c.stim_end, c.t[-1])
    start = c.first_index(c.t >= c.stim_start)
    stop = c.first_index(c.t >= end)
    return _between(c, start, stop) & (c.stim_start <= c.t[-1])


@register("minimum_voltage", per_spike=False, unit="mV")
def _minimum_voltage(c: Context) -> Array:
    mask = _stimulus_samples(c)
    low = jnp.min(jnp.where(mask, c.V, jnp.inf))
    return jnp.where(jnp.any(mask), low, jnp.nan)


@register("maximum_voltage", per_spike=False, unit="mV")
def _maximum_voltage(c: Context) -> Array:
    mask = _stimulus_samples(c)
    high = jnp.max(jnp.where(mask, c.V, -jnp.inf))
    return jnp.where(jnp.any(mask), high, jnp.nan)


@register("sag_amplitude", per_spike=False, unit="mV")
def _sag_amplitude(c: Context) -> Array:
    sag = c.feature("steady_state_voltage_stimend") - c.feature("minimum_voltage")
    return jnp.where(c.feature("voltage_deflection_vb_ssse") <= 0, sag, jnp.nan)


# ---------------------------------------------------------------- public API

_T = Real[ArrayLike, "*#batch T"]
_V = Real[ArrayLike, "*batch T"]
_Scalar = Real[ArrayLike, "*#batch"]


def voltage_base(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    voltage_base_start_perc: float = VOLTAGE_BASE_START_PERC,
    voltage_base_end_perc: float = VOLTAGE_BASE_END_PERC,
    voltage_base_mode: str = "mean",
    precision_threshold: float = PRECISION_THRESHOLD,
) -> Float[Array, "*batch"]:
    """eFEL ``voltage_base`` (mV): mean (or median) of ``V`` for
    ``0.9 stim_start <= t <= stim_start`` (ms; the fractions are
    `voltage_base_start_perc`, `voltage_base_end_perc`).

    The window is a fraction of `stim_start` itself, so it depends on where the
    time axis starts: with ``t[0] = 0`` and a 10 ms pre-stimulus period it is the
    last millisecond. The upper edge is inclusive (up to `precision_threshold` ms).
    """
    return run(
        "voltage_base",
        t,
        V,
        stim_start=stim_start,
        voltage_base_start_perc=voltage_base_start_perc,
        voltage_base_end_perc=voltage_base_end_perc,
        voltage_base_mode=voltage_base_mode,
        precision_threshold=precision_threshold,
    )


def steady_state_voltage_stimend(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar
) -> Float[Array, "*batch"]:
    """eFEL ``steady_state_voltage_stimend`` (mV): mean ``V`` over the last 10 % of
    the stimulus, ``stim_end - 0.1 (stim_end - stim_start) <= t < stim_end`` (ms).
    """
    return run(
        "steady_state_voltage_stimend",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
    )


def voltage_deflection(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar
) -> Float[Array, "*batch"]:
    """eFEL ``voltage_deflection`` (mV): mean of 5 samples just before the
    stimulus ends (the 10th to 6th before the first sample with ``t > stim_end``)
    minus the mean of *all* samples with ``t < stim_start`` (ms).

    Its window is 5 samples, so it depends on the sampling interval; prefer
    :func:`voltage_deflection_vb_ssse`.
    """
    return run(
        "voltage_deflection",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
    )


def voltage_deflection_vb_ssse(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar, **voltage_base_settings
) -> Float[Array, "*batch"]:
    """eFEL ``voltage_deflection_vb_ssse`` (mV):
    :func:`steady_state_voltage_stimend` minus :func:`voltage_base`."""
    return run(
        "voltage_deflection_vb_ssse",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        **voltage_base_settings,
    )


def ohmic_input_resistance(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    stim_amplitude: _Scalar,
    current_unit: str = "pA",
) -> Float[Array, "*batch"]:
    """eFEL ``ohmic_input_resistance``: :func:`voltage_deflection` over
    `stim_amplitude`, in MOhm for `current_unit` ``"pA"`` or ``"nA"``, in
    kOhm cm^2 for ``"uA/cm^2"``. NaN for a zero amplitude."""
    return run(
        "ohmic_input_resistance",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        stim_amplitude=stim_amplitude,
        current_unit=current_unit,
    )


def ohmic_input_resistance_vb_ssse(
    t: _T,
    V: _V,
    *,
    stim_start: _Scalar,
    stim_end: _Scalar,
    stim_amplitude: _Scalar,
    current_unit: str = "pA",
    **voltage_base_settings,
) -> Float[Array, "*batch"]:
    """eFEL ``ohmic_input_resistance_vb_ssse``: :func:`voltage_deflection_vb_ssse`
    over `stim_amplitude`.

    In MOhm for `current_unit` ``"pA"`` (mV/pA x 1000) or ``"nA"`` (eFEL's
    ``stimulus_current`` unit), in kOhm cm^2 for ``"uA/cm^2"`` (hh_jax's model
    currents). NaN for a zero amplitude. Meaningful only without spikes.
    """
    return run(
        "ohmic_input_resistance_vb_ssse",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        stim_amplitude=stim_amplitude,
        current_unit=current_unit,
        **voltage_base_settings,
    )


def minimum_voltage(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar
) -> Float[Array, "*batch"]:
    """eFEL ``minimum_voltage`` (mV): lowest ``V`` for
    ``stim_start <= t < min(stim_end, t[-1])`` (ms)."""
    return run(
        "minimum_voltage",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
    )


def maximum_voltage(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar
) -> Float[Array, "*batch"]:
    """eFEL ``maximum_voltage`` (mV): highest ``V`` in the same window as
    :func:`minimum_voltage`."""
    return run(
        "maximum_voltage",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
    )


def sag_amplitude(
    t: _T, V: _V, *, stim_start: _Scalar, stim_end: _Scalar, **voltage_base_settings
) -> Float[Array, "*batch"]:
    """eFEL ``sag_amplitude`` (mV): :func:`steady_state_voltage_stimend` minus
    :func:`minimum_voltage`, defined (else NaN) only when
    :func:`voltage_deflection_vb_ssse` is <= 0 (a hyperpolarising response)."""
    return run(
        "sag_amplitude",
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        **voltage_base_settings,
    )
