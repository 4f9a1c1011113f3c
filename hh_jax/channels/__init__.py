"""Ionic channels. A model is a capacitance, a temperature and a tuple of these."""

from ._base import AbstractChannel as AbstractChannel
from ._base import GateRates as GateRates
from ._cortical import MCurrent as MCurrent
from ._cortical import TraubMilesPotassium as TraubMilesPotassium
from ._cortical import TraubMilesSodium as TraubMilesSodium
from ._squid import (
    Leak as Leak,
)
from ._squid import (
    SquidPotassium as SquidPotassium,
)
from ._squid import (
    SquidSodium as SquidSodium,
)
from ._squid import (
    alpha_h as alpha_h,
)
from ._squid import (
    alpha_m as alpha_m,
)
from ._squid import (
    alpha_n as alpha_n,
)
from ._squid import (
    beta_h as beta_h,
)
from ._squid import (
    beta_m as beta_m,
)
from ._squid import (
    beta_n as beta_n,
)
