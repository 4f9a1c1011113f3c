"""Gradient refinement of the global search's best candidate.

The global phase ends near a good region but not at its bottom: CMA-ES on a
few hundred evaluations resolves each parameter to a few percent of its range.
Here Levenberg–Marquardt (Optimistix) polishes the best candidate on the same
z-scored features, as least-squares residuals ``(model - data) / scale``, with
the Jacobian from forward-mode derivatives through the fixed-step simulation
and the features (spike heights, widths, troughs and interpolated latencies
are differentiable in the parameters; counts are piecewise constant, so they
steer only through the accept/reject test of each step). The parameters move
in ``u = logit(q)`` (q the unit-cube point), so no bound can be crossed.

The refined point is kept only if the capped objective of the search
improved: refinement never makes a fit worse.
"""

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from ._population import PopulationEvaluator
from ._targets import Z_CAP


@dataclasses.dataclass
class Refinement:
    """`Q` (P,): the refined unit-cube point (the start if nothing improved);
    `score_before`, `score_after`: the search objective there; `steps`:
    Levenberg–Marquardt steps taken; `accepted`; `wall_time_s`; `message`."""

    Q: np.ndarray
    score_before: float
    score_after: float
    steps: int
    accepted: bool
    wall_time_s: float
    message: str


def _residual_fn(evaluator: PopulationEvaluator):
    values = jnp.asarray(evaluator.values, evaluator.dtype)
    scales = jnp.asarray(evaluator.scales, evaluator.dtype)
    active = np.asarray(evaluator.active)
    root_w = jnp.asarray(np.sqrt(evaluator.weights), evaluator.dtype)

    def residuals(u, _):
        q = jax.nn.sigmoid(u)[None, :]
        phys = evaluator.physical(q)
        area = evaluator.area(phys, 1)
        area = jnp.asarray(area)
        parts = []
        for group in evaluator.groups:
            f, ok = evaluator.group_features(group, phys, area)
            for j, i in enumerate(group):
                z = (f[j, 0] - values[i]) / scales[i]
                z = jnp.where(jnp.isfinite(z) & ok[j, 0], z, Z_CAP) * root_w[i]
                parts.append(z[active[i]])
        # The solver works in the default precision; the simulation in the
        # evaluator's (float32 by default).
        return jnp.concatenate(parts).astype(jnp.result_type(float))

    return residuals


def refine(evaluator: PopulationEvaluator, Q0: np.ndarray, *, steps: int) -> Refinement:
    """Up to `steps` Levenberg–Marquardt steps from the unit-cube point `Q0`."""
    import optimistix as optx

    start = time.perf_counter()
    before = float(evaluator(np.asarray(Q0)[None]).scores[0])
    q0 = np.clip(np.asarray(Q0, float), 1e-3, 1 - 1e-3)
    u0 = jnp.asarray(np.log(q0) - np.log1p(-q0), jnp.result_type(float))
    fn = _residual_fn(evaluator)
    solver = optx.LevenbergMarquardt(rtol=1e-3, atol=1e-3)
    sol = optx.least_squares(
        fn,
        solver,
        u0,
        max_steps=int(steps),
        throw=False,
        options={"jac": "fwd"},
    )
    u = np.asarray(sol.value, float)
    Q = 1.0 / (1.0 + np.exp(-u))
    after = float(evaluator(Q[None]).scores[0])
    accepted = bool(np.isfinite(after) and after < before)
    return Refinement(
        Q=Q if accepted else np.asarray(Q0, float),
        score_before=before,
        score_after=after,
        steps=int(sol.stats["num_steps"]),
        accepted=accepted,
        wall_time_s=time.perf_counter() - start,
        message=str(sol.result),
    )
