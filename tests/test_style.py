"""The code is lint-clean and formatted (ruff, configured in pyproject.toml)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["hh_jax", "tests", "benchmarks", "notebooks", "fit_examples"]


def _ruff(*args):
    exe = shutil.which("ruff")
    if exe is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    paths = [p for p in PATHS if (ROOT / p).exists()]
    return subprocess.run(
        [exe, *args, *paths], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check():
    run = _ruff("check")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_ruff_format():
    run = _ruff("format", "--check")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
