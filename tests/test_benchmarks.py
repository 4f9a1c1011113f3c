"""The benchmark's hh_jax worker runs and reports what the benchmark tables need
(CI-sized: a few neurons; the full benchmark is `python benchmarks/run.py`)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).resolve().parents[1] / "benchmarks" / "hh_jax_worker.py"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["throughput", "gradient"])
def test_worker_reports(tmp_path, kind):
    out = tmp_path / "r.json"
    run = subprocess.run(
        [
            sys.executable,
            str(WORKER),
            "--config",
            "rk4-f64-dt0.05",
            "--n",
            "8",
            "--kind",
            kind,
            "--repeats",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["N"] == 8 and record["kind"] == kind
    if kind == "throughput":
        assert record["throughput_neuron_ms_per_s"] > 0 and record["first_call_s"] > 0
    else:
        assert record["gradient_over_forward"] > 1 and record["peak_rss_mb"] > 0
