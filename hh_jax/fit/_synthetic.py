"""Synthetic recordings: step protocols simulated from known parameters, with
Gaussian measurement noise, for testing fits and for the demo."""

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ..batch import simulate_batch
from ..io import Recording, Sweep
from ..model import PointNeuron, resting_state
from ..stimulus import Step


def synthetic_recording(
    model: PointNeuron,
    amplitudes: Sequence[float],
    *,
    start: float = 10.0,
    stop: float = 110.0,
    duration: float = 130.0,
    dt: float = 0.05,
    noise: float = 0.5,
    seed: int = 0,
) -> Recording:
    """One sweep per step amplitude (uA/cm^2) from `start` to `stop` ms, each
    `duration` ms long sampled every `dt` ms from the model's resting state, with
    independent Gaussian noise of standard deviation `noise` mV. Simulated at tight
    tolerance (rtol = atol = 1e-10)."""
    amplitudes = np.asarray(amplitudes, dtype=float)
    t = np.arange(0.0, duration - 0.5 * dt, dt)
    rest = resting_state(model)
    stimulus = Step(
        jnp.asarray(amplitudes),
        jnp.full(amplitudes.shape, start),
        jnp.full(amplitudes.shape, stop),
    )
    trace = simulate_batch(
        model,
        stimulus,
        t,
        y0=rest,
        stimulus_batched=True,
        gates=False,
        rtol=1e-10,
        atol=1e-10,
        progress=False,
    )
    trace.raise_if_failed()
    rng = np.random.default_rng(seed)
    V = np.asarray(trace.V) + noise * rng.standard_normal((len(amplitudes), t.size))
    sweeps = [
        Sweep(
            t,
            V[i],
            [0.0, start, stop],
            [0.0, a, 0.0],
            "uA/cm^2",
            name=f"{a:g} uA/cm^2",
            metadata=dict(noise_mV=noise, synthetic=True),
        )
        for i, a in enumerate(amplitudes)
    ]
    return Recording(
        sweeps,
        source="synthetic",
        metadata=dict(
            parameters={k: float(np.asarray(v)) for k, v in model.parameters().items()},
            noise_mV=noise,
            seed=seed,
        ),
    )
