"""hh_jax: a differentiable Hodgkin–Huxley neuron simulator in JAX.

Units throughout: time in ms, voltage in mV, current density in uA/cm^2,
conductance in mS/cm^2, capacitance in uF/cm^2, temperature in degrees Celsius.

Precision follows JAX's setting; hh_jax never changes it. For float64 call
``jax.config.update("jax_enable_x64", True)`` before creating arrays.
"""

from . import cable as cable
from . import channels as channels
from . import export as export
from . import features as features
from . import io as io
from . import parameters as parameters
from ._numerics import x_over_expm1 as x_over_expm1
from ._parameter import ParameterInfo as ParameterInfo
from ._parameter import UnknownParameterError as UnknownParameterError
from ._parameter import parameter as parameter
from .batch import BatchSettings as BatchSettings
from .batch import simulate_batch as simulate_batch
from .fixed_step import simulate_fixed as simulate_fixed
from .model import PointNeuron as PointNeuron
from .model import State as State
from .model import resting_state as resting_state
from .model import steady_state as steady_state
from .parameters import ParameterSelection as ParameterSelection
from .presets import AdaptingPyramidal as AdaptingPyramidal
from .presets import CorticalFastSpiking as CorticalFastSpiking
from .presets import CorticalIntrinsicBursting as CorticalIntrinsicBursting
from .presets import CorticalLowThresholdSpiking as CorticalLowThresholdSpiking
from .presets import CorticalRegularSpiking as CorticalRegularSpiking
from .presets import FastSpikingInterneuron as FastSpikingInterneuron
from .presets import HodgkinHuxley as HodgkinHuxley
from .simulate import SimulateSettings as SimulateSettings
from .simulate import simulate as simulate
from .simulate import vector_field as vector_field
from .spikes import spike_count as spike_count
from .spikes import spike_times as spike_times
from .stimulus import AbstractStimulus as AbstractStimulus
from .stimulus import Constant as Constant
from .stimulus import PiecewiseConstant as PiecewiseConstant
from .stimulus import PulseTrain as PulseTrain
from .stimulus import Ramp as Ramp
from .stimulus import Sampled as Sampled
from .stimulus import Sine as Sine
from .stimulus import Step as Step
from .stimulus import StimulusSum as StimulusSum
from .stimulus import frozen_noise as frozen_noise
from .trace import Status as Status
from .trace import Trace as Trace

__version__ = "0.1.0"
