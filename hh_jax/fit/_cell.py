"""``fit_cell``: fit a model to a whole-cell recording, staged as a user would.

1. **Data**: the spike threshold (-20 mV, lower for cells with small spikes),
   the passive properties (:func:`._passive.estimate_passive`: rest, input
   resistance, time constant, hence the membrane area for C_m = 1 uF/cm^2) and
   the training windows with their eFEL-named target features.
2. **Global search** per candidate model (:mod:`._global`): CMA-ES over whole
   populations of batched simulations, scored by the z-scored feature objective,
   the leak reversal pinned to the recorded rest.
3. **Model selection** (``model="auto"``): each candidate's searched population
   is cross-validated over the training sweeps (leave one sweep out: the best
   candidate on the other sweeps is scored on the left-out one); the model
   that predicts left-out sweeps best is kept, and the result says why.

Nothing fails silently: a search in which no candidate simulated raises, failed
simulations are counted, and a parameter that ends at a bound of its search is
a warning in the result.
"""

import dataclasses
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from .._tables import Column, format_table, write_json
from ..io import Recording, Sweep
from ..model import PointNeuron
from ..spikes import THRESHOLD, detection_threshold
from ._global import GlobalResult, GlobalSearch
from ._passive import PassiveEstimate, estimate_passive
from ._population import PopulationEvaluator, TrainingWindow, lane_models
from ._presets import AUTO_CANDIDATES, Candidate, candidate, leak_bounds
from ._protocol import main_step_window
from ._space import AREA, AREA_BOUNDS, build_space
from ._windows import training_windows

# The search's step follows the data's sampling within these bounds (ms): the
# exponential midpoint steps are second order, stable at any step.
DT_RANGE = (0.02, 0.05)
_AT_BOUND = 0.01  # a parameter within 1 % of its search range of a bound is "at" it


@dataclasses.dataclass(frozen=True)
class CellFitSettings:
    """How :func:`fit_cell` searches.

    - `popsize`, `generations`: CMA-ES population and generations per candidate
      model; `initial_samples`: quasi-random points scored first (the search
      starts from the best); `time_budget_s`: wall-time limit of all searches
      together. With several candidate models each is first screened
      (`initial_samples` and `screen_generations`, together at most
      `screening_fraction` of the budget) and the best by cross-validation
      gets the rest.
    - `dt`: fixed step of the search's simulations, ms (None: the data's sample
      interval, within 0.02 to 0.05 ms, so that features quantised to the
      samples, such as AP width, are measured on a grid as fine as the data's).
    - `threshold`: spike threshold, mV (None: eFEL's -20 mV, or lower where the
      recorded spikes are small; see :func:`hh_jax.spikes.detection_threshold`).
    - `max_spikes`: per-spike feature slots per window.
    - `C_m`: specific capacitance, uF/cm^2 (only C_m x area is identifiable).
    - `seed`, `progress`.
    """

    popsize: int = 48
    generations: int = 40
    initial_samples: int = 256
    screen_generations: int = 6
    screening_fraction: float = 0.5
    time_budget_s: float = 200.0
    dt: float | None = None
    threshold: float | None = None
    max_spikes: int = 64
    C_m: float = 1.0
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        for name in ("popsize", "generations", "max_spikes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"`{name}` must be >= 1; got {getattr(self, name)}.")
        if self.dt is not None and not self.dt > 0:
            raise ValueError(f"`dt` must be > 0 ms; got {self.dt}.")
        if not self.time_budget_s > 0:
            raise ValueError(
                f"`time_budget_s` must be > 0 s; got {self.time_budget_s}."
            )
        if not self.C_m > 0:
            raise ValueError(f"`C_m` must be > 0 uF/cm^2; got {self.C_m}.")


@dataclasses.dataclass
class CandidateFit:
    """One candidate model's search: its name, summary, the searched
    parameters' best values, training score, cross-validated score (sum over
    left-out sweeps), and the search's statistics."""

    name: str
    summary: str
    parameters: dict[str, float]
    train_score: float
    cv_score: float
    search: GlobalResult
    evaluator: PopulationEvaluator
    bound_hits: list[str]


@dataclasses.dataclass
class CellFitResult:
    """The outcome of :func:`fit_cell`.

    - `model`: the fitted :class:`hh_jax.PointNeuron`; `model_name`: its preset.
    - `parameters`, `units`: every parameter of the fitted model by name.
    - `searched`: the names that were searched (the rest kept their preset
      values, ``E_L`` pinned to the recorded rest).
    - `area_um2`: membrane area of whole-cell data (None for densities) and
      `area_source` (``"given"``, ``"passive estimate"`` or ``"fitted"``).
    - `passive`: the passive estimate; `threshold`: spike threshold (mV);
      `step_window`: the recording's main step, ms from each sweep's start.
    - `windows`: the training windows; `window_features`: data vs model per
      window and feature.
    - `candidates`: every candidate model's search; `selection`: why the model
      was chosen.
    - `warnings`: bounds hit, failed simulations, anything a user must know.
    - `timing`: wall time per stage (s).
    """

    model: PointNeuron
    model_name: str
    parameters: dict[str, float]
    units: dict[str, str]
    searched: list[str]
    area_um2: float | None
    area_source: str | None
    passive: PassiveEstimate
    threshold: float
    step_window: tuple[float, float] | None
    train_sweeps: list[int]
    windows: list[TrainingWindow]
    window_features: list[dict]
    candidates: list[CandidateFit]
    selection: str
    warnings: list[str]
    timing: dict[str, float]

    def rows(self) -> list[dict]:
        """One row per parameter of the fitted model: value, unit, searched."""
        return [
            dict(parameter=n, value=v, unit=self.units[n], searched=n in self.searched)
            for n, v in self.parameters.items()
        ]

    def table(self) -> str:
        """Fitted parameters (searched ones marked), with units."""
        footer = []
        if self.area_um2 is not None:
            footer.append(
                f"{'area':<14}{self.area_um2:>12.5g}  um^2 ({self.area_source})"
            )
        columns = [
            Column("parameter", 14, align="<"),
            Column("value", 12, ".5g", gap=2),
            Column(
                "unit",
                0,
                align="<",
                cell=lambda r: r["unit"] + (" *" if r["searched"] else ""),
            ),
        ]
        return format_table(
            self.rows(),
            columns,
            title=[f"model: {self.model_name}"],
            rule=False,
            footer=footer + ["(* searched)"],
        )

    def feature_table(self) -> str:
        """Training windows: data / model for each scored feature."""
        lines = []
        for w, feats in zip(self.windows, self.window_features):
            cells = ", ".join(f"{k} {d:.4g}/{m:.4g}" for k, (d, m) in feats.items())
            lines.append(f"sweep {self.train_sweeps[w.sweep]} ({w.kind}): {cells}")
        return "\n".join(lines) + "\n(data/model)"

    def validate(self, recording: Recording, sweeps: Sequence[int]):
        """Replay `sweeps` (indices into `recording`) and judge them with eFEL:
        a :class:`hh_jax.fit.Validation`."""
        from ._validate import validate_model

        return validate_model(
            self.model,
            recording,
            list(sweeps),
            area_um2=self.area_um2,
            threshold=self.threshold,
            V_guess=self.passive.V_rest,
            window=self.step_window,
        )

    def to_json(self) -> dict:
        return {
            "model": self.model_name,
            "parameters": {
                n: {"value": v, "unit": self.units[n], "searched": n in self.searched}
                for n, v in self.parameters.items()
            },
            "area": None
            if self.area_um2 is None
            else {"value": self.area_um2, "unit": "um^2", "source": self.area_source},
            "passive": dataclasses.asdict(self.passive),
            "threshold_mV": self.threshold,
            "train_sweeps": self.train_sweeps,
            "selection": self.selection,
            "candidates": [
                {
                    "name": c.name,
                    "summary": c.summary,
                    "train_score": c.train_score,
                    "cv_score": c.cv_score,
                    "evaluations": c.search.evaluations,
                    "failed_simulations": c.search.failed,
                    "generations": c.search.generations,
                    "stopped": c.search.stopped,
                    "search_s": c.search.wall_time_s,
                    "parameters": c.parameters,
                    "bound_hits": c.bound_hits,
                }
                for c in self.candidates
            ],
            "training_windows": [
                {
                    "sweep": self.train_sweeps[w.sweep],
                    "kind": w.kind,
                    "span_ms": [w.t_start, w.t_end],
                    "features": {k: {"data": d, "model": m} for k, (d, m) in f.items()},
                }
                for w, f in zip(self.windows, self.window_features)
            ],
            "warnings": self.warnings,
            "timing_s": self.timing,
        }

    def save(self, directory: str | Path) -> None:
        """Write ``params.json`` (model, parameters with units, area, selection,
        warnings, timing) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(directory / "params.json", self.to_json())


def _as_sweeps(recording) -> list[Sweep]:
    if isinstance(recording, Recording):
        return list(recording.sweeps)
    if isinstance(recording, Sweep):
        return [recording]
    sweeps = list(recording)
    if not all(isinstance(s, Sweep) for s in sweeps):
        raise TypeError("`recording` must be a Recording, a Sweep or a list of Sweeps.")
    return sweeps


def _bound_hits(space, q: np.ndarray, values: dict) -> list[str]:
    hits = []
    for i, (name, tr) in enumerate(zip(space.names, space.transforms)):
        side = (
            "lower" if q[i] < _AT_BOUND else "upper" if q[i] > 1 - _AT_BOUND else None
        )
        if side:
            bound = tr.lower if side == "lower" else tr.upper
            hits.append(
                f"`{name}` ended at the {side} bound of its search "
                f"({values[name]:.4g}; bound {bound:.4g} {space.unit(name)}): the data "
                "may want a value "
                "beyond it, or a different model"
            )
    return hits


def _cross_validated(search: GlobalResult, windows: list[TrainingWindow]) -> float:
    """Leave one training sweep out: the archive's best on the other sweeps,
    scored on the left-out one's windows; summed over sweeps."""
    sweep_of = np.asarray([w.sweep for w in windows])
    sweeps = np.unique(sweep_of)
    if sweeps.size < 2:
        return float("nan")
    total = 0.0
    for s in sweeps:
        held = sweep_of == s
        k = search.archive.best(~held)
        total += float(search.archive.window_scores[k, held].sum())
    return total


def _candidate_search(
    cand: Candidate,
    windows,
    passive: PassiveEstimate,
    *,
    whole_cell: bool,
    area_um2: float | None,
    free_area: bool,
    settings: CellFitSettings,
    template: PointNeuron | None = None,
    free: Sequence[str] | None = None,
    bounds: dict | None = None,
) -> GlobalSearch:
    """The (not yet run) search of one candidate model."""
    model = cand.build() if template is None else template
    names = list(cand.free if free is None else free)
    search_bounds = dict(cand.bounds)
    infos = model.parameter_infos()
    search_bounds = {k: v for k, v in search_bounds.items() if k in names}
    if "g_L" in infos and "g_L" not in names:
        names.append("g_L")
        gl = leak_bounds(passive.leak_conductance(settings.C_m))
        if gl is not None:
            search_bounds["g_L"] = gl
    if "C_m" in infos:
        model = model.replace(C_m=settings.C_m)
    if free_area:
        names.append(AREA)
        search_bounds[AREA] = AREA_BOUNDS
    search_bounds.update(bounds or {})
    space = build_space(model, names, search_bounds, whole_cell=whole_cell)
    evaluator = PopulationEvaluator(
        model,
        space,
        windows,
        whole_cell=whole_cell,
        area_um2=area_um2,
        V_rest=passive.V_rest,
        dt=settings.dt,
        threshold=settings.threshold,
        max_spikes=settings.max_spikes,
    )
    return GlobalSearch(
        evaluator,
        popsize=settings.popsize,
        seed=settings.seed,
        initial_samples=settings.initial_samples,
        x0=_default_point(space, model),
    )


def _candidate_fit(cand: Candidate, search: GlobalSearch, windows) -> CandidateFit:
    result = search.result()
    if result.failed >= result.evaluations:
        raise RuntimeError(
            f"model {cand.name!r}: none of the {result.evaluations} candidate "
            "parameter sets simulated to a finite trace; check the data's units "
            "and the bounds."
        )
    evaluator = search.evaluator
    values = {
        n: float(v[0]) for n, v in evaluator.physical(result.best_Q[None]).items()
    }
    return CandidateFit(
        name=cand.name,
        summary=cand.summary,
        parameters=values,
        train_score=result.best_score,
        cv_score=_cross_validated(result, windows),
        search=result,
        evaluator=evaluator,
        bound_hits=_bound_hits(evaluator.space, result.best_Q, values),
    )


def _ranking_score(fit: CandidateFit) -> float:
    return fit.cv_score if np.isfinite(fit.cv_score) else fit.train_score


def fit_cell(
    recording: Recording | Sweep | Sequence[Sweep],
    *,
    model: str | PointNeuron = "auto",
    train: Sequence[int] | None = None,
    free: Sequence[str] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
    area_um2: float | None = None,
    settings: CellFitSettings | None = None,
) -> CellFitResult:
    """Fit a cell model to current-clamp sweeps (module docstring).

    **Arguments:**

    - `recording`: the recording (whole-cell pA/nA, or densities in uA/cm^2).
    - `model`: ``"auto"`` (choose among the candidate presets by
      cross-validation), a candidate's name (see ``hh_jax.fit.CANDIDATES``), or
      a :class:`hh_jax.PointNeuron` (then give `free`).
    - `train`: indices of the sweeps to fit (default: all).
    - `free`, `bounds`: parameters to search and their bounds (each in the
      parameter's unit), overriding the candidate's defaults.
    - `area_um2`: the membrane area of whole-cell data, if known (otherwise
      estimated from the passive response, or searched when the sweeps have no
      hyperpolarising segment).
    - `settings`: a :class:`CellFitSettings`.

    **Returns:** a :class:`CellFitResult`; ``result.validate(recording, sweeps)``
    judges it on other sweeps.
    """
    settings = settings or CellFitSettings()
    start = time.perf_counter()
    all_sweeps = _as_sweeps(recording)
    train = list(range(len(all_sweeps))) if train is None else [int(i) for i in train]
    if not train:
        raise ValueError("`train` is empty: give at least one sweep index to fit.")
    bad = [i for i in train if not 0 <= i < len(all_sweeps)]
    if bad:
        raise ValueError(
            f"`train` sweep indices {bad} do not exist; the recording has "
            f"{len(all_sweeps)} sweeps (0 to {len(all_sweeps) - 1})."
        )
    sweeps = [all_sweeps[i] for i in train]
    units = {s.current_unit for s in sweeps}
    whole_cell = "uA/cm^2" not in units
    if len({u == "uA/cm^2" for u in units}) > 1:
        raise ValueError(
            "the sweeps mix whole-cell currents (pA) and densities (uA/cm^2)."
        )
    notes: list[str] = []
    threshold = settings.threshold
    if threshold is None:
        threshold = detection_threshold([(s.t, s.V) for s in sweeps])
        if threshold != THRESHOLD:
            notes.append(
                f"the recorded spikes are small: spike threshold {threshold:g} mV "
                "(not eFEL's -20 mV)"
            )
    dt = settings.dt
    if dt is None:
        interval = float(np.median([np.median(np.diff(s.t)) for s in sweeps]))
        dt = float(np.clip(interval, DT_RANGE[0], DT_RANGE[1]))
    settings = dataclasses.replace(settings, threshold=float(threshold), dt=dt)
    window = main_step_window(all_sweeps)
    passive = estimate_passive(sweeps, window)
    area_source = None
    free_area = False
    if whole_cell:
        if area_um2 is not None:
            if not (np.isfinite(area_um2) and area_um2 > 0):
                raise ValueError(f"`area_um2` must be > 0 um^2; got {area_um2!r}.")
            area_source = "given"
        elif passive.area_um2(settings.C_m) is not None:
            area_um2 = passive.area_um2(settings.C_m)
            area_source = "passive estimate"
        else:
            free_area = True
            area_source = "fitted"
            notes.append(
                "no hyperpolarising segment in the training sweeps: the membrane area "
                "is searched with the other parameters (less well determined)"
            )
    elif area_um2 is not None:
        raise ValueError("`area_um2` is only for whole-cell data (currents in pA).")
    windows = training_windows(
        sweeps,
        threshold=settings.threshold,
        max_spikes=settings.max_spikes,
        window=window,
    )
    t_data = time.perf_counter() - start

    if isinstance(model, PointNeuron):
        if free is None:
            raise ValueError(
                "a PointNeuron `model` needs `free`: the parameters to fit."
            )
        cands = [Candidate("custom", lambda: model, tuple(free), {}, "the given model")]
    elif model == "auto":
        cands = [candidate(n) for n in AUTO_CANDIDATES]
    else:
        cands = [candidate(model)]
    searches = [
        _candidate_search(
            cand,
            windows,
            passive,
            whole_cell=whole_cell,
            area_um2=area_um2,
            free_area=free_area,
            settings=settings,
            template=model if isinstance(model, PointNeuron) else None,
            free=free,
            bounds=bounds,
        )
        for cand in cands
    ]
    budget_end = time.perf_counter() + settings.time_budget_s
    if len(cands) > 1:
        # Screening: a short search of every candidate, then the rest of the
        # budget to the one that predicts left-out sweeps best.
        screen_share = settings.screening_fraction * settings.time_budget_s / len(cands)
        for cand, search in zip(cands, searches):
            search.run(
                settings.screen_generations,
                time_budget_s=screen_share,
                progress=settings.progress,
                label=f"screen {cand.name}",
            )
        fits = [_candidate_fit(c, s, windows) for c, s in zip(cands, searches)]
        screening = sorted(zip(fits, map(_ranking_score, fits)), key=lambda x: x[1])
        best = fits.index(screening[0][0])
        ranking = ", ".join(f"{f.name} {score:.4g}" for f, score in screening)
        kind = "cross-validated" if np.isfinite(fits[best].cv_score) else "training"
        selection = (
            f"{fits[best].name}: best {kind} score after screening every candidate "
            f"(leave-one-sweep-out sum of squared z-scores; lower is better): "
            f"{ranking}"
        )
    else:
        best = 0
        selection = f"{cands[0].name}: the only candidate"
    remaining = max(budget_end - time.perf_counter(), 1.0)
    done = searches[best].result().generations if searches[best].es is not None else 0
    searches[best].run(
        max(settings.generations - done, 1),
        time_budget_s=remaining,
        progress=settings.progress,
        label=f"search {cands[best].name}",
    )
    fits = [_candidate_fit(c, s, windows) for c, s in zip(cands, searches)]
    t_search = time.perf_counter() - start - t_data
    chosen = fits[best]
    fitted, area_final, pin_note = _fitted_model(chosen, sweeps)
    if pin_note:
        notes.append(pin_note)
    if free_area:
        area_um2 = area_final
    values = {
        n: float(np.asarray(v))
        for n, v in fitted.parameters().items()
        if np.ndim(v) == 0
    }
    units_by_name = {n: i.unit for n, i in fitted.parameter_infos().items()}
    result_warnings = list(notes) + list(chosen.bound_hits)
    if chosen.search.failed:
        result_warnings.append(
            f"{chosen.search.failed} of {chosen.search.evaluations} simulations in the "
            "search failed (non-finite or no valid rest) and scored the worst score"
        )
    for w in result_warnings:
        warnings.warn(w, stacklevel=2)
    feats = _window_table(chosen, windows)
    return CellFitResult(
        model=fitted,
        model_name=chosen.name,
        parameters=values,
        units=units_by_name,
        searched=[n for n in chosen.evaluator.space.names if n != AREA],
        area_um2=None if area_um2 is None else float(area_um2),
        area_source=area_source,
        passive=passive,
        threshold=float(settings.threshold),
        step_window=window,
        train_sweeps=train,
        windows=windows,
        window_features=feats,
        candidates=fits,
        selection=selection,
        warnings=result_warnings,
        timing={
            "data_s": t_data,
            "search_s": t_search,
            "total_s": time.perf_counter() - start,
        },
    )


def _default_point(space, model: PointNeuron) -> np.ndarray:
    """The preset's own values as a unit-cube point (clipped into the box)."""
    q = []
    for name, tr in zip(space.names, space.transforms):
        if name == AREA:
            q.append(0.5)
            continue
        x = float(np.asarray(model.get(name)))
        q.append(float(np.clip(tr.quantile(x), 0.02, 0.98)))
    return np.asarray(q)


def _fitted_model(fit: CandidateFit, sweeps: list[Sweep]):
    """The chosen candidate as a scalar PointNeuron, E_L pinned to the rest under
    the first training sweep's holding current."""
    ev = fit.evaluator
    values = ev.physical(fit.search.best_Q[None])
    area = float(ev.area(values, 1)[0]) if ev.whole_cell else None
    holding = float(np.asarray(sweeps[0].stimulus_values)[0])
    if ev.whole_cell:
        holding = holding * 1e-6 / (area * 1e-8)
    model, _, bad = lane_models(
        ev.model, values, jnp.asarray([holding], ev.dtype), ev.group_settings()
    )
    note = None
    if bool(np.asarray(bad)[0]):
        note = (
            "the leak reversal needed for the recorded rest left its physical range; "
            "E_L kept its default and the model's rest differs from the data's"
        )
    scalar = _squeeze(model)
    return scalar, area, note


def _squeeze(model: PointNeuron) -> PointNeuron:
    import equinox as eqx
    import jax

    arrays, static = eqx.partition(model, eqx.is_array)
    arrays = jax.tree.map(lambda x: jnp.reshape(x, ()) if x.size == 1 else x, arrays)
    return eqx.combine(arrays, static)


def _window_table(fit: CandidateFit, windows) -> list[dict]:
    r = fit.evaluator(fit.search.best_Q[None])
    out = []
    names = fit.evaluator.names
    for i, w in enumerate(windows):
        out.append(
            {
                n: (float(w.targets.values[j]), float(r.features[0, i, j]))
                for j, n in enumerate(names)
                if w.targets.active[j]
            }
        )
    return out
