"""Propagation measures: arrival times, conduction velocity, initiation site, and
passive attenuation (length constants).

Arrival times are interpolated threshold crossings (a cubic through the four
samples around the crossing, differentiable with respect to V), so velocities can
be differentiated with respect to any cable parameter.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..model import PointNeuron, State
from ._cable import Cable, Position
from ._solver import CableTrace

UM_PER_MS_TO_M_PER_S = 1e-3


def _newton_form(nodes, values):
    """Coefficients of the cubic through (nodes[..., i], values[..., i]) in
    Newton's form, ``a0 + a1 (t - x0) + a2 (t - x0)(t - x1) + a3 (...)(t - x2)``."""
    x = [nodes[..., i] for i in range(4)]
    d = [values[..., i] for i in range(4)]
    coefficients = [d[0]]
    for level in range(1, 4):
        d = [(d[i + 1] - d[i]) / (x[i + level] - x[i]) for i in range(4 - level)]
        coefficients.append(d[0])
    return x, coefficients


def _cubic(t, x, a):
    """Value and slope at `t` of the cubic in Newton form."""
    u0, u1, u2 = t - x[0], t - x[1], t - x[2]
    value = a[0] + u0 * (a[1] + u1 * (a[2] + u2 * a[3]))
    slope = a[1] + a[2] * (u0 + u1) + a[3] * (u1 * u2 + u0 * u2 + u0 * u1)
    return value, slope


def first_crossings(
    t: Float[ArrayLike, " T"], V: Float[ArrayLike, "*rows T"], threshold: float = 0.0
) -> Float[Array, "*rows"]:
    """Time (ms) of the first upward crossing of `threshold` (mV) along the last
    axis of `V` (sampled at `t`, ms; at least 4 samples): the root of the cubic
    through the four samples around the crossing (Newton from the linear guess),
    differentiable with respect to V by the implicit-function rule. NaN where V
    never crosses."""
    t, V = jnp.asarray(t), jnp.asarray(V)
    T = V.shape[-1]
    if T < 4 or t.shape != (T,):
        raise ValueError("`t` (1-D) and `V` need the same number (>= 4) of samples.")
    return _first_crossings(t, V, threshold)


@jax.jit
def _first_crossings(t, V, threshold):
    T = V.shape[-1]
    up = (V[..., :-1] < threshold) & (V[..., 1:] >= threshold)
    k = jnp.argmax(up, axis=-1)
    start = jnp.clip(k - 1, 0, T - 4)
    window = start[..., None] + jnp.arange(4).reshape((1,) * start.ndim + (4,))
    nodes = t[window]
    values = jnp.take_along_axis(V, window, axis=-1) - threshold
    t_k, t_k1 = t[k], t[k + 1]
    v_k = jnp.take_along_axis(V, k[..., None], axis=-1)[..., 0] - threshold
    v_k1 = jnp.take_along_axis(V, k[..., None] + 1, axis=-1)[..., 0] - threshold
    span = jnp.where(v_k1 == v_k, 1.0, v_k1 - v_k)
    guess = t_k + (t_k1 - t_k) * jnp.clip(-v_k / span, 0.0, 1.0)

    x_nodes, coefficients = _newton_form(nodes, values)

    def newton(x):
        value, slope = _cubic(x, x_nodes, coefficients)
        x = x - value / jnp.where(slope == 0, 1.0, slope)
        return jnp.clip(x, t_k, t_k1)

    x = jax.lax.stop_gradient(guess)
    for _ in range(4):
        x = jax.lax.stop_gradient(newton(x))
    x = newton(x)  # one step from a constant point: the implicit derivative
    return jnp.where(jnp.any(up, axis=-1), x, jnp.nan)


def arrival_times(trace: CableTrace, threshold: float = 0.0) -> Float[Array, " R"]:
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
    threshold: float = 0.0,
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
    cable: Cable, trace: CableTrace, *, threshold: float = 0.0
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
