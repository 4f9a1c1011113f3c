"""Simulating many neurons at once: a batched model, chunked to bound memory.

:func:`simulate_batch` finds the batched fields, runs the batch in equally sized
chunks through one compiled function (the last chunk padded, so nothing
recompiles), shows progress, and never lets one failing member (max_steps
reached, absurd or invalid parameters) affect the others: each member's
``status`` says how it went.

By default it integrates the whole chunk as one vectorised system
(:mod:`hh_jax.solvers`: fixed-step Tsit5, with per-neuron adaptive steps where a
neuron needs them), which is several times faster than ``jax.vmap`` of
:func:`hh_jax.simulate` (the general path, still available as
``method="diffrax"``); docs/performance.md has the measurements.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from . import tolerances
from ._checks import concrete
from .batching import check_chunk_size, differentiated, map_chunks
from .initial_state import InitialState, resolve_y0
from .model import PointNeuron
from .settings import resolve_settings
from .simulate import simulate
from .solvers import _batch as fast
from .spikes import THRESHOLD
from .stimulus import AbstractStimulus, as_stimulus
from .trace import Trace

DIFFRAX_OPTIONS = ("solver", "adjoint", "dt0")


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
def _fast_chunk(
    model_b, model_s, stim_b, stim_s, y0_b, y0_s, ts, settings, grid, active=None
):
    model = eqx.combine(model_b, model_s)
    stimulus = eqx.combine(stim_b, stim_s)
    y0 = eqx.combine(y0_b, y0_s)
    return fast.solve(model, stimulus, ts, y0, settings, grid, active)


def _fast(parts, model_s, stim_s, y0_s, ts, settings, grid):
    """One chunk by a vectorised method. With concrete inputs, the neurons that
    method "auto" flags are re-integrated adaptively by a second compiled call,
    made (and compiled) only when there are any."""
    concrete_inputs = all(
        concrete(x) is not None
        for x in jax.tree.leaves((parts, model_s, stim_s, y0_s, ts))
        if eqx.is_array(x)
    )
    if settings.method != "auto" or grid is None or not concrete_inputs:
        trace, _ = _fast_chunk(*_args(parts, model_s, stim_s, y0_s), ts, settings, grid)
        return trace
    settings = dataclasses.replace(settings, fallback_in_graph=False)
    trace, flagged = _fast_chunk(
        *_args(parts, model_s, stim_s, y0_s), ts, settings, grid
    )
    if not bool(np.any(np.asarray(flagged))):
        return trace
    again, _ = _fast_chunk(
        *_args(parts, model_s, stim_s, y0_s), ts, settings, None, flagged
    )
    return _merge(trace, again, flagged)


def _merge(trace: Trace, again: Trace, flagged) -> Trace:
    """`trace` with the flagged members taken from `again` (same fields)."""

    def pick(a, b):
        if a is None:
            return None
        return jnp.where(flagged.reshape((-1,) + (1,) * (a.ndim - 1)), b, a)

    fields = dict(
        V=pick(trace.V, again.V),
        gates={k: pick(v, again.gates[k]) for k, v in trace.gates.items()},
        currents={k: pick(v, again.currents[k]) for k, v in trace.currents.items()},
        status=pick(trace.status, again.status),
        num_steps=pick(trace.num_steps, again.num_steps),
        spikes=pick(trace.spikes, again.spikes),
        spike_count=pick(trace.spike_count, again.spike_count),
        dVdt=pick(trace.dVdt, again.dVdt),
    )
    return Trace(t=trace.t, method=trace.method, **fields)


def _args(parts, model_s, stim_s, y0_s):
    return parts[0], model_s, parts[1], stim_s, parts[2], y0_s


@eqx.filter_jit
def _simulate_chunk(model_b, model_s, stim_b, stim_s, y0_b, y0_s, ts, options):
    def one(mb, sb, yb):
        model = eqx.combine(mb, model_s)
        stimulus = eqx.combine(sb, stim_s)
        y0 = eqx.combine(yb, y0_s)
        return simulate(model, stimulus, ts, y0=y0, throw=False, **dict(options))

    return jax.vmap(one)(model_b, stim_b, y0_b)


@dataclasses.dataclass(frozen=True)
class BatchSettings:
    """How :func:`simulate_batch` integrates and splits the batch (each field may
    also be passed to it as a keyword; :mod:`hh_jax.settings`).

    - `method`: ``"auto"``, ``"tsit5"``, ``"rk4"``, ``"adaptive"`` or
      ``"diffrax"`` (see :func:`simulate_batch`; the one used is recorded in
      ``trace.method``).
    - `dt`: fixed integration step, ms (None: 0.05 for ``"tsit5"``, 0.025 for
      ``"rk4"``, for ``"auto"`` 0.05 in float64 and 0.075 in float32; not used
      by the adaptive methods).
    - `rtol`, `atol`: None: method ``"auto"``; per-neuron adaptive lanes at 1e-8
      (``"adaptive"``, and the neurons ``"auto"`` re-integrates); passing either
      selects ``"adaptive"``.
    - `max_steps`: for the adaptive methods, the most steps per neuron, reported
      as MAX_STEPS_REACHED in ``status``.
    - `chunk_size`: neurons per compiled call (bounds memory); None runs all at
      once; ``"auto"``: on a CPU about 1024 (float64) or 4096 (float32) neurons
      per call, the fastest measured (:data:`hh_jax.batching.CPU_LANES`), in a
      number of calls that keeps every core busy, on a
      GPU all at once, and all at once under autodiff (``jax.grad``,
      ``jax.jvp``: chunks would all be live in one program anyway). The last
      chunk is padded so every chunk reuses one compilation.
    """

    method: str = "auto"
    dt: float | None = None
    rtol: float | None = None
    atol: float | None = None
    max_steps: int = tolerances.BATCH_ADAPTIVE.max_steps
    chunk_size: int | str | None = "auto"


def simulate_batch(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"],
    *,
    y0: InitialState | None = "steady",
    stimulus_batched: bool = False,
    gates: bool = True,
    currents: bool = False,
    max_spikes: int = 0,
    threshold: float = THRESHOLD,
    progress: bool | None = None,
    settings: BatchSettings | None = None,
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
    - `y0`: initial state, as for :func:`hh_jax.simulate` (``"steady"``, the
      default, ``"rest"``: each neuron's own resting state, a State or an array),
      shared or batched (``State`` with ``V`` of shape (B,), or an array (B, n)).
    - `progress`: show a progress bar (default: when there is more than one chunk).
    - `settings`: a :class:`BatchSettings`: `method`, `dt`, `rtol`, `atol`,
      `max_steps`, `chunk_size`; each may also be passed as a keyword
      (``simulate_batch(model, stimulus, ts, method="rk4", dt=0.01)``).
    - `method` (a field of `settings`): how to integrate (the chosen one is
      recorded in ``trace.method``):

      - ``"auto"`` (default): fixed steps of the Tsitouras 5(4) pair on a shared
        grid (every stimulus discontinuity a grid point), vectorised over the
        batch; any neuron whose embedded error estimate shows the step was too
        long for it is re-integrated with ``"adaptive"``. Chosen by measurement
        (docs/performance.md): on the benchmark W(1000), spike times within
        5.2e-4 ms of a 1e-11 reference with exact counts, at several times the
        throughput of ``jax.vmap(simulate)``. Passing `rtol`/`atol` selects
        ``"adaptive"``; passing a Diffrax `solver`, `adjoint` or `dt0` selects
        ``"diffrax"``.
      - ``"tsit5"``, ``"rk4"``: fixed steps of at most `dt` ms (defaults 0.05 and
        0.025) for every neuron, no error check.
      - ``"adaptive"``: every neuron its own step size and error control
        (Tsit5, rtol = atol = 1e-8 by default) in one vectorised loop; stimulus
        edges may be traced.
      - ``"diffrax"``: ``jax.vmap`` of :func:`hh_jax.simulate` (the general path:
        any Diffrax solver, `options` passed on).
    - `gates`, `currents`: also return the gates; the channel currents, ``I_ext``
      and (vectorised methods) dV/dt (``trace.dVdt``, mV/ms) at the save times.
    - `max_spikes`, `threshold`: vectorised methods: record each neuron's first
      `max_spikes` upward crossings of `threshold` (mV, default -20), located
      inside the steps (``trace.spikes``, ``trace.spike_count``).
    - `options`: fields of `settings`, and keywords passed to
      :func:`hh_jax.simulate` with ``method="diffrax"``.

    Members never raise: read ``trace.status`` / ``trace.ok``. Derivatives:
    ``jax.grad``, ``jax.jacfwd`` and ``jax.jvp`` work through every method
    (exact derivatives of the computed solution, see :mod:`hh_jax.solvers`).
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    if "throw" in options:
        raise TypeError("simulate_batch never throws per member; read `status`.")
    fields = [f.name for f in dataclasses.fields(BatchSettings)]
    settings = resolve_settings(
        BatchSettings,
        settings,
        {k: options.pop(k) for k in fields if k in options},
        entry="simulate_batch",
    )
    method, rtol, atol = settings.method, settings.rtol, settings.atol
    max_steps, chunk_size = settings.max_steps, settings.chunk_size
    if method not in fast.METHODS + ("diffrax",):
        raise ValueError(
            f"`method` must be one of {fast.METHODS + ('diffrax',)}; got {method!r}."
        )
    if method == "auto" and any(k in options for k in fast_incompatible(options)):
        method = "diffrax"
    if method == "auto" and (rtol is not None or atol is not None):
        method = "adaptive"
    if method != "diffrax" and options:
        raise TypeError(
            f"options {sorted(options)} are no fields of BatchSettings "
            f"({', '.join(fields)}) and apply only to method='diffrax' "
            f"(got method={method!r})."
        )
    if method == "diffrax":
        for name, value in (("rtol", rtol), ("atol", atol)):
            if value is not None:
                options[name] = value
        options.update(max_steps=max_steps, gates=gates, currents=currents)
    stimulus = as_stimulus(stimulus)
    # Batched: each neuron's own rest for "rest" (NaN, hence INVALID_INPUT, where
    # it has none); an array (B, n) is a state per neuron.
    y0 = resolve_y0(model, y0, throw=False)

    model_b, model_s = _split(model, False)
    # A shared stimulus is shared whole: its own arrays (a piecewise-constant
    # stimulus's times and values) are not a batch axis.
    stim_b, stim_s = (
        _split(stimulus, True)
        if stimulus_batched
        else eqx.partition(stimulus, lambda x: False)
    )
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
    # The state's precision sets the default chunk (float32 lanes are half the bytes).
    dtype = jnp.result_type(*jax.tree.leaves(y0), float)
    if (
        method != "diffrax"
        and isinstance(chunk_size, str)
        and chunk_size == "auto"
        and differentiated([model_b, model_s, stim_b, stim_s, y0_b, y0_s])
    ):
        # Under autodiff the chunks would be traced one after the other into one
        # program (map_chunks), so chunking saves no memory (every chunk's
        # sensitivities are live at once) and costs compilation: one call of the
        # whole batch instead (W(1e4) gradient, float64, 2-core CPU: first call
        # 37.6 s -> 13.2 s, then 4.2 s -> 3.5 s). Its memory stays bounded: beyond
        # the solver's SENSITIVITY_BYTES it switches to the checkpointed adjoint.
        chunk_size = total
    chunk_size = check_chunk_size(chunk_size, total, dtype)
    options = tuple(sorted(options.items()))
    if method != "diffrax":
        ts_host = concrete(ts)  # before any jnp op (which traces under jit)
        ts = jnp.asarray(ts)
        if not jnp.issubdtype(ts.dtype, jnp.floating):
            ts = ts.astype(jnp.result_type(float))
        _check_times(ts)
        kernel = _settings(
            method,
            settings,
            gates,
            currents,
            max_spikes,
            threshold,
            stimulus_batched,
            dtype,
        )
        grid = fast.host_grid(
            kernel, ts if ts_host is None else ts_host, stimulus, chunk_size
        )
    ts = jnp.asarray(ts)

    def one_chunk(parts):
        if method == "diffrax":
            return _simulate_chunk(
                parts[0], model_s, parts[1], stim_s, parts[2], y0_s, ts, options
            )
        trace = _fast(parts, model_s, stim_s, y0_s, ts, kernel, grid)
        # The vectorised methods share one time axis (T,), `ts` itself: it is set
        # back below, so that only the per-neuron fields are unpadded and joined.
        return eqx.tree_at(lambda c: c.t, trace, jnp.zeros(chunk_size, ts.dtype))

    out = map_chunks(
        one_chunk,
        [model_b, stim_b, y0_b],
        total=total,
        chunk_size=chunk_size,
        progress=progress,
        desc="simulating",
        unit="neuron",
    )
    return out if method == "diffrax" else eqx.tree_at(lambda c: c.t, out, ts)


def fast_incompatible(options) -> list[str]:
    """The Diffrax-only options present (they select method="diffrax")."""
    return [k for k in options if k in DIFFRAX_OPTIONS]


def _check_times(ts) -> None:
    from ._checks import check_increasing

    check_increasing("ts", ts, "ms")
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(
            f"`ts` must be a 1-D array of at least two save times in ms; got shape "
            f"{ts.shape}."
        )


def _settings(
    method, batch: BatchSettings, gates, currents, max_spikes, threshold, batched, dtype
) -> "fast.Settings":
    """The vectorised solve's static settings for `method` (as resolved from
    `batch.method`), the state's `dtype` choosing method "auto"'s defaults."""
    dt, rtol, atol, max_steps = batch.dt, batch.rtol, batch.atol, batch.max_steps
    auto_dt, bound = fast.auto_defaults(dtype)
    if method in fast.FIXED or method == "auto":
        if dt is None:
            dt = auto_dt if method == "auto" else fast.DEFAULT_DT[method]
        if not (isinstance(dt, int | float) and dt > 0):
            raise ValueError(f"`dt` must be a positive number of ms; got {dt!r}.")
        # The bound is measured at the default step; another step scales the
        # local error estimate as its fifth power.
        bound = bound * (float(dt) / auto_dt) ** 5
    elif dt is not None:
        raise ValueError("`dt` applies to the fixed-step methods ('tsit5', 'rk4').")
    rtol = tolerances.BATCH_ADAPTIVE.rtol if rtol is None else rtol
    atol = tolerances.BATCH_ADAPTIVE.atol if atol is None else atol
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"`rtol` and `atol` must be > 0; got {rtol}, {atol}.")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive int; got {max_steps!r}.")
    if not isinstance(max_spikes, int) or max_spikes < 0:
        raise ValueError(f"`max_spikes` must be an int >= 0; got {max_spikes!r}.")
    return fast.Settings(
        method=method,
        dt=None if dt is None else float(dt),
        rtol=float(rtol),
        atol=float(atol),
        max_steps=max_steps,
        gates=bool(gates),
        currents=bool(currents),
        max_spikes=max_spikes,
        threshold=float(threshold),
        stimulus_batched=bool(batched),
        error_bound=float(bound),
    )
