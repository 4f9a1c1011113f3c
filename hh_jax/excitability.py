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

from .initial_state import DEFAULT_Y0, InitialState
from .model import PointNeuron, State, resting_state
from .simulate import simulate
from .spikes import THRESHOLD, spike_count, spike_times
from .stimulus import Constant, Ramp, Step


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
    y0: InitialState | None = DEFAULT_Y0["simulate"],
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
    y0: InitialState | None = DEFAULT_Y0["simulate"],
    threshold: float = THRESHOLD,
    **options,
) -> Float[Array, " A"]:
    """Steady firing rate (Hz) for each step amplitude (uA/cm^2): spikes (upward
    crossings of `threshold`, mV) counted after the first `discard` ms of a
    `duration` ms step, divided by the time."""
    trace = step_responses(model, amplitudes, duration=duration, y0=y0, **options)
    late = jnp.where(trace.t >= discard, trace.V, -jnp.inf)
    late = jnp.where(trace.t <= duration, late, -jnp.inf)
    return spike_count(late, threshold) / ((duration - discard) * 1e-3)


def _refine(criterion, lo: float, hi: float, tol: float, grid: int) -> float:
    """Smallest amplitude in [lo, hi] where `criterion(amplitudes)` (bool per
    amplitude, monotone False -> True) is True, to within `tol`."""
    # The first grid includes the bracket's ends, which must differ: every call
    # has `grid` amplitudes, so one compilation serves the whole refinement.
    amps = np.linspace(lo, hi, grid)
    fires = np.asarray(criterion(jnp.asarray(amps)))
    if fires[0] or not fires[-1]:
        raise ValueError(
            f"the criterion does not change between {lo} and {hi} uA/cm^2 "
            f"(at the ends: {bool(fires[0])}, {bool(fires[-1])}); widen the bracket."
        )
    while True:
        first = int(np.argmax(fires))
        if not fires.any():
            raise ValueError("the criterion is not monotone in the amplitude.")
        lo, hi = amps[max(first - 1, 0)], amps[first]
        if hi - lo <= tol:
            return 0.5 * (lo + hi)
        amps = np.linspace(lo, hi, grid)
        fires = np.asarray(criterion(jnp.asarray(amps)))


def rheobase(
    model: PointNeuron,
    *,
    duration: float = 100.0,
    bracket: tuple[float, float] = (0.0, 20.0),
    tol: float = 1e-3,
    grid: int = 16,
    y0: InitialState | None = DEFAULT_Y0["simulate"],
    threshold: float = THRESHOLD,
    **options,
) -> float:
    """Smallest amplitude (uA/cm^2) of a `duration` ms step from rest that evokes at
    least one spike (an upward crossing of `threshold`, mV), to within `tol`."""

    def fires(amps):
        trace = step_responses(model, amps, duration=duration, y0=y0, **options)
        return spike_count(trace.V, threshold) >= 1

    return _refine(fires, *bracket, tol=tol, grid=grid)


def repetitive_firing_onset(
    model: PointNeuron,
    *,
    duration: float = 500.0,
    sustained_after: float = 400.0,
    bracket: tuple[float, float] = (2.0, 20.0),
    tol: float = 1e-3,
    grid: int = 16,
    y0: InitialState | None = DEFAULT_Y0["simulate"],
    threshold: float = THRESHOLD,
    **options,
) -> float:
    """Smallest step amplitude (uA/cm^2) from rest whose spikes (upward crossings
    of `threshold`, mV) go on past `sustained_after` ms of a `duration` ms step,
    to within `tol`."""

    def sustained(amps):
        trace = step_responses(
            model, amps, duration=duration, t_end=duration, y0=y0, **options
        )
        times = spike_times(trace.t, trace.V, threshold, max_spikes=200)
        last = jnp.nanmax(times, axis=-1)
        return np.nan_to_num(np.asarray(last), nan=-1.0) > sustained_after

    return _refine(sustained, *bracket, tol=tol, grid=grid)


def rest_growth_rate(
    model: PointNeuron, currents: Float[ArrayLike, " A"]
) -> Float[Array, " A"]:
    """Largest real part (1/ms) of the eigenvalues of the linearised dynamics at the
    resting state under each constant current (uA/cm^2). Rest is stable where it is
    negative; it loses stability (for HH by a subcritical Hopf bifurcation near
    9.78 uA/cm^2) where it crosses zero."""
    names = model.gate_names

    def one(I):
        rest = resting_state(model, holding_current=I)

        def f(y):
            return model.derivative(State.from_array(y, names), I).to_array(names)

        jacobian = jax.jacfwd(f)(rest.to_array(names))
        return jnp.max(jnp.real(jnp.linalg.eigvals(jacobian)))

    return jax.vmap(one)(jnp.asarray(currents, dtype=jnp.result_type(float)))


class FICurve(eqx.Module):
    """Steady firing rates (Hz) against constant current (uA/cm^2).

    - `rate_increasing`: starting at rest (nudged by 0.1 mV), as found when current
      is raised slowly: the neuron fires only where rest is unstable, or where the
      nudge suffices.
    - `rate_decreasing`: starting on the firing cycle of a strong current and
      lowering the current slowly (a ramp), as found when current is reduced:
      firing persists wherever a stable firing cycle exists.
    - `rest_growth_rate`: largest real part (1/ms) of the eigenvalues at rest.

    Where the two rates differ, rest and repetitive firing coexist (bistability).
    Near the loss of stability of rest the growth is slow (1/ms rates ~1e-3), so a
    finite simulation shows `rate_increasing` = 0 slightly past the exact point;
    `rest_growth_rate` locates it exactly."""

    amplitudes: Float[Array, " A"]
    rate_increasing: Float[Array, " A"]
    rate_decreasing: Float[Array, " A"]
    rest_growth_rate: Float[Array, " A"]

    def instability_current(self) -> float | None:
        """Current (uA/cm^2) where rest loses stability: the zero of
        `rest_growth_rate`, linearly interpolated on the grid; None if none."""
        amps = np.asarray(self.amplitudes)
        growth = np.asarray(self.rest_growth_rate)
        k = np.nonzero((growth[:-1] < 0) & (growth[1:] >= 0))[0]
        if not len(k):
            return None
        k = k[0]
        slope = (growth[k + 1] - growth[k]) / (amps[k + 1] - amps[k])
        return float(amps[k] - growth[k] / slope)

    def bistable_range(self) -> tuple[float, float] | None:
        """(lowest current with firing on the decreasing branch, current where rest
        loses stability), in uA/cm^2, or None without bistability. The lower end is
        on the amplitude grid; the upper end is interpolated."""
        amps = np.asarray(self.amplitudes)
        fires = np.asarray(self.rate_decreasing) > 0
        if not fires.any():
            return None
        low = float(amps[fires].min())
        high = self.instability_current()
        high = float(amps.max()) if high is None else high
        return (low, high) if high > low else None


def fi_curve(
    model: PointNeuron,
    amplitudes: Float[ArrayLike, " A"],
    *,
    duration: float = 1500.0,
    settle: float = 500.0,
    count_after: float = 1000.0,
    firing_current: float | None = None,
    threshold: float = THRESHOLD,
    **options,
) -> FICurve:
    """f–I curve with both branches, in one vmapped simulation of
    ``2 * len(amplitudes)`` neurons.

    **Arguments:**

    - `amplitudes`: constant currents, uA/cm^2.
    - `duration`: simulated time, ms. The decreasing branch ramps the current
      down from `firing_current` over the first `settle` ms; spikes are counted
      after `count_after` ms.
    - `firing_current`: where the decreasing branch starts (default: the largest
      amplitude), uA/cm^2.
    - `threshold`: spikes are upward crossings of it, mV.
    """
    amplitudes = jnp.asarray(amplitudes, dtype=jnp.result_type(float))
    rest = jax.vmap(lambda I: resting_state(model, holding_current=I))(amplitudes)
    rest = eqx.tree_at(lambda s: s.V, rest, rest.V + 0.1)
    I_fire = amplitudes.max() if firing_current is None else firing_current
    warm = simulate(model, Constant(I_fire), jnp.asarray([0.0, 200.0]), **options)
    on_cycle = jax.tree.map(lambda x: x[-1], State(warm.V, warm.gates))
    ts = jnp.arange(0.0, duration + 0.0125, 0.025)
    options = tuple(sorted(options.items()))
    up = _constant_responses(model, amplitudes, rest, ts, options)
    down = _ramped_responses(model, amplitudes, on_cycle, I_fire, settle, ts, options)
    up.raise_if_failed()
    down.raise_if_failed()
    max_spikes = int((duration - count_after) * 0.3) + 2  # up to 300 Hz

    def rate(trace):
        """Spikes per second from the mean inter-spike interval in the window."""
        V = jnp.where(ts >= count_after, trace.V, -jnp.inf)
        times = spike_times(ts, V, threshold, max_spikes=max_spikes)
        n = jnp.sum(jnp.isfinite(times), axis=-1)
        span = jnp.nanmax(times, axis=-1) - jnp.nanmin(times, axis=-1)
        return jnp.where(n >= 2, 1e3 * (n - 1) / jnp.where(n >= 2, span, 1.0), 0.0)

    return FICurve(
        amplitudes, rate(up), rate(down), rest_growth_rate(model, amplitudes)
    )


@eqx.filter_jit
def _constant_responses(model, currents, starts, ts, options):
    def one(I, y0):
        return simulate(
            model, Constant(I), ts, y0=y0, throw=False, gates=False, **dict(options)
        )

    return jax.vmap(one)(currents, starts)


@eqx.filter_jit
def _ramped_responses(model, currents, start, I_start, settle, ts, options):
    def one(I):
        stim = Ramp(I, 0.0, settle, initial=I_start) + Step(I, settle)
        return simulate(
            model, stim, ts, y0=start, throw=False, gates=False, **dict(options)
        )

    return jax.vmap(one)(currents)
