"""Fitting model parameters to recorded voltage traces.

:func:`fit` runs a multi-start optimisation (Levenberg–Marquardt, Adam or L-BFGS,
all starts in one vmapped computation) of the chosen free parameters, starting
from a regression estimate (:func:`regression_estimate`) and quasi-random points
in the bounds. Loss terms combine with weights; see :func:`default_losses`.
"""

from ._cell import CellFitResult as CellFitResult
from ._cell import CellFitSettings as CellFitSettings
from ._cell import fit_cell as fit_cell
from ._data import FitData as FitData
from ._data import fit_data as fit_data
from ._fit import default_losses as default_losses
from ._fit import fit as fit
from ._losses import AbstractLoss as AbstractLoss
from ._losses import SubthresholdStats as SubthresholdStats
from ._losses import TraceMSE as TraceMSE
from ._objective import Objective as Objective
from ._passive import PassiveEstimate as PassiveEstimate
from ._passive import estimate_passive as estimate_passive
from ._presets import CANDIDATES as CANDIDATES
from ._protocol import StepProtocol as StepProtocol
from ._protocol import main_step_window as main_step_window
from ._protocol import step_protocol as step_protocol
from ._regression import regression_estimate as regression_estimate
from ._result import FitResult as FitResult
from ._settings import FitSettings as FitSettings
from ._space import Logistic as Logistic
from ._space import LogLogistic as LogLogistic
from ._space import ParameterSpace as ParameterSpace
from ._space import build_space as build_space
from ._spike_losses import FeatureMatch as FeatureMatch
from ._spike_losses import SpikeCount as SpikeCount
from ._spike_losses import SpikeTiming as SpikeTiming
from ._spike_losses import spike_losses as spike_losses
from ._synthetic import synthetic_recording as synthetic_recording
from ._validate import Validation as Validation
from ._validate import validate_model as validate_model
