"""The ``hh-jax simulate`` command, end to end in a subprocess (the CLI sets its
own precision and compilation cache)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import hh_jax as hh


def _run(*args, cwd, timeout=300):
    env = dict(os.environ, HH_JAX_CACHE=str(cwd / "xla-cache"), MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-m", "hh_jax.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_states_units(tmp_path):
    out = _run("simulate", "--help", cwd=tmp_path)
    assert out.returncode == 0
    for unit in ("ms", "mV", "uA/cm^2", "mS/cm^2", "uF/cm^2", "degC"):
        assert unit in out.stdout, unit
    assert "--g-Na" in out.stdout and "--step" in out.stdout


def test_demo_reproduces_the_seed_experiment(tmp_path):
    out = _run("simulate", "--demo", "--out", "demo/trace.npz", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "4 spikes" in out.stdout
    data = np.load(tmp_path / "demo" / "trace.npz")
    assert data["t"][-1] == pytest.approx(50.0) and data["V"][0] == -65.0
    for key in ("m", "h", "n", "I_Na", "I_K", "I_L", "I_ext"):
        assert key in data.files
    # The same experiment through the library gives the same trace.
    trace = hh.simulate(
        hh.HodgkinHuxley(), 10.0, data["t"], y0=[-65.0, 0.05, 0.6, 0.32]
    )
    np.testing.assert_allclose(data["V"], np.asarray(trace.V), atol=1e-9)
    # The persistent compilation cache was written (a second run skips compiling).
    assert any((tmp_path / "xla-cache").iterdir())
    png = (tmp_path / "demo" / "trace.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_overrides_stimulus_file_and_csv(tmp_path):
    np.savez(tmp_path / "stim.npz", stim_t=[0.0, 5.0, 30.0], stim_I=[0.0, 12.0, 0.0])
    (tmp_path / "params.json").write_text(json.dumps({"parameters": {"g_K": 30.0}}))
    out = _run(
        "simulate",
        "--stimulus",
        "stim.npz",
        "--params",
        "params.json",
        "--g-Na",
        "100",
        "--duration",
        "40",
        "--dt",
        "0.05",
        "--out",
        "t.csv",
        "--no-plot",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    table = np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1)
    header = (tmp_path / "t.csv").read_text().splitlines()[0]
    assert header.startswith("t (ms),V (mV)")
    model = hh.HodgkinHuxley(g_Na=100.0, g_K=30.0)
    stim = hh.PiecewiseConstant([0.0, 5.0, 30.0], [0.0, 12.0, 0.0])
    trace = hh.simulate(model, stim, table[:, 0])
    np.testing.assert_allclose(table[:, 1], np.asarray(trace.V), atol=1e-6)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--g-Na", "-3", "--constant", "1"], "g_Na"),
        (["--duration", "10"], "no stimulus"),
        (["--step", "5", "10", "2"], "later than"),
        (["--constant", "1", "--out", "x.txt"], ".npz or .csv"),
    ],
)
def test_bad_input_exits_with_a_message(tmp_path, args, message):
    out = _run("simulate", *args, "--no-plot", cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr


def test_fit_demo_recovers_the_hidden_conductances(tmp_path):
    """The README's main job, end to end."""
    out = _run(
        "fit", "--demo", "--out", "demo", "--no-progress", cwd=tmp_path, timeout=600
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    params = json.loads((tmp_path / "demo" / "params.json").read_text())["parameters"]
    from hh_jax.cli._fit import DEMO_TRUTH

    for name, true in DEMO_TRUTH.items():
        assert abs(params[name]["value"] - true) / true < 0.01, (name, params[name])
    assert (tmp_path / "demo" / "fit.png").stat().st_size > 50_000
    assert "largest relative error" in out.stdout


def test_fit_reads_reference_npz_files_jointly(tmp_path, reference_dir):
    """Several files in the reference format are fitted jointly (a short run: the
    point is the plumbing; accuracy is tested in test_fit.py)."""
    files = [str(reference_dir / f"{n}.npz") for n in ("step_2", "step_10")]
    out = _run(
        "fit",
        *files,
        "--free",
        "g_K",
        "g_L",
        "--steps",
        "1",
        "--starts",
        "1",
        "--loss",
        "trace",
        "--downsample",
        "10",
        "--out",
        "ref",
        "--no-progress",
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    saved = json.loads((tmp_path / "ref" / "params.json").read_text())
    assert len(saved["sweeps"]) == 2 and set(saved["parameters"]) == {"g_K", "g_L"}
