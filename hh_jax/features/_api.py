"""Argument handling shared by the public eFEL-named feature functions: trace
checks (t in ms, V in mV), sizing of per-spike outputs, settings."""

from jaxtyping import Array

from .._checks import concrete
from ._common import THRESHOLD, Options, as_trace, resolve_max_spikes
from ._engine import REGISTRY, evaluate, spike_counts


def run_all(
    t,
    V,
    *,
    stim_start=0.0,
    stim_end=float("inf"),
    stim_amplitude=None,
    max_spikes: int | None = None,
    scalar: bool = False,
    **settings,
) -> dict[str, Array]:
    """Every eFEL-named feature of the traces `V` (``(..., T)``, mV) sampled at `t`
    (ms), with `settings` as in :class:`Options`.

    With `scalar` (only scalar features wanted) and no `max_spikes`, traced inputs
    use ``max_spikes=1``; concrete ones size it as usual, so that eager calls share
    the program compiled for per-spike features.
    """
    t, V = as_trace(t, V)
    threshold = settings.get("threshold", THRESHOLD)
    if scalar and max_spikes is None and concrete(V) is None:
        max_spikes = 1
    max_spikes = resolve_max_spikes(max_spikes, lambda: spike_counts(t, V, threshold))
    options = Options(max_spikes=max_spikes, **settings)
    return evaluate(
        t,
        V,
        stim_start=stim_start,
        stim_end=stim_end,
        stim_amplitude=stim_amplitude,
        options=options,
    )


def run(name: str, t, V, **kwargs) -> Array:
    """One feature (see :func:`run_all`)."""
    scalar = not REGISTRY[name].per_spike
    return run_all(t, V, scalar=scalar, **kwargs)[name]
