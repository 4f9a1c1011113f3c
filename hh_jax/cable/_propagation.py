"""Propagation measures: arrival times, conduction velocity, initiation site, and
passive attenuation (length constants).

Arrival times are interpolated threshold crossings (:mod:`hh_jax.spikes`: a cubic
through the four samples around the crossing, differentiable with respect to V),
so velocities can be differentiated with respect to any cable parameter. The
threshold defaults to the package's -20 mV; NEURON's conduction velocities are
usually measured at 0 mV (pass ``threshold=0.0``).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..model import PointNeuron, State
from ..spikes import THRESHOLD, first_spike_times
from ._cable import Cable, Position
from ._solver import CableTrace

UM_PER_MS_TO_M_PER_S = 1e-3


def first_crossings(
    t: Float[ArrayLike, " T"],
    V: Float[ArrayLike, "*rows T"],
    threshold: float = THRESHOLD,
) -> Float[Array, "*rows"]:
    """Time (ms) of the first upward crossing of `threshold` (mV, default -20)
    along the last axis of `V` (sampled at `t`, ms; at least 4 samples): the first
    spike time of :func:`hh_jax.spikes.spike_times` (the root of the cubic through
    the four samples around the crossing), differentiable with respect to V by the
    implicit-function rule. NaN where V never crosses."""
    t, V = jnp.asarray(t), jnp.asarray(V)
    T = V.shape[-1]
    if T < 4 or t.shape != (T,):
        raise ValueError("`t` (1-D) and `V` need the same number (>= 4) of samples.")
    return first_spike_times(t, V, threshold)


def arrival_times(
    trace: CableTrace, threshold: float = THRESHOLD
) -> Float[Array, " R"]:
    """First upward crossing of `threshold` (mV) at each recorded node, ms
    (NaN where V never crosses); see :func:`first_crossings`."""
    return first_crossings(trace.t, trace.V, threshold)


def _row(trace: CableTrace, cable: Cable, position) -> int:
    node = cable.node(position)
    if node not in trace.nodes:
        raise ValueError(
            f"position {position!r} (node {cable.layout.describe(node)}) was not "
            "recorded; add it to `record`."
        )
    return trace.nodes.index(node)


def conduction_velocity(
    cable: Cable,
    trace: CableTrace,
    start: "Position | float",
    stop: "Position | float",
    *,
    threshold: float = THRESHOLD,
) -> Float[Array, ""]:
    """Conduction velocity (m/s) between two recorded positions: their path
    distance along the cell (um, between the nodes that represent them) over the
    difference of arrival times (ms) of the first crossing of `threshold` (mV).
    NaN if the spike does not reach both."""
    a, b = _row(trace, cable, start), _row(trace, cable, stop)
    distance = cable.layout.path_distance(trace.nodes[a], trace.nodes[b])
    times = arrival_times(trace, threshold)
    return distance / (times[b] - times[a]) * UM_PER_MS_TO_M_PER_S


def initiation_site(
    cable: Cable, trace: CableTrace, *, threshold: float = THRESHOLD
) -> tuple[int, float]:
    """The recorded node where V first crosses `threshold` (mV), and when (ms):
    ``(node index, time)``. Describe the node with ``cable.layout.describe``.
    Raises if V crosses nowhere."""
    times = np.asarray(arrival_times(trace, threshold))
    if not np.any(np.isfinite(times)):
        raise ValueError(f"V crosses {threshold} mV at no recorded node.")
    row = int(np.nanargmin(times))
    return trace.nodes[row], float(times[row])


def length_constant(
    diam: Float[ArrayLike, "..."],
    R_a: Float[ArrayLike, "..."],
    g_m: Float[ArrayLike, "..."],
) -> Float[Array, "..."]:
    """DC length constant (um) of a passive cylinder, ``sqrt(d / (4 R_a g_m))``,
    for diameter `diam` (um), axial resistivity `R_a` (ohm*cm) and membrane
    conductance `g_m` (mS/cm^2)."""
    d_cm = jnp.asarray(diam) * 1e-4
    g_S = jnp.asarray(g_m) * 1e-3
    return 1e4 * jnp.sqrt(d_cm / (4.0 * jnp.asarray(R_a) * g_S))


def membrane_conductance(neuron: PointNeuron, state: State) -> Float[Array, "..."]:
    """Slope conductance ``dI/dV`` (mS/cm^2) of the membrane at `state`, gates
    held fixed: the passive conductance a small fast signal sees."""
    current = lambda V: neuron.membrane_current(State(V, state.gates))  # noqa: E731
    V = jnp.asarray(state.V)
    return jax.jvp(current, (V,), (jnp.ones_like(V),))[1]


def fit_length_constant(
    distance: Float[ArrayLike, " R"], deflection: Float[ArrayLike, " R"]
) -> Float[Array, ""]:
    """Length constant (um) of an exponential decay ``|deflection| ~ exp(-x /
    lambda)`` fitted (least squares on the logarithm) to steady-state voltage
    deflections (mV, all of one sign and non-zero) at path distances (um)."""
    x = jnp.asarray(distance)
    y = jnp.log(jnp.abs(jnp.asarray(deflection)))
    xm, ym = jnp.mean(x), jnp.mean(y)
    slope = jnp.sum((x - xm) * (y - ym)) / jnp.sum((x - xm) ** 2)
    return -1.0 / slope
