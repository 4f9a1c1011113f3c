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
# # Sensitivity analysis of the Hodgkin–Huxley neuron
#
# How does the neuron's behaviour depend on each conductance, which parameters can
# a recording pin down, and which matter over a whole range of values?
#
# 1. **Local**: derivatives and elasticities of spike count, latency, AP amplitude
#    and resting potential, on the seed's 10 µA/cm² protocol and on a step.
# 2. **Time-resolved**: dV(t)/dθ at every save time from one forward solve.
# 3. **Thresholds**: derivatives of the rheobase, of the onset of sustained
#    firing and of the loss of stability of rest, by implicit differentiation.
# 4. **Identifiability**: the Fisher information of a multi-step protocol, its
#    stiff and sloppy directions, Cramér–Rao bounds, and a protocol comparison.
# 5. **Global**: Sobol indices (SALib) and derivative-based measures (DGSM) over
#    ±20 % ranges, from batched simulations.
#
# Units: ms, mV, µA/cm², mS/cm². Set `HH_JAX_SMOKE=1` for a fast run (as CI does).

# %%
import os

import jax

jax.config.update("jax_enable_x64", True)  # float64: the user's choice, not hh_jax's

import jax.numpy as jnp
import matplotlib.pyplot as plt

import hh_jax as hh
import hh_jax.plot as hplot
from hh_jax import sensitivity as sens

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"
MODEL = hh.HodgkinHuxley()
WRT = ("g_Na", "g_K", "g_L")

# %% [markdown]
# ## 1. Local sensitivities
#
# The seed experiment: a constant 10 µA/cm² from (V, m, h, n) = (−65 mV, 0.05,
# 0.6, 0.32) for 50 ms. Spike count and latency use the smooth surrogates of
# `hh_jax.features` (a hard count is piecewise constant: its derivative is zero
# almost everywhere). With 3 parameters and 5 scalar outputs, forward mode is
# chosen.

# %%
SEED_Y0 = jnp.asarray([-65.0, 0.05, 0.6, 0.32])
duration = 20.0 if SMOKE else 50.0
ts = jnp.arange(0.0, duration + 0.025, 0.05)
outputs = ("spike_count", "latency", "rate", "AP_amplitude", "rest")
seed = sens.local_sensitivity(
    MODEL, hh.Constant(10.0), ts, outputs=outputs, wrt=WRT, y0=SEED_Y0
)
print(seed.table())
print(f"wall time {seed.wall_time_s:.2f} s (including compilation)")

# %% [markdown]
# The same on a 10 µA/cm² step from 5 to 45 ms, starting from the model's own
# resting state (which moves with the parameters). Elasticities
# `d log y / d log θ` compare parameters of any unit: a 1 % increase of g_Na
# shortens the latency by about 0.34 %, of g_K lengthens it by about 0.26 %.
# The soft spike count's derivative is ~1e-10: the count is an integer, flat
# between the parameter values where a spike appears or disappears.

# %%
step = hh.Step(10.0, 5.0, duration - 5.0)
local = sens.local_sensitivity(MODEL, step, ts, outputs=outputs, wrt=WRT)
print(local.table())
print(f"wall time {local.wall_time_s:.2f} s")
hplot.plot_elasticities(local, title="10 uA/cm$^2$ step: elasticities")
# %% [markdown]
# Few outputs and more parameters: reverse mode (here the adjoint equations are
# solved backwards with their own error control, `diffrax.BacksolveAdjoint`).

# %%
if not SMOKE:  # the smoke run (CI) skips this compile; tests cover reverse mode
    few = sens.local_sensitivity(
        MODEL,
        step,
        ts,
        outputs=("latency",),
        wrt=("g_Na", "g_K", "g_L", "E_K", "C_m", "stimulus.amplitude"),
    )
    print(few.table())

# %% [markdown]
# ## 2. Time-resolved sensitivity
#
# `dV(t)/dθ` for all save times in one forward-sensitivity solve. Near each
# spike the sensitivity is dominated by the shift of the spike time
# (`dV/dθ ≈ −V'(t) dt_spike/dθ`), and it grows from spike to spike as the
# timing shifts accumulate.

# %%
trace_sens = sens.trace_sensitivity(MODEL, hh.Constant(10.0), ts, wrt=WRT, y0=SEED_Y0)
print(f"dV/dtheta: {trace_sens.dV.shape}, {trace_sens.wall_time_s:.2f} s")
hplot.plot_trace_sensitivity(trace_sens, title="Seed experiment: theta dV/dtheta")
# %% [markdown]
# ## 3. Excitability thresholds by implicit differentiation
#
# Each threshold current `I*(θ)` is the root of a smooth criterion
# `G(I, θ) = 0`, found with Optimistix and differentiated with the implicit
# function theorem, `dI*/dθ = −G_θ / G_I`: no threshold is recomputed for
# perturbed parameters.
#
# - **Rheobase**: the peak of V during a 100 ms step reaching 0 mV (seeded by
#   `hh_jax.excitability.rheobase`).
# - **Loss of stability of rest**: the largest real eigenvalue at rest under a
#   constant current crossing zero (the Hopf point).
# - **Onset of sustained firing** (full run only): a spike after 400 ms of a
#   500 ms step, near the saddle-node of limit cycles.

# %%
thresholds = [
    sens.rheobase_sensitivity(MODEL, WRT, duration=30.0 if SMOKE else 100.0),
    sens.instability_sensitivity(MODEL, WRT),
]
if not SMOKE:
    thresholds.append(sens.onset_sensitivity(MODEL, WRT))
for result in thresholds:
    print(result.table())
    print(f"  wall time {result.wall_time_s:.1f} s\n")
hplot.plot_elasticities(thresholds, title="Threshold currents: elasticities")
# %% [markdown]
# ## 4. Identifiability: the Fisher information of a protocol
#
# Five current steps, the voltage recorded every 0.1 ms with Gaussian noise of
# σ = 1 mV. The Fisher information `F = JᵀJ / σ²` comes from the Jacobian of
# every trace (one vmapped forward-sensitivity solve). Its eigen-decomposition
# in log-parameters shows the stiff combinations (well determined) and the
# sloppy ones; `F⁻¹` bounds the variance of any unbiased estimate.

# %%
amplitudes = (-5.0, 2.0, 5.0) if SMOKE else (-5.0, -2.0, 2.0, 5.0, 10.0)
protocol_ts = jnp.arange(0.0, (20.0 if SMOKE else 40.0) + 0.05, 0.1)
stop = float(protocol_ts[-1]) - 5.0
protocol = [hh.Step(a, 5.0, stop) for a in amplitudes]
free = ("g_Na", "g_K", "g_L", "E_K", "E_L")
fisher = sens.fisher_information(MODEL, protocol, protocol_ts, wrt=free, sigma=1.0)
print(fisher.table())
print(f"wall time {fisher.wall_time_s:.2f} s")
hplot.plot_fisher(fisher, title="Multi-step protocol, sigma = 1 mV")
# %% [markdown]
# Which protocol pins the conductances down best? Ranked by the D criterion
# (log det of the log-parameter information, the volume of the confidence
# ellipsoid): subthreshold steps leave g_Na nearly unidentified.

# %%
if not SMOKE:  # three more Fisher computations; the smoke run (CI) skips them
    comparison = sens.compare_protocols(
        MODEL,
        {
            "subthreshold (+-2)": [hh.Step(a, 5.0, stop) for a in (-2.0, 2.0)],
            "spiking (10)": [hh.Step(10.0, 5.0, stop)],
            "multi-step": protocol,
        },
        protocol_ts,
        wrt=WRT,
        sigma=1.0,
    )
    print(comparison.table())

# %% [markdown]
# ## 5. Global sensitivity: Sobol indices and DGSM
#
# Each conductance uniform within ±20 % of its default; `n (P + 2)` simulations
# of the step protocol in batches, each carrying forward sensitivities for the
# derivative-based measure `E[(∂y/∂θ)²]` (DGSM). The normalised DGSM,
# `ν (b − a)² / (π² Var y)`, bounds the total Sobol index from above. Where the
# output jumps (the spike count, integer-valued) the gradient is zero almost
# everywhere and the DGSM misses what Sobol sees.

# %%
ranges = {
    name: (0.8 * float(MODEL.get(name)), 1.2 * float(MODEL.get(name))) for name in WRT
}
result = sens.global_sensitivity(
    MODEL,
    step,
    ts,
    ranges,
    outputs=("spike_count", "latency", "AP_amplitude"),
    n=8 if SMOKE else 256,
    progress=False,
)
print(result.table())
print(f"{len(result.X)} simulations, wall time {result.wall_time_s:.1f} s")
hplot.plot_global(result, title="Sobol indices and DGSM bound, +-20 % ranges")
hplot.plot_sobol_heatmap(result)
# %%
plt.close("all")
