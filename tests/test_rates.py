"""The 0/0 rates alpha_m (V = -40 mV) and alpha_n (V = -55 mV): values and
derivatives against a 60-digit mpmath reference, in float64 and float32."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import hh_jax as hh
from hh_jax.channels import alpha_m, alpha_n

SINGULAR = {"alpha_m": -40.0, "alpha_n": -55.0}
# alpha = scale * u / (1 - exp(-u)) with u = (V - V_0) / 10, V_0 the 0/0 point.
FORMS = {"alpha_m": (alpha_m, -40.0, 1.0), "alpha_n": (alpha_n, -55.0, 0.1)}


def _reference(V: np.ndarray, V0: float, scale: float):
    """Value (1/ms) and dV-derivative (1/(ms mV)) at each float V, 60 digits."""
    mpmath.mp.dps = 60
    values, slopes = [], []
    for v in V:
        u = (mpmath.mpf(float(v)) - V0) / 10
        if u == 0:
            values.append(scale)
            slopes.append(scale / 20.0)
            continue
        e = mpmath.exp(-u)
        values.append(float(scale * u / (1 - e)))
        slopes.append(float(scale * (1 - e - u * e) / (1 - e) ** 2 / 10))
    return np.array(values), np.array(slopes)


def _voltages(dtype):
    rng = np.random.default_rng(1234)
    points = [rng.uniform(-150.0, 100.0, 100_000)]
    for V0 in SINGULAR.values():
        near = V0 + np.array([0.0, 1e-12, -1e-12, 1e-7, -1e-7, 1e-3, -1e-3, 0.5, -0.5])
        points.append(near)
        points.append(np.nextafter(np.asarray(V0, dtype), [np.inf, -np.inf]))
    # The reference is evaluated at the voltages exactly as the dtype holds them.
    return np.concatenate(points).astype(dtype)


@pytest.fixture(scope="module", params=[np.float64, np.float32], ids=["f64", "f32"])
def case(request):
    dtype = request.param
    V = _voltages(dtype)
    refs = {
        name: _reference(V.astype(np.float64), V0, s)
        for name, (_, V0, s) in FORMS.items()
    }
    return dtype, V, refs


@pytest.mark.parametrize("name", list(FORMS))
def test_value_and_derivative_match_mpmath(case, name):
    dtype, V, refs = case
    fn = FORMS[name][0]
    eps = np.finfo(dtype).eps
    value = np.asarray(jax.jit(fn)(jnp.asarray(V)), np.float64)
    slope = np.asarray(jax.jit(jax.vmap(jax.grad(fn)))(jnp.asarray(V)), np.float64)
    ref_value, ref_slope = refs[name]
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(slope))
    rel_value = np.abs(value - ref_value) / np.abs(ref_value)
    rel_slope = np.abs(slope - ref_slope) / np.abs(ref_slope)
    # Rounding of the input u = (V - V0) / 10 alone is amplified by the condition
    # number |u f'(u) / f(u)| <= 11 on [-150, 100] mV; allow 16 ulp for the value and
    # 32 ulp for the derivative (one more rounded operation chain).
    assert rel_value.max() <= 16 * eps, (rel_value.max(), V[rel_value.argmax()])
    assert rel_slope.max() <= 32 * eps, (rel_slope.max(), V[rel_slope.argmax()])


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
@pytest.mark.parametrize("name", list(FORMS))
def test_exact_singular_point(name, dtype):
    fn, V0, scale = FORMS[name]
    V = jnp.asarray(V0, dtype)
    assert float(fn(V)) == pytest.approx(scale, rel=2 * float(np.finfo(dtype).eps))
    assert float(jax.grad(fn)(V)) == pytest.approx(
        scale / 20, rel=4 * float(np.finfo(dtype).eps)
    )
    second = jax.grad(jax.grad(fn))(V)  # d2/dV2 = scale * 2 * (1/12) / 10**2
    assert float(second) == pytest.approx(
        scale / 600, rel=64 * float(np.finfo(dtype).eps)
    )


def test_naive_formula_fails_where_ours_does_not():
    """The textbook expression is 0/0 at -40 mV: the test above is not vacuous."""
    naive = lambda V: 0.1 * (V + 40.0) / (1.0 - jnp.exp(-(V + 40.0) / 10.0))
    assert np.isnan(float(naive(jnp.asarray(-40.0))))
    assert np.isnan(float(jax.grad(naive)(jnp.asarray(-40.0))))


@pytest.mark.parametrize("V", [-40.0, -55.0])
def test_model_gradients_finite_at_singular_voltages(V):
    """Gradients of the whole vector field w.r.t. every parameter and the state at
    the singular voltages are finite and match central differences."""
    model = hh.HodgkinHuxley()
    state = hh.steady_state(model, jnp.asarray(V))

    def dV(params, state):
        return hh.vector_field(0.0, state, model.replace(**params), hh.Constant(3.0)).V

    params = model.parameters()
    g_params, g_state = jax.grad(dV, argnums=(0, 1))(params, state)
    for leaf in jax.tree.leaves((g_params, g_state)):
        assert np.isfinite(float(leaf))
    for name, value in params.items():
        h = 1e-6 * max(1.0, abs(float(value)))
        up = dV({**params, name: value + h}, state)
        down = dV({**params, name: value - h}, state)
        fd = (up - down) / (2 * h)
        assert float(g_params[name]) == pytest.approx(float(fd), rel=1e-6, abs=1e-9)


def test_float32_rates_do_not_overflow_far_out():
    """Absurd voltages give finite rates and gradients in float32 (no inf - inf)."""
    V = jnp.asarray([-1000.0, -500.0, 500.0, 1000.0], jnp.float32)
    for fn in (alpha_m, alpha_n):
        assert np.all(np.isfinite(np.asarray(fn(V))))
        assert np.all(np.isfinite(np.asarray(jax.vmap(jax.grad(fn))(V))))
