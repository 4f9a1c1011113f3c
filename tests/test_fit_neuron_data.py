"""Fitting data that hh_jax did not make: the conductances of NEURON's squid
axon (shared/reference/neuron_hh/step_10, NEURON 9 CVODE at 1e-9) recovered from
a perturbed start. The truth is the reference json's parameters; the data are
NEURON's trace, read with the package's NPZ loader."""

import json

import numpy as np
import pytest

from hh_jax import io
from hh_jax.fit import TraceMSE, fit
from hh_jax.reference import load_reference_case

FREE = ("g_Na", "g_K", "g_L")
START = dict(g_Na=100.0, g_K=42.0, g_L=0.36)  # 17 %, 17 %, 20 % off

# Measured 2026-12-03 on the project's 2-core CPU machine (float64, fit defaults
# rtol = atol = 1e-6, 12 LM steps, one start): relative errors g_Na 9.4e-4,
# g_K 5.1e-4, g_L 2.3e-3 (the solvers differ by <= 4.5e-3 mV on this trace,
# tests/test_reference.py; g_L, pinned mostly by the 5 ms before the step, moves
# most); final loss 1.36e-5 (from 323 at the start). Bounds 3x.
REL_TOL = dict(g_Na=3e-3, g_K=1.5e-3, g_L=7e-3)
LOSS_TOL = 4e-5


# One LM compile dominates (measured 45-90 s on the shared 2-core box under load,
# ~12 steps of 600 samples take ~1.5 s): above the ~20 s of a cheap test.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def neuron_fit(reference_dir):
    case = load_reference_case(reference_dir / "step_10")
    truth = json.loads((reference_dir / "step_10.json").read_text())["params"]
    # The first 30 ms (rest, the step at 5 ms, two spikes) at 0.05 ms.
    data = io.load_npz(reference_dir / "step_10.npz").crop(0.0, 30.0)
    data = data.downsample(5, method="take")
    assert data.sweeps[0].t.shape == (600,)
    result = fit(
        data,
        case.model,  # every other parameter as in the reference
        list(FREE),
        losses=(TraceMSE(),),
        starts=1,
        steps=12,
        init=dict(START),
        progress=False,
    )
    return result, truth


def test_recovers_neuron_conductances(neuron_fit):
    result, truth = neuron_fit
    for name in FREE:
        error = abs(result.parameters[name] - truth[name]) / truth[name]
        assert error < REL_TOL[name], (name, result.parameters[name], truth[name])
    assert float(np.min(result.final_losses)) < LOSS_TOL
