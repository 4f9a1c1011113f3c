"""Figures (matplotlib). The only part of hh_jax that imports matplotlib: import
it explicitly, ``import hh_jax.plot``; the numerical core never does."""

from ._excitability import plot_fi_curve as plot_fi_curve
from ._fit import plot_fit as plot_fit
from ._sensitivity import plot_elasticities as plot_elasticities
from ._sensitivity import plot_fisher as plot_fisher
from ._sensitivity import plot_global as plot_global
from ._sensitivity import plot_sobol_heatmap as plot_sobol_heatmap
from ._sensitivity import plot_trace_sensitivity as plot_trace_sensitivity
from ._sweep import plot_sweep as plot_sweep
from ._trace import plot_trace as plot_trace
from ._validation import plot_validation as plot_validation
