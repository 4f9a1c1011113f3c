"""The exponential midpoint integrator (the fit search's) against NEURON's
reference traces and SciPy: second-order convergence of spike times, and
stability where explicit Runge–Kutta steps blow up."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hh_jax as hh
from hh_jax.model import State, steady_state
from hh_jax.reference import load_reference_case
from hh_jax.solvers._exponential import integrate_exponential, relaxation_factor

CASES = ["step_10", "step_20", "step_10_T18.5", "pulse_train"]


def _run(model, y0, change_times, values, duration, dt, dtype=jnp.float64):
    """V on the grid k dt, the command ``values[j]`` from ``change_times[j]``."""
    steps = int(round(duration / dt))
    change = np.round(np.asarray(change_times) / dt)
    level = np.clip(
        np.searchsorted(change, np.arange(steps), side="right") - 1, 0, None
    )
    cast = lambda x: jnp.asarray(x, dtype)  # noqa: E731
    model = jax.tree.map(cast, model)
    y0 = jax.tree.map(cast, y0)
    V = jax.jit(integrate_exponential, static_argnums=4)(
        model, y0, cast(values), jnp.asarray(level, jnp.int32), dt
    )
    return np.arange(steps + 1) * dt, np.asarray(V, np.float64)


@pytest.fixture(scope="module")
def errors(reference_dir):
    """Largest spike-time error (ms) against NEURON per case and dt."""
    out = {}
    for name in CASES:
        case = load_reference_case(reference_dir / name)
        ref = np.asarray(hh.spike_times(case.t, case.V, 0.0))  # 0 mV crossings
        for dt in (0.025, 0.0125):
            t, V = _run(
                case.model,
                case.y0,
                case.stimulus.times,
                case.stimulus.values,
                float(case.t[-1]),
                dt,
            )
            ours = np.asarray(hh.spike_times(t, V, 0.0))
            assert ours.shape == ref.shape, (name, dt)  # the same spike count
            out[name, dt] = float(np.max(np.abs(ours - ref)))
    return out


# Largest spike-time error (ms) at dt 0.0125 against NEURON, as measured, with a
# margin of 1.5: the phase drifts by ~0.1 % of the elapsed time at this step (a
# second-order scheme; the fit search runs at the data's 0.05 ms sampling,
# where the drift is ~16x larger and far below the tolerance of the rate and
# count features it is judged by).
MEASURED_0125 = {
    "step_10": 0.019,
    "step_20": 0.022,
    "step_10_T18.5": 0.110,
    "pulse_train": 0.0029,
}


def test_spike_times_match_neuron(errors):
    for name in CASES:
        assert errors[name, 0.0125] < 1.5 * MEASURED_0125[name], name


def test_second_order_convergence(errors):
    # Halving dt divides the error by ~4 (measured 3.71-3.86 from 0.025 to
    # 0.0125 ms, 3.84-3.92 from 0.0125 to 0.00625).
    for name in CASES:
        ratio = errors[name, 0.025] / errors[name, 0.0125]
        assert 3.4 < ratio < 4.4, (name, ratio)


def test_stable_where_runge_kutta_blows_up():
    """A fast-spiking cell with g_Na 300 and g_Kv3 400 mS/cm^2: explicit RK4 at
    0.025-0.05 ms diverges (measured); the exponential step at 0.05 ms in float32
    stays finite and matches SciPy's Radau solution of the same equations."""
    model = hh.FastSpikingInterneuron(g_Na=300.0, g_Kv3=400.0)
    y0 = steady_state(model, -70.0)
    duration, on, off, amp = 100.0, 10.0, 90.0, 20.0
    t, V = _run(model, y0, [0.0, on, off], [0.0, amp, 0.0], duration, 0.05, jnp.float32)
    assert np.all(np.isfinite(V))
    assert V.min() > -90.5 and V.max() < 60.5  # between E_K and E_Na

    names = model.gate_names

    def field(y, I):
        state = State(V=y[0], gates={n: y[i + 1] for i, n in enumerate(names)})
        d = model.derivative(state, I)
        return jnp.stack([d.V] + [d.gates[n] for n in names])

    f = jax.jit(field)
    jac = jax.jit(jax.jacfwd(field))
    current = lambda t: amp if on <= t < off else 0.0  # noqa: E731
    y = np.array([y0.V] + [y0.gates[n] for n in names], float)
    ref = solve_ivp(
        lambda t, y: np.asarray(f(y, current(t))),
        (0.0, duration),
        y,
        method="Radau",
        jac=lambda t, y: np.asarray(jac(y, current(t))),
        t_eval=t,
        rtol=1e-8,
        atol=1e-8,
        max_step=0.05,
    )
    spikes = np.asarray(hh.spike_times(t, V, threshold=-20.0))
    ref_spikes = np.asarray(hh.spike_times(t, ref.y[0], threshold=-20.0))
    assert spikes.shape == ref_spikes.shape and spikes.size > 10
    # Measured: 0.50 ms at the last of 14 spikes, growing linearly from 0.012
    # at the first (the second-order phase drift at 0.05 ms); margin 1.5.
    assert np.max(np.abs(spikes - ref_spikes)) < 0.75


def test_relaxation_factor_exact_at_zero_and_large():
    z = jnp.asarray([0.0, 1e-12, 1e-3, 1.0, 50.0, 1e4])
    expected = np.concatenate(
        [[1.0], -np.expm1(-np.asarray(z[1:])) / np.asarray(z[1:])]
    )
    np.testing.assert_allclose(np.asarray(relaxation_factor(z)), expected, rtol=1e-14)
    slope = jax.grad(lambda z: relaxation_factor(z))(0.0)
    assert float(slope) == pytest.approx(-0.5, abs=1e-14)
