"""The NEURON export against NEURON 9 itself: every preset (and a fitted cell
read from a fit directory) is written as .mod files and a cell.py, the
mechanisms are compiled once with nrnivmodl, and NEURON's CVODE run of the
exported cell must reproduce hh_jax's trace of the same model and stimulus.

Both sides are run tightly (NEURON CVODE atol = rtol = 1e-9; hh_jax Tsit5 at
rtol = atol = 1e-10), so a difference tests the export (kinetics, units, area,
C_m, temperature, reversals, initial state, stimulus replay), not the solvers.
"""

import importlib.util
import json
import shutil

import jax.numpy as jnp
import numpy as np
import pytest
from neuron import h, load_mechanisms

import hh_jax as hh
from hh_jax import export
from hh_jax.channels import SquidSodium
from hh_jax.cli import main as cli_main

DT = 0.025  # ms, output grid of both simulators
T_STOP = 150.0  # ms
# Measured on the 2-core machine (float64), per case (spikes; largest spike-time
# gap; largest |V_neuron - V_hh_jax| over the trace): HodgkinHuxley 5, 2.0e-6
# ms, 4.3e-4 mV; CorticalRegularSpiking 7, 3.2e-5, 0.017; CorticalFastSpiking
# 9, 2.4e-5, 0.013; CorticalIntrinsicBursting 6, 4.5e-5, 0.026;
# CorticalLowThresholdSpiking 1, 1.1e-5, 0.006; FastSpikingInterneuron 10,
# 5.8e-6, 0.003; AdaptingPyramidal 4, 1.8e-5, 0.010; fitted cell 3, 1.8e-5,
# 0.0097. The issue asks for 0.02 ms; we hold the export to 4x the worst gap.
SPIKE_TOL = 2e-4  # ms
V_TOL = 0.1  # mV, 4x the worst trace difference (spikes move it the most)

PRESETS = {
    "HodgkinHuxley": (hh.HodgkinHuxley(), hh.Step(10.0, 10.0, 80.0)),
    "CorticalRegularSpiking": (hh.CorticalRegularSpiking(), hh.Step(4.0, 10.0, 110.0)),
    "CorticalFastSpiking": (hh.CorticalFastSpiking(), hh.Step(5.0, 10.0, 110.0)),
    "CorticalIntrinsicBursting": (
        hh.CorticalIntrinsicBursting(),
        hh.Step(1.0, 10.0, 110.0),
    ),
    "CorticalLowThresholdSpiking": (
        hh.CorticalLowThresholdSpiking(),
        hh.PiecewiseConstant([10.0, 70.0, 120.0], [-0.5, 0.4, 0.0]),
    ),
    "FastSpikingInterneuron": (
        hh.FastSpikingInterneuron(),
        hh.Step(10.0, 10.0, 110.0),
    ),
    "AdaptingPyramidal": (hh.AdaptingPyramidal(), hh.Step(3.0, 10.0, 140.0)),
}

# A whole-cell fit of the adapting pyramidal candidate, written as
# hh_jax.fit.fit_cell writes params.json: values away from the defaults (shifts,
# time-constant scales, temperature, C_m) so that each one must be honoured.
FIT_MODEL = "adapting-pyramidal"
FIT_VALUES = {
    "g_Na": 62.0,
    "g_K": 6.5,
    "g_M": 0.11,
    "V_T": -57.5,
    "E_Na": 55.0,
    "E_K": -95.0,
    "temperature": 31.5,
    "shift_h": 3.5,
    "tau_scale_n": 1.4,
    "g_AHP": 0.45,
    "g_CaL": 0.08,
    "tau_Ca": 150.0,
    "g_Ih": 0.15,
    "E_L": -68.0,
    "C_m": 1.2,
}
FIT_AREA_UM2 = 15000.0
FIT_STEP_PA = (600.0, 10.0, 130.0)  # pA, ms, ms


def _load_script(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_fit_dir(directory):
    model = hh.AdaptingPyramidal().replace(**FIT_VALUES)
    infos = model.parameter_infos()
    params = {
        "model": FIT_MODEL,
        "parameters": {
            n: {
                "value": float(v),
                "unit": infos[n].unit,
                "searched": n in FIT_VALUES,
            }
            for n, v in model.parameters().items()
        },
        "area": {"value": FIT_AREA_UM2, "unit": "um^2", "source": "given"},
        "passive": {"V_rest": -68.0},
        "threshold_mV": -20.0,
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").write_text(json.dumps(params, indent=2))
    return model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Every preset and the fitted cell exported; all mechanisms compiled once
    (at -O0: a third of the compile time, no effect on the result) and loaded."""
    root = tmp_path_factory.mktemp("neuron_export")
    scripts = {}
    for name, (model, stimulus) in PRESETS.items():
        scripts[name] = export.to_neuron(
            model, root / name, stimulus=stimulus, t_stop=T_STOP
        ).script
    _write_fit_dir(root / "fit")
    amp, start, stop = FIT_STEP_PA
    code = cli_main(
        [
            "export",
            str(root / "fit"),
            "--to",
            "neuron",
            "--out",
            str(root / "fitted_neuron"),
            "--step",
            str(amp),
            str(start),
            str(stop),
            "--t-stop",
            str(T_STOP),
            "--no-cache",  # in-process: leave Equinox's error mode alone
        ]
    )
    assert code == 0
    scripts["fitted"] = root / "fitted_neuron" / "cell.py"
    mods = root / "mechanisms"
    mods.mkdir()
    for script in scripts.values():
        for mod in script.parent.glob("*.mod"):
            target = mods / mod.name
            if target.exists():  # one class, one text, whichever model wrote it
                assert target.read_text() == mod.read_text(), mod.name
            shutil.copy(mod, target)
    export.compile_mechanisms(mods, "-incflags", "-O0")
    load_mechanisms(str(mods))
    return {name: _load_script(path, f"cell_{name}") for name, path in scripts.items()}


def _hh_jax_trace(model, stimulus, y0=None):
    ts = jnp.arange(int(round(T_STOP / DT)) + 1) * DT
    trace = hh.simulate(
        model, stimulus, ts, y0=y0, rtol=1e-10, atol=1e-10, max_steps=400_000
    )
    return np.asarray(trace.t), np.asarray(trace.V)


def _compare(t, v_nrn, V_jax):
    s_nrn = np.asarray(hh.spike_times(t, v_nrn, 0.0))  # NEURON's 0 mV convention
    s_jax = np.asarray(hh.spike_times(t, V_jax, 0.0))
    count = int(np.sum(np.isfinite(s_jax)))
    assert count >= 1, "the stimulus must make the cell spike"
    assert int(np.sum(np.isfinite(s_nrn))) == count
    gap = np.max(np.abs(s_nrn[:count] - s_jax[:count]))
    assert gap < SPIKE_TOL, gap
    assert np.max(np.abs(v_nrn - V_jax)) < V_TOL
    return count, gap


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_matches_neuron(exported, name):
    model, stimulus = PRESETS[name]
    t, v = exported[name].run(T_STOP, DT)
    t_jax, V = _hh_jax_trace(model, stimulus)
    np.testing.assert_allclose(t, t_jax, atol=1e-9)
    _compare(t, v, V)


def test_fitted_cell_matches_neuron(exported):
    """The fit directory's cell in NEURON (area 15000 um^2, a 600 pA step)
    against hh_jax's model with the same values, at rest under no current."""
    cell = exported["fitted"]
    assert cell.AREA_UM2 == pytest.approx(FIT_AREA_UM2)
    assert cell.CELSIUS == FIT_VALUES["temperature"]
    assert cell.CM == FIT_VALUES["C_m"]
    t, v = cell.run(T_STOP, DT)
    model = hh.AdaptingPyramidal().replace(**FIT_VALUES)
    amp, start, stop = FIT_STEP_PA
    density = amp * 1e-6 / (FIT_AREA_UM2 * 1e-8)  # pA -> uA/cm^2
    y0 = hh.resting_state(model, V_guess=-68.0)
    _, V = _hh_jax_trace(model, hh.Step(density, start, stop), y0=y0)
    _compare(t, v, V)


def test_section_area_and_units(exported):
    """The section NEURON builds has the exported area, and gbar is in S/cm^2."""
    cell = exported["fitted"]
    built = cell.Cell()
    assert h.area(0.5, sec=built.soma) == pytest.approx(FIT_AREA_UM2, rel=1e-12)
    seg = built.soma(0.5)
    assert seg.gbar_hhjax_TraubMilesSodium == pytest.approx(FIT_VALUES["g_Na"] * 1e-3)
    assert seg.E_K_hhjax_MCurrent == FIT_VALUES["E_K"]


def test_steady_states_at_removable_singularities(exported):
    """NEURON's INITIAL steady states at the 0/0 points of every exp-linear rate
    (e.g. -40 mV for the squid alpha_m) equal hh_jax's: the trap works."""
    del exported  # only for the compiled mechanisms
    cases = []
    for model, _ in PRESETS.values():
        for ch in model.channels:
            if ch.reads or not ch.gates:
                continue
            offset = 0.0
            if getattr(ch, "voltage_offset", None) is not None:
                sign, pname = ch.voltage_offset
                offset = sign * float(getattr(ch, pname))
            for gate in ch.kinetics:
                for form in gate.forms:
                    if type(form).__name__ == "ExpLinear":
                        cases.append((model, ch, gate.name, form.midpoint + offset))
    assert len(cases) >= 8
    for model, ch, gate, V in cases:
        mech = "hhjax_" + type(ch).__name__
        sec = h.Section(name="probe")
        sec.insert(mech)
        h.celsius = float(model.temperature)
        h.finitialize(V)
        got = getattr(sec(0.5), f"{gate}_{mech}")
        rates = ch.gate_rates(jnp.asarray(V), model.temperature)[gate]
        want = float(rates.steady_state)
        assert np.isfinite(got)
        assert got == pytest.approx(want, rel=1e-10), (type(ch).__name__, gate, V)
        del sec


def test_not_exportable_raise(tmp_path):
    class OddSodium(SquidSodium):
        def gate_rates(self, V, temperature):
            rates = super().gate_rates(V, temperature)
            return {
                **rates,
                "m": hh.channels.GateRates(rates["m"].alpha * 2, rates["m"].beta),
            }

    odd = hh.PointNeuron(channels=(OddSodium(), hh.channels.Leak()))
    with pytest.raises(NotImplementedError, match="OddSodium"):
        export.to_neuron(odd, tmp_path)
    with pytest.raises(NotImplementedError, match="Sine"):
        export.to_neuron(hh.HodgkinHuxley(), tmp_path, stimulus=hh.Sine(1.0, 10.0))
    with pytest.raises(ValueError, match="batch"):
        export.to_neuron(hh.HodgkinHuxley(g_Na=jnp.array([100.0, 120.0])), tmp_path)
