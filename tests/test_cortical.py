"""The cortical regular-spiking model (Pospischil et al. 2008) against an
independent SciPy transcription of the authors' NEURON mechanisms (hh2, im),
written here with the textbook expressions rather than hh_jax's rate helpers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hh_jax as hh

P = dict(
    g_Na=50.0,
    g_K=5.0,
    g_M=0.07,
    g_L=0.1,
    E_Na=50.0,
    E_K=-100.0,
    E_L=-70.0,
    V_T=-55.0,
    tau_max=1000.0,
    C_m=1.0,
)


def _rhs(t, y, I_of_t):
    V, m, h, n, p = y
    v2 = V - P["V_T"]
    a_m = 0.32 * (13 - v2) / (np.exp((13 - v2) / 4) - 1)
    b_m = 0.28 * (v2 - 40) / (np.exp((v2 - 40) / 5) - 1)
    a_h = 0.128 * np.exp((17 - v2) / 18)
    b_h = 4 / (1 + np.exp((40 - v2) / 5))
    a_n = 0.032 * (15 - v2) / (np.exp((15 - v2) / 5) - 1)
    b_n = 0.5 * np.exp((10 - v2) / 40)
    p_inf = 1 / (1 + np.exp(-(V + 35) / 10))
    tau_p = P["tau_max"] / (3.3 * np.exp((V + 35) / 20) + np.exp(-(V + 35) / 20))
    I_ion = (
        P["g_Na"] * m**3 * h * (V - P["E_Na"])
        + P["g_K"] * n**4 * (V - P["E_K"])
        + P["g_M"] * p * (V - P["E_K"])
        + P["g_L"] * (V - P["E_L"])
    )
    return [
        (I_of_t(t) - I_ion) / P["C_m"],
        a_m * (1 - m) - b_m * m,
        a_h * (1 - h) - b_h * h,
        a_n * (1 - n) - b_n * n,
        (p_inf - p) / tau_p,
    ]


def test_matches_an_independent_scipy_solution():
    model = hh.CorticalRegularSpiking()
    rest = hh.resting_state(model, V_guess=-70.0)
    y0 = [float(rest.V)] + [float(rest.gates[g]) for g in "mhnp"]
    ts = np.arange(0.0, 400.0, 0.01)
    amp, start, stop = 3.0, 50.0, 350.0
    trace = hh.simulate(
        model, hh.Step(amp, start, stop), ts, y0=rest, rtol=1e-8, atol=1e-8
    )
    # SciPy, piecewise between the stimulus edges.
    V, state = [], y0
    for a, b, I in ((0.0, start, 0.0), (start, stop, amp), (stop, ts[-1], 0.0)):
        grid = ts[(ts >= a) & (ts < b)] if b < ts[-1] else ts[ts >= a]
        sol = solve_ivp(
            _rhs,
            (a, b),
            state,
            args=(lambda t, I=I: I,),
            t_eval=grid,
            method="DOP853",
            rtol=1e-10,
            atol=1e-10,
        )
        V.append(sol.y[0])
        state = solve_ivp(
            _rhs,
            (a, b),
            state,
            args=(lambda t, I=I: I,),
            method="DOP853",
            rtol=1e-10,
            atol=1e-10,
        ).y[:, -1]
    V = np.concatenate(V)
    # 0 mV crossings, where the measured numbers below were taken.
    ours = np.asarray(hh.spike_times(ts, trace.V, 0.0))
    theirs = np.asarray(hh.spike_times(ts, V, 0.0))
    assert ours.shape == theirs.shape and ours.shape[0] >= 8  # adapting train
    np.testing.assert_allclose(ours, theirs, atol=1e-3)
    isi = np.diff(ours)
    assert isi[-1] > 1.5 * isi[0]  # spike-frequency adaptation from I_M


def test_rest_shared_parameters_and_singular_points():
    model = hh.CorticalRegularSpiking()
    rest = hh.resting_state(model, V_guess=-70.0)
    assert -72.0 < float(rest.V) < -69.0
    shifted = model.replace(V_T=-60.0, E_K=-95.0)
    assert float(shifted.channels[0].V_T) == float(shifted.channels[1].V_T) == -60.0
    assert float(shifted.channels[1].E_K) == float(shifted.channels[2].E_K) == -95.0
    # The Traub rates are 0/0 at V - V_T = 13, 40 and 15 mV: finite and smooth.
    for u in (13.0, 40.0, 15.0):
        V = jnp.asarray(model.V_T + u)

        def total(v):
            rates = model.gate_rates(v)
            return sum(r.alpha + r.beta for r in rates.values())

        assert np.isfinite(float(total(V))) and np.isfinite(float(jax.grad(total)(V)))
        h = 1e-5
        fd = (total(V + h) - total(V - h)) / (2 * h)
        assert float(jax.grad(total)(V)) == pytest.approx(float(fd), rel=1e-6)
