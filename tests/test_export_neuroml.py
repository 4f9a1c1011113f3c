"""NeuroML 2 export and import (libNeuroML; schema validation without Java).

- Import: the squid Na and K channels written by hand in NeuroML's standard forms
  (tests/data/squid_channels.nml) must equal hh_jax's hand-written squid rates
  (hh_jax.channels.alpha_m ..., the shared-exponential implementation) to 1e-9
  relative in float64, also at the 0/0 points, and simulate, batch and
  differentiate like them.
- Round trip: a model exported then imported gives the same traces to rounding.
- What standard forms cannot express raises NotImplementedError naming it.
"""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from neuroml.utils import validate_neuroml2

import hh_jax as hh
from hh_jax import export
from hh_jax.channels import Leak

SQUID = Path(__file__).parent / "data" / "squid_channels.nml"
V = jnp.concatenate([jnp.linspace(-120.0, 60.0, 91), jnp.array([-40.0, -55.0])])
TS = jnp.arange(0.0, 60.0001, 0.05)
STEP = hh.Step(10.0, 5.0, 45.0)


@pytest.fixture(scope="module")
def squid():
    channels = export.channels_from_neuroml(SQUID)
    Na = channels["na"](g_na=120.0, E_Na=50.0)
    K = channels["k"](g_k=36.0, E_K=-77.0)
    return Na, K


def test_squid_file_is_valid_neuroml():
    validate_neuroml2(str(SQUID))


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


ROUND_TRIP = {
    "CorticalFastSpiking": hh.CorticalFastSpiking().replace(
        shift_h=2.5, tau_scale_n=1.3, shift_m=-1.5, temperature=32.0, V_T=-57.0, C_m=1.1
    ),
    "FastSpikingInterneuron": hh.FastSpikingInterneuron().replace(
        tau_scale_n_kv3=0.8, shift_h=-2.0
    ),
}


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_round_trip_same_traces(tmp_path, name):
    model = ROUND_TRIP[name]
    path = export.to_neuroml(model, tmp_path, area_um2=2500.0)  # validates
    cell = export.cell_from_neuroml(path)
    assert cell.area_um2 == pytest.approx(2500.0, rel=1e-12)
    assert float(cell.model.temperature) == float(model.temperature)
    assert float(cell.model.C_m) == float(model.C_m)
    stim = hh.Step(12.0, 5.0, 45.0)
    a = hh.simulate(model, stim, TS, rtol=1e-10, atol=1e-10)
    b = hh.simulate(cell.model, stim, TS, rtol=1e-10, atol=1e-10)
    assert int(hh.spike_count(a.V)) >= 2
    # measured <= 1.6e-12 mV (rounding of the baked-in midpoints and rates); 5x
    np.testing.assert_allclose(b.V, a.V, rtol=0, atol=8e-12)


def test_not_expressible_raise(tmp_path):
    with pytest.raises(NotImplementedError, match="MCurrent"):
        export.to_neuroml(hh.CorticalRegularSpiking(), tmp_path)
    with pytest.raises(NotImplementedError, match="CalciumPool"):
        export.to_neuroml(hh.AdaptingPyramidal(), tmp_path)
    custom = tmp_path / "custom.nml"
    custom.write_text(
        SQUID.read_text().replace(
            'type="HHExpRate" rate="4per_ms"', 'type="myCustomRate" rate="4per_ms"'
        )
    )
    with pytest.raises(NotImplementedError, match="'na'.*myCustomRate"):
        export.channels_from_neuroml(custom)


def test_cli_exports_fitted_cell_as_neuroml(tmp_path):
    """``hh-jax export FIT --to neuroml``: a params.json as fit_cell writes it
    (fast-spiking candidate) gives a valid file whose cell has those values."""
    import json

    from hh_jax.cli import main

    model = hh.FastSpikingInterneuron().replace(g_Na=90.0, shift_m=-3.0, E_L=-66.0)
    infos = model.parameter_infos()
    params = {
        "model": "fast-spiking",
        "parameters": {
            n: {"value": float(v), "unit": infos[n].unit, "searched": False}
            for n, v in model.parameters().items()
        },
        "area": {"value": 9000.0, "unit": "um^2", "source": "passive estimate"},
    }
    (tmp_path / "fit").mkdir()
    (tmp_path / "fit" / "params.json").write_text(json.dumps(params))
    out = tmp_path / "nml"
    assert (
        main(
            [
                "export",
                str(tmp_path / "fit"),
                "--to",
                "neuroml",
                "--out",
                str(out),
                "--no-cache",
            ]
        )
        == 0
    )
    cell = export.cell_from_neuroml(out / "FastSpikingInterneuron.cell.nml")
    assert cell.area_um2 == pytest.approx(9000.0, rel=1e-12)
    V = jnp.linspace(-90.0, 40.0, 27)
    a = model.membrane_current(hh.steady_state(model, V))
    b = cell.model.membrane_current(hh.steady_state(cell.model, V))
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
