"""Writing current-clamp sweeps as an NWB file in SI units (pynwb)."""

import datetime
import os
from pathlib import Path

import numpy as np

from . import _units
from ._recording import Recording


def _command_samples(sweep, command: np.ndarray | None) -> np.ndarray:
    """The command (pA) at each voltage sample: the sweep's step function, or
    the given samples."""
    if command is not None:
        command = np.asarray(command, float)
        if command.shape != sweep.t.shape:
            raise ValueError(
                f"`commands` for sweep {sweep.name!r} has {command.size} samples; the "
                f"sweep has {sweep.t.size}."
            )
        return command
    k = np.searchsorted(sweep.stimulus_times, sweep.t, side="right") - 1
    return sweep.stimulus_values[np.clip(k, 0, None)] * _units.current_to_pA(
        sweep.current_unit
    )


def save_nwb(
    recording: Recording,
    path: str | os.PathLike,
    *,
    commands: list[np.ndarray] | None = None,
    session_description: str = "current-clamp sweeps written by hh_jax",
) -> Path:
    """Write `recording` (whole-cell sweeps) to `path` as NWB 2, in SI units.

    Each sweep k becomes ``acquisition/ccs_k`` (a ``CurrentClampSeries`` in
    volts, conversion 1) and ``stimulus/presentation/ccss_k`` (a
    ``CurrentClampStimulusSeries`` in amperes), both with ``sweep_number`` k,
    the sweep's sampling rate and its start time (seconds on the file's
    clock). `commands` (optional, pA per voltage sample, one array per sweep)
    replaces the stored stimulus, e.g. by a measured command with its noise.
    Needs pynwb (``pip install hh_jax[io]``)."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import CurrentClampSeries, CurrentClampStimulusSeries

    sweeps = list(recording.sweeps)
    if commands is not None and len(commands) != len(sweeps):
        raise ValueError(
            f"`commands` has {len(commands)} entries for {len(sweeps)} sweeps."
        )
    if any(s.current_unit == _units.DENSITY for s in sweeps):
        raise ValueError("NWB stores whole-cell currents; these sweeps are densities.")
    nwb = NWBFile(
        session_description=session_description,
        identifier=f"hh_jax-{Path(path).stem}",
        session_start_time=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
    )
    device = nwb.create_device(name="amplifier")
    electrode = nwb.create_icephys_electrode(
        name="electrode", description="whole-cell patch electrode", device=device
    )
    for k, sweep in enumerate(sweeps):
        # What the response and its stimulus series share (electrode, clock).
        shared = dict(
            conversion=1.0,
            electrode=electrode,
            gain=1.0,
            rate=1e3 / sweep.sampling_interval,  # Hz
            starting_time=float(sweep.t[0]) * 1e-3,  # s
            sweep_number=k,
        )
        nwb.add_acquisition(
            CurrentClampSeries(
                name=f"ccs_{k}",
                data=np.asarray(sweep.V, float) * 1e-3,  # mV -> V
                unit="volts",
                **shared,
            )
        )
        I = _command_samples(sweep, None if commands is None else commands[k])
        nwb.add_stimulus(
            CurrentClampStimulusSeries(
                name=f"ccss_{k}",
                data=I * 1e-12,  # pA -> A
                unit="amperes",
                **shared,
            )
        )
    path = Path(path)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path
