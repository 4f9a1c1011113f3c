"""Recovering the ideal step command from a measured (noisy) command series.

Amplifiers and acquisition software often store the command *as measured*: the
intended steps plus noise, so almost every sample differs from the one before.
Used as a zero-order hold that gives thousands of tiny steps (slow to integrate,
and no longer a protocol that features can read). :func:`idealise_command`
recovers the protocol: a few levels joined by abrupt steps.

Method: a running median (robust to the noise and sharp at the steps) is
differenced over a short lag; a step is where that difference exceeds a threshold
set from the noise itself (a multiple of the median absolute deviation of the
sample-to-sample differences, and never below a fraction of the command's range).
Each plateau between steps takes the median of its raw samples; neighbouring
plateaus whose levels differ by less than the threshold are merged.
"""

import numpy as np
from scipy.ndimage import median_filter

from .._checks import check_increasing
from ._command import change_points, sampling_interval

# A step must exceed this many noise standard deviations (robust estimate) ...
_NOISE_MULTIPLE = 8.0
# ... and this fraction of the command's total range (so a drifting baseline
# does not become a staircase).
_RANGE_FRACTION = 0.02


def _noise_sigma(x: np.ndarray) -> float:
    """Robust standard deviation of white noise on `x`, from its differences."""
    d = np.diff(x)
    if d.size == 0:
        return 0.0
    mad = np.median(np.abs(d - np.median(d)))
    return float(1.4826 * mad / np.sqrt(2.0))


def idealise_command(
    t: np.ndarray,
    command: np.ndarray,
    *,
    min_duration: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The step protocol behind a sampled, possibly noisy command.

    **Arguments:**

    - `t`: sample times, ms, increasing.
    - `command`: the command at those times (any current unit; it is kept).
    - `min_duration`: shortest plateau to resolve, ms (also the median window).

    **Returns:** ``(times, values)``: the first sample time and the time of every
    step (ms, on a sample), and the level (the median of the raw samples of each
    plateau) from there on. A noise-free step command is returned exactly, as
    its change points.
    """
    t = np.asarray(t, dtype=float)
    x = np.asarray(command, dtype=float)
    if t.ndim != 1 or t.shape != x.shape or t.size == 0:
        raise ValueError(
            f"`t` (ms) and `command` must be 1-D of equal length; got {t.shape} and "
            f"{x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("the command holds NaN or infinite samples.")
    check_increasing("t", t, "ms")
    if not (np.isfinite(min_duration) and min_duration > 0):
        raise ValueError(f"`min_duration` must be > 0 ms; got {min_duration!r}.")
    times, values = change_points(t, x)
    if times.size <= 64:  # already a clean step function: keep it exactly
        return times, values
    dt = sampling_interval(t)
    width = max(int(round(min_duration / dt)), 1) | 1  # odd
    sigma = _noise_sigma(x)
    span = float(np.max(x) - np.min(x))
    threshold = max(_NOISE_MULTIPLE * sigma, _RANGE_FRACTION * span)
    if span <= threshold:  # a flat command with noise
        return t[:1], np.asarray([np.median(x)])
    smooth = median_filter(x, size=width, mode="nearest")
    lag = max(width // 2, 1)
    jump = np.zeros_like(smooth)
    jump[lag:-lag] = smooth[2 * lag :] - smooth[: -2 * lag]
    above = np.abs(jump) > threshold
    # Each run of samples above threshold is one step; place it where the
    # running median changes most within the run.
    edges = []
    k = 0
    n = x.size
    while k < n:
        if not above[k]:
            k += 1
            continue
        j = k
        while j < n and above[j]:
            j += 1
        d = np.abs(np.diff(smooth[max(k - lag, 0) : min(j + lag, n)]))
        edges.append(max(k - lag, 0) + int(np.argmax(d)) + 1)
        k = j
    bounds = [0] + sorted(set(e for e in edges if 0 < e < n)) + [n]
    levels, starts, sizes = [], [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        # Leave out a few samples next to each step (the amplifier's rise).
        margin = min(lag, max((b - a) // 4, 0))
        level = float(np.median(x[a + margin : b - margin] if b - a > 2 else x[a:b]))
        if levels and abs(level - levels[-1]) <= threshold:
            continue  # not a step after all: merge into the previous plateau
        levels.append(level)
        starts.append(a)
        sizes.append(b - a)
    return t[np.asarray(starts)], _shared_levels(np.asarray(levels), sizes, threshold)


def _shared_levels(levels: np.ndarray, sizes, threshold: float) -> np.ndarray:
    """Plateaus whose levels agree to within `threshold` are one level of the
    protocol (e.g. every return to the holding current): give them their
    duration-weighted mean, so they compare equal."""
    out = levels.copy()
    order = np.argsort(levels)
    group = [order[0]]
    for i in order[1:]:
        if levels[i] - levels[group[0]] <= threshold:
            group.append(i)
            continue
        out[group] = np.average(levels[group], weights=np.asarray(sizes)[group])
        group = [i]
    out[group] = np.average(levels[group], weights=np.asarray(sizes)[group])
    return out
