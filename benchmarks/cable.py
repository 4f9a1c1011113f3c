"""Cables: hh_jax against NEURON 9 on the same cells, discretisation and scheme.

Workloads (all Crank-Nicolson, NEURON ``secondorder = 2``, same time step):

- ``branched``: the test cell ``tests/data/branched_cell.swc`` (hh in soma and
  axon, pas in the dendrites, R_a 100 ohm*cm, 18.5 degC, d_lambda segments: 143
  nodes), three 0.5 ms pulses of 2 nA into the soma, 20 ms at dt 0.025 ms.
- ``branched_fine``: the same cell with 5x the segments (d_lambda 0.02).
- ``squid``: Hodgkin & Huxley's axon, 10 cm in 801 segments, 4.5 ms at dt
  0.005 ms (the velocity check).
- ``batch``: ``branched`` for B parameter sets (g_Na in soma and axon spread
  over +-20 %): one vmapped call against B NEURON runs.
- ``gradient``: the reverse-mode gradient of a trace loss (mean squared
  difference of V at three sites from a target made with other parameters)
  against the forward run; NEURON has no gradients, so its cost is that of
  central differences, 2 P + 1 runs for P parameters (P = 5 global parameters,
  and P = N for g_Na per node).

Each timing is the best of ``--repeats``, NEURON and hh_jax interleaved in one
process so that the ratios see the same machine load; compile times are
reported apart. Writes ``results/cable.json`` and prints a Markdown table.

    python benchmarks/cable.py                 # ~2-4 min on 2 cores
    python benchmarks/cable.py --smoke         # a few seconds
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from neuron import h  # noqa: E402

import hh_jax as hh  # noqa: E402
from hh_jax import cable as hc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SWC = ROOT / "tests" / "data" / "branched_cell.swc"
SITES = [("soma[0]", 0.5), ("axon[0]", 0.95), ("dend[4]", 0.9)]
h.load_file("stdrun.hoc")
h.load_file("import3d.hoc")


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times), times


# -- the cells in hh_jax and in NEURON ---------------------------------------------


def hh_branched(d_lambda):
    cable = hc.Cable.from_morphology(
        hc.load_swc(SWC),
        hh.HodgkinHuxley(temperature=18.5),
        R_a=100.0,
        d_lambda=d_lambda,
    )
    active = cable.mask(kind=1) | cable.mask(kind=2)
    return cable.with_parameters(
        g_Na=jnp.where(active, 120.0, 0.0),
        g_K=jnp.where(active, 36.0, 0.0),
        g_L=jnp.where(active, 0.3, 0.1),
        E_L=jnp.where(active, -54.387, -65.0),
    ), active


def neuron_clear():
    h.CVode().active(0)
    for sec in list(h.allsec()):
        h.delete_section(sec=sec)


def neuron_branched(d_lambda, morphology):
    neuron_clear()
    reader = h.Import3d_SWC_read()
    reader.input(str(SWC))
    h.Import3d_GUI(reader, False).instantiate(None)
    sections = {sec.name(): sec for sec in h.allsec()}
    for sec in sections.values():
        sec.Ra, sec.cm = 100.0, 1.0
        lam = h.lambda_f(100, sec=sec)
        sec.nseg = int((sec.L / (d_lambda * lam) + 0.9) / 2) * 2 + 1
        if sec.name().startswith(("soma", "axon")):
            sec.insert("hh")
            sec.el_hh = -54.387
        else:
            sec.insert("pas")
            sec.g_pas, sec.e_pas = 1e-4, -65.0
    h.usetable_hh, h.celsius = 0, 18.5
    clamps = []
    for k in range(3):
        clamp = h.IClamp(sections["soma[0]"](0.5))
        clamp.delay, clamp.dur, clamp.amp = 1.0 + 5.0 * k, 0.5, 2.0
        clamps.append(clamp)
    refs = [sections[name](x)._ref_v for name, x in SITES]
    return sections, clamps, refs


def neuron_run(refs, dt, tstop):
    vectors = [h.Vector().record(r) for r in refs]
    h.secondorder, h.dt = 2, dt
    h.finitialize(-65.0)
    h.continuerun(tstop)
    n = int(round(tstop / dt))
    return np.array([np.array(v)[:n] for v in vectors])


# -- workloads ---------------------------------------------------------------------


def bench_single(name, d_lambda, tstop, dt, repeats):
    cable, _ = hh_branched(d_lambda)
    injection = hc.Injection(hh.PulseTrain(2.0, 1.0, 0.5, 5.0, 3), "soma[0]", 0.5)
    ts = np.arange(0.0, tstop, dt)

    def ours():
        return hc.simulate_cable(cable, injection, ts, dt=dt, record=SITES).V

    start = time.perf_counter()
    V = np.asarray(ours())
    compile_s = time.perf_counter() - start
    sections, clamps, refs = neuron_branched(d_lambda, cable.layout.morphology)
    nseg_nrn = sum(sec.nseg for sec in sections.values())
    V_nrn = neuron_run(refs, dt, tstop)
    ours_s, ours_all = best_of(ours, repeats)
    nrn_s, nrn_all = best_of(lambda: neuron_run(refs, dt, tstop), repeats)
    neuron_clear()
    return dict(
        workload=name,
        nodes=cable.num_nodes,
        neuron_segments=nseg_nrn,
        steps=int(round(tstop / dt)),
        hh_jax_s=ours_s,
        neuron_s=nrn_s,
        hh_jax_over_neuron=ours_s / nrn_s,
        compile_s=compile_s - ours_s,
        max_abs_dV_mV=float(np.max(np.abs(V - V_nrn))),
        runs_hh_jax_s=ours_all,
        runs_neuron_s=nrn_all,
    )


def bench_squid(repeats, smoke):
    L, nseg = (2e4, 161) if smoke else (1e5, 801)
    dt, tstop = 0.005, (1.5 if smoke else 4.5)
    cable = hc.Cable.unbranched(
        L, 476.0, hh.HodgkinHuxley(temperature=18.5), R_a=35.4, nseg=nseg
    )
    injection = hc.Injection(hh.Step(1e5, 0.0, 0.1), 0, 0.0)
    ts = np.arange(0.0, tstop, dt)

    def ours():
        return hc.simulate_cable(cable, injection, ts, dt=dt, record=[0.3, 0.7]).V

    start = time.perf_counter()
    V = np.asarray(ours())
    compile_s = time.perf_counter() - start
    neuron_clear()
    sec = h.Section(name="axon")
    sec.L, sec.diam, sec.Ra, sec.nseg = L, 476.0, 35.4, nseg
    sec.insert("hh")
    sec.el_hh = -54.387
    h.usetable_hh, h.celsius = 0, 18.5
    clamp = h.IClamp(sec(0.0))
    clamp.delay, clamp.dur, clamp.amp = 0.0, 0.1, 1e5
    refs = [sec(0.3)._ref_v, sec(0.7)._ref_v]
    V_nrn = neuron_run(refs, dt, tstop)
    ours_s, ours_all = best_of(ours, repeats)
    nrn_s, nrn_all = best_of(lambda: neuron_run(refs, dt, tstop), repeats)
    neuron_clear()
    return dict(
        workload="squid",
        nodes=cable.num_nodes,
        steps=int(round(tstop / dt)),
        hh_jax_s=ours_s,
        neuron_s=nrn_s,
        hh_jax_over_neuron=ours_s / nrn_s,
        compile_s=compile_s - ours_s,
        max_abs_dV_mV=float(np.max(np.abs(V - V_nrn))),
        runs_hh_jax_s=ours_all,
        runs_neuron_s=nrn_all,
    )


def bench_batch(batch, tstop, dt, repeats):
    cable, active = hh_branched(0.1)
    injection = hc.Injection(hh.PulseTrain(2.0, 1.0, 0.5, 5.0, 3), "soma[0]", 0.5)
    ts = np.arange(0.0, tstop, dt)
    scales = jnp.linspace(0.8, 1.2, batch)

    @jax.jit
    def ours(scales):
        def one(s):
            c = cable.with_parameters(g_Na=jnp.where(active, 120.0 * s, 0.0))
            return hc.simulate_cable(
                c, injection, ts, dt=dt, record=SITES, throw=False
            ).V

        return jax.vmap(one)(scales)

    start = time.perf_counter()
    jax.block_until_ready(ours(scales))
    compile_s = time.perf_counter() - start
    sections, clamps, refs = neuron_branched(0.1, cable.layout.morphology)
    active_sections = [s for n, s in sections.items() if n.startswith(("soma", "axon"))]

    def neuron_batch():
        for s in np.asarray(scales):
            for sec in active_sections:
                sec.gnabar_hh = 0.12 * float(s)
            neuron_run(refs, dt, tstop)

    ours_s, ours_all = best_of(lambda: ours(scales), repeats)
    nrn_s, nrn_all = best_of(neuron_batch, repeats)
    neuron_clear()
    return dict(
        workload=f"batch of {batch}",
        nodes=cable.num_nodes,
        batch=batch,
        steps=int(round(tstop / dt)),
        hh_jax_s=ours_s,
        neuron_s=nrn_s,
        hh_jax_over_neuron=ours_s / nrn_s,
        compile_s=compile_s - ours_s,
        runs_hh_jax_s=ours_all,
        runs_neuron_s=nrn_all,
    )


def bench_gradient(tstop, dt, repeats, neuron_single_s):
    cable, active = hh_branched(0.1)
    injection = hc.Injection(hh.PulseTrain(2.0, 1.0, 0.5, 5.0, 3), "soma[0]", 0.5)
    ts = np.arange(0.0, tstop, dt)
    n = cable.num_nodes
    target = hc.simulate_cable(
        cable.with_parameters(g_Na=jnp.where(active, 110.0, 0.0)),
        injection,
        ts,
        dt=dt,
        record=SITES,
    ).V

    def loss(params):
        c = cable.with_parameters(
            g_Na=params["g_Na"] * active,
            g_K=params["g_K"] * active,
            R_a=params["R_a"],
            C_m=params["C_m"],
        )
        c = c.with_parameters(g_L=jnp.where(active, params["g_L"], 0.1))
        V = hc.simulate_cable(c, injection, ts, dt=dt, record=SITES).V
        return jnp.mean((V - target) ** 2)

    globals_ = {
        "g_Na": jnp.asarray(120.0),
        "g_K": jnp.asarray(36.0),
        "g_L": jnp.asarray(0.3),
        "R_a": jnp.asarray(100.0),
        "C_m": jnp.asarray(1.0),
    }
    per_node = dict(globals_, g_Na=jnp.full((n,), 120.0))
    forward = jax.jit(loss)
    gradient = jax.jit(jax.grad(loss))
    out = []
    for label, params in (
        ("5 global parameters", globals_),
        (f"g_Na per node ({n})", per_node),
    ):
        start = time.perf_counter()
        jax.block_until_ready(forward(params))
        compile_fwd = time.perf_counter() - start
        start = time.perf_counter()
        jax.block_until_ready(gradient(params))
        compile_grad = time.perf_counter() - start
        fwd_s, _ = best_of(lambda: forward(params), repeats)
        grad_s, grad_all = best_of(lambda: gradient(params), repeats)
        P = sum(int(np.size(v)) for v in params.values())
        out.append(
            dict(
                workload=f"gradient, {label}",
                nodes=n,
                parameters=P,
                hh_jax_forward_s=fwd_s,
                hh_jax_gradient_s=grad_s,
                gradient_over_forward=grad_s / fwd_s,
                neuron_central_differences_s=(2 * P + 1) * neuron_single_s,
                hh_jax_over_neuron=grad_s / ((2 * P + 1) * neuron_single_s),
                compile_forward_s=compile_fwd - fwd_s,
                compile_gradient_s=compile_grad - grad_s,
                runs_gradient_s=grad_all,
            )
        )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "cable.json")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else args.repeats
    tstop, dt = (5.0 if args.smoke else 20.0), 0.025
    rows = [bench_single("branched", 0.1, tstop, dt, repeats)]
    if not args.smoke:
        rows.append(bench_single("branched_fine", 0.02, tstop, dt, repeats))
    rows.append(bench_squid(repeats, args.smoke))
    rows.append(bench_batch(4 if args.smoke else args.batch, tstop, dt, repeats))
    rows += bench_gradient(tstop, dt, repeats, rows[0]["neuron_s"])
    meta = dict(
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        load_average=os.getloadavg(),
        jax=jax.__version__,
        backend=jax.default_backend(),
        neuron=h.nrnversion(),
        dtype="float64",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(meta=meta, rows=rows), indent=2) + "\n")
    print(
        f"load average {meta['load_average']}, JAX {meta['jax']} "
        f"({meta['backend']}), {meta['neuron']}"
    )
    print(
        "| workload | nodes | hh_jax (s) | NEURON (s) | hh_jax / NEURON | "
        "compile (s) | max abs dV (mV) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "neuron_s" in r:
            print(
                f"| {r['workload']} | {r['nodes']} | {r['hh_jax_s']:.3f} | "
                f"{r['neuron_s']:.3f} | {r['hh_jax_over_neuron']:.2f} | "
                f"{r['compile_s']:.1f} | {r.get('max_abs_dV_mV', float('nan')):.1e} |"
            )
    print()
    print(
        "| gradient | P | forward (s) | gradient (s) | gradient / forward | "
        "NEURON central differences (s) | hh_jax / NEURON |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "gradient_over_forward" in r:
            print(
                f"| {r['workload']} | {r['parameters']} | {r['hh_jax_forward_s']:.3f}"
                f" | {r['hh_jax_gradient_s']:.3f} | {r['gradient_over_forward']:.2f} | "
                f"{r['neuron_central_differences_s']:.2f} | "
                f"{r['hh_jax_over_neuron']:.3f} |"
            )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
