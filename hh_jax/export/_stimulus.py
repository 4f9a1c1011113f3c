"""An hh_jax stimulus as the breakpoints of a piecewise-constant current, for
``Vector.play`` into a NEURON ``IClamp``."""

import jax
import jax.numpy as jnp
import numpy as np

from ..stimulus import (
    AbstractStimulus,
    Constant,
    PiecewiseConstant,
    PulseTrain,
    Step,
    StimulusSum,
    as_stimulus,
)

_PIECEWISE_CONSTANT = (Constant, Step, PulseTrain, PiecewiseConstant)


def _terms(stimulus: AbstractStimulus):
    if isinstance(stimulus, StimulusSum):
        for term in stimulus.terms:
            yield from _terms(term)
    else:
        yield stimulus


def piecewise_constant(
    stimulus: AbstractStimulus | float, t_stop: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(times, values)``: the current is ``values[k]`` (uA/cm^2) from
    ``times[k]`` (ms) until the next time, ``times[0] = 0``, up to `t_stop`.

    Exact for :class:`~hh_jax.Constant`, :class:`~hh_jax.Step`,
    :class:`~hh_jax.PulseTrain`, :class:`~hh_jax.PiecewiseConstant` and their
    sums; other stimuli raise ``NotImplementedError``."""
    stimulus = as_stimulus(stimulus)
    for term in _terms(stimulus):
        if not isinstance(term, _PIECEWISE_CONSTANT):
            raise NotImplementedError(
                f"{type(term).__name__} is not piecewise constant; the NEURON export "
                "replays Constant, Step, PulseTrain and PiecewiseConstant stimuli "
                "(and sums of them). Sample other waveforms into a PiecewiseConstant."
            )
        allowed = 1 if isinstance(term, PiecewiseConstant) else 0
        if any(np.ndim(x) > allowed for x in jax.tree.leaves(term)):
            raise ValueError("export needs one stimulus, not a batch of them.")
    jumps = np.asarray(stimulus.jump_times(), dtype=float).ravel()
    jumps = jumps[np.isfinite(jumps) & (jumps > 0.0) & (jumps < t_stop)]
    times = np.unique(np.concatenate([[0.0], jumps]))
    values = np.asarray(jax.vmap(stimulus)(jnp.asarray(times)), dtype=float)
    return times, values
