"""Global sensitivity of a neuron's outputs over parameter ranges: Sobol indices
and DGSM from batched simulations (see :mod:`._sobol` for the machinery)."""

import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
from jaxtyping import Array, ArrayLike, Float

from .. import tolerances
from ..initial_state import DEFAULT_Y0
from ..model import PointNeuron
from ..stimulus import AbstractStimulus
from ..trace import Trace
from ._outputs import SHARPNESS, THRESHOLD
from ._problem import InitialState, Problem, make_problem
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
    gradients: bool = True,
    chunk_size: int = 256,
    seed: int = 0,
    progress: bool | None = None,
    y0: InitialState = DEFAULT_Y0["analysis"],
    loss: Callable[[Trace], Array] | None = None,
    window: tuple[float, float] | None = None,
    threshold: float = THRESHOLD,
    sharpness: float = SHARPNESS,
    rtol: float = tolerances.GLOBAL_SENSITIVITY.rtol,
    atol: float = tolerances.GLOBAL_SENSITIVITY.atol,
    max_steps: int = tolerances.GLOBAL_SENSITIVITY.max_steps,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> GlobalSensitivity:
    """Sobol indices (first order, total) and DGSM of scalar `outputs` over
    uniform parameter `ranges`.

    - `ranges`: ``{name: (low, high)}`` in each parameter's unit, model parameters
      or stimulus fields (``"stimulus.amplitude"``); low < high.
    - `outputs`: scalar output names (as for :func:`local_sensitivity`; not the
      trace ``V``).
    - `n`: Sobol' base samples (a power of 2): ``n (P + 2)`` simulations, run
      `chunk_size` at a time in one vmapped, compiled call (progress bar for more
      than one chunk). With `gradients`, each simulation carries forward
      sensitivities too (about P + 1 times the cost) for the DGSM.
    - `rtol`, `atol`, `max_steps`: solver settings (looser than the local
      analysis: global averages need less accuracy per sample).

    A sample whose simulation fails or whose output is not finite (e.g.
    ``AP_amplitude`` without a spike) is flagged (``status``, ``failed``) and left
    out of that output's estimators; the run goes on. SALib computes the Sobol
    indices and their bootstrap confidence intervals.
    """
    start = time.perf_counter()
    names, bounds = check_ranges(ranges)
    problem = make_problem(
        model,
        stimulus,
        ts,
        outputs=outputs,
        wrt=names,
        y0=y0,
        loss=loss,
        window=window,
        threshold=threshold,
        sharpness=sharpness,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        scalar_only=True,
        batched=True,
    )
    X = sobol_samples(bounds, n, seed)
    function = _NeuronOutputs(problem, "forward" if gradients else "reverse")
    Y, status, grads = evaluate_samples(
        function,
        X,
        chunk_size=chunk_size,
        gradients=gradients,
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
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
        start_time=start,
    )
