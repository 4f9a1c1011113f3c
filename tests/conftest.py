"""Test configuration: float64, strict promotion, and the shared ground truth."""

import os
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

# `../shared` beside the repository holds the NEURON reference traces and the
# real recordings. HH_JAX_SHARED overrides its location.
SHARED = Path(
    os.environ.get("HH_JAX_SHARED", Path(__file__).resolve().parents[2] / "shared")
)
REFERENCE = SHARED / "reference" / "neuron_hh"
REALDATA = SHARED / "realdata"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"reference traces not found at {REFERENCE} (set HH_JAX_SHARED)")
    return REFERENCE


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    if not REALDATA.is_dir():
        pytest.fail(f"real recordings not found at {REALDATA} (set HH_JAX_SHARED)")
    return REALDATA
