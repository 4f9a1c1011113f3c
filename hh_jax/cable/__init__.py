"""Spatially extended neurons: cables and branched morphologies.

A :class:`Cable` puts a :class:`hh_jax.PointNeuron` membrane on every node of a
discretised morphology (an unbranched cylinder, or a cell read from an SWC file),
joined by the axial resistance of the cytoplasm. :func:`simulate_cable` integrates
it with implicit voltage steps (Crank–Nicolson or backward Euler, a tree solve in
O(N)) and exponential gate updates; the propagation tools measure conduction
velocity, the spike initiation site and passive attenuation.

Units: lengths and diameters in um, axial resistivity ``R_a`` in ohm*cm, injected
currents in nA (point currents, like NEURON's ``IClamp``); membrane quantities as
in the rest of hh_jax (mV, ms, uA/cm^2, mS/cm^2, uF/cm^2, degC).
"""

from ._cable import Cable as Cable
from ._cable import Position as Position
from ._discretise import Layout as Layout
from ._discretise import d_lambda_nseg as d_lambda_nseg
from ._discretise import discretise as discretise
from ._morphology import Morphology as Morphology
from ._morphology import Section as Section
from ._propagation import arrival_times as arrival_times
from ._propagation import conduction_velocity as conduction_velocity
from ._propagation import first_crossings as first_crossings
from ._propagation import fit_length_constant as fit_length_constant
from ._propagation import initiation_site as initiation_site
from ._propagation import length_constant as length_constant
from ._propagation import membrane_conductance as membrane_conductance
from ._solver import CableSettings as CableSettings
from ._solver import CableTrace as CableTrace
from ._solver import Injection as Injection
from ._solver import simulate_cable as simulate_cable
from ._swc import load_swc as load_swc
from ._swc import parse_swc as parse_swc
from ._tree import TreeSchedule as TreeSchedule
from ._tree import tree_solve as tree_solve
