"""Time-resolved sensitivity: dV(t)/dtheta at every save time from one forward
sensitivity solve (``jax.jacfwd`` through the solver with
``diffrax.ForwardMode``)."""

import dataclasses
import time
from collections.abc import Sequence

import jax
import numpy as np
from jaxtyping import ArrayLike, Float

from ..initial_state import DEFAULT_Y0
from ..model import PointNeuron
from ..stimulus import AbstractStimulus
from ..trace import Status
from ._local import jacobian
from ._problem import ATOL, MAX_STEPS, RTOL, InitialState, make_problem
from ._settings import LocalSettings
from ._tables import derivative_unit, write_csv


@dataclasses.dataclass
class TraceSensitivity:
    """``dV(t)/dtheta`` for every save time and parameter.

    - `t` (T,), ms; `V` (T,), mV; `I_ext` (T,), the applied current, uA/cm^2.
    - `wrt`, `parameter_units`, `parameter_values` (P,).
    - `dV` (T, P): raw sensitivities, mV per parameter unit.
    - `status`, `wall_time_s`.
    """

    t: np.ndarray
    V: np.ndarray
    I_ext: np.ndarray
    wrt: list[str]
    parameter_units: list[str]
    parameter_values: np.ndarray
    dV: np.ndarray
    status: int
    wall_time_s: float

    @property
    def normalised(self) -> np.ndarray:
        """``theta dV/dtheta`` (T, P) in mV: the first-order change of V(t) for a
        100 % increase of each parameter (1 % gives a hundredth of it)."""
        return self.dV * self.parameter_values

    def units(self) -> list[str]:
        return [derivative_unit("mV", u) for u in self.parameter_units]

    def to_csv(self, path) -> None:
        """Columns t, V, then dV/d<name> for each parameter (units in the header)."""
        rows = []
        units = self.units()
        for k in range(len(self.t)):
            row = {"t (ms)": float(self.t[k]), "V (mV)": float(self.V[k])}
            for j, (name, unit) in enumerate(zip(self.wrt, units)):
                row[f"dV/d{name} ({unit})"] = float(self.dV[k, j])
            rows.append(row)
        write_csv(path, rows)


def trace_sensitivity(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"] | Sequence[float],
    *,
    wrt: Sequence[str] = ("g_Na", "g_K", "g_L"),
    y0: InitialState = DEFAULT_Y0["analysis"],
    rtol: float = RTOL,
    atol: float = ATOL,
    max_steps: int = MAX_STEPS,
) -> TraceSensitivity:
    """``dV(t)/dtheta`` at all save times `ts` (ms) for the parameters `wrt`, in
    one forward-mode solve (the sensitivity equations integrated with the state).

    `y0`, `rtol`, `atol` as for :func:`local_sensitivity`. Plot the result with
    :func:`hh_jax.plot.plot_trace_sensitivity`.
    """
    start = time.perf_counter()
    problem = make_problem(
        model,
        stimulus,
        ts,
        outputs=("V",),
        wrt=wrt,
        y0=y0,
        settings=LocalSettings(rtol=rtol, atol=atol, max_steps=max_steps),
    )
    theta = problem.theta0()
    J, values, status = jacobian(problem, theta, "forward")
    ts = np.asarray(problem.ts)
    I_ext = np.asarray(jax.vmap(problem.stimulus)(problem.ts), float)
    dV = np.asarray(J["V"], float)
    if int(status) != Status.OK:
        dV = np.full_like(dV, np.nan)
    return TraceSensitivity(
        t=ts,
        V=np.asarray(values["V"], float),
        I_ext=I_ext,
        wrt=list(problem.selection.names),
        parameter_units=list(problem.selection.units),
        parameter_values=np.asarray(theta, float),
        dV=dV,
        status=int(status),
        wall_time_s=time.perf_counter() - start,
    )
