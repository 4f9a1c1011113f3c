"""hh_jax.features against eFEL itself, plus gradients, batching and surrogates.

Cross-checks feed eFEL and hh_jax the same samples on the same time grid (built by
repeated addition, as eFEL builds its interpolation grid) with eFEL's
``interp_step`` equal to the sampling interval, so eFEL's resampling returns the
input and both compute on identical numbers. The definitions are then identical,
so the tolerances are rounding-level: indices, counts and sample times must agree
exactly, and means/interpolations to 1e-9 (float64 summation order differs; a
window off by one sample changes a mean of the noisy recording by ~1e-4 mV and the
drifting simulated baseline by more than 1e-9 mV).

Compiled programs are shared: one feature program per trace shape, one simulator.
"""

import warnings

import efel
import jax
import jax.numpy as jnp
import numpy as np
import pyabf
import pytest

import hh_jax
import hh_jax.features as F

DT = 0.025  # ms
STIM = (10.0, 50.0)  # ms
AMPS = (10.0, -1.0, 15.0)  # uA/cm^2: spiking, subthreshold, spiking (last past end)
G_NA = 120.0  # mS/cm^2
S = 4  # max_spikes for the simulated traces: eFEL's count (3, 0, 4) rounded up,
# which is also what the functions pick by default, so all calls share one program
S_ABF = 16
ABF_SWEEPS = (0, 8, 16)
ABF_STIM = (146.8, 646.8)  # ms
ABF_AMPS = (-100.0, 100.0, 300.0)  # pA

# Features compared with a tolerance (float arithmetic); all others exactly.
ROUNDING = {
    "voltage_base",
    "steady_state_voltage_stimend",
    "voltage_deflection",
    "voltage_deflection_vb_ssse",
    "ohmic_input_resistance",
    "ohmic_input_resistance_vb_ssse",
    "sag_amplitude",
    "AHP_depth",
    "spike_half_width",
    "mean_frequency",
    "inv_time_to_first_spike",
}


def grid(n: int, step: float) -> np.ndarray:
    """n times 0, step, 2 step, ... accumulated as eFEL accumulates its grid."""
    return np.cumsum(np.concatenate([[0.0], np.full(n - 1, step)]))


def efel_features(t, V, stim, names, *, interp_step, amplitude_nA=None):
    efel.reset()
    efel.set_setting("interp_step", interp_step)
    efel.set_setting("Threshold", -20.0)
    trace = {"T": t, "V": V, "stim_start": [stim[0]], "stim_end": [stim[1]]}
    if amplitude_nA is not None:
        trace["stimulus_current"] = [amplitude_nA]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return efel.get_feature_values([trace], names, raise_warnings=False)[0]


INDICES = {"peak_indices", "min_AHP_indices", "AP_begin_indices"}  # -1 padded


def as_list(name: str, value) -> list:
    """A feature value of ours as eFEL's list (NaN and -1 padding dropped)."""
    a = np.atleast_1d(np.asarray(value))
    if a.dtype.kind == "f":
        return a[~np.isnan(a)].tolist()
    return a[a >= 0].tolist() if name in INDICES else a.tolist()


def mismatches(ours: dict, theirs: dict, tol: float) -> dict:
    """Per feature: max |difference| with eFEL, or a description of the mismatch."""
    report = {}
    for name, ref in theirs.items():
        mine = as_list(name, ours[name])
        ref = [] if ref is None else np.atleast_1d(ref).tolist()
        if len(mine) != len(ref):
            report[name] = f"ours {mine[:5]} vs eFEL {ref[:5]}"
            continue
        diff = max((abs(a - b) for a, b in zip(mine, ref)), default=0.0)
        scale = max((abs(b) for b in ref), default=1.0)
        if diff > (tol * max(scale, 1.0) if name in ROUNDING else 0.0):
            report[name] = diff
    return report


# ------------------------------------------------------------------ fixtures


@jax.jit
def _simulate(g_Na):
    """The three test responses (mV), rtol/atol 1e-10 for finite differences."""
    model = hh_jax.HodgkinHuxley().replace(g_Na=g_Na)
    ts = jnp.asarray(grid(2401, DT))
    y0 = hh_jax.steady_state(model, jnp.asarray(-65.0))  # the default start

    def one(amplitude):
        stimulus = hh_jax.Step(amplitude, *STIM)
        return hh_jax.simulate(model, stimulus, ts, y0=y0, rtol=1e-10, atol=1e-10).V

    return jax.vmap(one)(jnp.asarray(AMPS))


@pytest.fixture(scope="module")
def sim():
    t = grid(2401, DT)
    return t, np.asarray(_simulate(G_NA))


@pytest.fixture(scope="module")
def sim_features(sim):
    t, V = sim
    return F.compute(
        F.efel_names(),
        t,
        V,
        *STIM,
        jnp.asarray(AMPS),
        max_spikes=S,
        current_unit="uA/cm^2",
    )


@pytest.fixture(scope="module")
def abf(realdata_dir):
    """Sweeps 0, 8, 16, 0-1000 ms at 20 kHz: ABF times (ms) and V (mV)."""
    recording = pyabf.ABF(str(realdata_dir / "pyabf" / "171116sh_0018.abf"))
    n = 20_000
    V = []
    for sweep in ABF_SWEEPS:
        recording.setSweep(sweep)
        assert recording.sweepUnitsY == "mV" and recording.dataRate == 20_000
        V.append(np.asarray(recording.sweepY[:n], dtype=np.float64))
    t = np.asarray(recording.sweepX[:n], dtype=np.float64) * 1000.0
    return t, np.stack(V)


# ------------------------------------------------------------------ eFEL


def test_efel_simulated(sim, sim_features):
    t, V = sim
    names = list(F.efel_names())
    counts = []
    for i, amplitude in enumerate(AMPS):
        ours = {k: v[i] for k, v in sim_features.items()}
        # Ours in kOhm cm^2 for uA/cm^2; eFEL's MOhm for "nA": the same number.
        ref = efel_features(
            t, V[i], STIM, names, interp_step=DT, amplitude_nA=amplitude
        )
        assert mismatches(ours, ref, 1e-9) == {}, f"trace {i}"
        counts.append(int(ours["spike_count"]))
    # The traces cover: spikes, none, and a spike just after stim_end.
    assert counts == [3, 0, 4]
    assert int(sim_features["spike_count_stimint"][2]) == 3


def test_efel_recording(abf):
    t, V = abf
    # eFEL resamples the ABF times onto its own 0.05 ms grid; so does resample().
    t_grid, V_grid = F.resample(t, V, 0.05)
    ours = F.compute(
        F.efel_names(),
        t_grid,
        V_grid,
        *ABF_STIM,
        jnp.asarray(ABF_AMPS),
        max_spikes=S_ABF,
    )
    names = list(F.efel_names())
    for i, amplitude in enumerate(ABF_AMPS):
        ref = efel_features(
            t, V[i], ABF_STIM, names, interp_step=0.05, amplitude_nA=amplitude / 1000
        )
        mine = {k: v[i] for k, v in ours.items()}
        assert mismatches(mine, ref, 1e-9) == {}, f"sweep {ABF_SWEEPS[i]}"
    assert np.asarray(ours["spike_count"]).tolist() == [0, 3, 9]
    # -100 pA: 10-11 mV deflection, about 100 MOhm.
    assert 90 < float(ours["ohmic_input_resistance_vb_ssse"][0]) < 130


def test_efel_quirks_reproduced():
    """Synthetic spikes, one with a sample exactly at threshold: eFEL then pairs
    the k-th upward with the k-th downward crossing out of step and loses spikes
    (all after it, on an upstroke). Same result here."""
    t = grid(400, 0.1)
    clean = -70.0 + sum(90 * np.exp(-(((t - c) / 0.3) ** 2)) for c in (5, 15, 25, 35))
    up, down = clean.copy(), clean.copy()
    up[np.nonzero((clean[:-1] < -20) & (clean[1:] > -20))[0][1] + 1] = -20.0
    down[np.nonzero((clean[:-1] > -20) & (clean[1:] < -20))[0][2]] = -20.0
    V = np.stack([clean, up, down])
    names = list(F.efel_names())
    ours = F.compute(names, t, V, 1.0, 39.0, max_spikes=S)
    for i in range(3):
        ref = efel_features(t, V[i], (1.0, 39.0), names, interp_step=0.1)
        assert mismatches({k: v[i] for k, v in ours.items()}, ref, 1e-9) == {}, i
    assert np.asarray(ours["spike_count"]).tolist() == [4, 1, 3]


def test_resample_is_efels_interpolation(sim):
    t, V = sim
    ref = efel_features(t, V[0], STIM, ["time", "voltage"], interp_step=0.1)
    grid_, values = F.resample(t, V, 0.1)
    np.testing.assert_array_equal(grid_, ref["time"])
    np.testing.assert_allclose(values[0], ref["voltage"], rtol=0, atol=1e-12)
    # Same grid: resampling is the identity (to rounding).
    same_t, same_V = F.resample(t, V, DT)
    np.testing.assert_array_equal(same_t, t)
    np.testing.assert_allclose(same_V, V, rtol=0, atol=1e-12)


def test_public_functions_match_compute(sim, sim_features):
    t, V = sim
    kw = {"stim_start": STIM[0], "stim_end": STIM[1]}
    per_spike = {"max_spikes": S}
    calls = {
        "spike_count": F.spike_count(t, V),
        "Spikecount": F.Spikecount(t, V),
        "spike_count_stimint": F.spike_count_stimint(t, V, **kw),
        "time_to_first_spike": F.time_to_first_spike(t, V, stim_start=STIM[0]),
        "inv_time_to_first_spike": F.inv_time_to_first_spike(t, V, stim_start=STIM[0]),
        "peak_indices": F.peak_indices(t, V, **per_spike),
        "AP_height": F.AP_height(t, V, **per_spike),
        "AP_begin_voltage": F.AP_begin_voltage(t, V, stim_start=10.0, **per_spike),
        "mean_frequency": F.mean_frequency(t, V, **kw),
        "peak_time": F.peak_time(t, V, **per_spike),
        "peak_voltage": F.peak_voltage(t, V, **per_spike),
        "ISI_values": F.ISI_values(t, V, **per_spike),
        "all_ISI_values": F.all_ISI_values(t, V, **per_spike),
        "AP_amplitude": F.AP_amplitude(t, V, **kw, **per_spike),
        "AP_width": F.AP_width(t, V, **per_spike),
        "spike_half_width": F.spike_half_width(t, V, stim_start=10.0, **per_spike),
        "AHP_depth_abs": F.AHP_depth_abs(t, V, **per_spike),
        "AHP_depth": F.AHP_depth(t, V, stim_start=10.0, **per_spike),
        "voltage_base": F.voltage_base(t, V, stim_start=10.0),
        "steady_state_voltage_stimend": F.steady_state_voltage_stimend(t, V, **kw),
        "voltage_deflection": F.voltage_deflection(t, V, **kw),
        "voltage_deflection_vb_ssse": F.voltage_deflection_vb_ssse(t, V, **kw),
        "minimum_voltage": F.minimum_voltage(t, V, **kw),
        "maximum_voltage": F.maximum_voltage(t, V, **kw),
        "ohmic_input_resistance": F.ohmic_input_resistance(
            t, V, **kw, stim_amplitude=jnp.asarray(AMPS), current_unit="uA/cm^2"
        ),
        "sag_amplitude": F.sag_amplitude(t, V, **kw),
        "ohmic_input_resistance_vb_ssse": F.ohmic_input_resistance_vb_ssse(
            t, V, **kw, stim_amplitude=jnp.asarray(AMPS), current_unit="uA/cm^2"
        ),
    }
    for name, value in calls.items():
        np.testing.assert_array_equal(value, sim_features[name], err_msg=name)
    # pA -> MOhm is 1000 x mV/pA, nA -> MOhm is eFEL's convention: same numbers.
    r = {
        unit: F.compute(
            "ohmic_input_resistance_vb_ssse",
            t,
            V,
            *STIM,
            amplitude,
            current_unit=unit,
            max_spikes=S,
        )["ohmic_input_resistance_vb_ssse"]
        for unit, amplitude in (("pA", -1000.0), ("nA", -1.0))
    }
    np.testing.assert_allclose(r["pA"], r["nA"], rtol=1e-14)


# ------------------------------------------------------------------ batching


def test_batch_equals_single_calls_under_jit(sim, sim_features):
    t, V = sim

    @jax.jit
    def single(v, amplitude):
        return F.compute(
            F.efel_names(),
            t,
            v,
            *STIM,
            amplitude,
            max_spikes=S,
            current_unit="uA/cm^2",
        )

    for i, amplitude in enumerate(AMPS):
        one = single(V[i], amplitude)
        for name, value in one.items():
            assert value.shape == sim_features[name].shape[1:], name
            np.testing.assert_allclose(
                value, sim_features[name][i], rtol=1e-13, atol=0, err_msg=name
            )


def test_vmap_and_broadcast_stimulus(sim):
    """Soft features under vmap equal the batched call; per-trace stimulus
    windows broadcast against the batch."""
    t, V = sim
    starts = jnp.asarray([10.0, 10.0, 20.0])
    batched = F.soft_spike_times(t, V, start=starts, end=50.0, max_spikes=S)
    mapped = jax.vmap(
        lambda v, s: F.soft_spike_times(t, v, start=s, end=50.0, max_spikes=S)
    )(jnp.asarray(V), starts)
    np.testing.assert_allclose(mapped, batched, rtol=1e-13)
    # Starting the window at 20 ms drops the first spike of trace 2.
    crossings = hh_jax.spike_times(t, V, -20.0, max_spikes=S)
    np.testing.assert_allclose(batched[2, :2], crossings[2, 1:3], atol=5e-3)
    assert F.soft_spike_times(t, V).shape == (3, 4)  # counts 3, 0, 4 -> 4


# ------------------------------------------------------------------ gradients

DIFFERENTIABLE = (
    "peak_voltage",
    "AP_amplitude",
    "AP_begin_voltage",
    "AHP_depth_abs",
    "AHP_depth",
    "spike_half_width",
    "voltage_base",
    "steady_state_voltage_stimend",
    "voltage_deflection",
    "voltage_deflection_vb_ssse",
    "ohmic_input_resistance",
    "ohmic_input_resistance_vb_ssse",
    "minimum_voltage",
    "maximum_voltage",
    "sag_amplitude",
    "soft_spike_count",
    "soft_time_to_first_spike",
    "soft_spike_times",
    "soft_isi_values",
)


def _feature_vector(t, V):
    out = F.compute(
        DIFFERENTIABLE,
        t,
        V,
        *STIM,
        jnp.asarray(AMPS),
        max_spikes=S,
        current_unit="uA/cm^2",
    )
    return jnp.concatenate([jnp.ravel(out[n]) for n in DIFFERENTIABLE])


def _owners() -> list[str]:
    """The feature name of each entry of _feature_vector."""
    sizes = {n: 3 * S for n in DIFFERENTIABLE}
    for n in (
        "voltage_base",
        "steady_state_voltage_stimend",
        "voltage_deflection",
        "voltage_deflection_vb_ssse",
        "ohmic_input_resistance",
        "ohmic_input_resistance_vb_ssse",
        "minimum_voltage",
        "maximum_voltage",
        "sag_amplitude",
        "soft_spike_count",
        "soft_time_to_first_spike",
    ):
        sizes[n] = 3
    return [n for n in DIFFERENTIABLE for _ in range(sizes[n])]


@pytest.fixture(scope="module")
def jacobian_V(sim):
    """Reverse-mode (jax.jacrev) derivative of every feature w.r.t. the samples."""
    t, V = sim
    both = lambda v: (_feature_vector(t, v),) * 2  # noqa: E731
    J, values = jax.jit(jax.jacrev(both, has_aux=True))(jnp.asarray(V))
    return np.asarray(values), np.asarray(J).reshape(values.shape[0], -1)


def test_gradients_wrt_samples_are_finite(jacobian_V):
    values, J = jacobian_V
    assert np.all(np.isfinite(J))
    owners = np.asarray(_owners())
    assert owners.shape[0] == values.shape[0]
    for name in DIFFERENTIABLE:  # each feature responds to the samples somewhere
        rows = owners == name
        assert np.any(np.abs(J[rows]) > 0), name
    # NaN-padded entries carry zero gradient.
    assert np.all(J[np.isnan(values)] == 0)


@jax.jit
def _trace_sensitivity(g_Na):
    """dV/dg_Na by forward mode through the simulator (mV per mS/cm^2)."""
    ts = jnp.asarray(grid(2401, DT))

    def traces(g):
        model = hh_jax.HodgkinHuxley().replace(g_Na=g)
        y0 = hh_jax.steady_state(model, jnp.asarray(-65.0))

        def one(amplitude):
            stimulus = hh_jax.Step(amplitude, *STIM)
            trace = hh_jax.simulate(
                model, stimulus, ts, y0=y0, rtol=1e-10, atol=1e-10, adjoint="forward"
            )
            return trace.V

        return jax.vmap(one)(jnp.asarray(AMPS))

    return jax.jvp(traces, (g_Na,), (jnp.ones_like(g_Na),))[1]


def test_parameter_gradient_matches_finite_difference(sim, jacobian_V):
    """d feature / d g_Na: the reverse-mode feature gradient (jax.jacrev w.r.t. V)
    times the simulator's trace sensitivity, against a central difference of the
    whole pipeline (simulate at g_Na +- h, then features)."""
    t, _ = sim
    values, J = jacobian_V
    analytic = J @ np.asarray(_trace_sensitivity(jnp.asarray(G_NA))).ravel()
    h = 1e-3
    plus = np.asarray(_feature_vector(t, _simulate(G_NA + h)))
    minus = np.asarray(_feature_vector(t, _simulate(G_NA - h)))
    fd = (plus - minus) / (2 * h)
    ok = np.isfinite(values)
    error = np.abs(analytic - fd)[ok]
    # 1e-4 relative; the absolute 1e-6 covers the finite difference's noise (the
    # solver's ~3e-10 mV at rtol 1e-10, over 2h), relevant for slopes < 1e-2.
    assert np.all(error <= 1e-4 * np.abs(fd[ok]) + 1e-6), np.max(error)
    owners = np.asarray(_owners())[ok]
    checked = {n for n, d in zip(owners, np.abs(fd[ok])) if d > 1e-6}
    # Every feature has entries with a sizeable slope (the soft count: trace 2's
    # last spike, whose upstroke straddles stim_end).
    assert checked == set(DIFFERENTIABLE)


# ------------------------------------------------------------------ surrogates


def test_soft_count_and_times_match_hard(sim, abf):
    t, V = sim
    hard = np.asarray(F.spike_count(t, V))
    soft = np.asarray(F.soft_spike_count(t, V))
    np.testing.assert_allclose(soft, hard, atol=1e-6)
    crossings = hh_jax.spike_times(t, V, -20.0, max_spikes=S)
    times = F.soft_spike_times(t, V, max_spikes=S)
    present = ~np.isnan(crossings)
    assert np.max(np.abs(times - crossings)[present]) < 5e-3  # ms, dt = 0.025
    np.testing.assert_allclose(np.asarray(times)[~present], t[-1], atol=1e-6)
    latency = F.soft_time_to_first_spike(t, V, stim_start=10.0, stim_end=50.0)
    np.testing.assert_allclose(latency[::2], crossings[::2, 0] - 10.0, atol=5e-3)
    assert abs(float(latency[1]) - 40.0) < 1e-6  # no spike: the whole window
    # Recording (0.05 ms sampling): noise on slow downstrokes near threshold adds
    # upward variation, about 0.003 per spike here.
    ta, Va = abf
    hard_abf = np.asarray(F.spike_count(ta, Va))
    soft_abf = np.asarray(F.soft_spike_count(ta, Va))
    assert np.all(np.abs(soft_abf - hard_abf) <= 0.005 * hard_abf + 1e-6)


def test_soft_features_continuous_through_threshold():
    """A bump growing through threshold: count 0 -> 1, latency window -> bump
    time, both monotone, with non-zero gradient near threshold."""
    t = jnp.linspace(0.0, 20.0, 801)
    bump = jnp.exp(-(((t - 8.0) / 0.6) ** 2))

    def features(height):
        V = -70.0 + height * bump
        count = F.soft_spike_count(t, V, sharpness=0.5)
        latency = F.soft_time_to_first_spike(
            t, V, stim_start=2.0, stim_end=18.0, sharpness=0.5
        )
        return count, latency

    heights = jnp.linspace(30.0, 70.0, 41)  # peaks -40 ... 0 mV; threshold -20
    counts, latencies = jax.vmap(features)(heights)
    assert float(counts[0]) < 1e-3 and float(counts[-1]) > 1 - 1e-4
    assert np.all(np.diff(counts) > 0) and np.all(np.diff(latencies) < 0)
    assert np.max(np.abs(np.diff(counts))) < 0.2  # no jumps on a 1 mV grid
    assert 16.0 - 1e-3 < float(latencies[0]) <= 16.0
    grads = jax.vmap(jax.grad(lambda h: features(h)[0]))(heights)
    assert np.all(np.isfinite(grads)) and float(grads[20]) > 1e-2


def test_spike_train_losses_handle_unequal_counts():
    model = jnp.asarray([[12.0, 27.0, jnp.nan], [12.0, jnp.nan, jnp.nan]])
    data = jnp.asarray([12.5, 27.0, 41.0])
    loss = F.spike_time_loss(model, data, t_end=50.0)
    np.testing.assert_allclose(loss, [0.25 + 9.0**2, 0.25 + 23.0**2 + 9.0**2])
    penalised = F.spike_time_loss(model, data, t_end=50.0, missing_penalty=100.0)
    np.testing.assert_allclose(penalised, [100.25, 200.25])
    grad = jax.grad(lambda m: F.spike_time_loss(m, data, t_end=50.0).sum())(model)
    np.testing.assert_allclose(grad, [[-1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    tau = 5.0
    vr = F.van_rossum_loss(jnp.asarray([10.0, jnp.nan]), jnp.asarray([13.0]), tau=tau)
    np.testing.assert_allclose(vr, 1 - np.exp(-3 / tau))
    np.testing.assert_allclose(F.van_rossum_loss(data, data, tau=tau), 0, atol=1e-15)
    extra = F.van_rossum_loss(jnp.asarray([10.0, 1e4]), jnp.asarray([10.0]), tau=tau)
    np.testing.assert_allclose(extra, 0.5)
    g = jax.grad(lambda m: F.van_rossum_loss(m, data, tau=tau).sum())(model)
    assert np.all(np.isfinite(g))


# ------------------------------------------------------------------ errors


def test_invalid_input_is_reported(sim):
    t, V = sim
    with pytest.raises(ValueError, match="unknown feature"):
        F.compute(["AP_amplitud"], t, V, *STIM)
    with pytest.raises((ValueError, TypeError)):  # TypeError: jaxtyping's check
        F.peak_voltage(t[:-1], V)
    with pytest.raises(ValueError, match="current_unit"):
        F.compute("voltage_base", t, V, *STIM, current_unit="A", max_spikes=S)
    with pytest.raises(ValueError, match="max_spikes"):
        jax.jit(lambda v: F.peak_voltage(t, v))(V)
    with pytest.raises(ValueError, match="increasing"):
        F.spike_count(t[::-1], V)
