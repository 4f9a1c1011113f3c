"""The on-disk layout of a sweep: a JSON manifest and one NPZ file per chunk.

::

    DIR/sweep.json                  manifest: definition, units, versions
    DIR/chunks/chunk_000000.npz     flat indices [0, chunk_size)
    DIR/chunks/chunk_000001.npz     ...
    DIR/parameters/NAME.npy         explicit parameter tables only
    DIR/summary.json                written by process 0 once every chunk exists

Every file is written to a temporary name in the same directory, flushed to disk
and renamed: a file under its final name is complete, so resuming only checks that
it exists and opens.
"""

import dataclasses
import json
import math
import os
import warnings
import zipfile
from pathlib import Path

import equinox as eqx
import numpy as np

FORMAT = "hh_jax.sweep/1"
MANIFEST = "sweep.json"
CHUNKS = "chunks"
PARAMETERS = "parameters"
SUMMARY = "summary.json"


def chunk_name(index: int, num_chunks: int) -> str:
    """File name of chunk `index` (zero-padded to at least 6 digits)."""
    width = max(6, len(str(max(num_chunks - 1, 0))))
    return f"chunk_{index:0{width}d}.npz"


def _tmp(path: Path, tag: str) -> Path:
    return path.with_name(f".{path.name}.{tag}.tmp")


def _commit(tmp: Path, path: Path) -> None:
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_npz(path: Path, arrays: dict, tag: str) -> None:
    """Write `arrays` to `path` atomically (temporary file `tag`-named, renamed)."""
    tmp = _tmp(path, tag)
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    _commit(tmp, path)


def write_npy(path: Path, array: np.ndarray, tag: str) -> None:
    tmp = _tmp(path, tag)
    with open(tmp, "wb") as f:
        np.save(f, array)
    _commit(tmp, path)


def write_json(path: Path, data: dict, tag: str) -> None:
    tmp = _tmp(path, tag)
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
    _commit(tmp, path)


def remove_stale_temporaries(directory: Path, tag: str) -> None:
    """Delete temporary files left by an interrupted run with the same `tag`."""
    if directory.is_dir():
        for p in directory.glob(f".*.{tag}.tmp"):
            p.unlink(missing_ok=True)


def chunk_is_complete(path: Path, start: int, stop: int) -> bool:
    """True if `path` is a readable chunk file for flat indices [start, stop)."""
    if not path.exists():
        return False
    try:
        with np.load(path) as data:
            return int(data["start"]) == start and int(data["stop"]) == stop
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        warnings.warn(f"{path} is unreadable; it will be recomputed.", stacklevel=3)
        return False


def describe(x):
    """A JSON-serialisable description of a model or stimulus (type names, field
    values; non-finite numbers as strings), to record it and recognise it later."""
    if isinstance(x, eqx.Module):
        fields = {f.name: describe(getattr(x, f.name)) for f in dataclasses.fields(x)}
        return {"type": type(x).__name__, **fields}
    if isinstance(x, dict):
        return {str(k): describe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [describe(v) for v in x]
    if eqx.is_array(x) or isinstance(x, np.ndarray | np.generic):
        return _finite_json(np.asarray(x).tolist())
    if isinstance(x, bool | int | str) or x is None:
        return x
    if isinstance(x, float):
        return _finite_json(x)
    return repr(x)


def _finite_json(x):
    if isinstance(x, list):
        return [_finite_json(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def normalise(data: dict) -> dict:
    """`data` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(data, allow_nan=False))


def _differences(a, b, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += _differences(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [f"{prefix[:-1]}: on disk {a!r}, now {b!r}"]


def write_or_check_manifest(directory: Path, manifest: dict, tag: str) -> None:
    """Write the manifest if `directory` has none; otherwise check that its
    definition equals this one (else ``ValueError`` naming the differences).
    Concurrent processes write identical content, so the race is harmless."""
    path = directory / MANIFEST
    manifest = normalise(manifest)
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        write_json(path, manifest, tag)
    try:
        old = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not a sweep manifest ({err}).") from None
    if old.get("format") != FORMAT:
        raise ValueError(
            f"{path} is not an hh_jax sweep manifest (format {old.get('format')!r})."
        )
    diff = _differences(old["definition"], manifest["definition"])
    if diff:
        more = f"; and {len(diff) - 5} more" if len(diff) > 5 else ""
        shown = "; ".join(diff[:5]) + more
        raise ValueError(
            f"{directory} holds a different sweep ({shown}). Resume it with the same "
            "settings, or choose another output directory."
        )
    if old.get("versions") != manifest.get("versions"):
        warnings.warn(
            f"{directory} was started with versions {old.get('versions')}; now "
            f"{manifest.get('versions')}. Results may differ in the last digits.",
            stacklevel=3,
        )
