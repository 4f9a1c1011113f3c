"""Stimulus-only files: a current density as a step function of time.

- NPZ with ``stim_t`` (ms) and ``stim_I`` (uA/cm^2): value k holds from
  ``stim_t[k]`` (the format of the NEURON reference traces).
- CSV with a header ``t (ms), I (uA/cm^2)`` (any time unit; any current-density
  unit): one row per sample, each value held until the next sample.

Whole-cell currents (pA) need a membrane area; they belong in a recording (load it
with :func:`hh_jax.io.load` and use :meth:`Sweep.stimulus`).
"""

import os
from pathlib import Path

import numpy as np

from ..stimulus import PiecewiseConstant
from . import _units
from ._command import change_points
from ._csv import parse_header
from ._errors import error_context, readable


def _density_factor(unit: str) -> float:
    kind, factor = _units.current(unit)
    if kind != _units.DENSITY:
        raise ValueError(
            f"the stimulus is in {unit!r}, a whole-cell current; a stimulus file "
            f"holds a current density ({_units.DENSITY}). Load whole-cell commands "
            "as a recording and give the membrane area."
        )
    return factor


def load_stimulus(path: str | os.PathLike) -> PiecewiseConstant:
    """Read a stimulus file (.npz or .csv, see the module docstring) as a
    :class:`hh_jax.PiecewiseConstant` in uA/cm^2."""
    path = Path(path)
    with error_context(str(path)):
        suffix = path.suffix.lower()
        if suffix == ".npz":
            with readable("an NPZ archive"), np.load(path) as data:
                missing = {"stim_t", "stim_I"} - set(data.files)
                if missing:
                    raise ValueError(
                        f"missing keys {sorted(missing)}; a stimulus NPZ holds "
                        "`stim_t` (ms) and `stim_I` (uA/cm^2)."
                    )
                unit = (
                    str(data["current_unit"]) if "current_unit" in data.files else None
                )
                times = np.asarray(data["stim_t"], dtype=float)
                values = np.asarray(data["stim_I"], dtype=float)
            factor = 1.0 if unit is None else _density_factor(unit)
            return PiecewiseConstant(times, values * factor)
        if suffix == ".csv":
            with open(path) as f:
                lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
            if len(lines) < 2:
                raise ValueError("no samples below the header.")
            roles = parse_header(lines[0].split(","), required=("time", "current"))
            rows = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
            (t_col, t_unit), (i_col, i_unit) = roles["time"], roles["current"]
            t = rows[:, t_col] * _units.time_to_ms(t_unit)
            current = rows[:, i_col] * _density_factor(i_unit)
            times, values = change_points(t, current)
            return PiecewiseConstant(times, values)
        raise ValueError(f"unknown stimulus file type {suffix!r}; use .npz or .csv.")
