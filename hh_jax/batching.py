"""Many rows in equal chunks: the one loop behind ``simulate_batch``, the Sobol
samples of ``global_sensitivity`` and ``run_sweep``.

:func:`map_chunks` cuts the rows (the leading axis of every array of a PyTree)
into chunks of `chunk_size`, pads the last chunk by repeating its last row so
that every call sees the same shapes (a compiled function is traced and compiled
once), calls the function on each chunk, drops the padding, shows one progress
bar, and either concatenates the results or hands each chunk to a callback (a
sweep writes it to a file). The next chunk is dispatched before the previous one
is collected, so host work (copying, writing) overlaps the computation.

On a CPU with several cores, chunks run on :func:`host_threads` threads at once
(one compiled program, several executions in flight: XLA runs a vectorised
solver's small per-step kernels on one core, so one chunk at a time leaves the
other cores idle; measured 1.74x for 4 chunks of W(1024) on the project's 2
cores). Results are collected in order, so they do not depend on the threads.
Under ``jit`` one traced chunk is mapped over all chunks (``jax.lax.map``);
under autodiff the chunks are traced one after the other (measured faster for
gradients, see :func:`map_chunks`).

The function itself is the caller's: a module-level ``eqx.filter_jit`` of a
``vmap`` (or of a vectorised solver), so that its compilation is cached across
calls.
"""

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

# Lanes per call of a vectorised solver on a CPU, by bytes per number. Measured on
# W(1e4), simulate_batch defaults, 2-core CPU (best of 4 after compiling, load
# ~1), chunks on both cores (host_threads), 2026-12-04 (evening, stage loop):
# float64 0.68-0.72 s in chunks of 1000 or 1667, 0.78 s of 500, 0.82 s of 5000;
# float32 0.22-0.23 s in chunks of 2500 or 5000, 0.25 s of 1667, 0.46 s all at
# once (an odd number of chunks idles a core: 3 of 3334 0.30 s).
CPU_LANES = {8: 1024, 4: 4096}
# Rows below which a batch is not split further to give every thread a chunk.
MIN_THREAD_LANES = 16


def host_threads() -> int:
    """Chunks run at once: the CPU cores this process may use, on a CPU backend
    with one device (else 1: an accelerator, or host devices that already split
    the work). ``HH_JAX_THREADS`` overrides it (``HH_JAX_THREADS=1``: one chunk
    at a time)."""
    override = os.environ.get("HH_JAX_THREADS")
    if override:
        try:
            value = int(override)
        except ValueError:
            raise ValueError(
                f"HH_JAX_THREADS must be a positive integer; got {override!r}."
            ) from None
        if value < 1:
            raise ValueError(f"HH_JAX_THREADS must be >= 1; got {value}.")
        return value
    if jax.default_backend() != "cpu" or jax.local_device_count() > 1:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _traced(tree) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(tree))


def differentiated(tree) -> bool:
    """Whether autodiff is tracing `tree`: a JVP or linearize tracer anywhere in
    the stack of tracers of a leaf (through vmap's). A tracer this does not know
    counts as differentiated, the safe answer (the chunks then stay unrolled)."""
    for x in jax.tree.leaves(tree):
        t = x
        while isinstance(t, jax.core.Tracer):
            name = type(t).__name__
            if name in ("JVPTracer", "LinearizeTracer"):
                return True
            inner = getattr(t, "val", None)
            if inner is None:
                inner = getattr(t, "primal", None)
            if inner is None:
                if name != "DynamicJaxprTracer":
                    return True
                break
            t = inner
    return False


def auto_chunk_size(total: int, dtype) -> int:
    """The default chunk for `total` rows of `dtype`: on a CPU, about
    ``CPU_LANES`` rows, balanced so that the last chunk is (nearly) full, in a
    number of chunks that is a multiple of :func:`host_threads` (so that no
    core idles while the last chunks run) while chunks keep at least
    ``MIN_THREAD_LANES`` rows; on an accelerator, everything in one call (it
    wants the widest batch)."""
    if jax.default_backend() != "cpu":
        return total
    lanes = CPU_LANES.get(np.dtype(dtype).itemsize, CPU_LANES[8])
    chunks = -(-total // lanes)
    threads = host_threads()
    if threads > 1:
        # Measured (simulate_batch defaults, 2-core CPU): W(1e4) float32 in 5
        # chunks of 2000 4.1e6 neuron.ms/s, in 4 of 2500 5.4e6; W(1000) float64
        # in one chunk 146 ms, in two 77 ms; W(64) 40 ms -> 26 ms.
        wanted = -(-chunks // threads) * threads
        chunks = max(chunks, min(wanted, total // MIN_THREAD_LANES))
    return -(-total // chunks)


def check_chunk_size(chunk_size, total: int, dtype=None) -> int:
    """`chunk_size` capped at `total` (None: `total`; ``"auto"``: see
    :func:`auto_chunk_size`); ``ValueError`` unless a positive int."""
    if chunk_size is None:
        return total
    if isinstance(chunk_size, str) and chunk_size == "auto":
        return auto_chunk_size(
            total, jnp.result_type(float) if dtype is None else dtype
        )
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise ValueError(f"`chunk_size` must be a positive int; got {chunk_size!r}.")
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be >= 1; got {chunk_size}.")
    return int(min(chunk_size, total))


def padded_length(chunk_size: int, multiple: int = 1) -> int:
    """`chunk_size` rounded up to a multiple of `multiple` (e.g. the devices)."""
    return -(-chunk_size // multiple) * multiple


def pad_rows(tree, start: int, stop: int, length: int):
    """Rows ``start:stop`` of every array leaf of `tree`, padded to `length` rows
    by repeating row ``stop - 1`` (NumPy leaves stay NumPy)."""
    if not (0 <= start < stop and stop - start <= length):
        raise ValueError(f"bad chunk rows {start}:{stop} for length {length}.")
    idx = np.minimum(np.arange(start, start + length), stop - 1)
    return jax.tree.map(lambda x: x[idx], tree)


def chunk_ranges(total: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0:total`` in chunks of `chunk_size`."""
    return [(lo, min(lo + chunk_size, total)) for lo in range(0, total, chunk_size)]


class _Progress:
    """A tqdm bar counting rows, with the chunks done and their rate as postfix;
    does nothing when not shown."""

    def __init__(self, show: bool, total: int, chunks: int, desc: str, unit: str):
        self.chunks, self.done, self.began = chunks, 0, time.perf_counter()
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total,
                desc=desc,
                unit=unit,
                unit_scale=total >= 10**4,
                smoothing=0.1,
            )

    def update(self, rows: int) -> None:
        self.done += 1
        if self.bar is None:
            return
        seconds = max(time.perf_counter() - self.began, 1e-9)
        self.bar.set_postfix_str(
            f"chunk {self.done}/{self.chunks}, {self.done / seconds:.3g} chunks/s",
            refresh=False,
        )
        self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _mapped(function, rows, ranges, length: int):
    """`function` over the chunks by ``jax.lax.map`` (the rows gathered into
    (chunks, length, ...), padded as :func:`pad_rows` pads), unpadded."""
    index = np.stack(
        [np.minimum(np.arange(lo, lo + length), hi - 1) for lo, hi in ranges]
    )
    stacked = jax.tree.map(lambda x: x[index], rows)
    out = jax.lax.map(function, stacked)
    keep = np.concatenate(
        [k * length + np.arange(hi - lo) for k, (lo, hi) in enumerate(ranges)]
    )
    return jax.tree.map(lambda y: y.reshape((-1,) + y.shape[2:])[keep], out)


def _threaded(function, load, ranges, collect, threads: int) -> None:
    """The chunks on `threads` threads, at most `threads` in flight, collected
    in order. JAX compiles a function once when several threads call it first
    at the same time (measured: one compilation, and the first call 4.3 s ->
    3.1 s for W(1e4) against running the first chunk alone)."""

    def run(lo, hi):
        return jax.block_until_ready(function(load(lo, hi)))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        window = []
        for position, (lo, hi) in enumerate(ranges):
            window.append((position, lo, hi, pool.submit(run, lo, hi)))
            if len(window) >= threads:
                p, a, b, future = window.pop(0)
                collect(p, a, b, future.result())
        for p, a, b, future in window:
            collect(p, a, b, future.result())


def map_chunks(
    function: Callable,
    rows,
    *,
    total: int,
    chunk_size: int | None,
    length: int | None = None,
    ranges: Sequence[tuple[int, int]] | None = None,
    progress: bool | None = None,
    desc: str = "chunks",
    unit: str = "row",
    to_host: bool = False,
    finish: Callable | None = None,
):
    """``function`` applied to `rows` chunk by chunk.

    **Arguments:**

    - `function`: one chunk (the PyTree `rows` cut to `length` rows) -> a PyTree
      whose every array leaf has `length` leading rows.
    - `rows`: a PyTree of arrays with leading axis `total`, or a callable
      ``(start, stop) -> rows start:stop`` for rows made per chunk.
    - `chunk_size`: rows per chunk (None: all at once); `length`: rows per call
      (default `chunk_size`; larger to pad to a multiple of the devices).
    - `ranges`: the ``(start, stop)`` chunks to compute (default: all of
      ``0:total``, in order), e.g. those of one process still missing.
    - `progress`: a progress bar counting `unit` rows (default: shown for more
      than one chunk), titled `desc`.
    - `to_host`: bring each chunk's results to NumPy as soon as it is collected.
    - `finish`: called as ``finish(position, start, stop, results)`` with each
      unpadded chunk (position in `ranges`); then nothing is returned.

    **Returns:** the results of all chunks, concatenated along the rows and
    unpadded (leading axis `total`), unless `finish` is given.
    """
    chunk_size = check_chunk_size(chunk_size, total)
    length = chunk_size if length is None else length
    if length < chunk_size:
        raise ValueError(f"`length` {length} is below the chunk size {chunk_size}.")
    ranges = chunk_ranges(total, chunk_size) if ranges is None else list(ranges)
    if callable(rows):
        load = lambda lo, hi: pad_rows(rows(lo, hi), 0, hi - lo, length)  # noqa: E731
    else:
        load = lambda lo, hi: pad_rows(rows, lo, hi, length)  # noqa: E731
    show = len(ranges) > 1 if progress is None else bool(progress)
    bar = _Progress(show, sum(hi - lo for lo, hi in ranges), len(ranges), desc, unit)
    parts = []

    def collect(position, lo, hi, out):
        n = hi - lo
        cut = (lambda x: np.asarray(x)[:n]) if to_host else (lambda x: x[:n])
        out = jax.tree.map(cut, out)
        if finish is None:
            parts.append(out)
        else:
            finish(position, lo, hi, out)
        bar.update(n)

    traced = not callable(rows) and _traced(rows)
    if traced and finish is None and len(ranges) > 1 and not differentiated(rows):
        # Under jit (or vmap): one traced chunk mapped over all of them, not one
        # copy of the chunk's program per chunk (W(1e4) in 10 chunks: first jit
        # call 13.5 s -> 3.9 s). Not under autodiff: there the chunks unrolled
        # were faster (W(1e4) gradient 4.3 s, against 9.3 s mapped, 7.3 s mapped
        # with each chunk rematerialised) though slower to compile (45 s vs 17 s).
        bar.close()
        return _mapped(function, rows, ranges, length)
    threads = 1 if traced else min(host_threads(), len(ranges))
    try:
        if threads > 1:
            _threaded(function, load, ranges, collect, threads)
        else:
            pending = None  # dispatch chunk k + 1 before collecting chunk k
            for position, (lo, hi) in enumerate(ranges):
                out = function(load(lo, hi))
                if pending is not None:
                    collect(*pending)
                pending = (position, lo, hi, out)
            if pending is not None:
                collect(*pending)
    finally:
        bar.close()
    if finish is not None or not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    join = np.concatenate if to_host else jnp.concatenate
    return jax.tree.map(lambda *xs: join(xs), *parts)
