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
# # The Hodgkin–Huxley neuron with hh_jax
#
# 1. The seed experiment (10 µA/cm², 50 ms) with hh_jax and with the textbook SciPy
#    `odeint` script: the same numbers.
# 2. What the gates and currents do during one spike.
# 3. The f–I curve from one vmapped call, and the bistable range where rest and
#    repetitive firing coexist.
#
# Units: ms, mV, µA/cm², mS/cm². Set `HH_JAX_SMOKE=1` for a fast run (as CI does).

# %%
import os
import time

import jax

jax.config.update("jax_enable_x64", True)  # float64: the user's choice, not hh_jax's

import matplotlib.pyplot as plt
import numpy as np
from scipy.integrate import odeint

import hh_jax as hh
import hh_jax.plot as hplot
from hh_jax.excitability import fi_curve

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"

# %% [markdown]
# ## 1. The seed experiment, two ways
#
# The seed document simulates a constant 10 µA/cm² from (V, m, h, n) =
# (−65 mV, 0.05, 0.6, 0.32) with `scipy.integrate.odeint`. Here is that script's
# model, unchanged in substance, next to hh_jax.

# %%
C_m, g_Na, g_K, g_L = 1.0, 120.0, 36.0, 0.3
E_Na, E_K, E_L = 50.0, -77.0, -54.387


def textbook_rhs(y, t, I_ext):
    V, m, h, n = y
    a_m = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10))
    b_m = 4.0 * np.exp(-(V + 65) / 18)
    a_h = 0.07 * np.exp(-(V + 65) / 20)
    b_h = 1.0 / (1 + np.exp(-(V + 35) / 10))
    a_n = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    b_n = 0.125 * np.exp(-(V + 65) / 80)
    I_ion = g_Na * m**3 * h * (V - E_Na) + g_K * n**4 * (V - E_K) + g_L * (V - E_L)
    return [
        (I_ext - I_ion) / C_m,
        a_m * (1 - m) - b_m * m,
        a_h * (1 - h) - b_h * h,
        a_n * (1 - n) - b_n * n,
    ]


t = np.linspace(0, 50, 10000)
y0 = [-65.0, 0.05, 0.6, 0.32]
start = time.perf_counter()
scipy_V = odeint(textbook_rhs, y0, t, args=(10.0,), rtol=1e-10, atol=1e-10)[:, 0]
scipy_seconds = time.perf_counter() - start

model = hh.HodgkinHuxley()
trace = hh.simulate(model, hh.Constant(10.0), t, y0=y0, currents=True)
start = time.perf_counter()
trace = hh.simulate(model, hh.Constant(10.0), t, y0=y0, currents=True)
trace.V.block_until_ready()
jax_seconds = time.perf_counter() - start

ours = np.asarray(hh.spike_times(t, trace.V))
theirs = np.asarray(hh.spike_times(t, scipy_V))
print("spike times (ms), hh_jax:", np.round(ours, 4))
print("spike times (ms), SciPy :", np.round(theirs, 4))
print(f"largest spike-time difference: {np.max(np.abs(ours - theirs)):.2e} ms")
print(
    f"wall time: SciPy odeint (rtol 1e-10) {1e3 * scipy_seconds:.0f} ms, "
    f"hh_jax (default tolerances, compiled) {1e3 * jax_seconds:.1f} ms"
)

# %%
fig, ax = plt.subplots(figsize=(9, 3), constrained_layout=True)
ax.plot(t, scipy_V, lw=3, alpha=0.4, label="SciPy odeint (seed script)")
ax.plot(t, np.asarray(trace.V), "k", lw=1, label="hh_jax")
ax.set(xlabel="time (ms)", ylabel="V (mV)", title="Seed experiment: I = 10 µA/cm²")
ax.legend(frameon=False)

# %% [markdown]
# ## 2. Gates and currents during a spike
#
# The full trace with gates and channel currents, then one spike close up: m opens
# within a fraction of a millisecond and Na⁺ flows in; h closes and n opens more
# slowly, so K⁺ flows out and repolarises the membrane.

# %%
fig = hplot.plot_trace(trace, title="HH neuron, I = 10 µA/cm²")

# %%
first = ours[1]
window = (t > first - 2) & (t < first + 6)
fig, axes = plt.subplots(3, 1, sharex=True, figsize=(8, 6), constrained_layout=True)
axes[0].plot(t[window], np.asarray(trace.V)[window], "k")
axes[0].set_ylabel("V (mV)")
for gate, colour in zip("mhn", ("#d62728", "#1f77b4", "#2ca02c")):
    axes[1].plot(
        t[window], np.asarray(trace.gates[gate])[window], color=colour, label=gate
    )
axes[1].set_ylabel("gate")
axes[1].legend(frameon=False, ncol=3)
for name, colour in (("I_Na", "#d62728"), ("I_K", "#2ca02c"), ("I_L", "#7f7f7f")):
    axes[2].plot(
        t[window], np.asarray(trace.currents[name])[window], color=colour, label=name
    )
axes[2].set(xlabel="time (ms)", ylabel="outward current\n(µA/cm²)")
axes[2].legend(frameon=False, ncol=3)

# %% [markdown]
# ## 3. The f–I curve and its bistable range
#
# One vmapped call simulates every current twice: once starting at rest and once
# starting on the firing cycle of a strong current that is lowered slowly. The HH
# neuron is a class-II excitable cell: as current is lowered, firing persists down
# to ≈ 6.26 µA/cm² (and a step from rest to at least that current fires
# repetitively); as current is raised slowly, rest stays stable up to
# ≈ 9.78 µA/cm², where it loses stability (the eigenvalues of the linearised
# dynamics cross into the right half plane). Between the two, both states coexist.

# %%
currents = np.arange(0.0, 15.01, 1.0 if SMOKE else 0.1)
start = time.perf_counter()
fi = fi_curve(
    model,
    currents,
    duration=300.0 if SMOKE else 1500.0,
    settle=150.0 if SMOKE else 500.0,
    count_after=200.0 if SMOKE else 1000.0,
)
print(f"{2 * len(currents)} simulations in {time.perf_counter() - start:.1f} s")
print("bistable range (µA/cm²):", fi.bistable_range())
print("rest loses stability at", round(fi.instability_current(), 3), "µA/cm²")
fig = hplot.plot_fi_curve(fi)

# %% [markdown]
# The lower end of the bistable range is the onset of repetitive firing from rest:
# `hh_jax.excitability.repetitive_firing_onset` finds it by batched bisection, and
# `rheobase` finds the smallest 100 ms step that evokes one spike.

# %%
if not SMOKE:
    from hh_jax.excitability import repetitive_firing_onset, rheobase

    print(f"rheobase: {rheobase(model):.3f} µA/cm²")
    print(f"onset of repetitive firing: {repetitive_firing_onset(model):.3f} µA/cm²")
