"""``hh-jax cable``: the stable interface, end to end in a subprocess, its
velocity against NEURON on the same discretisation, and a reported failure."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from neuron import h

import hh_jax as hh
from hh_jax.cli import _cable, build_parser


def test_help_names_every_option_with_its_unit(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cable", "--help"])
    text = capsys.readouterr().out
    for option in ("--length", "--diam", "--Ra", "--nseg", "--temperature"):
        assert option in text
    for option in ("--duration", "--out", "--morphology", "--stim-amp", "--g-Na"):
        assert option in text
    for unit in ("um", "ohm*cm", "degC", "ms", "nA", "mS/cm^2"):
        assert unit in text


def _neuron_velocity(L, diam, R_a, nseg, celsius, amp, dur, dt, tstop):
    h.load_file("stdrun.hoc")
    sec = h.Section(name="cli_axon")
    try:
        sec.L, sec.diam, sec.Ra, sec.nseg = L, diam, R_a, nseg
        sec.insert("hh")
        sec.el_hh = -54.387
        h.usetable_hh = 0
        h.celsius = celsius
        clamp = h.IClamp(sec(0.0))
        clamp.delay, clamp.dur, clamp.amp = 0.0, dur, amp
        V = [h.Vector().record(sec(x)._ref_v) for x in (0.3, 0.7)]
        h.secondorder, h.dt = 2, dt
        h.finitialize(-65.0)
        h.continuerun(tstop)
        n = int(round(tstop / dt)) + 1
        ts = np.arange(n) * dt
        arrival = np.asarray(
            hh.spike_times(
                ts, np.array([np.array(v)[:n] for v in V]), 0.0, max_spikes=1
            )
        )[:, 0]
        # The nodes of segments int(0.3 nseg) and int(0.7 nseg).
        distance = (int(0.7 * nseg) - int(0.3 * nseg)) * L / nseg
        return distance / (arrival[1] - arrival[0]) * 1e-3
    finally:
        h.secondorder = 0
        h.delete_section(sec=sec)


def test_cable_command_writes_velocity_matching_neuron(tmp_path):
    args = ["--length", "20000", "--diam", "100", "--Ra", "35.4", "--nseg", "101"]
    args += ["--temperature", "18.5", "--duration", "3", "--out", "run"]
    args += ["--threshold", "0"]  # NEURON's velocities: 0 mV crossings
    env = dict(os.environ, HH_JAX_CACHE=str(tmp_path / "xla"), MPLBACKEND="Agg")
    out = subprocess.run(
        [sys.executable, "-m", "hh_jax.cli", "cable", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads((tmp_path / "run" / "cable.json").read_text())
    assert result["status"] == "ok" and result["nseg"] == 101
    assert result["solver"]["method"] == "crank_nicolson"
    assert result["solver"]["dt_ms"] == 0.005
    assert result["measured_between"]["threshold_mV"] == 0.0
    assert result["measured_between"]["nodes"] == [
        "axon[0](0.30198)",
        "axon[0](0.69802)",
    ]
    stim = result["stimulus"]
    reference = _neuron_velocity(
        20000.0,
        100.0,
        35.4,
        101,
        18.5,
        stim["amplitude_nA"],
        stim["duration_ms"],
        0.005,
        3.0,
    )
    # Measured: equal to MEAS_CLI relative (the same scheme and nodes).
    assert result["velocity_m_per_s"] == pytest.approx(reference, rel=1e-7)
    png = (tmp_path / "run" / "cable.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_no_propagation_is_an_error_not_a_number(tmp_path, capsys):
    args = build_parser().parse_args(
        [
            "cable",
            "--length",
            "5000",
            "--diam",
            "20",
            "--nseg",
            "21",
            "--duration",
            "1",
            "--stim-amp",
            "0.01",
            "--out",
            str(tmp_path / "weak"),
        ]
    )
    assert _cable.run(args) == 3
    result = json.loads((tmp_path / "weak" / "cable.json").read_text())
    assert result["status"] == "error" and result["velocity_m_per_s"] is None
    assert "no action potential" in result["error"]
    assert "--stim-amp" in capsys.readouterr().out
