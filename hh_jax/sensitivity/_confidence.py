"""Confidence intervals of a fit from the curvature at its optimum (Laplace /
Gauss–Newton approximation).

At the optimum ``u*`` of a least-squares objective ``sum r(u)^2`` (``u`` the
fit's unconstrained parameters), the posterior of ``u`` under a flat prior is
approximately Gaussian with covariance ``s^2 (J^T J)^-1``, J the residual
Jacobian and ``s^2 = sum r^2 / (n - P)`` the residual variance (n residuals that
carry information). Intervals ``u* +- z sd(u)`` mapped through the fit's bounded
transforms respect the bounds and may be asymmetric; the delta method gives
standard errors in physical units, ``sd(theta) = |dtheta/du| sd(u)``.
"""

import dataclasses
import math
from statistics import NormalDist

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._tables import Column, TabularResult, write_json


@eqx.filter_jit
def _linearise(objective, u, forward: bool):
    """Residuals (R,) and their Jacobian (R, P) at `u`."""
    jac = jax.jacfwd if forward else jax.jacrev
    return objective.residuals(u), jac(objective.residuals)(u)


@dataclasses.dataclass
class ConfidenceIntervals(TabularResult):
    """Fitted values with Laplace confidence intervals.

    - `names`, `units`, `values` (P,): the fitted parameters (physical units).
    - `stderr` (P,): delta-method standard errors (units of each parameter).
    - `lower`, `upper` (P,): the `level` interval, from the Gaussian in the
      unconstrained space mapped through the transforms.
    - `covariance` (P, P), `correlation` (P, P): of the physical parameters.
    - `residual_sd`: ``s`` (residual units), estimated unless given;
      `num_residuals`: n; `method`: a description.
    """

    names: list[str]
    units: list[str]
    values: np.ndarray
    stderr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    covariance: np.ndarray
    correlation: np.ndarray
    residual_sd: float
    num_residuals: int
    method: str

    def rows(self) -> list[dict]:
        return [
            dict(
                parameter=n,
                value=float(v),
                unit=u,
                stderr=float(s),
                lower=float(lo),
                upper=float(hi),
                level=self.level,
            )
            for n, u, v, s, lo, hi in zip(
                self.names, self.units, self.values, self.stderr, self.lower, self.upper
            )
        ]

    def columns(self) -> list[Column]:
        return [
            Column("parameter", 12, align="<"),
            Column("value", 12, ".6g", header="fitted", gap=2),
            Column("unit", 9, align="<"),
            Column("stderr", 11, ".3g", header="std. err.", gap=2),
            Column(
                "interval",
                0,
                header=f"{100 * self.level:g} % interval",
                align="<",
                cell=lambda r: f"[{r['lower']:.6g}, {r['upper']:.6g}]",
            ),
        ]

    def table_footer(self) -> list[str]:
        return [f"({self.method})"]

    def to_json(self, path) -> None:
        write_json(path, dataclasses.asdict(self))


def fit_confidence_intervals(
    result,
    *,
    level: float = 0.95,
    residual_sd: float | None = None,
) -> ConfidenceIntervals:
    """Laplace / Gauss–Newton confidence intervals at the optimum of a fit.

    **Arguments:**

    - `result`: a :class:`hh_jax.fit.FitResult` (uses its ``objective`` and
      ``best_unconstrained``).
    - `level`: coverage of the intervals, in (0, 1).
    - `residual_sd`: the residuals' noise standard deviation in the objective's
      residual units; default: estimated from the residuals at the optimum,
      ``sqrt(sum r^2 / (n - P))``. For a single ``TraceMSE`` term of weight w and
      scale c on n samples with voltage noise sigma (mV), it is
      ``sigma sqrt(w / n) / c``.

    **Returns:** :class:`ConfidenceIntervals`. Infinite errors flag parameters the
    data do not determine (a singular ``J^T J``).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"`level` must lie in (0, 1); got {level}.")
    if residual_sd is not None and not (math.isfinite(residual_sd) and residual_sd > 0):
        raise ValueError(f"`residual_sd` must be finite and > 0; got {residual_sd}.")
    objective = getattr(result, "objective", None)
    u = getattr(result, "best_unconstrained", None)
    if objective is None or u is None:
        raise ValueError(
            "the fit result carries no objective (a result loaded from disk?); "
            "run the fit in this session."
        )
    u = jnp.asarray(u)
    space = objective.space
    forward = getattr(objective, "adjoint", "forward") == "forward"
    r, J = (np.asarray(x, float) for x in _linearise(objective, u, forward))
    P = len(space)
    informative = (np.abs(r) > 0) | np.any(J != 0, axis=1)
    n = int(informative.sum())
    estimated = residual_sd is None
    if residual_sd is None:
        if n <= P:
            raise ValueError(f"{n} informative residuals cannot determine {P} values.")
        residual_sd = math.sqrt(float(r @ r) / (n - P))
    JTJ = J.T @ J
    w, v = np.linalg.eigh(JTJ)
    tiny = w <= 1e-12 * max(w.max(), 0.0)
    inv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, w))
    cov_u = residual_sd**2 * (v * inv) @ v.T
    if tiny.any():
        loads = np.any(np.abs(v[:, tiny]) > 1e-8, axis=1)
        cov_u[loads, :] = np.inf
        cov_u[:, loads] = np.inf

    def physical(x):
        values = space.values(x)
        return jnp.stack([values[name] for name in space.names])

    theta = np.asarray(physical(u), float)
    D = np.asarray(jax.jacfwd(physical)(u), float)  # diagonal: one transform each
    with np.errstate(invalid="ignore"):
        cov = D @ cov_u @ D.T
    for i in range(P):
        if not np.isfinite(cov_u[i, i]):
            cov[i, :] = np.inf
            cov[:, i] = np.inf
    sd_u = np.sqrt(np.diag(cov_u))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    ends = []
    for sign in (-1.0, 1.0):
        x = np.where(np.isfinite(sd_u), np.asarray(u) + sign * z * sd_u, sign * 1e3)
        ends.append(np.asarray(physical(jnp.asarray(x)), float))
    stderr = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(stderr, stderr)
    corr = np.where(np.isfinite(np.outer(stderr, stderr)), corr, np.nan)
    return ConfidenceIntervals(
        names=list(space.names),
        units=list(space.units),
        values=theta,
        stderr=stderr,
        lower=np.minimum(ends[0], ends[1]),
        upper=np.maximum(ends[0], ends[1]),
        level=float(level),
        covariance=cov,
        correlation=corr,
        residual_sd=float(residual_sd),
        num_residuals=n,
        method=(
            f"Gauss-Newton covariance s^2 (J^T J)^-1 in the fit's unconstrained "
            f"space, s = {residual_sd:.4g} "
            f"({'estimated' if estimated else 'given'}), n = {n}, P = {P}"
        ),
    )
