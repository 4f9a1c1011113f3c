"""``run_sweep``: simulate every parameter set of a space, chunk by chunk, into a
directory; sharded over local devices, split over processes, resumable."""

import dataclasses
import math
import os
import time
from pathlib import Path

import jax
import numpy as np

from ..batching import check_chunk_size, map_chunks
from ..initial_state import DEFAULT_Y0, InitialState, check_y0, renamed_y0
from ..model import PointNeuron, State
from ..settings import resolve_settings
from ..spikes import THRESHOLD
from ..stimulus import AbstractStimulus, as_stimulus
from . import _storage as storage
from ._chunk import ChunkSettings, dispatch_chunk, neuron_mesh, padded_length
from ._features import FEATURE_UNITS, stimulus_window
from ._results import SweepResults, open_sweep, summarise
from ._space import AbstractSpace, ParameterTable


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


def _sweep_y0(model, y0):
    """`y0` as stored in the settings and manifest: "steady", "rest" or the
    numbers [V (mV), gates...] of a state shared by every neuron."""
    check_y0(y0)
    if y0 is None:
        return "steady"
    if isinstance(y0, str):
        return y0
    if isinstance(y0, State):
        y0 = y0.to_array(model.gate_names)
    y0 = np.asarray(y0, dtype=float)
    if y0.shape != (1 + len(model.gate_names),):
        raise ValueError(
            f"`y0` as numbers must be one state [V (mV), {', '.join(model.gate_names)}]"
            f" shared by the sweep; got shape {y0.shape}."
        )
    model.check_state(State.from_array(y0, model.gate_names))
    return tuple(float(x) for x in y0)


def _settings(stimulus, duration, dt, max_spikes, threshold, window, y0, **save):
    for name, value in (("duration", duration), ("dt", dt)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"`{name}` must be a positive number (ms); got {value!r}.")
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
        y0=y0,
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
            # "start": the name of y0 in earlier versions, kept so that their
            # sweep directories resume.
            "start": settings.y0 if isinstance(settings.y0, str) else list(settings.y0),
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


def _wait_for(results: SweepResults, timeout: float | None, poll: float) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while results.missing_chunks():
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


@dataclasses.dataclass(frozen=True)
class SweepSettings:
    """The options of :func:`run_sweep` (each may also be passed to it as a
    keyword; :mod:`hh_jax.settings`).

    Integration and output:

    - `dt`: fixed RK4 step, ms.
    - `chunk_size`: parameter sets per chunk file and per compiled call (one
      compilation for all chunks); padded inside to a multiple of the devices.
    - `max_spikes`: spike-time slots per neuron (None: room for 500 Hz).
    - `window`: (start, stop) ms for rate and latency; None: where the stimulus
      is nonzero (:func:`stimulus_window`).
    - `save_spikes`: also store spike times, (n, max_spikes) ms, NaN-padded.
    - `save_interval`: also store V (mV) every `save_interval` ms (large!).

    Devices and processes:

    - `devices`: devices to shard each chunk over (None: ``jax.local_devices()``).
    - `process_id`, `num_processes`: this process's share: chunks
      ``process_id, process_id + num_processes, ...`` (None:
      ``jax.process_index()`` and ``jax.process_count()``, i.e. set by
      ``jax.distributed.initialize``). Each process writes its own chunk files;
      process 0 waits (up to `wait_timeout` s, polling every `poll_interval` s)
      for all chunks and writes ``summary.json``.
    """

    dt: float = 0.05
    chunk_size: int = 4096
    max_spikes: int | None = None
    window: tuple[float, float] | None = None
    save_spikes: bool = False
    save_interval: float | None = None
    devices: list | None = None
    process_id: int | None = None
    num_processes: int | None = None
    wait_timeout: float | None = None
    poll_interval: float = 0.5


def run_sweep(
    model: PointNeuron,
    space: AbstractSpace,
    stimulus: AbstractStimulus | float,
    out: str | os.PathLike,
    *,
    duration: float,
    y0: InitialState = DEFAULT_Y0["simulate"],
    threshold: float = THRESHOLD,
    settings: SweepSettings | None = None,
    progress: bool | None = None,
    **options,
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
    - `duration`: simulated time, ms (from t = 0).
    - `y0`: initial state, ``"steady"`` (default: V = -65 mV, gates at steady
      state, as :func:`hh_jax.simulate_fixed`), ``"rest"`` (each neuron's own
      resting state, found by Newton's method; status INVALID_INPUT if none) or
      one state (a State or ``[V (mV), gates...]``) shared by every neuron.
    - `threshold`: spike detection threshold, mV (default -20).
    - `settings`: a :class:`SweepSettings`: the RK4 step `dt`, `chunk_size`,
      `max_spikes`, `window`, what to save (`save_spikes`, `save_interval`) and
      how to share the work (`devices`, `process_id`, `num_processes`, ...). Each
      of its fields may also be passed as a keyword (``run_sweep(..., dt=0.02)``).
    - `progress`: show a progress bar (default: when more than one chunk is due).

    **Returns:** :class:`SweepResults` for `out` (``open_sweep(out)``).
    Results do not depend on `chunk_size`'s padding, the devices or the processes:
    every neuron is computed by the same elementwise program.
    """
    y0 = renamed_y0("start", options.pop("start", None), y0, DEFAULT_Y0["simulate"])
    opts = resolve_settings(SweepSettings, settings, options, entry="run_sweep")
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
        opts.dt,
        opts.max_spikes,
        threshold,
        opts.window,
        _sweep_y0(model, y0),
        save_spikes=opts.save_spikes,
        save_interval=opts.save_interval,
    )
    chunk_size = check_chunk_size(opts.chunk_size, space.size)
    process_id, num_processes = opts.process_id, opts.num_processes
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

    mesh = neuron_mesh(opts.devices)
    show = len(due) > 1 if progress is None else progress
    began = time.perf_counter()

    def finish(position, lo, hi, data):
        values = space.values(lo, hi)
        data.update({f"param.{k}": v for k, v in values.items()})
        data.update(start=np.int64(lo), stop=np.int64(hi))
        data.update(process=np.int32(process_id), devices=np.int32(mesh.size))
        storage.write_npz(results.chunk_path(due[position]), data, tag)

    map_chunks(
        # Looked up at call time (tests wrap it to count the chunks computed).
        lambda values: dispatch_chunk(model, values, stimulus, settings, mesh),
        space.values,
        total=space.size,
        chunk_size=chunk_size,
        length=padded_length(chunk_size, mesh),
        ranges=[results.chunk_range(i) for i in due],
        progress=show,
        desc="sweep" if num_processes == 1 else f"sweep {process_id}/{num_processes}",
        unit="neuron",
        to_host=True,
        finish=finish,
    )

    if process_id == 0:
        if num_processes > 1 and not _wait_for(
            results, opts.wait_timeout, opts.poll_interval
        ):
            return results
        if results.complete:
            summary = summarise(results)
            summary["process_0_seconds"] = time.perf_counter() - began
            summary["num_processes"] = num_processes
            storage.write_json(directory / storage.SUMMARY, summary, tag)
    return results
