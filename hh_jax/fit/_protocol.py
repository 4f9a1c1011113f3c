"""What a step protocol applied in a sweep: its main step and its passive segments.

A current-clamp sweep is read as a step function of the command (see
:class:`hh_jax.io.Sweep`). The *holding current* is the command's first value;
the *main step* is the longest stretch away from it (the earliest one of equal
length: a protocol that repeats its test step, e.g. after a hyperpolarising
pulse, has its features read on the first); *hyperpolarising segments* are
stretches below the holding current entered from it, which show the passive
membrane (input resistance, time constant, sag).
"""

import dataclasses

import numpy as np

from ..io import Sweep

# Two stretches whose durations agree to this fraction count as equally long.
_EQUAL_LENGTH = 0.01


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of constant command: `start`, `end` in ms (the sweep's clock),
    `amplitude` relative to the holding current (the sweep's current unit)."""

    start: float
    end: float
    amplitude: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclasses.dataclass(frozen=True)
class StepProtocol:
    """The protocol of one sweep.

    - `holding`: the command's first value (the sweep's current unit).
    - `main_step`: the main step (a zero-amplitude segment spanning the sweep
      when the command is flat).
    - `hyperpolarising`: the segments below the holding current entered directly
      from it.
    - `t_start`, `t_end`: the span of the sweep (ms).
    """

    holding: float
    main_step: Segment
    hyperpolarising: tuple[Segment, ...]
    t_start: float
    t_end: float


def _constant_over(times, values, start, end) -> float | None:
    """The command's value if it is constant over [start, end), else None."""
    k0 = int(np.searchsorted(times, start + 1e-9, side="right")) - 1
    k1 = int(np.searchsorted(times, end - 1e-9, side="right")) - 1
    if k0 < 0 or k1 != k0:
        return None
    return float(values[k0])


def step_protocol(
    sweep: Sweep, window: tuple[float, float] | None = None
) -> StepProtocol:
    """Read the protocol of `sweep` from its command.

    `window`: the main step's (start, end) in ms from the sweep's first sample,
    as found for the whole recording by :func:`main_step_window`; where the
    command is constant over it, that stretch is the main step (so a sweep
    whose test step is 0 pA, or equals a test pulse, keeps the family's
    window). Without it, or where it does not fit, the longest stretch away
    from the holding current is the main step."""
    times = np.asarray(sweep.stimulus_times, float)
    values = np.asarray(sweep.stimulus_values, float)
    t_end = float(sweep.t[-1] + sweep.sampling_interval)
    ends = np.append(times[1:], t_end)
    holding = float(values[0])
    away = [k for k in range(len(times)) if values[k] != holding]
    level = None
    if window is not None:
        start, end = float(sweep.t[0]) + window[0], float(sweep.t[0]) + window[1]
        level = _constant_over(times, values, start, end)
    if level is not None:
        main = Segment(start, end, level - holding)
    elif away:
        longest = max(ends[k] - times[k] for k in away)
        k = min(k for k in away if ends[k] - times[k] >= (1 - _EQUAL_LENGTH) * longest)
        main = Segment(float(times[k]), float(ends[k]), float(values[k] - holding))
    else:
        main = Segment(float(sweep.t[0]), t_end, 0.0)
    hyper = tuple(
        Segment(float(times[k]), float(ends[k]), float(values[k] - holding))
        for k in range(1, len(times))
        if values[k] < holding and values[k - 1] == holding
    )
    return StepProtocol(holding, main, hyper, float(sweep.t[0]), t_end)


def main_step_window(sweeps: list[Sweep]) -> tuple[float, float] | None:
    """The (start, end) of the main step, ms from each sweep's first sample,
    shared by most `sweeps` (a family of steps of different amplitudes): the
    most common of the sweeps' own main steps. None without a step."""
    windows = []
    for sweep in sweeps:
        main = step_protocol(sweep).main_step
        if main.amplitude != 0:
            t0 = float(sweep.t[0])
            windows.append((round(main.start - t0, 3), round(main.end - t0, 3)))
    if not windows:
        return None
    keys, counts = np.unique(np.asarray(windows), axis=0, return_counts=True)
    best = keys[int(np.argmax(counts))]
    return float(best[0]), float(best[1])
