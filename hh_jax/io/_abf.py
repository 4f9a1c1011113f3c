"""Axon Binary Format (``.abf``) files, read with pyABF (optional: ``hh_jax[io]``)."""

import os
from pathlib import Path

from . import _units
from ._command import command_from_samples
from ._errors import error_context
from ._recording import Recording
from ._sweep import Sweep


def _import_pyabf():
    try:
        import pyabf
    except ImportError as err:
        raise ImportError(
            "load_abf needs the optional dependency pyabf: pip install hh_jax[io]"
        ) from err
    return pyabf


def _read(path: Path, channel: int) -> Recording:
    pyabf = _import_pyabf()
    abf = pyabf.ABF(str(path))
    if not 0 <= channel < abf.channelCount:
        raise ValueError(
            f"`channel` must be in 0..{abf.channelCount - 1}; got {channel}."
        )
    sweeps = []
    for number in abf.sweepList:
        abf.setSweep(number, channel=channel)
        label = f"sweep {number}"
        with error_context(label):
            try:
                to_mV = _units.voltage_to_mV(abf.sweepUnitsY)
            except ValueError as err:
                raise ValueError(
                    f"channel {channel} ({abf.adcNames[channel]}) records "
                    f"{abf.sweepUnitsY!r}, not a voltage: load_abf reads current-clamp "
                    "recordings, whose channel is in mV."
                ) from err
            try:
                to_pA = _units.current_to_pA(abf.sweepUnitsC)
            except ValueError as err:
                raise ValueError(
                    f"the command of channel {channel} is in {abf.sweepUnitsC!r}, not "
                    "a current: load_abf reads current clamp (command in pA)."
                ) from err
            t = abf.sweepX * _units.time_to_ms(abf.sweepUnitsX)
            V = abf.sweepY.astype(float) * to_mV
            times, values = command_from_samples(t, t, abf.sweepC.astype(float) * to_pA)
        metadata = {
            "file": str(path),
            "sweep_number": number,
            "channel": channel,
            "adc_name": abf.adcNames[channel],
            "dac_name": abf.dacNames[channel] if channel < len(abf.dacNames) else "",
            "sampling_rate_Hz": float(abf.dataRate),
        }
        name = f"{abf.abfID} {label}"
        sweeps.append(Sweep(t, V, times, values, _units.PICOAMPERE, name, metadata))
    metadata = {
        "format": "abf",
        "abf_version": abf.abfVersionString,
        "protocol": abf.protocol,
        "channel": channel,
        "sampling_rate_Hz": float(abf.dataRate),
    }
    return Recording(sweeps, source=str(path), metadata=metadata)


def load_abf(path: str | os.PathLike, channel: int = 0) -> Recording:
    """Read the current-clamp sweeps of an ABF file through ``pyabf.ABF``.

    For each sweep: time from ``sweepX`` (s, to ms), voltage from ``sweepY`` of
    `channel` (its ``sweepUnitsY`` must be a voltage, converted to mV) and the
    command from pyABF's reconstruction ``sweepC`` (``sweepUnitsC`` a current,
    converted to pA), kept as a step function at its change points. Times are
    relative to each sweep's start (pyABF's default).
    """
    path = Path(path)
    with error_context(str(path)):
        return _read(path, channel)
