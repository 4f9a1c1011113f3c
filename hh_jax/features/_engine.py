"""The evaluator behind every eFEL-named feature.

Each feature is a formula on a per-trace :class:`Context` (1-D ``t`` in ms and
``V`` in mV, the stimulus window, the settings, and lazily computed landmarks),
registered under its eFEL name. :func:`evaluate` runs *all* registered formulas in
one jitted, vmapped program and returns a dict; the public functions pick their
entry. One compilation per trace shape and static setting serves every feature;
under an outer ``jit`` XLA drops the features that are not used.

Conventions shared by all features: eFEL returns ``None`` where a feature is
undefined; here that is NaN (per-spike arrays: all NaN). Per-spike arrays have a
last axis of length `max_spikes` and hold, in order, what eFEL's list holds, padded
with NaN (index arrays: with -1).
"""

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array

from ._common import Options, batched, check_options, per_trace
from ._detect import Landmarks, landmarks


class Feature(NamedTuple):
    formula: Callable[["Context"], Array]
    per_spike: bool
    unit: str


REGISTRY: dict[str, Feature] = {}


def register(name: str, *, per_spike: bool, unit: str):
    def wrap(formula):
        REGISTRY[name] = Feature(formula, per_spike, unit)
        return formula

    return wrap


class Context:
    """One trace and its settings; landmarks are computed once, on first use."""

    def __init__(self, t, V, scalars: dict, static: tuple):
        self.t, self.V = t, V
        self.T = V.shape[0]
        self.idx = jnp.arange(self.T)
        self.stim_start = scalars["stim_start"]
        self.stim_end = scalars["stim_end"]
        self.stim_amplitude = scalars["stim_amplitude"]
        self.threshold = scalars["threshold"]
        self.derivative_threshold = scalars["derivative_threshold"]
        self.voltage_base_start_perc = scalars["voltage_base_start_perc"]
        self.voltage_base_end_perc = scalars["voltage_base_end_perc"]
        self.precision_threshold = scalars["precision_threshold"]
        self.resistance_factor = scalars["resistance_factor"]
        (
            self.max_spikes,
            self.derivative_window,
            self.ignore_first_ISI,
            self.voltage_base_mode,
        ) = static
        self._cache: dict[str, Array] = {}

    @functools.cached_property
    def lm(self) -> Landmarks:
        return landmarks(
            self.t,
            self.V,
            threshold=self.threshold,
            derivative_threshold=self.derivative_threshold,
            stim_start=self.stim_start,
            stim_end=self.stim_end,
            max_spikes=self.max_spikes,
            derivative_window=self.derivative_window,
        )

    def feature(self, name: str) -> Array:
        """A registered feature of this trace (computed once)."""
        if name not in self._cache:
            self._cache[name] = REGISTRY[name].formula(self)
        return self._cache[name]

    def take_V(self, index: Array) -> Array:
        """``V[index]`` with padded indices clipped (mask the result)."""
        return self.V[jnp.clip(index, 0, self.T - 1)]

    def take_t(self, index: Array) -> Array:
        return self.t[jnp.clip(index, 0, self.T - 1)]

    def first_index(self, mask: Array) -> Array:
        """First index where `mask` holds (``T`` if none)."""
        return jnp.where(jnp.any(mask), jnp.argmax(mask), self.T)


def _table(t, V, scalars, static) -> dict[str, Array]:
    ctx = Context(t, V, scalars, static)
    return {name: ctx.feature(name) for name in REGISTRY}


@functools.partial(jax.jit, static_argnames=("static",))
def _evaluate(t, V, scalars, static):
    return batched(functools.partial(_table, static=static), t, V, scalars)


def evaluate(
    t: Array,
    V: Array,
    *,
    stim_start,
    stim_end,
    stim_amplitude,
    options: Options,
) -> dict[str, Array]:
    """All registered features of ``V`` (``(..., T)``), as a dict by eFEL name."""
    check_options(options)
    amplitude = jnp.nan if stim_amplitude is None else stim_amplitude
    scalars = {
        "stim_start": stim_start,
        "stim_end": stim_end,
        "stim_amplitude": amplitude,
        **options.traced(),
    }
    return _evaluate(t, V, per_trace(scalars, V), options.static())


def spike_counts(t: Array, V: Array, threshold) -> Array:
    """eFEL's spike count of each trace (to size the per-spike outputs)."""
    return _spike_counts(t, V, per_trace({"threshold": threshold}, V))


@jax.jit
def _spike_counts(t, V, scalars):
    def one(tt, vv, s):
        lm = landmarks(
            tt,
            vv,
            threshold=s["threshold"],
            derivative_threshold=0.0,
            stim_start=tt[0],
            stim_end=tt[-1],
            max_spikes=1,
            derivative_window=1,
        )
        return {"count": lm.count}

    return batched(one, t, V, scalars)["count"]
