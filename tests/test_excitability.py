"""Classic numbers of the HH model, from the project's own batched simulations."""

import numpy as np
import pytest

import hh_jax as hh
from hh_jax.excitability import fi_curve, repetitive_firing_onset, rheobase

MODEL = hh.HodgkinHuxley()


def test_rest_is_minus_65_mV():
    assert round(float(hh.resting_state(MODEL).V), 1) == -65.0


def test_rheobase():
    """Smallest 100 ms step from rest that evokes a spike: 2.24 uA/cm^2."""
    assert rheobase(MODEL, tol=1e-3) == pytest.approx(2.24, abs=0.01)


@pytest.mark.slow
def test_onset_of_repetitive_firing():
    """Smallest step from rest whose spikes go on past 400 ms of a 500 ms step:
    6.26 uA/cm^2."""
    assert repetitive_firing_onset(MODEL, tol=2e-3) == pytest.approx(6.26, abs=0.02)


@pytest.mark.slow
def test_bistable_range_of_the_fi_curve():
    """Firing persists down to ~6.26 uA/cm^2 when current is lowered; rest loses
    stability at ~9.78 uA/cm^2. In between both coexist."""
    fi = fi_curve(
        MODEL,
        np.arange(5.0, 11.01, 0.1),
        duration=900.0,
        settle=400.0,
        count_after=600.0,
    )
    low, high = fi.bistable_range()
    assert low == pytest.approx(6.26, abs=0.1)  # on a 0.1 uA/cm^2 grid
    assert high == pytest.approx(9.78, abs=0.01)  # interpolated eigenvalue crossing
    inside = (np.asarray(fi.amplitudes) > low + 0.05) & (
        np.asarray(fi.amplitudes) < 9.7
    )
    assert np.all(np.asarray(fi.rate_increasing)[inside] == 0)
    assert np.all(np.asarray(fi.rate_decreasing)[inside] > 40)
