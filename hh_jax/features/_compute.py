"""One entry point for many features at once: :func:`compute`.

Units: t in ms, V in mV, stimulus amplitude in pA (or as `current_unit` says);
each feature's unit is listed by :func:`feature_units`.
"""

from collections.abc import Sequence

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Real

from ..spikes._soft import SHARPNESS, soft_count_and_times
from ._api import run_all
from ._common import THRESHOLD, as_trace, resolve_max_spikes
from ._engine import REGISTRY, spike_counts
from ._resample import resample

_SOFT_UNITS = {
    "soft_spike_count": "1",
    "soft_spike_times": "ms",
    "soft_time_to_first_spike": "ms",
    "soft_isi_values": "ms",
}

# eFEL's setting names -> ours.
_EFEL_SETTINGS = {
    "Threshold": "threshold",
    "DerivativeThreshold": "derivative_threshold",
    "DerivativeWindow": "derivative_window",
}

_EFEL_OPTIONS = {
    "max_spikes",
    "threshold",
    "derivative_threshold",
    "derivative_window",
    "ignore_first_ISI",
    "voltage_base_mode",
    "voltage_base_start_perc",
    "voltage_base_end_perc",
    "precision_threshold",
    "current_unit",
}


def efel_names() -> tuple[str, ...]:
    """The eFEL feature names implemented here (exact definitions), sorted."""
    return tuple(sorted(REGISTRY))


def surrogate_names() -> tuple[str, ...]:
    """The differentiable surrogate features :func:`compute` also accepts."""
    return tuple(sorted(_SOFT_UNITS))


def feature_units() -> dict[str, str]:
    """Unit of each feature (resistances: MOhm for pA or nA input, kOhm cm^2 for
    uA/cm^2)."""
    units = {name: feature.unit for name, feature in REGISTRY.items()}
    return {**units, **_SOFT_UNITS}


def compute(
    names: str | Sequence[str],
    t: Real[ArrayLike, "*#batch T"],
    V: Real[ArrayLike, "*batch T"],
    stim_start: Real[ArrayLike, "*#batch"],
    stim_end: Real[ArrayLike, "*#batch"],
    stim_amplitude: Real[ArrayLike, "*#batch"] | None = None,
    **opts,
) -> dict[str, Array]:
    """Features `names` of traces `V` (mV, ``(..., T)``) sampled at `t` (ms).

    **Arguments:**

    - `names`: eFEL names from :func:`efel_names` and/or surrogates from
      :func:`surrogate_names`.
    - `stim_start`, `stim_end`: the step stimulus window in ms (per trace or
      shared).
    - `stim_amplitude`: its amplitude, for the input resistances (pA by default;
      see `current_unit`). ``None``: those features are NaN.
    - `opts`: settings, with eFEL's defaults: `threshold` (mV, -20),
      `derivative_threshold` (mV/ms, 10), `derivative_window` (samples, 3),
      `ignore_first_ISI` (True), `voltage_base_mode` ("mean"),
      `voltage_base_start_perc` (0.9), `voltage_base_end_perc` (1.0),
      `precision_threshold` (ms, 1e-10); eFEL's spellings ``Threshold``,
      ``DerivativeThreshold``, ``DerivativeWindow`` work too. Also
      `current_unit` ("pA", "nA" or "uA/cm^2"), `max_spikes` (length of
      per-spike outputs; required under ``jit``), `sharpness` (1/mV, for the
      surrogates) and `interp_step` (ms): if given, ``V`` is first resampled as
      eFEL does (:func:`resample`; eFEL's own default is 0.1 ms), which needs a
      concrete, shared `t`. Without it the samples are used as they are, which
      equals eFEL with ``interp_step`` set to the sampling interval.

    **Returns:** a dict from name to array: ``(...,)`` for scalar features,
    ``(..., max_spikes)`` NaN-padded for per-spike ones (index features: -1
    padded). NaN where eFEL returns ``None``. Surrogates are computed over the
    window ``[stim_start, stim_end]``.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in REGISTRY and n not in _SOFT_UNITS]
    if unknown:
        raise ValueError(
            f"unknown feature(s) {unknown}; see efel_names() and surrogate_names()."
        )
    opts = {_EFEL_SETTINGS.get(k, k): v for k, v in opts.items()}
    interp_step = opts.pop("interp_step", None)
    sharpness = opts.pop("sharpness", SHARPNESS)
    bad = sorted(set(opts) - _EFEL_OPTIONS)
    if bad:
        raise ValueError(f"unknown option(s) {bad}.")
    if interp_step is not None:
        grid, V = resample(t, V, interp_step)
        t = jnp.asarray(grid, V.dtype)

    out: dict[str, Array] = {}
    if any(n in REGISTRY for n in names):
        table = run_all(
            t,
            V,
            stim_start=stim_start,
            stim_end=stim_end,
            stim_amplitude=stim_amplitude,
            **opts,
        )
        out.update({n: table[n] for n in names if n in REGISTRY})
    soft = [n for n in names if n in _SOFT_UNITS]
    if soft:
        t, V = as_trace(t, V)
        threshold = opts.get("threshold", THRESHOLD)
        max_spikes = resolve_max_spikes(
            opts.get("max_spikes"), lambda: spike_counts(t, V, threshold)
        )
        # One program for all surrogates: max_spikes + 1 times give the ISIs.
        result = soft_count_and_times(
            t,
            V,
            threshold=threshold,
            sharpness=sharpness,
            start=stim_start,
            end=stim_end,
            K=max_spikes + 1,
        )
        times = result["times"]
        onset = jnp.broadcast_to(jnp.asarray(stim_start, V.dtype), times.shape[:-1])
        derived = {
            "soft_spike_count": result["count"],
            "soft_spike_times": times[..., :max_spikes],
            "soft_isi_values": jnp.diff(times, axis=-1),
            "soft_time_to_first_spike": times[..., 0] - onset,
        }
        out.update({n: derived[n] for n in soft})
    return out
