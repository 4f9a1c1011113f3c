"""The global phase of a fit: CMA-ES over whole populations of simulations.

Candidates live in the unit cube of the free parameters (each axis mapped
through its bounded transform: log-uniform for conductances, uniform for
potentials). A search first scores a scrambled Sobol sample of the whole box
(and the preset's own values), then runs CMA-ES (pycma, the reference
implementation) from the best of them; each generation is one batched
evaluation (:class:`._population.PopulationEvaluator`). A search can be run in
instalments (:meth:`GlobalSearch.run`), which model selection uses to give
more time to the promising models. Every evaluated candidate is kept in an
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


class GlobalSearch:
    """A CMA-ES search of `evaluator`'s score that can be continued.

    - `popsize`: candidates per generation; `seed`.
    - `x0`: a unit-cube point to include (e.g. the preset's values).
    - `initial_samples`: Sobol points scored before CMA-ES starts from the
      best of them (0: start at `x0`); `sigma0`: CMA-ES's initial step size
      (unit-cube units)."""

    def __init__(
        self,
        evaluator: PopulationEvaluator,
        *,
        popsize: int,
        seed: int,
        x0: np.ndarray | None = None,
        initial_samples: int = 0,
        sigma0: float = 0.2,
    ):
        self.evaluator = evaluator
        self.popsize = int(popsize)
        self.seed = int(seed)
        P = len(evaluator.space)
        self.x0 = (
            np.full(P, 0.5)
            if x0 is None
            else np.clip(np.asarray(x0, float), 0.02, 0.98)
        )
        self.initial_samples = int(initial_samples)
        self.sigma0 = float(sigma0)
        self.es = None
        self.Qs: list[np.ndarray] = []
        self.scores_w: list[np.ndarray] = []
        self.fails: list[np.ndarray] = []
        self.history: list[float] = []
        self.wall_time_s = 0.0
        self.stopped = "not run"

    def _score(self, X: np.ndarray) -> np.ndarray:
        result = self.evaluator(X)
        self.Qs.append(X)
        self.scores_w.append(np.sum(result.z**2, axis=2))
        self.fails.append(result.failed)
        self.history.append(float(np.min(result.scores)))
        return result.scores

    def _start(self) -> None:
        import cma
        from scipy.stats import qmc

        x0 = self.x0
        if self.initial_samples:
            P = x0.size
            sobol = qmc.Sobol(P, scramble=True, seed=self.seed)
            X = np.vstack([x0[None], 0.02 + 0.96 * sobol.random(self.initial_samples)])
            x0 = X[int(np.argmin(self._score(X)))]
        self.es = cma.CMAEvolutionStrategy(
            x0,
            self.sigma0,
            {
                "popsize": self.popsize,
                "bounds": [0.0, 1.0],
                "seed": self.seed + 1,  # pycma treats 0 as "random"
                "verbose": -9,
            },
        )

    def run(
        self,
        generations: int,
        *,
        time_budget_s: float | None = None,
        progress: bool = True,
        label: str = "global search",
    ) -> GlobalResult:
        """Run up to `generations` more generations (or until `time_budget_s`
        has passed in this instalment, or CMA-ES converges)."""
        start = time.perf_counter()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=generations, desc=label, unit="gen")
        if self.es is None:
            self._start()
        self.stopped = f"{generations} generations"
        for _ in range(generations):
            if self.es.stop():
                self.stopped = "converged (" + ", ".join(self.es.stop()) + ")"
                break
            X = np.asarray(self.es.ask())
            self.es.tell(list(X), list(self._score(X)))
            if bar is not None:
                bar.set_postfix(
                    best=f"{min(self.history):.4g}", failed=int(self.fails[-1].sum())
                )
                bar.update(1)
            if (
                time_budget_s is not None
                and time.perf_counter() - start > time_budget_s
            ):
                self.stopped = f"time budget of {time_budget_s:g} s"
                break
        if bar is not None:
            bar.close()
        self.wall_time_s += time.perf_counter() - start
        return self.result()

    def result(self) -> GlobalResult:
        archive = SearchArchive(
            np.concatenate(self.Qs),
            np.concatenate(self.scores_w),
            np.concatenate(self.fails),
        )
        k = archive.best()
        return GlobalResult(
            best_Q=archive.Q[k],
            best_score=float(archive.window_scores[k].sum()),
            history=list(self.history),
            archive=archive,
            evaluations=int(archive.Q.shape[0]),
            failed=int(archive.failed.sum()),
            generations=len(self.history),
            wall_time_s=self.wall_time_s,
            stopped=self.stopped,
        )


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
    """One uninterrupted :class:`GlobalSearch`."""
    search = GlobalSearch(
        evaluator,
        popsize=popsize,
        seed=seed,
        x0=x0,
        initial_samples=initial_samples,
        sigma0=sigma0,
    )
    return search.run(
        generations, time_budget_s=time_budget_s, progress=progress, label=label
    )
