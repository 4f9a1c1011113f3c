"""The model: parameters by name, bad input, channels as modules, rest."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_cortical import P as CORTICAL_RS

import hh_jax as hh
from hh_jax.channels import AbstractChannel, GateRates


def test_defaults_are_the_seed_parameters():
    model = hh.HodgkinHuxley()
    expected = dict(
        C_m=1.0,
        g_Na=120.0,
        g_K=36.0,
        g_L=0.3,
        E_Na=50.0,
        E_K=-77.0,
        E_L=-54.387,
        temperature=6.3,
    )
    for name, value in expected.items():
        assert float(model.get(name)) == value
        assert float(getattr(model, name)) == value
    assert model.gate_names == ("m", "h", "n")
    assert model.current_names == ("I_Na", "I_K", "I_L")


def test_every_numeric_field_is_an_array_leaf_with_a_gradient():
    model = hh.HodgkinHuxley()
    leaves = jax.tree.leaves(model)
    assert len(leaves) == 8 and all(isinstance(x, jax.Array) for x in leaves)

    def dV(model):
        state = hh.steady_state(model, jnp.asarray(-50.0))
        return hh.vector_field(0.0, state, model, hh.Constant(1.0)).V

    grads = eqx.filter_grad(dV)(model)
    for name in model.parameter_infos():
        assert grads.get(name) is not None and np.isfinite(float(grads.get(name)))


def test_overrides_and_replace():
    model = hh.HodgkinHuxley(g_Na=100.0, temperature=20.0)
    assert float(model.g_Na) == 100.0 and float(model.temperature) == 20.0
    other = model.replace(g_K=30.0, E_L=-60.0)
    assert float(other.g_K) == 30.0 and float(other.E_L) == -60.0
    assert float(model.g_K) == 36.0  # immutable
    with pytest.raises(KeyError, match="g_Ca"):
        model.replace(g_Ca=1.0)
    with pytest.raises(AttributeError):
        model.g_Ca


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(g_Na=-1.0), r"g_Na.*>= 0 mS/cm\^2"),
        (dict(g_K=np.nan), r"g_K.*finite"),
        (dict(C_m=0.0), r"C_m.*> 0 uF/cm\^2"),
        (dict(E_L=np.inf), r"E_L.*finite.*mV"),
        (dict(g_L=np.array([0.3, -0.1])), r"g_L.*\[1\] = .*-0.1"),
    ],
)
def test_bad_parameters_raise_with_unit(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hh.HodgkinHuxley(**kwargs)
    with pytest.raises(ValueError, match=message):
        hh.HodgkinHuxley().replace(**kwargs)


def test_steady_state_is_a_fixed_point_of_the_gates():
    model = hh.HodgkinHuxley()
    V = jnp.linspace(-120.0, 60.0, 37)
    state = hh.steady_state(model, V)
    d = model.derivative(state, 0.0)
    for g in model.gate_names:
        x = np.asarray(state.gates[g])
        assert np.all((x >= 0) & (x <= 1))
        np.testing.assert_allclose(np.asarray(d.gates[g]), 0.0, atol=1e-14)


def test_resting_potential_of_the_default_model():
    rest = hh.resting_state(hh.HodgkinHuxley())
    assert round(float(rest.V), 1) == -65.0
    # Zero net current there, and a fixed point of the full dynamics.
    d = hh.HodgkinHuxley().derivative(rest, 0.0)
    assert abs(float(d.V)) < 1e-9
    # Differentiable by the implicit function theorem: more leak towards E_L
    # pulls rest towards E_L = -54.4 mV (up).
    dV_dgL = jax.grad(lambda g: hh.resting_state(hh.HodgkinHuxley(g_L=g)).V)(0.3)
    h = 1e-5
    fd = (
        hh.resting_state(hh.HodgkinHuxley(g_L=0.3 + h)).V
        - hh.resting_state(hh.HodgkinHuxley(g_L=0.3 - h)).V
    ) / (2 * h)
    assert float(dV_dgL) > 0
    assert float(dV_dgL) == pytest.approx(float(fd), rel=1e-6)


def test_resting_state_with_holding_current():
    model = hh.HodgkinHuxley()
    held = hh.resting_state(model, holding_current=-2.0)
    assert float(held.V) < -65.0
    assert float(model.membrane_current(held)) == pytest.approx(-2.0, abs=1e-9)


class _ToyMCurrent(AbstractChannel):
    """A slow non-inactivating K current, written here to show that a new channel
    is one class and nothing else."""

    g_Mtoy: jax.Array = hh.parameter(
        0.5, unit="mS/cm^2", doc="toy M conductance", minimum=0.0
    )
    E_Mtoy: jax.Array = hh.parameter(-90.0, unit="mV", doc="toy M reversal")
    gates: ClassVar[tuple[str, ...]] = ("p",)
    current_name: ClassVar[str] = "I_Mtoy"

    def gate_rates(self, V, temperature):
        inf = jax.nn.sigmoid((V + 35.0) / 10.0)
        return {"p": GateRates.from_steady_state(inf, 100.0)}

    def current(self, V, gates):
        return self.g_Mtoy * gates["p"] * (V - self.E_Mtoy)


def test_a_new_channel_is_one_class():
    base = hh.HodgkinHuxley()
    model = hh.PointNeuron(channels=base.channels + (_ToyMCurrent(),))
    assert model.gate_names == ("m", "h", "n", "p")
    assert "g_Mtoy" in model.parameter_infos()
    ts = jnp.linspace(0.0, 100.0, 1001)
    stim = hh.Step(10.0, 5.0, 95.0)
    with_m = hh.simulate(model, stim, ts, currents=True)
    without = hh.simulate(base, stim, ts)
    # The slow K current adapts firing: fewer spikes than the plain model.
    assert int(hh.spike_count(with_m.V)) < int(hh.spike_count(without.V))
    assert with_m.p.shape == ts.shape and with_m.I_Mtoy.shape == ts.shape


def test_duplicate_names_are_rejected():
    base = hh.HodgkinHuxley()
    with pytest.raises(ValueError, match="gate name 'm'"):
        hh.PointNeuron(channels=base.channels + (base.channels[0],))
    with pytest.raises(ValueError, match="parameter name 'g_L'"):
        hh.PointNeuron(channels=base.channels + (hh.channels.Leak(),))


def test_state_array_round_trip_and_errors():
    model = hh.HodgkinHuxley()
    y = jnp.asarray([-65.0, 0.05, 0.6, 0.32])
    state = hh.State.from_array(y, model.gate_names)
    assert float(state.h) == 0.6
    np.testing.assert_array_equal(np.asarray(state.to_array(model.gate_names)), y)
    with pytest.raises(ValueError, match=r"needs 4 entries"):
        hh.State.from_array(y[:3], model.gate_names)


def test_presets_are_classes_with_the_old_keywords_and_defaults():
    """HodgkinHuxley and CorticalRegularSpiking were functions; as classes they
    take the same keywords with the same defaults."""
    hh_model = hh.HodgkinHuxley(g_Na=100.0)
    assert isinstance(hh_model, hh.HodgkinHuxley) and float(hh_model.g_Na) == 100.0
    rs = hh.CorticalRegularSpiking()
    assert isinstance(rs, hh.CorticalRegularSpiking)
    # The published values, as test_cortical's SciPy transcription uses them.
    expected = dict(CORTICAL_RS, temperature=36.0)
    for name, value in expected.items():
        assert float(rs.get(name)) == value, name
    assert rs.gate_names == ("m", "h", "n", "p")
    assert not isinstance(rs, hh.HodgkinHuxley)


def test_state_rates_are_linear_in_each_variable_of_a_pool_model():
    """The solver contract: dx/dt = alpha - (alpha + beta) x with alpha, beta
    free of x itself, for every state variable, the Ca pool and the Ca-activated
    gate included; and derivative() is that."""
    model = hh.AdaptingPyramidal()
    names = model.gate_names
    state = hh.steady_state(model, jnp.asarray(-30.0))
    state = hh.State(state.V, {**state.gates, "Ca_i": jnp.asarray(0.02)})
    y = state.to_array(names)

    def coefficients(y):
        rates = model.state_rates(hh.State.from_array(y, names))
        return jnp.stack([jnp.stack([rates[g].alpha, rates[g].beta]) for g in names])

    jac = jax.jit(jax.jacfwd(coefficients))(y)  # (variable, alpha/beta, entry)
    for i in range(len(names)):
        np.testing.assert_array_equal(np.asarray(jac[i, :, i + 1]), 0.0)
    # the AHP gate's alpha does depend on Ca_i, the pool's on V (the Ca current)
    assert float(jac[names.index("m_ahp"), 0, 1 + names.index("Ca_i")]) > 0
    assert float(jac[names.index("Ca_i"), 0, 0]) != 0

    def both(s):
        rates = model.state_rates(s)
        linear = {g: rates[g].derivative(s.gates[g]) for g in names}
        return model.derivative(s, 2.0).gates, linear

    d, linear = jax.jit(both)(state)
    for g in names:  # equal to rounding (1/ms, mM/ms)
        assert float(d[g]) == pytest.approx(float(linear[g]), rel=1e-12, abs=1e-15)


def test_simulate_checks_each_state_variable_against_its_own_range():
    model = hh.AdaptingPyramidal()
    rest = hh.steady_state(model, jnp.asarray(-70.0))
    ts = jnp.linspace(0.0, 1.0, 3)
    negative = hh.State(rest.V, {**rest.gates, "Ca_i": jnp.asarray(-1e-3)})
    with pytest.raises(ValueError, match=r"concentration `Ca_i`.*\[0, inf\] \(mM\)"):
        hh.simulate(model, 0.0, ts, y0=negative)
    with pytest.raises(ValueError, match=r"gate `h`.*\[0, 1\]"):
        hh.simulate(
            hh.HodgkinHuxley(), 0.0, ts, y0=jnp.asarray([-65.0, 0.05, 1.6, 0.3])
        )
    # a concentration above 1 is not an error
    high = hh.State(rest.V, {**rest.gates, "Ca_i": jnp.asarray(1.5)})
    model.check_state(high)
    assert not bool(model.invalid_state(high))
