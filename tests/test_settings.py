"""Settings objects (hh_jax.settings): one value for an entry point's options,
with the earlier keyword call form still accepted and checked."""

import dataclasses

import numpy as np
import pytest

import hh_jax as hh
from hh_jax import cable, fit, sensitivity, sweep
from hh_jax.settings import defaults, resolve_settings, settings_class
from hh_jax.sweep._features import FEATURE_UNITS

ENTRY_POINTS = {
    hh.simulate: hh.SimulateSettings,
    hh.simulate_batch: hh.BatchSettings,
    cable.simulate_cable: cable.CableSettings,
    fit.fit: fit.FitSettings,
    sweep.run_sweep: sweep.SweepSettings,
    sensitivity.local_sensitivity: sensitivity.LocalSettings,
    sensitivity.global_sensitivity: sensitivity.GlobalSettings,
    sensitivity.rheobase_sensitivity: sensitivity.ThresholdSettings,
    sensitivity.onset_sensitivity: sensitivity.ThresholdSettings,
}


def test_keywords_replace_fields_of_the_settings():
    base = fit.FitSettings(steps=30, starts=4)
    merged = resolve_settings(fit.FitSettings, base, {"steps": 5}, entry="fit")
    assert (merged.steps, merged.starts) == (5, 4)
    assert base.steps == 30  # frozen: the caller's object is unchanged
    assert resolve_settings(fit.FitSettings, None, {}, entry="fit") == fit.FitSettings()
    assert resolve_settings(fit.FitSettings, base, {}, entry="fit") is base


def test_unknown_keyword_names_the_valid_options():
    with pytest.raises(TypeError, match=r"fit\(\) got unexpected keyword.*'stepz'"):
        resolve_settings(fit.FitSettings, None, {"stepz": 3}, entry="fit")
    with pytest.raises(TypeError, match="learning_rate"):
        resolve_settings(fit.FitSettings, None, {"stepz": 3}, entry="fit")
    with pytest.raises(TypeError, match="must be a FitSettings; got SweepSettings"):
        resolve_settings(fit.FitSettings, sweep.SweepSettings(), {}, entry="fit")


def test_each_entry_point_declares_its_settings_and_lists_their_fields():
    for function, cls in ENTRY_POINTS.items():
        assert settings_class(function) is cls
        found = defaults(function)
        for field in dataclasses.fields(cls):
            assert found[field.name] == getattr(cls(), field.name)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(method="newton"), r"unknown `method` 'newton'"),
        (dict(starts=0), r"`starts` must be an int >= 1; got 0"),
        (dict(patience=0), r"`patience` must be an int >= 1; got 0"),
        (dict(init="best"), r"`init` must be one of \('regression'"),
        (dict(max_steps=-1), r"`max_steps` must be a positive int; got -1"),
        (dict(rtol=float("nan")), r"`rtol` must be a number > 0; got nan"),
        (dict(tol=-1e-3), r"`tol` must be a number >= 0"),
    ],
)
def test_fit_settings_reject_bad_values(options, message):
    with pytest.raises(ValueError, match=message):
        fit.FitSettings(**options)


def test_fit_rejects_an_unknown_keyword_before_any_work():
    with pytest.raises(TypeError, match=r"fit\(\) got unexpected keyword"):
        fit.fit([], hh.HodgkinHuxley(), ["g_Na"], learning_rat=0.1)


def test_sweep_settings_object_and_keywords_give_the_same_sweep(tmp_path):
    grid = sweep.Grid.parse(["g_Na=100:140:2"])
    stimulus = hh.Step(10.0, 1.0, 9.0)
    model = hh.HodgkinHuxley()
    a = sweep.run_sweep(
        model, grid, stimulus, tmp_path / "a", duration=10.0, dt=0.05, chunk_size=2
    )
    b = sweep.run_sweep(
        model,
        grid,
        stimulus,
        tmp_path / "b",
        duration=10.0,
        settings=sweep.SweepSettings(dt=0.05, chunk_size=2),
    )
    assert a.feature("spike_count").tolist() == [1, 1]  # a spike each: not vacuous
    for name in FEATURE_UNITS:
        np.testing.assert_array_equal(a.feature(name), b.feature(name), err_msg=name)
    with pytest.raises(TypeError, match=r"run_sweep\(\) got unexpected keyword"):
        sweep.run_sweep(model, grid, stimulus, tmp_path / "c", duration=1.0, step=0.1)


def test_batch_settings_object_and_keywords_give_the_same_traces():
    model = hh.HodgkinHuxley(g_Na=np.linspace(100.0, 140.0, 3))
    ts = np.arange(0.0, 12.0, 0.1)
    stimulus = hh.Step(10.0, 1.0, 11.0)
    a = hh.simulate_batch(model, stimulus, ts, method="rk4", dt=0.02)
    b = hh.simulate_batch(
        model, stimulus, ts, settings=hh.BatchSettings(method="rk4", dt=0.02)
    )
    assert a.method == b.method == "rk4 (fixed dt=0.02 ms)"
    assert float(np.max(a.V)) > 0.0  # each spiked: the comparison is not vacuous
    np.testing.assert_array_equal(np.asarray(a.V), np.asarray(b.V))
    with pytest.raises(TypeError, match=r"no fields of BatchSettings \(method, dt"):
        hh.simulate_batch(model, stimulus, ts, methd="rk4")
