"""``fit``: multi-start fitting of model parameters to recorded sweeps."""

import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..initial_state import (
    DEFAULT_Y0,
    NAMES,
    InitialState,
    check_y0,
    renamed_y0,
    resolve_y0,
)
from ..io import Recording, Sweep
from ..model import PointNeuron
from ..settings import resolve_settings
from ._data import FitData, fit_data
from ._losses import AbstractLoss, SubthresholdStats, TraceMSE
from ._objective import Objective
from ._optimize import optimise
from ._regression import regression_estimate
from ._replay import max_steps_for
from ._result import TABLE_FEATURES, FitResult
from ._settings import FitSettings
from ._space import AREA, ParameterSpace, build_space


def _as_data(data) -> FitData:
    if isinstance(data, FitData):
        return data
    if isinstance(data, Recording | Sweep):
        data = [data]
    return fit_data(list(data))


def default_losses(
    data: FitData, *, threshold: float | None = None
) -> tuple[AbstractLoss, ...]:
    """Trace MSE (1 mV scale) plus subthreshold statistics; for spiking data (a
    crossing of `threshold`, mV, default eFEL's -20) the spike-timing terms of
    :func:`spike_losses` as well."""
    from ..spikes import THRESHOLD, spike_count
    from ._spike_losses import recorded_voltage, spike_losses

    threshold = THRESHOLD if threshold is None else float(threshold)
    spiking = bool(
        np.any(np.asarray(spike_count(recorded_voltage(data), threshold)) > 0)
    )
    losses: tuple[AbstractLoss, ...] = (TraceMSE(), SubthresholdStats(weight=1.0))
    return losses + (spike_losses(data, threshold=threshold) if spiking else ())


def fit(
    data: Recording | Sweep | Sequence[Recording | Sweep] | FitData,
    model: PointNeuron,
    free: Sequence[str] | ParameterSpace,
    *,
    bounds: dict[str, tuple[float, float]] | None = None,
    losses: Sequence[AbstractLoss] | None = None,
    area: float | None = None,
    y0: InitialState | str = DEFAULT_Y0["analysis"],
    settings: FitSettings | None = None,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    **options,
) -> FitResult:
    """Fit the `free` parameters of `model` to recorded sweeps.

    **Arguments:**

    - `data`: a :class:`hh_jax.io.Recording` (or sweeps, or several recordings
      fitted jointly). Time ms, voltage mV, current uA/cm^2 or whole-cell pA.
    - `model`: the model whose other parameters stay as they are, e.g.
      ``hh_jax.HodgkinHuxley()`` or ``hh_jax.CorticalRegularSpiking()``.
    - `free`: parameter names (``"g_Na"``, ``"C_m"``, ``"V_T"``, ...), plus
      ``"area"`` (um^2) for whole-cell data when the membrane area is unknown; or a
      selection with its bounds (:func:`hh_jax.parameters.select`,
      :func:`build_space`).
    - `bounds`: ``{name: (low, high)}`` in the parameter's unit, overriding the
      defaults (each parameter's declared fit range).
    - `losses`: loss terms (:mod:`hh_jax.fit` losses); default
      :func:`default_losses` (trace MSE + subthreshold statistics, plus spike
      timing for spiking data).
    - `area`: membrane area (um^2) of whole-cell data when not fitted.
    - `y0`: initial state of every sweep: ``"rest"`` (default: the model's
      resting state under each sweep's initial current, its holding current),
      ``"steady"`` (V = -65 mV, gates at steady state), ``"data"`` (the first
      recorded voltage, gates at steady state there), or a State / array
      ``[V (mV), gates...]`` shared by the sweeps.
    - `settings`: a :class:`FitSettings`: starts (`starts`, `init`, `seed`), the
      optimiser (`method` ``"lm"``/``"adam"``/``"lbfgs"``, `steps`,
      `learning_rate`, `patience`, `tol`, ...) and the solver (`rtol`, `atol`,
      `max_steps`). Each of its fields may also be passed as a keyword
      (``fit(..., steps=20)``), replacing that field of `settings`.
    - `checkpoint`, `resume`: write the optimiser state to this ``.npz`` every
      `checkpoint_every` steps; with `resume`, continue from it.
    - `progress`: a progress bar over the optimiser's steps.

    Failures are loud: a start whose every sweep fails to simulate is restarted
    from a fresh point; sweeps that fail with the fitted parameters, and
    parameters that end at a bound, are warnings and notes of the result; if no
    start ever simulated, this raises ``RuntimeError``.

    **Returns:** a :class:`FitResult`.
    """
    wall_start = time.perf_counter()
    y0 = renamed_y0("initial", options.pop("initial", None), y0, DEFAULT_Y0["analysis"])
    settings = resolve_settings(FitSettings, settings, options, entry="fit")
    check_y0(y0, allowed=(*NAMES, "data"))
    data = _as_data(data)
    names = free.names if isinstance(free, ParameterSpace) else tuple(free)
    if data.whole_cell and AREA not in names and area is None:
        raise ValueError(
            "the sweeps are whole-cell currents (pA): give the membrane `area` (um^2) "
            "or add 'area' to the free parameters."
        )
    if area is not None and (not data.whole_cell or AREA in names):
        raise ValueError("`area` is only for whole-cell data whose area is not fitted.")
    space = build_space(model, free, bounds, whole_cell=data.whole_cell)
    losses = tuple(default_losses(data) if losses is None else losses)
    if not losses:
        raise ValueError("no loss terms given.")
    max_steps = settings.max_steps
    if max_steps is None:
        durations = np.max(
            np.where(np.asarray(data.mask), np.asarray(data.t), -np.inf), 1
        )
        max_steps = max_steps_for(float(np.max(durations - np.asarray(data.t)[:, 0])))
    objective = Objective(
        template=model,
        space=space,
        data=data,
        losses=losses,
        area_um2=area,
        initial=y0 if isinstance(y0, str) else "state",
        y0_state=None if isinstance(y0, str) else resolve_y0(model, y0),
        rtol=settings.rtol,
        atol=settings.atol,
        max_steps=max_steps,
    )
    starts, seed = settings.starts, settings.seed
    u0, notes = _start_points(model, data, space, settings.init, starts, seed, area)
    reserve = space.quasi_random(4 * starts + 8, seed + 1)
    config = dict(
        free=list(space.names), starts=starts, seed=seed, sweeps=list(data.names)
    )
    u, final_losses, log = optimise(
        objective,
        u0,
        reserve,
        settings,
        progress=progress,
        checkpoint=None if checkpoint is None else Path(checkpoint),
        resume=resume,
        config=config,
    )
    best = int(np.argmin(final_losses))
    return _result(
        objective,
        space,
        data,
        u0,
        u,
        final_losses,
        best,
        log,
        notes,
        settings,
        time.perf_counter() - wall_start,
        area,
    )


def _physical(space: ParameterSpace, u: np.ndarray) -> np.ndarray:
    values = jax.vmap(space.values)(jnp.asarray(np.atleast_2d(u)))
    return np.stack([np.asarray(values[n]) for n in space.names], axis=-1)


def _start_points(model, data, space, init, starts, seed, area):
    notes: list[str] = []
    rows: list[np.ndarray] = []
    if isinstance(init, dict):
        full = {n: float(init.get(n, _default(model, n, area))) for n in space.names}
        rows.append(space.unconstrained(full))
    elif init == "regression":
        values, reg_notes = regression_estimate(model, data, space, area_um2=area)
        notes += ["regression initialiser: " + n for n in reg_notes]
        rows.append(space.unconstrained(values))
    if init in ("regression", "model") and len(rows) < starts:
        try:
            rows.append(
                space.unconstrained({n: _default(model, n, area) for n in space.names})
            )
        except ValueError as err:
            if init == "model":
                raise
            notes.append(f"model's own values not used as a start: {err}")
    count = starts - len(rows)
    if count > 0:
        rows.extend(space.quasi_random(count, seed))
    return np.stack(rows[:starts]), notes


def _default(model, name, area):
    if name == AREA:
        return 2e4 if area is None else area
    return float(np.asarray(model.get(name)))


def _result(
    objective, space, data, u0, u, final_losses, best, log, notes, settings, wall, area
):
    from ..features import compute

    sim = jax.tree.map(lambda x: x[best], log.final_sweeps)
    ok = np.asarray(sim.ok)
    if log.ok_history and not any(np.asarray(o).any() for o in log.ok_history):
        raise RuntimeError(
            "no start produced a finite loss: every sweep simulation failed at every "
            f"step (solver step budget max_steps={objective.max_steps}, or parameters "
            "far outside the data's range; check the units of the data: whole-cell "
            "currents in pA need the membrane area)."
        )
    if not ok.all():
        failed = [data.names[i] for i in np.flatnonzero(~ok)]
        notes.append(
            f"with the fitted parameters, {len(failed)} sweep(s) failed to simulate "
            f"and scored a fixed penalty: {', '.join(failed)}"
        )
        warnings.warn(notes[-1], stacklevel=3)
    for name, tr, ui in zip(space.names, space.transforms, np.asarray(u[best])):
        q = float(1.0 / (1.0 + np.exp(-ui)))
        if q < 0.01 or q > 0.99:
            side = "lower" if q < 0.01 else "upper"
            notes.append(
                f"`{name}` ended at its {side} bound "
                f"({tr.lower if side == 'lower' else tr.upper:g} {space.unit(name)}); "
                "widen the bounds or reconsider the model"
            )
            warnings.warn(notes[-1], stacklevel=3)
    t, V_data, mask = (np.asarray(x) for x in (data.t, data.V, data.mask))
    V_model = np.asarray(sim.V)
    windows = np.asarray(data.stimulus_windows)
    amplitudes = np.asarray(data.step_amplitudes)
    features = {}
    for which, V in (("data", V_data), ("model", V_model)):
        # Padding repeats the last sample; features use recorded samples only by
        # construction of the stimulus window, which lies inside each sweep.
        table = compute(
            TABLE_FEATURES,
            t,
            V,
            windows[:, 0],
            windows[:, 1],
            stim_amplitude=amplitudes,
            current_unit=data.current_unit,
        )
        for name in TABLE_FEATURES:
            value = np.asarray(table[name], float)
            if value.ndim == 2:  # per-spike feature: its mean over the sweep's spikes
                value = _row_mean(value)
            features.setdefault(name, {})[which] = value
    physical_final = _physical(space, u)
    values = dict(zip(space.names, physical_final[best].tolist()))
    area_info = None
    if data.whole_cell:
        area_info = dict(
            value=values.get(AREA, area), fitted=AREA in space.names, unit="um^2"
        )
    history = np.asarray(log.params)
    param_history = (
        _physical(space, history.reshape(-1, history.shape[-1])).reshape(history.shape)
        if history.size
        else history
    )
    if log.stopped_early:
        notes.append(
            f"stopped early after {log.steps_done} steps "
            f"(no progress over {settings.patience})"
        )
    return FitResult(
        names=list(space.names),
        units={n: space.unit(n) for n in space.names},
        parameters=values,
        start_parameters=_physical(space, u0),
        final_parameters=physical_final,
        final_losses=final_losses,
        best_start=best,
        loss_history=np.asarray(log.losses),
        parameter_history=param_history,
        area=area_info,
        sweep_names=list(data.names),
        t=t,
        V_data=V_data,
        V_model=V_model,
        mask=mask,
        features=features,
        resets=log.resets,
        failed_sweeps=log.failed_sweeps,
        timing=dict(
            wall_time_s=wall,
            optimisation_s=log.wall_time,
            first_step_s=log.first_step_time,
            steps=log.steps_done,
            starts=int(u.shape[0]),
            sweep_solves=_solve_count(
                settings.method, log.steps_done, u.shape[0], data.num_sweeps
            ),
        ),
        settings=dict(
            method=settings.method,
            steps=settings.steps,
            losses=[type(l).__name__ for l in objective.losses],
        ),
        notes=notes,
        objective=objective,
        best_unconstrained=np.asarray(u[best]),
    )


def _row_mean(x: np.ndarray) -> np.ndarray:
    """Mean of the finite entries of each row; NaN for a row without any."""
    finite = np.isfinite(x)
    count = finite.sum(axis=1)
    total = np.where(finite, x, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _solve_count(method, steps, starts, sweeps):
    """Forward sweep simulations, and sensitivity (Jacobian) solves, performed."""
    per_step = {"lm": (1, 1), "adam": (0, 1), "lbfgs": (1, 1)}[method]
    return dict(
        forward=int(per_step[0] * steps * starts * sweeps),
        with_sensitivities=int(per_step[1] * steps * starts * sweeps),
    )
