"""``FitSettings``: how :func:`hh_jax.fit.fit` searches, as one value."""

import dataclasses
from numbers import Integral, Real

from .. import tolerances

METHODS = ("lm", "adam", "lbfgs")
INITS = ("regression", "model", "random")


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """The options of :func:`hh_jax.fit.fit` (each may also be passed to it as a
    keyword; :mod:`hh_jax.settings`).

    Starts:

    - `starts`: number of starts K, optimised together in one vmapped
      computation. Start 0 is the regression estimate (`init="regression"`),
      start 1 the model's own values (if inside the bounds), the rest
      quasi-random (Sobol) in the bounds.
    - `init`: ``"regression"``, ``"model"``, ``"random"`` or a dict
      ``{name: value}`` (in each parameter's unit) for start 0.
    - `seed`: of the quasi-random starts and of the reserve that replaces a start
      that fails.

    Optimiser:

    - `method`: ``"lm"`` (Levenberg–Marquardt), ``"adam"`` or ``"lbfgs"``.
    - `steps`: iterations; `learning_rate`: Adam's step, in unconstrained units;
      `clip`: Adam's global-norm gradient clip.
    - `tol`, `patience`: stop when the best loss improved by less than a relative
      `tol` over `patience` steps.
    - `checkpoint_every`: steps between checkpoints (with ``fit(checkpoint=)``).

    Solver (each sweep's simulation during the fit):

    - `rtol`, `atol`: tolerances of the adaptive steps (atol in mV for V).
    - `max_steps`: step budget per sweep; None: 20 000 + 40 per ms of the longest
      sweep (:func:`hh_jax.fit.max_steps_for`).
    """

    starts: int = 8
    init: str | dict = "regression"
    seed: int = 0
    method: str = "lm"
    steps: int = 60
    learning_rate: float = 0.05
    clip: float = 1.0
    tol: float = 1e-6
    patience: int = 10
    checkpoint_every: int = 10
    rtol: float = tolerances.FIT.rtol
    atol: float = tolerances.FIT.atol
    max_steps: int | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(
                f"unknown `method` {self.method!r}; choose from {METHODS}."
            )
        for name in ("starts", "steps", "patience", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise ValueError(f"`{name}` must be an int >= 1; got {value!r}.")
        if not isinstance(self.init, dict) and self.init not in INITS:
            raise ValueError(
                f"`init` must be one of {INITS} or a dict; got {self.init!r}."
            )
        if self.max_steps is not None and (
            isinstance(self.max_steps, bool)
            or not isinstance(self.max_steps, Integral)
            or self.max_steps < 1
        ):
            raise ValueError(
                f"`max_steps` must be a positive int; got {self.max_steps!r}."
            )
        for name in ("learning_rate", "clip", "rtol", "atol"):
            value = getattr(self, name)
            if not (isinstance(value, Real) and value > 0):
                raise ValueError(f"`{name}` must be a number > 0; got {value!r}.")
        if not (isinstance(self.tol, Real) and self.tol >= 0):
            raise ValueError(f"`tol` must be a number >= 0; got {self.tol!r}.")
