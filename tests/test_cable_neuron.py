"""Cables against NEURON 9, run here through its Python API with its built-in
``hh`` (rate tables off, ``el_hh = -54.387`` mV as in hh_jax) and ``pas``
mechanisms: the same SWC file read by NEURON's Import3d, the same segments, and
either the same time-stepping scheme (then the two agree to rounding) or
NEURON's variable-step CVODE as an independent reference."""

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
from neuron import h

import hh_jax as hh
from hh_jax import cable as hc

SWC = Path(__file__).parent / "data" / "branched_cell.swc"
h.load_file("stdrun.hoc")
h.load_file("import3d.hoc")


@pytest.fixture
def nrn():
    """NEURON with a clean slate: no sections, fixed step, rate tables off."""
    h.usetable_hh = 0
    yield h
    h.CVode().active(0)
    h.secondorder = 0
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def _run(nrn, recorders, *, dt, tstop, secondorder=0, cvode_tol=None):
    """Run NEURON and return the recorded traces, one row per recorder, sampled
    every `dt` from 0 (CVODE: its interpolated output at those times)."""
    vectors = [
        nrn.Vector().record(ref, dt) if cvode_tol else nrn.Vector().record(ref)
        for ref in recorders
    ]
    cvode = nrn.CVode()
    cvode.active(1 if cvode_tol else 0)
    if cvode_tol:
        cvode.atol(cvode_tol)
        cvode.rtol(cvode_tol)
    nrn.secondorder = secondorder
    nrn.dt = dt
    nrn.finitialize(-65.0)
    nrn.continuerun(tstop)
    n = int(round(tstop / dt))
    return np.array([np.array(v)[:n] for v in vectors])


def _neuron_hh_axon(nrn, L, diam, R_a, nseg, delay, dur, amp):
    """An unbranched hh axon in NEURON (18.5 degC) with an ``IClamp`` of `amp`
    nA from `delay` for `dur` ms at x = 0; returns the section and the clamp
    (keep it, or NEURON drops the stimulus)."""
    sec = nrn.Section(name="axon")
    sec.L, sec.diam, sec.Ra, sec.nseg = L, diam, R_a, nseg
    sec.insert("hh")
    sec.el_hh = -54.387
    nrn.celsius = 18.5
    clamp = nrn.IClamp(sec(0.0))
    clamp.delay, clamp.dur, clamp.amp = delay, dur, amp
    return sec, clamp


# -- morphology and discretisation ------------------------------------------------


def _import3d(nrn, path):
    reader = nrn.Import3d_SWC_read()
    reader.input(str(path))
    nrn.Import3d_GUI(reader, False).instantiate(None)
    return list(nrn.allsec())


def _points(sec):
    n = sec.n3d()
    xyz = np.array([[sec.x3d(i), sec.y3d(i), sec.z3d(i)] for i in range(n)])
    return xyz, np.array([sec.diam3d(i) for i in range(n)])


def _match_sections(morphology, nrn_sections):
    """NEURON section -> our section index, by the nearest last 3-D point (NEURON
    keeps 3-D points in float32)."""
    ends = np.array([s.points[-1] for s in morphology.sections])
    match = {}
    for sec in nrn_sections:
        gap = np.linalg.norm(ends - _points(sec)[0][-1], axis=1)
        assert gap.min() < 1e-3, sec.name()
        match[sec.name()] = int(np.argmin(gap))
    return match


def test_swc_sections_and_segments_match_import3d(nrn):
    morphology = hc.load_swc(SWC)
    sections = _import3d(nrn, SWC)
    match = _match_sections(morphology, sections)
    assert len(sections) == len(morphology) == len(set(match.values())) == 13
    R_a = 100.0
    for sec in sections:
        ours = morphology.sections[match[sec.name()]]
        xyz, diams = _points(sec)
        assert ours.name == sec.name()
        np.testing.assert_allclose(ours.points, xyz, atol=1e-4)  # float32 there
        np.testing.assert_allclose(ours.diams, diams, rtol=1e-6)
        parent = sec.parentseg()
        if parent is None:
            assert ours.parent == -1
        else:
            assert ours.parent == match[parent.sec.name()]
            assert ours.parent_x == parent.x
        # NEURON's d_lambda rule (its own lambda_f on its own 3-D points).
        sec.Ra = R_a
        sec.nseg = int((sec.L / (0.1 * nrn.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
    nseg = [0] * len(morphology)
    for sec in sections:
        nseg[match[sec.name()]] = sec.nseg
    assert hc.d_lambda_nseg(morphology, R_a=R_a) == tuple(nseg)
    layout = hc.discretise(morphology, nseg)
    for sec in sections:
        nodes = layout.section_nodes(match[sec.name()])
        centres = nodes[(layout.x[nodes] > 0) & (layout.x[nodes] < 1)]
        area = [seg.area() for seg in sec]
        # Between a segment's node and its parent node, in megaohm.
        ri = [seg.ri() for seg in sec]
        # Measured 1.5e-7 (NEURON's float32 3-D points).
        np.testing.assert_allclose(layout.area[centres], area, rtol=2e-6)
        # (The root's first centre has no parent here: NEURON's node at its x = 0
        # end is a sealed end without membrane, dropped.)
        skip = 1 if sec.parentseg() is None else 0
        np.testing.assert_allclose(
            1e-2 * R_a * layout.axial[centres][skip:], ri[skip:], rtol=2e-6
        )


# Somas as NEURON's Import3d reads them: a chain of soma points with children at
# its ends and in its middle, a type change without a branch, a parent that is not
# the previous line; and a three-point soma centred on the root.
CHAIN_SOMA = """
1 1 0 0 0 5 -1
2 1 0 5 0 6 1
3 1 0 10 0 5 2
4 3 0 15 0 2 3
5 3 0 40 0 2 4
6 3 5 0 0 1 1
7 3 30 0 0 1 6
8 2 0 -5 0 1 2
9 2 0 -50 0 1 8
10 3 0 60 0 1.5 5
11 4 0 80 0 1.5 10
12 4 0 100 0 1.5 11
"""
THREE_POINT_SOMA = """
1 1 0 0 0 5 -1
2 1 0 -5 0 5 1
3 1 0 5 0 5 1
4 3 0 5 0 2 3
5 3 0 40 0 2 4
6 2 0 -5 0 1 2
7 2 0 -50 0 1 6
"""


@pytest.mark.parametrize("text", [CHAIN_SOMA, THREE_POINT_SOMA], ids=["chain", "3pt"])
def test_swc_soma_conventions_match_import3d(nrn, tmp_path, text):
    path = tmp_path / "cell.swc"
    path.write_text(text)
    morphology = hc.load_swc(path)
    sections = _import3d(nrn, path)
    assert len(sections) == len(morphology)
    for sec in sections:
        ours = morphology.sections[morphology.index(sec.name())]
        xyz, diams = _points(sec)
        np.testing.assert_allclose(ours.points, xyz, atol=1e-5)
        np.testing.assert_allclose(ours.diams, diams, rtol=1e-6)
        parent = sec.parentseg()
        if parent is None:
            assert ours.parent == -1
        else:
            assert morphology.sections[ours.parent].name == parent.sec.name()
            assert ours.parent_x == pytest.approx(parent.x)


def test_tapered_section_with_a_step_in_diameter(nrn):
    # Frustums, a zero-length step from 4 to 2 um (an annulus of membrane) that
    # falls on a segment boundary for nseg = 4, and segments that split pieces;
    # attached to the end of a short cylinder, so every segment has a parent.
    points = [(0, 0, 0, 4.0), (30, 0, 0, 4.0), (30, 0, 0, 2.0), (60, 40, 0, 3.0)]
    points += [(100, 40, 0, 1.0)]
    stem, sec = nrn.Section(name="stem"), nrn.Section(name="taper")
    stem.L, stem.diam = 10.0, 4.0
    for p in points:
        nrn.pt3dadd(*p, sec=sec)
    sec.connect(stem(1))
    sec.Ra = 100.0
    xyz = np.array([p[:3] for p in points], dtype=float) + [10.0, 0.0, 0.0]
    ours = hc.Morphology(
        (
            hc.Section("stem", 3, [[0, 0, 0], [10, 0, 0]], [4.0, 4.0]),
            hc.Section("taper", 3, xyz, [p[3] for p in points], parent=0),
        )
    )
    for nseg in (1, 3, 4, 7):
        sec.nseg = nseg
        layout = hc.discretise(ours, (1, nseg))
        nodes = layout.section_nodes(1)
        np.testing.assert_allclose(
            layout.area[nodes], [s.area() for s in sec], rtol=1e-12
        )
        np.testing.assert_allclose(
            1e-2 * 100.0 * layout.axial[nodes], [s.ri() for s in sec], rtol=1e-12
        )


# -- dynamics ---------------------------------------------------------------------


def test_unbranched_hh_axon_matches_neuron_step_for_step(nrn):
    # Backward Euler here (NEURON's default); Crank-Nicolson in the tests below.
    L, diam, R_a, nseg, dt, tstop = 5000.0, 20.0, 100.0, 51, 0.025, 5.0
    sec, _clamp = _neuron_hh_axon(nrn, L, diam, R_a, nseg, 0.5, 0.3, 20.0)
    V_nrn = _run(nrn, [seg._ref_v for seg in sec], dt=dt, tstop=tstop)

    cable = hc.Cable.unbranched(
        L, diam, hh.HodgkinHuxley(temperature=18.5), R_a=R_a, nseg=nseg
    )
    trace = hc.simulate_cable(
        cable,
        hc.Injection(hh.Step(20.0, 0.5, 0.8), 0, 0.0),
        np.arange(0.0, tstop, dt),
        dt=dt,
        method="backward_euler",
    )
    assert hh.spike_count(trace.V[-1]) == 1  # the spike reached the far end
    # Measured 2.9e-11 mV: the same equations; 5x.
    np.testing.assert_allclose(np.asarray(trace.V), V_nrn, rtol=0, atol=1.5e-10)


@pytest.fixture(scope="module")
def branched():
    """The test cell: hh in soma and axon, pas (0.1 mS/cm^2, -65 mV) in the
    dendrites, R_a 100 ohm*cm, 18.5 degC, d_lambda segments (143 nodes); three
    0.5 ms pulses of 2 nA into the soma; V at the soma, near the axon's end and at
    a dendritic tip."""
    morphology = hc.load_swc(SWC)
    cable = hc.Cable.from_morphology(
        morphology, hh.HodgkinHuxley(temperature=18.5), R_a=100.0
    )
    active = cable.mask(kind=1) | cable.mask(kind=2)
    cable = cable.with_parameters(
        g_Na=jnp.where(active, 120.0, 0.0),
        g_K=jnp.where(active, 36.0, 0.0),
        g_L=jnp.where(active, 0.3, 0.1),
        E_L=jnp.where(active, -54.387, -65.0),
    )
    sites = [("soma[0]", 0.5), ("axon[0]", 0.95), ("dend[4]", 0.9)]
    injection = hc.Injection(hh.PulseTrain(2.0, 1.0, 0.5, 5.0, 3), "soma[0]", 0.5)
    return morphology, cable, sites, injection


def _neuron_branched(nrn, morphology, sites):
    sections = _import3d(nrn, SWC)
    match = _match_sections(morphology, sections)
    by_index = {match[s.name()]: s for s in sections}
    for sec in sections:
        sec.Ra, sec.cm = 100.0, 1.0
        sec.nseg = int((sec.L / (0.1 * nrn.lambda_f(100, sec=sec)) + 0.9) / 2) * 2 + 1
        if sec.name().startswith(("soma", "axon")):
            sec.insert("hh")
            sec.el_hh = -54.387
        else:
            sec.insert("pas")
            sec.g_pas, sec.e_pas = 1e-4, -65.0
    nrn.celsius = 18.5
    soma = by_index[morphology.index("soma[0]")]
    clamps = []
    for k in range(3):
        clamp = nrn.IClamp(soma(0.5))
        clamp.delay, clamp.dur, clamp.amp = 1.0 + 5.0 * k, 0.5, 2.0
        clamps.append(clamp)
    refs = [by_index[morphology.index(name)](x)._ref_v for name, x in sites]
    return refs, clamps


def test_branched_cell_matches_neuron_same_scheme(nrn, branched):
    morphology, cable, sites, injection = branched
    assert cable.num_nodes >= 100
    dt, tstop = 0.025, 20.0
    refs, _clamps = _neuron_branched(nrn, morphology, sites)
    V_nrn = _run(nrn, refs, dt=dt, tstop=tstop, secondorder=2)
    ts = np.arange(0.0, tstop, dt)
    trace = hc.simulate_cable(cable, injection, ts, dt=dt, record=sites)
    V = np.asarray(trace.V)
    spikes = np.asarray(hh.spike_times(ts, V, 0.0, max_spikes=4))
    assert np.sum(np.isfinite(spikes), axis=1).tolist() == [1, 3, 0]
    spikes_nrn = np.asarray(hh.spike_times(ts, V_nrn, 0.0, max_spikes=4))
    # Measured 1.3e-5 mV and 3.5e-8 ms (NEURON's 3-D points are float32: areas
    # differ by 1.5e-7 relative); 4-6x.
    np.testing.assert_allclose(V, V_nrn, rtol=0, atol=5e-5)
    np.testing.assert_allclose(spikes, spikes_nrn, rtol=0, atol=2e-7)


def test_branched_cell_against_neuron_cvode(nrn, branched):
    # Independent time integration: NEURON's CVODE at tolerance 1e-8, against
    # Crank-Nicolson at dt = 0.005 ms.
    morphology, cable, sites, injection = branched
    dt, tstop = 0.005, 20.0
    refs, _clamps = _neuron_branched(nrn, morphology, sites)
    V_nrn = _run(nrn, refs, dt=dt, tstop=tstop, cvode_tol=1e-8)
    ts = np.arange(0.0, tstop, dt)
    V = np.asarray(hc.simulate_cable(cable, injection, ts, dt=dt, record=sites).V)
    spikes = np.asarray(hh.spike_times(ts, V, 0.0, max_spikes=4))
    spikes_nrn = np.asarray(hh.spike_times(ts, V_nrn, 0.0, max_spikes=4))
    # Measured: spike times 1.0e-3 ms; V at the soma 0.027 mV and the dendrite
    # 4.6e-4 mV (in the axon 0.53 mV, on upstrokes of ~500 mV/ms); 4-5x.
    np.testing.assert_allclose(spikes, spikes_nrn, rtol=0, atol=5e-3)
    assert np.max(np.abs(V - V_nrn)[[0, 2]]) < 0.1


@pytest.mark.slow
def test_squid_axon_conduction_velocity_matches_neuron(nrn):
    """Hodgkin & Huxley's axon (476 um, 35.4 ohm*cm, 18.5 degC), 10 cm in 801
    segments, dt 0.005 ms, 0.1 ms of 100 uA at x = 0; velocity between the nodes
    at 30 % and 70 % of the length from interpolated 0 mV crossings."""
    L, diam, R_a, nseg, dt, tstop = 1e5, 476.0, 35.4, 801, 0.005, 4.5
    sec, _clamp = _neuron_hh_axon(nrn, L, diam, R_a, nseg, 0.0, 0.1, 1e5)
    refs = [sec(0.3)._ref_v, sec(0.7)._ref_v]
    ts = np.arange(0.0, tstop, dt)
    cable = hc.Cable.unbranched(
        L, diam, hh.HodgkinHuxley(temperature=18.5), R_a=R_a, nseg=nseg
    )
    distance = cable.layout.path_distance(*cable.nodes([0.3, 0.7]))
    # NEURON's nodes for x = 0.3 and 0.7: the centres of segments 240 and 560.
    assert distance == pytest.approx(320 / 801 * L, rel=1e-12)
    injection = hc.Injection(hh.Step(1e5, 0.0, 0.1), 0, 0.0)
    trace = hc.simulate_cable(cable, injection, ts, dt=dt, record=[0.3, 0.7])
    ours = float(hc.conduction_velocity(cable, trace, 0.3, 0.7, threshold=0.0))

    def neuron_velocity(secondorder):
        V = _run(nrn, refs, dt=dt, tstop=tstop, secondorder=secondorder)
        arrival = np.asarray(hh.spike_times(ts, V, 0.0, max_spikes=1))[:, 0]
        return distance / (arrival[1] - arrival[0]) * 1e-3

    same_scheme, neuron_default = neuron_velocity(2), neuron_velocity(0)
    # Measured: ours 18.7246 m/s; NEURON Crank-Nicolson (secondorder 2) the same to
    # 2e-15 relative; NEURON's default backward Euler 18.6596 (0.35 % lower: its
    # first-order time error at dt 0.005 ms). The same scheme to 1e-12 (rounding
    # in the crossing interpolation; the contract is far looser).
    assert ours == pytest.approx(same_scheme, rel=1e-12)
    assert ours == pytest.approx(neuron_default, rel=5e-3)
    assert 18.5 < ours < 18.9
