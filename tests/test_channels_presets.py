"""Each named preset produces its named behaviour, measured with eFEL on a step
response, and the current that should cause it does: remove it (same model, one
conductance set to zero or to the paper's non-bursting value) and the behaviour
goes. One compiled simulation per preset (controls reuse it)."""

import efel
import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import PRESETS
from scipy.optimize import brentq

import hh_jax as hh

DT = 0.025  # ms


@eqx.filter_jit
def _steady_current(model, V):
    return model.membrane_current(hh.steady_state(model, V))


def _rest(model, lo=-100.0, hi=-58.0):
    """Resting state by SciPy's brentq on the steady-state current (mV)."""
    V = brentq(lambda v: float(_steady_current(model, jnp.asarray(v))), lo, hi)
    return hh.steady_state(model, jnp.asarray(V))


def _response(model, amplitude, start, stop, duration):
    ts = np.arange(0.0, duration, DT)
    trace = hh.simulate(
        model, hh.Step(amplitude, start, stop), ts, y0=_rest(model), gates=False
    )
    efel.reset()
    sweep = {
        "T": ts,
        "V": np.asarray(trace.V),
        "stim_start": [start],
        "stim_end": [stop],
    }
    names = ["peak_time", "AP_duration_half_width", "sag_amplitude"]
    values = efel.get_feature_values([sweep], names, raise_warnings=False)[0]
    out = {k: np.array([]) if v is None else np.asarray(v) for k, v in values.items()}
    out["ISI"] = np.diff(out["peak_time"])  # ms, every interval, the first included
    return out


def test_presets_are_point_neurons_with_keyword_constructors():
    for cls in PRESETS:
        model = cls(C_m=1.5)
        assert isinstance(model, hh.PointNeuron) and isinstance(model, cls)
        assert float(model.C_m) == 1.5
        assert isinstance(model.replace(C_m=2.0), cls)  # replace keeps the type
        with pytest.raises(TypeError):
            cls(1.0)  # keyword-only
    assert hh.CorticalIntrinsicBursting().gate_names == ("m", "h", "n", "p", "q", "r")
    assert hh.CorticalLowThresholdSpiking().gate_names == ("m", "h", "n", "p", "u")
    assert hh.FastSpikingInterneuron().gate_names == ("m", "h", "n_kv3")
    assert hh.AdaptingPyramidal().gate_names[-1] == "Ca_i"


@pytest.fixture(scope="module")
def regular_spiking():
    return _response(hh.CorticalRegularSpiking(), 4.0, 20.0, 320.0, 340.0)


@pytest.mark.parametrize(
    "cls, amplitude",
    [(hh.CorticalFastSpiking, 8.0), (hh.FastSpikingInterneuron, 20.0)],
)
def test_fast_spiking_high_rate_no_adaptation_narrow_spikes(
    cls, amplitude, regular_spiking
):
    fs = _response(cls(), amplitude, 20.0, 320.0, 340.0)
    isi = fs["ISI"]
    # Measured: 143 Hz (CorticalFastSpiking, 8 uA/cm^2) and 152 Hz
    # (FastSpikingInterneuron, 20 uA/cm^2); last/first ISI 0.99 for both.
    assert 1000.0 / isi.mean() > 100.0
    assert isi[-1] / isi[0] < 1.1
    # Half-width (eFEL AP_duration_half_width): measured 0.58 and 0.60 ms
    # against 0.71 ms for the regular-spiking cell (4 uA/cm^2).
    width = fs["AP_duration_half_width"].mean()
    assert width < 0.9 * regular_spiking["AP_duration_half_width"].mean()
    # and the regular-spiking cell adapts (measured ISIs 12.2 ms first, 25 ms last)
    rs_isi = regular_spiking["ISI"]
    assert rs_isi[-1] > 1.5 * rs_isi[0]


def test_intrinsic_bursting_burst_at_onset():
    """An onset burst (measured: 12 spikes, ISIs 5.7-12.3 ms), then a pause
    (298 ms). With g_CaL = 0.1 mS/cm^2, the value the ModelDB demo calls
    regular spiking, the first ISI is 31.6 ms: no burst."""
    model = hh.CorticalIntrinsicBursting()
    burst = _response(model, 0.7, 20.0, 620.0, 640.0)["ISI"]
    assert np.all(burst[:4] < 10.0) and burst.max() > 10 * burst[0]
    regular = _response(model.replace(g_CaL=0.1), 0.7, 20.0, 620.0, 640.0)
    assert regular["ISI"][0] > 20.0


def test_low_threshold_spiking_rebound_burst():
    """After a hyperpolarising step, a low-threshold rebound burst (measured: two
    spikes 10.1 ms apart, 119 ms after the release); none without the T current."""
    model = hh.CorticalLowThresholdSpiking()
    release = 420.0
    lts = _response(model, -0.5, 20.0, release, 640.0)["peak_time"]
    assert lts.size >= 2 and np.all(lts > release)
    assert np.diff(lts)[0] < 20.0
    blocked = _response(model.replace(g_CaT=0.0), -0.5, 20.0, release, 640.0)
    assert blocked["peak_time"].size == 0


def test_adapting_pyramidal_adaptation_and_sag():
    """Spike-frequency adaptation from the Ca-activated K current (measured
    last/first ISI 5.1; 1.6 without it, from the M current alone) and a sag from
    I_h under hyperpolarisation (measured 6.1 mV; 2e-6 mV without it)."""
    model = hh.AdaptingPyramidal()
    isi = _response(model, 6.0, 20.0, 320.0, 340.0)["ISI"]
    assert isi[-1] / isi[0] > 3.0
    no_ahp = _response(model.replace(g_AHP=0.0), 6.0, 20.0, 320.0, 340.0)
    assert no_ahp["ISI"][-1] / no_ahp["ISI"][0] < 2.0
    sag = _response(model, -4.0, 20.0, 320.0, 340.0)["sag_amplitude"]
    assert sag.item() > 3.0
    no_h = _response(model.replace(g_Ih=0.0), -4.0, 20.0, 320.0, 340.0)
    assert no_h["sag_amplitude"].item() < 0.5
