"""Batches: vmap equals a loop, chunking changes nothing, and failing members
(absurd or invalid parameters, max_steps) never poison the others."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh

TS = jnp.linspace(0.0, 30.0, 301)
STIM = hh.Step(10.0, 2.0, 25.0)


def test_vmap_equals_a_loop_over_model_and_stimulus_fields():
    g_Na = jnp.asarray([90.0, 120.0, 150.0])
    amps = jnp.asarray([5.0, 10.0, 20.0])
    batched = jax.vmap(
        lambda g, a: hh.simulate(hh.HodgkinHuxley(g_Na=g), hh.Step(a, 2.0, 25.0), TS).V
    )(g_Na, amps)
    for i in range(3):
        single = hh.simulate(
            hh.HodgkinHuxley(g_Na=g_Na[i]), hh.Step(amps[i], 2.0, 25.0), TS
        )
        np.testing.assert_allclose(
            np.asarray(batched[i]), np.asarray(single.V), atol=1e-9
        )


@pytest.mark.parametrize("method", ["auto", "diffrax"])
def test_simulate_batch_chunks_and_shared_fields(method):
    g_K = jnp.linspace(20.0, 50.0, 7)
    model = hh.HodgkinHuxley(g_K=g_K)
    whole = hh.simulate_batch(model, STIM, TS, chunk_size=None, method=method)
    chunked = hh.simulate_batch(
        model, STIM, TS, chunk_size=3, progress=False, method=method
    )
    assert whole.V.shape == (7, TS.shape[0]) and chunked.V.shape == whole.V.shape
    np.testing.assert_allclose(np.asarray(chunked.V), np.asarray(whole.V), atol=1e-9)
    assert np.all(np.asarray(whole.ok))
    if method == "diffrax":  # the same solver as hh.simulate: the same numbers
        single = hh.simulate(hh.HodgkinHuxley(g_K=g_K[4]), STIM, TS)
        np.testing.assert_allclose(
            np.asarray(whole.V[4]), np.asarray(single.V), atol=1e-9
        )
    else:  # another method: the same solution to its accuracy
        assert whole.method.startswith("auto: tsit5")
        tight = hh.simulate(
            hh.HodgkinHuxley(g_K=g_K[4]), STIM, TS, rtol=1e-10, atol=1e-10
        )
        # Measured 7.4e-3 mV (largest on the upstroke, where 1e-5 ms is 4e-3 mV).
        np.testing.assert_allclose(
            np.asarray(whole.V[4]), np.asarray(tight.V), atol=0.03
        )


def test_batched_stimulus_and_initial_state():
    """Each member (its own step and start state) against a tight single run of
    the same member: batching must not mix members up."""
    amps = jnp.asarray([0.0, 3.0, 12.0])
    starts, stops = jnp.asarray([2.0, 4.0, 1.0]), jnp.asarray([25.0, 20.0, 28.0])
    stim = hh.Step(amps, starts, stops)
    y0 = jnp.asarray(
        [[-65.0, 0.05, 0.6, 0.32], [-60.0, 0.1, 0.5, 0.35], [-70.0, 0.03, 0.7, 0.3]]
    )
    trace = hh.simulate_batch(
        hh.HodgkinHuxley(), stim, TS, y0=y0, stimulus_batched=True
    )
    assert np.asarray(hh.spike_count(trace.V)).tolist() == [0, 0, 2]
    # Measured 2026-12-03 (2-core CPU, float64), the default (auto) batch against
    # rtol = atol = 1e-10 single runs: 3.8e-9, 5.5e-9 and 0.0165 mV (the spiking
    # member, on an upstroke); 3x each.
    bounds = [1.2e-8, 1.7e-8, 0.05]
    for i in range(3):
        alone = hh.simulate(
            hh.HodgkinHuxley(),
            hh.Step(amps[i], starts[i], stops[i]),
            TS,
            y0=y0[i],
            rtol=1e-10,
            atol=1e-10,
        )
        error = np.max(np.abs(np.asarray(trace.V[i]) - np.asarray(alone.V)))
        assert error < bounds[i], (i, error)


def test_a_thousand_members_with_absurd_ones():
    """1,000 parameter sets, some NaN, negative, or absurdly stiff: every other
    member returns its normal result; the bad ones say why."""
    n = 1000
    g_Na = np.linspace(100.0, 140.0, n)
    g_K = np.full(n, 36.0)
    g_Na[[3, 500]] = np.nan
    g_Na[10] = -5.0
    g_K[20] = 1e9  # absurdly stiff: cannot finish within max_steps
    C_m = np.ones(n)
    C_m[30] = 0.0
    # Validation in the constructor would (rightly) refuse these values; build the
    # batch under vmap, as a sampler inside jit would.
    model = jax.vmap(lambda a, b, c: hh.HodgkinHuxley(g_Na=a, g_K=b, C_m=c))(
        jnp.asarray(g_Na), jnp.asarray(g_K), jnp.asarray(C_m)
    )
    trace = hh.simulate_batch(
        model, STIM, TS, chunk_size=250, max_steps=4000, gates=False, progress=False
    )
    status = np.asarray(trace.status)
    invalid = [3, 10, 30, 500]
    assert list(np.nonzero(status == hh.Status.INVALID_INPUT)[0]) == invalid
    assert status[20] == hh.Status.MAX_STEPS_REACHED
    good = np.setdiff1d(np.arange(n), invalid + [20])
    assert np.all(status[good] == hh.Status.OK)
    V = np.asarray(trace.V)
    assert np.all(np.isfinite(V[good])) and np.all(np.isnan(V[invalid]))
    # The healthy members are exactly what they would be alone.
    for i in (0, 21, 999):
        alone = hh.simulate_batch(
            hh.HodgkinHuxley(g_Na=jnp.asarray(g_Na[i : i + 1])),
            STIM,
            TS,
            max_steps=4000,
            gates=False,
        )
        np.testing.assert_allclose(V[i], np.asarray(alone.V[0]), atol=1e-8)
    with pytest.raises(RuntimeError, match="5 simulation"):
        trace.raise_if_failed()


def test_invalid_input_raises_without_vmap():
    with pytest.raises(ValueError, match="ts.*increasing"):
        hh.simulate(hh.HodgkinHuxley(), STIM, jnp.asarray([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="ts.*finite"):
        hh.simulate(hh.HodgkinHuxley(), STIM, jnp.asarray([0.0, jnp.nan, 1.0]))
    with pytest.raises(ValueError, match=r"gate `h`.*\[0, 1\]"):
        hh.simulate(
            hh.HodgkinHuxley(), STIM, TS, y0=jnp.asarray([-65.0, 0.05, 1.6, 0.3])
        )
    with pytest.raises(ValueError, match="needs 4 entries"):
        hh.simulate(hh.HodgkinHuxley(), STIM, TS, y0=jnp.asarray([-65.0, 0.05]))
    with pytest.raises(TypeError, match="stimulus"):
        hh.simulate(hh.HodgkinHuxley(), "10 uA", TS)
    with pytest.raises(ValueError, match="nothing is batched"):
        hh.simulate_batch(hh.HodgkinHuxley(), STIM, TS)
    with pytest.raises(ValueError, match="different lengths"):
        hh.simulate_batch(
            hh.HodgkinHuxley(g_Na=jnp.ones(3)).replace(g_K=jnp.ones(4)), STIM, TS
        )


def test_invalid_input_under_jit_raises_with_throw():
    f = jax.jit(lambda g: hh.simulate(hh.HodgkinHuxley(g_K=g), STIM, TS).V)
    with pytest.raises(Exception, match="invalid input"):
        f(jnp.asarray(-1.0)).block_until_ready()
