"""Notebooks and fit examples run end to end in smoke mode (HH_JAX_SMOKE=1), and
each committed .ipynb matches its jupytext .py source."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "notebooks").glob("*.py")) + sorted(
    (ROOT / "fit_examples").glob("*.py")
)


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_runs_in_smoke_mode(script, tmp_path):
    env = dict(os.environ, HH_JAX_SMOKE="1", MPLBACKEND="Agg")
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_in_sync_with_its_script(script):
    jupytext = pytest.importorskip("jupytext")
    notebook = script.with_suffix(".ipynb")
    assert notebook.exists(), f"run: jupytext --to ipynb {script.relative_to(ROOT)}"
    source = [c.source for c in jupytext.read(script).cells]
    paired = [c.source for c in jupytext.read(notebook).cells]
    assert source == paired, f"run: jupytext --sync {script.relative_to(ROOT)}"
