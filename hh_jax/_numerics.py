"""Numerically safe building blocks for rate functions.

The Hodgkin–Huxley rates alpha_m and alpha_n have the form ``u / (1 - exp(-u))``,
which is 0/0 at u = 0 (V = -40 mV and V = -55 mV). Written naively, both the value
and the derivative are NaN there, and near it the derivative loses most of its digits
to cancellation. :func:`x_over_expm1` is exact to rounding everywhere, for the value
and for derivatives of any order, in float32 and float64.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

# Taylor coefficients of x / (exp(x) - 1) = sum_k B_k x^k / k!  (B_k: Bernoulli
# numbers). Highest power first, for Horner's scheme.
_BERNOULLI_SERIES = (
    1.0 / 74724249600.0,  # x^14
    -691.0 / 1307674368000.0,  # x^12
    1.0 / 47900160.0,  # x^10
    -1.0 / 1209600.0,  # x^8
    1.0 / 30240.0,  # x^6
    -1.0 / 720.0,  # x^4
    1.0 / 12.0,  # x^2
)
# Within |x| < 0.5 the series truncated after x^14 is off by at most 5e-18 relative,
# below float64 rounding; outside it the closed forms lose at most a few ulps.
_SERIES_RADIUS = 0.5


def _series(x: Array) -> Array:
    x2 = x * x
    even = jnp.zeros_like(x)
    for c in _BERNOULLI_SERIES:
        even = even * x2 + c
    # even now holds sum of c_{2k} x^{2k-2} for k >= 1; assemble 1 - x/2 + x^2 * even.
    return 1.0 - 0.5 * x + x2 * even


def x_over_expm1(x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """``x / (exp(x) - 1)``, continued by its limit 1 at ``x = 0``.

    Finite and exact to rounding for every finite ``x`` (no overflow for large
    ``|x|``), with exact derivatives of every order: each branch of the piecewise
    definition only ever sees inputs for which it is well conditioned, so no NaN or
    inf leaks into gradients through the branch that is not selected.
    """
    x = jnp.asarray(x)
    small = jnp.abs(x) < _SERIES_RADIUS
    positive = x >= _SERIES_RADIUS
    negative = x <= -_SERIES_RADIUS
    # Each branch gets a safe dummy input where it is not selected.
    x_small = jnp.where(small, x, 0.0)
    x_pos = jnp.where(positive, x, 1.0)
    x_neg = jnp.where(negative, x, -1.0)
    # x > 0: x e^{-x} / (1 - e^{-x}) never overflows.
    value_pos = -x_pos * jnp.exp(-x_pos) / jnp.expm1(-x_pos)
    # x < 0: expm1(x) lies in (-1, 0), no overflow either.
    value_neg = x_neg / jnp.expm1(x_neg)
    return jnp.where(small, _series(x_small), jnp.where(positive, value_pos, value_neg))


def sigmoid(x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """Logistic function ``1 / (1 + exp(-x))`` without overflow."""
    return jax.nn.sigmoid(jnp.asarray(x))


def q10_factor(
    temperature: Float[ArrayLike, "..."],
    reference_temperature: Float[ArrayLike, "..."],
    q10: Float[ArrayLike, "..."],
) -> Float[Array, "..."]:
    """Rate scale ``q10 ** ((T - T_ref) / 10)`` for temperatures in degrees Celsius."""
    return jnp.power(q10, (temperature - reference_temperature) / 10.0)
