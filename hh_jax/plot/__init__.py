"""Figures (matplotlib). The only part of hh_jax that imports matplotlib: import
it explicitly, ``import hh_jax.plot``; the numerical core never does."""

from ._excitability import plot_fi_curve as plot_fi_curve
from ._fit import plot_fit as plot_fit
from ._trace import plot_trace as plot_trace
