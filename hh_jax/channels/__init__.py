"""Ionic channels and concentration pools. A model is a capacitance, a
temperature, a tuple of channels and a tuple of pools."""

from ._base import AbstractChannel as AbstractChannel
from ._base import GateRates as GateRates
from ._base import StateInfo as StateInfo
from ._calcium import CalciumActivatedPotassium as CalciumActivatedPotassium
from ._calcium import LTypeCalcium as LTypeCalcium
from ._calcium import TTypeCalcium as TTypeCalcium
from ._cortical import MCurrent as MCurrent
from ._cortical import TraubMilesPotassium as TraubMilesPotassium
from ._cortical import TraubMilesSodium as TraubMilesSodium
from ._gates import Gate as Gate
from ._gates import shift_parameter as shift_parameter
from ._gates import tau_scale_parameter as tau_scale_parameter
from ._hh import AbstractHHChannel as AbstractHHChannel
from ._ih import HCurrent as HCurrent
from ._interneuron import ErisirSodium as ErisirSodium
from ._interneuron import Kv3Potassium as Kv3Potassium
from ._pool import AbstractPool as AbstractPool
from ._pool import CalciumPool as CalciumPool
from ._rates import AbstractRate as AbstractRate
from ._rates import ExpLinear as ExpLinear
from ._rates import Exponential as Exponential
from ._rates import Expression as Expression
from ._rates import Sigmoid as Sigmoid
from ._squid import Leak as Leak
from ._squid import SquidPotassium as SquidPotassium
from ._squid import SquidSodium as SquidSodium
from ._squid import alpha_h as alpha_h
from ._squid import alpha_m as alpha_m
from ._squid import alpha_n as alpha_n
from ._squid import beta_h as beta_h
from ._squid import beta_m as beta_m
from ._squid import beta_n as beta_n
