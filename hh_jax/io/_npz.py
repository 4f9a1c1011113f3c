"""NumPy ``.npz`` files: the format of the NEURON reference traces.

Keys: ``t`` (ms), ``V`` (mV), ``stim_t`` (ms) and ``stim_I`` (the command as a step
function: ``stim_I[k]`` holds from ``stim_t[k]``), in ``current_unit`` (optional key,
default uA/cm^2). One sweep has 1-D arrays; several have a leading sweep axis,
``t``/``V`` of shape ``(S, T)`` and ``stim_t``/``stim_I`` of shape ``(S, K)``.
Sweeps of different lengths are stored padded, with their true lengths in
``n_samples`` and ``n_stimulus`` (``(S,)``); ``names`` (``(S,)``) and ``metadata`` (a
JSON string) are optional too.
"""

import json
import os
from pathlib import Path

import numpy as np

from . import _units
from ._errors import error_context, readable
from ._recording import Recording
from ._sweep import Sweep

_REQUIRED = {"t": "ms", "V": "mV", "stim_t": "ms", "stim_I": "the current unit"}


def _text(data, key: str, default: str) -> str:
    if key not in data:
        return default
    value = data[key]
    if value.ndim != 0:
        raise ValueError(f"`{key}` must be a single string; got shape {value.shape}.")
    return str(value)


def _read(path: Path) -> Recording:
    with np.load(path, allow_pickle=False) as data:
        missing = [f"`{k}` ({u})" for k, u in _REQUIRED.items() if k not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}.")
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in _REQUIRED}
        unit = _units.sweep_current_unit(_text(data, "current_unit", _units.DENSITY))
        stored = json.loads(_text(data, "metadata", "{}"))
        extras = {
            k: np.asarray(data[k])
            for k in ("names", "n_samples", "n_stimulus")
            if k in data
        }
    ndim = {k: a.ndim for k, a in arrays.items()}
    if set(ndim.values()) == {1}:
        arrays = {k: a[None] for k, a in arrays.items()}
        single = True
    elif set(ndim.values()) == {2}:
        single = False
    else:
        raise ValueError(
            f"`t`, `V`, `stim_t` and `stim_I` must all be 1-D (one sweep) or all "
            f"2-D with a leading sweep axis; got {ndim}."
        )
    count = arrays["t"].shape[0]
    for key, a in arrays.items():
        if a.shape[0] != count:
            raise ValueError(
                f"`{key}` holds {a.shape[0]} sweeps but `t` holds {count}."
            )
    names = extras.get("names", [path.stem] if single else range(count))
    lengths = extras.get("n_samples", [arrays["t"].shape[1]] * count)
    steps = extras.get("n_stimulus", [arrays["stim_t"].shape[1]] * count)
    sweep_meta = stored.get("sweeps", [])
    if len(sweep_meta) != count:
        sweep_meta = [None] * count
    sweeps = []
    for i in range(count):
        n, k = int(lengths[i]), int(steps[i])
        name = str(names[i]) if single or "names" in extras else f"sweep {i}"
        meta = sweep_meta[i] if sweep_meta[i] is not None else {"index": i}
        meta.setdefault("file", str(path))
        sweeps.append(
            Sweep(
                arrays["t"][i, :n],
                arrays["V"][i, :n],
                arrays["stim_t"][i, :k],
                arrays["stim_I"][i, :k],
                unit,
                name=name,
                metadata=meta,
            )
        )
    metadata = {**stored.get("recording", {}), "format": "npz"}
    return Recording(sweeps, source=str(path), metadata=metadata)


def load_npz(path: str | os.PathLike) -> Recording:
    """Read a ``.npz`` file of one or several sweeps (see the module docstring):
    t in ms, V in mV, the command in uA/cm^2 unless the file says ``current_unit``
    (``"pA"``, ``"nA"``). Integer arrays are read as float64."""
    path = Path(path)
    with error_context(str(path)), readable("an NPZ archive"):
        return _read(path)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def save_npz(recording: Recording, path: str | os.PathLike) -> None:
    """Write `recording` in the format :func:`load_npz` reads (1-D arrays for a
    single sweep, as in the reference traces). All sweeps must share one current
    unit. Metadata is stored as JSON; values JSON cannot hold become strings."""
    path = Path(path)
    units = {s.current_unit for s in recording}
    if len(units) != 1:
        raise ValueError(
            f"{path}: the sweeps mix current units {sorted(units)}; save_npz writes "
            "one `current_unit` per file."
        )
    count = len(recording)
    length = max(s.t.size for s in recording)
    steps = max(s.stimulus_times.size for s in recording)
    arrays = {
        "t": np.full((count, length), np.nan),
        "V": np.full((count, length), np.nan),
        "stim_t": np.full((count, steps), np.nan),
        "stim_I": np.full((count, steps), np.nan),
    }
    for i, s in enumerate(recording):
        arrays["t"][i, : s.t.size] = s.t
        arrays["V"][i, : s.t.size] = s.V
        arrays["stim_t"][i, : s.stimulus_times.size] = s.stimulus_times
        arrays["stim_I"][i, : s.stimulus_times.size] = s.stimulus_values
    if count == 1:
        arrays = {k: a[0] for k, a in arrays.items()}
    else:
        arrays["n_samples"] = np.array([s.t.size for s in recording])
        arrays["n_stimulus"] = np.array([s.stimulus_times.size for s in recording])
    metadata = {
        "recording": dict(recording.metadata),
        "sweeps": [dict(s.metadata) for s in recording],
    }
    np.savez(
        path,
        **arrays,
        current_unit=np.array(units.pop()),
        names=np.array([s.name for s in recording]),
        metadata=np.array(json.dumps(metadata, default=_jsonable)),
    )
