# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Two real cells: fitted with the CLI defaults, judged on sweeps they did not see
#
# The two shared whole-cell recordings (pyABF sample data, MIT; see
# `../shared/realdata/README.md`):
#
# - `171116sh_0018.abf`: a regular-spiking neuron, 17 sweeps of 3 s; each steps
#   to −100 + 25·k pA for 0.5 s, then −100 pA, then the same step again.
# - `18711001.abf`: a strongly adapting neuron, 30 sweeps of 1.5 s; a −100 pA
#   prepulse, then a step of 10·k pA for 0.5 s.
#
# Each is fitted exactly as a new user would, with the defaults of
#
# ```
# hh-jax fit FILE --train K,... --validate K,... --out DIR
# ```
#
# on four training sweeps (one without spikes, three spiking), and the fitted
# model replays every other sweep; eFEL measures data and model alike. The
# checks per held-out sweep: spike count within 15 % (within 2 below 10 spikes),
# first-spike latency within 10 ms, mean AP peak within 5 mV, mean AP width
# within 25 %, pre-step baseline within 2 mV.
#
# `HH_JAX_SMOKE=1` runs a tiny search of one candidate model on two of the
# training sweeps and validates two sweeps per cell (CI); the numbers below are
# from the full run.
#
# **Measured** (the full run, CLI defaults, 2-core CPU shared with other jobs,
# load average ~4; 2026-12-03):
#
# | cell | model chosen | held-out checks passed | fit wall time |
# |---|---|---|---|
# | regular spiking (13 held-out sweeps) | cortical-rs | 44/50 (88 %) | 196 s |
# | adapting (26 held-out sweeps) | fast-spiking | 100/112 (89 %) | 208 s |

# %%
import json
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt

from hh_jax.cli import main
from hh_jax.fit import CellFitSettings

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
SHARED = Path(os.environ.get("HH_JAX_SHARED", HERE.parents[1] / "shared"))
REALDATA = SHARED / "realdata" / "pyabf"

CELLS = {
    "regular spiking": ("171116sh_0018.abf", [2, 8, 12, 16], 17),
    "adapting": ("18711001.abf", [5, 12, 20, 29], 30),
}
# Smoke (CI): one generation as large as the initial Sobol batch (the default
# point and CellFitSettings.initial_samples), so that it reuses that batch's
# compiled shapes; compilation, not simulation, is what a smoke run spends.
SMOKE_OPTIONS = [
    "--model",
    "cortical-rs",
    "--popsize",
    str(CellFitSettings().initial_samples + 1),
    "--generations",
    "1",
    "--time-budget",
    "2",
]


def fit_and_validate(name: str):
    file, train, count = CELLS[name]
    if SMOKE:  # CI: one quiet and one spiking training sweep
        train = train[::2]
    held_out = [k for k in range(count) if k not in train]
    if SMOKE:  # two held-out sweeps: the replay compiled for the training sweeps
        held_out = held_out[len(held_out) // 2 :][:2]
    out = Path("out") / name.replace(" ", "_")
    argv = [
        "fit",
        str(REALDATA / file),
        "--train",
        ",".join(map(str, train)),
        "--validate",
        ",".join(map(str, held_out)),
        "--out",
        str(out),
        "--no-progress",
    ] + (SMOKE_OPTIONS if SMOKE else [])
    print("hh-jax", " ".join(argv))
    start = time.perf_counter()
    assert main(argv) == 0
    wall = time.perf_counter() - start
    return out, wall


# %% [markdown]
# ## The regular-spiking cell

# %%
out_rs, wall_rs = fit_and_validate("regular spiking")
plt.figure(figsize=(14, 9))
plt.imshow(plt.imread(out_rs / "validation.png"))
plt.axis("off")

# %% [markdown]
# ## The adapting cell

# %%
out_ad, wall_ad = fit_and_validate("adapting")
plt.figure(figsize=(14, 12))
plt.imshow(plt.imread(out_ad / "validation.png"))
plt.axis("off")

# %% [markdown]
# ## Per cell: checks passed on held-out sweeps, and the wall time of the fit

# %%
print(f"{'cell':<18}{'model':<22}{'checks passed':>16}{'wall time (s)':>16}")
for name, out, wall in (
    ("regular spiking", out_rs, wall_rs),
    ("adapting", out_ad, wall_ad),
):
    summary = json.loads((out / "validation.json").read_text())["summary"]
    model = json.loads((out / "params.json").read_text())["model"]
    passed, applicable = summary["passed"], summary["applicable"]
    print(
        f"{name:<18}{model:<22}{passed:>9}/{applicable:<3} "
        f"({100 * passed / applicable:.0f} %){wall:>10.0f}"
    )
    for check, counts in summary["by_check"].items():
        print(f"    {check:<22}{counts['passed']:>4}/{counts['applicable']}")

# %% [markdown]
# ## What the model still misses
#
# Read from the validation figures of the full run:
#
# - **Near threshold.** The model's f–I curve starts at the right current but
#   rises faster at first: one or two spikes too many on the first spiking
#   sweeps, and first-spike latencies there off by more than 10 ms (the data's
#   latency is long and variable close to rheobase).
# - **Between spikes.** The recorded membrane sits 10–20 mV above the model's
#   after-spike trough in the adapting cell (a slow depolarising plateau the
#   single-compartment candidates do not have), so AHP depth is fitted at half
#   weight and not judged.
# - **Adaptation.** Cross-validation chose the fast-spiking candidate for the
#   adapting cell: it predicts counts, peaks and widths best, but its
#   inter-spike intervals lengthen less than the data's. The adapting
#   pyramidal candidate (Ca pool, AHP) scored worse after the same budget.
# - **Spike width at high currents.** Recorded spikes broaden as the current
#   grows; the model's do not, which costs the AP-width check on the strongest
#   sweeps.
