"""Spike counts and interpolated spike times."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh

PERIOD, AMP, OFFSET = 7.0, 40.0, -10.0


def _signal(t):
    return AMP * np.sin(2 * np.pi * t / PERIOD) + OFFSET


def _exact_crossings(t_end, threshold=0.0):
    phase = np.arcsin((threshold - OFFSET) / AMP)  # upward crossing of the sine
    k = np.arange(0, int(t_end / PERIOD) + 2)
    times = PERIOD * (phase / (2 * np.pi) + k)
    return times[times < t_end]


def test_times_are_interpolated_not_rounded_to_the_grid():
    t = np.arange(0.0, 50.0, 0.05)
    times = np.asarray(hh.spike_times(t, _signal(t)))
    exact = _exact_crossings(t[-1])
    assert times.shape == exact.shape
    # Cubic interpolation on a 0.05 ms grid: error ~1e-7 ms here, where linear
    # interpolation is off by ~1e-4 ms and the grid itself by up to 0.05 ms.
    np.testing.assert_allclose(times, exact, atol=1e-6)
    linear = t[:-1] + 0.05 * (0 - _signal(t[:-1])) / (_signal(t[1:]) - _signal(t[:-1]))
    up = (_signal(t[:-1]) < 0) & (_signal(t[1:]) >= 0)
    assert np.max(np.abs(linear[up] - exact)) > 1e-5


def test_threshold_and_counts():
    t = np.arange(0.0, 50.0, 0.05)
    V = _signal(t)
    assert int(hh.spike_count(V)) == len(_exact_crossings(t[-1]))
    assert int(hh.spike_count(V, threshold=25.0)) == len(_exact_crossings(t[-1], 25.0))
    np.testing.assert_allclose(
        np.asarray(hh.spike_times(t, V, threshold=20.0)),
        _exact_crossings(t[-1], 20.0),
        atol=1e-6,
    )
    assert int(hh.spike_count(np.full(100, -70.0))) == 0


def test_batches_pad_with_nan_and_work_under_jit():
    t = np.arange(0.0, 50.0, 0.05)
    V = np.stack([_signal(t), np.full_like(t, -65.0), _signal(t[::-1] * 0.5)])
    times = np.asarray(hh.spike_times(t, V))
    counts = np.asarray(hh.spike_count(V))
    assert times.shape == (3, counts.max())
    for row, n in zip(times, counts):
        assert np.all(np.isfinite(row[:n])) and np.all(np.isnan(row[n:]))
    for i in range(3):
        single = np.asarray(hh.spike_times(t, V[i], max_spikes=counts.max()))
        np.testing.assert_array_equal(single, times[i])
    jitted = jax.jit(lambda v: hh.spike_times(t, v, max_spikes=4))(V)
    np.testing.assert_array_equal(np.asarray(jitted), times[:, :4])
    with pytest.raises(ValueError, match="max_spikes"):
        jax.jit(lambda v: hh.spike_times(t, v))(V)


def test_spike_time_gradient_is_the_implicit_derivative():
    """Shifting the whole trace up by dc moves the crossing earlier by dc / V'(t*)."""
    t = np.arange(0.0, 20.0, 0.05)
    V = jnp.asarray(_signal(t))
    first = lambda dc: hh.spike_times(t, V + dc, max_spikes=1)[0]
    t_star = float(first(0.0))
    slope = AMP * 2 * np.pi / PERIOD * np.cos(2 * np.pi * t_star / PERIOD)
    assert float(jax.grad(first)(0.0)) == pytest.approx(-1.0 / slope, rel=1e-5)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same length"):
        hh.spike_times(np.arange(10.0), np.zeros(9))
