"""Exponential midpoint steps (second-order Rush–Larsen) for point neurons.

Every state variable of a :class:`hh_jax.PointNeuron` obeys ``y' = a - b y``
with ``b >= 0`` while the others are held:

- a gate or pool by the ``state_rates`` contract (``a = alpha``,
  ``b = alpha + beta``);
- the membrane potential because the ionic current is affine in V with the
  gates held: ``b = (dI_ion/dV) / C_m``, the membrane conductance over its
  capacitance (taken exactly by a Jacobian-vector product, so currents that are
  not ohmic work too), ``a = dV/dt + b V``.

One step of length h from ``y_n``::

    y_half  = y_n + (h/2) (a(y_n)    - b(y_n)    y_n) phi(b(y_n) h/2)
    y_{n+1} = y_n +  h    (a(y_half) - b(y_half) y_n) phi(b(y_half) h)

with ``phi(z) = (1 - exp(-z)) / z``: the exact solution of the linear equation
frozen at the midpoint, second order in h (Perego and Veneziani's second-order
Rush–Larsen scheme, with V treated as the gates are). Each variable relaxes
towards ``a/b`` without overshoot, so V stays between the reversal potentials
(shifted by I_ext/g) however large the conductances: explicit Runge–Kutta steps
of 0.025–0.05 ms become unstable at a few hundred mS/cm^2 (measured on the
fast-spiking preset), which a search over wide bounds reaches routinely.

The step is two evaluations of the rates (RK4 needs four) and is differentiated
by JAX through the scan (forward and reverse mode).
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from .._numerics import x_over_expm1
from ..model import PointNeuron, State


def relaxation_factor(z: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``phi(z) = (1 - exp(-z)) / z`` for ``z >= 0``, exact at 0 (value 1) and
    for large z (no overflow): ``1 / x_over_expm1(-z)``."""
    return 1.0 / x_over_expm1(-z)


def linear_coefficients(
    model: PointNeuron, state: State, I_ext: Float[Array, "*shape"]
) -> tuple[tuple[Array, Array], dict[str, tuple[Array, Array]]]:
    """``(a, b)`` of ``y' = a - b y`` for V (mV/ms, 1/ms) and for every other
    state variable, by name, in `state` under applied current `I_ext`
    (uA/cm^2)."""
    gates = state.gates

    def ionic(V):
        return model.membrane_current(State(V=V, gates=gates))

    I_ion, slope = jax.jvp(ionic, (state.V,), (jnp.ones_like(state.V),))
    b_V = slope / model.C_m
    a_V = (I_ext - I_ion) / model.C_m + b_V * state.V
    rates = model.state_rates(state)
    others = {n: (r.alpha, r.alpha + r.beta) for n, r in rates.items()}
    return (a_V, b_V), others


def _relax(y, a, b, h):
    return y + h * (a - b * y) * relaxation_factor(b * h)


def exponential_midpoint_step(
    model: PointNeuron,
    state: State,
    I_ext: Float[Array, "*shape"],
    h: Float[ArrayLike, ""],
) -> State:
    """One exponential midpoint step of `h` ms under the constant current
    `I_ext` (uA/cm^2)."""
    (a, b), rates = linear_coefficients(model, state, I_ext)
    half = State(
        V=_relax(state.V, a, b, 0.5 * h),
        gates={n: _relax(x, *rates[n], 0.5 * h) for n, x in state.gates.items()},
    )
    (a, b), rates = linear_coefficients(model, half, I_ext)
    return State(
        V=_relax(state.V, a, b, h),
        gates={n: _relax(x, *rates[n], h) for n, x in state.gates.items()},
    )


def integrate_exponential(
    model: PointNeuron,
    y0: State,
    levels: Float[Array, " K *shape"],
    level_of_step: Int[Array, " S"],
    h: float,
) -> Float[Array, " S+1 *shape"]:
    """V (mV) at ``t = 0, h, ..., S h`` from `y0`, step k under the applied
    current ``levels[level_of_step[k]]`` (uA/cm^2; a piecewise-constant command
    whose changes fall on the grid). `model` and `levels` may carry a lane axis
    (their leaves broadcast against the state's)."""
    dtype = y0.V.dtype
    h = jnp.asarray(h, dtype)

    def step(state, k):
        new = exponential_midpoint_step(model, state, levels[k], h)
        return new, new.V

    _, V = jax.lax.scan(step, y0, level_of_step)
    return jnp.concatenate([y0.V[None], V], axis=0)
