"""Training windows: the stretches of the training sweeps a fit is scored on.

Each training sweep gives a window around its main step (some baseline before
it, a little after), and the hyperpolarising segments elsewhere in the sweeps
(test pulses) give passive windows, one per distinct amplitude. A window starts
at rest, so a long sweep is simulated only where it carries information; where
the command changed earlier in the sweep, the window starts with the sweep.
"""

import jax.numpy as jnp
import numpy as np

from ..io import Sweep
from ._population import TrainingWindow
from ._protocol import Segment, step_protocol
from ._targets import DEFAULT_TERMS, FeatureTerm, window_features, window_targets

# The model starts at rest, so little baseline is needed before a step (enough
# for eFEL's voltage_base window, the last 10 % before the step).
PRE_STEP = 20.0  # ms of baseline simulated before a step
POST_STEP = 20.0  # ms simulated after it
# A command change less than this long before a step (e.g. a prepulse) leaves
# after-effects in it (slow K and h currents, calcium): the window then starts
# with the sweep. Earlier changes (a test pulse at the start of a long sweep)
# have decayed.
MEMORY = 600.0  # ms
MAX_PASSIVE_WINDOWS = 2


def _window(
    index: int,
    kind: str,
    sweep: Sweep,
    seg: Segment,
    terms: tuple[FeatureTerm, ...],
    threshold: float,
    max_spikes: int,
) -> TrainingWindow:
    # A window starts at rest PRE_STEP before its step, unless the command changed
    # within MEMORY before it (a prepulse): its after-effects are part of the
    # data, so the window then starts with the sweep.
    times = np.asarray(sweep.stimulus_times)
    earlier = (times > sweep.t[0]) & (times < seg.start - 1e-9)
    t0 = (
        float(sweep.t[0])
        if earlier.any()
        else max(float(sweep.t[0]), seg.start - PRE_STEP)
    )
    t1 = min(seg.end + POST_STEP, float(sweep.t[-1]))
    crop = sweep.crop(t0, t1)
    values, spreads = window_features(
        jnp.asarray(crop.t - t0),
        jnp.asarray(crop.V),
        jnp.asarray(seg.start - t0),
        jnp.asarray(seg.end - t0),
        jnp.asarray(threshold),
        names=tuple(t.name for t in terms),
        max_spikes=max_spikes,
    )
    return TrainingWindow(
        sweep=index,
        kind=kind,
        t_start=t0,
        t_end=t1,
        stimulus_times=np.asarray(crop.stimulus_times, float),
        stimulus_values=np.asarray(crop.stimulus_values, float),
        feature_start=seg.start,
        feature_end=seg.end,
        targets=window_targets(np.asarray(values), np.asarray(spreads), terms),
    )


def training_windows(
    sweeps: list[Sweep],
    *,
    threshold: float,
    max_spikes: int,
    terms: tuple[FeatureTerm, ...] = DEFAULT_TERMS,
    window: tuple[float, float] | None = None,
) -> list[TrainingWindow]:
    """The windows of `sweeps`: every main step (`window`: the recording's, see
    :func:`hh_jax.fit.main_step_window`), then up to two passive ones."""
    windows = []
    for i, sweep in enumerate(sweeps):
        main = step_protocol(sweep, window).main_step
        windows.append(_window(i, "step", sweep, main, terms, threshold, max_spikes))
    # A hyperpolarising pulse whose amplitude a main step already has adds nothing.
    amplitudes_seen = {
        round(step_protocol(s, window).main_step.amplitude, 3) for s in sweeps
    }
    passive = []
    for i, sweep in enumerate(sweeps):
        for seg in step_protocol(sweep, window).hyperpolarising:
            key = round(seg.amplitude, 3)
            if key in amplitudes_seen or len(passive) >= MAX_PASSIVE_WINDOWS:
                continue
            amplitudes_seen.add(key)
            passive.append(
                _window(i, "passive", sweep, seg, terms, threshold, max_spikes)
            )
    return windows + passive
