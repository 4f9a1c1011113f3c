"""The settings objects of the sensitivity analyses (:mod:`hh_jax.settings`):
what is measured (`loss`, `window`, `sharpness`) and how accurately it is
simulated (`rtol`, `atol`, `max_steps`), plus each analysis's own knobs."""

import dataclasses
from collections.abc import Callable

from jaxtyping import Array

from .. import tolerances
from ..trace import Trace
from ._outputs import SHARPNESS


@dataclasses.dataclass(frozen=True)
class LocalSettings:
    """The options of :func:`hh_jax.sensitivity.local_sensitivity` (each may also
    be passed to it as a keyword).

    - `mode`: ``"auto"`` picks forward mode (``jax.jacfwd``) when there are no
      more parameters than output values, else reverse mode (``jax.jacrev``,
      adjoint solved backwards by ``diffrax.BacksolveAdjoint``); or force
      ``"forward"``/``"reverse"``. The result says which was used.
    - `loss`: your scalar output ``loss(trace)`` (output name ``"loss"``).
    - `window`: (start, end) ms for spike counts, latency and rate (None: the
      stimulus's span); `sharpness` (1/mV) of the soft count.
    - `rtol`, `atol`, `max_steps`: solver settings; tight by default (1e-8) so
      that derivatives of the adaptive solution are accurate.
    """

    mode: str = "auto"
    loss: Callable[[Trace], Array] | None = None
    window: tuple[float, float] | None = None
    sharpness: float = SHARPNESS
    rtol: float = tolerances.LOCAL_SENSITIVITY.rtol
    atol: float = tolerances.LOCAL_SENSITIVITY.atol
    max_steps: int = tolerances.LOCAL_SENSITIVITY.max_steps


@dataclasses.dataclass(frozen=True)
class GlobalSettings:
    """The options of :func:`hh_jax.sensitivity.global_sensitivity` (each may
    also be passed to it as a keyword).

    - `gradients`: carry forward sensitivities in every simulation (about P + 1
      times the cost) for the DGSM.
    - `chunk_size`: simulations per vmapped, compiled call.
    - `seed`: of the Sobol' samples' scrambling and of the bootstrap.
    - `loss`, `window`, `sharpness`: as for :class:`LocalSettings`.
    - `rtol`, `atol`, `max_steps`: solver settings (looser than the local
      analysis: global averages need less accuracy per sample).
    - `num_resamples`, `conf_level`: SALib's bootstrap of the confidence
      intervals.
    """

    gradients: bool = True
    chunk_size: int = 256
    seed: int = 0
    loss: Callable[[Trace], Array] | None = None
    window: tuple[float, float] | None = None
    sharpness: float = SHARPNESS
    rtol: float = tolerances.GLOBAL_SENSITIVITY.rtol
    atol: float = tolerances.GLOBAL_SENSITIVITY.atol
    max_steps: int = tolerances.GLOBAL_SENSITIVITY.max_steps
    num_resamples: int = 100
    conf_level: float = 0.95


@dataclasses.dataclass(frozen=True)
class ThresholdSettings:
    """The options of :func:`hh_jax.sensitivity.rheobase_sensitivity` and
    :func:`hh_jax.sensitivity.onset_sensitivity` (each may also be passed to
    them as a keyword).

    - `dt_save`: ms between the save times on which the peak of V is taken.
    - `seed_tol`: uA/cm^2, the grid refinement that seeds the root; `level_tol`:
      mV, the bisection stops when the peak is this close to 0 mV;
      `max_iterations` of the bisection.
    - `rtol`, `atol`: solver tolerances, tight (the response is extremely steep
      in the current near threshold); `max_steps`: None: 100 000 for the
      rheobase, 200 000 for the onset (long constant-current runs).
    """

    dt_save: float = 0.025
    seed_tol: float = 1e-3
    level_tol: float = 1e-3
    max_iterations: int = 256
    rtol: float = tolerances.THRESHOLD_SENSITIVITY.rtol
    atol: float = tolerances.THRESHOLD_SENSITIVITY.atol
    max_steps: int | None = None
