"""Loaders of current-clamp recordings: the only part of hh_jax that knows file
formats.

A :class:`Recording` holds :class:`Sweep` objects with explicit units: time in ms,
voltage in mV, and the command current as a step function either as a density
(uA/cm^2) or whole-cell (pA). :meth:`Sweep.stimulus` turns it into a
:class:`hh_jax.PiecewiseConstant` in uA/cm^2, dividing whole-cell currents by the
membrane area. ABF and NWB files need the optional dependencies pyabf and pynwb
(``pip install hh_jax[io]``); CSV and NPZ files need nothing more.
"""

from ._abf import load_abf as load_abf
from ._csv import load_csv as load_csv
from ._idealise import idealise_command as idealise_command
from ._load import load as load
from ._npz import load_npz as load_npz
from ._npz import save_npz as save_npz
from ._nwb import load_nwb as load_nwb
from ._nwb_write import save_nwb as save_nwb
from ._recording import Recording as Recording
from ._stimulus_file import load_stimulus as load_stimulus
from ._sweep import Sweep as Sweep
from ._sweep import membrane_area as membrane_area
