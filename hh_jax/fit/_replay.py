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

from ..io import Recording, Sweep
from ..model import PointNeuron, resting_state
from ..simulate import simulate
from ..trace import Status

STEPS_PER_MS = 40  # solver steps budgeted per ms of sweep (spiking cells need ~10)
MIN_STEPS = 20_000


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


def replay(
    model: PointNeuron,
    sweeps: list[Sweep],
    *,
    area_um2: float | None = None,
    V_guess: float = -65.0,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    max_steps: int | None = None,
) -> list[np.ndarray]:
    """The model's V (mV) at every sample of each sweep.

    **Arguments:** `model`; `sweeps` (whole-cell ones need `area_um2`, um^2);
    `V_guess` (mV) where the search for the resting state starts; solver
    tolerances; `max_steps` (default: :func:`max_steps_for` the longest sweep).

    Raises ``RuntimeError`` naming each sweep that failed (solver step budget,
    non-finite values, no resting state) and why."""
    recording = Recording(list(sweeps))
    whole_cell = sweeps[0].current_unit != "uA/cm^2"
    if whole_cell and area_um2 is None:
        raise ValueError("whole-cell sweeps (pA) need the membrane `area_um2` (um^2).")
    area_cm2 = area_um2 * 1e-8 if whole_cell else None
    stimulus = recording.padded_stimulus(area_cm2=area_cm2)
    t, _, mask = recording.padded()
    if max_steps is None:
        max_steps = max_steps_for(max(s.duration for s in sweeps))
    trace = _replay(
        model,
        stimulus,
        jnp.asarray(t),
        stimulus.values[:, 0],
        jnp.asarray(V_guess, dtype=jnp.asarray(t).dtype),
        rtol,
        atol,
        int(max_steps),
    )
    status = np.asarray(trace.status)
    V = np.asarray(trace.V)
    failed = [
        f"{s.name or i}: "
        + (
            "no resting state under the holding current"
            if not np.isfinite(V[i, 0])
            else Status(int(status[i])).message
        )
        for i, s in enumerate(sweeps)
        if status[i] != Status.OK or not np.all(np.isfinite(V[i][mask[i]]))
    ]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(sweeps)} sweep simulation(s) failed (max_steps "
            f"{max_steps}): " + "; ".join(failed)
        )
    return [V[i][mask[i]] for i in range(len(sweeps))]
