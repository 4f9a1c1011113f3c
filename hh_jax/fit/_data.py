"""Recorded sweeps as device arrays for fitting: padded, masked, with stimuli.

Sweeps of different lengths are padded to the longest (``mask`` marks recorded
samples; nothing is truncated). Whole-cell commands stay in pA until the membrane
area (given or fitted) turns them into uA/cm^2 inside the objective.
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from ..io import Recording, Sweep
from ..stimulus import PiecewiseConstant

_PA_PER = {"pA": 1.0, "nA": 1e3}


class FitData(eqx.Module):
    """Sweeps to fit. Arrays have a leading sweep axis S.

    - `t` (S, T): sample times, ms (padded rows continue the sampling grid).
    - `V` (S, T): recorded membrane potential, mV.
    - `mask` (S, T): True on recorded samples.
    - `stimulus_times`, `stimulus_values` (S, K): piecewise-constant commands in
      `current_unit` (``"uA/cm^2"`` or ``"pA"``).
    - `stimulus_windows` (S, 2): start and end (ms) of each sweep's main current
      step (the longest stretch away from the baseline command), for features.
    """

    t: Float[Array, "S T"]
    V: Float[Array, "S T"]
    mask: Bool[Array, "S T"]
    stimulus_times: Float[Array, "S K"]
    stimulus_values: Float[Array, "S K"]
    stimulus_windows: Float[Array, "S 2"]
    step_amplitudes: Float[Array, " S"]
    current_unit: str = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    dt: float = eqx.field(static=True)  # median sampling interval, ms

    @property
    def whole_cell(self) -> bool:
        return self.current_unit != "uA/cm^2"

    @property
    def num_sweeps(self) -> int:
        return self.t.shape[0]

    def stimulus(self, area_um2=None) -> PiecewiseConstant:
        """The batched stimulus in uA/cm^2; whole-cell currents are divided by the
        membrane area `area_um2` (um^2): I[uA/cm^2] = I[pA] 1e-6 / (area 1e-8)."""
        if not self.whole_cell:
            return PiecewiseConstant(self.stimulus_times, self.stimulus_values)
        if area_um2 is None:
            raise ValueError(
                "whole-cell currents (pA) need the membrane area: give `area` (um^2) "
                "or fit it (free parameter 'area')."
            )
        return PiecewiseConstant(
            self.stimulus_times, self.stimulus_values * (1e-6 / (area_um2 * 1e-8))
        )


def _main_step(sweep: Sweep) -> tuple[float, float, float]:
    """(start, end, amplitude) of the longest stretch where the command differs
    from its first (baseline) value; the whole sweep if the command is flat."""
    times = np.asarray(sweep.stimulus_times)
    values = np.asarray(sweep.stimulus_values)
    end_of_sweep = float(sweep.t[-1] + sweep.sampling_interval)
    ends = np.append(times[1:], end_of_sweep)
    best = (float(sweep.t[0]), end_of_sweep, 0.0)
    longest = -1.0
    for k in range(len(times)):
        if values[k] != values[0] and ends[k] - times[k] > longest:
            longest = ends[k] - times[k]
            best = (float(times[k]), float(ends[k]), float(values[k] - values[0]))
    return best


def fit_data(recordings: Recording | list[Recording] | list[Sweep]) -> FitData:
    """Gather sweeps (from one or several recordings) into :class:`FitData`.

    All sweeps must share one kind of current unit: densities (uA/cm^2) or
    whole-cell (pA/nA, converted to pA)."""
    if isinstance(recordings, Recording):
        sweeps = list(recordings.sweeps)
    else:
        sweeps = []
        for item in recordings:
            sweeps.extend(item.sweeps if isinstance(item, Recording) else [item])
    if not sweeps:
        raise ValueError("no sweeps to fit.")
    kinds = {"density" if s.current_unit == "uA/cm^2" else "whole-cell" for s in sweeps}
    if len(kinds) > 1:
        raise ValueError(
            "sweeps mix current densities (uA/cm^2) and whole-cell currents (pA); "
            "fit them separately or convert them first."
        )
    recording = Recording(sweeps)
    t, V, mask = recording.padded()
    unit = "uA/cm^2" if kinds == {"density"} else "pA"
    K = max(s.stimulus_times.size for s in sweeps)
    times = np.empty((len(sweeps), K))
    values = np.empty((len(sweeps), K))
    for row, s in enumerate(sweeps):
        n = s.stimulus_times.size
        scale = 1.0 if unit == "uA/cm^2" else _PA_PER[s.current_unit]
        times[row, :n] = s.stimulus_times
        values[row, :n] = s.stimulus_values * scale
        # Padding: later times than the sweep's end, repeating the last value.
        times[row, n:] = t[row, -1] + 1.0 + np.arange(K - n)
        values[row, n:] = values[row, n - 1]
    steps = np.asarray([_main_step(s) for s in sweeps])
    if unit == "pA":
        steps[:, 2] *= [_PA_PER[s.current_unit] for s in sweeps]
    return FitData(
        t=jnp.asarray(t),
        V=jnp.asarray(V),
        mask=jnp.asarray(mask),
        stimulus_times=jnp.asarray(times),
        stimulus_values=jnp.asarray(values),
        stimulus_windows=jnp.asarray(steps[:, :2]),
        step_amplitudes=jnp.asarray(steps[:, 2]),
        current_unit=unit,
        names=tuple(s.name or f"sweep {i}" for i, s in enumerate(sweeps)),
        dt=float(np.median([s.sampling_interval for s in sweeps])),
    )
