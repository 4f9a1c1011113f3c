"""Global sensitivity of a neuron's outputs over parameter ranges: Sobol indices
and DGSM from batched simulations (see :mod:`._sobol` for the machinery)."""

import time
from collections.abc import Mapping, Sequence

import equinox as eqx
from jaxtyping import ArrayLike, Float

from ..initial_state import DEFAULT_Y0
from ..model import PointNeuron
from ..settings import resolve_settings
from ..stimulus import AbstractStimulus
from ._outputs import THRESHOLD
from ._problem import InitialState, Problem, make_problem
from ._settings import GlobalSettings
from ._sobol import (
    GlobalSensitivity,
    analyse,
    check_ranges,
    evaluate_samples,
    sobol_samples,
)


class _NeuronOutputs(eqx.Module):
    """``theta -> (outputs, status)`` of one simulation, for vmapping."""

    problem: Problem
    adjoint: str = eqx.field(static=True)

    def __call__(self, theta):
        return self.problem.evaluate(theta, self.adjoint)


def global_sensitivity(
    model: PointNeuron,
    stimulus: AbstractStimulus | float | None,
    ts: Float[ArrayLike, " T"] | Sequence[float] | None,
    ranges: Mapping[str, Sequence],
    *,
    outputs: Sequence[str] = ("spike_count", "latency"),
    n: int = 256,
    y0: InitialState = DEFAULT_Y0["analysis"],
    threshold: float = THRESHOLD,
    settings: GlobalSettings | None = None,
    progress: bool | None = None,
    **options,
) -> GlobalSensitivity:
    """Sobol indices (first order, total) and DGSM of scalar `outputs` over
    uniform parameter `ranges`.

    - `ranges`: ``{name: (low, high)}`` in each parameter's unit, model parameters
      or stimulus fields (``"stimulus.amplitude"``); low < high.
    - `outputs`: scalar output names (as for :func:`local_sensitivity`; not the
      trace ``V``).
    - `n`: Sobol' base samples (a power of 2): ``n (P + 2)`` simulations, run
      `chunk_size` at a time in one vmapped, compiled call (progress bar for more
      than one chunk).
    - `y0`: initial state (``"rest"``: each sample's own resting state);
      `threshold`: spike detection threshold, mV.
    - `settings`: a :class:`GlobalSettings` (`gradients`, `chunk_size`, `seed`,
      the solver's `rtol`, `atol`, `max_steps`, ...); each of its fields may
      also be passed as a keyword.

    A sample whose simulation fails or whose output is not finite (e.g.
    ``AP_amplitude`` without a spike) is flagged (``status``, ``failed``) and left
    out of that output's estimators; the run goes on. SALib computes the Sobol
    indices and their bootstrap confidence intervals.
    """
    start = time.perf_counter()
    opts = resolve_settings(
        GlobalSettings, settings, options, entry="global_sensitivity"
    )
    names, bounds = check_ranges(ranges)
    problem = make_problem(
        model,
        stimulus,
        ts,
        outputs=outputs,
        wrt=names,
        y0=y0,
        threshold=threshold,
        settings=opts,
        scalar_only=True,
        batched=True,
    )
    X = sobol_samples(bounds, n, opts.seed)
    function = _NeuronOutputs(problem, "forward" if opts.gradients else "reverse")
    Y, status, grads = evaluate_samples(
        function,
        X,
        chunk_size=opts.chunk_size,
        gradients=opts.gradients,
        progress=progress,
        desc="simulating samples",
    )
    return analyse(
        names,
        bounds,
        X,
        Y,
        status,
        grads,
        n,
        parameter_units=list(problem.selection.units),
        outputs=list(problem.outputs.names),
        output_units=list(problem.outputs.units()),
        num_resamples=opts.num_resamples,
        conf_level=opts.conf_level,
        seed=opts.seed,
        start_time=start,
    )
