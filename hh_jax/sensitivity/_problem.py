"""A simulation with named free parameters and named outputs: the function
``theta -> outputs`` that every local and global analysis differentiates.
"""

from collections.abc import Sequence

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .. import tolerances
from .._checks import check_increasing
from ..initial_state import DEFAULT_Y0, check_y0, is_named, resolve_y0
from ..initial_state import InitialState as _Named
from ..model import PointNeuron, State
from ..simulate import simulate
from ..stimulus import AbstractStimulus, as_stimulus
from ..trace import Status, Trace
from ._outputs import THRESHOLD, Outputs, check_output_names, rest_of
from ._outputs import stimulus_window as _stimulus_window
from ._params import ParameterSelection, select
from ._settings import GlobalSettings, LocalSettings

# Tighter than simulate's defaults (hh_jax.tolerances): derivatives of adaptive
# solutions match finite differences only when the solution itself is accurate.
RTOL = tolerances.LOCAL_SENSITIVITY.rtol
ATOL = tolerances.LOCAL_SENSITIVITY.atol
MAX_STEPS = tolerances.LOCAL_SENSITIVITY.max_steps

InitialState = _Named | None
Adjoint = str | dfx.AbstractAdjoint  # as for hh_jax.simulate


class Problem(eqx.Module):
    """`model` driven by `stimulus`, saved at `ts` (ms), started from `y0` (a
    :class:`hh_jax.State`, ``None`` for simulate's default, or the model's own
    resting state when `from_rest`), with free parameters `selection` and outputs
    `outputs`. Build it with :func:`make_problem`."""

    model: PointNeuron
    stimulus: AbstractStimulus
    ts: Float[Array, " T"]
    y0: State | None
    selection: ParameterSelection
    outputs: Outputs
    from_rest: bool = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def theta0(self) -> Float[Array, " P"]:
        """The selected parameters' current values (physical units)."""
        return self.selection.read(self.model, self.stimulus)

    def simulate(self, theta: Float[Array, " P"], adjoint: Adjoint) -> tuple:
        """(trace, model) for parameters `theta`; never raises (read the status)."""
        model, stimulus = self.selection.apply(self.model, self.stimulus, theta)
        if self.from_rest:
            y0 = rest_of(model, self.outputs.batched)
        else:
            y0 = self.y0
        trace = simulate(
            model,
            stimulus,
            self.ts,
            y0=y0,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
            gates=self.outputs.loss is not None,
            adjoint=adjoint,
            throw=False,
        )
        return trace, model

    def evaluate(
        self, theta: Float[Array, " P"], adjoint: Adjoint = "reverse"
    ) -> tuple[dict[str, Array], Int[Array, ""]]:
        """(outputs by name, simulation status) for parameters `theta`."""
        if self.outputs.needs_trace:
            trace, model = self.simulate(theta, adjoint)
            status = trace.status
        else:
            model = self.selection.apply(self.model, self.stimulus, theta)[0]
            trace, status = None, jnp.asarray(int(Status.OK))
        return self.outputs(trace, model), status


def forward_trace(
    model: PointNeuron, stimulus, ts, y0, *, rtol: float, atol: float, max_steps: int
) -> Trace:
    """One simulation whose V is differentiated in forward mode (Fisher
    information, implicit thresholds): no gates saved, never raises (read
    ``status``)."""
    return simulate(
        model,
        stimulus,
        ts,
        y0=y0,
        gates=False,
        adjoint="forward",
        throw=False,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
    )


def make_problem(
    model: PointNeuron,
    stimulus: AbstractStimulus | float | None,
    ts: Float[ArrayLike, " T"] | Sequence[float] | None,
    *,
    outputs: Sequence[str],
    wrt: Sequence[str],
    y0: InitialState = DEFAULT_Y0["analysis"],
    threshold: float = THRESHOLD,
    settings: LocalSettings | GlobalSettings = LocalSettings(),
    scalar_only: bool = False,
    batched: bool = False,
) -> Problem:
    """Check every argument and build a :class:`Problem` (see
    :func:`hh_jax.sensitivity.local_sensitivity` for their meaning; `settings`
    gives the `loss`, `window`, `sharpness`, `rtol`, `atol` and `max_steps`)."""
    loss, window, sharpness = settings.loss, settings.window, settings.sharpness
    rtol, atol, max_steps = settings.rtol, settings.atol, settings.max_steps
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    names = check_output_names(outputs, scalar_only=scalar_only)
    if loss is not None and not callable(loss):
        raise TypeError("`loss` must be a function loss(trace) -> scalar.")
    needs_trace = any(n != "rest" for n in names)
    if needs_trace and (stimulus is None or ts is None):
        raise ValueError(f"outputs {list(names)} need a stimulus and save times `ts`.")
    stimulus = as_stimulus(0.0 if stimulus is None else stimulus)
    if ts is None:
        ts = jnp.asarray([0.0, 1.0])
    check_increasing("ts", ts, "ms")
    ts = jnp.asarray(ts, dtype=jnp.result_type(float))
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"`ts` must be 1-D with >= 2 save times (ms); got {ts.shape}.")
    t0, t1 = float(ts[0]), float(ts[-1])
    if window is None:
        window = _stimulus_window(stimulus, t0, t1)
    window = (float(window[0]), float(window[1]))
    if not window[1] > window[0]:
        raise ValueError(f"`window` must have end > start (ms); got {window}.")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"`rtol` and `atol` must be > 0; got {rtol}, {atol}.")
    check_y0(y0)
    from_rest = is_named(y0, "rest")
    # None (simulate's "steady") or a fixed state; "rest" is solved per theta.
    state = None if (y0 is None or isinstance(y0, str)) else resolve_y0(model, y0)
    return Problem(
        model=model,
        stimulus=stimulus,
        ts=ts,
        y0=state,
        selection=select(model, stimulus, wrt),
        outputs=Outputs(
            names=names,
            window=window,
            threshold=float(threshold),
            sharpness=float(sharpness),
            loss=loss,
            batched=batched,
        ),
        from_rest=from_rest,
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
    )


@eqx.filter_jit
def output_values(
    problem: Problem, theta: Float[Array, " P"]
) -> tuple[dict[str, Array], Int[Array, ""]]:
    """Outputs and status at `theta`, compiled (for finite differences, sweeps)."""
    return problem.evaluate(theta)


def batched_outputs(problem: Problem, thetas: Float[Array, "B P"]):
    """Outputs and statuses of a batch of parameter vectors, vmapped."""
    return jax.vmap(problem.evaluate)(thetas)
