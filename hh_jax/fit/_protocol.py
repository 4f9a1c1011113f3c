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


def step_protocol(sweep: Sweep) -> StepProtocol:
    """Read the protocol of `sweep` from its command."""
    times = np.asarray(sweep.stimulus_times, float)
    values = np.asarray(sweep.stimulus_values, float)
    t_end = float(sweep.t[-1] + sweep.sampling_interval)
    ends = np.append(times[1:], t_end)
    holding = float(values[0])
    away = [k for k in range(len(times)) if values[k] != holding]
    if away:
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
