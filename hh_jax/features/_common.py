"""Shared pieces of :mod:`hh_jax.features`: eFEL's default settings and their
checks (input checks and batching live in ``hh_jax._traces``, the spike threshold
in :mod:`hh_jax.spikes`).

Units: t in ms, V in mV, thresholds in mV, derivative thresholds in mV/ms.
"""

from typing import NamedTuple

from .._traces import as_trace as as_trace
from .._traces import batched as batched
from .._traces import per_trace as per_trace
from .._traces import resolve_max_spikes as resolve_max_spikes
from ..spikes import THRESHOLD as THRESHOLD  # "Threshold", mV

# eFEL's defaults (efel.settings.Settings), under their eFEL names in comments.
DERIVATIVE_THRESHOLD = 10.0  # "DerivativeThreshold", mV/ms
DERIVATIVE_WINDOW = 3  # "DerivativeWindow", samples
VOLTAGE_BASE_START_PERC = 0.9  # "voltage_base_start_perc"
VOLTAGE_BASE_END_PERC = 1.0  # "voltage_base_end_perc"
PRECISION_THRESHOLD = 1e-10  # "precision_threshold", ms
IGNORE_FIRST_ISI = True  # "ignore_first_ISI"
INTERP_STEP = 0.1  # "interp_step", ms

# eFEL's `stimulus_current` is in nA, so its input resistances are in MOhm.
# Factors that turn (mV / current) into the documented resistance unit.
CURRENT_UNITS = {
    "pA": 1000.0,  # mV / pA = GOhm -> MOhm
    "nA": 1.0,  # mV / nA = MOhm (eFEL's convention)
    "uA/cm^2": 1.0,  # mV / (uA/cm^2) = kOhm cm^2
}


class Options(NamedTuple):
    """Feature settings. Static ones (ints, strings, bools) select the compiled
    program; the floats are traced, so changing them does not recompile."""

    max_spikes: int
    derivative_window: int = DERIVATIVE_WINDOW
    ignore_first_ISI: bool = IGNORE_FIRST_ISI
    voltage_base_mode: str = "mean"
    current_unit: str = "pA"
    threshold: float = THRESHOLD
    derivative_threshold: float = DERIVATIVE_THRESHOLD
    voltage_base_start_perc: float = VOLTAGE_BASE_START_PERC
    voltage_base_end_perc: float = VOLTAGE_BASE_END_PERC
    precision_threshold: float = PRECISION_THRESHOLD

    def static(self) -> tuple:
        return (
            self.max_spikes,
            self.derivative_window,
            self.ignore_first_ISI,
            self.voltage_base_mode,
        )

    def traced(self) -> dict:
        return {
            "threshold": self.threshold,
            "derivative_threshold": self.derivative_threshold,
            "voltage_base_start_perc": self.voltage_base_start_perc,
            "voltage_base_end_perc": self.voltage_base_end_perc,
            "precision_threshold": self.precision_threshold,
            "resistance_factor": CURRENT_UNITS[self.current_unit],
        }


def check_options(options: Options) -> None:
    if not isinstance(options.max_spikes, int) or options.max_spikes < 1:
        raise ValueError(
            f"`max_spikes` must be a positive int; got {options.max_spikes!r}."
        )
    if not isinstance(options.derivative_window, int) or options.derivative_window < 1:
        raise ValueError(
            "`derivative_window` must be a positive int (samples); got "
            f"{options.derivative_window!r}."
        )
    if options.voltage_base_mode not in ("mean", "median"):
        raise ValueError(
            "`voltage_base_mode` must be 'mean' or 'median'; got "
            f"{options.voltage_base_mode!r}."
        )
    if options.current_unit not in CURRENT_UNITS:
        raise ValueError(
            f"`current_unit` must be one of {sorted(CURRENT_UNITS)}; got "
            f"{options.current_unit!r}."
        )
