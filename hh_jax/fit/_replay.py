"""Replaying recorded sweeps with a model: the whole sweep, on its own clock.

Used to validate a fit on sweeps it did not see and to draw the fitted traces.
Each sweep starts at the model's resting state under the sweep's holding current
(converted to a density with the membrane area for whole-cell data) and runs
over the full recording with the accurate adaptive solver; the solver's step
budget grows with the duration. A sweep whose simulation fails raises, naming
the sweep and the reason.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import tolerances
from ..io import Recording, Sweep
from ..model import PointNeuron, resting_state
from ..simulate import simulate
from ..trace import Status

STEPS_PER_MS = 40  # solver steps budgeted per ms of sweep (spiking cells need ~10)
MIN_STEPS = tolerances.FIT.max_steps


def max_steps_for(duration_ms: float) -> int:
    """The default solver step budget for a sweep of `duration_ms`."""
    return int(MIN_STEPS + STEPS_PER_MS * max(float(duration_ms), 0.0))


@eqx.filter_jit
def _replay(model, stimulus, t, holding, V_guess, rtol, atol, max_steps):
    def one(stim, ts, I0):
        y0 = resting_state(model, holding_current=I0, V_guess=V_guess, throw=False)
        return simulate(
            model,
            stim,
            ts,
            y0=y0,
            throw=False,
            gates=False,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
        )

    return jax.vmap(one)(stimulus, t, holding)


def replay_each(
    model: PointNeuron,
    sweeps: list[Sweep],
    *,
    area_um2: float | None = None,
    V_guess: float = -65.0,
    rtol: float = tolerances.FIT.rtol,
    atol: float = tolerances.FIT.atol,
    max_steps: int | None = None,
) -> tuple[list[np.ndarray | None], dict[int, str]]:
    """The model's V (mV) at every sample of each sweep, or None for a sweep
    whose simulation failed, and why it failed (by position in `sweeps`).
    Sweeps that exhaust the step budget are tried once more with four times it.
    Arguments as :func:`replay`."""
    recording = Recording(list(sweeps))
    whole_cell = sweeps[0].current_unit != "uA/cm^2"
    if whole_cell and area_um2 is None:
        raise ValueError("whole-cell sweeps (pA) need the membrane `area_um2` (um^2).")
    area_cm2 = area_um2 * 1e-8 if whole_cell else None
    stimulus = recording.padded_stimulus(area_cm2=area_cm2)
    t, _, mask = recording.padded()
    if max_steps is None:
        max_steps = max_steps_for(max(s.duration for s in sweeps))
    out: list[np.ndarray | None] = [None] * len(sweeps)
    failures: dict[int, str] = {}
    todo = np.arange(len(sweeps))
    for budget in (int(max_steps), 4 * int(max_steps)):
        trace = _replay(
            model,
            jax.tree.map(lambda x: x[todo], stimulus),
            jnp.asarray(t[todo]),
            stimulus.values[todo, 0],
            jnp.asarray(V_guess, dtype=jnp.asarray(t).dtype),
            rtol,
            atol,
            budget,
        )
        status, V = np.asarray(trace.status), np.asarray(trace.V)
        again = []
        for j, i in enumerate(todo):
            ok = status[j] == Status.OK and np.all(np.isfinite(V[j][mask[i]]))
            if ok:
                out[i] = V[j][mask[i]]
                failures.pop(int(i), None)
                continue
            failures[int(i)] = (
                "no resting state under the holding current"
                if not np.isfinite(V[j, 0])
                else f"{Status(int(status[j])).message} (max_steps {budget})"
            )
            if status[j] == Status.MAX_STEPS_REACHED:
                again.append(i)
        if not again:
            break
        todo = np.asarray(again)
    return out, failures


def replay(
    model: PointNeuron,
    sweeps: list[Sweep],
    *,
    area_um2: float | None = None,
    V_guess: float = -65.0,
    rtol: float = tolerances.FIT.rtol,
    atol: float = tolerances.FIT.atol,
    max_steps: int | None = None,
) -> list[np.ndarray]:
    """The model's V (mV) at every sample of each sweep.

    **Arguments:** `model`; `sweeps` (whole-cell ones need `area_um2`, um^2);
    `V_guess` (mV) where the search for the resting state starts; solver
    tolerances; `max_steps` (default: :func:`max_steps_for` the longest sweep).

    Raises ``RuntimeError`` naming each sweep that failed (solver step budget,
    non-finite values, no resting state) and why."""
    V, failures = replay_each(
        model,
        sweeps,
        area_um2=area_um2,
        V_guess=V_guess,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
    )
    if failures:
        raise RuntimeError(
            f"{len(failures)} of {len(sweeps)} sweep simulation(s) failed: "
            + "; ".join(f"{sweeps[i].name or i}: {m}" for i, m in failures.items())
        )
    return V
