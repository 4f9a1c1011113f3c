"""A spike threshold for recorded traces: eFEL's -20 mV unless the recorded
spikes are too small for it.

Spikes are found here without any voltage threshold (steep upstroke, interior
peak, repolarisation), so that the threshold can be chosen from them.
"""

import numpy as np

from ._threshold import THRESHOLD

_ONSET_SLOPE = 10.0  # mV/ms: an upstroke this steep starts a spike (eFEL's too)
_SLOPE_SPAN = 0.1  # ms over which slopes are taken (sample noise averages out)
_MIN_HEIGHT = 20.0  # mV from onset to peak, and fall after it: smaller events
_SPIKE_SPAN = 3.0  # ms: a spike peaks, and falls back, within this of its onset
_MARGIN = 10.0  # mV: the default is kept while every spike peaks this far above it


def _spike_onsets_and_peaks(t: np.ndarray, V: np.ndarray):
    """(onset V, peak V) of every spike of one trace, found without a voltage
    threshold: an upstroke steeper than ``_ONSET_SLOPE`` (slope over
    ``_SLOPE_SPAN``, and above 5 robust standard deviations of the trace's
    slope noise), then a local maximum within ``_SPIKE_SPAN`` at least
    ``_MIN_HEIGHT`` above the onset, followed within ``_SPIKE_SPAN`` by a fall of
    ``_MIN_HEIGHT / 2``. Sampling noise and the slow ramps between fast spikes do
    not qualify."""
    dt = float(np.median(np.diff(t)))
    n = max(int(round(_SLOPE_SPAN / dt)), 1)
    if V.size <= n + 2:
        return [], []
    slope = (V[n:] - V[:-n]) / (n * dt)
    noise = 1.4826 * float(np.median(np.abs(slope - np.median(slope))))
    level = max(_ONSET_SLOPE, 5.0 * noise)
    up = np.flatnonzero((slope[:-1] < level) & (slope[1:] >= level)) + 1
    span = max(int(round(_SPIKE_SPAN / dt)), 2)
    onsets, peaks, last = [], [], -1
    for k in up:
        if k <= last:
            continue
        j = k + int(np.argmax(V[k : k + span]))
        if j >= min(k + span, V.size) - 1 or V[j] - V[k] < _MIN_HEIGHT:
            continue  # no interior maximum (a ramp), or too small
        after = V[j : j + span]
        if V[j] - after.min() < 0.5 * _MIN_HEIGHT:
            continue  # does not repolarise
        onsets.append(V[k])
        peaks.append(V[j])
        last = j
    return onsets, peaks


def detection_threshold(
    traces: list[tuple[np.ndarray, np.ndarray]], default: float = THRESHOLD
) -> float:
    """A spike threshold (mV) that sees every spike of the recorded `traces`
    ``[(t ms, V mV), ...]``: eFEL's -20 mV unless some spikes are small.

    Spikes are found without a threshold (see the rules in
    ``_spike_onsets_and_peaks``: steep upstroke, interior peak 20 mV above its
    onset, repolarisation). If the lowest peaks (10th percentile) clear
    `default` by 10 mV, `default` is returned; else the level halfway between
    the median onset and those peaks, rounded down to 1 mV (so spikes that peak
    at -5 mV are still counted)."""
    onsets, peaks = [], []
    for t, V in traces:
        t, V = np.asarray(t, float), np.asarray(V, float)
        if t.size < 4:
            continue
        o, p = _spike_onsets_and_peaks(t, V)
        onsets += o
        peaks += p
    if not peaks:
        return float(default)
    low_peak = float(np.percentile(peaks, 10))
    if low_peak >= default + _MARGIN:
        return float(default)
    return float(np.floor(0.5 * (np.median(onsets) + low_peak)))
