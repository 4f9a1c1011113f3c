"""NeuroML 2 export and import (libNeuroML; schema validation without Java).

- Import: the squid Na and K channels written by hand in NeuroML's standard forms
  (tests/data/squid_channels.nml) must equal hh_jax's hand-written squid rates
  (hh_jax.channels.alpha_m ..., the shared-exponential implementation) to 1e-9
  relative in float64, also at the 0/0 points, and simulate, batch and
  differentiate like them.
- The M current and the Ca-activated K current written by hand in NeuroML's
  custom-rate idiom (tests/data/pospischil_m_ahp.nml: LEMS ComponentTypes with
  SI constants) must equal hh_jax's MCurrent and CalciumActivatedPotassium.
- Round trip: every preset and the fit candidates exported then imported have
  the same vector field to rounding, and four of them the same traces.
- Every written document passes libNeuroML's validator and the XSD.
- Independent: jNeuroML converts an exported cortical-rs cell to NEURON, whose
  spike times must match hh_jax's (skipped without Java and pyNeuroML).
- What cannot be imported raises NotImplementedError naming it.
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import PRESETS
from neuroml.utils import validate_neuroml2

import hh_jax as hh
from hh_jax import export
from hh_jax.channels import CalciumActivatedPotassium, Leak, MCurrent
from hh_jax.fit._presets import CANDIDATES
from hh_jax.model import State

SQUID = Path(__file__).parent / "data" / "squid_channels.nml"
M_AHP = Path(__file__).parent / "data" / "pospischil_m_ahp.nml"
V = jnp.concatenate([jnp.linspace(-120.0, 60.0, 91), jnp.array([-40.0, -55.0])])
TS = jnp.arange(0.0, 60.0001, 0.05)
STEP = hh.Step(10.0, 5.0, 45.0)


@pytest.fixture(scope="module")
def squid():
    channels = export.channels_from_neuroml(SQUID)
    Na = channels["na"](g_na=120.0, E_Na=50.0)
    K = channels["k"](g_k=36.0, E_K=-77.0)
    return Na, K


@pytest.mark.parametrize("path", [SQUID, M_AHP], ids=["squid", "m_ahp"])
def test_handwritten_files_are_valid_neuroml(path):
    validate_neuroml2(str(path))
    assert export.schema_errors(path) == []


@pytest.mark.parametrize("temperature", [6.3, 18.5])
def test_imported_squid_rates_match_handwritten(squid, temperature):
    Na, K = squid
    T = jnp.asarray(temperature)
    mine = {**Na.gate_rates(V, T), **K.gate_rates(V, T)}
    ref = {**hh.channels.SquidSodium().gate_rates(V, T)}
    ref.update(hh.channels.SquidPotassium().gate_rates(V, T))
    for g in ("m", "h", "n"):
        for part in ("alpha", "beta"):
            a, b = getattr(mine[g], part), getattr(ref[g], part)
            # the issue asks 1e-9; measured 5.7e-15 relative (the squid rates'
            # ulps), held to 5x
            np.testing.assert_allclose(a, b, rtol=3e-14, atol=0, err_msg=f"{part}_{g}")
    gates = {"m": 0.3 + 0 * V, "h": 0.6 + 0 * V, "n": 0.4 + 0 * V}
    np.testing.assert_allclose(
        Na.current(V, gates),
        hh.channels.SquidSodium().current(V, gates),
        rtol=1e-12,
        atol=1e-12,
    )


def test_imported_squid_simulates(squid):
    Na, K = squid
    model = hh.PointNeuron(channels=(Na, K, Leak()), temperature=6.3)
    ref = hh.HodgkinHuxley()
    trace = hh.simulate(model, STEP, TS, rtol=1e-10, atol=1e-10)
    expected = hh.simulate(ref, STEP, TS, rtol=1e-10, atol=1e-10)
    # measured 3.0e-12 mV: the same solver on rates equal to 6e-15; 5x
    np.testing.assert_allclose(trace.V, expected.V, rtol=0, atol=1.5e-11)


def test_imported_squid_differentiates_and_batches(squid):
    Na, K = squid
    model = hh.PointNeuron(channels=(Na, K, Leak()), temperature=6.3)
    ref = hh.HodgkinHuxley()

    def rest(g, m, name):  # resting potential (mV) under 2 uA/cm^2
        return hh.resting_state(m.replace(**{name: g}), holding_current=2.0).V

    grad = jax.grad(rest)(jnp.asarray(36.0), model, "g_k")
    grad_ref = jax.grad(rest)(jnp.asarray(36.0), ref, "g_K")
    # measured 7.8e-16 (3.5 ulp); held to ~10 ulp
    np.testing.assert_allclose(grad, grad_ref, rtol=2e-15)
    batch = model.replace(g_na=jnp.array([100.0, 120.0]), shift_m=jnp.array([0.0, 2.0]))
    V = jnp.full(2, -50.0)
    current = batch.membrane_current(hh.steady_state(batch, V))  # broadcast batch
    one = model.replace(shift_m=2.0)
    one = one.membrane_current(hh.steady_state(one, -50.0))
    assert current.shape == (2,)
    np.testing.assert_allclose(current[1], one, rtol=1e-12)


# Fitted-looking values of every candidate (each searched parameter away from
# its default, so that each must be written and read back).
FITTED = {
    "cortical-rs": {
        "g_Na": 62.0,
        "g_K": 6.5,
        "g_M": 0.11,
        "V_T": -57.5,
        "tau_max": 800.0,
        "E_Na": 55.0,
        "E_K": -95.0,
        "temperature": 31.5,
        "shift_h": 3.5,
        "tau_scale_n": 1.4,
        "C_m": 1.2,
    },
    "adapting-pyramidal": {
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
    },
    "fast-spiking": {
        "g_Na": 90.0,
        "g_Kv3": 180.0,
        "E_Na": 55.0,
        "E_K": -92.0,
        "temperature": 33.0,
        "shift_m": -3.0,
        "shift_h": 2.0,
        "tau_scale_n_kv3": 0.8,
        "E_L": -66.0,
    },
}


def fitted(name):
    return CANDIDATES[name].build().replace(**FITTED[name])


MODELS = {cls.__name__: cls for cls in PRESETS}
MODELS.update({f"fit:{n}": (lambda n=n: fitted(n)) for n in FITTED})


def _random_state(model, n=64, seed=0):
    rng = np.random.default_rng(seed)
    gates = {}
    for name, info in model.state_infos().items():
        if info.kind == "concentration":  # mM, log-uniform 1e-5 .. 1e-2
            gates[name] = jnp.asarray(10 ** rng.uniform(-5, -2, n))
        else:
            gates[name] = jnp.asarray(rng.uniform(0.0, 1.0, n))
    V = jnp.asarray(np.concatenate([rng.uniform(-110, 60, n - 4), [-40, -55, -35, 0]]))
    return State(V=V, gates=gates)


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_same_vector_field(tmp_path, name):
    """Every preset and fit candidate: export (validated against the XSD), import,
    and the vector field (dV/dt and every gate and concentration rate, also at
    the removable singularities) and the steady states are the model's."""
    model = MODELS[name]()
    path = export.to_neuroml(model, tmp_path, area_um2=2500.0)  # validates
    assert export.schema_errors(path) == []
    cell = export.cell_from_neuroml(path)
    back = cell.model
    assert cell.area_um2 == pytest.approx(2500.0, rel=1e-12)
    assert float(back.temperature) == float(model.temperature)
    assert float(back.C_m) == float(model.C_m)
    assert set(back.gate_names) == set(model.gate_names)
    state = _random_state(model)
    for I_ext in (0.0, 7.5):
        a = model.derivative(state, I_ext)
        b = back.derivative(state, I_ext)
        # measured: bitwise equal for the presets at their defaults, <= 1.6e-15
        # relative with fitted values (rounding of the baked-in midpoints and
        # rates), 1.4e-14 for HodgkinHuxley (hand-written shared exponentials)
        np.testing.assert_allclose(b.V, a.V, rtol=1e-12, atol=1e-12)
        for g in model.gate_names:
            np.testing.assert_allclose(
                b.gates[g], a.gates[g], rtol=1e-12, atol=1e-15, err_msg=g
            )
    V = jnp.linspace(-90.0, 40.0, 27)
    sa, sb = hh.steady_state(model, V), hh.steady_state(back, V)
    for g in model.gate_names:
        np.testing.assert_allclose(sb.gates[g], sa.gates[g], rtol=1e-12, err_msg=g)
    if model.pools is not None:  # the species starts at the steady state at V_init
        start = float(hh.steady_state(model, -65.0).gates["Ca_i"])
        assert cell.initial_concentrations["Ca_i"] == pytest.approx(start, rel=1e-14)


ROUND_TRIP = {
    "CorticalFastSpiking": lambda: hh.CorticalFastSpiking().replace(
        shift_h=2.5, tau_scale_n=1.3, shift_m=-1.5, temperature=32.0, V_T=-57.0, C_m=1.1
    ),
    "FastSpikingInterneuron": lambda: hh.FastSpikingInterneuron().replace(
        tau_scale_n_kv3=0.8, shift_h=-2.0
    ),
    "fit:cortical-rs": lambda: fitted("cortical-rs"),
    "fit:adapting-pyramidal": lambda: fitted("adapting-pyramidal"),
}


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_round_trip_same_traces(tmp_path, name):
    model = ROUND_TRIP[name]()
    path = export.to_neuroml(model, tmp_path, area_um2=2500.0)  # validates
    cell = export.cell_from_neuroml(path)
    assert cell.area_um2 == pytest.approx(2500.0, rel=1e-12)
    stim = hh.Step(12.0, 5.0, 45.0)
    # the same fixed-step RK4 on both sides (compiles in about half the time of
    # the adaptive solver): a difference comes from the vector fields only. RK4
    # at 0.025 ms blows up on the fast-spiking cell; 0.01 ms is stable.
    a = hh.simulate_fixed(model, stim, TS, dt=0.01)
    b = hh.simulate_fixed(cell.model, stim, TS, dt=0.01)
    assert bool(jnp.all(jnp.isfinite(a.V))) and int(hh.spike_count(a.V)) >= 2
    # measured <= 1e-13 mV; 1.1e-11 mV for the adapting-pyramidal cell (Ca pool),
    # 2026-12-03, 2-core CPU, float64; ~5x
    np.testing.assert_allclose(b.V, a.V, rtol=0, atol=6e-11)


def test_expression_rates_written_as_component_types(tmp_path):
    """The M current's time constant is a ComponentType extending
    baseVoltageDepTime in mV/ms scale constants, the AHP's Ca dependence one
    extending baseVoltageConcDepRate; the pool is a fixedFactorConcentrationModel
    with rho = 1 / (2 F depth)."""
    from neuroml.loaders import read_neuroml2_file

    model = fitted("adapting-pyramidal")
    doc = read_neuroml2_file(str(export.to_neuroml(model, tmp_path)))
    types = {ct.name: ct for ct in doc.ComponentType}
    tau = types["MCurrent_p_tau"]
    assert tau.extends == "baseVoltageDepTime"
    consts = {c.name: c.value for c in tau.Constant}
    assert consts["VOLT_SCALE"] == "1mV" and consts["TIME_SCALE"] == "1ms"
    assert float(consts["tau_max"]) == float(model.tau_max)
    assert types["CalciumActivatedPotassium_m_ahp_alpha"].extends == (
        "baseVoltageConcDepRate"
    )
    (pool,) = doc.fixed_factor_concentration_models
    rho = float(pool.rho.removesuffix("mol_per_m_per_A_per_s"))
    depth_m = float(model.depth_Ca) * 1e-6
    assert rho == pytest.approx(1 / (2 * 96485.33212 * depth_m), rel=1e-15)
    assert pool.decay_constant == "150ms"


def test_schema_validation_can_fail(tmp_path):
    """The strict XSD check rejects what libNeuroML's object validator lets
    through (an element it does not know)."""
    path = export.to_neuroml(hh.CorticalRegularSpiking(), tmp_path)
    bad = tmp_path / "bad.nml"
    text = path.read_text()
    bad.write_text(text.replace("<cell ", '<notAnElement id="x"/>\n    <cell ', 1))
    assert export.schema_errors(path) == []
    assert any("notAnElement" in e for e in export.schema_errors(bad))
    with pytest.raises(ValueError, match="not valid NeuroML 2"):
        export.validate_file(bad)


@pytest.mark.parametrize("temperature", [36.0, 29.0])
def test_handwritten_lems_channels_match_handwritten_classes(temperature):
    """LEMS ComponentTypes written by hand (SI constants: 1 V, 1 s, 30 per_s,
    1 mol_per_m3) read back as the library's M and AHP currents."""
    channels = export.channels_from_neuroml(M_AHP)
    im = channels["im"](g_im=0.07, E_K=-100.0)
    ahp = channels["iahp"](g_iahp=0.3, E_K=-100.0)
    assert ahp.reads == ("Ca_i",)
    T = jnp.asarray(temperature)
    ref = MCurrent().gate_rates(V, T)["p"]
    mine = im.gate_rates(V, T)["p"]
    # the 1e-9; measured 1.1e-15 relative ((v / 1000 + 0.035) / 0.02
    # against (v + 35) / 20)
    np.testing.assert_allclose(mine.alpha, ref.alpha, rtol=1e-9, atol=0)
    np.testing.assert_allclose(mine.beta, ref.beta, rtol=1e-9, atol=0)
    Ca = {"Ca_i": jnp.geomspace(1e-5, 1e-2, V.shape[0])}
    ref = CalciumActivatedPotassium().state_rates(V, Ca, T)["m_ahp"]
    mine = ahp.state_rates(V, Ca, T)["m"]
    np.testing.assert_allclose(mine.alpha, ref.alpha, rtol=1e-9, atol=0)
    np.testing.assert_allclose(mine.beta, ref.beta, rtol=1e-9, atol=0)


def test_not_exportable_raise(tmp_path):
    """What NeuroML cannot hold is refused naming the channel and the gate, and
    bad arguments name themselves and their unit."""
    from typing import ClassVar

    from jaxtyping import Array, Float

    from hh_jax.channels import (
        AbstractHHChannel,
        ExpLinear,
        Gate,
        Sigmoid,
        shift_parameter,
        tau_scale_parameter,
    )

    class OddTau(AbstractHHChannel):  # an exp-linear time constant: no 0/0 trap
        g_odd: Float[Array, ""] = hh.parameter(1.0, unit="mS/cm^2", doc="g")
        E_odd: Float[Array, ""] = hh.parameter(-80.0, unit="mV", doc="E")
        shift_z: Float[Array, ""] = shift_parameter("z")
        tau_scale_z: Float[Array, ""] = tau_scale_parameter("z")
        gates: ClassVar[tuple[str, ...]] = ("z",)
        current_name: ClassVar[str] = "I_odd"
        conductance: ClassVar[str] = "g_odd"
        reversal: ClassVar[str] = "E_odd"
        q10: ClassVar[float] = 3.0
        reference_temperature: ClassVar[float] = 36.0
        kinetics: ClassVar[tuple[Gate, ...]] = (
            Gate("z", 1, inf=Sigmoid(1.0, -40.0, 5.0), tau=ExpLinear(5.0, -30.0, 10.0)),
        )

    model = hh.PointNeuron(channels=(OddTau(), Leak()), temperature=36.0)
    with pytest.raises(NotImplementedError, match="OddTau: gate 'z' \\(tau\\)"):
        export.to_neuroml(model, tmp_path)
    with pytest.raises(ValueError, match="`V_init`.*mV"):
        export.to_neuroml(hh.CorticalRegularSpiking(), tmp_path, V_init=float("nan"))
    with pytest.raises(ValueError, match="`area_um2`.*um\\^2"):
        export.to_neuroml(hh.CorticalRegularSpiking(), tmp_path, area_um2=-1.0)


def test_not_importable_raise(tmp_path):
    custom = tmp_path / "custom.nml"
    custom.write_text(
        SQUID.read_text().replace(
            'type="HHExpRate" rate="4per_ms"', 'type="myCustomRate" rate="4per_ms"'
        )
    )
    with pytest.raises(NotImplementedError, match="'na'.*myCustomRate"):
        export.channels_from_neuroml(custom)
    text = M_AHP.read_text()
    conditional = tmp_path / "conditional.nml"  # a piecewise rate
    conditional.write_text(
        text.replace(
            '<DerivedVariable name="r" dimension="per_time" exposure="r" '
            'value="BETA"/>',
            '<ConditionalDerivedVariable name="r" dimension="per_time" exposure="r">'
            '<Case condition="v .gt. 0" value="BETA"/><Case value="2 * BETA"/>'
            "</ConditionalDerivedVariable>",
        )
    )
    with pytest.raises(NotImplementedError, match="iahp.*conditional"):
        export.channels_from_neuroml(conditional)
    heaviside = tmp_path / "heaviside.nml"  # a LEMS function hh_jax lacks
    heaviside.write_text(text.replace('value="BETA"/>', 'value="BETA * H(v)"/>'))
    with pytest.raises(NotImplementedError, match="H\\(v\\)"):
        export.channels_from_neuroml(heaviside)


@pytest.mark.parametrize("name", list(FITTED))
def test_cli_exports_fitted_cell_as_neuroml(tmp_path, name):
    """``hh-jax export FIT --to neuroml``: a params.json as fit_cell writes it
    (every candidate) gives a valid file whose cell has those values."""
    import json

    from hh_jax.cli import main

    model = fitted(name)
    infos = model.parameter_infos()
    params = {
        "model": name,
        "parameters": {
            n: {"value": float(v), "unit": infos[n].unit, "searched": False}
            for n, v in model.parameters().items()
        },
        "area": {"value": 9000.0, "unit": "um^2", "source": "passive estimate"},
    }
    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "params.json").write_text(json.dumps(params))
    out = tmp_path / "nml"
    argv = ["export", str(tmp_path / "fit"), "--to", "neuroml", "--out", str(out)]
    assert main([*argv, "--no-cache"]) == 0
    path = out / f"{type(model).__name__}.cell.nml"
    assert export.schema_errors(path) == []
    cell = export.cell_from_neuroml(path)
    assert cell.area_um2 == pytest.approx(9000.0, rel=1e-12)
    V = jnp.linspace(-90.0, 40.0, 27)
    a = model.membrane_current(hh.steady_state(model, V))
    b = cell.model.membrane_current(hh.steady_state(cell.model, V))
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


# -- independent check: jNeuroML's NEURON conversion of an exported cell ------------

JNML_DT = 0.025  # ms, hh_jax's output grid
JNML_T_STOP = 60.0  # ms
JNML_AREA_UM2 = 2500.0
JNML_STEP = (10.0, 5.0, 55.0)  # uA/cm^2, ms, ms
# Measured (2-core machine, NEURON 9 CVODE 1e-9 on jNeuroML 0.14's .mod files vs
# hh_jax Tsit5 1e-10): fitted cortical-rs cell, 6 spikes, largest spike-time
# gap 1.8e-4 ms (the issue asks for 0.02 ms). Defaults, 100 ms: 14 spikes,
# 2.1e-4 ms; AdaptingPyramidal (Ca pool, AHP, I_h) 10 spikes, 5.6e-4 ms.
JNML_SPIKE_TOL = 2e-3  # ms, 10x the measured gap
_NEURON_RUN = """
import json, sys
sys.argv = sys.argv[:1] + ["-nogui"]
import LEMS_sim_nrn as generated
from neuron import h
generated.NeuronSimulation(tstop={t_stop}, abs_tol=1e-9, rel_tol=1e-9)
soma = h.a_pop[0].soma
detector = h.NetCon(soma(0.5)._ref_v, None, sec=soma)
detector.threshold = 0.0
times = h.Vector()
detector.record(times)
h.tstop = {t_stop}
h.run()
print("SPIKES", json.dumps(list(times)))
"""


def _jnml_jar():
    import importlib.util
    import shutil

    spec = importlib.util.find_spec("pyneuroml")
    if shutil.which("java") is None or spec is None:
        return None
    lib = Path(spec.origin).parent / "lib"
    jars = sorted(lib.glob("jNeuroML-*-jar-with-dependencies.jar"))
    return jars[-1] if jars else None


def _run(args, cwd, timeout=600):
    import subprocess

    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{args[0]} failed:\n{done.stdout[-3000:]}{done.stderr}"
    )
    return done.stdout


def test_jnml_neuron_reproduces_exported_cell(tmp_path):
    """jNeuroML (pyNeuroML's jar) converts an exported fitted cortical-rs cell
    (its M current a LEMS ComponentType) to NEURON; NEURON's spikes must be
    hh_jax's. Skipped without Java, pyNeuroML or nrnivmodl."""
    import shutil
    import sys

    from hh_jax.export._neuroml_units import written

    jar = _jnml_jar()
    if jar is None or shutil.which("nrnivmodl") is None:
        pytest.skip("needs java, pyneuroml (jNeuroML jar) and NEURON's nrnivmodl")
    model = fitted("cortical-rs")
    export.to_neuroml(model, tmp_path, area_um2=JNML_AREA_UM2, cell_id="rs")
    amp, start, stop = JNML_STEP
    nA = amp * JNML_AREA_UM2 * 1e-8 * 1e3  # uA/cm^2 * cm^2 -> nA
    (tmp_path / "net.nml").write_text(
        f"""<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="net">
  <include href="rs.cell.nml"/>
  <pulseGenerator id="stim" delay="{start}ms" duration="{stop - start}ms"
      amplitude="{nA!r}nA"/>
  <network id="simnet" type="networkWithTemperature"
      temperature="{written(float(model.temperature), "degC")}">
    <population id="pop" component="rs" size="1"/>
    <explicitInput target="pop[0]" input="stim"/>
  </network>
</neuroml>"""
    )
    (tmp_path / "LEMS_sim.xml").write_text(
        f"""<Lems>
  <Target component="sim"/>
  <Include file="Cells.xml"/>
  <Include file="Networks.xml"/>
  <Include file="Simulation.xml"/>
  <Include file="net.nml"/>
  <Simulation id="sim" length="{JNML_T_STOP}ms" step="{JNML_DT}ms" target="simnet">
    <OutputFile id="of" fileName="v.dat">
      <OutputColumn id="v" quantity="pop[0]/v"/>
    </OutputFile>
  </Simulation>
</Lems>"""
    )
    _run(["java", "-Xmx1G", "-jar", str(jar), "LEMS_sim.xml", "-neuron"], tmp_path)
    _run([shutil.which("nrnivmodl")], tmp_path)
    (tmp_path / "run_nrn.py").write_text(_NEURON_RUN.format(t_stop=JNML_T_STOP))
    out = _run([sys.executable, "run_nrn.py"], tmp_path)
    import json

    line = next(x for x in out.splitlines() if x.startswith("SPIKES"))
    s_nrn = np.asarray(json.loads(line.removeprefix("SPIKES")))
    ts = jnp.arange(int(round(JNML_T_STOP / JNML_DT)) + 1) * JNML_DT
    trace = hh.simulate(
        model, hh.Step(*JNML_STEP), ts, rtol=1e-10, atol=1e-10, max_steps=400_000
    )
    s_jax = np.asarray(hh.spike_times(trace.t, trace.V, threshold=0.0))
    s_jax = s_jax[np.isfinite(s_jax)]
    assert len(s_jax) >= 3
    assert len(s_nrn) == len(s_jax)
    gap = float(np.max(np.abs(s_nrn - s_jax)))
    assert gap < JNML_SPIKE_TOL, (gap, s_nrn, s_jax)
