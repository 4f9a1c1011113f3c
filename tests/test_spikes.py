"""Spike detection (hh_jax.spikes): counts, interpolated times and their
derivatives, the one default threshold, and its use by every layer."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import spikes

PERIOD, AMP, OFFSET = 7.0, 40.0, -10.0


def _signal(t):
    return AMP * np.sin(2 * np.pi * t / PERIOD) + OFFSET


def _exact_crossings(t_end, threshold):
    """Upward crossings of `threshold` by the sine, in (0, t_end)."""
    phase = np.arcsin((threshold - OFFSET) / AMP)
    k = np.arange(-1, int(t_end / PERIOD) + 2)
    times = PERIOD * (phase / (2 * np.pi) + k)
    return times[(times > 0) & (times < t_end)]


def test_default_threshold_is_efels_minus_20_mV():
    t = np.arange(0.0, 50.0, 0.05)
    exact = _exact_crossings(t[-1], -20.0)
    assert spikes.THRESHOLD == -20.0
    assert int(hh.spike_count(_signal(t))) == exact.size
    np.testing.assert_allclose(
        np.asarray(hh.spike_times(t, _signal(t))), exact, atol=1e-6
    )


def test_times_are_interpolated_not_rounded_to_the_grid():
    t = np.arange(0.0, 50.0, 0.05)
    times = np.asarray(hh.spike_times(t, _signal(t), 0.0))
    exact = _exact_crossings(t[-1], 0.0)
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
    assert int(hh.spike_count(V, threshold=0.0)) == len(_exact_crossings(t[-1], 0.0))
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
    first = lambda dc: hh.spike_times(t, V + dc, 0.0, max_spikes=1)[0]  # noqa: E731
    t_star = float(first(0.0))
    slope = AMP * 2 * np.pi / PERIOD * np.cos(2 * np.pi * t_star / PERIOD)
    assert float(jax.grad(first)(0.0)) == pytest.approx(-1.0 / slope, rel=1e-5)
    assert float(jax.jacfwd(first)(0.0)) == pytest.approx(-1.0 / slope, rel=1e-5)


@pytest.mark.parametrize("slopes", [False, True], ids=["four-point", "hermite"])
def test_spike_time_gradients_match_finite_differences(slopes):
    """d(spike times)/d(V samples, slopes, threshold), reverse and forward mode,
    against central differences of the same function (measured: at most 2.2e-10
    ms/mV apart, 2.2e-7 relative; differences of 1e-6 limit that)."""
    t = np.arange(0.0, 12.0, 0.2)  # coarse: each root depends on several samples
    V0 = jnp.asarray(_signal(t))
    dV0 = jnp.asarray(AMP * 2 * np.pi / PERIOD * np.cos(2 * np.pi * t / PERIOD))

    def times(V, dV, threshold):
        return hh.spike_times(
            t, V, threshold, max_spikes=2, dVdt=dV if slopes else None
        )

    args = (V0, dV0, jnp.asarray(-5.0))
    reverse = jax.jacrev(times, argnums=(0, 1, 2))(*args)
    forward = jax.jacfwd(times, argnums=(0, 1, 2))(*args)
    eps = 1e-6

    def central(arg, j):
        step = [jnp.zeros_like(a) for a in args]
        step[arg] = step[arg].at[j].set(eps)
        plus = times(*(a + d for a, d in zip(args, step)))
        minus = times(*(a - d for a, d in zip(args, step)))
        return (plus - minus) / (2 * eps)

    for arg in range(2 if slopes else 1):
        fd = np.stack([central(arg, j) for j in range(t.size)], axis=-1)
        assert np.max(np.abs(fd)) > 1e-4  # the samples around each crossing matter
        np.testing.assert_allclose(reverse[arg], fd, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(forward[arg], fd, rtol=1e-6, atol=1e-9)
    fd = (times(V0, dV0, -5.0 + eps) - times(V0, dV0, -5.0 - eps)) / (2 * eps)
    np.testing.assert_allclose(reverse[2], fd, rtol=1e-6)
    np.testing.assert_allclose(forward[2], fd, rtol=1e-6)


def test_cubic_root_is_the_bracketed_root_even_where_newton_overshoots():
    """Against numpy.roots: Hermite cubics of V - threshold over one step, random
    and deliberately wild (slopes of the wrong sign, several roots in [0, 1])."""
    rng = np.random.default_rng(0)
    v0 = -rng.uniform(0.01, 5.0, 200)
    v1 = rng.uniform(0.0, 5.0, 200)
    m0 = rng.uniform(-40.0, 40.0, 200)
    m1 = rng.uniform(-40.0, 40.0, 200)
    cubic = spikes.hermite_cubic(*(jnp.asarray(x) for x in (v0, v1, m0, m1)))
    s = np.asarray(spikes.cubic_root(cubic))
    c = np.stack([np.asarray(x) for x in cubic])
    for i in range(200):
        roots = np.roots(c[::-1, i])
        real = roots[np.abs(roots.imag) < 1e-9].real
        real = real[(real >= -1e-12) & (real <= 1 + 1e-12)]
        assert real.size and np.min(np.abs(real - s[i])) < 1e-10, i


def test_step_crossing_derivative_matches_finite_differences():
    """The in-step root used by the solvers: d(fraction)/d(V0, V1, dV0, dV1), in
    reverse mode (measured: 2.8e-7 relative, the differences' own error)."""

    def fraction(x):
        crossed, s = spikes.step_crossing(x[0], x[1], x[2], x[3], 0.05, -20.0)
        assert bool(crossed)
        return s

    x = jnp.asarray([-31.0, 2.0, 180.0, 420.0])
    grad = np.asarray(jax.grad(fraction)(x))
    eps = 1e-6
    fd = [
        (fraction(x + eps * e) - fraction(x - eps * e)) / (2 * eps) for e in np.eye(4)
    ]
    np.testing.assert_allclose(grad, np.asarray(fd), rtol=1e-6)


@pytest.mark.slow  # two compilations of the solver, ~10 s each on 2 cores
def test_recorded_spike_time_gradient_through_the_solver():
    """d(first spike time)/d(g_K) of a spike located inside a solver step, by the
    discrete adjoint, against central differences (forward mode is left to the
    root's own test above: each mode compiles for ~10 s). Measured: 6e-10
    relative."""
    ts = np.arange(0.0, 8.0, 1.0)
    stim = hh.Step(20.0, 1.0, 8.0)

    def first(g_K):
        trace = hh.simulate_fixed(
            hh.HodgkinHuxley(g_K=g_K), stim, ts, dt=0.025, max_spikes=1
        )
        return trace.spikes[0]

    h = 1e-4
    fd = (first(36.0 + h) - first(36.0 - h)) / (2 * h)
    assert abs(float(fd)) > 1e-3
    assert float(jax.grad(first)(36.0)) == pytest.approx(float(fd), rel=1e-5)


def test_the_two_spike_counts_agree_and_differ_only_where_documented():
    t = np.arange(0.0, 48.0, 0.05)
    # Two trains that end below threshold, one that ends above it: its last spike
    # is a crossing, not an eFEL spike (it never comes back down).
    V = np.stack([_signal(t), 0.9 * _signal(t) - 5.0, _signal(t + 3.0)])
    assert np.all(V[:2, -1] < -20.0) and V[2, -1] > -20.0
    last_up = np.asarray([0, 0, 1])
    for threshold in (-20.0, 0.0, 20.0):
        ours = np.asarray(hh.spike_count(V, threshold))
        efel = np.asarray(hh.features.spike_count(t, V, threshold=threshold))
        np.testing.assert_array_equal(ours - last_up, efel)
    exact = _exact_crossings(51.0, -20.0)
    assert int(hh.spike_count(V[2])) == np.sum(exact > 3.0)


def _public_entries():
    from hh_jax import cable, excitability, features, fit, sensitivity, sweep
    from hh_jax.plot import plot_trace

    return [
        hh.spike_count,
        hh.spike_times,
        spikes.first_spike_times,
        hh.simulate_fixed,
        hh.simulate_batch,
        features.spike_count,
        features.peak_time,
        features.soft_spike_count,
        features.soft_spike_times,
        features.soft_time_to_first_spike,
        features.soft_isi_values,
        cable.first_crossings,
        cable.arrival_times,
        cable.conduction_velocity,
        cable.initiation_site,
        excitability.rheobase,
        excitability.repetitive_firing_onset,
        excitability.firing_rate,
        excitability.fi_curve,
        sensitivity.local_sensitivity,
        sensitivity.global_sensitivity,
        sweep.run_sweep,
        plot_trace,
        fit.spike_losses,
    ]


@pytest.mark.parametrize("fn", _public_entries(), ids=lambda f: f.__qualname__)
def test_every_entry_takes_a_threshold_defaulting_to_minus_20_mV(fn):
    assert inspect.signature(fn).parameters["threshold"].default == spikes.THRESHOLD


def test_bad_thresholds_are_refused_with_their_unit():
    t = np.arange(0.0, 10.0, 0.1)
    with pytest.raises(ValueError, match="`threshold` must be a finite number of mV"):
        hh.spike_times(t, _signal(t), np.nan)
    with pytest.raises(ValueError, match="`threshold`"):
        hh.spike_count(_signal(t), threshold=np.inf)
    with pytest.raises(ValueError, match="`threshold` must be a finite number of mV"):
        hh.simulate_fixed(hh.HodgkinHuxley(), 10.0, t, threshold=np.nan)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same length"):
        hh.spike_times(np.arange(10.0), np.zeros(9))


CLI_ARGS = {  # the fewest arguments each subcommand parses with
    "simulate": [],
    "sweep": ["--out", "x", "--duration", "10"],
    "fit": ["x.npz"],
    "sensitivity": [],
    "cable": [],
}


@pytest.mark.parametrize("command", sorted(CLI_ARGS))
def test_every_cli_command_that_reports_spikes_takes_threshold(command, capsys):
    from hh_jax.cli import build_parser

    parser = build_parser()
    args = [command, *CLI_ARGS[command]]
    default = parser.parse_args(args).threshold
    # fit: None picks -20 mV, or lower for recordings with small spikes.
    assert default == (None if command == "fit" else spikes.THRESHOLD)
    assert parser.parse_args([*args, "--threshold", "-35.5"]).threshold == -35.5
    with pytest.raises(SystemExit):
        parser.parse_args([*args, "--threshold", "nan"])
    assert "finite number of mV" in capsys.readouterr().err
