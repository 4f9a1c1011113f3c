"""Fitting: regression initialiser, multi-start recovery from noisy data, robustness
to a poisoned start, and clear errors for bad input."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax.fit import (
    FitSettings,
    TraceMSE,
    build_space,
    fit,
    fit_data,
    regression_estimate,
    synthetic_recording,
)
from hh_jax.fit._objective import Objective
from hh_jax.fit._optimize import optimise
from hh_jax.io import Recording, Sweep

TRUTH = dict(g_Na=108.0, g_K=39.0, g_L=0.27)
FREE = list(TRUTH)
PROTOCOL = dict(start=5.0, stop=45.0, duration=60.0, dt=0.05)
AMPLITUDES = (-3.0, 4.0, 12.0)


@pytest.fixture(scope="module")
def clean():
    return synthetic_recording(
        hh.HodgkinHuxley(**TRUTH), AMPLITUDES, noise=0.0, **PROTOCOL
    )


@pytest.fixture(scope="module")
def noisy():
    return synthetic_recording(
        hh.HodgkinHuxley(**TRUTH), AMPLITUDES, noise=0.5, seed=3, **PROTOCOL
    )


def _relative_errors(values):
    return {k: abs(values[k] - v) / v for k, v in TRUTH.items()}


def test_regression_recovers_conductances_from_clean_data(clean):
    model = hh.HodgkinHuxley()
    space = build_space(model, FREE)
    values, notes = regression_estimate(model, fit_data(clean), space)
    assert notes == []
    assert max(_relative_errors(values).values()) <= 1e-3, values


def test_regression_with_capacitance_and_leak_reversal(clean):
    """C_m and E_L enter linearly too (E_L through g_L E_L). g_L and E_L trade off
    against each other on a short protocol (rest pins g_L (V - E_L), not each), so
    their individual errors are a few 1e-3 while the leak current at rest is exact
    to 1e-3."""
    model = hh.HodgkinHuxley()
    space = build_space(model, FREE + ["C_m", "E_L"])
    values, _ = regression_estimate(model, fit_data(clean), space)
    errors = _relative_errors(values)
    assert errors["g_Na"] <= 1e-3 and errors["g_K"] <= 1e-3 and errors["g_L"] <= 5e-3
    assert values["C_m"] == pytest.approx(1.0, rel=2e-3)
    assert values["E_L"] == pytest.approx(-54.387, abs=0.05)
    leak = values["g_L"] * (-65.0 - values["E_L"])
    assert leak == pytest.approx(TRUTH["g_L"] * (-65.0 + 54.387), rel=1e-3)


def test_multistart_fit_recovers_within_one_percent(noisy, tmp_path):
    result = fit(
        noisy,
        hh.HodgkinHuxley(),
        FREE,
        losses=(TraceMSE(),),
        starts=3,
        steps=25,
        progress=False,
        checkpoint=tmp_path / "ck.npz",
    )
    errors = _relative_errors(result.parameters)
    assert max(errors.values()) < 0.01, (result.parameters, errors)
    # The loss is the noise floor: mean squared residual ~ sigma^2 = 0.25 mV^2.
    assert result.loss == pytest.approx(0.25, rel=0.1)
    assert result.loss_history.shape[1] == 3 and result.best_start in range(3)
    result.save(tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "params.json").read_text())
    assert saved["parameters"]["g_Na"]["unit"] == "mS/cm^2"
    assert set(np.load(tmp_path / "out" / "fit.npz").files) >= {
        "loss_history",
        "V_model",
    }
    assert "Spikecount" in result.features and result.features["Spikecount"][
        "data"
    ].shape == (3,)


def test_a_poisoned_start_does_not_poison_the_others(noisy):
    model = hh.HodgkinHuxley()
    data = fit_data(noisy)
    space = build_space(model, FREE)
    objective = Objective(model, space, data, (TraceMSE(),))
    good = space.unconstrained(dict(g_Na=100.0, g_K=35.0, g_L=0.3))
    u0 = np.stack([good, np.full_like(good, np.nan), good])
    reserve = np.stack([good + 0.1])
    settings = FitSettings(method="lm", steps=3, patience=100)
    u, losses, log = optimise(objective, u0, reserve, settings, progress=False)
    assert [r[:2] for r in log.resets] == [(0, 1)]  # start 1 reset at step 0
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(u))
    # Starts 0 and 2 began alike and were never disturbed: the same path (up to
    # rounding differences between vector lanes).
    np.testing.assert_allclose(u[0], u[2], rtol=1e-9)
    # And the same as a run without the poisoned start (a batch changes rounding
    # only; poisoning would give NaN or an O(1) difference).
    clean_u, _, _ = optimise(objective, u0[[0]], reserve, settings, progress=False)
    np.testing.assert_allclose(u[0], clean_u[0], rtol=1e-6)


def test_adam_and_lbfgs_run_and_reduce_the_loss(noisy):
    for method in ("adam", "lbfgs"):
        result = fit(
            noisy.select([2]),
            hh.HodgkinHuxley(),
            FREE,
            losses=(TraceMSE(),),
            starts=2,
            steps=4,
            method=method,
            init="model",
            progress=False,
            learning_rate=0.02,
        )
        history = result.loss_history
        assert np.all(np.isfinite(history))
        assert history[-1].min() < history[0].min(), method


def _sweep(**overrides):
    t = np.arange(0.0, 20.0, 0.1)
    base = dict(
        t=t,
        V=-65.0 + np.sin(t),
        stimulus_times=[0.0, 5.0],
        stimulus_values=[0.0, 1.0],
        current_unit="uA/cm^2",
    )
    base.update(overrides)
    return Sweep(**base)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: _sweep(V=np.r_[np.nan, -65.0 + np.zeros(199)]), r"V.*finite.*mV"),
        (
            lambda: _sweep(t=np.r_[0.0, 0.2, 0.1, np.arange(0.3, 20.0, 0.1)[:197]]),
            r"t.*increasing",
        ),
        (lambda: _sweep(V=-0.065 + np.zeros(200)), r"looks like volts"),
        (lambda: _sweep(current_unit="pA", stimulus_values=[0.0, 1e-10]), r"amperes"),
        (lambda: _sweep(stimulus_times=[0.0, 50.0]), r"stimulus"),
        (lambda: _sweep(t=np.zeros(0), V=np.zeros(0)), r"empty"),
        (lambda: _sweep(V=np.zeros(10) - 65.0), r"same length"),
    ],
)
def test_bad_recordings_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_fit_requests_raise(noisy):
    model = hh.HodgkinHuxley()
    with pytest.raises(ValueError, match="no parameter 'g_Ca'"):
        fit(noisy, model, ["g_Na", "g_Ca"], progress=False)
    with pytest.raises(ValueError, match="no free parameters"):
        fit(noisy, model, [], progress=False)
    with pytest.raises(ValueError, match="outside its bounds"):
        fit(noisy, model, FREE, init=dict(g_Na=1000.0), progress=False)
    with pytest.raises(ValueError, match="low < high"):
        fit(noisy, model, FREE, bounds=dict(g_K=(50.0, 10.0)), progress=False)
    with pytest.raises(ValueError, match="'area' can be fitted only"):
        fit(noisy, model, FREE + ["area"], progress=False)
    whole_cell = Recording(
        [
            Sweep(s.t, s.V, s.stimulus_times, s.stimulus_values * 100.0, "pA")
            for s in noisy
        ]
    )
    with pytest.raises(ValueError, match="area"):
        fit(whole_cell, model, FREE, progress=False)
    with pytest.raises(ValueError, match="C_m and area cannot both be free"):
        fit(whole_cell, model, ["C_m", "area"], progress=False)


def test_whole_cell_area_is_recovered_by_the_regression(clean):
    """Whole-cell currents (pA) with an unknown area: the regression estimates
    1/area along with the conductances."""
    area_um2 = 2.0e4  # I[pA] = I[uA/cm^2] * area[cm^2] * 1e6
    whole_cell = Recording(
        [
            Sweep(
                s.t,
                s.V,
                s.stimulus_times,
                s.stimulus_values * area_um2 * 1e-8 * 1e6,
                "pA",
            )
            for s in clean
        ]
    )
    model = hh.HodgkinHuxley()
    space = build_space(model, FREE + ["area"], whole_cell=True)
    values, _ = regression_estimate(model, fit_data(whole_cell), space)
    assert values["area"] == pytest.approx(area_um2, rel=2e-3)
    assert max(_relative_errors(values).values()) <= 2e-3


def test_stimulus_in_fit_data_uses_the_area():
    sweep = Sweep(
        np.arange(0, 10.0, 0.1), -65.0 + np.zeros(100), [0.0, 2.0], [0.0, 200.0], "pA"
    )
    data = fit_data(Recording([sweep]))
    stim = data.stimulus(area_um2=jnp.asarray(1e4))  # 1e4 um^2 = 1e-4 cm^2
    assert float(stim.values[0, 1]) == pytest.approx(200.0 * 1e-6 / 1e-4)


def test_feature_match_residuals_and_gradients(noisy):
    """eFEL-named feature terms: zero for identical traces, the scaled difference
    otherwise, a fixed cost when one side has no spike, finite gradients."""
    import jax

    from hh_jax.features import AP_amplitude
    from hh_jax.fit import FeatureMatch
    from hh_jax.fit._losses import SimulatedSweeps

    data = fit_data(noisy)
    term = FeatureMatch({"AP_amplitude": 5.0, "voltage_base": 1.0}, max_spikes=8)
    same = SimulatedSweeps(t=data.t, V=data.V, ok=jnp.ones(3, bool))
    np.testing.assert_allclose(np.asarray(term.residuals(same, data)), 0.0, atol=1e-12)
    shifted = SimulatedSweeps(t=data.t, V=data.V + 2.0, ok=jnp.ones(3, bool))
    r = np.asarray(term.residuals(shifted, data))
    np.testing.assert_allclose(r[:, 1], 2.0, atol=1e-9)  # voltage_base moved 2 mV
    # AP_amplitude (peak minus AP begin) is shift-invariant; sweep 0 has no spike.
    amp = np.asarray(AP_amplitude(data.t, data.V, stim_start=5.0, stim_end=45.0))
    assert np.isnan(amp[0]).all() and np.isfinite(amp[2]).any()
    np.testing.assert_allclose(r[1:, 0], 0.0, atol=1e-9)
    flat = SimulatedSweeps(
        t=data.t, V=jnp.full_like(data.V, -65.0), ok=jnp.ones(3, bool)
    )
    assert float(term.residuals(flat, data)[2, 0]) == term.missing
    grad = jax.grad(
        lambda V: jnp.sum(
            term.residuals(SimulatedSweeps(t=data.t, V=V, ok=jnp.ones(3, bool)), data)
            ** 2
        )
    )(data.V + 1.0)
    assert np.all(np.isfinite(np.asarray(grad)))
    with pytest.raises(ValueError, match="unknown feature"):
        FeatureMatch({"AP_colour": 1.0})


def test_checkpoint_and_resume_continue_the_same_run(noisy, tmp_path):
    model = hh.HodgkinHuxley()
    data = fit_data(noisy.select([2]))
    space = build_space(model, FREE)
    objective = Objective(model, space, data, (TraceMSE(),))
    u0 = np.stack([space.unconstrained(dict(g_Na=100.0, g_K=35.0, g_L=0.3))] * 2)
    reserve = u0[:1]
    ck = tmp_path / "ck.npz"
    short = FitSettings(method="lm", steps=2, patience=100, checkpoint_every=1)
    optimise(objective, u0, reserve, short, progress=False, checkpoint=ck)
    longer = FitSettings(method="lm", steps=4, patience=100, checkpoint_every=1)
    resumed, _, log = optimise(
        objective, u0, reserve, longer, progress=False, checkpoint=ck, resume=True
    )
    assert log.steps_done == 4 and len(log.losses) == 4
    straight, _, _ = optimise(objective, u0, reserve, longer, progress=False)
    np.testing.assert_allclose(resumed, straight, rtol=1e-9)
    # Killed midway (after the checkpoint of step 2, a stray temporary of the
    # next write left behind), then resumed: the same result as uninterrupted.
    from hh_jax.fit import _optimize

    killed = tmp_path / "killed.npz"
    real_save, saves = _optimize._save_checkpoint, []

    def save_then_die(path, *args):
        real_save(path, *args)
        saves.append(path)
        if len(saves) == 2:
            (path.parent / f".{path.stem}.tmp.npz").write_bytes(b"PK\x03\x04")
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_optimize, "_save_checkpoint", save_then_die)
        with pytest.raises(KeyboardInterrupt):
            optimise(objective, u0, reserve, longer, progress=False, checkpoint=killed)
    again, _, log = optimise(
        objective, u0, reserve, longer, progress=False, checkpoint=killed, resume=True
    )
    assert log.steps_done == 4
    np.testing.assert_allclose(again, straight, rtol=1e-9)
    # A checkpoint cut short (a kill while writing, before the atomic rename
    # existed) is refused by name, not with a zipfile traceback.
    killed.write_bytes(killed.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"checkpoint .*killed\.npz cannot be read"):
        optimise(
            objective,
            u0,
            reserve,
            longer,
            progress=False,
            checkpoint=killed,
            resume=True,
        )
    other = build_space(model, ["g_Na", "g_K"])
    with pytest.raises(ValueError, match="different fit"):
        optimise(
            Objective(model, other, data, (TraceMSE(),)),
            u0[:, :2],
            reserve[:, :2],
            longer,
            progress=False,
            checkpoint=ck,
            resume=True,
            config={"x": 1},
        )
