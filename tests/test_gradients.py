"""Reverse- and forward-mode derivatives through ``simulate`` against central
finite differences (float64), for a subthreshold and a spiking response, with
respect to every model field, the initial state and the stimulus amplitude."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh

TS = jnp.linspace(0.0, 20.0, 201)
MODEL = hh.HodgkinHuxley()
TOL = dict(rtol=1e-10, atol=1e-10)  # tight, so that finite differences are exact
CASES = {"subthreshold": 1.0, "spiking": 15.0}  # step amplitude, uA/cm^2
# Relative gap between the derivative and its central difference, measured
# 2026-12-03 on the project's 2-core CPU machine (worst of both cases and both
# modes): model fields 3.1e-7 (E_L, spiking), amplitude 1.6e-7, V(0) 9.0e-7, gates
# h and n 1.0e-7, gate m 4.9e-5. The gaps are the differences' own error (the
# adaptive solver's tolerance divided by the step); m is the worst because the
# loss barely depends on it (m relaxes within 0.2 ms), so the bound for m stays
# at 1e-4 (2x). The others are ~3-10x the measurement.
REL = {"parameter": 1e-6, "amplitude": 1e-6, "V": 3e-6, "m": 1e-4, "h": 5e-7, "n": 5e-7}


def loss(params, y0, amplitude, adjoint):
    """A trace MSE plus a gate term: depends on every parameter and state."""
    model = MODEL.replace(**params)
    trace = hh.simulate(
        model, hh.Step(amplitude, 1.0, 15.0), TS, y0=y0, adjoint=adjoint, **TOL
    )
    return jnp.mean((trace.V + 60.0) ** 2) + jnp.mean(trace.n) + jnp.mean(trace.m)


reverse = jax.jit(jax.grad(lambda p, y, a: loss(p, y, a, "reverse"), argnums=(0, 1, 2)))
forward = jax.jit(
    jax.jacfwd(lambda p, y, a: loss(p, y, a, "forward"), argnums=(0, 1, 2))
)
value = jax.jit(lambda p, y, a: loss(p, y, a, "reverse"))


def _central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    amplitude = CASES[request.param]
    params = MODEL.parameters()
    y0 = hh.steady_state(MODEL, jnp.asarray(-65.0))
    grads = {
        "reverse": reverse(params, y0, amplitude),
        "forward": forward(params, y0, amplitude),
    }
    return request.param, amplitude, params, y0, grads


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_parameter_gradients(case, mode):
    label, amplitude, params, y0, grads = case
    for name, x in params.items():
        h = 1e-5 * max(1.0, abs(float(x)))
        fd = _central_difference(
            lambda v: value({**params, name: v}, y0, amplitude), x, h
        )
        assert float(grads[mode][0][name]) == pytest.approx(
            float(fd), rel=REL["parameter"]
        ), name


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_initial_state_and_amplitude_gradients(case, mode):
    label, amplitude, params, y0, grads = case
    g_y0, g_amp = grads[mode][1], grads[mode][2]
    fd_amp = _central_difference(lambda a: value(params, y0, a), amplitude, 1e-5)
    assert float(g_amp) == pytest.approx(float(fd_amp), rel=REL["amplitude"])
    h = 1e-6
    fd_V = _central_difference(
        lambda v: value(params, hh.State(v, y0.gates), amplitude), y0.V, 1e-4
    )
    assert float(g_y0.V) == pytest.approx(float(fd_V), rel=REL["V"])
    for gate in ("m", "h", "n"):
        shifted = lambda x: value(
            params, hh.State(y0.V, {**y0.gates, gate: x}), amplitude
        )
        fd = _central_difference(shifted, y0.gates[gate], h)
        assert float(g_y0.gates[gate]) == pytest.approx(float(fd), rel=REL[gate]), gate


def test_reverse_equals_forward(case):
    _, _, _, _, grads = case
    for a, b in zip(
        jax.tree.leaves(grads["reverse"]), jax.tree.leaves(grads["forward"])
    ):
        # Measured 8.5e-13 relative (spiking; 3.9e-15 subthreshold).
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=5e-12)


def test_default_adjoint_supports_grad_jacrev_and_jacfwd():
    """With `adjoint` left at its default, reverse mode (jax.grad, jax.jacrev) and
    forward mode (jax.jacfwd) both work through `simulate` and agree with central
    differences (the spiking case; V at a few times as the vector output)."""
    picks = jnp.asarray([40, 80, 120, 160, 200])

    def voltages(g):
        model = MODEL.replace(g_Na=g[0], g_K=g[1])
        trace = hh.simulate(model, hh.Step(15.0, 1.0, 15.0), TS, **TOL)
        return trace.V[picks]

    g = jnp.asarray([120.0, 36.0])
    J_rev = jax.jit(jax.jacrev(voltages))(g)
    J_fwd = jax.jit(jax.jacfwd(voltages))(g)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(voltages(x) ** 2)))(g)
    f = jax.jit(voltages)
    fd = np.stack(
        [
            (f(g.at[j].add(1e-6 * g[j])) - f(g.at[j].add(-1e-6 * g[j]))) / (2e-6 * g[j])
            for j in range(2)
        ],
        axis=1,
    )
    # Measured 2026-12-04 (this box): |J - FD| <= 1.24e-7 mV/(mS/cm^2) with FD
    # steps of 1e-6 relative (1e-4 leaves an O(h^2) error of 5e-4 mid-spike);
    # reverse vs forward 4.1e-8 relative; the gradient vs 2 V . FD 2.5e-6.
    # Bounds ~4x those.
    assert np.max(np.abs(fd)) > 1.0  # V moves > 1 mV per mS/cm^2: not vacuous
    np.testing.assert_allclose(np.asarray(J_rev), fd, rtol=0, atol=5e-7)
    np.testing.assert_allclose(np.asarray(J_fwd), fd, rtol=0, atol=5e-7)
    np.testing.assert_allclose(np.asarray(J_rev), np.asarray(J_fwd), rtol=2e-7)
    V = np.asarray(f(g))
    np.testing.assert_allclose(np.asarray(grad), 2 * V @ fd, rtol=1e-5)
