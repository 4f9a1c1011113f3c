"""Parameters by name, across the model and the stimulus: the sensitivity
analyses use the one selection of :mod:`hh_jax.parameters` (names such as
``"g_Na"`` and ``"stimulus.amplitude"``, or where-functions). A
:class:`ParameterSelection` turns a vector ``theta`` (P,) into the model and
stimulus to simulate (``apply``) and reads it back (``read``), so every analysis
works on one flat vector in physical units."""

from ..parameters import (
    STIMULUS_PREFIX,
    ParameterSelection,
    select,
    stimulus_parameter_names,
)

__all__ = [
    "STIMULUS_PREFIX",
    "ParameterSelection",
    "select",
    "stimulus_parameter_names",
]
