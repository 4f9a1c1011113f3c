"""Electrophysiology features of voltage traces, named and defined as in eFEL.

Traces are ``t`` (ms) and ``V`` (mV) with any leading batch axes, ``(..., T)``;
``t`` may be shared, ``(T,)``. Every function works under ``jax.jit`` (pass
`max_spikes` for per-spike features) and ``jax.vmap``.

- Exact eFEL features (``spike_count``, ``AP_amplitude``, ``voltage_base``, ...):
  the same numbers as eFEL 5.7 computes with ``interp_step`` equal to the sampling
  interval; :func:`resample` first reproduces eFEL's default 0.1 ms resampling.
  eFEL's ``None`` is NaN here. See :func:`efel_names` and :func:`compute`.
- Differentiable surrogates (``soft_spike_count``, ``soft_spike_times``, ...; those
  of :mod:`hh_jax.spikes`) and
  spike-train losses (``spike_time_loss``, ``van_rossum_loss``) for fitting.
"""

from ..spikes import soft_isi_values as soft_isi_values
from ..spikes import soft_spike_count as soft_spike_count
from ..spikes import soft_spike_times as soft_spike_times
from ..spikes import soft_time_to_first_spike as soft_time_to_first_spike
from ._compute import compute as compute
from ._compute import efel_names as efel_names
from ._compute import feature_units as feature_units
from ._compute import surrogate_names as surrogate_names
from ._losses import spike_time_loss as spike_time_loss
from ._losses import van_rossum_loss as van_rossum_loss
from ._resample import efel_grid as efel_grid
from ._resample import resample as resample
from ._spike_event import ISI_values as ISI_values
from ._spike_event import Spikecount as Spikecount
from ._spike_event import all_ISI_values as all_ISI_values
from ._spike_event import inv_time_to_first_spike as inv_time_to_first_spike
from ._spike_event import mean_frequency as mean_frequency
from ._spike_event import peak_indices as peak_indices
from ._spike_event import peak_time as peak_time
from ._spike_event import spike_count as spike_count
from ._spike_event import spike_count_stimint as spike_count_stimint
from ._spike_event import time_to_first_spike as time_to_first_spike
from ._spike_shape import AHP_depth as AHP_depth
from ._spike_shape import AHP_depth_abs as AHP_depth_abs
from ._spike_shape import AP_amplitude as AP_amplitude
from ._spike_shape import AP_begin_voltage as AP_begin_voltage
from ._spike_shape import AP_height as AP_height
from ._spike_shape import AP_width as AP_width
from ._spike_shape import peak_voltage as peak_voltage
from ._spike_shape import spike_half_width as spike_half_width
from ._subthreshold import maximum_voltage as maximum_voltage
from ._subthreshold import minimum_voltage as minimum_voltage
from ._subthreshold import ohmic_input_resistance as ohmic_input_resistance
from ._subthreshold import (
    ohmic_input_resistance_vb_ssse as ohmic_input_resistance_vb_ssse,
)
from ._subthreshold import sag_amplitude as sag_amplitude
from ._subthreshold import (
    steady_state_voltage_stimend as steady_state_voltage_stimend,
)
from ._subthreshold import voltage_base as voltage_base
from ._subthreshold import voltage_deflection as voltage_deflection
from ._subthreshold import voltage_deflection_vb_ssse as voltage_deflection_vb_ssse
