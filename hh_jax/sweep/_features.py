"""Per-neuron sweep features from the spike times recorded during integration.

Features (units) stored for every parameter set:

- ``spike_count`` (1): upward crossings of the threshold over the whole run; -1 for
  a failed neuron.
- ``rate`` (Hz): spikes inside the stimulus window per second of window.
- ``latency`` (ms): first spike at or after the window's start, minus that start;
  NaN if there is none.
- ``status`` (:class:`hh_jax.Status` code): 0 OK, 3 non-finite, 4 invalid input.
- ``truncated`` (bool): more spikes than recorded slots (`max_spikes`); ``rate``
  is then exact only when the window ends with the run, else a lower bound.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..stimulus import AbstractStimulus

FEATURE_UNITS = {
    "spike_count": "1",
    "rate": "Hz",
    "latency": "ms",
    "status": "hh_jax.Status code",
    "truncated": "bool",
}


def stimulus_window(
    stimulus: AbstractStimulus, duration: float, dt: float
) -> tuple[float, float]:
    """The interval (ms) in which `stimulus` is nonzero, clipped to
    ``[0, duration]``: from the first time it is nonzero to the end of the last
    nonzero stretch. Sampled at its jump times and every `dt` / 2 ms in between, so
    step edges are exact. A stimulus that is zero throughout gives the whole run
    (the rate is then the spontaneous rate)."""
    jumps = np.ravel(np.asarray(stimulus.jump_times(), dtype=np.float64))
    jumps = jumps[np.isfinite(jumps) & (jumps > 0) & (jumps < duration)]
    n = max(int(np.ceil(duration / (0.5 * dt))), 1)
    t = np.unique(np.concatenate([np.linspace(0.0, duration, n + 1), jumps]))
    current = np.asarray(jax.vmap(stimulus)(jnp.asarray(t[:-1])))
    nonzero = np.flatnonzero(current != 0)
    if nonzero.size == 0:
        return 0.0, float(duration)
    return float(t[nonzero[0]]), float(t[nonzero[-1] + 1])


@jax.jit
def spike_features(
    spikes: Float[Array, "N S"],
    count: Int[Array, " N"],
    status: Int[Array, " N"],
    onset: Float[Array, ""],
    offset: Float[Array, ""],
    t_end: Float[Array, ""],
) -> dict[str, Array]:
    """Features of N neurons from their first S spike times (ms, NaN-padded,
    increasing), full spike counts and status, for the window [onset, offset) ms of
    a run that ends at `t_end` ms. See the module docstring for the definitions."""
    slots = spikes.shape[-1]
    recorded = jnp.minimum(count, slots)
    truncated = count > slots
    inside = (spikes >= onset) & (spikes < offset)  # NaN compares False
    n_inside = jnp.sum(inside, axis=-1)
    # Unrecorded spikes follow the last recorded one: inside the window when it
    # runs to the end of the simulation and the last recorded spike is in it.
    last = spikes[..., -1]
    tail = truncated & (offset >= t_end) & (last >= onset)
    n_inside = n_inside + jnp.where(tail, count - recorded, 0)
    rate = n_inside / ((offset - onset) * 1e-3)
    first = jnp.min(jnp.where(spikes >= onset, spikes, jnp.inf), axis=-1)
    latency = jnp.where(jnp.isfinite(first), first - onset, jnp.nan)
    ok = status == 0
    nan = jnp.asarray(jnp.nan, rate.dtype)
    return {
        "spike_count": jnp.where(ok, count, -1).astype(jnp.int32),
        "rate": jnp.where(ok, rate, nan),
        "latency": jnp.where(ok, latency, nan),
        "status": status.astype(jnp.int32),
        "truncated": jnp.where(ok, truncated, False),
    }
