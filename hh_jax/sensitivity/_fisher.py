"""Fisher information of a voltage-recording protocol: which parameter
combinations the data pin down, and how well.

For a protocol of sweeps (stimuli) recorded at times `ts` with independent
Gaussian voltage noise of standard deviation sigma (mV), the Fisher information of
the parameters theta is ``F = J^T J / sigma^2``, J being the Jacobian of every
sweep's V(t) at every save time (all sweeps in one vmapped forward-sensitivity
solve). ``F^-1`` bounds the covariance of any unbiased estimator (Cramér–Rao).
Eigen-analysis uses the log-parameter information ``D F D`` (``D = diag(theta)``),
which is dimensionless: its eigenvalues compare parameter combinations of
different units ("stiff" large, "sloppy" small).
"""

import dataclasses
import math
import time
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..initial_state import DEFAULT_Y0, InitialState, check_y0, is_named, resolve_y0
from ..model import PointNeuron, State
from ..stimulus import AbstractStimulus, as_stimulus
from ..trace import Status
from ._params import ParameterSelection, select
from ._problem import ATOL, MAX_STEPS, RTOL, forward_trace
from ._tables import Column, TabularResult

# Eigenvalues of the log-information below this fraction of the largest are
# treated as zero: those combinations are not identifiable (infinite bound).
_RCOND = 1e-12


class Protocol(eqx.Module):
    """Sweeps of one model: groups of stimuli with equal structure, stacked along
    a leading axis (one vmapped solve per group), saved at `ts` (ms)."""

    model: PointNeuron
    selection: ParameterSelection
    groups: tuple[AbstractStimulus, ...]
    ts: Float[Array, " T"]
    y0: State | None
    from_rest: bool = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def traces(self, theta: Float[Array, " P"]) -> tuple[Array, Array]:
        """(V (S, T) in mV, status (S,)) of every sweep, groups in order."""
        model = self.selection.apply(self.model, None, theta)[0]
        y0 = resolve_y0(model, "rest") if self.from_rest else self.y0

        def one(stimulus):
            trace = forward_trace(
                model,
                stimulus,
                self.ts,
                y0,
                rtol=self.rtol,
                atol=self.atol,
                max_steps=self.max_steps,
            )
            return trace.V, trace.status

        parts = [jax.vmap(one)(g) for g in self.groups]
        return (
            jnp.concatenate([p[0] for p in parts]),
            jnp.concatenate([p[1] for p in parts]),
        )

    def residuals(self, theta: Float[Array, " P"]) -> Float[Array, " R"]:
        """Every sweep's V at every save time, flattened (mV)."""
        return self.traces(theta)[0].ravel()


def make_protocol(
    model: PointNeuron,
    stimuli: AbstractStimulus | float | Sequence[AbstractStimulus | float],
    ts: Float[ArrayLike, " T"],
    wrt: Sequence[str],
    *,
    y0: InitialState = DEFAULT_Y0["analysis"],
    rtol: float = RTOL,
    atol: float = ATOL,
    max_steps: int = MAX_STEPS,
) -> tuple[Protocol, list[int]]:
    """A :class:`Protocol` and the order of its sweeps (sweep indices, grouped)."""
    if isinstance(stimuli, AbstractStimulus | int | float):
        stimuli = [stimuli]
    stimuli = [as_stimulus(s) for s in stimuli]
    if not stimuli:
        raise ValueError("the protocol has no sweeps: give at least one stimulus.")
    groups: dict = {}
    for k, s in enumerate(stimuli):
        groups.setdefault(jax.tree.structure(s), []).append(k)
    stacked = tuple(
        jax.tree.map(lambda *xs: jnp.stack(xs), *[stimuli[k] for k in idx])
        for idx in groups.values()
    )
    order = [k for idx in groups.values() for k in idx]
    ts = jnp.asarray(ts, dtype=jnp.result_type(float))
    check_y0(y0)
    from_rest = is_named(y0, "rest")
    protocol = Protocol(
        model=model,
        selection=select(model, None, wrt),
        groups=stacked,
        ts=ts,
        y0=None if (y0 is None or isinstance(y0, str)) else resolve_y0(model, y0),
        from_rest=from_rest,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
    )
    return protocol, order


@eqx.filter_jit
def _jacobian(protocol: Protocol, theta):
    def f(th):
        V, status = protocol.traces(th)
        return V.ravel(), (V, status)

    return jax.jacfwd(f, has_aux=True)(theta)


def check_sigma(sigma) -> float:
    sigma = float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"the noise `sigma` must be finite and > 0 mV; got {sigma}.")
    return sigma


@dataclasses.dataclass
class FisherInformation(TabularResult):
    """Fisher information of a protocol for Gaussian voltage noise.

    - `wrt`, `parameter_units`, `parameter_values` (P,).
    - `matrix` (P, P): ``J^T J / sigma^2``, entry (i, j) in
      ``1 / (unit_i unit_j)``; `sigma` in mV; `num_residuals` (sweeps x times).
    - `V` (S, T): the sweeps' traces (mV) at `t` (ms); `status` (S,).
    - `wall_time_s`.
    """

    wrt: list[str]
    parameter_units: list[str]
    parameter_values: np.ndarray
    matrix: np.ndarray
    sigma: float
    num_residuals: int
    t: np.ndarray
    V: np.ndarray
    status: np.ndarray
    wall_time_s: float

    @property
    def log_matrix(self) -> np.ndarray:
        """Information about ``log theta``: ``D F D``, dimensionless."""
        d = self.parameter_values
        return self.matrix * np.outer(d, d)

    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues (descending: stiffest first) and eigenvectors (columns) of
        :attr:`log_matrix`; each vector is a direction in log-parameter space."""
        w, v = np.linalg.eigh(self.log_matrix)
        order = np.argsort(w)[::-1]
        v = v[:, order]
        v = v * np.where(v[np.argmax(np.abs(v), axis=0), range(len(w))] < 0, -1, 1)
        return w[order], v

    @property
    def log_covariance(self) -> np.ndarray:
        """Cramér–Rao covariance of ``log theta`` (inf along unidentifiable
        combinations)."""
        w, v = self.eigen()
        tiny = w <= _RCOND * max(w[0], 0.0)
        inv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, w))
        cov = (v * inv) @ v.T
        if tiny.any():
            loads = np.any(np.abs(v[:, tiny]) > 1e-8, axis=1)
            cov[loads, :] = np.inf
            cov[:, loads] = np.inf
        return cov

    @property
    def covariance(self) -> np.ndarray:
        """Cramér–Rao covariance of theta, ``F^-1`` ((unit_i unit_j))."""
        d = self.parameter_values
        with np.errstate(invalid="ignore"):
            return self.log_covariance * np.outer(d, d)

    @property
    def cramer_rao(self) -> np.ndarray:
        """Lower bound on each parameter's standard deviation (its unit)."""
        return np.sqrt(np.diag(self.covariance))

    @property
    def relative_cramer_rao(self) -> np.ndarray:
        """:attr:`cramer_rao` / |theta| (dimensionless)."""
        return self.cramer_rao / np.abs(self.parameter_values)

    @property
    def correlation(self) -> np.ndarray:
        """Correlation matrix of the Cramér–Rao covariance (NaN where a bound is
        infinite)."""
        c = self.log_covariance
        s = np.sqrt(np.diag(c))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = c / np.outer(s, s)
        return np.where(np.isfinite(np.outer(s, s)), out, np.nan)

    @property
    def log_det(self) -> float:
        """``log det`` of the log-parameter information (D-optimality; -inf if
        singular)."""
        sign, value = np.linalg.slogdet(self.log_matrix)
        return float(value) if sign > 0 else -np.inf

    @property
    def min_eigenvalue(self) -> float:
        """Smallest eigenvalue of the log-parameter information (E-optimality)."""
        return float(self.eigen()[0][-1])

    def summary(self) -> dict:
        w, v = self.eigen()
        return dict(
            sigma_mV=self.sigma,
            num_residuals=self.num_residuals,
            parameters={
                p: dict(
                    value=float(x),
                    unit=u,
                    cramer_rao_sd=float(sd),
                    relative_sd=float(rel),
                )
                for p, x, u, sd, rel in zip(
                    self.wrt,
                    self.parameter_values,
                    self.parameter_units,
                    self.cramer_rao,
                    self.relative_cramer_rao,
                )
            },
            fisher_matrix=self.matrix,
            log_fisher_eigenvalues=w,
            log_fisher_eigenvectors=v,
            correlation=self.correlation,
            log_det=self.log_det,
            min_eigenvalue=self.min_eigenvalue,
            sweep_status=[Status(int(s)).name for s in self.status],
            wall_time_s=self.wall_time_s,
        )

    table_rule = False

    def rows(self) -> list[dict]:
        """Per parameter: value, Cramér–Rao sd, and its rows of F and of the
        correlation matrix (the CSV file)."""
        rows = []
        for i, p in enumerate(self.wrt):
            row = dict(
                parameter=p,
                value=float(self.parameter_values[i]),
                unit=self.parameter_units[i],
                cramer_rao_sd=float(self.cramer_rao[i]),
                relative_sd=float(self.relative_cramer_rao[i]),
            )
            for j, q in enumerate(self.wrt):
                row[f"F[{q}]"] = float(self.matrix[i, j])
            for j, q in enumerate(self.wrt):
                row[f"corr[{q}]"] = float(self.correlation[i, j])
            rows.append(row)
        return rows

    def columns(self) -> list[Column]:
        return [
            Column("parameter", 10, align="<"),
            Column("value", 11, ".5g", gap=2),
            Column("unit", 9, align="<"),
            Column("cramer_rao_sd", 11, ".4g", header="CR sd"),
            Column("relative_sd", 10, ".3g", header="rel. sd"),
        ]

    def table_title(self) -> list[str]:
        return [
            f"Fisher information, sigma = {self.sigma:g} mV, "
            f"{self.num_residuals} residuals"
        ]

    def table_footer(self) -> list[str]:
        w, v = self.eigen()
        lines = ["log-parameter eigenvalues (stiff -> sloppy) and directions:"]
        for k in range(len(w)):
            direction = " ".join(f"{c:+.2f}" for c in v[:, k])
            lines.append(f"  {w[k]:>11.4g}   [{direction}]")
        lines.append(f"  ({' '.join(self.wrt)})")
        return lines

    def to_dict(self) -> dict:
        return dict(parameters_order=self.wrt, **self.summary())


def fisher_information(
    model: PointNeuron,
    stimuli: AbstractStimulus | float | Sequence[AbstractStimulus | float],
    ts: Float[ArrayLike, " T"],
    *,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    sigma: float = 1.0,
    y0: InitialState = DEFAULT_Y0["analysis"],
    rtol: float = RTOL,
    atol: float = ATOL,
    max_steps: int = MAX_STEPS,
) -> FisherInformation:
    """Fisher information of the model parameters `wrt` for a protocol of sweeps
    (`stimuli`, one sweep each, uA/cm^2) recorded at `ts` (ms) with Gaussian noise
    of `sigma` mV on every sample.

    Stimuli of equal structure (e.g. ``Step``s of several amplitudes) run in one
    vmapped forward-sensitivity solve. Raises ``ValueError`` for a `sigma` that is
    not finite and > 0 or an unknown parameter name. Failed sweeps are reported in
    ``status``; their rows make the matrix NaN.
    """
    start = time.perf_counter()
    sigma = check_sigma(sigma)
    protocol, order = make_protocol(
        model, stimuli, ts, wrt, y0=y0, rtol=rtol, atol=atol, max_steps=max_steps
    )
    theta = protocol.selection.read(model, None)
    J, (V, status) = _jacobian(protocol, theta)
    J = np.asarray(J, float)
    back = np.argsort(order)
    return FisherInformation(
        wrt=list(protocol.selection.names),
        parameter_units=list(protocol.selection.units),
        parameter_values=np.asarray(theta, float),
        matrix=J.T @ J / sigma**2,
        sigma=sigma,
        num_residuals=int(J.shape[0]),
        t=np.asarray(protocol.ts),
        V=np.asarray(V, float)[back],
        status=np.asarray(status)[back],
        wall_time_s=time.perf_counter() - start,
    )
