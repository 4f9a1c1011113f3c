"""The global phase of a fit: CMA-ES over whole populations of simulations.

Candidates live in the unit cube of the free parameters (each axis mapped
through its bounded transform: log-uniform for conductances, uniform for
potentials). Each generation is one batched evaluation
(:class:`._population.PopulationEvaluator`); pycma (the reference CMA-ES
implementation) proposes the next. Every evaluated candidate is kept in an
archive with its per-window scores, which model selection reuses for
cross-validation without simulating again.
"""

import dataclasses
import time

import numpy as np

from ._population import PopulationEvaluator


@dataclasses.dataclass
class SearchArchive:
    """Every candidate evaluated: `Q` (N, P) unit-cube points, `window_scores`
    (N, W) sums of squared z per window, `failed` (N,)."""

    Q: np.ndarray
    window_scores: np.ndarray
    failed: np.ndarray

    def best(self, windows: np.ndarray | None = None) -> int:
        """Index of the best candidate scored on `windows` (a mask, default all)."""
        s = self.window_scores if windows is None else self.window_scores[:, windows]
        total = np.where(self.failed, np.inf, s.sum(axis=1))
        return int(np.argmin(total))


@dataclasses.dataclass
class GlobalResult:
    """`best_Q` (P,), `best_score`; `history`: best score per generation;
    `archive`; `evaluations`, `failed` (count of failed simulations),
    `generations`, `wall_time_s`, `stopped` (why the search ended)."""

    best_Q: np.ndarray
    best_score: float
    history: list[float]
    archive: SearchArchive
    evaluations: int
    failed: int
    generations: int
    wall_time_s: float
    stopped: str


def global_search(
    evaluator: PopulationEvaluator,
    *,
    popsize: int,
    generations: int,
    seed: int,
    x0: np.ndarray | None = None,
    sigma0: float = 0.2,
    initial_samples: int = 0,
    time_budget_s: float | None = None,
    progress: bool = True,
    label: str = "global search",
) -> GlobalResult:
    """Minimise the population score with CMA-ES from `x0` (unit cube; default
    the centre) for at most `generations` generations of `popsize`
    candidates, or until `time_budget_s` has passed. With `initial_samples`,
    that many scrambled Sobol points (and `x0`) are scored first and CMA-ES
    starts from the best of them: a cheap look at the whole box before the
    local adaptation."""
    import cma
    from scipy.stats import qmc

    P = len(evaluator.space)
    x0 = np.full(P, 0.5) if x0 is None else np.clip(np.asarray(x0, float), 0.02, 0.98)
    Qs, scores_w, fails, history = [], [], [], []
    start = time.perf_counter()
    if initial_samples:
        sobol = qmc.Sobol(P, scramble=True, seed=int(seed)).random(initial_samples)
        X = np.vstack([x0[None], 0.02 + 0.96 * sobol])
        result = evaluator(X)
        Qs.append(X)
        scores_w.append(np.sum(result.z**2, axis=2))
        fails.append(result.failed)
        history.append(float(np.min(result.scores)))
        x0 = X[int(np.argmin(result.scores))]
    es = cma.CMAEvolutionStrategy(
        x0,
        sigma0,
        {
            "popsize": int(popsize),
            "bounds": [0.0, 1.0],
            "seed": int(seed) + 1,  # pycma treats 0 as "random"
            "verbose": -9,
        },
    )
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=generations, desc=label, unit="gen")
    stopped = "generations"
    for gen in range(generations):
        X = np.asarray(es.ask())
        result = evaluator(X)
        es.tell(list(X), list(result.scores))
        Qs.append(X)
        scores_w.append(np.sum(result.z**2, axis=2))
        fails.append(result.failed)
        history.append(float(np.min(result.scores)))
        if bar is not None:
            bar.set_postfix(best=f"{min(history):.4g}", failed=int(result.failed.sum()))
            bar.update(1)
        if es.stop():
            stopped = "converged (" + ", ".join(es.stop()) + ")"
            break
        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
            stopped = f"time budget of {time_budget_s:g} s"
            break
    if bar is not None:
        bar.close()
    archive = SearchArchive(
        np.concatenate(Qs), np.concatenate(scores_w), np.concatenate(fails)
    )
    k = archive.best()
    return GlobalResult(
        best_Q=archive.Q[k],
        best_score=float(archive.window_scores[k].sum()),
        history=history,
        archive=archive,
        evaluations=int(archive.Q.shape[0]),
        failed=int(archive.failed.sum()),
        generations=len(history),
        wall_time_s=time.perf_counter() - start,
        stopped=stopped,
    )
