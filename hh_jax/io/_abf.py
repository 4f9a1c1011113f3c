"""Axon Binary Format (``.abf``) files, read with pyABF (optional: ``hh_jax[io]``)."""

import os
from pathlib import Path

from . import _units
from ._command import command_from_samples
from ._errors import error_context, readable
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


def _measured_command_channel(abf, channel: int) -> int:
    """The ADC channel that records the command current (units of a current)."""
    for k in range(abf.channelCount):
        if k == channel:
            continue
        abf.setSweep(abf.sweepList[0], channel=k)
        try:
            _units.current_to_pA(abf.sweepUnitsY)
        except ValueError:
            continue
        return k
    raise ValueError(
        "command='measured' needs a recorded current channel, and this file records "
        f"none besides channel {channel} (channels: {abf.adcNames}, units "
        f"{abf.adcUnits}); use command='ideal' (the protocol's command)."
    )


def _read(path: Path, channel: int, command: str) -> Recording:
    pyabf = _import_pyabf()
    with readable("an ABF file", NotImplementedError):  # pyabf: "Invalid ABF"
        abf = pyabf.ABF(str(path))
    if not 0 <= channel < abf.channelCount:
        raise ValueError(
            f"`channel` must be in 0..{abf.channelCount - 1}; got {channel}."
        )
    measured = (
        _measured_command_channel(abf, channel) if command == "measured" else None
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
            I = abf.sweepC.astype(float) * to_pA
            if measured is not None:
                abf.setSweep(number, channel=measured)
                I = abf.sweepY.astype(float) * _units.current_to_pA(abf.sweepUnitsY)
                abf.setSweep(number, channel=channel)
            times, values = command_from_samples(t, t, I, ideal=command == "ideal")
        metadata = {
            "file": str(path),
            "sweep_number": number,
            "channel": channel,
            "adc_name": abf.adcNames[channel],
            "dac_name": abf.dacNames[channel] if channel < len(abf.dacNames) else "",
            "sampling_rate_Hz": float(abf.dataRate),
            "command": command,
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


def load_abf(
    path: str | os.PathLike,
    channel: int = 0,
    *,
    command: str = "ideal",
) -> Recording:
    """Read the current-clamp sweeps of an ABF file through ``pyabf.ABF``.

    For each sweep: time from ``sweepX`` (s, to ms), voltage from ``sweepY`` of
    `channel` (its ``sweepUnitsY`` must be a voltage, converted to mV) and the
    command from pyABF's reconstruction ``sweepC`` (``sweepUnitsC`` a current,
    converted to pA), kept as a step function at its change points. Times are
    relative to each sweep's start (pyABF's default).

    `command`: ``"ideal"`` (default) is the protocol's command (pyABF's
    ``sweepC``, as steps); ``"measured"`` reads the command as recorded on
    another channel whose unit is a current (an error if there is none), kept
    sample by sample.
    """
    path = Path(path)
    if command not in ("ideal", "measured"):
        raise ValueError(f"`command` must be 'ideal' or 'measured'; got {command!r}.")
    with error_context(str(path)):
        return _read(path, channel, command)
