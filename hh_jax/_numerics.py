"""Numerically safe building blocks for rate functions.

The Hodgkin–Huxley rates alpha_m and alpha_n have the form ``u / (1 - exp(-u))``,
which is 0/0 at u = 0 (V = -40 mV and V = -55 mV). Written naively, both the value
and the derivative are NaN there, and near it the derivative loses most of its digits
to cancellation. :func:`x_over_expm1` is exact to rounding everywhere, for the value
and for derivatives of any order, in float32 and float64.
"""

import math

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


def overflow_limit(dtype) -> float:
    """Largest x for which expm1(x) is finite in `dtype`, with a margin."""
    return 80.0 if jnp.finfo(dtype).bits <= 32 else 700.0


def x_over_expm1(x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """``x / (exp(x) - 1)``, continued by its limit 1 at ``x = 0``.

    Finite and exact to rounding, with exact derivatives of every order: near 0 a
    Bernoulli series replaces the 0/0 quotient, and each branch of the piecewise
    definition sees only inputs for which it is well conditioned (the unselected
    branch gets a harmless dummy), so no NaN or inf leaks into gradients. One
    ``expm1`` per call, which matters in the vector field's inner loop.

    Above x = 80 (float32) or 700 (float64) the quotient is evaluated at that
    bound, where it is already below 1e-32 (float32: 1e-33, float64: 1e-301)
    and so zero for all purposes (for the HH rates: V < -840 mV).
    """
    x = jnp.asarray(x)
    small = jnp.abs(x) < _SERIES_RADIUS
    x_small = jnp.where(small, x, 0.0)
    x_big = jnp.where(small, 1.0, jnp.minimum(x, overflow_limit(x.dtype)))
    return jnp.where(small, _series(x_small), x_big / jnp.expm1(x_big))


def x_over_exp_minus_one(
    x: Float[ArrayLike, "*shape"], exp_x: Float[ArrayLike, "*shape"]
) -> Float[Array, "*shape"]:
    """``x / (exp_x - 1)`` with ``exp_x = exp(x)`` already computed (shared with
    other rates), continued by its limit 1 at ``x = 0``.

    The same piecewise definition as :func:`x_over_expm1` (Bernoulli series for
    ``|x| < 0.5``, where ``exp_x - 1`` would cancel), without a transcendental
    function of its own: a rate that shares its exponent with others (the squid
    alpha_m, alpha_n, beta_h) reuses one ``exp``. Outside the series radius
    ``exp_x - 1`` loses at most ~2.5 ulp to the subtraction. The caller bounds
    `x` (and so `exp_x`) against overflow.
    """
    x, exp_x = jnp.asarray(x), jnp.asarray(exp_x)
    small = jnp.abs(x) < _SERIES_RADIUS
    x_small = jnp.where(small, x, 0.0)
    x_big = jnp.where(small, 1.0, x)
    # The unselected branch sees exp(1) - 1, not 0: finite value and gradient.
    denominator = jnp.where(small, math.e - 1.0, exp_x - 1.0)
    return jnp.where(small, _series(x_small), x_big / denominator)


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
