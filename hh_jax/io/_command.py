"""A sampled command current as a piecewise-constant stimulus.

Amplifiers store the command as one value per sample. Sample ``k`` holds from its
time until the next sample (a zero-order hold), which is exactly the semantics of
:class:`hh_jax.PiecewiseConstant`; keeping only the samples where the value changes
loses nothing and smooths nothing.
"""

import numpy as np

from .._checks import check_increasing


def sampling_interval(t: np.ndarray) -> float:
    """The median spacing of the sample times `t` (ms)."""
    return float(np.median(np.diff(t))) if t.size > 1 else float("nan")


def change_points(t: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values)`` of the first sample and of every sample whose value
    differs from the one before it (exact comparison, no tolerance)."""
    keep = np.concatenate([[0], np.flatnonzero(np.diff(values) != 0) + 1])
    return t[keep], values[keep]


def command_from_samples(
    t_voltage: np.ndarray,
    t_command: np.ndarray,
    command: np.ndarray,
    *,
    ideal: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The change points of a sampled `command` recorded beside a voltage; with
    `ideal`, the step protocol recovered from it
    (:func:`hh_jax.io.idealise_command`: noise removed, steps kept).

    Rule: each series covers ``[first sample, last sample + its interval)``; the
    two spans must agree to within half a voltage sample at both ends, otherwise
    the stimulus and the voltage have different durations and this raises. The
    first change point is moved onto the first voltage sample when it lies (less
    than half a sample) after it, so the command is defined from the first sample.
    """
    if t_command.shape != command.shape or command.ndim != 1 or command.size == 0:
        raise ValueError(
            f"the command has {command.size} samples and {t_command.size} times; "
            "expected a non-empty 1-D series."
        )
    if t_voltage.size == 0:
        return t_command[:1], command[:1]
    check_increasing("t", t_voltage, "ms")
    check_increasing("stimulus times", t_command, "ms")
    dt_v = sampling_interval(t_voltage) if t_voltage.size > 1 else 0.0
    dt_c = sampling_interval(t_command) if t_command.size > 1 else dt_v
    start_v, end_v = t_voltage[0], t_voltage[-1] + dt_v
    start_c, end_c = t_command[0], t_command[-1] + dt_c
    tolerance = 0.5 * dt_v
    if abs(start_c - start_v) > tolerance or abs(end_c - end_v) > tolerance:
        raise ValueError(
            f"the stimulus spans {start_c:g} to {end_c:g} ms but the voltage spans "
            f"{start_v:g} to {end_v:g} ms; the command must cover the recording "
            "exactly (to within half a sample), so their durations must match."
        )
    if ideal:
        from ._idealise import idealise_command

        times, values = idealise_command(t_command, command)
    else:
        times, values = change_points(t_command, command)
    times = times.copy()
    times[0] = min(times[0], t_voltage[0])
    return times, values
