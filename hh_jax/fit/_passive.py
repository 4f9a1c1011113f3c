"""Passive properties read from the data: rest, input resistance, time constant.

These come from the recording before any model is fitted (the first, passive
stage of a whole-cell fit): the resting potential from the pre-step baselines,
and the input resistance and membrane time constant from hyperpolarising
segments, where the active currents of most cells are closed. Together they fix
the total capacitance (``tau / R_in``) and the total leak, and so the membrane
area for a given specific capacitance.
"""

import dataclasses
import warnings

import numpy as np
from scipy.optimize import curve_fit

from ..io import Sweep
from ..spikes import THRESHOLD
from ._protocol import Segment, step_protocol

_BASELINE_SPAN = 100.0  # ms of pre-step baseline averaged for the resting potential
_SPIKE_LEVEL = THRESHOLD  # mV: a baseline above this holds a spike, is not rest


@dataclasses.dataclass(frozen=True)
class PassiveEstimate:
    """Passive properties of a cell, from its recording.

    - `V_rest`: resting potential under the holding current, mV (median of the
      pre-step baselines).
    - `baselines`: each sweep's pre-step baseline, mV (NaN where it spiked).
    - `input_resistance`: MOhm (whole-cell pA) or kOhm cm^2 (uA/cm^2 data);
      None without a usable hyperpolarising segment.
    - `time_constant`: membrane time constant, ms (None likewise).
    - `sag_ratio`: (peak - steady deflection) / peak deflection of the
      hyperpolarising responses (0: no sag).
    - `segments`: how many hyperpolarising segments were used.
    """

    V_rest: float
    baselines: tuple[float, ...]
    input_resistance: float | None
    time_constant: float | None
    sag_ratio: float | None
    segments: int

    def capacitance_pF(self) -> float | None:
        """Total capacitance ``tau / R_in`` in pF (whole-cell data)."""
        if self.input_resistance is None or self.time_constant is None:
            return None
        return self.time_constant / self.input_resistance * 1e3  # ms/MOhm = nF

    def area_um2(self, C_m: float = 1.0) -> float | None:
        """Membrane area (um^2) for specific capacitance `C_m` (uF/cm^2)."""
        C = self.capacitance_pF()
        return None if C is None else C * 1e-6 / C_m * 1e8

    def leak_conductance(self, C_m: float = 1.0) -> float | None:
        """Total input conductance per area, mS/cm^2, for `C_m` (uF/cm^2): an
        upper bound on the leak (active currents open at rest add to it)."""
        if self.input_resistance is None or self.time_constant is None:
            return None
        return C_m / self.time_constant  # uF/cm^2 / ms = mS/cm^2


def _mean(sweep: Sweep, start: float, end: float) -> float:
    keep = (sweep.t >= start) & (sweep.t < end)
    return float(np.mean(sweep.V[keep])) if keep.any() else float("nan")


def pre_step_baseline(sweep: Sweep, window=None) -> float:
    """Mean V (mV) over the last 100 ms before the main step (`window`: see
    :func:`step_protocol`); NaN if it spiked or the step starts at the first
    sample."""
    start = step_protocol(sweep, window).main_step.start
    keep = (sweep.t >= max(sweep.t[0], start - _BASELINE_SPAN)) & (sweep.t < start)
    if not keep.any() or np.max(sweep.V[keep]) > _SPIKE_LEVEL:
        return float("nan")
    return float(np.mean(sweep.V[keep]))


def _segment_response(sweep: Sweep, seg: Segment):
    """(R, tau, sag) of one hyperpolarising segment, or None if unusable."""
    if seg.duration < 50.0:
        return None
    before = _mean(sweep, max(sweep.t[0], seg.start - 50.0), seg.start)
    steady = _mean(sweep, seg.end - 0.1 * seg.duration, seg.end)
    keep = (sweep.t >= seg.start) & (sweep.t < seg.end)
    t, V = sweep.t[keep] - seg.start, sweep.V[keep]
    if np.max(V) > _SPIKE_LEVEL or not np.isfinite(before) or V.size < 20:
        return None
    width = max(int(round(1.0 / sweep.sampling_interval)), 1)
    smooth = np.convolve(V, np.ones(width) / width, mode="same")
    k_peak = int(np.argmin(smooth[width:-width])) + width
    peak = float(smooth[k_peak])
    deflection = steady - before
    if not deflection < 0:
        return None
    R = deflection / seg.amplitude
    sag = (steady - peak) / (before - peak) if before > peak else 0.0
    # The charging curve up to the peak deflection (before any sag sets in).
    fit_end = max(k_peak, int(round(5.0 / sweep.sampling_interval)))
    tt, vv = t[:fit_end], V[:fit_end]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, _ = curve_fit(
                lambda x, A, tau, c: c + A * np.exp(-x / tau),
                tt,
                vv,
                p0=(before - peak, max(tt[-1] / 3.0, 1.0), peak),
                maxfev=2000,
            )
        tau = float(popt[1])
    except RuntimeError:
        return None
    if not (np.isfinite(tau) and 0.5 < tau < 500.0):
        return None
    return R, tau, max(float(sag), 0.0)


def estimate_passive(sweeps: list[Sweep], window=None) -> PassiveEstimate:
    """Passive properties from `sweeps` (see :class:`PassiveEstimate`); `window`:
    the recording's main step, see :func:`hh_jax.fit.main_step_window`.

    Hyperpolarising segments are those below the holding current entered from
    it (a negative main step, or a test pulse within a sweep); resistances are
    in MOhm for whole-cell currents (mV / pA * 1e3)."""
    if not sweeps:
        raise ValueError("no sweeps to estimate passive properties from.")
    baselines = tuple(pre_step_baseline(s, window) for s in sweeps)
    finite = [b for b in baselines if np.isfinite(b)]
    if not finite:
        first = [s.V[: max(int(10.0 / s.sampling_interval), 1)] for s in sweeps]
        V_rest = float(np.median([np.median(v) for v in first]))
    else:
        V_rest = float(np.median(finite))
    responses = []
    for s in sweeps:
        # mV/pA = GOhm -> MOhm; mV/nA = MOhm; mV/(uA/cm^2) = kOhm cm^2.
        unit_factor = {"pA": 1e3}.get(s.current_unit, 1.0)
        for seg in step_protocol(s).hyperpolarising:
            r = _segment_response(s, seg)
            if r is not None:
                responses.append((r[0] * unit_factor, r[1], r[2]))
    if not responses:
        return PassiveEstimate(V_rest, baselines, None, None, None, 0)
    R, tau, sag = (float(np.median(x)) for x in zip(*responses))
    return PassiveEstimate(V_rest, baselines, R, tau, sag, len(responses))
