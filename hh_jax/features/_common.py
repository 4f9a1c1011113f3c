"""Shared pieces of :mod:`hh_jax.features`: eFEL's default settings, input checks,
and the batching of per-trace (1-D) computations over leading axes.

Units: t in ms, V in mV, thresholds in mV, derivative thresholds in mV/ms.
"""

import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Real

from .._checks import check_increasing, concrete

# eFEL's defaults (efel.settings.Settings), under their eFEL names in comments.
THRESHOLD = -20.0  # "Threshold", mV
DERIVATIVE_THRESHOLD = 10.0  # "DerivativeThreshold", mV/ms
DERIVATIVE_WINDOW = 3  # "DerivativeWindow", samples
VOLTAGE_BASE_START_PERC = 0.9  # "voltage_base_start_perc"
VOLTAGE_BASE_END_PERC = 1.0  # "voltage_base_end_perc"
PRECISION_THRESHOLD = 1e-10  # "precision_threshold", ms
IGNORE_FIRST_ISI = True  # "ignore_first_ISI"
INTERP_STEP = 0.1  # "interp_step", ms

# eFEL's `stimulus_current` is in nA, so its input resistances are in MOhm.
# Factors that turn (mV / current) into the documented resistance unit.
CURRENT_UNITS = {
    "pA": 1000.0,  # mV / pA = GOhm -> MOhm
    "nA": 1.0,  # mV / nA = MOhm (eFEL's convention)
    "uA/cm^2": 1.0,  # mV / (uA/cm^2) = kOhm cm^2
}


class Options(NamedTuple):
    """Feature settings. Static ones (ints, strings, bools) select the compiled
    program; the floats are traced, so changing them does not recompile."""

    max_spikes: int
    derivative_window: int = DERIVATIVE_WINDOW
    ignore_first_ISI: bool = IGNORE_FIRST_ISI
    voltage_base_mode: str = "mean"
    current_unit: str = "pA"
    threshold: float = THRESHOLD
    derivative_threshold: float = DERIVATIVE_THRESHOLD
    voltage_base_start_perc: float = VOLTAGE_BASE_START_PERC
    voltage_base_end_perc: float = VOLTAGE_BASE_END_PERC
    precision_threshold: float = PRECISION_THRESHOLD

    def static(self) -> tuple:
        return (
            self.max_spikes,
            self.derivative_window,
            self.ignore_first_ISI,
            self.voltage_base_mode,
        )

    def traced(self) -> dict:
        return {
            "threshold": self.threshold,
            "derivative_threshold": self.derivative_threshold,
            "voltage_base_start_perc": self.voltage_base_start_perc,
            "voltage_base_end_perc": self.voltage_base_end_perc,
            "precision_threshold": self.precision_threshold,
            "resistance_factor": CURRENT_UNITS[self.current_unit],
        }


def check_options(options: Options) -> None:
    if not isinstance(options.max_spikes, int) or options.max_spikes < 1:
        raise ValueError(
            f"`max_spikes` must be a positive int; got {options.max_spikes!r}."
        )
    if not isinstance(options.derivative_window, int) or options.derivative_window < 1:
        raise ValueError(
            "`derivative_window` must be a positive int (samples); got "
            f"{options.derivative_window!r}."
        )
    if options.voltage_base_mode not in ("mean", "median"):
        raise ValueError(
            "`voltage_base_mode` must be 'mean' or 'median'; got "
            f"{options.voltage_base_mode!r}."
        )
    if options.current_unit not in CURRENT_UNITS:
        raise ValueError(
            f"`current_unit` must be one of {sorted(CURRENT_UNITS)}; got "
            f"{options.current_unit!r}."
        )


def as_trace(
    t: Real[ArrayLike, "*#batch T"], V: Real[ArrayLike, "*batch T"]
) -> tuple[Array, Array]:
    """`t` and `V` as floating arrays of one dtype, checked where concrete."""
    V = jnp.asarray(V)
    if not jnp.issubdtype(V.dtype, jnp.floating):
        V = V.astype(jnp.result_type(float))
    t = jnp.asarray(t, dtype=V.dtype)
    if V.ndim < 1 or t.ndim < 1:
        raise ValueError("`t` (ms) and `V` (mV) need a last axis of samples.")
    if t.shape[-1] != V.shape[-1]:
        raise ValueError(
            f"`t` ({t.shape[-1]} samples) and `V` ({V.shape[-1]} samples) must have "
            "the same length."
        )
    if V.shape[-1] < 3:
        raise ValueError("`V` needs at least three samples along its last axis.")
    if t.ndim > V.ndim:
        raise ValueError(f"`t` {t.shape} has more axes than `V` {V.shape}.")
    if concrete(t) is not None:
        check_increasing("t", t, "ms")
    return t, V


def next_power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def resolve_max_spikes(max_spikes: int | None, counts: Callable[[], Array]) -> int:
    """`max_spikes` if given, else the largest count in the batch rounded up to a
    power of two (so that eager calls on traces with slightly different counts
    reuse one compiled program)."""
    if max_spikes is not None:
        return max_spikes
    value = concrete(counts())
    if value is None:
        raise ValueError("`max_spikes` must be given when called under jit/vmap.")
    return next_power_of_two(int(np.max(value, initial=0)))


def per_trace(scalars: dict[str, ArrayLike], V: Array) -> dict[str, Array]:
    """Each scalar setting as an array of ``V``'s dtype and batch shape.

    Done before entering ``jit`` so that Python floats, 0-d and per-trace arrays
    all reach the compiled program with the same abstract value (no recompiles).
    """
    batch = V.shape[:-1]
    return {
        k: jnp.broadcast_to(jnp.asarray(v, V.dtype), batch) for k, v in scalars.items()
    }


def batched(
    fn: Callable, t: Array, V: Array, scalars: dict[str, Array]
) -> dict[str, Array]:
    """Apply a per-trace ``fn(t, V, scalars) -> dict`` over the leading axes of `V`.

    `t` is ``(T,)`` (shared) or broadcastable to ``V``; each entry of `scalars`
    broadcasts to the batch shape ``V.shape[:-1]``.
    """
    batch, T = V.shape[:-1], V.shape[-1]
    flat_V = V.reshape(-1, T)
    if t.ndim == 1:
        flat_t, t_axis = t, None
    else:
        flat_t, t_axis = jnp.broadcast_to(t, V.shape).reshape(-1, T), 0
    flat_s = {
        k: jnp.broadcast_to(jnp.asarray(v, V.dtype), batch).reshape(-1)
        for k, v in scalars.items()
    }
    out = jax.vmap(fn, in_axes=(t_axis, 0, 0))(flat_t, flat_V, flat_s)
    return {k: v.reshape(batch + v.shape[1:]) for k, v in out.items()}
