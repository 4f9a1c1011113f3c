"""Neurodata Without Borders (``.nwb``) files, read with pynwb (optional:
``hh_jax[io]``)."""

import os
import re
from pathlib import Path

import numpy as np

from . import _units
from ._command import command_from_samples
from ._errors import error_context, readable
from ._recording import Recording
from ._sweep import Sweep


def _import_pynwb():
    try:
        import pynwb
    except ImportError as err:
        raise ImportError(
            "load_nwb needs the optional dependency pynwb: pip install hh_jax[io]"
        ) from err
    return pynwb


def _times_ms(series) -> np.ndarray:
    """Sample times (ms) from ``timestamps`` or ``starting_time`` and ``rate``."""
    n = len(series.data)
    if series.timestamps is not None:
        unit = getattr(series, "timestamps_unit", "seconds")
        return np.asarray(series.timestamps[:], dtype=float) * _units.time_to_ms(unit)
    if series.rate is None or not series.rate > 0:
        raise ValueError(f"series {series.name!r} has neither timestamps nor a rate.")
    to_ms = _units.time_to_ms(series.starting_time_unit)
    start = (series.starting_time or 0.0) * to_ms
    return start + np.arange(n) * (1e3 / series.rate)


def _values(series, convert) -> np.ndarray:
    """``data * conversion + offset`` in the series' `unit`, then `convert`ed."""
    data = np.asarray(series.data[:], dtype=float)
    if data.ndim != 1:
        raise ValueError(
            f"series {series.name!r} has data of shape {data.shape}; expected 1-D."
        )
    offset = getattr(series, "offset", None) or 0.0
    in_unit = data * series.conversion + offset
    return in_unit * convert(series.unit)


def _key(series) -> tuple[int, ...]:
    """The sweep number, else the integers in the name (``ic__Step__3`` -> (3,))."""
    if getattr(series, "sweep_number", None) is not None:
        return (int(series.sweep_number),)
    return tuple(int(x) for x in re.findall(r"\d+", series.name))


def _pairs(responses, stimuli):
    """Each current-clamp response with its stimulus, in sweep order."""
    if len(responses) == 1 and len(stimuli) == 1:
        return [(responses[0], stimuli[0])]
    by_key = {}
    for stim in stimuli:
        key = _key(stim)
        if key in by_key:
            raise ValueError(
                f"stimuli {by_key[key].name!r} and {stim.name!r} share the sweep "
                f"key {key}; cannot pair them with responses."
            )
        by_key[key] = stim
    pairs, seen = [], set()
    for response in sorted(responses, key=lambda s: (_key(s), s.name)):
        key = _key(response)
        if key in seen:
            raise ValueError(f"two responses share the sweep key {key}.")
        seen.add(key)
        pairs.append((response, by_key.get(key)))
    return pairs


def _sweep(path, response, stimulus, izero_type, ideal: bool) -> Sweep:
    t = _times_ms(response)
    V = _values(response, _units.voltage_to_mV)
    if stimulus is None:
        if not isinstance(response, izero_type):
            raise ValueError(
                "no current-clamp stimulus in `stimulus` matches this series (by "
                "sweep number or by the numbers in its name)."
            )
        times, values = t[:1], np.zeros(1)  # I = 0 clamp: no command
    else:
        with error_context(f"stimulus {stimulus.name!r}"):
            command = _values(stimulus, _units.current_to_pA)
            t_command = _times_ms(stimulus)
        times, values = command_from_samples(t, t_command, command, ideal=ideal)
    metadata = {
        "file": str(path),
        "series": response.name,
        "stimulus_series": None if stimulus is None else stimulus.name,
        "sweep_number": _key(response)[0] if _key(response) else None,
        "starting_time_ms": float(t[0]),
        "command": "ideal" if ideal else "measured",
    }
    if response.rate is not None:
        metadata["sampling_rate_Hz"] = float(response.rate)
    return Sweep(t, V, times, values, _units.PICOAMPERE, response.name, metadata)


def _read(path: Path, ideal: bool) -> Recording:
    pynwb = _import_pynwb()
    icephys = pynwb.icephys
    with pynwb.NWBHDF5IO(str(path), "r", load_namespaces=True) as io:
        nwb = io.read()
        responses = [
            s
            for s in nwb.acquisition.values()
            if isinstance(s, icephys.CurrentClampSeries)
        ]
        stimuli = [
            s
            for s in nwb.stimulus.values()
            if isinstance(s, icephys.CurrentClampStimulusSeries)
        ]
        if not responses:
            raise ValueError("no CurrentClampSeries in `acquisition`.")
        sweeps = []
        for response, stimulus in _pairs(responses, stimuli):
            with error_context(f"series {response.name!r}"):
                sweeps.append(
                    _sweep(path, response, stimulus, icephys.IZeroClampSeries, ideal)
                )
        metadata = {
            "format": "nwb",
            "identifier": nwb.identifier,
            "session_description": nwb.session_description,
            "session_start_time": str(nwb.session_start_time),
        }
    return Recording(sweeps, source=str(path), metadata=metadata)


def load_nwb(path: str | os.PathLike, *, command: str = "ideal") -> Recording:
    """Read the current-clamp sweeps of an NWB file through pynwb.

    Every ``CurrentClampSeries`` in ``acquisition`` is a sweep (other series, such
    as voltage clamp, are not read). Its command is the ``CurrentClampStimulusSeries``
    in ``stimulus`` with the same ``sweep_number``, or failing that the same
    integers in its name (``ic__Step__3`` and ``ics__Step__3``); an
    ``IZeroClampSeries`` has zero command. A response without a stimulus raises.

    Values are ``data * conversion + offset`` in the series' ``unit`` (volts,
    amperes, ...), converted to mV and pA. Times are in ms from ``starting_time``
    and ``rate`` (or ``timestamps``): the file's clock, not reset per sweep (see
    :meth:`Recording.zero_time`). The stimulus must span the same interval as the
    voltage, to within half a sample. Sweeps come in sweep order.

    `command`: ``"ideal"`` (default) recovers the step protocol from the stored
    stimulus (:func:`hh_jax.io.idealise_command`), so a command stored as
    measured, with its noise, becomes the few steps that were applied;
    ``"measured"`` keeps every stored sample as a step (a zero-order hold).
    """
    path = Path(path)
    if command not in ("ideal", "measured"):
        raise ValueError(f"`command` must be 'ideal' or 'measured'; got {command!r}.")
    with error_context(str(path)), readable("an NWB (HDF5) file"):
        return _read(path, command == "ideal")
