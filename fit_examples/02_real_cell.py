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
# # A real regular-spiking cell: fit on some sweeps, validate on the others
#
# `../shared/realdata/pyabf/171116sh_0018.abf` (pyABF sample data, MIT): whole-cell
# current clamp of a regular-spiking neuron, 17 sweeps, 20 kHz; each sweep steps
# the current to −100 + 25·k pA from 146.85 to 646.85 ms. We fit the minimal
# cortical model of Pospischil et al. (2008) — Traub–Miles Na and K with threshold
# shift V_T, a slow M-type K current, a leak — together with the unknown membrane
# area, on six sweeps, and check the other eleven with eFEL features computed by
# eFEL itself on data and model.
#
# `HH_JAX_SMOKE=1` fits two short sweeps for a few steps (CI).

# %%
import os
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import efel
import matplotlib.pyplot as plt
import numpy as np

import hh_jax as hh
import hh_jax.plot as hplot
from hh_jax.fit import TraceMSE, fit
from hh_jax.io import load_abf

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"
# ../shared beside the repository (or $HH_JAX_SHARED) holds the recordings.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
SHARED = Path(os.environ.get("HH_JAX_SHARED", HERE.parents[1] / "shared"))
REALDATA = SHARED / "realdata"
recording = load_abf(REALDATA / "pyabf" / "171116sh_0018.abf")
print(recording)

# The first step (0-750 ms) of every sweep, block-averaged to 10 kHz.
END = 400.0 if SMOKE else 750.0
cell = recording.crop(0.0, END).downsample(2)
amplitudes = np.array([-100.0 + 25.0 * k for k in range(len(cell))])  # pA
STEP = (146.85, 646.85 if not SMOKE else END)

# %% [markdown]
# ## The fit, in two stages
#
# Fitting everything at once from anywhere in the bounds tends to trade the
# membrane area against the conductances and to end at a bound. As
# experimenters do, we first fit the passive part — leak conductance, leak
# reversal and membrane area (C_m = 1 µF/cm², so the area stands for the
# capacitance) — on three sweeps that stay subthreshold (−100, −50, 0 pA), with
# the trace MSE. Then, with those fixed, the spike-generating part — g_Na, g_K,
# g_M and the threshold shift V_T — on three spiking sweeps (+50, +150, +250 pA)
# with the default loss for spiking data (trace, subthreshold statistics, matched
# spike times, soft spike count). E_Na = 50 mV, E_K = −100 mV and τ_max = 1 s stay
# at the model's values.

# %%
model = hh.CorticalRegularSpiking()
PASSIVE = [0] if SMOKE else [0, 2, 4]
ACTIVE = [14] if SMOKE else [6, 10, 14]
TRAIN = PASSIVE + ACTIVE
HELD_OUT = [k for k in range(len(cell)) if k not in TRAIN]
start = time.perf_counter()
passive = fit(
    cell.select(PASSIVE),
    model,
    ["g_L", "E_L", "area"],
    losses=(TraceMSE(),),
    starts=2 if SMOKE else 4,
    steps=3 if SMOKE else 30,
    progress=not SMOKE,
)
print(passive.table())
area_um2 = passive.parameters["area"]
model = model.replace(g_L=passive.parameters["g_L"], E_L=passive.parameters["E_L"])
result = fit(
    cell.select(ACTIVE),
    model,
    ["g_Na", "g_K", "g_M", "V_T"],
    area=area_um2,
    bounds=dict(g_M=(0.001, 0.5)),
    starts=2 if SMOKE else 8,
    steps=2 if SMOKE else 30,
    progress=not SMOKE,
)
print(f"both stages in {time.perf_counter() - start:.1f} s")
print(result.table())
print(
    f"membrane area {area_um2:.0f} um^2 (fitted, stage 1) -> C = "
    f"{area_um2 * 1e-8 * 1e6:.0f} pF at 1 uF/cm^2"
)
fig = hplot.plot_fit(passive)
fig = hplot.plot_fit(result)

# %% [markdown]
# ## Every sweep with the fitted parameters

# %%
fitted = model.replace(**result.parameters)
area_cm2 = area_um2 * 1e-8
V_model = []
for sweep in cell:
    stim = sweep.stimulus(area_cm2=area_cm2)
    rest = hh.resting_state(fitted, holding_current=0.0, V_guess=-65.0)
    trace = hh.simulate(
        fitted,
        stim,
        sweep.t - sweep.t[0],
        y0=rest,
        rtol=1e-6,
        atol=1e-6,
        max_steps=200_000,
    )
    V_model.append(np.asarray(trace.V))

# %% [markdown]
# ## Validation with eFEL on data and model

# %%
FEATURES = [
    "Spikecount",
    "time_to_first_spike",
    "voltage_base",
    "steady_state_voltage_stimend",
    "peak_voltage",
    "AP_width",
]


def efel_features(t, V, amplitude_pA):
    trace = {"T": t, "V": V, "stim_start": [STEP[0]], "stim_end": [STEP[1]]}
    values = efel.get_feature_values([trace], FEATURES, raise_warnings=False)[0]
    out = {}
    for name in FEATURES:
        v = values[name]
        out[name] = float(np.mean(v)) if v is not None and len(v) else np.nan
    return out


table = []
for k, sweep in enumerate(cell):
    t = sweep.t - sweep.t[0]
    table.append(
        (
            k,
            efel_features(t, sweep.V, amplitudes[k]),
            efel_features(t, V_model[k], amplitudes[k]),
        )
    )

print(
    f"{'sweep':>5} {'I (pA)':>7} {'set':>8} "
    + " ".join(f"{n[:14]:>22}" for n in FEATURES)
)
for k, d, m in table:
    role = "train" if k in TRAIN else "held-out"
    cells = " ".join(f"{d[n]:>10.3g} / {m[n]:<9.3g}" for n in FEATURES)
    print(f"{k:>5} {amplitudes[k]:>+7.0f} {role:>8} {cells}")


def held_out_error(name):
    pairs = [(d[name], m[name]) for k, d, m in table if k in HELD_OUT]
    pairs = [(a, b) for a, b in pairs if np.isfinite(a) and np.isfinite(b)]
    return np.mean([abs(a - b) for a, b in pairs]) if pairs else np.nan


print("\nheld-out mean |data - model|:")
for name in FEATURES:
    print(f"  {name:<30} {held_out_error(name):.3g}")
counts = np.array([[d["Spikecount"], m["Spikecount"]] for _, d, m in table])
print(
    "held-out spike counts exact in",
    int(np.sum(counts[HELD_OUT, 0] == counts[HELD_OUT, 1])),
    "of",
    len(HELD_OUT),
    "sweeps",
)

# %%
fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
ax.plot(amplitudes, counts[:, 0], "o-", color="0.4", label="data")
ax.plot(amplitudes, counts[:, 1], "s--", color="#d62728", label="model")
ax.plot(
    amplitudes[TRAIN],
    counts[TRAIN, 1],
    "s",
    ms=10,
    mfc="none",
    color="k",
    label="fitted sweeps",
)
ax.set(
    xlabel="step current (pA)",
    ylabel=f"spikes in the {STEP[1] - STEP[0]:.0f} ms step",
    title="f–I: data vs model",
)
ax.legend(frameon=False)

# %%
fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
for ax, k in zip(axes, [HELD_OUT[0], HELD_OUT[len(HELD_OUT) // 2], HELD_OUT[-1]]):
    t = cell[k].t - cell[k].t[0]
    ax.plot(t, cell[k].V, color="0.5", lw=2, alpha=0.6, label="data")
    ax.plot(t, V_model[k], color="#d62728", lw=0.8, label="model")
    ax.set_title(f"held-out sweep {k}: {amplitudes[k]:+.0f} pA", fontsize=9, loc="left")
    ax.set_ylabel("V (mV)")
axes[0].legend(frameon=False)
axes[-1].set_xlabel("time (ms)")

# %% [markdown]
# ## What the model does not capture
#
# From the full run (numbers measured on a 2-core CPU; the table above is
# recomputed on every run):
#
# - **Passive response: well captured.** Resting potential within ~1 mV and the
#   steady-state responses to −100 … +25 pA within ~1 mV on every sweep, held-out
#   ones included; fitted area ≈ 1.9e4 µm² (≈ 190 pF at 1 µF/cm²).
# - **Spike shape: not captured.** The recorded spikes are 2–3.3 ms wide (eFEL
#   AP_width) and peak at +52 … +61 mV; the model's are 1 ms wide and peak near
#   +48 mV. Traub–Miles kinetics at 36 °C repolarise much faster than this cell,
#   and one K current cannot make spikes both wide and repetitive.
# - **Between spikes: not captured.** During the step the cell sits at −35 … −47
#   mV between spikes (a depolarised plateau, steady_state_voltage_stimend); the
#   model's after-hyperpolarisation takes it to −52 … −57 mV. A current this model
#   lacks (persistent Na, Ca, or a slower K activation) holds the cell up.
# - **f–I curve: the right range, the wrong slope.** Held-out spike counts are
#   exact on 5 of 11 sweeps (mean error 1.4 spikes); the model starts firing at
#   about the same current but gains spikes faster above +200 pA (13 vs 9 at
#   +300 pA) and its first spike comes earlier (latency error ≈ 15 ms), because
#   with the cell's slow plateau missing the model reaches threshold sooner.
# - **Fixed parts.** E_Na, E_K, τ_max and C_m were not fitted; only C_m × area is
#   identifiable from whole-cell current clamp, so the area is a fitted
#   capacitance. Freeing more parameters at once (we tried temperature, τ_max,
#   all seven together) made the fit slide to the bounds from most starts: the
#   data on 3–6 sweeps do not pin them down with this model.
