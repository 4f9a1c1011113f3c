"""Local sensitivities: derivatives of named outputs with respect to named
parameters, by forward or reverse mode, with elasticities and units."""

import dataclasses
import time
from collections.abc import Sequence

import diffrax as dfx
import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..initial_state import DEFAULT_Y0
from ..model import PointNeuron
from ..settings import resolve_settings
from ..stimulus import AbstractStimulus
from ..trace import Status
from ._outputs import OUTPUTS, THRESHOLD
from ._problem import InitialState, Problem, make_problem
from ._settings import LocalSettings
from ._tables import Column, TabularResult, derivative_unit


@dataclasses.dataclass
class LocalSensitivity(TabularResult):
    """Derivatives of outputs with respect to parameters at one parameter point.

    - `wrt`, `parameter_units`, `parameter_values` (P,): the parameters.
    - `outputs`, `output_units`: the outputs; `values[name]` is the output (a
      scalar, or (T,) for ``V``) and `jacobian[name]` its derivative, (P,) or
      (T, P), in ``output unit / parameter unit``.
    - `t` (T,): save times, ms.
    - `mode`: ``"forward"`` (``jax.jacfwd``, forward sensitivities through the
      solver) or ``"reverse"`` (``jax.jacrev`` with the adjoint equations solved
      backwards, ``diffrax.BacksolveAdjoint``); `reason` says why it was chosen.
    - `status`: the simulation's :class:`hh_jax.Status`; `wall_time_s`.
    """

    wrt: list[str]
    parameter_units: list[str]
    parameter_values: np.ndarray
    outputs: list[str]
    output_units: list[str]
    values: dict[str, np.ndarray]
    jacobian: dict[str, np.ndarray]
    t: np.ndarray
    mode: str
    reason: str
    status: int
    wall_time_s: float

    def elasticity(self, name: str) -> np.ndarray:
        """Normalised sensitivity of output `name`: ``d log y / d log theta`` =
        ``theta / y * dy/dtheta`` (dimensionless, (P,)). For the trace ``V``, whose
        sign changes, the semi-normalised ``theta dV/dtheta`` (mV, (T, P)): the
        change of V for a 100 % change of each parameter, to first order."""
        J = self.jacobian[name]
        if OUTPUTS[name].trace:
            return J * self.parameter_values
        with np.errstate(divide="ignore", invalid="ignore"):
            return J * self.parameter_values / self.values[name]

    def elasticity_unit(self, name: str) -> str:
        return OUTPUTS[name].unit if OUTPUTS[name].trace else "1"

    def rows(self) -> list[dict]:
        """One row per (scalar output, parameter): value, derivative, elasticity,
        with units. The trace ``V`` is summarised by its largest |dV/dtheta|."""
        rows = []
        for name, unit in zip(self.outputs, self.output_units):
            trace = OUTPUTS[name].trace
            J, E = self.jacobian[name], self.elasticity(name)
            for j, (p, pu) in enumerate(zip(self.wrt, self.parameter_units)):
                if trace:
                    k = int(np.argmax(np.abs(J[:, j])))
                    row = dict(
                        output=f"{name}(t={self.t[k]:g} ms)",
                        value=float(self.values[name][k]),
                    )
                    d, e = float(J[k, j]), float(E[k, j])
                else:
                    row = dict(output=name, value=float(self.values[name]))
                    d, e = float(J[j]), float(E[j])
                row.update(
                    output_unit=unit,
                    parameter=p,
                    parameter_value=float(self.parameter_values[j]),
                    parameter_unit=pu,
                    derivative=d,
                    derivative_unit=derivative_unit(unit, pu),
                    elasticity=e,
                    elasticity_unit=self.elasticity_unit(name),
                )
                rows.append(row)
        return rows

    def columns(self) -> list[Column]:
        return [
            Column("output", 22, align="<"),
            Column("value", 11, ".5g", gap=2),
            Column("parameter", 10, align="<"),
            Column("derivative", 13, ".5g", gap=2),
            Column("derivative_unit", 18, header="unit", align="<"),
            Column("elasticity", 11, ".4g"),
        ]

    def table_footer(self) -> list[str]:
        return [f"({self.mode} mode: {self.reason})"]

    def to_dict(self) -> dict:
        return dict(
            mode=self.mode,
            reason=self.reason,
            status=Status(self.status).name,
            wall_time_s=self.wall_time_s,
            parameters={
                p: dict(value=float(v), unit=u)
                for p, v, u in zip(
                    self.wrt, self.parameter_values, self.parameter_units
                )
            },
            rows=self.rows(),
        )


def choose_mode(num_parameters: int, num_outputs: int, mode: str) -> tuple[str, str]:
    """``("forward" | "reverse", reason)``. Forward mode costs one tangent solve per
    parameter, reverse mode one adjoint solve per scalar output."""
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(
            f"`mode` must be 'auto', 'forward' or 'reverse'; got {mode!r}."
        )
    P, M = num_parameters, num_outputs
    if mode != "auto":
        return mode, f"requested ({P} parameters, {M} output values)"
    if P <= M:
        return "forward", f"{P} parameters <= {M} output values"
    return "reverse", f"{M} output values < {P} parameters"


def _jacobian(problem: Problem, theta, mode: str):
    # Reverse mode: the backsolve adjoint, with its own error control. The
    # discrete (checkpointed) adjoint overflows when the trajectory rests at an
    # exact equilibrium (as from `resting_state`): the controller, seeing no
    # error, lets steps grow far past the adjoint equations' stability limit.
    adjoint = "forward" if mode == "forward" else dfx.BacksolveAdjoint()

    def f(th):
        out, status = problem.evaluate(th, adjoint)
        return out, (out, status)

    transform = jax.jacfwd if mode == "forward" else jax.jacrev
    return transform(f, has_aux=True)(theta)


_jacobian_jit = eqx.filter_jit(_jacobian)


def jacobian(problem: Problem, theta: Float[Array, " P"], mode: str):
    """``(jacobian by output, values by output, status)`` at `theta`, compiled."""
    J, (values, status) = _jacobian_jit(problem, theta, mode)
    return J, values, status


def local_sensitivity(
    model: PointNeuron,
    stimulus: AbstractStimulus | float | None,
    ts: Float[ArrayLike, " T"] | Sequence[float] | None,
    *,
    outputs: Sequence[str] = ("spike_count", "latency"),
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    y0: InitialState = DEFAULT_Y0["analysis"],
    threshold: float = THRESHOLD,
    settings: LocalSettings | None = None,
    **options,
) -> LocalSensitivity:
    """Derivatives of `outputs` of one simulation with respect to `wrt`.

    **Arguments:**

    - `model`, `stimulus`, `ts`: as for :func:`hh_jax.simulate` (ms, uA/cm^2).
    - `outputs`: names from ``V`` (the trace, mV), ``spike_count`` (soft count),
      ``latency`` (soft first-spike latency, ms), ``rate`` (soft count / window,
      Hz), ``AP_amplitude`` (first spike, mV), ``rest`` (resting potential, mV)
      and ``loss`` (your `loss(trace)`); see :data:`OUTPUTS`.
    - `wrt`: model parameter names (``"g_Na"``, ``"C_m"``, ...) and stimulus
      fields (``"stimulus.amplitude"``).
    - `y0`: ``"rest"`` (the model's own resting state, which moves with the
      parameters; default), ``"steady"`` (-65 mV, gates at steady state), or a
      state.
    - `threshold`: mV, of the soft spike count.
    - `settings`: a :class:`LocalSettings`: `mode` (``"auto"``, ``"forward"``,
      ``"reverse"``), your `loss`, the `window` and `sharpness` of the spike
      outputs, and the solver's `rtol`, `atol`, `max_steps` (1e-8 by default, so
      that derivatives of the adaptive solution are accurate). Each of its
      fields may also be passed as a keyword.

    **Returns:** a :class:`LocalSensitivity` (raw derivatives and elasticities).
    Raises ``ValueError`` for unknown names; a failed simulation is reported in
    ``status`` (its numbers are NaN).
    """
    start = time.perf_counter()
    opts = resolve_settings(LocalSettings, settings, options, entry="local_sensitivity")
    problem = make_problem(
        model,
        stimulus,
        ts,
        outputs=outputs,
        wrt=wrt,
        y0=y0,
        threshold=threshold,
        settings=opts,
    )
    T = problem.ts.shape[0]
    num_values = sum(T if OUTPUTS[n].trace else 1 for n in problem.outputs.names)
    mode, reason = choose_mode(len(problem.selection), num_values, opts.mode)
    theta = problem.theta0()
    J, values, status = jacobian(problem, theta, mode)
    status = int(status)
    values = {k: np.asarray(v, float) for k, v in values.items()}
    J = {k: np.asarray(v, float) for k, v in J.items()}
    if status != Status.OK:
        J = {k: np.full_like(v, np.nan) for k, v in J.items()}
    return LocalSensitivity(
        wrt=list(problem.selection.names),
        parameter_units=list(problem.selection.units),
        parameter_values=np.asarray(theta, float),
        outputs=list(problem.outputs.names),
        output_units=list(problem.outputs.units()),
        values=values,
        jacobian=J,
        t=np.asarray(problem.ts),
        mode=mode,
        reason=reason,
        status=status,
        wall_time_s=time.perf_counter() - start,
    )
