"""Derivatives of the classic excitability thresholds by implicit differentiation.

Each threshold current ``I*(theta)`` is the root of a smooth criterion
``G(I, theta) = 0``, found with Optimistix and differentiated with its
implicit-function adjoint: ``dI*/dtheta = -G_theta / G_I`` at the root, with both
partial derivatives from forward sensitivities through the solver. No threshold is
recomputed under a perturbed parameter.

- Rheobase (:func:`rheobase_sensitivity`): ``G`` is the peak of V (over the save
  times) during a step of amplitude I from rest, minus ``PEAK_LEVEL`` (0 mV).
  Its root is exactly the threshold of :func:`hh_jax.excitability.rheobase` with
  ``threshold=PEAK_LEVEL``, which seeds the bracket. A level, not a spike
  threshold: at -20 mV the bisection did not bring the peak
  within `level_tol` of it at float resolution in I (the 30 ms step of the
  tests); at 0 mV it does. HH has no sharp threshold: the peak rises continuously but
  steeply (about 1e10 mV per uA/cm^2 at the root for a 100 ms step), so ``G_I``
  and ``G_theta`` are huge while their ratio is well conditioned.
- Onset of sustained firing (:func:`onset_sensitivity`): ``G`` is the peak of V
  after `sustained_after` ms of a long step, minus 0 mV: the root is where one
  more spike appears past that time, the criterion of
  :func:`hh_jax.excitability.repetitive_firing_onset` (near the saddle-node of
  limit cycles, 6.26 uA/cm^2 for HH).
- Loss of stability of rest (:func:`instability_sensitivity`): ``G`` is the
  largest real part of the eigenvalues at rest under a constant current
  (:func:`hh_jax.excitability.rest_growth_rate`; the Hopf point, 9.78 uA/cm^2).
"""

import dataclasses
import time
import warnings
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from .. import excitability, tolerances
from ..initial_state import DEFAULT_Y0, InitialState, check_y0, is_named, resolve_y0
from ..model import PointNeuron
from ..settings import resolve_settings
from ..simulate import DEFAULT_MAX_STEPS
from ._implicit import (
    RestGrowth,
    StepPeak,
    bisect,
    growth_on_grid,
    newton,
    root_and_derivative,
)
from ._params import select
from ._settings import ThresholdSettings
from ._tables import (
    Column,
    TabularResult,
    derivative_unit,
    write_json,
)

CURRENT_UNIT = "uA/cm^2"
PEAK_LEVEL = 0.0  # mV: the peak-V level of the rheobase and onset criteria


@dataclasses.dataclass
class ThresholdSensitivity(TabularResult):
    """A threshold current and its derivatives with respect to parameters.

    - `name`, `description`: which threshold (``"rheobase"``, ...) and how it is
      defined; `method`: how the root and the derivative were found.
    - `value`: the threshold, uA/cm^2; `converged`: the root finder's verdict.
    - `wrt`, `parameter_units`, `parameter_values` (P,).
    - `derivative` (P,): ``dI*/dtheta`` in uA/cm^2 per parameter unit.
    - `wall_time_s`: seed, root and derivative together.
    """

    table_rule = False

    name: str
    description: str
    method: str
    value: float
    converged: bool
    wrt: list[str]
    parameter_units: list[str]
    parameter_values: np.ndarray
    derivative: np.ndarray
    wall_time_s: float

    @property
    def elasticity(self) -> np.ndarray:
        """``d log I* / d log theta`` (dimensionless), (P,)."""
        return self.derivative * self.parameter_values / self.value

    def rows(self) -> list[dict]:
        return [
            dict(
                threshold=self.name,
                value=self.value,
                value_unit=CURRENT_UNIT,
                parameter=p,
                parameter_value=float(v),
                parameter_unit=u,
                derivative=float(d),
                derivative_unit=derivative_unit(CURRENT_UNIT, u),
                elasticity=float(e),
            )
            for p, v, u, d, e in zip(
                self.wrt,
                self.parameter_values,
                self.parameter_units,
                self.derivative,
                self.elasticity,
            )
        ]

    def columns(self) -> list[Column]:
        return [
            Column("parameter", 10, align="<"),
            Column("derivative", 14, ".6g", header="dI*/dtheta", gap=2),
            Column("derivative_unit", 22, header="unit", align="<"),
            Column("elasticity", 11, ".4g"),
        ]

    def table_title(self) -> list[str]:
        return [f"{self.name} = {self.value:.6f} {CURRENT_UNIT} ({self.description})"]

    def to_json(self, path) -> None:
        write_json(path, dataclasses.asdict(self))


def _result(name, description, method, value, d, ok, selection, theta, start):
    return ThresholdSensitivity(
        name=name,
        description=description,
        method=method,
        value=float(value),
        converged=bool(ok),
        wrt=list(selection.names),
        parameter_units=list(selection.units),
        parameter_values=np.asarray(theta, float),
        derivative=np.asarray(d, float),
        wall_time_s=time.perf_counter() - start,
    )


def _step_threshold(
    model,
    wrt,
    *,
    name,
    description,
    seed,
    start,
    stop,
    t_end,
    after,
    y0,
    level,
    settings: ThresholdSettings,
):
    began = time.perf_counter()
    dt_save, level_tol = settings.dt_save, settings.level_tol
    rtol, atol, max_steps = settings.rtol, settings.atol, settings.max_steps
    selection = select(model, None, wrt)
    check_y0(y0)
    from_rest = is_named(y0, "rest")
    state = resolve_y0(model, y0) if isinstance(y0, str) else y0
    options = dict(rtol=rtol, atol=atol)
    if max_steps != DEFAULT_MAX_STEPS:  # else the seed shares simulate's compilation
        options["max_steps"] = max_steps
    guess, tol = seed(state, options)
    ts = jnp.arange(0.0, t_end + 0.5 * dt_save, dt_save)
    G = StepPeak(
        model=model,
        selection=selection,
        ts=ts,
        y0=None if from_rest else state,
        start=float(start),
        stop=float(stop),
        after=float(after),
        level=float(level),
        from_rest=from_rest,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
    )
    theta = selection.read(model, None)
    # The seed's grid refinement leaves the root within tol / 2 of `guess`.
    lo, hi = guess - tol, guess + tol
    value, d, ok = root_and_derivative(
        bisect,
        theta,
        G,
        jnp.asarray(lo),
        jnp.asarray(hi),
        level_tol,
        settings.max_iterations,
    )
    if not bool(ok):
        if min(abs(float(value) - lo), abs(float(value) - hi)) < 1e-9 * tol:
            raise ValueError(
                f"the {name} criterion does not change sign in [{lo:g}, {hi:g}] "
                f"{CURRENT_UNIT}; the seed and the criterion disagree (tolerances?)."
            )
        warnings.warn(
            f"{name}: bisection stopped after {settings.max_iterations} iterations "
            "before "
            f"the peak came within {level_tol:g} mV of {level:g} mV; the root is "
            "at float resolution, the derivative is still that of the criterion.",
            stacklevel=3,
        )
    method = (
        f"seed {guess:.4f} ({name} by grid refinement, tol {tol:g}); optimistix "
        f"Bisection on the peak-V criterion in [{lo:.5f}, {hi:.5f}] until "
        f"|peak - {level:g} mV| < {level_tol:g} mV; derivative by the implicit "
        "function theorem (optimistix ImplicitAdjoint, forward sensitivities)"
    )
    return _result(name, description, method, value, d, ok, selection, theta, began)


def _seed(finder, model, opts: ThresholdSettings, **criterion):
    """``seed(state, solver_options) -> (current, tol)``: the threshold current by
    the grid refinement of `finder` (an :mod:`hh_jax.excitability` function) on
    the peak-V criterion, which bisection then refines."""

    def seed(state, solver):
        current = finder(
            model,
            tol=opts.seed_tol,
            y0=state,
            dt_save=opts.dt_save,
            threshold=PEAK_LEVEL,
            **criterion,
            **solver,
        )
        return current, opts.seed_tol

    return seed


def _threshold_settings(settings, options, entry, max_steps):
    opts = resolve_settings(ThresholdSettings, settings, options, entry=entry)
    if opts.max_steps is None:
        opts = dataclasses.replace(opts, max_steps=max_steps)
    return opts


def rheobase_sensitivity(
    model: PointNeuron,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    *,
    duration: float = 100.0,
    bracket: tuple[float, float] = (0.0, 20.0),
    y0: InitialState = DEFAULT_Y0["analysis"],
    settings: ThresholdSettings | None = None,
    **options,
) -> ThresholdSensitivity:
    """The rheobase (uA/cm^2) of a `duration` ms step from rest and its derivative
    with respect to each parameter in `wrt`, by implicit differentiation.

    The criterion is that of :func:`hh_jax.excitability.rheobase`: the peak of V
    over save times every `dt_save` ms (until 20 ms after the step) reaching
    0 mV. The root is seeded by that function (to `seed_tol` within `bracket`,
    uA/cm^2), refined by bisection until the peak is within `level_tol` mV of
    0 mV, and differentiated implicitly. `y0`: ``"rest"`` (the model's resting
    state, moving with the parameters), ``"steady"`` (-65 mV) or a state.
    `settings`: a :class:`ThresholdSettings` (`dt_save`, `seed_tol`,
    `level_tol`, the solver's `rtol`, `atol`, `max_steps`, ...; each may also be
    a keyword). Tight solver tolerances are the default: the response is
    extremely steep in I near threshold.
    """
    opts = _threshold_settings(
        settings,
        options,
        "rheobase_sensitivity",
        tolerances.THRESHOLD_SENSITIVITY.max_steps,
    )

    seed = _seed(excitability.rheobase, model, opts, duration=duration, bracket=bracket)
    return _step_threshold(
        model,
        wrt,
        name="rheobase",
        description=f"smallest {duration:g} ms step from rest reaching 0 mV",
        seed=seed,
        start=0.0,
        stop=duration,
        t_end=duration + 20.0,
        after=-np.inf,
        y0=y0,
        level=PEAK_LEVEL,
        settings=opts,
    )


def onset_sensitivity(
    model: PointNeuron,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    *,
    duration: float = 500.0,
    sustained_after: float = 400.0,
    bracket: tuple[float, float] = (2.0, 20.0),
    y0: InitialState = DEFAULT_Y0["analysis"],
    settings: ThresholdSettings | None = None,
    **options,
) -> ThresholdSensitivity:
    """The onset current of sustained repetitive firing (uA/cm^2) and its
    derivatives: the smallest step from rest whose spikes go on past
    `sustained_after` ms of a `duration` ms step, the criterion of
    :func:`hh_jax.excitability.repetitive_firing_onset` (6.26 uA/cm^2 for HH, near
    the saddle-node of limit cycles). Written as the peak of V after
    `sustained_after` reaching 0 mV, found by bisection from that function's
    seed and differentiated implicitly (`y0`, `settings` as for
    :func:`rheobase_sensitivity`; `max_steps` defaults to 200 000 here)."""
    opts = _threshold_settings(
        settings, options, "onset_sensitivity", tolerances.ONSET_SENSITIVITY.max_steps
    )

    seed = _seed(
        excitability.repetitive_firing_onset,
        model,
        opts,
        duration=duration,
        sustained_after=sustained_after,
        bracket=bracket,
    )
    return _step_threshold(
        model,
        wrt,
        name="sustained_firing_onset",
        description=(
            f"smallest {duration:g} ms step from rest with a spike after "
            f"{sustained_after:g} ms"
        ),
        seed=seed,
        start=0.0,
        stop=duration,
        t_end=duration,
        after=sustained_after,
        y0=y0,
        level=PEAK_LEVEL,
        settings=opts,
    )


def instability_sensitivity(
    model: PointNeuron,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    *,
    bracket: tuple[float, float] = (0.0, 50.0),
    grid: int = 101,
    atol: float = 1e-12,
    max_iterations: int = 64,
) -> ThresholdSensitivity:
    """The constant current (uA/cm^2) where rest loses stability (largest real
    part of the eigenvalues at rest crosses zero; a Hopf bifurcation, 9.78
    uA/cm^2 for HH) and its derivatives, by implicit differentiation.

    Seeded by the first sign change of
    :func:`hh_jax.excitability.rest_growth_rate` on a `grid` over `bracket`, then
    solved by Newton's method (optimistix) to `atol` (1/ms). No simulation."""
    began = time.perf_counter()
    selection = select(model, None, wrt)
    theta = selection.read(model, None)
    amps = np.linspace(*bracket, grid)
    growth = np.asarray(growth_on_grid(model, jnp.asarray(amps)))
    k = np.nonzero((growth[:-1] < 0) & (growth[1:] >= 0))[0]
    if not len(k):
        raise ValueError(
            f"rest does not lose stability between {bracket[0]:g} and "
            f"{bracket[1]:g} {CURRENT_UNIT}."
        )
    k = int(k[0])
    guess = amps[k] - growth[k] * (amps[k + 1] - amps[k]) / (growth[k + 1] - growth[k])
    G = RestGrowth(model=model, selection=selection)
    value, d, ok = root_and_derivative(
        newton, theta, G, jnp.asarray(guess), atol, max_iterations
    )
    method = (
        f"seed {guess:.4f} (sign change on a {grid}-point grid); optimistix Newton "
        f"on the largest real eigenvalue at rest to {atol:g} 1/ms; derivative by "
        "the implicit function theorem"
    )
    return _result(
        "rest_instability",
        "constant current where rest loses stability (Hopf)",
        method,
        value,
        d,
        ok,
        selection,
        theta,
        began,
    )
