"""Classic excitability numbers from batched simulations: f–I curve, rheobase and
the onset of repetitive firing.

Thresholds are located by batched grid refinement: each round simulates a grid of
step amplitudes in one vmapped call and keeps the bracket where the criterion flips,
shrinking it by the grid size per round. This assumes the criterion is monotone in
the amplitude within the initial bracket (true for the HH model from rest).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .model import PointNeuron, State
from .simulate import simulate
from .spikes import spike_count, spike_times
from .stimulus import Step


@eqx.filter_jit
def _step_responses(model, amplitudes, ts, start, stop, y0, options):
    def one(amplitude):
        stim = Step(amplitude, start, stop)
        return simulate(
            model, stim, ts, y0=y0, throw=False, gates=False, **dict(options)
        )

    return jax.vmap(one)(amplitudes)


def step_responses(
    model: PointNeuron,
    amplitudes: Float[ArrayLike, " A"],
    *,
    duration: float,
    start: float = 0.0,
    t_end: float | None = None,
    dt_save: float = 0.025,
    y0: State | None = None,
    **options,
):
    """Simulate one step of each amplitude (uA/cm^2), lasting `duration` ms from
    `start` ms, saving every `dt_save` ms until `t_end` (default: step end + 20 ms).

    Returns the batched :class:`hh_jax.Trace` (leading axis over amplitudes)."""
    t_end = start + duration + 20.0 if t_end is None else t_end
    ts = jnp.arange(0.0, t_end + 0.5 * dt_save, dt_save)
    amplitudes = jnp.asarray(amplitudes, dtype=ts.dtype)
    options = tuple(sorted(options.items()))
    trace = _step_responses(model, amplitudes, ts, start, start + duration, y0, options)
    trace.raise_if_failed()
    return trace


def firing_rate(
    model: PointNeuron,
    amplitudes: Float[ArrayLike, " A"],
    *,
    duration: float = 500.0,
    discard: float = 100.0,
    y0: State | None = None,
    **options,
) -> Float[Array, " A"]:
    """Steady firing rate (Hz) for each step amplitude (uA/cm^2): spikes counted
    after the first `discard` ms of a `duration` ms step, divided by the time."""
    trace = step_responses(model, amplitudes, duration=duration, y0=y0, **options)
    late = jnp.where(trace.t >= discard, trace.V, -jnp.inf)
    late = jnp.where(trace.t <= duration, late, -jnp.inf)
    return spike_count(late) / ((duration - discard) * 1e-3)


def _refine(criterion, lo: float, hi: float, tol: float, grid: int) -> float:
    """Smallest amplitude in [lo, hi] where `criterion(amplitudes)` (bool per
    amplitude, monotone False -> True) is True, to within `tol`."""
    fires = np.asarray(criterion(jnp.asarray([lo, hi])))
    if fires[0] or not fires[1]:
        raise ValueError(
            f"the criterion does not change between {lo} and {hi} uA/cm^2 "
            f"(at the ends: {bool(fires[0])}, {bool(fires[1])}); widen the bracket."
        )
    while hi - lo > tol:
        amps = np.linspace(lo, hi, grid)
        fires = np.asarray(criterion(jnp.asarray(amps)))
        first = int(np.argmax(fires))
        if not fires.any():
            raise ValueError("the criterion is not monotone in the amplitude.")
        lo, hi = amps[max(first - 1, 0)], amps[first]
    return 0.5 * (lo + hi)


def rheobase(
    model: PointNeuron,
    *,
    duration: float = 100.0,
    bracket: tuple[float, float] = (0.0, 20.0),
    tol: float = 1e-3,
    grid: int = 16,
    y0: State | None = None,
    **options,
) -> float:
    """Smallest amplitude (uA/cm^2) of a `duration` ms step from rest that evokes at
    least one spike (0 mV crossing), to within `tol`."""

    def fires(amps):
        trace = step_responses(model, amps, duration=duration, y0=y0, **options)
        return spike_count(trace.V) >= 1

    return _refine(fires, *bracket, tol=tol, grid=grid)


def repetitive_firing_onset(
    model: PointNeuron,
    *,
    duration: float = 500.0,
    sustained_after: float = 400.0,
    bracket: tuple[float, float] = (2.0, 20.0),
    tol: float = 1e-3,
    grid: int = 16,
    y0: State | None = None,
    **options,
) -> float:
    """Smallest step amplitude (uA/cm^2) from rest whose spikes go on past
    `sustained_after` ms of a `duration` ms step, to within `tol`."""

    def sustained(amps):
        trace = step_responses(
            model, amps, duration=duration, t_end=duration, y0=y0, **options
        )
        last = jnp.nanmax(spike_times(trace.t, trace.V, max_spikes=200), axis=-1)
        return np.nan_to_num(np.asarray(last), nan=-1.0) > sustained_after

    return _refine(sustained, *bracket, tol=tol, grid=grid)
