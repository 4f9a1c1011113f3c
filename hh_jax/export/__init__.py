"""Fitted cells for other simulators: NEURON (NMODL + a Python cell script)
and NeuroML 2.

- :func:`to_neuron`: ``.mod`` files for every channel and pool of a model and a
  ``cell.py`` that builds the single-compartment cell (area, C_m, temperature,
  parameters, initial state) and replays a stimulus.
- :func:`to_neuroml`: a NeuroML 2 document of the cell (standard HH forms,
  LEMS ComponentTypes for the other rates, the Ca pool);
  :func:`channels_from_neuroml` / :func:`cell_from_neuroml` read one back.
- :func:`load_fit`: the model, area and recording info of a fit directory
  (``params.json``), for ``hh-jax export``.
"""

from ._fitdir import FittedCell as FittedCell
from ._fitdir import load_fit as load_fit
from ._neuroml import schema_errors as schema_errors
from ._neuroml import to_neuroml as to_neuroml
from ._neuroml import validate_file as validate_file
from ._neuroml_import import NeuroMLCell as NeuroMLCell
from ._neuroml_import import cell_from_neuroml as cell_from_neuroml
from ._neuroml_import import channels_from_neuroml as channels_from_neuroml
from ._neuroml_pool import FixedFactorCalciumPool as FixedFactorCalciumPool
from ._neuron import NeuronExport as NeuronExport
from ._neuron import compile_mechanisms as compile_mechanisms
from ._neuron import mod_texts as mod_texts
from ._neuron import to_neuron as to_neuron
from ._stimulus import piecewise_constant as piecewise_constant
