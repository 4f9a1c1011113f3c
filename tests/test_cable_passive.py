"""A passive cable against the closed-form solutions of cable theory (Rall; Jack,
Noble & Tsien): steady state of a finite sealed cable, and the response to a
current step at the sealed end of a semi-infinite and of a finite cable.

Membrane: a leak only (g = 0.1 mS/cm^2, E = -65 mV, C_m = 1 uF/cm^2, so
tau = 10 ms), diameter 2 um, R_a = 100 ohm*cm (lambda = 707.1 um). A step of
I0 = 0.1 nA into x = 0 from t = 0. The closed forms use SciPy's erfc/erfcx.
"""

import numpy as np
import pytest
from scipy.special import erfc, erfcx

import hh_jax as hh
from hh_jax import cable as hc

R_A, DIAM, G_M, C_M, I0 = 100.0, 2.0, 0.1, 1.0, 0.1  # ohm*cm, um, mS/cm^2, uF/cm^2, nA
TAU = C_M / G_M  # ms
LAMBDA = 1e4 * np.sqrt(DIAM * 1e-4 / (4 * R_A * G_M * 1e-3))  # um
R_INF = (
    R_A * 1e4 / (np.pi * (DIAM / 2) ** 2) * LAMBDA
)  # ohm, input of a semi-infinite cable
V_INF = I0 * 1e-9 * R_INF * 1e3  # mV, its steady deflection at x = 0
NEURON = hh.PointNeuron(channels=(hh.channels.Leak(g_L=G_M, E_L=-65.0),), C_m=C_M)


def semi_infinite(X, T):
    """Deflection (mV) at X = x / lambda, T = t / tau after the step."""
    a, s = X / (2 * np.sqrt(T)), np.sqrt(T)
    # exp(X) erfc(a + s) = exp(-X^2 / 4T - T) erfcx(a + s), finite for large X.
    return (
        0.5
        * V_INF
        * (np.exp(-X) * erfc(a - s) - np.exp(-(X**2) / (4 * T) - T) * erfcx(a + s))
    )


def sealed_finite(X, T, electrotonic_length, images=40):
    """The finite cable with both ends sealed: the semi-infinite solution and its
    reflections at the ends (method of images)."""
    Lam = electrotonic_length
    return sum(
        semi_infinite(2 * n * Lam + X, T) + semi_infinite(2 * (n + 1) * Lam - X, T)
        for n in range(images)
    )


def test_the_image_series_is_the_cosh_steady_state():
    # The reference itself: at long times the series is the textbook profile.
    X = np.linspace(0, 2, 9)
    np.testing.assert_allclose(
        sealed_finite(X, 60.0, 2.0), V_INF * np.cosh(2.0 - X) / np.sinh(2.0), rtol=1e-12
    )


def _simulate(length_in_lambda, nseg, ts, dt):
    cable = hc.Cable.unbranched(
        length_in_lambda * LAMBDA, DIAM, NEURON, R_a=R_A, nseg=nseg
    )
    trace = hc.simulate_cable(
        cable, hc.Injection(hh.Step(I0, 0.0), 0, 0.0), ts, dt=dt, record=None
    )
    X = cable.layout.distance / LAMBDA
    return X, np.asarray(trace.V) + 65.0


def _relative_error(V, exact, X, X_max):
    """Largest pointwise relative error where the deflection is at least 10 % of
    its largest value then, and the largest error relative to that value."""
    keep = (X <= X_max) & (np.abs(exact) >= 0.1 * np.max(np.abs(exact)))
    pointwise = np.max(np.abs(V[keep] - exact[keep]) / np.abs(exact[keep]))
    return max(pointwise, np.max(np.abs(V - exact)[X <= X_max]) / np.max(exact))


@pytest.fixture(scope="module")
def finite_run():
    # 2 lambda in 600 segments (dx = lambda / 300), Crank-Nicolson, dt = 0.01 ms.
    # The error is spatial and second order (measured: 200 / 400 / 600 segments
    # give 3.0e-4 / 7.7e-5 / 3.4e-5 at worst, at t = 0.5 ms; dt 0.0025 ms gives
    # the same), so 600 segments meet 1e-4 with a margin of 3.
    ts = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 200.0])
    return ts, *_simulate(2.0, 600, ts, 0.01)


def test_finite_sealed_cable_steady_state(finite_run):
    ts, X, V = finite_run
    exact = V_INF * np.cosh(2.0 - X) / np.sinh(2.0)
    # Measured 9.6e-7 (20 tau after the step; the slowest mode is then 2e-9); 5x.
    assert _relative_error(V[:, -1], exact, X, 2.0) < 5e-6


def test_finite_sealed_cable_transient(finite_run):
    ts, X, V = finite_run
    errors = [
        _relative_error(V[:, i], sealed_finite(X, t / TAU, 2.0), X, 2.0)
        for i, t in enumerate(ts[1:-1], start=1)
    ]
    # Measured at most 3.4e-5 (at t = 0.5 ms).
    assert max(errors) < 1e-4, errors


def test_semi_infinite_cable_transient():
    # 6 lambda is semi-infinite for X <= 2 and T <= 2: the first reflection is
    # below 1e-6 of the signal there. Same resolution as above (lambda / 300).
    ts = np.array([0.0, 0.5, 1.0, 5.0, 10.0, 20.0])
    X, V = _simulate(6.0, 1800, ts, 0.01)
    errors = [
        _relative_error(V[:, i], semi_infinite(X, t / TAU), X, 2.0)
        for i, t in enumerate(ts[1:], start=1)
    ]
    # Measured at most 3.4e-5 (at t = 0.5 ms).
    assert max(errors) < 1e-4, errors
