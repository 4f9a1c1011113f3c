"""CSV files: one row per sample, a header naming each column and its unit.

The header gives each column as ``name (unit)`` or ``name [unit]``, e.g.
``t (ms), V (mV), I (pA)`` or ``time [s], voltage [V], current [nA]``. The unit
decides the column's role: one time column (s, ms, ...), one voltage column (V, mV,
...) and one current column, whole-cell (A, nA, pA, ...) or a density (uA/cm^2).
An optional ``sweep`` column (no unit) splits the rows into sweeps. Lines starting
with ``#`` are comments.
"""

import os
import re
from pathlib import Path

import numpy as np

from . import _units
from ._command import command_from_samples
from ._errors import error_context
from ._recording import Recording
from ._sweep import Sweep

_HEADER = re.compile(
    r"^\s*(?P<name>[^()\[\]]*?)\s*(?:[(\[](?P<unit>[^()\[\]]*)[)\]])?\s*$"
)


def parse_header(
    header: list[str], required: tuple[str, ...] = ("time", "voltage", "current")
) -> dict[str, tuple[int, str | None]]:
    """``{role: (column index, unit)}`` for roles time, voltage, current, sweep;
    raises unless every role in `required` has a column."""
    roles: dict[str, tuple[int, str | None]] = {}
    for index, cell in enumerate(header):
        match = _HEADER.match(cell)
        if match is None:
            raise ValueError(
                f"cannot read column header {cell!r}; write 'name (unit)'."
            )
        name, unit = match["name"], match["unit"]
        if unit is None or not unit.strip():
            if name.strip().lower() != "sweep":
                raise ValueError(
                    f"column {cell.strip()!r} has no unit; write it as 'name (unit)', "
                    "e.g. 't (ms)', 'V (mV)', 'I (pA)'."
                )
            role = "sweep"
        else:
            role = _units.dimension(unit)
            if role is None:
                raise ValueError(
                    f"column {cell.strip()!r}: unknown unit {unit!r}; expected a time "
                    "(ms, s), a voltage (mV, V) or a current (pA, nA, A, uA/cm^2)."
                )
        if role in roles:
            raise ValueError(
                f"two {role} columns ({header[roles[role][0]].strip()!r} and "
                f"{cell.strip()!r}); expected one each of time, voltage and current."
            )
        roles[role] = (index, unit)
    missing = [r for r in required if r not in roles]
    if missing:
        raise ValueError(
            f"no {' or '.join(missing)} column in header {header}; expected e.g. "
            "'t (ms), V (mV), I (pA)'."
        )
    return roles


def _read(path: Path, delimiter: str) -> Recording:
    lines = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise ValueError("the file has no header line.")
    roles = parse_header(lines[0].split(delimiter))
    if len(lines) < 2:
        raise ValueError("the file has a header but no samples: the sweep is empty.")
    try:
        table = np.loadtxt(lines[1:], delimiter=delimiter, ndmin=2, dtype=np.float64)
    except ValueError as err:
        width = len(lines[0].split(delimiter))
        for k, line in enumerate(lines[1:], start=1):
            if len(line.split(delimiter)) != width:
                raise ValueError(
                    f"sample row {k} has {len(line.split(delimiter))} values but "
                    f"the header names {width} columns: the file is truncated or "
                    f"ragged."
                ) from err
        raise ValueError(f"cannot read the numbers: {err}") from err
    if table.shape[1] != len(lines[0].split(delimiter)):
        raise ValueError(
            f"rows have {table.shape[1]} values but the header names "
            f"{len(lines[0].split(delimiter))} columns."
        )
    t = table[:, roles["time"][0]] * _units.time_to_ms(roles["time"][1])
    V = table[:, roles["voltage"][0]] * _units.voltage_to_mV(roles["voltage"][1])
    current_unit, factor = _units.current(roles["current"][1])
    current = table[:, roles["current"][0]] * factor
    units = {"t": "ms", "V": "mV", "I": current_unit}
    if "sweep" in roles:
        labels = table[:, roles["sweep"][0]]
        _, first = np.unique(labels, return_index=True)
        groups = [labels[i] for i in np.sort(first)]
    else:
        labels, groups = None, [None]
    sweeps = []
    for label in groups:
        rows = slice(None) if label is None else labels == label
        name = path.stem if label is None else f"sweep {label:g}"
        with error_context(f"sweep {name!r}"):
            times, values = command_from_samples(t[rows], t[rows], current[rows])
        metadata = {"file": str(path), "units": units}
        if label is not None:
            metadata["sweep"] = float(label)
        sweeps.append(
            Sweep(t[rows], V[rows], times, values, current_unit, name, metadata)
        )
    return Recording(sweeps, source=str(path), metadata={"format": "csv"})


def load_csv(path: str | os.PathLike, *, delimiter: str = ",") -> Recording:
    """Read a CSV file of samples (see the module docstring).

    Units are converted: time to ms, voltage to mV, whole-cell current to pA, a
    current density to uA/cm^2. The current column is the sampled command; it
    becomes a step function holding its value from each change point (exactly, no
    smoothing). Rows are grouped by the ``sweep`` column if there is one (in order
    of first appearance), otherwise the file is one sweep.
    """
    path = Path(path)
    with error_context(str(path)):
        return _read(path, delimiter)
