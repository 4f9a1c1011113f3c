"""``run_sweep``: simulate every parameter set of a space, chunk by chunk, into a
directory; sharded over local devices, split over processes, resumable."""

import math
import os
import time
from pathlib import Path

import jax
import numpy as np

from ..model import PointNeuron
from ..spikes import THRESHOLD
from ..stimulus import AbstractStimulus, as_stimulus
from . import _storage as storage
from ._chunk import (
    ChunkSettings,
    collect_chunk,
    dispatch_chunk,
    neuron_mesh,
    padded_length,
)
from ._features import FEATURE_UNITS, stimulus_window
from ._results import SweepResults, open_sweep, summarise
from ._space import AbstractSpace, ParameterTable

_STARTS = ("steady", "rest")


def _versions() -> dict:
    import equinox

    from .. import __version__

    return {
        "hh_jax": __version__,
        "jax": jax.__version__,
        "equinox": equinox.__version__,
        "numpy": np.__version__,
    }


def _check_model(model) -> None:
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    batched = [n for n, v in model.parameters().items() if np.ndim(v) > 0]
    if batched:
        raise ValueError(
            f"the model template must hold single values; {', '.join(batched)} "
            "are batched (sweep them through the space instead)."
        )


def _settings(stimulus, duration, dt, max_spikes, threshold, window, start, **save):
    for name, value in (("duration", duration), ("dt", dt)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"`{name}` must be a positive number (ms); got {value!r}.")
    if start not in _STARTS:
        raise ValueError(f"`start` must be one of {_STARTS}; got {start!r}.")
    if max_spikes is None:  # room for 500 Hz over the whole run
        max_spikes = max(8, math.ceil(duration / 2.0))
    if not isinstance(max_spikes, int) or max_spikes < 1:
        raise ValueError(f"`max_spikes` must be a positive int; got {max_spikes!r}.")
    if window is None:
        window = stimulus_window(stimulus, float(duration), float(dt))
    onset, offset = (float(w) for w in window)
    if not (0.0 <= onset < offset <= duration):
        raise ValueError(
            f"the rate window ({onset:g}, {offset:g}) ms must satisfy "
            f"0 <= start < stop <= duration ({duration:g} ms)."
        )
    interval = save["save_interval"]
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise ValueError(f"`save_interval` must be > 0 ms; got {interval!r}.")
    return ChunkSettings(
        duration=float(duration),
        dt=float(dt),
        max_spikes=max_spikes,
        threshold=float(threshold),
        window=(onset, offset),
        start=start,
        save_spikes=bool(save["save_spikes"]),
        save_interval=None if interval is None else float(interval),
    )


def _manifest(model, space, stimulus, settings, chunk_size, num_chunks) -> dict:
    infos = model.parameter_infos()
    features = dict(FEATURE_UNITS)
    if settings.save_spikes:
        features["spikes"] = "ms"
    if settings.save_interval is not None:
        features["V"] = "mV"
    return {
        "format": storage.FORMAT,
        "definition": {
            "space": space.describe(),
            "shape": list(space.shape),
            "size": space.size,
            "parameters": {
                n: {"unit": infos[n].unit, "doc": infos[n].doc} for n in space.names
            },
            "model": storage.describe(model),
            "stimulus": storage.describe(stimulus),
            "duration_ms": settings.duration,
            "dt_ms": settings.dt,
            "threshold_mV": settings.threshold,
            "max_spikes": settings.max_spikes,
            "window_ms": list(settings.window),
            "start": settings.start,
            "save_spikes": settings.save_spikes,
            "save_interval_ms": settings.save_interval,
            "chunk_size": chunk_size,
            "num_chunks": num_chunks,
            "dtype": str(np.dtype(jax.numpy.result_type(float))),
        },
        "features": features,
        "chunk_files": f"{storage.CHUNKS}/{storage.chunk_name(0, num_chunks)} ...",
        "versions": _versions(),
    }


def _write_table(directory: Path, space: ParameterTable, tag: str) -> None:
    folder = directory / storage.PARAMETERS
    folder.mkdir(exist_ok=True)
    for name, column in space.columns.items():
        path = folder / f"{name}.npy"
        if not path.exists():
            storage.write_npy(path, np.asarray(column), tag)


def _progress(show, total, process_id, num_processes):
    if not show:
        return None
    from tqdm.auto import tqdm

    desc = "sweep" if num_processes == 1 else f"sweep {process_id}/{num_processes}"
    return tqdm(
        total=total, desc=desc, unit="neuron", unit_scale=total >= 10**4, smoothing=0.1
    )


def _wait_for(results: SweepResults, timeout: float | None, poll: float) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while results.missing_chunks():
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def run_sweep(
    model: PointNeuron,
    space: AbstractSpace,
    stimulus: AbstractStimulus | float,
    out: str | os.PathLike,
    *,
    duration: float,
    dt: float = 0.05,
    chunk_size: int = 4096,
    max_spikes: int | None = None,
    threshold: float = THRESHOLD,
    window: tuple[float, float] | None = None,
    start: str = "steady",
    save_spikes: bool = False,
    save_interval: float | None = None,
    devices: list | None = None,
    process_id: int | None = None,
    num_processes: int | None = None,
    progress: bool | None = None,
    wait_timeout: float | None = None,
    poll_interval: float = 0.5,
) -> SweepResults:
    """Simulate `model` at every parameter set of `space` under `stimulus` and write
    per-neuron features to directory `out`, one file per chunk.

    **Arguments:**

    - `model`: the template :class:`hh_jax.PointNeuron` (single values); the swept
      parameters replace its values, the others stay fixed.
    - `space`: a :class:`Grid` (``Grid.parse(["g_Na=50:200:64", ...])``), a
      :class:`ParameterTable` or :func:`latin_hypercube` samples. Values in each
      parameter's unit (``model.parameter_infos()``).
    - `stimulus`: shared by all neurons (uA/cm^2; a number is a constant current).
    - `out`: output directory, created if needed. If it already holds this sweep,
      finished chunks are kept and only missing ones are computed; a different
      sweep there raises ``ValueError``.
    - `duration`: simulated time, ms (from t = 0). `dt`: RK4 step, ms.
    - `chunk_size`: parameter sets per chunk file and per compiled call (one
      compilation for all chunks); padded inside to a multiple of the devices.
    - `max_spikes`: spike-time slots per neuron (default: room for 500 Hz).
    - `threshold`: spike detection threshold, mV (default -20).
    - `window`: (start, stop) ms for rate and latency; default: where the stimulus
      is nonzero (:func:`stimulus_window`).
    - `start`: initial state, ``"steady"`` (V = -65 mV, gates at steady state, as
      :func:`hh_jax.simulate_fixed`) or ``"rest"`` (each neuron's own resting
      state, found by Newton's method; NaN, hence status NON_FINITE, if none).
    - `save_spikes`: also store spike times, (n, max_spikes) ms, NaN-padded.
    - `save_interval`: also store V (mV) every `save_interval` ms (large!).
    - `devices`: devices to shard each chunk over (default
      ``jax.local_devices()``).
    - `process_id`, `num_processes`: this process's share: chunks
      ``process_id, process_id + num_processes, ...`` (default
      ``jax.process_index()`` and ``jax.process_count()``, i.e. set by
      ``jax.distributed.initialize``). Each process writes its own chunk files;
      process 0 waits (up to `wait_timeout` s, polling every `poll_interval` s)
      for all chunks and writes ``summary.json``.
    - `progress`: show a progress bar (default: when more than one chunk is due).

    **Returns:** :class:`SweepResults` for `out` (``open_sweep(out)``).
    Results do not depend on `chunk_size`'s padding, the devices or the processes:
    every neuron is computed by the same elementwise program.
    """
    _check_model(model)
    if not isinstance(space, AbstractSpace):
        raise TypeError(
            "`space` must be a Grid, ParameterTable or latin_hypercube(...) result; "
            f"got {type(space).__name__}."
        )
    space.validate(model)
    stimulus = as_stimulus(stimulus)
    settings = _settings(
        stimulus,
        duration,
        dt,
        max_spikes,
        threshold,
        window,
        start,
        save_spikes=save_spikes,
        save_interval=save_interval,
    )
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise ValueError(f"`chunk_size` must be a positive int; got {chunk_size!r}.")
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be a positive int; got {chunk_size!r}.")
    chunk_size = min(chunk_size, space.size)
    num_chunks = math.ceil(space.size / chunk_size)
    process_id = jax.process_index() if process_id is None else int(process_id)
    num_processes = jax.process_count() if num_processes is None else num_processes
    if not (num_processes >= 1 and 0 <= process_id < num_processes):
        raise ValueError(
            f"need 0 <= process_id < num_processes; got {process_id}, {num_processes}."
        )

    directory = Path(out)
    tag = f"p{process_id}"
    manifest = _manifest(model, space, stimulus, settings, chunk_size, num_chunks)
    storage.write_or_check_manifest(directory, manifest, tag)
    if isinstance(space, ParameterTable):
        _write_table(directory, space, tag)
    folder = directory / storage.CHUNKS
    folder.mkdir(exist_ok=True)
    storage.remove_stale_temporaries(folder, tag)

    results = open_sweep(directory)
    due = []
    for i in range(process_id, num_chunks, num_processes):
        lo, hi = results.chunk_range(i)
        if not storage.chunk_is_complete(results.chunk_path(i), lo, hi):
            due.append(i)

    mesh = neuron_mesh(devices)
    length = padded_length(chunk_size, mesh)
    show = len(due) > 1 if progress is None else progress
    total = sum(np.subtract(*results.chunk_range(i)[::-1]) for i in due)
    bar = _progress(show, int(total), process_id, num_processes)
    began = time.perf_counter()
    finished = [0]

    def finish(index, arrays):
        lo, hi = results.chunk_range(index)
        data = collect_chunk(arrays, hi - lo)
        values = space.values(lo, hi)
        data.update({f"param.{k}": v for k, v in values.items()})
        data.update(start=np.int64(lo), stop=np.int64(hi))
        data.update(process=np.int32(process_id), devices=np.int32(mesh.size))
        storage.write_npz(results.chunk_path(index), data, tag)
        finished[0] += 1
        if bar is not None:
            seconds = max(time.perf_counter() - began, 1e-9)
            bar.set_postfix_str(
                f"chunk {finished[0]}/{len(due)}, {finished[0] / seconds:.3g} chunks/s",
                refresh=False,
            )
            bar.update(hi - lo)

    try:
        inflight = None  # dispatch chunk k+1 before writing chunk k
        for i in due:
            lo, hi = results.chunk_range(i)
            arrays = dispatch_chunk(
                model, space.values(lo, hi), stimulus, settings, mesh, length
            )
            if inflight is not None:
                finish(*inflight)
            inflight = (i, arrays)
        if inflight is not None:
            finish(*inflight)
    finally:
        if bar is not None:
            bar.close()

    if process_id == 0:
        if num_processes > 1 and not _wait_for(results, wait_timeout, poll_interval):
            return results
        if results.complete:
            summary = summarise(results)
            summary["process_0_seconds"] = time.perf_counter() - began
            summary["num_processes"] = num_processes
            storage.write_json(directory / storage.SUMMARY, summary, tag)
    return results
