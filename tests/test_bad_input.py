"""Every class of bad input gets a clear error naming the argument and its unit,
raised before any compilation: time grids, parameters, stimuli, initial states,
data files (truncated, ragged, foreign; units, NaN and lengths are in
tests/test_io.py) and CLI arguments (a nonzero exit with a message, never a
traceback). Interrupted-then-resumed runs: tests/test_fit.py (fit) and
tests/test_sweep.py (sweep)."""

import contextlib
import io as stdio
import re
import subprocess
import sys

import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest

import hh_jax as hh
from hh_jax import io
from hh_jax.cli import main as cli_main
from hh_jax.fixed_step import simulate_fixed
from hh_jax.model import as_state

MODEL = hh.HodgkinHuxley()
STIM = hh.Step(10.0, 2.0, 8.0)
TS = jnp.linspace(0.0, 10.0, 101)
REST = [-65.0, 0.05, 0.6, 0.32]

# -- time grids ---------------------------------------------------------------------

BAD_TIMES = [
    ([0.0, 2.0, 1.0], r"`ts` must be strictly increasing \(times in ms\); entry 2"),
    ([0.0, 1.0, 1.0], r"`ts` must be strictly increasing \(times in ms\)"),
    ([0.0, np.nan, 1.0], r"`ts` must be finite \(in ms\); got \[1\] = .*nan"),
    ([0.0, 1.0, np.inf], r"`ts` must be finite \(in ms\)"),
    ([], r"`ts` must be a 1-D array of at least two save times"),
    ([0.0], r"`ts` must be a 1-D array of at least two save times"),
]


@pytest.mark.parametrize("ts, message", BAD_TIMES)
def test_time_grid_simulate(ts, message):
    with pytest.raises(ValueError, match=message):
        hh.simulate(MODEL, STIM, jnp.asarray(ts))


@pytest.mark.parametrize("ts, message", BAD_TIMES)
def test_time_grid_batch_and_fixed_step(ts, message):
    batch = MODEL.replace(g_Na=jnp.asarray([100.0, 120.0]))
    with pytest.raises(ValueError, match=message):
        hh.simulate_batch(batch, STIM, jnp.asarray(ts))
    with pytest.raises(ValueError, match=message.replace("1-D array", "1-D array.*")):
        simulate_fixed(batch, STIM, np.asarray(ts))


def test_two_dimensional_time_grid():
    """A ValueError from the library; under the test suite's jaxtyping hook
    (pyproject addopts) the annotation ``Float[..., " T"]`` refuses it first."""
    ts = jnp.asarray([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises((ValueError, jaxtyping.TypeCheckError)) as info:
        hh.simulate(MODEL, STIM, ts)
    if info.type is ValueError:
        assert "`ts` must be a 1-D array" in str(info.value)
    else:
        assert "ts" in str(info.value)
    from hh_jax.simulate import _as_times  # the library's own check, hook or not

    with pytest.raises(ValueError, match=r"`ts` must be a 1-D array .*\(2, 2\)"):
        _as_times(ts)


@pytest.mark.parametrize("dt", [0.0, -0.05, float("nan")])
def test_fixed_step_size(dt):
    with pytest.raises(ValueError, match=r"`dt` must be a positive number of ms"):
        simulate_fixed(MODEL, STIM, np.asarray(TS), dt=dt)


# -- parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(g_Na=-1.0), r"`g_Na` \(maximal sodium conductance\).*>= 0 mS/cm\^2"),
        (dict(g_K=float("nan")), r"`g_K` .*finite value >= 0 mS/cm\^2; got nan"),
        (dict(g_L=-0.3), r"`g_L` .*>= 0 mS/cm\^2; got -0.3"),
        (dict(C_m=0.0), r"`C_m` .*> 0 uF/cm\^2; got 0.0"),
        (dict(temperature=float("inf")), r"`temperature` .*finite value in degC"),
        (dict(E_Na=float("nan")), r"`E_Na` .*finite value in mV"),
    ],
)
def test_parameter_values(values, message):
    with pytest.raises(ValueError, match=message):
        hh.HodgkinHuxley(**values)
    with pytest.raises(ValueError, match=message):
        MODEL.replace(**values)


def test_parameter_given_as_text():
    # Under the tests' jaxtyping import hook the annotation check names the
    # argument first; without it (a user's session) the field converter does.
    named = (
        r"(?s)(parameter 'g_Na'.*'120'|mS/cm\^2 \(maximal sodium conductance\).*'120')"
    )
    with pytest.raises(TypeError, match=named):
        hh.HodgkinHuxley(g_Na="120")
    import dataclasses

    (C_m,) = [f for f in dataclasses.fields(MODEL) if f.name == "C_m"]
    with pytest.raises(TypeError, match=r"uF/cm\^2 .*the text '1'"):
        C_m.metadata["converter"]("1")


def test_batched_parameter_in_a_single_simulation():
    """Used to fail inside the solver (``cond_fun must return a boolean scalar``)."""
    for shape in [(1,), (3,), (2, 3)]:
        model = hh.HodgkinHuxley(g_Na=jnp.full(shape, 120.0))
        with pytest.raises(ValueError, match=r"`model` parameter `g_Na` has shape"):
            hh.simulate(model, STIM, TS)
    with pytest.raises(ValueError, match=r"batch lengths differ|different lengths"):
        hh.simulate_batch(
            hh.HodgkinHuxley(g_Na=jnp.ones(3)).replace(g_K=jnp.ones(4)), STIM, TS
        )


# -- stimuli ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: hh.Step(np.nan, 2.0, 8.0), r"`amplitude` must be finite \(in uA/cm"),
        (lambda: hh.Step(1.0, np.nan, 8.0), r"`start` must be finite \(in ms\)"),
        (lambda: hh.Step(1.0, 8.0, 2.0), r"`stop` \(2.0\) must be later than `start`"),
        (
            lambda: hh.Step(jnp.ones(3), jnp.ones(2), 5.0),
            r"one batch shape; got `amplitude` \(3,\), `start` \(2,\)",
        ),
        (
            lambda: hh.PiecewiseConstant([0.0, 1.0, 2.0], [1.0, 2.0]),
            r"`times` \(3 entries\) and `values` \(2 entries\)",
        ),
        (
            lambda: hh.PiecewiseConstant([0.0, 2.0, 1.0], [1.0, 2.0, 3.0]),
            r"`times` must be strictly increasing \(times in ms\)",
        ),
        (
            lambda: hh.PiecewiseConstant([0.0, 1.0], [1.0, np.nan]),
            r"`values` must be finite \(in uA/cm\^2\)",
        ),
        (lambda: hh.PiecewiseConstant([], []), r"`times` must be a non-empty"),
        (lambda: hh.PulseTrain(2.0, 1.0, -0.5, 5.0, 3), r"`width` .*> 0 ms"),
        (lambda: hh.PulseTrain(2.0, 1.0, 6.0, 5.0, 3), r"`width` .*exceeds"),
    ],
)
def test_stimulus(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_stimulus_type_and_batched_stimulus_in_a_single_simulation():
    with pytest.raises(TypeError, match="stimulus"):
        hh.simulate(MODEL, "10 uA", TS)
    with pytest.raises(ValueError, match=r"`stimulus` current \(uA/cm\^2\) has shape"):
        hh.simulate(MODEL, hh.Step(jnp.asarray([5.0, 10.0]), 2.0, 8.0), TS)


# -- initial states -----------------------------------------------------------------


@pytest.mark.parametrize(
    "y0, message",
    [
        ([-65.0, 0.05], r"needs 4 entries \[V \(mV\), m, h, n\], got 2"),
        ([np.nan, 0.05, 0.6, 0.32], r"initial `V` must be finite \(mV\)"),
        ([-65.0, np.nan, 0.6, 0.32], r"gate `m` .*\[0, 1\]"),
        ([-65.0, 0.05, 1.6, 0.32], r"gate `h` .*\[0, 1\].*got 1.6"),
        ([-65.0, 0.05, 0.6, -0.1], r"gate `n` .*\[0, 1\]"),
    ],
)
def test_initial_state(y0, message):
    with pytest.raises(ValueError, match=message):
        hh.simulate(MODEL, STIM, TS, y0=jnp.asarray(y0))
    # simulate_fixed returned a NON_FINITE/INVALID trace for these, silently.
    with pytest.raises(ValueError, match=message):
        simulate_fixed(MODEL, STIM, np.asarray(TS), y0=jnp.asarray(y0))


def test_initial_state_shape_and_gates():
    with pytest.raises(ValueError, match=r"`y0` must hold one neuron's state"):
        hh.simulate(MODEL, STIM, TS, y0=as_state(MODEL, jnp.asarray([REST, REST])))
    with pytest.raises(ValueError, match=r"gates \['h', 'm'\] do not match"):
        hh.simulate(
            MODEL, STIM, TS, y0=hh.State(jnp.asarray(-65.0), {"m": 0.05, "h": 0.6})
        )
    with pytest.raises(ValueError, match=r"batch lengths differ: .*'y0': 3"):
        hh.simulate_batch(
            MODEL.replace(g_Na=jnp.asarray([100.0, 120.0])),
            STIM,
            TS,
            y0=jnp.asarray([REST] * 3),
        )


# -- data files ---------------------------------------------------------------------


def _npz_bytes(tmp_path):
    path = tmp_path / "whole.npz"
    t = np.arange(200.0) * 0.1
    np.savez(path, t=t, V=np.full(200, -65.0), stim_t=[0.0, 5.0], stim_I=[0.0, 3.0])
    return path.read_bytes()


def test_truncated_npz_recording_and_stimulus(tmp_path):
    whole = _npz_bytes(tmp_path)
    for cut in (0, 100, len(whole) // 2, len(whole) - 10):
        path = tmp_path / "cut.npz"
        path.write_bytes(whole[:cut])
        pattern = r"cut\.npz: cannot read it as an NPZ archive: the file is truncated"
        with pytest.raises(ValueError, match=pattern):
            io.load(path)
        with pytest.raises(ValueError, match=pattern):
            io.load_stimulus(path)


def _csv_lines():
    t = np.arange(0.0, 5.0, 0.1)
    return ["t (ms), V (mV), I (pA)"] + [f"{x:.1f}, -65.0, 10.0" for x in t]


def test_truncated_and_ragged_csv(tmp_path):
    lines = _csv_lines()
    text = "\n".join(lines)
    path = tmp_path / "cut.csv"
    path.write_text(text[:-8])  # the last row cut mid-way
    with pytest.raises(ValueError, match=r"cut\.csv: sample row 50 has 2 values"):
        io.load_csv(path)
    path.write_text("\n".join(lines[:10] + ["0.9, -65.0"] + lines[11:]))
    with pytest.raises(ValueError, match=r"row 10 has 2 values .*truncated or ragged"):
        io.load_csv(path)
    path.write_text("\n".join(lines[:10] + ["0.9, abc, 10.0"] + lines[11:]))
    with pytest.raises(ValueError, match=r"cut\.csv: cannot read the numbers"):
        io.load_csv(path)


@pytest.mark.parametrize(
    "name, kind",
    [("pyabf/171116sh_0018.abf", "ABF"), ("hippocampus-portal/99111002.nwb", "NWB")],
)
def test_truncated_real_recordings(realdata_dir, tmp_path, name, kind):
    """The first 1 % and 60 % of a real file, and a file of text with its name:
    pyabf raised ``struct.error``, h5py an ``OSError`` without the path."""
    whole = (realdata_dir / name).read_bytes()
    path = tmp_path / ("cut" + (realdata_dir / name).suffix)
    for part in (whole[: len(whole) // 100], whole[: 6 * len(whole) // 10], b"x" * 64):
        path.write_bytes(part)
        with pytest.raises(ValueError, match=rf"cut\.\w+: cannot read it as an {kind}"):
            io.load(path)


# -- the command line ---------------------------------------------------------------


def _cli(argv):
    """(exit code, stderr) of ``hh-jax ARGV --no-cache`` run in-process (without
    --no-cache the CLI sets up its compilation cache and Equinox's error mode for
    the whole process); an exception escaping ``main`` (a traceback for the user)
    fails the test."""
    err = stdio.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(stdio.StringIO()):
        try:
            code = cli_main([*argv, "--no-cache"])
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code
    return code, err.getvalue()


STEP = ["--step", "10", "1", "5"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["simulate", "--save-dt", "0", *STEP],
            r"--duration and --save-dt must be > 0 ms",
        ),
        (
            ["simulate", "--duration", "-5", *STEP],
            r"--duration and --save-dt must be > 0",
        ),
        (
            ["simulate", "--dt", "nan", *STEP],
            r"--duration and --save-dt must be > 0 ms",
        ),
        (["simulate", "--g-Na", "-5", *STEP], r"`g_Na` .*>= 0 mS/cm\^2; got -5.0"),
        (["simulate", "--g-Na", "abc", *STEP], r"argument --g-Na: invalid float"),
        (["simulate", "--y0", "-65", "0.1", *STEP], r"needs 4 entries"),
        (["simulate", "--y0", "nan", "0.05", "0.6", "0.3", *STEP], r"`V` .*finite"),
        (["simulate", "--step", "nan", "1", "2"], r"`amplitude` must be finite"),
        (["simulate", "--step", "5", "3", "1"], r"`stop` \(1.0\) must be later"),
        (["simulate"], r"no stimulus: give --step"),
        (["sweep", "g_Na=180:60:5", "--duration", "20"], r"LOW must be smaller"),
        (["sweep", "g_Xx=60:180:5", "--duration", "20"], r"unknown parameter.*g_Xx"),
        (["sweep", "g_Na=60:180:0", "--duration", "20"], r"number of points"),
        (["sweep", "g_Na=60:180:x", "--duration", "20"], r"N must be an integer"),
        (["sweep", "g_Na=-60:180:5", "--duration", "20"], r"reaches -60.*mS/cm\^2"),
        (["sweep", "g_Na=60:180:5"], r"required: --duration"),
        (["sensitivity", "--wrt", "g_Xx"], r"unknown parameter 'g_Xx'"),
        (["sensitivity", "--fisher", "-1"], r"`sigma` must be finite and > 0 mV"),
        (["cable", "--nseg", "0"], r"--nseg must be a positive integer; got 0"),
        (["cable", "--diam", "-3"], r"--diam must be > 0 um"),
    ],
)
def test_cli_bad_values(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a command writes stays here
    if argv[0] in ("sweep", "fit", "sensitivity"):
        argv = [*argv, "--out", str(tmp_path / "out")]
    code, err = _cli(argv)
    assert code != 0, err
    # argparse prints its usage first; the last line is the message
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith(f"hh-jax {argv[0]}: error:"), err
    assert re.search(message, err), err
    if argv[0] == "sensitivity":  # rejected before anything is computed or written
        assert not (tmp_path / "out" / "local.csv").exists()


def test_cli_bad_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    whole = _npz_bytes(tmp_path)
    cut = tmp_path / "cut.npz"
    cut.write_bytes(whole[: len(whole) // 2])
    nan = tmp_path / "nan.npz"
    t = np.arange(100.0) * 0.1
    V = np.r_[np.full(99, -65.0), np.nan]
    np.savez(nan, t=t, V=V, stim_t=[0.0], stim_I=[1.0])
    good = tmp_path / "good.npz"
    np.savez(good, t=t, V=np.full(100, -65.0), stim_t=[0.0], stim_I=[1.0])
    for argv, message in [
        (["simulate", "--stimulus", str(cut)], r"cut\.npz: cannot read"),
        (["fit", str(cut), "--out", str(tmp_path / "o")], r"cut\.npz: cannot read"),
        (
            ["fit", str(nan), "--out", str(tmp_path / "o")],
            r"`V` must be finite \(in mV",
        ),
        (["fit", str(tmp_path / "none.abf")], r"none\.abf.*does not exist"),
        (
            ["fit", str(good), "--free", "g_Xx", "--out", str(tmp_path / "o")],
            r"no parameter 'g_Xx'",
        ),
        (
            ["export", str(tmp_path), "--to", "neuron", "--out", str(tmp_path / "e")],
            r"no params\.json",
        ),
    ]:
        code, err = _cli(argv)
        assert code == 2 and "Traceback" not in err, (argv, err)
        assert re.search(message, err), (argv, err)


def test_cli_bad_value_in_a_real_process():
    """The installed entry point, as a user runs it: exit 2, one line, no
    traceback."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hh_jax",
            "simulate",
            "--dt",
            "0",
            "--step",
            "10",
            "1",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert (
        "hh-jax simulate: error: --duration and --save-dt must be > 0 ms" in run.stderr
    )
