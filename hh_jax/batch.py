"""Simulating many neurons at once: a batched model, chunked to bound memory.

``simulate`` already works under ``jax.vmap``; :func:`simulate_batch` adds the
bookkeeping a user wants for big parameter sweeps: it finds the batched fields,
runs the batch in equally sized chunks through one compiled function (the last chunk
padded, so nothing recompiles), shows progress, and never lets one failing member
(max_steps reached, absurd or invalid parameters) affect the others: each member's
``status`` says how it went.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from .model import PointNeuron, State, as_state
from .simulate import simulate
from .stimulus import AbstractStimulus, as_stimulus
from .trace import Trace


def batch_size_of(tree, name: str) -> int | None:
    """The common leading length of all leaves with ``ndim >= 1``, or None."""
    sizes = {x.shape[0] for x in jax.tree.leaves(tree) if eqx.is_array(x) and x.ndim}
    if len(sizes) > 1:
        raise ValueError(
            f"batched fields of `{name}` have different lengths {sorted(sizes)}; "
            "every batched field needs the same leading axis."
        )
    return sizes.pop() if sizes else None


def _split(tree, batched: bool):
    """(batched part, shared part) of a tree: leaves with a leading axis vs scalars."""
    if batched:
        return eqx.partition(tree, eqx.is_array)
    return eqx.partition(tree, lambda x: eqx.is_array(x) and x.ndim >= 1)


@eqx.filter_jit
def _simulate_chunk(model_b, model_s, stim_b, stim_s, y0_b, y0_s, ts, options):
    def one(mb, sb, yb):
        model = eqx.combine(mb, model_s)
        stimulus = eqx.combine(sb, stim_s)
        y0 = eqx.combine(yb, y0_s)
        return simulate(model, stimulus, ts, y0=y0, throw=False, **dict(options))

    return jax.vmap(one)(model_b, stim_b, y0_b)


def _take(tree, start: int, size: int, total: int):
    """Rows ``start:start+size`` of every leaf, padding past `total` with the last."""
    idx = np.minimum(np.arange(start, start + size), total - 1)
    return jax.tree.map(lambda x: x[idx], tree)


def simulate_batch(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"],
    *,
    y0: State | Float[ArrayLike, "B n"] | None = None,
    stimulus_batched: bool = False,
    chunk_size: int | None = 4096,
    progress: bool | None = None,
    **options,
) -> Trace:
    """Simulate a batch of neurons; returns a :class:`hh_jax.Trace` with a leading
    batch axis of length B.

    **Arguments:**

    - `model`: a :class:`hh_jax.PointNeuron` whose batched parameters have a leading
      axis of length B (scalar fields are shared), e.g.
      ``HodgkinHuxley(g_Na=jnp.linspace(100, 140, B))``.
    - `stimulus`: shared by all neurons, or with ``stimulus_batched=True`` a stimulus
      whose every array field has a leading axis of length B.
    - `ts`: save times, ms (shared).
    - `y0`: initial state, shared or batched (``State`` with ``V`` of shape (B,), or
      an array (B, n)); ``None`` is rest at -65 mV.
    - `chunk_size`: neurons per compiled call (bounds memory); ``None`` runs all at
      once. The last chunk is padded so every chunk reuses one compilation.
    - `progress`: show a progress bar (default: when there is more than one chunk).
    - `options`: passed to :func:`hh_jax.simulate` (solver, rtol, atol, max_steps,
      gates, currents, adjoint).

    Members never raise: read ``trace.status`` / ``trace.ok``.
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    if "throw" in options:
        raise TypeError("simulate_batch never throws per member; read `status`.")
    stimulus = as_stimulus(stimulus)
    if y0 is not None and not isinstance(y0, State):
        y0 = jnp.asarray(y0)
        y0 = State.from_array(y0, model.gate_names)
    y0 = as_state(model, y0)

    model_b, model_s = _split(model, False)
    stim_b, stim_s = _split(stimulus, stimulus_batched)
    y0_b, y0_s = _split(y0, False)
    sizes = {
        name: n
        for name, n in (
            ("model", batch_size_of(model_b, "model")),
            ("stimulus", batch_size_of(stim_b, "stimulus")),
            ("y0", batch_size_of(y0_b, "y0")),
        )
        if n is not None
    }
    if not sizes:
        raise ValueError(
            "nothing is batched: give a model field (or y0, or the stimulus with "
            "stimulus_batched=True) a leading axis, or call hh_jax.simulate."
        )
    if len(set(sizes.values())) > 1:
        raise ValueError(f"batch lengths differ: {sizes}.")
    total = next(iter(sizes.values()))
    if chunk_size is None or chunk_size >= total:
        chunk_size = total
    if chunk_size < 1:
        raise ValueError(f"`chunk_size` must be >= 1; got {chunk_size}.")
    options = tuple(sorted(options.items()))
    n_chunks = math.ceil(total / chunk_size)
    show = n_chunks > 1 if progress is None else progress

    chunks = []
    starts = range(0, total, chunk_size)
    if show:
        from tqdm.auto import tqdm

        starts = tqdm(starts, total=n_chunks, desc="simulating", unit="chunk")
    ts = jnp.asarray(ts)
    for start in starts:
        parts = [_take(p, start, chunk_size, total) for p in (model_b, stim_b, y0_b)]
        chunks.append(
            _simulate_chunk(
                parts[0], model_s, parts[1], stim_s, parts[2], y0_s, ts, options
            )
        )
    if len(chunks) == 1:
        out = chunks[0]
    else:
        out = jax.tree.map(lambda *xs: jnp.concatenate(xs), *chunks)
    return jax.tree.map(lambda x: x[:total], out)
