"""Sensitivity analysis: how a neuron's behaviour depends on its parameters,
which parameters a protocol can pin down, and how sure a fit is.

- Local: :func:`local_sensitivity` (derivatives and elasticities of the trace,
  soft spike count, latency, rate, AP amplitude, resting potential or a loss;
  forward or reverse mode, chosen by shape), :func:`trace_sensitivity`
  (dV(t)/dtheta at every save time in one forward solve).
- Thresholds by implicit differentiation: :func:`rheobase_sensitivity`,
  :func:`onset_sensitivity` (sustained firing), :func:`instability_sensitivity`
  (loss of stability of rest).
- Identifiability: :func:`fisher_information` (Cramér–Rao bounds, stiff and
  sloppy directions), :func:`compare_protocols`, and
  :func:`fit_confidence_intervals` for a :class:`hh_jax.fit.FitResult`.
- Global: :func:`global_sensitivity` (Sobol indices with SALib, DGSM from exact
  gradients, batched) and :func:`sobol_indices` for any JAX function.

Parameters are named as in the model (``"g_Na"``) or as stimulus fields
(``"stimulus.amplitude"``); outputs as in :data:`OUTPUTS`. Units: ms, mV,
uA/cm^2, mS/cm^2; derivatives in output unit per parameter unit; elasticities
dimensionless. Figures: :mod:`hh_jax.plot` (``plot_trace_sensitivity``, ...).
"""

from ._confidence import ConfidenceIntervals as ConfidenceIntervals
from ._confidence import fit_confidence_intervals as fit_confidence_intervals
from ._design import ProtocolComparison as ProtocolComparison
from ._design import compare_protocols as compare_protocols
from ._fisher import FisherInformation as FisherInformation
from ._fisher import fisher_information as fisher_information
from ._global import global_sensitivity as global_sensitivity
from ._local import LocalSensitivity as LocalSensitivity
from ._local import choose_mode as choose_mode
from ._local import local_sensitivity as local_sensitivity
from ._outputs import OUTPUTS as OUTPUTS
from ._outputs import OutputInfo as OutputInfo
from ._params import ParameterSelection as ParameterSelection
from ._params import stimulus_parameter_names as stimulus_parameter_names
from ._result import GlobalSensitivity as GlobalSensitivity
from ._settings import GlobalSettings as GlobalSettings
from ._settings import LocalSettings as LocalSettings
from ._settings import ThresholdSettings as ThresholdSettings
from ._sobol import sobol_indices as sobol_indices
from ._thresholds import ThresholdSensitivity as ThresholdSensitivity
from ._thresholds import instability_sensitivity as instability_sensitivity
from ._thresholds import onset_sensitivity as onset_sensitivity
from ._thresholds import rheobase_sensitivity as rheobase_sensitivity
from ._trace import TraceSensitivity as TraceSensitivity
from ._trace import trace_sensitivity as trace_sensitivity
