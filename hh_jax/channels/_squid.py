"""The channels of the Hodgkin–Huxley (1952) squid giant axon model.

Voltages in mV with rest at -65 mV (the modern convention), rates in 1/ms at
6.3 degC, scaled to other temperatures by ``3 ** ((T - 6.3) / 10)``.

The six rate functions below are what the channels evaluate; each channel also
declares them as rate forms (`kinetics`, NeuroML's standard HH forms) for the
exporters, and a test checks that the two agree. These reference channels have
no shift or time-constant-scale parameters.
"""

import math
from typing import ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._numerics import overflow_limit, q10_factor, x_over_exp_minus_one
from .._parameter import parameter
from ._base import AbstractChannel, GateRates, no_gates, ohmic
from ._gates import Gate
from ._rates import ExpLinear, Exponential, Sigmoid

SQUID_Q10 = 3.0
SQUID_REFERENCE_TEMPERATURE = 6.3  # degC


def _squid_phi(temperature):
    return q10_factor(temperature, SQUID_REFERENCE_TEMPERATURE, SQUID_Q10)


# The six rates share their exponentials. alpha_m, alpha_n and beta_h are functions
# of exp(-(V + 40) / 10), exp(-(V + 55) / 10) and exp(-(V + 35) / 10): one exponential
# times constants. beta_m, alpha_h and beta_n are exp(-(V + 65) / 18), / 20 and / 80:
# the powers 40, 36 and 9 of b = exp(-(V + 65) / 720). So the whole set costs two
# `exp` instead of six transcendental functions; each function below builds on the
# same shared terms, which XLA computes once when several rates are evaluated
# together (as in a channel's `gate_rates`). The cost in accuracy: the slow
# rates carry ~40 ulp (beta_m), ~36 ulp (alpha_h), ~9 ulp (beta_n) of relative
# error instead of a few (measured in tests/test_rates.py); alpha_m and alpha_n stay
# exact to rounding, with exact values and derivatives at their 0/0 points.


def _fast_exponent(V):
    """``exp(-(V + 40) / 10)``, with the exponent bounded so that the largest
    multiple used (``e^0.5`` for beta_h) cannot overflow: the bound is reached only
    below -835 mV (float32) or -7035 mV (float64), where alpha_m, alpha_n and beta_h
    are already below 1e-33."""
    x = -(V + 40.0) / 10.0
    return jnp.exp(jnp.minimum(x, overflow_limit(x.dtype) - 0.5))


def _slow_powers(V):
    """``(b^9, b^36, b^40)`` for ``b = exp(-(V + 65) / 720)``: exp(-(V + 65) / 80),
    exp(-(V + 65) / 20) and exp(-(V + 65) / 18), by repeated squaring."""
    # The barrier keeps XLA's simplifier from rewriting exp(a) * exp(a) back into
    # exp(2 a), which would bring the exponentials back (checked in the HLO).
    b = jax.lax.optimization_barrier(jnp.exp(-(V + 65.0) / 720.0))
    b2 = b * b
    b4 = b2 * b2
    b9 = b4 * b4 * b
    b18 = b9 * b9
    b36 = b18 * b18
    return b9, b36, b36 * b4


def alpha_m(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``0.1 (V + 40) / (1 - exp(-(V + 40) / 10))`` in 1/ms; exact at -40 mV."""
    return x_over_exp_minus_one(-(V + 40.0) / 10.0, _fast_exponent(V))


def beta_m(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``4 exp(-(V + 65) / 18)`` in 1/ms."""
    return 4.0 * _slow_powers(V)[2]


def alpha_h(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``0.07 exp(-(V + 65) / 20)`` in 1/ms."""
    return 0.07 * _slow_powers(V)[1]


def beta_h(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``1 / (1 + exp(-(V + 35) / 10))`` in 1/ms."""
    return 1.0 / (1.0 + math.exp(0.5) * _fast_exponent(V))


def alpha_n(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``0.01 (V + 55) / (1 - exp(-(V + 55) / 10))`` in 1/ms; exact at -55 mV."""
    exp_x = math.exp(-1.5) * _fast_exponent(V)
    return 0.1 * x_over_exp_minus_one(-(V + 55.0) / 10.0, exp_x)


def beta_n(V: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """``0.125 exp(-(V + 65) / 80)`` in 1/ms."""
    return 0.125 * _slow_powers(V)[0]


class SquidSodium(AbstractChannel):
    """Fast sodium current ``I_Na = g_Na m^3 h (V - E_Na)``."""

    g_Na: Float[Array, ""] = parameter(
        120.0,
        unit="mS/cm^2",
        doc="maximal sodium conductance",
        minimum=0.0,
        fit_bounds=(10.0, 400.0),
        log_scale=True,
    )
    E_Na: Float[Array, ""] = parameter(
        50.0, unit="mV", doc="sodium reversal potential", fit_bounds=(20.0, 80.0)
    )

    gates: ClassVar[tuple[str, ...]] = ("m", "h")
    current_name: ClassVar[str] = "I_Na"
    ion: ClassVar[str | None] = "na"
    conductance: ClassVar[str | None] = "g_Na"
    reversal: ClassVar[str | None] = "E_Na"
    q10: ClassVar[float | None] = SQUID_Q10
    reference_temperature: ClassVar[float | None] = SQUID_REFERENCE_TEMPERATURE
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "m",
            3,
            alpha=ExpLinear(1.0, -40.0, 10.0),
            beta=Exponential(4.0, -65.0, -18.0),
        ),
        Gate(
            "h",
            1,
            alpha=Exponential(0.07, -65.0, -20.0),
            beta=Sigmoid(1.0, -35.0, 10.0),
        ),
    )

    def gate_rates(self, V, temperature):
        phi = _squid_phi(temperature)
        return {
            "m": GateRates(phi * alpha_m(V), phi * beta_m(V)),
            "h": GateRates(phi * alpha_h(V), phi * beta_h(V)),
        }

    def current(self, V, gates):
        m = gates["m"]
        return ohmic(self.g_Na, m * m * m * gates["h"], V, self.E_Na)


class SquidPotassium(AbstractChannel):
    """Delayed-rectifier potassium current ``I_K = g_K n^4 (V - E_K)``."""

    g_K: Float[Array, ""] = parameter(
        36.0,
        unit="mS/cm^2",
        doc="maximal potassium conductance",
        minimum=0.0,
        fit_bounds=(5.0, 150.0),
        log_scale=True,
    )
    E_K: Float[Array, ""] = parameter(
        -77.0, unit="mV", doc="potassium reversal potential", fit_bounds=(-110.0, -60.0)
    )

    gates: ClassVar[tuple[str, ...]] = ("n",)
    current_name: ClassVar[str] = "I_K"
    ion: ClassVar[str | None] = "k"
    conductance: ClassVar[str | None] = "g_K"
    reversal: ClassVar[str | None] = "E_K"
    q10: ClassVar[float | None] = SQUID_Q10
    reference_temperature: ClassVar[float | None] = SQUID_REFERENCE_TEMPERATURE
    kinetics: ClassVar[tuple[Gate, ...]] = (
        Gate(
            "n",
            4,
            alpha=ExpLinear(0.1, -55.0, 10.0),
            beta=Exponential(0.125, -65.0, -80.0),
        ),
    )

    def gate_rates(self, V, temperature):
        phi = _squid_phi(temperature)
        return {"n": GateRates(phi * alpha_n(V), phi * beta_n(V))}

    def current(self, V, gates):
        n2 = gates["n"] * gates["n"]
        return ohmic(self.g_K, n2 * n2, V, self.E_K)


class Leak(AbstractChannel):
    """Passive leak current ``I_L = g_L (V - E_L)``."""

    g_L: Float[Array, ""] = parameter(
        0.3,
        unit="mS/cm^2",
        doc="leak conductance",
        minimum=0.0,
        fit_bounds=(0.01, 3.0),
        log_scale=True,
    )
    E_L: Float[Array, ""] = parameter(
        -54.387, unit="mV", doc="leak reversal potential", fit_bounds=(-100.0, -30.0)
    )

    gates: ClassVar[tuple[str, ...]] = ()
    current_name: ClassVar[str] = "I_L"
    conductance: ClassVar[str | None] = "g_L"
    reversal: ClassVar[str | None] = "E_L"

    def gate_rates(self, V, temperature):
        return no_gates()

    def current(self, V, gates):
        return ohmic(self.g_L, 1.0, V, self.E_L)
