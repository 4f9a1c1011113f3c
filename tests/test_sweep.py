"""Parameter sweeps: grids, features, chunk files, resume, sharding, processes.

References are independent computations: the adaptive Diffrax solver per neuron,
and the single-device, single-process run (for sharded and two-process runs,
which must agree with it exactly)."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import hh_jax as hh
from hh_jax.sweep import (
    Axis,
    Grid,
    ParameterTable,
    latin_hypercube,
    open_sweep,
    run_sweep,
    spike_features,
    stimulus_window,
)
from hh_jax.sweep import _run as sweep_run

AXES = ["g_Na=60:180:12", "g_K=15:45:8"]  # 96 neurons
STIM = hh.Step(10.0, 5.0, 35.0)
DURATION = 40.0
CHUNK = 40  # 3 chunks, the last one padded
MODEL = hh.HodgkinHuxley()
FEATURES = ("spike_count", "rate", "latency", "status", "truncated")


def _sweep(out, space=None, **kw):
    kw = dict(duration=DURATION, chunk_size=CHUNK, progress=False) | kw
    return run_sweep(MODEL, space or Grid.parse(AXES), STIM, out, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _sweep(tmp_path_factory.mktemp("reference"))


def _assert_identical(a, b):
    for name in FEATURES:
        np.testing.assert_array_equal(a.feature(name), b.feature(name), err_msg=name)


# -- spaces and input errors --------------------------------------------------------


def test_grid_is_the_cartesian_product_in_c_order():
    grid = Grid.parse(["g_Na=50:200:4", "g_K=1:100:3:log", "C_m=0.5:1.5:2"])
    assert grid.shape == (4, 3, 2) and grid.size == 24
    a, b, c = np.meshgrid(
        np.linspace(50, 200, 4), np.geomspace(1, 100, 3), [0.5, 1.5], indexing="ij"
    )
    values = grid.values(5, 19)
    np.testing.assert_allclose(values["g_Na"], a.ravel()[5:19], rtol=1e-15)
    np.testing.assert_allclose(values["g_K"], b.ravel()[5:19], rtol=1e-15)
    np.testing.assert_allclose(values["C_m"], c.ravel()[5:19], rtol=1e-15)
    assert str(grid.axes[1]) == "g_K=1:100:3:log"
    assert Axis.parse("g_L=0.1:0.5:1").points().tolist() == [0.1]


@pytest.mark.parametrize(
    "spec, error, match",
    [
        ("g_Na=50:200", ValueError, "malformed"),
        ("g_Na50:200:4", ValueError, "malformed"),
        ("g_Na=a:200:4", ValueError, "LOW and HIGH must be numbers"),
        ("g_Na=50:200:4.5", ValueError, "N must be an integer"),
        ("g_Na=200:50:4", ValueError, "LOW must be smaller than HIGH"),
        ("g_Na=50:50:4", ValueError, "LOW must be smaller than HIGH"),
        ("g_Na=50:200:0", ValueError, ">= 1"),
        ("g_Na=0:200:4:log", ValueError, "LOW > 0"),
        ("g_XX=1:2:3", KeyError, r"g_XX.*C_m \(uF/cm\^2\).*g_Na \(mS/cm\^2\)"),
        ("g_K=-5:20:4", ValueError, r"g_K.*>= 0 mS/cm\^2"),
        ("C_m=0:2:4", ValueError, r"C_m.*> 0 uF/cm\^2"),
    ],
)
def test_bad_axes_are_reported_clearly(spec, error, match):
    with pytest.raises(error, match=match):
        Grid.parse([spec]).validate(MODEL)
    # The command line reports the same (exit status 2 in `main`).
    from hh_jax.cli import _sweep as cli
    from hh_jax.cli import build_parser

    args = build_parser().parse_args(
        ["sweep", spec, "--constant", "5", "--duration", "10", "--out", "x"]
    )
    with pytest.raises(ValueError, match=match):
        cli.run(args)


def test_other_bad_input():
    with pytest.raises(ValueError, match="swept twice"):
        Grid.parse(["g_K=1:2:3", "g_K=3:4:2"])
    with pytest.raises(ValueError, match="template must hold single values"):
        run_sweep(
            hh.HodgkinHuxley(g_K=jnp.ones(3)), Grid.parse(AXES), 1.0, "x", duration=10.0
        )
    with pytest.raises(ValueError, match="window"):
        _sweep("x", window=(5.0, 50.0))


def test_latin_hypercube_has_one_point_per_stratum():
    table = latin_hypercube({"g_Na": (50.0, 150.0), "g_K": (20.0, 40.0)}, 50, seed=1)
    for name, (lo, hi) in (("g_Na", (50, 150)), ("g_K", (20, 40))):
        strata = np.floor((table.columns[name] - lo) / (hi - lo) * 50)
        assert sorted(strata) == list(range(50))


# -- features -----------------------------------------------------------------------


def test_spike_features_follow_their_definitions():
    nan = np.nan
    spikes = jnp.array(
        [
            [2.0, 6.0, 9.5, nan],  # one spike before the window
            [nan, nan, nan, nan],  # silent
            [5.5, 6.5, 7.5, 8.5],  # more spikes than slots (count 6)
            [1.0, nan, nan, nan],  # failed neuron
        ]
    )
    out = spike_features(
        spikes,
        jnp.array([3, 0, 6, 1], jnp.int32),
        jnp.array([0, 0, 0, 3], jnp.int32),
        jnp.asarray(5.0),
        jnp.asarray(10.0),
        jnp.asarray(10.0),
    )
    out = {k: np.asarray(v) for k, v in out.items()}
    np.testing.assert_array_equal(out["spike_count"], [3, 0, 6, -1])
    np.testing.assert_allclose(out["rate"], [400.0, 0.0, 1200.0, nan])  # per 5 ms
    np.testing.assert_allclose(out["latency"], [1.0, nan, 0.5, nan])
    np.testing.assert_array_equal(out["truncated"], [False, False, True, False])
    np.testing.assert_array_equal(out["status"], [0, 0, 0, 3])


def test_stimulus_window():
    assert stimulus_window(STIM, 40.0, 0.05) == (5.0, 35.0)
    assert stimulus_window(hh.Step(3.0, 5.0), 40.0, 0.05) == (5.0, 40.0)
    assert stimulus_window(hh.Constant(0.0), 40.0, 0.05) == (0.0, 40.0)
    train = hh.PulseTrain(5.0, start=2.0, width=1.0, interval=4.0, count=3)
    assert stimulus_window(train, 40.0, 0.05) == (2.0, 11.0)


def test_features_match_the_adaptive_solver(reference):
    """Four grid points simulated independently with Diffrax (rtol 1e-8) and their
    spikes detected on the sampled trace."""
    idx = [(0, 0), (3, 5), (7, 7), (11, 2)]
    g_Na = np.array([reference.axis("g_Na")[i] for i, _ in idx])
    g_K = np.array([reference.axis("g_K")[j] for _, j in idx])
    ts = np.arange(0.0, DURATION + 1e-9, 0.02)
    trace = hh.simulate_batch(
        hh.HodgkinHuxley(g_Na=g_Na, g_K=g_K),
        STIM,
        ts,
        chunk_size=None,
        rtol=1e-8,
        atol=1e-8,
        max_steps=100_000,
    )
    spikes = np.asarray(hh.spike_times(trace.t, trace.V))
    count, rate, latency = (reference.feature(n) for n in FEATURES[:3])
    for k, ij in enumerate(idx):
        s = spikes[k][np.isfinite(spikes[k])]
        inside = s[(s >= 5.0) & (s < 35.0)]
        assert count[ij] == len(s) > 0
        assert rate[ij] == pytest.approx(len(inside) / 0.030)
        assert latency[ij] == pytest.approx(inside[0] - 5.0, abs=2e-3)
    assert np.all(reference.feature("status") == 0)
    p = reference.parameter("g_K")
    assert p.shape == (12, 8) and p[4, 7] == 45.0


def test_a_table_in_any_order_and_chunking_gives_the_same_values(reference, tmp_path):
    """The grid's points as an explicit table, shuffled, in chunks of 7: chunking,
    padding and order do not change a neuron's result."""
    order = np.random.default_rng(0).permutation(reference.size)
    g_Na = reference.parameter("g_Na").ravel()[order]
    g_K = reference.parameter("g_K").ravel()[order]
    table = ParameterTable({"g_Na": g_Na, "g_K": g_K})
    result = _sweep(tmp_path / "table", table, chunk_size=7)
    assert result.shape == (96,) and result.num_chunks == 14
    for name in FEATURES:
        np.testing.assert_array_equal(
            result.feature(name), reference.feature(name).ravel()[order], name
        )
    again = open_sweep(tmp_path / "table")  # the table reads back memory-mapped
    np.testing.assert_array_equal(again.parameter("g_K"), g_K)


def test_rest_start_and_saved_traces(tmp_path):
    """Without stimulus, neurons started at their own rest stay there: V (saved)
    equals the rest found by Optimistix's Newton, neuron by neuron."""
    grid = Grid.parse(["E_L=-70:-50:5", "g_L=0.1:0.5:2"])
    result = run_sweep(
        MODEL,
        grid,
        0.0,
        tmp_path / "rest",
        duration=10.0,
        y0="rest",
        save_interval=2.5,
        save_spikes=True,
        progress=False,
    )
    V = result.feature("V")
    assert V.shape == (5, 2, 5) and result.feature("spikes").shape == (5, 2, 8)
    for (i, j), E_L in np.ndenumerate(result.parameter("E_L")):
        g_L = result.parameter("g_L")[i, j]
        rest = hh.resting_state(hh.HodgkinHuxley(E_L=E_L, g_L=g_L))
        np.testing.assert_allclose(V[i, j], float(rest.V), atol=1e-7)
    assert np.all(result.feature("spike_count") == 0)
    assert np.all(np.isnan(result.feature("latency")))


# -- files, resume ------------------------------------------------------------------


def test_resume_recomputes_only_missing_chunks(reference, tmp_path, monkeypatch):
    out = tmp_path / "run"
    real_write = sweep_run.storage.write_npz
    written = []

    def interrupt_on_second(path, arrays, tag):
        if written:
            raise KeyboardInterrupt
        written.append(path.name)
        real_write(path, arrays, tag)

    monkeypatch.setattr(sweep_run.storage, "write_npz", interrupt_on_second)
    with pytest.raises(KeyboardInterrupt):
        _sweep(out)
    monkeypatch.setattr(sweep_run.storage, "write_npz", real_write)
    partial = open_sweep(out)
    assert partial.missing_chunks() == [1, 2] and not partial.complete
    assert np.isnan(partial.feature("rate")).sum() == 56  # 96 - the 40 done
    assert (partial.feature("status") == -1).sum() == 56

    first = partial.chunk_path(0)
    stamp = first.stat().st_mtime_ns
    (out / "chunks" / f".{partial.chunk_path(1).name}.p0.tmp").write_bytes(b"junk")
    dispatched = []
    real_dispatch = sweep_run.dispatch_chunk
    monkeypatch.setattr(
        sweep_run,
        "dispatch_chunk",
        lambda *a: dispatched.append(a[1]["g_Na"][0]) or real_dispatch(*a),
    )
    result = _sweep(out)
    assert len(dispatched) == 2 and first.stat().st_mtime_ns == stamp
    assert not list((out / "chunks").glob(".*"))  # stale temporary removed
    _assert_identical(result, reference)
    assert result.summary()["neurons"] == 96

    # An unreadable chunk is recomputed; a different sweep is refused.
    result.chunk_path(2).write_bytes(b"not a zip")
    dispatched.clear()
    with pytest.warns(UserWarning, match="unreadable"):
        _sweep(out)
    assert len(dispatched) == 1
    _assert_identical(open_sweep(out), reference)
    with pytest.raises(ValueError, match="different sweep.*duration_ms"):
        _sweep(out, duration=30.0)
    with pytest.raises(ValueError, match="different sweep.*g_K"):
        _sweep(out, Grid.parse(["g_Na=60:180:12", "g_K=15:40:8"]))


def test_chunk_files_and_manifest(reference, tmp_path):
    manifest = json.loads((reference.path / "sweep.json").read_text())
    d = manifest["definition"]
    assert d["parameters"]["g_Na"]["unit"] == "mS/cm^2"
    assert d["window_ms"] == [5.0, 35.0] and d["num_chunks"] == 3
    assert manifest["features"]["rate"] == "Hz"
    chunk = reference.chunk(2)
    assert int(chunk["start"]) == 80 and chunk["rate"].shape == (16,)
    np.testing.assert_array_equal(
        chunk["param.g_K"], reference.parameter("g_K").ravel()[80:]
    )
    rate = np.lib.format.open_memmap(tmp_path / "rate.npy", "w+", float, (12, 8))
    reference.feature("rate", out=rate)
    np.testing.assert_array_equal(
        np.load(tmp_path / "rate.npy"), reference.feature("rate")
    )


def test_plot_sweep(reference):
    import matplotlib

    matplotlib.use("Agg")
    from hh_jax.plot import plot_sweep

    fig = plot_sweep(reference, "latency", x="g_K", y="g_Na")
    assert fig.axes[0].get_xlabel().startswith("g_K")
    fig = plot_sweep(reference, "rate", x="g_Na", at={"g_K": 32.0})
    assert len(fig.axes[0].lines) == 1 and "g_K = 32.14" in fig.axes[0].get_title()


# -- sharding and processes ---------------------------------------------------------

SHARDED = textwrap.dedent(
    """
    import sys, jax
    jax.config.update("jax_enable_x64", True)
    import hh_jax as hh
    from hh_jax.sweep import Grid, run_sweep
    assert len(jax.local_devices()) == 2
    r = run_sweep(hh.HodgkinHuxley(), Grid.parse({axes!r}), hh.Step(10.0, 5.0, 35.0),
                  sys.argv[1], duration={duration!r}, chunk_size={chunk!r},
                  progress=False)
    print("ok", r.complete)
    """
)


def test_sharded_over_two_devices_is_identical(reference, tmp_path):
    env = dict(
        os.environ,
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
        JAX_PLATFORMS="cpu",
    )
    script = SHARDED.format(axes=AXES, duration=DURATION, chunk=CHUNK)
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "sharded")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0 and "ok True" in run.stdout, run.stderr[-3000:]
    sharded = open_sweep(tmp_path / "sharded")
    assert all(sharded.chunk(i)["devices"] == 2 for i in range(3))
    _assert_identical(sharded, reference)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_processes_with_jax_distributed_are_identical(reference, tmp_path):
    """Two `hh-jax sweep` processes coordinated by jax.distributed write one sweep
    (chunks 0, 2 and 1); it equals the single-process run, and process 0 writes the
    summary and plot once all chunks exist."""
    port = _free_port()
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        MPLBACKEND="Agg",
        HH_JAX_CACHE=str(tmp_path / "xla-cache"),
    )
    env.pop("XLA_FLAGS", None)
    argv = [
        sys.executable,
        "-m",
        "hh_jax.cli",
        "sweep",
        *AXES,
        "--step",
        "10",
        "5",
        "35",
        "--duration",
        str(DURATION),
        "--chunk-size",
        str(CHUNK),
        "--out",
        str(tmp_path / "two"),
        "--coordinator",
        f"localhost:{port}",
        "--num-processes",
        "2",
        "--wait-timeout",
        "300",
    ]
    procs = [
        subprocess.Popen(
            [*argv, "--process-id", str(i)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in (0, 1)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (stdout, stderr) in zip(procs, outputs):
        assert p.returncode == 0, stderr[-3000:]
    assert "96 ok" in outputs[0][0] and "process 1: done" in outputs[1][0]
    two = open_sweep(tmp_path / "two")
    assert [int(two.chunk(i)["process"]) for i in range(3)] == [0, 1, 0]
    _assert_identical(two, reference)
    assert two.manifest["definition"] == reference.manifest["definition"]
    assert two.summary()["num_processes"] == 2
    png = (tmp_path / "two" / "summary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
