"""The branched test cell in Jaxley: forward, batch and gradient times, V at 3 sites.

Runs inside the Jaxley venv (``/work/peer-envs/jaxley``, see ``setup_envs.sh``);
``benchmarks/cable.py --peers neuron,jaxley`` drives it through ``--serve``.
The cell and protocol are those of ``benchmarks/cable.py``:

- ``tests/data/branched_cell.swc`` read by ``jx.read_swc`` (13 branches, the same
  as hh_jax's and NEURON's sections, in the same order); ``--ncomp`` compartments
  per branch (comma list, one per branch, or one number for all). The driver
  passes hh_jax's d_lambda counts (d_lambda 0.1 at 100 Hz), so both have the same
  segments per section. Jaxley's compartments are cylinders of the length-weighted
  mean radius with frustum areas and axial loads from the SWC points; children
  of the one-point soma attach to its end, half its axial resistance away from
  its node (hh_jax and NEURON: to its middle, the soma node itself); Jaxley's
  branch points are extra nodes without membrane.
- ``HH`` in soma and axon (g_Na 0.12, g_K 0.036, g_L 0.0003 S/cm^2, E_Na 50,
  E_K -77, E_L -54.387 mV) and ``Leak`` in the dendrites (1e-4 S/cm^2, -65 mV);
  R_a 100 ohm*cm, C_m 1 uF/cm^2, V starts at -65 mV with gates at steady state.
- Temperature: Jaxley's ``HH`` has no temperature factor (its rates are those of
  6.3 degC); the channel here multiplies every alpha and beta by
  3 ** ((18.5 - 6.3) / 10), as NEURON's hh.mod and hh_jax do at 18.5 degC.
- Stimulus: three 0.5 ms pulses of 2 nA into soma(0.5) starting at 1, 6, 11 ms;
  the current of step k (t_k to t_k + dt) is on when the step's midpoint lies in
  a pulse (the pulse edges are on the grid). 20 ms at dt 0.025 ms, float64.
- Recording: soma[0](0.5), axon[0](0.95), dend[4](0.9) = branches 0, 12, 5 via
  ``branch(b).loc(x)`` (the compartment containing x, as in hh_jax and NEURON).

Tasks per solver (``--settings``: ``bwd_euler``, Jaxley's default, implicit Euler
for V with exponential-Euler gates; ``crank_nicolson``; ``exp_euler``):
``forward`` (one ``jit``-ted ``integrate``), ``batch`` (``jit(vmap)`` over
``--batch`` values of g_Na in soma and axon, 0.8x to 1.2x), ``loss_5`` and
``grad_5`` (the trace loss of benchmarks/cable.py, mean squared difference of V
at the three sites from a target made with g_Na 0.11 S/cm^2, and its
``jax.grad`` with respect to g_Na, g_K, g_L of the HH compartments, R_a and C_m,
all shared) and ``loss_node`` / ``grad_node`` (the same with g_Na one parameter
per HH compartment, plus the other four). Every task is compiled once
(``compile_s``: the first call, minus one timed call) and then timed
(``block_until_ready``, best of ``--repeats``).

    python run_jaxley_cable.py --ncomp 1,7,7,11,7,7,5,9,9,9,7,7,53 --out cable.npz
    python run_jaxley_cable.py ... --serve   # JSON lines: '<task> <setting>' -> time

Writes ``--out`` (npz: ``t``, ``V_<setting>`` of shape (3, T), mV) and a JSON
sidecar with the same stem (timings, compile times, ncomp, versions).
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SWC = ROOT / "tests" / "data" / "branched_cell.swc"
SITES = [("soma[0]", 0, 0.5), ("axon[0]", 12, 0.95), ("dend[4]", 5, 0.9)]
CELSIUS = 18.5
PHI = 3.0 ** ((CELSIUS - 6.3) / 10.0)
PULSES = [(1.0 + 5.0 * k, 0.5) for k in range(3)]  # (start, duration), ms
I_AMP = 2.0  # nA
G_NA, G_K, G_L = 0.12, 0.036, 0.0003  # S/cm^2 (HH compartments)
G_PAS, E_PAS = 1e-4, -65.0  # S/cm^2, mV (dendrites)
R_A, C_M, V_INIT = 100.0, 1.0, -65.0  # ohm*cm, uF/cm^2, mV
G_NA_TARGET = 0.11  # S/cm^2, the target trace of the gradient loss
SETTINGS = ("bwd_euler", "crank_nicolson", "exp_euler")
TASKS = ("forward", "batch", "loss_5", "grad_5", "loss_node", "grad_node")


def parse_ncomp(text, nbranch):
    """Compartments per branch from '7' or '1,7,7,...' (one per branch)."""
    values = [int(v) for v in text.split(",")]
    if len(values) == 1:
        values = values * nbranch
    if len(values) != nbranch or min(values) < 1:
        raise SystemExit(
            f"--ncomp: need 1 or {nbranch} positive counts (one per branch), "
            f"got {text!r}"
        )
    return values


def build_cell(jx, hh_class, ncomp_text):
    """The branched cell with channels, stimulus and recordings, no trainables."""
    from jaxley.channels import Leak

    cell = jx.read_swc(str(SWC), ncomp=1)
    ncomp = parse_ncomp(ncomp_text, cell.total_nbranches)
    for b, n in enumerate(ncomp):
        if n != 1:
            cell.branch(b).set_ncomp(n, initialize=False)
    cell.initialize()
    cell.set("axial_resistivity", R_A)
    cell.set("capacitance", C_M)
    cell.set("v", V_INIT)
    for group in (cell.soma, cell.axon):
        group.insert(hh_class(name="HH"))
    for group in (cell.basal, cell.apical):
        group.insert(Leak())
    cell.set("HH_gNa", G_NA)
    cell.set("HH_gK", G_K)
    cell.set("HH_gLeak", G_L)
    cell.set("HH_eNa", 50.0)
    cell.set("HH_eK", -77.0)
    cell.set("HH_eLeak", -54.387)
    cell.set("Leak_gLeak", G_PAS)
    cell.set("Leak_eLeak", E_PAS)
    cell.init_states()
    for _, branch, x in SITES:
        cell.branch(branch).loc(x).record("v", verbose=False)
    return cell, ncomp


def stimulus(dt, nsteps):
    """Current (nA) of each step: on where the step's midpoint is inside a pulse."""
    mid = (np.arange(nsteps) + 0.5) * dt
    on = np.zeros(nsteps, bool)
    for start, dur in PULSES:
        on |= (mid > start) & (mid < start + dur)
    return np.where(on, I_AMP, 0.0)


def make_hh_class(jx_hh):
    """Jaxley's HH with every rate multiplied by the Q10 factor at CELSIUS."""

    class HHAtTemperature(jx_hh):
        @staticmethod
        def m_gate(v):
            a, b = jx_hh.m_gate(v)
            return PHI * a, PHI * b

        @staticmethod
        def h_gate(v):
            a, b = jx_hh.h_gate(v)
            return PHI * a, PHI * b

        @staticmethod
        def n_gate(v):
            a, b = jx_hh.n_gate(v)
            return PHI * a, PHI * b

    return HHAtTemperature


class Workloads:
    """Compiled callables of every task for one solver."""

    def __init__(self, jax, jnp, jx, hh_class, args, solver):
        dt, nsteps = args.dt, int(round(args.tstop / args.dt))
        self.nsteps = nsteps
        current = jnp.asarray(stimulus(dt, nsteps))
        n_samples = nsteps  # t = 0, dt, ..., tstop - dt (benchmarks/cable.py's grid)

        def prepared(trainables):
            cell, ncomp = build_cell(jx, hh_class, args.ncomp)
            cell.branch(0).loc(0.5).stimulate(current, verbose=False)
            for view, name in trainables(cell):
                view.make_trainable(name, verbose=False)
            return cell, ncomp

        def run(cell, params):
            v = jx.integrate(cell, params=params, delta_t=dt, solver=solver)
            return v[:, :n_samples]

        self.cell, self.ncomp = prepared(lambda c: [(c, "HH_gNa")])
        cell = self.cell
        self.num_comps = int(sum(self.ncomp))
        forward = jax.jit(lambda g: run(cell, [{"HH_gNa": jnp.reshape(g, (1,))}]))
        g_batch = jnp.asarray(G_NA * np.linspace(0.8, 1.2, args.batch))
        batch = jax.jit(jax.vmap(lambda g: run(cell, [{"HH_gNa": g[None]}])))
        self.jax = jax
        self.calls = {"forward": lambda: forward(jnp.asarray(G_NA))}
        self.compile_s, self.first = {}, {}
        self._compile("forward")
        self.V = np.asarray(self.first["forward"], dtype=np.float64)
        self.parameters, self.grad_5 = {}, {}
        if args.forward_only:
            return
        target = forward(jnp.asarray(G_NA_TARGET))

        shared = ["HH_gK", "HH_gLeak", "axial_resistivity", "capacitance"]
        cell5, _ = prepared(lambda c: [(c, "HH_gNa")] + [(c, s) for s in shared])
        cell_node, _ = prepared(
            lambda c: (
                [(c.soma.comp("all"), "HH_gNa"), (c.axon.comp("all"), "HH_gNa")]
                + [(c, s) for s in shared]
            )
        )

        def loss_fn(cell):
            def loss(params):
                return jnp.mean((run(cell, params) - target) ** 2)

            return loss

        p5, p_node = cell5.get_parameters(), cell_node.get_parameters()
        self.parameters = {
            "5": sum(int(np.size(v)) for d in p5 for v in d.values()),
            "node": sum(int(np.size(v)) for d in p_node for v in d.values()),
        }
        loss5, loss_node = jax.jit(loss_fn(cell5)), jax.jit(loss_fn(cell_node))
        grad5 = jax.jit(jax.grad(loss_fn(cell5)))
        grad_node = jax.jit(jax.grad(loss_fn(cell_node)))
        self.calls.update(
            batch=lambda: batch(g_batch),
            loss_5=lambda: loss5(p5),
            grad_5=lambda: grad5(p5),
            loss_node=lambda: loss_node(p_node),
            grad_node=lambda: grad_node(p_node),
        )
        for task in TASKS[1:]:
            self._compile(task)
        self.grad_5 = {
            k: float(np.asarray(v).ravel()[0])
            for d in self.first["grad_5"]
            for k, v in d.items()
        }

    def _compile(self, task):
        start = time.perf_counter()
        self.first[task] = self.jax.block_until_ready(self.calls[task]())
        first_s = time.perf_counter() - start
        self.compile_s[task] = first_s - self.time(task)

    def time(self, task):
        """Seconds of one call of the compiled task (block_until_ready)."""
        fn = self.calls[task]
        start = time.perf_counter()
        self.jax.block_until_ready(fn())
        return time.perf_counter() - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ncomp", default="1,7,7,11,7,7,5,9,9,9,7,7,53")
    p.add_argument("--settings", default="bwd_euler,crank_nicolson")
    p.add_argument("--batch", type=int, default=32, help="parameter sets")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--tstop", type=float, default=20.0, help="ms")
    p.add_argument("--dt", type=float, default=0.025, help="ms")
    p.add_argument("--out", type=Path, required=True, help="npz; JSON beside it")
    p.add_argument("--serve", action="store_true", help="time tasks on request")
    p.add_argument(
        "--forward-only", action="store_true", help="only the forward run (faster)"
    )
    args = p.parse_args(argv)
    settings = args.settings.split(",")
    for s in settings:
        if s not in SETTINGS:
            p.error(f"--settings: unknown solver {s!r} (one of {SETTINGS})")

    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jaxley as jx
    from jaxley.channels import HH

    hh_class = make_hh_class(HH)
    start = time.perf_counter()
    work = {s: Workloads(jax, jnp, jx, hh_class, args, s) for s in settings}
    setup_s = time.perf_counter() - start
    first = work[settings[0]]
    t = np.arange(first.nsteps) * args.dt
    record = dict(
        system="Jaxley",
        version=jx.__version__,
        jax_version=jax.__version__,
        backend=jax.default_backend(),
        dtype="float64",
        python_executable=sys.executable,
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        ncomp=first.ncomp,
        compartments=first.num_comps,
        parameters=first.parameters,
        nodes_with_branch_points=int(first.cell._n_nodes),
        sites=[f"{name}({x}) = branch {b}" for name, b, x in SITES],
        temperature_factor=PHI,
        batch=args.batch,
        dt_ms=args.dt,
        tstop_ms=args.tstop,
        setup_s=setup_s,
        compile_s={s: w.compile_s for s, w in work.items()},
        grad_5={s: w.grad_5 for s, w in work.items()},
        compile_what="first call of jax.jit(...) minus one timed call",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, t=t, **{f"V_{s}": w.V for s, w in work.items()})
    sidecar = args.out.with_suffix(".json")
    if args.serve:
        sidecar.write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(dict(ready=True, json=str(sidecar))), flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words or words[0] == "quit":
                break
            task, setting = words
            seconds = work[setting].time(task)
            print(json.dumps(dict(task=task, setting=setting, s=seconds)), flush=True)
        return
    wall = {}
    for s, w in work.items():
        wall[s] = {}
        for task in w.calls:
            times = [w.time(task) for _ in range(args.repeats)]
            wall[s][task] = dict(best_s=min(times), runs_s=times)
    record.update(wall_s=wall, load_average=os.getloadavg())
    sidecar.write_text(json.dumps(record, indent=2) + "\n")
    for s in settings:
        row = {k: f"{v['best_s']:.4f}" for k, v in wall[s].items()}
        print(s, row)


if __name__ == "__main__":
    main()
