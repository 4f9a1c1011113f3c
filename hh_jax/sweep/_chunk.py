"""One chunk of a sweep: a batched model sharded over the local devices, simulated
with the fixed-step RK4 path, reduced to per-neuron features.

Every chunk has the same padded length, so one compilation serves all of them;
the padding repeats the last real parameter set (:func:`hh_jax.batching.map_chunks`
cuts, pads and unpads) and is dropped afterwards.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..batching import padded_length as _padded
from ..fixed_step import simulate_fixed
from ..model import PointNeuron
from ..stimulus import AbstractStimulus
from ._features import spike_features

AXIS = "neuron"


def neuron_mesh(devices=None) -> Mesh:
    """A 1-D mesh (axis ``"neuron"``) over `devices`, by default this process's
    local devices (``jax.local_devices()``): each process shards its own chunks
    over its own accelerators; processes never communicate."""
    devices = jax.local_devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("no devices to run the sweep on.")
    return Mesh(np.asarray(devices), (AXIS,))


@dataclasses.dataclass(frozen=True)
class ChunkSettings:
    """How each chunk is simulated (times in ms, threshold in mV)."""

    duration: float
    dt: float
    max_spikes: int
    threshold: float
    window: tuple[float, float]
    y0: str | tuple[float, ...]  # "steady", "rest" or [V, gates...] (initial_state)
    save_spikes: bool
    save_interval: float | None

    def save_times(self) -> np.ndarray:
        """Save times (ms): only the ends unless V is saved; spikes are recorded
        during integration, independent of these."""
        if self.save_interval is None:
            return np.array([0.0, self.duration])
        n = int(np.floor(self.duration / self.save_interval + 1e-9))
        ts = self.save_interval * np.arange(n + 1)
        if self.duration - ts[-1] > 1e-9:
            ts = np.append(ts, self.duration)
        return ts


def padded_length(n: int, mesh: Mesh) -> int:
    """`n` rounded up to a multiple of the mesh size."""
    return _padded(n, mesh.size)


def dispatch_chunk(
    model: PointNeuron,
    values: dict[str, np.ndarray],
    stimulus: AbstractStimulus,
    settings: ChunkSettings,
    mesh: Mesh,
) -> dict[str, jax.Array]:
    """Start simulating the parameter sets `values` (each ``(length,)``, padded,
    `length` a multiple of the mesh size) sharded over `mesh`. Returns device
    arrays (features, and spikes / V when asked) of leading length `length`,
    without waiting for them (JAX dispatches asynchronously)."""
    dtype = jnp.result_type(float)
    sharding = NamedSharding(mesh, PartitionSpec(AXIS))
    sharded = {
        name: jax.device_put(np.asarray(v).astype(dtype), sharding)
        for name, v in values.items()
    }
    batch_model = model.replace(**sharded)
    y0 = settings.y0 if isinstance(settings.y0, str) else np.asarray(settings.y0)
    trace = simulate_fixed(
        batch_model,
        stimulus,
        settings.save_times(),
        dt=settings.dt,
        y0=y0,
        checkpoint=False,
        max_spikes=settings.max_spikes,
        threshold=settings.threshold,
    )
    onset, offset = settings.window
    out = dict(
        spike_features(
            trace.spikes,
            trace.spike_count,
            trace.status,
            jnp.asarray(onset, dtype),
            jnp.asarray(offset, dtype),
            jnp.asarray(settings.duration, dtype),
        )
    )
    if settings.save_spikes:
        out["spikes"] = trace.spikes
    if settings.save_interval is not None:
        out["V"] = trace.V
    return out
