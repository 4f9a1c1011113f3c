"""Spike detection: what a spike is, when it happened, how many there were, and
differentiable versions of both, for every layer of hh_jax.

A spike is an upward crossing of a threshold (mV; default :data:`THRESHOLD`,
eFEL's -20 mV) between two samples, ``V[k] < threshold <= V[k + 1]``
(:mod:`._crossings`). Its time is the root of a local cubic with the
implicit-function derivative (:mod:`._root`, used for sampled traces by
:func:`spike_times` and inside solver steps by :mod:`hh_jax.solvers`). The soft
count and times (:mod:`._soft`) are smooth surrogates for fitting. eFEL's
features (:mod:`hh_jax.features`) build their peaks on the same crossings, in
eFEL's strict form. :func:`detection_threshold` picks a threshold that sees the
small spikes of a recording.

Modules: ``_threshold`` (the default), ``_crossings`` (masks and count), ``_root``
(the crossing time in an interval), ``_times`` (interpolated times), ``_soft``
(differentiable count and times), ``_detection`` (threshold for recordings).
"""

from ._crossings import crosses_up as crosses_up
from ._crossings import downward_crossings as downward_crossings
from ._crossings import spike_count as spike_count
from ._crossings import upward_crossings as upward_crossings
from ._detection import detection_threshold as detection_threshold
from ._root import cubic_root as cubic_root
from ._root import hermite_cubic as hermite_cubic
from ._root import lagrange_cubic as lagrange_cubic
from ._root import step_crossing as step_crossing
from ._soft import SHARPNESS as SHARPNESS
from ._soft import soft_isi_values as soft_isi_values
from ._soft import soft_spike_count as soft_spike_count
from ._soft import soft_spike_times as soft_spike_times
from ._soft import soft_time_to_first_spike as soft_time_to_first_spike
from ._threshold import EFEL_THRESHOLD as EFEL_THRESHOLD
from ._threshold import THRESHOLD as THRESHOLD
from ._threshold import check_threshold as check_threshold
from ._times import first_spike_times as first_spike_times
from ._times import spike_times as spike_times
