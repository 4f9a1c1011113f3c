"""Cable building blocks: the tree solve against dense linear algebra, the time
grid, positions, SWC reading and input checks, the propagation tools."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import cable as hc
from hh_jax.cable._grid import gate_intervals, time_grid

# -- the tree solve ---------------------------------------------------------------


def _random_tree_system(n, seed):
    rng = np.random.default_rng(seed)
    parent = np.array([-1] + [int(rng.integers(0, i)) for i in range(1, n)])
    g = rng.uniform(0.5, 2.0, n)
    g[0] = 0.0
    A = np.zeros((n, n))
    for i in range(1, n):
        A[i, parent[i]] = A[parent[i], i] = -g[i]
    diag = -A.sum(axis=1) + rng.uniform(0.01, 1.0, n)
    A[np.arange(n), np.arange(n)] = diag
    return parent, diag, g, rng.normal(size=n), A


@pytest.mark.parametrize("n", [1, 7, 60])
@pytest.mark.parametrize("width", [1, None])
def test_tree_solve_matches_dense_solve(n, width):
    parent, diag, g, b, A = _random_tree_system(n, seed=n)
    schedule = hc.TreeSchedule.build(parent, width=width)
    x = hc.tree_solve(schedule, jnp.asarray(diag), jnp.asarray(g), jnp.asarray(b))
    # Measured <= 2e-15.
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(A, b), atol=1e-12)


def test_tree_solve_gradient_matches_dense_solve():
    n = 40
    parent, diag, g, b, _ = _random_tree_system(n, seed=3)
    schedule = hc.TreeSchedule.build(parent, width=2)
    weights = jnp.linspace(-1.0, 1.0, n)
    rows = np.arange(1, n)

    def dense(diag, g, b):
        A = jnp.diag(diag).at[rows, parent[1:]].set(-g[1:])
        A = A.at[parent[1:], rows].set(-g[1:])
        return weights @ jnp.linalg.solve(A, b)

    def tree(diag, g, b):
        return weights @ hc.tree_solve(schedule, diag, g, b)

    args = tuple(jnp.asarray(a) for a in (diag, g, b))
    for ours, reference in zip(
        jax.jit(jax.grad(tree, argnums=(0, 1, 2)))(*args),
        jax.jit(jax.grad(dense, argnums=(0, 1, 2)))(*args),
    ):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def test_schedule_length_is_the_tree_height():
    chain = np.arange(801) - 1
    # One node per step: every node but the root eliminated, then substituted.
    assert hc.TreeSchedule.build(chain, width=1).num_steps == 2 * 800
    # In parallel, re-rooted at the middle: the two halves go side by side.
    wide = hc.TreeSchedule.build(chain)
    assert wide.root == 400 and wide.eliminate.shape[1:] == (400, 2)


# -- the time grid ----------------------------------------------------------------


def test_time_grid_steps_onto_every_jump_and_save_time():
    ts = np.array([0.0, 1.0, 2.0, 3.0])
    jumps = np.array([0.3, 0.30000000001, 1.0, 2.55, 7.0, np.inf])
    starts, steps = time_grid(ts, jumps, 0.1)
    assert steps.shape == (3, 11)  # the row with two sub-intervals needs 11 steps
    assert np.all(steps <= 0.1 + 1e-15) and np.all(steps > 0)
    np.testing.assert_allclose(steps.sum(axis=1), np.diff(ts), rtol=1e-14)
    boundaries = np.concatenate([starts.ravel(), [3.0]])
    for jump in (0.3, 1.0, 2.55):
        assert np.min(np.abs(boundaries - jump)) < 1e-12
    np.testing.assert_allclose(starts[:, 1:], (starts + steps)[:, :-1], atol=1e-14)
    staggered = gate_intervals(steps, staggered=True)
    flat = steps.ravel()
    np.testing.assert_allclose(staggered.ravel()[:-1], 0.5 * (flat[:-1] + flat[1:]))


def test_float32_stimulus_times_snap_to_save_times():
    # float32(0.1) is 1.5e-9 ms past the save time 0.1: not a jump of its own
    # (which would halve every step of the grid).
    ts = np.arange(0.0, 2.5, 0.01)
    jumps = np.asarray(np.float32([0.0, 0.1]), dtype=float)
    _, steps = time_grid(ts, jumps, 0.01, eps=float(np.finfo(np.float32).eps))
    assert steps.shape == (ts.size - 1, 1)
    _, steps = time_grid(ts, jumps + 1e-4, 0.01)  # a real jump inside a row
    assert steps.shape == (ts.size - 1, 2)


# -- morphology, positions, checks ------------------------------------------------


def test_positions_follow_neuron_conventions():
    # Three sections: a root with two children at its end (a junction node).
    morphology = hc.Morphology.from_cylinders(
        [100.0, 50.0, 80.0], [2.0, 1.0, 1.0], [-1, 0, 0], names=["a", "b", "c"]
    )
    layout = hc.discretise(morphology, [5, 3, 4])
    assert layout.num_nodes == 5 + 3 + 4 + 1
    junction = layout.node("a", 1.0)
    assert layout.area[junction] == 0.0 and layout.x[junction] == 1.0
    assert layout.node("a", 0.0) == layout.node("a", 0.1)  # sealed: first centre
    assert layout.x[layout.node("a", 0.3)] == pytest.approx(0.3)  # segment 1
    assert layout.x[layout.node("a", 0.19)] == pytest.approx(0.1)
    # b(0.5) is the centre 25 um into b, c(0.5) the one 50 um into c.
    assert layout.path_distance(layout.node("b", 0.5), layout.node("c", 0.5)) == (
        pytest.approx(25.0 + 50.0)
    )
    assert layout.describe(layout.node("c", 0.9)) == "c(0.875)"
    with pytest.raises(ValueError, match="x must lie in"):
        layout.node("a", 1.5)
    with pytest.raises(KeyError, match="no section named"):
        layout.node("d", 0.5)


def test_swc_errors_name_the_problem():
    with pytest.raises(ValueError, match="7 fields"):
        hc.parse_swc("1 1 0 0 0 5\n")
    with pytest.raises(ValueError, match="exactly one root"):
        hc.parse_swc("1 1 0 0 0 5 -1\n2 3 10 0 0 1 -1\n")
    with pytest.raises(ValueError, match="not in the file"):
        hc.parse_swc("1 1 0 0 0 5 -1\n2 3 10 0 0 1 7\n")
    with pytest.raises(ValueError, match="radius > 0"):
        hc.parse_swc("1 1 0 0 0 0 -1\n")


def test_cable_checks_its_inputs():
    cable = hc.Cable.unbranched(1000.0, 2.0, nseg=11)
    with pytest.raises(ValueError, match="R_a"):
        cable.with_parameters(R_a=-1.0)
    with pytest.raises(ValueError, match="one value per node"):
        cable.with_parameters(g_Na=jnp.ones(3))
    with pytest.raises(ValueError, match="g_Na"):
        cable.with_parameters(g_Na=-jnp.ones(11))
    with pytest.raises(ValueError, match="dt"):
        hc.simulate_cable(cable, None, [0.0, 1.0], dt=0.0)
    with pytest.raises(ValueError, match="method"):
        hc.simulate_cable(cable, None, [0.0, 1.0], method="rk4")
    with pytest.raises(ValueError, match="the d_lambda rule needs"):
        hc.Cable.unbranched(1000.0, 2.0, hh.HodgkinHuxley(C_m=jnp.ones(2)), nseg=None)


# -- propagation tools ------------------------------------------------------------


def test_first_crossings_are_exact_for_cubics():
    t = jnp.linspace(0.0, 2.0, 21)
    roots = jnp.array([0.537, 1.2345])
    V = jnp.stack([(t - r) * (1 + (t - r) ** 2) * 30.0 for r in roots])
    np.testing.assert_allclose(hc.first_crossings(t, V, 0.0), roots, rtol=1e-13)
    assert np.isnan(hc.first_crossings(t, -jnp.ones((1, 21)), 0.0))[0]


def test_length_constant_and_its_fit():
    # Hodgkin & Huxley's axon at the leak conductance alone: 1.0585 cm.
    assert float(hc.length_constant(476.0, 35.4, 0.3)) == pytest.approx(10585.3, 1e-4)
    x = np.linspace(0.0, 3000.0, 13)
    assert float(hc.fit_length_constant(x, -7.0 * np.exp(-x / 812.0))) == (
        pytest.approx(812.0, rel=1e-12)
    )


def test_initiation_site_and_velocity_of_a_centrally_stimulated_axon():
    cable = hc.Cable.unbranched(
        5000.0, 20.0, hh.HodgkinHuxley(temperature=18.5), R_a=100.0, nseg=51
    )
    trace = hc.simulate_cable(
        cable, hc.Injection(hh.Step(50.0, 0.0, 0.3), 0, 0.5), np.arange(0, 3, 0.025)
    )
    node, when = hc.initiation_site(cable, trace)
    assert node == cable.node(0.5) and 0.1 < when < 1.0
    # The two spikes run apart at the same speed (the cable is symmetric).
    left = float(hc.conduction_velocity(cable, trace, 0.4, 0.1))
    right = float(hc.conduction_velocity(cable, trace, 0.6, 0.9))
    assert left == pytest.approx(right, rel=1e-9) and 2.0 < left < 6.0
