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
# # Propagation of the action potential along the squid giant axon
#
# Hodgkin and Huxley (1952) computed, from their membrane equations and the cable
# properties of the squid axon (diameter 476 µm, axoplasm 35.4 Ω·cm, 18.5 °C),
# a conduction velocity of 18.8 m/s; they measured 21.2 m/s. Here the same
# membrane (`hh.HodgkinHuxley`) sits on every node of a cable:
#
# 1. The propagated action potential and its velocity.
# 2. How the velocity converges with the number of segments and the time step.
# 3. Velocity against diameter: the square-root law.
# 4. The gradient of the velocity with respect to g_Na and R_a, by reverse-mode
#    differentiation through the solver, checked by finite differences.
#
# Units: µm, Ω·cm, ms, mV, nA (injected currents are point currents, as in
# NEURON's `IClamp`), mS/cm². Set `HH_JAX_SMOKE=1` for a fast run (as CI does).

# %%
import os

import jax

jax.config.update("jax_enable_x64", True)  # float64: the user's choice, not hh_jax's

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import hh_jax as hh
from hh_jax import cable as hc

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"
DIAM, R_A, CELSIUS = 476.0, 35.4, 18.5  # um, ohm*cm, degC
LENGTH = 2e4 if SMOKE else 1e5  # um: 2 cm in the smoke run, else 10 cm
NSEG = 101 if SMOKE else 801
DT = 0.01 if SMOKE else 0.005  # ms
DURATION = 2.5 if SMOKE else 6.0  # ms
MEMBRANE = hh.HodgkinHuxley(temperature=CELSIUS)
TS = np.arange(0.0, DURATION, DT)
# 0.1 ms of 100 uA (1e5 nA) into the x = 0 end.
STIMULUS = hc.Injection(hh.Step(1e5, 0.0, 0.1), 0, 0.0)
# Arrival times at 0 mV crossings, NEURON's convention for conduction velocities
# (hh_jax's spike threshold is -20 mV unless told otherwise).
LEVEL = 0.0  # mV

# %% [markdown]
# ## 1. The propagated action potential
#
# One unbranched cylinder, sealed at both ends, every node at rest (−65 mV).
# `simulate_cable` takes implicit Crank–Nicolson steps for the voltage (a tree
# solve, here tridiagonal) and exponential steps for the gates, staggered by
# half a step as in NEURON. Every node is recorded.

# %%
axon = hc.Cable.unbranched(LENGTH, DIAM, MEMBRANE, R_a=R_A, nseg=NSEG)
trace = hc.simulate_cable(axon, STIMULUS, TS, dt=DT)
velocity = float(hc.conduction_velocity(axon, trace, 0.3, 0.7, threshold=LEVEL))
print(f"{axon.num_nodes} nodes, {trace.num_steps} steps of {DT} ms")
print(f"conduction velocity between x = 0.3 and 0.7: {velocity:.3f} m/s")
print("Hodgkin & Huxley 1952: 18.8 m/s computed, 21.2 m/s measured")

# %%
x_mm = axon.layout.distance * 1e-3
t = np.asarray(trace.t)
V = np.asarray(trace.V)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
for when in np.linspace(0.5, DURATION - 0.5, 5):
    k = int(np.argmin(np.abs(t - when)))
    left.plot(x_mm, V[:, k], label=f"{t[k]:.1f} ms")
left.set(xlabel="x (mm)", ylabel="V (mV)", title="V along the axon")
left.legend(fontsize=8)
for frac in (0.1, 0.3, 0.5, 0.7, 0.9):
    right.plot(t, V[axon.node(frac)], label=f"x = {frac:g} L")
right.set(xlabel="t (ms)", ylabel="V (mV)", title="V at fixed positions")
right.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 2. Convergence with segments and time step
#
# The velocity depends on the discretisation. With NEURON 9 on the same nodes and
# the same scheme the numbers agree to rounding (tests/test_cable_neuron.py;
# docs/cable.md has the NEURON table). Here hh_jax alone, over segment counts and
# time steps; the velocity is measured between the nodes that represent x = 0.3
# and x = 0.7.

# %%
segment_counts = (NSEG,) if SMOKE else (101, 201, 401, 801)
steps = (DT,) if SMOKE else (0.01, 0.005, 0.0025)
table = {}
for nseg in segment_counts:
    cable = hc.Cable.unbranched(LENGTH, DIAM, MEMBRANE, R_a=R_A, nseg=nseg)
    for dt in steps:
        run = hc.simulate_cable(cable, STIMULUS, np.arange(0.0, DURATION, dt), dt=dt)
        table[nseg, dt] = float(
            hc.conduction_velocity(cable, run, 0.3, 0.7, threshold=LEVEL)
        )
print("nseg  " + "  ".join(f"dt {dt:<7g}" for dt in steps) + "  (m/s)")
for nseg in segment_counts:
    print(f"{nseg:4d}  " + "  ".join(f"{table[nseg, dt]:10.4f}" for dt in steps))

# %% [markdown]
# ## 3. Velocity against diameter
#
# In a uniform cable the diameter enters the cable equation only through the
# length constant, which grows as √d, while the membrane's time scales stay:
# the velocity of the propagated wave grows as √d. The same cable length and
# segments serve every diameter (one compilation: only the cable's area and
# resistance arrays change).

# %%
diameters = np.array([120.0, 240.0, 476.0] if SMOKE else [60, 120, 240, 476, 960.0])
# 5 cm and 9 ms, so that the slowest spike (60 um, ~6.5 m/s) passes x = 0.7.
sweep_length, sweep_nseg = (LENGTH, NSEG) if SMOKE else (5e4, 401)
sweep_ts = TS if SMOKE else np.arange(0.0, 9.0, DT)
velocities = []
for d in diameters:
    cable = hc.Cable.unbranched(
        sweep_length, float(d), MEMBRANE, R_a=R_A, nseg=sweep_nseg
    )
    run = hc.simulate_cable(cable, STIMULUS, sweep_ts, dt=DT)
    velocities.append(
        float(hc.conduction_velocity(cable, run, 0.3, 0.7, threshold=LEVEL))
    )
velocities = np.array(velocities)
slope = np.polyfit(np.log(diameters), np.log(velocities), 1)[0]
print("diameter (um):", diameters)
print("velocity (m/s):", np.round(velocities, 3))
print(f"log-log slope: {slope:.4f} (square-root law: 0.5)")

fig, ax = plt.subplots(figsize=(5, 3.6))
ax.loglog(diameters, velocities, "o", label="hh_jax")
anchor = velocities[int(np.argmin(np.abs(diameters - DIAM)))]  # the 476 um run
ax.loglog(
    diameters, anchor * np.sqrt(diameters / DIAM), "k--", label=r"$\propto\sqrt{d}$"
)
ax.set(xlabel="diameter (µm)", ylabel="velocity (m/s)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## 4. The gradient of the velocity
#
# The velocity is a differentiable function of every parameter: the arrival
# times are interpolated threshold crossings, differentiable with respect to V,
# and the solver is differentiated in reverse mode (checkpointed per save
# interval). By the same scaling argument as above the velocity goes as
# 1 / √R_a, so its elasticity with respect to R_a should be close to −0.5; the
# elasticity with respect to g_Na is the model's own.


# %%
def conduction(params):
    cable = axon.with_parameters(g_Na=params["g_Na"], R_a=params["R_a"])
    run = hc.simulate_cable(cable, STIMULUS, TS, dt=DT)
    return hc.conduction_velocity(cable, run, 0.3, 0.7, threshold=LEVEL)


params = {"g_Na": jnp.asarray(120.0), "R_a": jnp.asarray(R_A)}
grad = jax.grad(conduction)(params)
for name, value in params.items():
    step = 1e-4 * float(value)
    up = conduction({**params, name: value + step})
    down = conduction({**params, name: value - step})
    fd = float(up - down) / (2 * step)
    print(
        f"d v / d {name}: reverse mode {float(grad[name]):+.6e}, central difference "
        f"{fd:+.6e} (relative gap {abs(float(grad[name]) / fd - 1):.1e}); "
        f"elasticity {float(grad[name]) * float(value) / velocity:+.4f}"
    )
