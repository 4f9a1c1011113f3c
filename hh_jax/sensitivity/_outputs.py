"""What a sensitivity is taken of: named outputs of a simulated trace.

Every output is a differentiable function of the trace (or, for ``rest``, of the
model alone). Spike counts and times use the smooth surrogates of
:mod:`hh_jax.features` (the hard count is piecewise constant, so its derivative is
zero almost everywhere); they are computed inside a window, by default the span of
the stimulus.
"""

import dataclasses
from collections.abc import Callable, Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..features import AP_amplitude
from ..initial_state import resolve_y0
from ..model import PointNeuron
from ..spikes import SHARPNESS as SHARPNESS  # 1/mV, the soft count's default
from ..spikes import THRESHOLD as THRESHOLD  # mV, the spike threshold
from ..spikes import soft_spike_count, soft_time_to_first_spike
from ..stimulus import (
    AbstractStimulus,
    Constant,
    PiecewiseConstant,
    PulseTrain,
    Sampled,
    StimulusSum,
)
from ..trace import Trace


@dataclasses.dataclass(frozen=True)
class OutputInfo:
    """An output's name, unit and meaning; `trace` outputs have one value per save
    time, the others one value."""

    name: str
    unit: str
    doc: str
    trace: bool = False


OUTPUTS = {
    info.name: info
    for info in (
        OutputInfo("V", "mV", "membrane potential at every save time", trace=True),
        OutputInfo(
            "spike_count",
            "1",
            "soft spike count in the window (hh_jax.spikes.soft_spike_count)",
        ),
        OutputInfo(
            "latency",
            "ms",
            "soft first-spike latency after the window start "
            "(hh_jax.spikes.soft_time_to_first_spike; the window length if none)",
        ),
        OutputInfo("rate", "Hz", "soft spike count divided by the window length"),
        OutputInfo(
            "AP_amplitude",
            "mV",
            "eFEL AP_amplitude of the first spike in the window (NaN without one)",
        ),
        OutputInfo(
            "rest",
            "mV",
            "resting potential without current (hh_jax.resting_state; no simulation)",
        ),
        OutputInfo("loss", "1", "the user's loss(trace), a scalar"),
    )
}


def check_output_names(names: Sequence[str], *, scalar_only: bool = False) -> tuple:
    """Validate output names; raise ``ValueError`` listing the valid ones."""
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    valid = [n for n, info in OUTPUTS.items() if not (scalar_only and info.trace)]
    if not names:
        raise ValueError(f"no outputs given; choose from {', '.join(valid)}.")
    if len(set(names)) != len(names):
        raise ValueError(f"output names repeat: {list(names)}.")
    for name in names:
        if name not in valid:
            why = (
                " (a trace; a global analysis needs scalar outputs)"
                if name in OUTPUTS
                else ""
            )
            raise ValueError(
                f"unknown output {name!r}{why}; choose from {', '.join(valid)}."
            )
    return names


def stimulus_window(stimulus: AbstractStimulus, t0: float, t1: float):
    """(start, end) in ms of the applied current, clipped to ``[t0, t1]``: from the
    first switch-on to the last switch-off (a ``Constant`` or an unknown stimulus:
    the whole span). Used for latencies and rates."""

    def span(s):
        if isinstance(s, StimulusSum):
            parts = [span(term) for term in s.terms]
            return min(p[0] for p in parts), max(p[1] for p in parts)
        if isinstance(s, Constant):
            return t0, t1
        if isinstance(s, PulseTrain):
            start = float(np.min(s.start))
            last = s.start + s.interval * (s.count - 1) + s.width
            return start, float(np.max(last))
        if isinstance(s, Sampled):
            return float(np.min(s.t0)), float(np.max(s.t_end))
        if isinstance(s, PiecewiseConstant):
            times = np.asarray(s.times).reshape(-1, np.shape(s.times)[-1])
            values = np.asarray(s.values).reshape(times.shape)
            on = np.where(values != 0, times, np.inf).min()
            after = np.append(times[:, 1:], np.full((len(times), 1), t1), axis=1)
            off = np.where(values != 0, after, -np.inf).max()
            return (float(on), float(off)) if np.isfinite(on) else (t0, t1)
        if hasattr(s, "start") and hasattr(s, "stop"):
            return float(np.min(s.start)), float(np.max(s.stop))
        return t0, t1

    start, end = span(stimulus)
    start, end = max(start, t0), min(end, t1)
    return (start, end) if end > start else (t0, t1)


def rest_of(model: PointNeuron, batched: bool):
    """The model's resting state; under ``vmap`` (`batched`) a member whose Newton
    solve fails gets NaN instead of stopping the batch."""
    return resolve_y0(model, "rest", throw=not batched)


class Outputs(eqx.Module):
    """The chosen outputs and their settings: the spike threshold (mV) and
    sharpness (1/mV) of the soft count and times, the window (ms) and the user's
    loss, a function ``loss(trace) -> scalar`` of a :class:`hh_jax.Trace`.
    `batched`: evaluated under ``vmap``, where a failing resting-state solve must
    give NaN for its member instead of raising."""

    names: tuple[str, ...] = eqx.field(static=True)
    window: tuple[float, float] = eqx.field(static=True)
    threshold: float = eqx.field(static=True, default=THRESHOLD)
    sharpness: float = eqx.field(static=True, default=SHARPNESS)
    loss: Callable[[Trace], Array] | None = eqx.field(static=True, default=None)
    batched: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if "loss" in self.names and self.loss is None:
            raise ValueError("output 'loss' needs a `loss` function: loss(trace).")

    @property
    def needs_trace(self) -> bool:
        return any(n != "rest" for n in self.names)

    def units(self) -> tuple[str, ...]:
        return tuple(OUTPUTS[n].unit for n in self.names)

    def __call__(self, trace: Trace | None, model: PointNeuron) -> dict[str, Array]:
        """Every output, by name, for one simulated trace."""
        start, end = self.window
        soft = dict(threshold=self.threshold, sharpness=self.sharpness)
        out = {}
        for name in self.names:
            if name == "rest":
                out[name] = rest_of(model, self.batched).V
                continue
            assert trace is not None
            t, V = trace.t, trace.V
            if name == "V":
                out[name] = V
            elif name == "spike_count":
                out[name] = soft_spike_count(t, V, start=start, end=end, **soft)
            elif name == "rate":
                count = soft_spike_count(t, V, start=start, end=end, **soft)
                out[name] = count / ((end - start) * 1e-3)
            elif name == "latency":
                out[name] = soft_time_to_first_spike(
                    t, V, stim_start=start, stim_end=end, **soft
                )
            elif name == "AP_amplitude":
                amp = AP_amplitude(
                    t,
                    V,
                    stim_start=start,
                    stim_end=end,
                    threshold=self.threshold,
                    max_spikes=1,
                )
                out[name] = amp[..., 0]
            elif name == "loss":
                assert self.loss is not None
                out[name] = jnp.asarray(self.loss(trace))
        return out
