"""hh_jax.io: loaders of current-clamp recordings, their units and their checks.

Expected values for the real files come from ``shared/realdata/README.md`` and for
the NEURON traces from ``shared/reference/README.md``; synthetic files are written
into ``tmp_path`` with values chosen here.
"""

import dataclasses
import datetime
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax
from hh_jax import io

ABF = "pyabf/171116sh_0018.abf"
NWB = "hippocampus-portal/99111002.nwb"


@pytest.fixture(scope="module")
def abf(realdata_dir):
    return io.load_abf(realdata_dir / ABF)


@pytest.fixture(scope="module")
def nwb(realdata_dir):
    return io.load_nwb(realdata_dir / NWB)


def value_at(sweep, t):
    """The command at time(s) `t` (ms), read off the step function directly."""
    k = np.searchsorted(sweep.stimulus_times, t, side="right") - 1
    return sweep.stimulus_values[k]


def pA_sweep(I=100.0, unit="pA"):
    t = np.arange(0.0, 10.0, 0.1)
    return io.Sweep(t, np.full(t.size, -65.0), [0.0, 2.0], [0.0, I], unit, "s")


# --- ABF: pyabf sample 171116sh_0018 -----------------------------------------


def test_abf_sweeps(abf, realdata_dir):
    assert len(abf) == 17
    assert abf.source == str(realdata_dir / ABF)
    for sweep in abf:
        assert sweep.current_unit == "pA"
        assert sweep.t.size == 60_000  # 3 s at 20 kHz
        assert sweep.metadata["sampling_rate_Hz"] == 20_000
        assert sweep.sampling_interval == pytest.approx(0.05, rel=1e-9)
        assert sweep.duration == pytest.approx(3000.0, abs=1e-6)
        assert sweep.t[0] == 0.0


def test_abf_command(abf):
    edges = np.array([146.8, 646.8, 1146.9, 1646.8, 2146.8])  # ms, README
    one_sample = 0.05 + 1e-9
    for k, sweep in enumerate(abf):
        step = -100.0 + 25.0 * k
        probe = [50.0, 400.0, 900.0, 1400.0, 1900.0, 2500.0]
        expected = [0.0, step, 0.0, -100.0, step, 0.0]
        np.testing.assert_array_equal(value_at(sweep, probe), expected)
        assert sweep.stimulus_times[0] == 0.0
        for change in sweep.stimulus_times[1:]:
            assert np.min(np.abs(edges - change)) <= one_sample


def test_abf_voltage(abf):
    for sweep in abf:
        rest = np.median(sweep.V[sweep.t < 140.0])
        assert rest == pytest.approx(-62.0, abs=2.0)
    peaks = np.array([sweep.V.max() for sweep in abf])
    assert np.all(peaks[:6] < 0.0)  # no spikes at the lowest steps
    assert np.all(peaks[8:] > 0.0)  # spikes from around sweep 8 on
    assert np.all((peaks[8:] > 55.0) & (peaks[8:] < 63.0))  # peaks ~ +59 mV


def test_abf_stimulus_in_density(abf):
    stim = abf[16].stimulus(capacitance_pF=100.0)  # 300 pA on 1e-4 cm^2
    assert float(stim(400.0)) == pytest.approx(3.0, rel=1e-12)
    assert float(stim(1400.0)) == pytest.approx(-1.0, rel=1e-12)


def test_abf_downsample(abf):
    sweep = abf[8].downsample(4)
    assert sweep.t.size == 15_000
    assert sweep.sampling_interval == pytest.approx(0.2, rel=1e-9)
    assert sweep.duration == pytest.approx(3000.0, abs=1e-6)
    assert sweep.metadata["sampling_rate_Hz"] == 5000
    assert sweep.V[0] == pytest.approx(np.mean(abf[8].V[:4]))
    taken = abf.downsample(4, method="take")
    np.testing.assert_array_equal(taken[3].V, abf[3].V[::4])


def test_abf_bad_channel(realdata_dir):
    with pytest.raises(ValueError, match=r"171116sh_0018\.abf.*`channel`"):
        io.load_abf(realdata_dir / ABF, channel=3)


def test_abf_missing_dependency(monkeypatch, realdata_dir):
    monkeypatch.setitem(sys.modules, "pyabf", None)
    with pytest.raises(ImportError, match=r"pip install hh_jax\[io\]"):
        io.load_abf(realdata_dir / ABF)


# --- NWB: hippocampus-portal 99111002 -----------------------------------------


def test_nwb_sweeps(nwb):
    assert len(nwb) == 16
    assert [s.name for s in nwb] == [f"ic__Step__{k}" for k in range(1, 17)]
    for sweep in nwb:
        assert sweep.current_unit == "pA"
        assert sweep.t.size == 7168
        assert sweep.metadata["sampling_rate_Hz"] == 10_000
        assert sweep.sampling_interval == pytest.approx(0.1, rel=1e-9)
        assert sweep.duration == pytest.approx(716.8, abs=1e-6)


def test_nwb_command_in_pA(nwb):
    for k, sweep in enumerate(nwb):
        t0 = sweep.t[0]
        # A step from sample 312 to 4312 (31.2 to 431.2 ms at 10 kHz).
        np.testing.assert_allclose(
            sweep.stimulus_times, t0 + np.array([0.0, 31.2, 431.2]), atol=1e-9
        )
        amplitude = -2000.0 + 200.0 * k  # -2.0 ... +1.0 nA
        assert value_at(sweep, t0 + 200.0) == pytest.approx(amplitude, abs=1e-3)
        assert value_at(sweep, t0 + 10.0) == 0.0
        assert value_at(sweep, t0 + 600.0) == 0.0


def test_nwb_voltage_in_mV(nwb):
    # Stored numbers are mV (unit volts, conversion 0.001); baseline ~ -15 mV.
    baseline = np.median(nwb[0].V[:300])
    assert -25.0 < baseline < -5.0


def test_nwb_zero_time(nwb):
    sweep = nwb[5].zero_time()
    assert sweep.t[0] == 0.0
    np.testing.assert_allclose(sweep.stimulus_times, [0.0, 31.2, 431.2], atol=1e-9)
    assert sweep.metadata["time_offset_ms"] == nwb[5].t[0]
    assert all(s.t[0] == 0.0 for s in nwb.zero_time())


def _write_nwb(
    path,
    *,
    V,
    I,
    rate=1000.0,
    V_conversion=1.0,
    V_offset=0.0,
    I_conversion=1e-12,
    I_rate=None,
    izero=False,
    stimulus=True,
):
    """One current-clamp sweep: `V` stored as given (unit volts) and `I` stored as
    given (unit amperes), with the given conversions."""
    import pynwb
    from pynwb.icephys import (
        CurrentClampSeries,
        CurrentClampStimulusSeries,
        IZeroClampSeries,
    )

    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    nwb = pynwb.NWBFile("test", "id", start)
    device = nwb.create_device(name="amp")
    electrode = nwb.create_icephys_electrode(name="e0", description="", device=device)
    common = dict(electrode=electrode, starting_time=0.0, sweep_number=np.uint64(1))
    if izero:
        series = IZeroClampSeries(
            name="cc_1", data=V, rate=rate, conversion=V_conversion, **common
        )
    else:
        series = CurrentClampSeries(
            name="cc_1",
            data=V,
            rate=rate,
            gain=1.0,
            conversion=V_conversion,
            offset=V_offset,
            **common,
        )
    nwb.add_acquisition(series)
    if stimulus:
        nwb.add_stimulus(
            CurrentClampStimulusSeries(
                name="stim_1",
                data=I,
                rate=I_rate or rate,
                gain=1.0,
                conversion=I_conversion,
                **common,
            )
        )
    with pynwb.NWBHDF5IO(str(path), "w") as file:
        file.write(nwb)
    return path


def test_nwb_units_follow_conversion_and_offset(tmp_path):
    V = np.full(100, -0.07)  # volts
    I = np.where(np.arange(100) >= 20, 50.0, 0.0)  # pA, stored with conversion 1e-12
    path = _write_nwb(tmp_path / "volts.nwb", V=V, I=I)
    (sweep,) = io.load_nwb(path)
    np.testing.assert_allclose(sweep.V, -70.0)
    np.testing.assert_allclose(sweep.stimulus_times, [0.0, 20.0])
    np.testing.assert_allclose(sweep.stimulus_values, [0.0, 50.0])
    # Stored uV with an offset of 0.01 V: -60000 uV * 1e-6 - 0.01 V = -70 mV.
    path = _write_nwb(
        tmp_path / "offset.nwb",
        V=np.full(100, -60000.0),
        V_conversion=1e-6,
        V_offset=-0.01,
        I=I * 1e-3,
        I_conversion=1e-9,
    )
    (sweep,) = io.load(path)
    np.testing.assert_allclose(sweep.V, -70.0)
    np.testing.assert_allclose(sweep.stimulus_values, [0.0, 50.0])


def test_nwb_izero_clamp_has_zero_command(tmp_path):
    path = _write_nwb(
        tmp_path / "izero.nwb", V=np.full(50, -0.06), I=None, izero=True, stimulus=False
    )
    (sweep,) = io.load_nwb(path)
    np.testing.assert_array_equal(sweep.stimulus_values, [0.0])
    assert sweep.stimulus_times[0] == sweep.t[0]


def test_nwb_stimulus_of_other_duration(tmp_path):
    path = _write_nwb(tmp_path / "short.nwb", V=np.full(100, -0.07), I=np.zeros(60))
    with pytest.raises(ValueError, match=r"short\.nwb.*durations must match"):
        io.load_nwb(path)


def test_nwb_series_without_stimulus(tmp_path):
    path = _write_nwb(
        tmp_path / "alone.nwb", V=np.full(100, -0.07), I=None, stimulus=False
    )
    with pytest.raises(ValueError, match=r"alone\.nwb.*cc_1.*no current-clamp"):
        io.load_nwb(path)


# --- NPZ: the NEURON reference format -----------------------------------------


def test_npz_reference_trace(reference_dir):
    (sweep,) = io.load_npz(reference_dir / "step_10.npz")
    assert sweep.name == "step_10"
    assert sweep.current_unit == "uA/cm^2"
    assert sweep.t[0] == 0.0 and sweep.t[-1] == pytest.approx(120.0)
    assert sweep.sampling_interval == pytest.approx(0.01)
    assert sweep.V[0] == pytest.approx(-65.0)
    # 10 uA/cm^2 from 5 to 105 ms; a density needs no area.
    stim = sweep.stimulus()
    assert [float(stim(t)) for t in (2.0, 50.0, 110.0)] == [0.0, 10.0, 0.0]
    np.testing.assert_array_equal(sweep.stimulus_times, [0.0, 5.0, 105.0])


def test_npz_integer_stimulus_is_float(reference_dir):
    raw = np.load(reference_dir / "pulse_train.npz")
    assert raw["stim_I"].dtype.kind == "i"
    (sweep,) = io.load(reference_dir / "pulse_train.npz")
    assert sweep.stimulus_values.dtype == np.float64
    np.testing.assert_array_equal(sweep.stimulus_values, raw["stim_I"])


def test_npz_round_trip(reference_dir, tmp_path):
    names = ["step_10", "pulse_train", "seed_I10"]  # 12001, 10001, 5001 samples
    original = io.Recording(
        [next(iter(io.load_npz(reference_dir / f"{n}.npz"))) for n in names]
    )
    io.save_npz(original, tmp_path / "all.npz")
    loaded = io.load_npz(tmp_path / "all.npz")
    assert [s.name for s in loaded] == names
    for a, b in zip(original, loaded, strict=True):
        for field in ("t", "V", "stimulus_times", "stimulus_values"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert b.current_unit == "uA/cm^2"
    # One sweep is written 1-D, as in the reference files.
    io.save_npz(original.select([1]), tmp_path / "one.npz")
    assert np.load(tmp_path / "one.npz")["t"].ndim == 1


def test_npz_round_trip_whole_cell(abf, tmp_path):
    io.save_npz(abf.select([0, 8]), tmp_path / "abf.npz")
    loaded = io.load_npz(tmp_path / "abf.npz")
    assert [s.current_unit for s in loaded] == ["pA", "pA"]
    np.testing.assert_array_equal(loaded[1].V, abf[8].V)
    np.testing.assert_array_equal(loaded[1].stimulus_values, abf[8].stimulus_values)
    assert loaded[1].metadata["sampling_rate_Hz"] == 20_000


def test_npz_leading_sweep_axis(tmp_path):
    t = np.tile(np.arange(0.0, 5.0, 0.5), (3, 1))
    V = np.full_like(t, -65.0)
    stim_t = np.tile([0.0, 1.0], (3, 1))
    stim_I = np.array([[0, 1], [0, 2], [0, 3]])  # int64, in pA
    np.savez(
        tmp_path / "s.npz", t=t, V=V, stim_t=stim_t, stim_I=stim_I, current_unit="pA"
    )
    recording = io.load_npz(tmp_path / "s.npz")
    assert len(recording) == 3
    assert [s.name for s in recording] == ["sweep 0", "sweep 1", "sweep 2"]
    assert [s.stimulus_values[1] for s in recording] == [1.0, 2.0, 3.0]
    assert recording[2].current_unit == "pA"


# --- CSV ----------------------------------------------------------------------

T_MS = np.arange(10) * 0.1
V_MV = -65.0 + np.arange(10)
I_PA = np.array([0, 0, 50, 50, 50, 0, 0, -20, -20, 0], dtype=float)


def _write_csv(path, header, *columns, comment=""):
    rows = "\n".join(",".join(repr(float(x)) for x in row) for row in zip(*columns))
    path.write_text(f"{comment}{header}\n{rows}\n")
    return path


@pytest.mark.parametrize(
    "header, scale",
    [
        ("t (ms), V (mV), I (pA)", (1.0, 1.0, 1.0)),
        ("time [s], voltage [V], current [nA]", (1e-3, 1e-3, 1e-3)),
        ("time (sec),Vm (millivolts),Iinj (A)", (1e-3, 1.0, 1e-12)),
    ],
)
def test_csv_units(tmp_path, header, scale):
    path = _write_csv(
        tmp_path / "c.csv",
        header,
        T_MS * scale[0],
        V_MV * scale[1],
        I_PA * scale[2],
        comment="# a comment\n",
    )
    (sweep,) = io.load_csv(path)
    assert sweep.current_unit == "pA"
    np.testing.assert_allclose(sweep.t, T_MS, rtol=1e-12)
    np.testing.assert_allclose(sweep.V, V_MV, rtol=1e-12)
    # Only the change points are kept, exactly.
    np.testing.assert_allclose(sweep.stimulus_times, [0.0, 0.2, 0.5, 0.7, 0.9])
    np.testing.assert_allclose(sweep.stimulus_values, [0, 50, 0, -20, 0], atol=1e-9)


def test_csv_density_and_sweeps(tmp_path):
    sweeps = np.repeat([1, 2], 10)
    path = _write_csv(
        tmp_path / "d.csv",
        "sweep, t (ms), V (mV), I (\u00b5A/cm\u00b2)",
        sweeps,
        np.tile(T_MS, 2),
        np.tile(V_MV, 2),
        np.concatenate([I_PA / 10, np.full(10, 3.0)]),
    )
    recording = io.load(path)
    assert [s.name for s in recording] == ["sweep 1", "sweep 2"]
    assert recording[0].current_unit == "uA/cm^2"
    np.testing.assert_allclose(recording[0].stimulus_values, [0, 5, 0, -2, 0])
    np.testing.assert_array_equal(recording[1].stimulus_times, [0.0])
    assert float(recording[1].stimulus()(0.5)) == 3.0


# --- Sweep and Recording --------------------------------------------------------


def test_stimulus_from_whole_cell_current():
    sweep = pA_sweep(100.0)
    # I [uA/cm^2] = I [pA] * 1e-6 / area [cm^2]
    assert float(sweep.stimulus(area_cm2=1e-5)(5.0)) == pytest.approx(10.0)
    # area = C [pF] * 1e-6 / C_m [uF/cm^2]
    assert float(sweep.stimulus(capacitance_pF=100.0)(5.0)) == pytest.approx(1.0)
    assert float(sweep.stimulus(capacitance_pF=100.0, C_m=2.0)(5.0)) == (
        pytest.approx(2.0)
    )
    nA = pA_sweep(0.1, unit="nA")
    assert float(nA.stimulus(area_cm2=1e-5)(5.0)) == pytest.approx(10.0)
    assert float(sweep.stimulus(area_cm2=1e-5)(1.0)) == 0.0
    assert isinstance(sweep.stimulus(area_cm2=1e-5), hh_jax.PiecewiseConstant)


def test_stimulus_area_can_be_fitted():
    sweep = pA_sweep(100.0)
    current = lambda area: sweep.stimulus(area_cm2=area)(5.0)
    area = jnp.asarray(1e-5)
    assert float(jax.jit(current)(area)) == pytest.approx(10.0)
    assert float(jax.grad(current)(area)) == pytest.approx(-100e-6 / 1e-10)


def test_stimulus_area_errors():
    sweep = pA_sweep(100.0)
    with pytest.raises(ValueError, match="area must be given or fitted"):
        sweep.stimulus()
    with pytest.raises(ValueError, match="not both"):
        sweep.stimulus(area_cm2=1e-5, capacitance_pF=100.0)
    with pytest.raises(ValueError, match=r"`area_cm2` must be finite and > 0 cm\^2"):
        sweep.stimulus(area_cm2=-1e-5)
    with pytest.raises(ValueError, match=r"`C_m`.*uF/cm\^2"):
        sweep.stimulus(capacitance_pF=100.0, C_m=0.0)
    density = pA_sweep(1.0, unit="uA/cm^2")
    with pytest.raises(ValueError, match="already a density"):
        density.stimulus(area_cm2=1e-5)


def _sweep(n, name):
    t = 0.1 * np.arange(n)
    return io.Sweep(t, -65.0 + t, [0.0, 0.2], [0.0, float(n)], "pA", name)


def test_recording_container():
    recording = io.Recording([_sweep(5, "a"), _sweep(8, "b"), _sweep(6, "c")])
    assert len(recording) == 3
    assert [s.name for s in recording] == ["a", "b", "c"]
    assert recording[1].name == "b"
    assert [s.name for s in recording.select([2, 0])] == ["c", "a"]
    with pytest.raises(ValueError, match="at least one sweep"):
        recording.select([])
    with pytest.raises(dataclasses.FrozenInstanceError):
        recording.sweeps = ()
    with pytest.raises(ValueError, match="read-only"):
        recording[0].V[0] = 0.0


def test_padded_keeps_every_sample():
    recording = io.Recording([_sweep(5, "a"), _sweep(8, "b")])
    t, V, mask = recording.padded()
    assert t.shape == V.shape == mask.shape == (2, 8)
    assert mask.sum(axis=1).tolist() == [5, 8]
    np.testing.assert_array_equal(t[0, :5], recording[0].t)
    np.testing.assert_array_equal(V[1], recording[1].V)
    assert np.all(np.diff(t, axis=1) > 0) and np.all(np.isfinite(V))

    stim = recording.padded_stimulus(area_cm2=1e-6)
    assert stim.times.shape == stim.values.shape == (2, 2)
    currents = jax.vmap(lambda s: s(0.3))(stim)
    np.testing.assert_allclose(currents, [5.0, 8.0])  # n pA on 1e-6 cm^2


def test_padded_stimulus_pads_commands():
    long = io.Sweep([0.0, 1.0, 2.0], [-65.0] * 3, [0.0, 1.0, 2.0], [1, 2, 3], "uA/cm^2")
    short = io.Sweep([0.0, 1.0, 2.0], [-65.0] * 3, [0.0], [4.0], "uA/cm^2")
    stim = io.Recording([long, short]).padded_stimulus()
    assert stim.times.shape == (2, 3)
    for probe, expected in [(0.5, [1.0, 4.0]), (2.5, [3.0, 4.0]), (9.0, [3.0, 4.0])]:
        np.testing.assert_array_equal(jax.vmap(lambda s: s(probe))(stim), expected)


def test_downsample_and_resample():
    t = 0.1 * np.arange(10)
    sweep = io.Sweep(t, -65.0 + np.arange(10), [0.0], [0.0], "pA")
    mean = sweep.downsample(3)  # blocks [0 1 2] [3 4 5] [6 7 8] [9]
    np.testing.assert_allclose(mean.V, -65.0 + np.array([1.0, 4.0, 7.0, 9.0]))
    np.testing.assert_allclose(mean.t, [0.1, 0.4, 0.7, 0.9])
    take = sweep.downsample(3, method="take")
    np.testing.assert_allclose(take.V, -65.0 + np.array([0.0, 3.0, 6.0, 9.0]))
    resampled = sweep.resample(0.25)
    np.testing.assert_allclose(resampled.t, [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_allclose(resampled.V, -65.0 + 10 * resampled.t)
    with pytest.raises(ValueError, match="`factor`"):
        sweep.downsample(0)
    # ValueError at run time; under the test suite's type checker, a TypeError.
    with pytest.raises((TypeError, ValueError), match="method"):
        sweep.downsample(2, method="median")


# --- Bad input: ValueError naming the file/argument and the unit -----------------


def test_load_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"x\.mat.*unknown extension"):
        io.load(tmp_path / "x.mat")


def _npz(path, **arrays):
    base = dict(t=np.arange(5.0), V=np.full(5, -65.0), stim_t=[0.0], stim_I=[1.0])
    np.savez(path, **{**base, **arrays})
    return path


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(V=[-65.0, np.nan, -65, -65, -65]), r"`V` must be finite \(in mV\)"),
        (dict(t=[0.0, 1.0, np.inf, 3.0, 4.0]), r"`t` must be finite \(in ms\)"),
        (dict(t=[0.0, 1.0, 1.0, 3.0, 4.0]), r"`t` must be strictly increasing.*ms"),
        (dict(V=np.full(5, -0.065)), r"looks like volts.*must be in mV"),
        (dict(V=np.full(5, -65000.0)), r"looks like uV.*must be in mV"),
        (dict(V=np.full(4, -65.0)), r"`t` \(ms\) has 5 samples but `V` \(mV\) has 4"),
        (dict(t=[], V=[]), r"the sweep is empty"),
        (
            dict(stim_t=[0.0, 9.0], stim_I=[0, 1]),
            r"after the recording ends.*"
            r"same duration",
        ),
        (dict(stim_t=[1.0], stim_I=[1]), r"after the first sample"),
        (dict(stim_I=[np.nan]), r"`stimulus_values` must be finite \(in uA/cm\^2\)"),
        (dict(current_unit="A/m"), r"unknown `current_unit` 'A/m'"),
        (dict(stim_I=[1e-10], current_unit="pA"), r"look like amperes.*in pA"),
    ],
)
def test_npz_bad_input(tmp_path, arrays, message):
    path = _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad\.npz: .*" + message):
        io.load_npz(path)


def test_npz_missing_key(tmp_path):
    np.savez(tmp_path / "m.npz", t=np.arange(3.0), V=np.full(3, -65.0))
    with pytest.raises(ValueError, match=r"m\.npz: missing `stim_t` \(ms\)"):
        io.load_npz(tmp_path / "m.npz")


@pytest.mark.parametrize(
    "header, columns, message",
    [
        ("t (ms), V (mV), I (pA)", (T_MS, V_MV, I_PA * 1e-12), r"amperes.*in pA"),
        ("t (ms), V (mV), I (pA)", (T_MS, V_MV / 1000, I_PA), r"volts.*in mV"),
        ("t (ms), V (mV), I (pA)", (T_MS[::-1], V_MV, I_PA), r"strictly increasing"),
        (
            "t (ms), V (mV), I (pA)",
            (T_MS, np.where(T_MS > 0.4, np.nan, V_MV), I_PA),
            r"`V` must be finite \(in mV\)",
        ),
        (
            "t (ms), V (mV), I (furlongs)",
            (T_MS, V_MV, I_PA),
            r"unknown unit 'furlongs'",
        ),
        ("t (ms), V (MV), I (pA)", (T_MS, V_MV, I_PA), r"unknown unit 'MV'"),
        ("t (ms), V (mV), I", (T_MS, V_MV, I_PA), r"'I' has no unit"),
        ("t (ms), V (mV), Vm (mV)", (T_MS, V_MV, V_MV), r"two voltage columns"),
        ("t (ms), V (mV)", (T_MS, V_MV), r"no current column"),
        ("t (ms), V (mV), I (pA)", (), r"the sweep is empty"),
    ],
)
def test_csv_bad_input(tmp_path, header, columns, message):
    path = _write_csv(tmp_path / "bad.csv", header, *columns)
    with pytest.raises(ValueError, match=r"bad\.csv: .*" + message):
        io.load_csv(path)


def test_sweep_bad_unit():
    with pytest.raises(ValueError, match=r"unknown `current_unit` 'mV'.*uA/cm\^2"):
        io.Sweep([0.0, 1.0], [-65.0, -65.0], [0.0], [0.0], "mV")


def test_crop_keeps_the_command_in_force(realdata_dir):
    from hh_jax.io import load_abf

    sweep = load_abf(realdata_dir / "pyabf" / "171116sh_0018.abf")[12]
    part = sweep.crop(100.0, 700.0)
    assert part.t[0] >= 100.0 and part.t[-1] < 700.0
    assert part.t.size == int(round(600.0 / sweep.sampling_interval))
    # 0 pA at 100 ms, then the +200 pA step from 146.8 to 646.8 ms (README).
    np.testing.assert_allclose(part.stimulus_values, [0.0, 200.0, 0.0])
    np.testing.assert_allclose(part.stimulus_times[1:], [146.85, 646.85], atol=0.06)
    late = sweep.crop(300.0, 400.0)  # inside the step: it is in force from the start
    np.testing.assert_allclose(late.stimulus_values, [200.0])
    with pytest.raises(ValueError, match="fewer than two samples"):
        sweep.crop(5000.0, 6000.0)
