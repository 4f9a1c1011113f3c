"""Stimuli: values, jump times, bad input, and exact edges in the solver (checked
against the closed-form response of a passive membrane and against SciPy)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hh_jax as hh

G_L, E_L, C_M = 0.3, -54.387, 1.0
TAU = C_M / G_L  # ms
PASSIVE = hh.PointNeuron(channels=(hh.channels.Leak(g_L=G_L, E_L=E_L),), C_m=C_M)


def _passive_scipy(stimulus, ts):
    """Independent solution of C dV/dt = I(t) - g (V - E), piecewise between the
    stimulus jumps, DOP853 at 1e-12."""
    jumps = np.asarray(stimulus.jump_times())
    edges = np.unique(np.clip(np.concatenate([[ts[0], ts[-1]], jumps]), ts[0], ts[-1]))
    I = jax.jit(lambda t: stimulus(t))
    f = lambda t, v: [(float(I(t)) - G_L * (v[0] - E_L)) / C_M]
    V, out = E_L, np.empty_like(ts)
    for a, b in zip(edges[:-1], edges[1:]):
        mask = (ts >= a) & (ts <= b)
        sol = solve_ivp(
            f,
            (a, b),
            [V],
            method="DOP853",
            rtol=1e-12,
            atol=1e-12,
            t_eval=ts[mask],
            first_step=1e-3,
        )
        out[mask] = sol.y[0]
        V = solve_ivp(f, (a, b), [V], method="DOP853", rtol=1e-12, atol=1e-12).y[0, -1]
    return out


def _simulate(stimulus, ts):
    return np.asarray(
        hh.simulate(
            PASSIVE, stimulus, ts, y0=jnp.asarray([E_L]), rtol=1e-10, atol=1e-10
        ).V
    )


def test_step_response_matches_closed_form():
    """Edges are stepped onto exactly: the response of a passive membrane to a step
    matches the closed form to 1e-7 mV, including right after both edges."""
    amp, start, stop = 2.0, 10.0037, 31.4159
    ts = np.linspace(0.0, 60.0, 6001)
    V = _simulate(hh.Step(amp, start, stop), ts)
    rise = E_L + amp / G_L * (1 - np.exp(-(ts - start) / TAU))
    V_stop = E_L + amp / G_L * (1 - np.exp(-(stop - start) / TAU))
    fall = E_L + (V_stop - E_L) * np.exp(-(ts - stop) / TAU)
    exact = np.where(ts < start, E_L, np.where(ts < stop, rise, fall))
    np.testing.assert_allclose(V, exact, atol=1e-7)


def test_brief_pulse_is_never_stepped_over():
    """A 0.01 ms pulse in a long quiet stretch: the solver's steps would straddle it
    without the jump times; with them the delivered charge is exact."""
    width, amp = 0.01, 50.0
    ts = np.linspace(0.0, 40.0, 401)
    V = _simulate(hh.PulseTrain(amp, 23.456, width, 5.0, count=1), ts)
    V_end = E_L + amp / G_L * (1 - np.exp(-width / TAU))
    exact = np.where(
        ts < 23.456, E_L, E_L + (V_end - E_L) * np.exp(-(ts - 23.456 - width) / TAU)
    )
    np.testing.assert_allclose(V, exact, atol=1e-7)


STIMULI = {
    "constant": hh.Constant(1.5),
    "pulses": hh.PulseTrain(4.0, 5.0, 1.0, 7.5, count=3),
    "piecewise": hh.PiecewiseConstant([0.0, 10.0, 11.0, 30.0], [0.0, 40.0, 0.0, -2.0]),
    "ramp": hh.Ramp(5.0, 3.0, 25.0, initial=1.0),
    "sine": hh.Sine(2.0, 80.0, start=4.0, stop=33.0, phase=0.3, offset=0.5),
    "sampled": hh.Sampled(jnp.asarray([0.0, 1.0, -1.0, 3.0, 0.5]), dt=6.0, t0=2.0),
    "sum": hh.Step(1.0, 3.0, 20.0) + hh.Sine(1.0, 50.0),
}


@pytest.mark.parametrize("name", list(STIMULI))
def test_passive_response_matches_scipy(name):
    ts = np.linspace(0.0, 40.0, 801)
    stimulus = STIMULI[name]
    np.testing.assert_allclose(
        _simulate(stimulus, ts), _passive_scipy(stimulus, ts), atol=2e-7
    )


def test_values():
    t = jnp.asarray([0.0, 4.999, 5.0, 5.5, 6.0, 12.5, 13.4, 21.0])
    np.testing.assert_array_equal(
        np.asarray(jax.vmap(STIMULI["pulses"])(t)), [0, 0, 4, 4, 0, 4, 4, 0]
    )
    pc = STIMULI["piecewise"]
    np.testing.assert_array_equal(
        np.asarray(jax.vmap(pc)(jnp.asarray([-1.0, 0.0, 10.0, 10.5, 11.0, 100.0]))),
        [0, 0, 40, 40, 0, -2],
    )
    ramp = STIMULI["ramp"]
    assert float(ramp(3.0)) == 1.0 and float(ramp(14.0)) == pytest.approx(3.0)
    assert float(ramp(25.0)) == 0.0
    sine = STIMULI["sine"]
    assert float(sine(4.0 + 1000 / 80 / 4)) == pytest.approx(
        0.5 + 2.0 * np.sin(np.pi / 2 + 0.3)
    )
    sampled = STIMULI["sampled"]
    assert float(sampled(5.0)) == pytest.approx(0.5) and float(sampled(1.0)) == 0.0
    assert float((hh.Step(1.0, 0.0, 2.0) + hh.Constant(0.5))(1.0)) == 1.5


def test_jump_times():
    np.testing.assert_array_equal(
        np.asarray(hh.Step(1.0, 5.0, 105.0).jump_times()), [5, 105]
    )
    np.testing.assert_array_equal(
        np.sort(np.asarray(STIMULI["pulses"].jump_times())), [5, 6, 12.5, 13.5, 20, 21]
    )
    both = hh.Step(1.0, 5.0, 10.0) + hh.PiecewiseConstant([0.0, 7.0], [1.0, 2.0])
    assert sorted(np.asarray(both.jump_times()).tolist()) == [0, 5, 7, 10]


def test_amplitudes_are_differentiable():
    ts = jnp.linspace(0.0, 20.0, 201)

    def final_V(amp):
        stim = hh.Step(amp, 2.0, 15.0)
        y0 = jnp.asarray([E_L])
        return hh.simulate(PASSIVE, stim, ts, y0=y0, rtol=1e-10, atol=1e-10).V[-1]

    slope = jax.grad(final_V)(1.0)
    exact = (1 - np.exp(-13.0 / TAU)) * np.exp(-5.0 / TAU) / G_L  # linear system
    assert float(slope) == pytest.approx(exact, rel=1e-5)


def test_frozen_noise_is_reproducible():
    a = hh.frozen_noise(jax.random.key(0), duration=10.0, dt=0.1, std=2.0)
    b = hh.frozen_noise(jax.random.key(0), duration=10.0, dt=0.1, std=2.0)
    np.testing.assert_array_equal(np.asarray(a.values), np.asarray(b.values))
    assert a.values.shape == (101,)
    ou = hh.frozen_noise(
        jax.random.key(1), duration=2000.0, dt=0.5, std=1.0, correlation_time=5.0
    )
    x = np.asarray(ou.values)
    lag1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert lag1 == pytest.approx(np.exp(-0.5 / 5.0), abs=0.03)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: hh.Step(np.nan, 1.0, 2.0), r"amplitude.*finite.*uA/cm\^2"),
        (lambda: hh.Step(1.0, 5.0, 2.0), r"stop.*later than.*start"),
        (
            lambda: hh.PiecewiseConstant([0.0, 2.0, 1.0], [0.0, 1.0, 2.0]),
            r"times.*increasing",
        ),
        (lambda: hh.PiecewiseConstant([0.0, 1.0], [0.0, 1.0, 2.0]), r"same length"),
        (lambda: hh.PiecewiseConstant([0.0, 1.0], [0.0, np.inf]), r"values.*finite"),
        (lambda: hh.PulseTrain(1.0, 0.0, 2.0, 1.0, count=3), r"width.*exceeds"),
        (lambda: hh.PulseTrain(1.0, 0.0, -1.0, 1.0, count=3), r"width.*> 0 ms"),
        (lambda: hh.Sampled(jnp.asarray([1.0, 2.0]), dt=0.0), r"dt.*> 0 ms"),
        (lambda: hh.Ramp(1.0, 0.0, np.inf), r"stop.*finite"),
    ],
)
def test_bad_stimuli_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()
