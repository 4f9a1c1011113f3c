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

With ``--peers neuron,jaxley`` Jaxley (its own venv, ``benchmarks/peers/
setup_envs.sh jaxley``) runs ``branched``, ``batch`` and ``gradient`` too, in a
worker process (``benchmarks/peers/run_jaxley_cable.py --serve``) with the same
segments per section, on ``--jaxley-settings`` (default: its default solver
``bwd_euler`` and ``crank_nicolson``; against its jitted forward run hh_jax's
``simulate_cable`` is timed inside ``jax.jit`` too); and ``accuracy`` compares
V at the three sites of hh_jax, NEURON (Crank-Nicolson) and Jaxley with NEURON's
CVODE (atol 1e-8) on the same segments: max abs dV and the spike times at the
soma (-20 mV crossings; its spikes peak near 0 mV) and at the axon site (0 mV).

Each timing is the best of ``--repeats``; the systems' calls alternate (one call
each per repeat, the Jaxley worker's too) so that the ratios see the same
machine load; compile times are reported apart. Writes ``results/cable.json``
and prints Markdown tables.

    python benchmarks/cable.py                 # ~2-4 min on 2 cores
    python benchmarks/cable.py --peers neuron,jaxley   # + ~2 min (Jaxley compiles)
    python benchmarks/cable.py --smoke         # a few seconds
"""

import argparse
import json
import os
import platform
import subprocess
import tempfile
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


JAXLEY_SCRIPT = ROOT / "benchmarks" / "peers" / "run_jaxley_cable.py"


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return min(times), times


def timed(fn):
    """A callable returning the seconds of one call of ``fn`` (results blocked on)."""

    def run():
        start = time.perf_counter()
        jax.block_until_ready(fn())
        return time.perf_counter() - start

    return run


def interleaved(timers, repeats):
    """Best and all seconds of each timer, called in turn, once per repeat."""
    runs = {name: [] for name in timers}
    for _ in range(repeats):
        for name, run in timers.items():
            runs[name].append(run())
    return {name: (min(v), v) for name, v in runs.items()}


class JaxleyWorker:
    """benchmarks/peers/run_jaxley_cable.py --serve in the Jaxley venv.

    It builds and compiles every task on start (``record`` holds its JSON
    sidecar, ``V`` the forward traces per setting); ``time(task, setting)``
    returns the seconds of one call measured inside the worker.
    """

    def __init__(self, python, ncomp, settings, batch, tstop, dt):
        if not Path(python).exists():
            raise SystemExit(
                f"--peers jaxley: no interpreter at {python} "
                "(run bash benchmarks/peers/setup_envs.sh jaxley, or set --peer-envs)"
            )
        self.settings = settings
        self._dir = tempfile.TemporaryDirectory(prefix="hh_jax_cable_jaxley_")
        out = Path(self._dir.name) / "jaxley_cable.npz"
        command = [
            str(python),
            str(JAXLEY_SCRIPT),
            "--serve",
            f"--ncomp={','.join(str(n) for n in ncomp)}",
            f"--settings={','.join(settings)}",
            f"--batch={batch}",
            f"--tstop={tstop}",
            f"--dt={dt}",
            f"--out={out}",
        ]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._reply("ready")
        self.record = json.loads(out.with_suffix(".json").read_text())
        with np.load(out) as data:
            self.V = {s: data[f"V_{s}"] for s in settings}

    def _reply(self, key):
        for line in self._proc.stdout:
            if line.startswith("{"):
                message = json.loads(line)
                if key in message:
                    return message
        raise RuntimeError(
            f"Jaxley worker exited with status {self._proc.wait()} before '{key}' "
            "(its stderr is above)"
        )

    def time(self, task, setting):
        self._proc.stdin.write(f"{task} {setting}\n")
        self._proc.stdin.flush()
        return self._reply("task")["s"]

    def timers(self, task):
        return {f"jaxley_{s}": (lambda s=s: self.time(task, s)) for s in self.settings}

    def close(self):
        if self._proc.poll() is None:
            self._proc.stdin.write("quit\n")
            self._proc.stdin.flush()
            self._proc.wait(timeout=60)
        self._dir.cleanup()


def neuron_row(workload, cable, tstop, dt, results, compile_s, **extra):
    """The row of a workload timed in hh_jax and NEURON: `results` holds the
    (best, all runs) seconds of ``"hh_jax"`` and ``"neuron"``, `compile_s` is
    the seconds of hh_jax's first call (compilation is its excess over the best
    run), `extra` more columns."""
    (ours_s, ours_all), (nrn_s, nrn_all) = results["hh_jax"], results["neuron"]
    return dict(
        workload=workload,
        nodes=cable.num_nodes,
        **extra,
        steps=int(round(tstop / dt)),
        hh_jax_s=ours_s,
        neuron_s=nrn_s,
        hh_jax_over_neuron=ours_s / nrn_s,
        compile_s=compile_s - ours_s,
        runs_hh_jax_s=ours_all,
        runs_neuron_s=nrn_all,
    )


def add_peer_times(row, results, ours_key):
    """Peer rows: seconds, runs and hh_jax's time over theirs."""
    for name, (best, runs) in results.items():
        if name.startswith("jaxley_"):
            row[f"{name}_s"] = best
            row[f"runs_{name}_s"] = runs
            row[f"hh_jax_over_{name}"] = row[ours_key] / best


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


def bench_single(name, d_lambda, tstop, dt, repeats, jaxley=None):
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
    timers = {
        "hh_jax": timed(ours),
        "neuron": timed(lambda: neuron_run(refs, dt, tstop)),
    }
    if jaxley is not None:
        # Jaxley's forward is one jitted call; so is this (no Python entry point).
        jitted = jax.jit(
            lambda c: hc.simulate_cable(c, injection, ts, dt=dt, record=SITES).V
        )
        jax.block_until_ready(jitted(cable))
        timers["hh_jax_jit"] = timed(lambda: jitted(cable))
        timers.update(jaxley.timers("forward"))
    results = interleaved(timers, repeats)
    neuron_clear()
    row = neuron_row(
        name,
        cable,
        tstop,
        dt,
        results,
        compile_s,
        neuron_segments=nseg_nrn,
        max_abs_dV_mV=float(np.max(np.abs(V - V_nrn))),
    )
    if jaxley is not None:
        row["hh_jax_jit_s"], row["runs_hh_jax_jit_s"] = results["hh_jax_jit"]
        add_peer_times(row, results, "hh_jax_jit_s")
    return row


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
    results = dict(
        hh_jax=best_of(ours, repeats),
        neuron=best_of(lambda: neuron_run(refs, dt, tstop), repeats),
    )
    neuron_clear()
    return neuron_row(
        "squid",
        cable,
        tstop,
        dt,
        results,
        compile_s,
        max_abs_dV_mV=float(np.max(np.abs(V - V_nrn))),
    )


def bench_batch(batch, tstop, dt, repeats, jaxley=None):
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

    timers = {"hh_jax": timed(lambda: ours(scales)), "neuron": timed(neuron_batch)}
    if jaxley is not None:
        timers.update(jaxley.timers("batch"))
    results = interleaved(timers, repeats)
    neuron_clear()
    row = neuron_row(
        f"batch of {batch}",
        cable,
        tstop,
        dt,
        results,
        compile_s,
        batch=batch,
    )
    add_peer_times(row, results, "hh_jax_s")
    return row


def bench_gradient(tstop, dt, repeats, neuron_single_s, jaxley=None):
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
    for label, params, suffix in (
        ("5 global parameters", globals_, "5"),
        (f"g_Na per node ({n})", per_node, "node"),
    ):
        start = time.perf_counter()
        jax.block_until_ready(forward(params))
        compile_fwd = time.perf_counter() - start
        start = time.perf_counter()
        jax.block_until_ready(gradient(params))
        compile_grad = time.perf_counter() - start
        timers = {
            "forward": timed(lambda: forward(params)),
            "gradient": timed(lambda: gradient(params)),
        }
        if jaxley is not None:
            for name, run in jaxley.timers(f"loss_{suffix}").items():
                timers[f"{name}_forward"] = run
            for name, run in jaxley.timers(f"grad_{suffix}").items():
                timers[f"{name}_gradient"] = run
        results = interleaved(timers, repeats)
        fwd_s, grad_s = results["forward"][0], results["gradient"][0]
        grad_all = results["gradient"][1]
        P = sum(int(np.size(v)) for v in params.values())
        row = dict(
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
        if jaxley is not None:
            row["jaxley_parameters"] = jaxley.record["parameters"][suffix]
            for setting in jaxley.settings:
                key = f"jaxley_{setting}"
                j_fwd = results[f"{key}_forward"][0]
                j_grad = results[f"{key}_gradient"][0]
                row[f"{key}_forward_s"] = j_fwd
                row[f"{key}_gradient_s"] = j_grad
                row[f"{key}_gradient_over_forward"] = j_grad / j_fwd
                row[f"hh_jax_over_{key}"] = grad_s / j_grad
                row[f"runs_{key}_gradient_s"] = results[f"{key}_gradient"][1]
        out.append(row)
    return out


def neuron_cvode(refs, ts, atol):
    """NEURON's CVODE (global step, rtol 0) with V interpolated at ``ts`` (ms)."""
    cvode = h.CVode()
    cvode.active(1)
    cvode.atol(atol)
    tvec = h.Vector(ts)
    vectors = [h.Vector() for _ in refs]
    for vec, ref in zip(vectors, refs):
        vec.record(ref, tvec)
    h.finitialize(-65.0)
    # CVODE records the last times only when it runs past them.
    h.continuerun(float(ts[-1]) + 2.5 * float(ts[1] - ts[0]))
    cvode.active(0)
    return np.array([np.array(v)[: len(ts)] for v in vectors])


SPIKE_SITES = [(0, "soma", -20.0), (1, "axon", 0.0)]  # (site, label, threshold mV)


def spike_difference(ts, V, V_ref):
    """Per site: spike counts and the largest spike-time difference (ms)."""
    out = {}
    for site, label, threshold in SPIKE_SITES:
        ours = np.asarray(hh.spike_times(ts, V[site], threshold))
        ref = np.asarray(hh.spike_times(ts, V_ref[site], threshold))
        ours, ref = ours[~np.isnan(ours)], ref[~np.isnan(ref)]
        out[f"{label}_spikes"] = [int(ours.size), int(ref.size)]
        k = min(ours.size, ref.size)
        out[f"{label}_max_abs_dt_ms"] = (
            float(np.max(np.abs(ours[:k] - ref[:k]))) if k else float("nan")
        )
    return out


def bench_accuracy(tstop, dt, jaxley=None, atol=1e-8):
    """V at the three sites against NEURON CVODE on the same segments."""
    cable, _ = hh_branched(0.1)
    injection = hc.Injection(hh.PulseTrain(2.0, 1.0, 0.5, 5.0, 3), "soma[0]", 0.5)
    ts = np.arange(0.0, tstop, dt)
    traces = {
        "hh_jax (Crank-Nicolson)": np.asarray(
            hc.simulate_cable(cable, injection, ts, dt=dt, record=SITES).V
        )
    }
    sections, clamps, refs = neuron_branched(0.1, cable.layout.morphology)
    traces["NEURON (Crank-Nicolson)"] = neuron_run(refs, dt, tstop)
    V_ref = neuron_cvode(refs, ts, atol)
    neuron_clear()
    if jaxley is not None:
        for setting, V in jaxley.V.items():
            traces[f"Jaxley ({setting})"] = np.asarray(V)
    ours = traces["hh_jax (Crank-Nicolson)"]
    rows = []
    for name, V in traces.items():
        if V.shape != V_ref.shape:
            raise RuntimeError(f"{name}: V of shape {V.shape}, expected {V_ref.shape}")
        dV = np.max(np.abs(V - V_ref), axis=1)
        rows.append(
            dict(
                workload=f"accuracy: {name}",
                reference=f"NEURON CVODE atol {atol:g} mV, same segments",
                max_abs_dV_mV_per_site=dict(
                    zip([f"{n}({x})" for n, x in SITES], map(float, dV))
                ),
                max_abs_dV_mV=float(dV.max()),
                max_abs_dV_vs_hh_jax_mV=float(np.max(np.abs(V - ours))),
                **spike_difference(ts, V, V_ref),
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "cable.json")
    parser.add_argument(
        "--peers", default="neuron", help="neuron (always) or neuron,jaxley"
    )
    parser.add_argument(
        "--jaxley-settings",
        default="bwd_euler,crank_nicolson",
        help="Jaxley solvers (bwd_euler, crank_nicolson, exp_euler)",
    )
    parser.add_argument(
        "--peer-envs",
        type=Path,
        default=Path(os.environ.get("PEER_ENVS", "/work/peer-envs")),
        help="where setup_envs.sh made the peer venvs",
    )
    args = parser.parse_args(argv)
    peers = set(args.peers.split(","))
    if not peers <= {"neuron", "jaxley"}:
        parser.error(f"--peers: unknown {sorted(peers - {'neuron', 'jaxley'})}")
    repeats = 1 if args.smoke else args.repeats
    tstop, dt = (5.0 if args.smoke else 20.0), 0.025
    batch = 4 if args.smoke else args.batch
    load_start = os.getloadavg()
    jaxley = None
    if "jaxley" in peers:
        ncomp = hc.d_lambda_nseg(hc.load_swc(SWC), R_a=100.0, d_lambda=0.1)
        jaxley = JaxleyWorker(
            args.peer_envs / "jaxley" / "bin" / "python",
            ncomp,
            args.jaxley_settings.split(","),
            batch,
            tstop,
            dt,
        )
    try:
        rows = [bench_single("branched", 0.1, tstop, dt, repeats, jaxley)]
        if not args.smoke:
            rows.append(bench_single("branched_fine", 0.02, tstop, dt, repeats))
        rows.append(bench_squid(repeats, args.smoke))
        rows.append(bench_batch(batch, tstop, dt, repeats, jaxley))
        rows += bench_gradient(tstop, dt, repeats, rows[0]["neuron_s"], jaxley)
        rows += bench_accuracy(tstop, dt, jaxley)
    finally:
        if jaxley is not None:
            jaxley.close()
    meta = dict(
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        load_average_start=load_start,
        load_average=os.getloadavg(),
        jax=jax.__version__,
        backend=jax.default_backend(),
        neuron=h.nrnversion(),
        dtype="float64",
        jaxley=None if jaxley is None else jaxley.record,
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
    if jaxley is not None:
        print_jaxley(rows, jaxley)
    print()
    print(
        "| accuracy (vs NEURON CVODE) | max abs dV (mV) | vs hh_jax (mV) | "
        "soma spikes (-20 mV) | soma max abs dt (ms) | axon spikes (0 mV) | "
        "axon max abs dt (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["workload"].startswith("accuracy"):
            print(
                f"| {r['workload'][10:]} | {r['max_abs_dV_mV']:.2e} | "
                f"{r['max_abs_dV_vs_hh_jax_mV']:.2e} | "
                f"{r['soma_spikes'][0]} / {r['soma_spikes'][1]} | "
                f"{r['soma_max_abs_dt_ms']:.2e} | "
                f"{r['axon_spikes'][0]} / {r['axon_spikes'][1]} | "
                f"{r['axon_max_abs_dt_ms']:.2e} |"
            )
    print(f"wrote {args.out}")


def print_jaxley(rows, jaxley):
    """Markdown: Jaxley's times and hh_jax's over them."""
    rec = jaxley.record
    print()
    print(
        f"Jaxley {rec['version']} (JAX {rec['jax_version']}), "
        f"{rec['compartments']} compartments (ncomp per branch {rec['ncomp']})"
    )
    print("| workload | solver | hh_jax (s) | Jaxley (s) | hh_jax / Jaxley |")
    print("|---|---|---|---|---|")
    for r in rows:
        for s in jaxley.settings:
            key = f"jaxley_{s}"
            if f"{key}_s" in r:
                ours = r.get("hh_jax_jit_s", r["hh_jax_s"])
                jit = " (jitted)" if "hh_jax_jit_s" in r else ""
                print(
                    f"| {r['workload']}{jit} | {s} | {ours:.4f} | "
                    f"{r[key + '_s']:.4f} | {r['hh_jax_over_' + key]:.2f} |"
                )
            if f"{key}_gradient_s" in r:
                print(
                    f"| {r['workload']} (hh_jax P {r['parameters']}, Jaxley P "
                    f"{r['jaxley_parameters']}) | {s} | {r['hh_jax_gradient_s']:.4f} "
                    f"(grad/fwd {r['gradient_over_forward']:.1f}) | "
                    f"{r[key + '_gradient_s']:.4f} (grad/fwd "
                    f"{r[key + '_gradient_over_forward']:.1f}) | "
                    f"{r['hh_jax_over_' + key]:.2f} |"
                )


if __name__ == "__main__":
    main()
