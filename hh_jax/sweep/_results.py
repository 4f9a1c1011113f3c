"""Reading a sweep back: lazily, one chunk at a time, or assembled over the grid."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ._features import FEATURE_UNITS
from ._space import AbstractSpace, Axis, Grid, ParameterTable
from ._storage import CHUNKS, FORMAT, MANIFEST, PARAMETERS, SUMMARY, chunk_name

# Value of a feature where its chunk has not been computed (status -1).
_FILL = {"spike_count": -1, "status": -1, "truncated": False}


def space_from_manifest(directory: Path, manifest: dict) -> AbstractSpace:
    """The parameter space a manifest describes (tables memory-mapped)."""
    space = manifest["definition"]["space"]
    if space["kind"] == "grid":
        return Grid(tuple(Axis(**a) for a in space["axes"]))
    columns = {
        name: np.load(directory / PARAMETERS / f"{name}.npy", mmap_mode="r")
        for name in space["names"]
    }
    return ParameterTable(columns)


class SweepResults:
    """A sweep on disk (see :func:`open_sweep`). Nothing is read until asked.

    **Attributes:** `path`, `manifest` (the parsed ``sweep.json``), `space` (the
    :class:`Grid` or :class:`ParameterTable`), `shape` (grid shape, or ``(n,)``),
    `size`, `names` (swept parameters), `units` (of parameters and features),
    `chunk_size`, `num_chunks`, `features` (names of the stored features).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        file = self.path / MANIFEST
        if not file.exists():
            raise FileNotFoundError(f"no sweep at {self.path} (missing {MANIFEST}).")
        self.manifest = json.loads(file.read_text())
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{file} is not an hh_jax sweep manifest.")
        d = self.manifest["definition"]
        self.space = space_from_manifest(self.path, self.manifest)
        self.shape = tuple(self.space.shape)
        self.size = self.space.size
        self.names = tuple(self.space.names)
        self.chunk_size = int(d["chunk_size"])
        self.num_chunks = int(d["num_chunks"])
        self.features = tuple(self.manifest["features"])
        self.units = {k: v["unit"] for k, v in d["parameters"].items()}
        self.units.update(self.manifest["features"])

    def __repr__(self) -> str:
        done = self.num_chunks - len(self.missing_chunks())
        return (
            f"SweepResults({str(self.path)!r}, shape={self.shape}, "
            f"chunks {done}/{self.num_chunks})"
        )

    # -- chunks -------------------------------------------------------------------

    def chunk_range(self, index: int) -> tuple[int, int]:
        """Flat indices ``[start, stop)`` held by chunk `index`."""
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.size)

    def chunk_path(self, index: int) -> Path:
        return self.path / CHUNKS / chunk_name(index, self.num_chunks)

    def missing_chunks(self) -> list[int]:
        """Indices of chunks not written yet."""
        folder = self.path / CHUNKS
        present = set(os.listdir(folder)) if folder.is_dir() else set()
        return [
            i
            for i in range(self.num_chunks)
            if chunk_name(i, self.num_chunks) not in present
        ]

    @property
    def complete(self) -> bool:
        """True when every chunk has been written."""
        return not self.missing_chunks()

    def chunk(self, index: int) -> dict[str, np.ndarray]:
        """Everything stored for chunk `index`: each feature, ``param.NAME`` (the
        parameter values), ``start``/``stop`` (flat indices), ``process`` and
        ``devices`` (which process computed it, over how many devices), and
        ``spikes``/``V`` if saved."""
        with np.load(self.chunk_path(index)) as data:
            return {k: data[k] for k in data.files}

    def chunks(self) -> Iterator[dict[str, np.ndarray]]:
        """Every written chunk in order, loaded one at a time."""
        for i in range(self.num_chunks):
            if self.chunk_path(i).exists():
                yield self.chunk(i)

    # -- assembled arrays ---------------------------------------------------------

    def feature(self, name: str, *, out: np.ndarray | None = None) -> np.ndarray:
        """Feature `name` over the whole space, shape `shape` (grid axes in order).
        Unwritten chunks read NaN (floats), -1 (counts, status) or False.

        For sweeps too large for memory pass `out`, e.g.
        ``np.lib.format.open_memmap("rate.npy", "w+", np.float64, results.shape)``:
        it is filled chunk by chunk and returned."""
        extra = ("spikes", "V")
        if name not in self.features and name not in extra:
            raise KeyError(f"no feature {name!r}; stored: {', '.join(self.features)}")
        flat = None if out is None else out.reshape(-1)
        for i in range(self.num_chunks):
            if not self.chunk_path(i).exists():
                continue
            with np.load(self.chunk_path(i)) as data:
                if name not in data.files:
                    raise KeyError(f"feature {name!r} was not saved in this sweep.")
                values = data[name]
            if flat is None:
                fill = _FILL.get(name, np.nan)
                shape = (self.size, *values.shape[1:])
                flat = np.full(shape, fill, dtype=values.dtype)
            start, stop = self.chunk_range(i)
            flat[start:stop] = values
        if flat is None:  # nothing written yet
            flat = np.full(self.size, _FILL.get(name, np.nan))
        result = flat.reshape(self.shape + flat.shape[1:])
        if out is not None and out.shape != result.shape:
            raise ValueError(f"`out` must have shape {result.shape}.")
        return result if out is None else out

    def parameter(self, name: str) -> np.ndarray:
        """Values (its unit) of swept parameter `name` at every point, shape
        `shape`. For a grid axis alone see :meth:`axis`."""
        if name not in self.names:
            raise KeyError(f"{name!r} was not swept; swept: {', '.join(self.names)}")
        if isinstance(self.space, Grid):
            k = self.names.index(name)
            shape = [1] * len(self.shape)
            shape[k] = self.shape[k]
            values = self.space.axes[k].points().reshape(shape)
            return np.broadcast_to(values, self.shape)
        return np.asarray(self.space.columns[name])

    def axis(self, name: str) -> np.ndarray:
        """The values of grid axis `name` (1-D)."""
        if not isinstance(self.space, Grid):
            raise ValueError("a parameter table has no axes; use `parameter`.")
        if name not in self.names:
            raise KeyError(f"no axis {name!r}; axes: {', '.join(self.names)}")
        return self.space.axes[self.names.index(name)].points()

    def summary(self) -> dict:
        """The summary written when the sweep finished, or None before."""
        path = self.path / SUMMARY
        return json.loads(path.read_text()) if path.exists() else None


def open_sweep(path: str | os.PathLike) -> SweepResults:
    """Open the sweep in directory `path` for reading (lazy; see
    :class:`SweepResults`). Works on a sweep still running or interrupted."""
    return SweepResults(path)


def summarise(results: SweepResults) -> dict:
    """Counts and ranges over a complete sweep, read chunk by chunk."""
    counts = {"neurons": 0, "ok": 0, "failed": 0, "spiking": 0, "truncated": 0}
    rate_max = latency_min = latency_max = None
    for data in results.chunks():
        ok = data["status"] == 0
        counts["neurons"] += int(ok.size)
        counts["ok"] += int(ok.sum())
        counts["failed"] += int((~ok).sum())
        counts["spiking"] += int((data["spike_count"] > 0).sum())
        counts["truncated"] += int(data["truncated"].sum())
        if ok.any():
            r = float(np.nanmax(data["rate"][ok]))
            rate_max = r if rate_max is None else max(rate_max, r)
        lat = data["latency"][np.isfinite(data["latency"])]
        if lat.size:
            lo, hi = float(lat.min()), float(lat.max())
            latency_min = lo if latency_min is None else min(latency_min, lo)
            latency_max = hi if latency_max is None else max(latency_max, hi)
    return {
        **counts,
        "rate_max_Hz": rate_max,
        "latency_range_ms": [latency_min, latency_max],
        "feature_units": dict(FEATURE_UNITS),
    }
