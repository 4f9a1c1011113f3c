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
# # Baseline: the same recovery with CMA-ES (gradient-free)
#
# The recovery problem of `01_recovery` (five steps, 0.5 mV noise, hidden g_Na,
# g_K, g_L), solved by CMA-ES from the maintained `cma` package, with the very same
# batched simulator and loss: each generation's population is evaluated in one
# vmapped call. We count sweep simulations and wall time until the largest
# relative parameter error falls below 1 % (or the budget runs out), next to
# hh_jax's gradient-based fit. `HH_JAX_SMOKE=1` shortens everything.

# %%
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import cma
import equinox as eqx
import jax.numpy as jnp
import numpy as np

import hh_jax as hh
from hh_jax.fit import (
    Objective,
    TraceMSE,
    build_space,
    default_losses,
    fit,
    fit_data,
    synthetic_recording,
)

SMOKE = os.environ.get("HH_JAX_SMOKE") == "1"
TRUTH = dict(g_Na=110.0, g_K=40.0, g_L=0.25)
NAMES = list(TRUTH)
if SMOKE:
    amplitudes = (-5.0, 15.0)
    protocol = dict(start=5.0, stop=20.0, duration=25.0, dt=0.1)
else:
    amplitudes = (-5.0, 2.0, 5.0, 8.0, 15.0)
    protocol = dict(start=10.0, stop=110.0, duration=130.0, dt=0.05)
data = fit_data(
    synthetic_recording(
        hh.HodgkinHuxley(**TRUTH), amplitudes, noise=0.5, seed=1, **protocol
    )
)
template = hh.HodgkinHuxley()
space = build_space(template, NAMES)
truth = np.array([TRUTH[n] for n in NAMES])
S = data.num_sweeps


def max_error(u):
    values = space.values(jnp.asarray(u))
    return float(
        np.max(np.abs(np.array([float(values[n]) for n in NAMES]) - truth) / truth)
    )


@eqx.filter_jit
def population_loss(objective, us):
    return jax.vmap(objective.loss)(us)


# %% [markdown]
# ## CMA-ES
#
# In the same unconstrained coordinates as the gradient fit (bounded, log-scaled
# conductances), starting at the textbook values, step size 1 (a third of the
# log-range), population 16.


# %%
def run_cmaes(losses, budget_generations, seed=1):
    objective = Objective(template, space, data, tuple(losses))
    es = cma.CMAEvolutionStrategy(
        space.unconstrained({n: float(template.get(n)) for n in NAMES}),
        1.0,
        {"popsize": 16, "seed": seed, "verbose": -9},
    )
    start, simulations, reached = time.perf_counter(), 0, None
    history = []
    for generation in range(budget_generations):
        candidates = np.asarray(es.ask())
        losses_ = np.asarray(population_loss(objective, jnp.asarray(candidates)))
        losses_ = np.where(np.isfinite(losses_), losses_, 1e12)
        es.tell(list(candidates), list(losses_))
        simulations += len(candidates) * S
        err = max_error(es.result.xbest)
        history.append((generation, simulations, es.result.fbest, err))
        if reached is None and err < 0.01:
            reached = (simulations, time.perf_counter() - start)
            break
    return dict(
        seconds=time.perf_counter() - start,
        simulations=simulations,
        best_error=max_error(es.result.xbest),
        reached_1_percent=reached,
        history=history,
    )


budget = 2 if SMOKE else 150
baseline = {}
choices = [("trace MSE", (TraceMSE(),)), ("default losses", default_losses(data))]
for label, losses in choices[1:] if SMOKE else choices:  # smoke (CI): one of them
    baseline[label] = run_cmaes(losses, budget)
    r = baseline[label]
    print(
        f"CMA-ES, {label}: best max rel. error {r['best_error']:.2e} after "
        f"{r['simulations']} sweep simulations, {r['seconds']:.1f} s; "
        f"reached 1 %: {r['reached_1_percent']}"
    )

# %% [markdown]
# ## hh_jax's gradient-based fit on the same problem

# %%
start = time.perf_counter()
result = fit(
    data,
    template,
    NAMES,
    starts=2 if SMOKE else 8,
    steps=2 if SMOKE else 60,
    progress=False,
)
ours = dict(
    seconds=time.perf_counter() - start,
    error=max(abs(result.parameters[n] - TRUTH[n]) / TRUTH[n] for n in NAMES),
    solves=result.timing["sweep_solves"],
)
print(
    f"hh_jax fit: max rel. error {ours['error']:.2e} in {ours['seconds']:.1f} s "
    f"(incl. compilation); sweep solves {ours['solves']} (each LM step solves every "
    f"sweep once with its 3 forward sensitivities, and once more for the trial step)"
)

# %% [markdown]
# ## Side by side

# %%
rows = [
    (
        "hh_jax fit (regression start + LM, 8 starts)",
        ours["error"],
        ours["solves"]["forward"] + ours["solves"]["with_sensitivities"],
        ours["seconds"],
    )
]
for label, r in baseline.items():
    rows.append((f"CMA-ES, {label}", r["best_error"], r["simulations"], r["seconds"]))
print(f"{'method':<48}{'max rel. error':>16}{'sweep solves':>14}{'wall (s)':>10}")
for name, err, solves, secs in rows:
    print(f"{name:<48}{err:>16.2e}{solves:>14}{secs:>10.1f}")
