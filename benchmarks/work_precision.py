"""Work–precision of hh_jax's solver settings against the NEURON reference traces.

For each solver and tolerance, every case of ``shared/reference/neuron_hh`` is
simulated on the reference's own 0.01 ms grid; spike times of both traces come from
the same interpolation (``hh_jax.spike_times``), so the grid itself adds no error.
Reports the spike-count errors, the largest spike-time error (ms), the largest
voltage difference (mV) and the wall time of all cases after compilation.

    python benchmarks/work_precision.py [--reference DIR] [--out FILE.json]
"""

import argparse
import json
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import diffrax as dfx  # noqa: E402
import numpy as np  # noqa: E402

import hh_jax as hh  # noqa: E402
from hh_jax.reference import load_reference_case  # noqa: E402

SOLVERS = {
    "Tsit5": dfx.Tsit5(),
    "Dopri5": dfx.Dopri5(),
    "Dopri8": dfx.Dopri8(),
    "Bosh3": dfx.Bosh3(),
}
TOLERANCES = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
# (rtol, atol) pairs tried for Tsit5 besides rtol = atol; the default is (1e-5, 1e-6).
TSIT5_PAIRS = ((1e-5, 1e-6), (1e-5, 1e-7), (1e-6, 1e-8))

DEFAULT_REFERENCE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference"


def measure(cases, solver, tol, repeats=5, atol=None, rk4_dt=None):
    worst_time, worst_V, count_errors, steps = 0.0, 0.0, 0, 0
    atol = tol if atol is None else atol
    if rk4_dt is None:
        run = lambda c: hh.simulate(  # noqa: E731
            c.model,
            c.stimulus,
            c.t,
            y0=c.y0,
            solver=solver,
            rtol=tol,
            atol=atol,
            gates=False,
            throw=False,
        )
    else:
        run = lambda c: hh.simulate_fixed(  # noqa: E731
            c.model, c.stimulus, c.t, y0=c.y0, dt=rk4_dt
        )
    for c in cases:  # compile every shape first
        run(c).V.block_until_ready()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        traces = [run(c) for c in cases]
        for tr in traces:
            tr.V.block_until_ready()
        best = min(best, time.perf_counter() - start)
    for c, tr in zip(cases, traces):
        if int(tr.status) != 0:
            return dict(failed=hh.Status(int(tr.status)).message)
        V = np.asarray(tr.V)
        n_ref, n_sim = int(hh.spike_count(c.V, 0.0)), int(hh.spike_count(V, 0.0))
        count_errors += abs(n_ref - n_sim)
        n = min(n_ref, n_sim)
        if n:
            ref_t = np.asarray(hh.spike_times(c.t, c.V, 0.0))[:n]
            sim_t = np.asarray(hh.spike_times(c.t, V, 0.0))[:n]
            worst_time = max(worst_time, float(np.max(np.abs(ref_t - sim_t))))
        worst_V = max(worst_V, float(np.max(np.abs(V - c.V))))
        steps += int(tr.num_steps)
    return dict(
        count_errors=count_errors,
        max_spike_time_error_ms=worst_time,
        max_abs_V_error_mV=worst_V,
        wall_time_s=best,
        accepted_steps=steps,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--out", type=Path, default=Path("results/work_precision.json"))
    parser.add_argument("--solvers", nargs="*", default=list(SOLVERS))
    parser.add_argument("--tolerances", nargs="*", type=float, default=TOLERANCES)
    args = parser.parse_args()
    files = sorted((args.reference / "neuron_hh").glob("*.npz"))
    cases = [load_reference_case(f) for f in files]
    rows = []
    print(
        "| solver | rtol (= atol unless stated) | count errors "
        "| max spike-time error (ms) | max abs V error (mV) | steps "
        "| wall time, 9 cases (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    runs = [(n, SOLVERS[n], t, t, None) for n in args.solvers for t in args.tolerances]
    runs += [("Tsit5", SOLVERS["Tsit5"], r, a, None) for r, a in TSIT5_PAIRS]
    for name, solver, rtol, atol, dt in runs:
        r = measure(cases, solver, rtol, atol=atol, rk4_dt=dt)
        label = (
            f"dt = {dt:g} ms"
            if dt
            else (f"{rtol:g}" if rtol == atol else f"rtol {rtol:g}, atol {atol:g}")
        )
        rows.append(dict(solver=name, setting=label, **r))
        if "failed" in r:
            print(f"| {name} | {label} | failed: {r['failed']} | | | | |")
            continue
        print(
            f"| {name} | {label} | {r['count_errors']} | "
            f"{r['max_spike_time_error_ms']:.2e} | {r['max_abs_V_error_mV']:.2e} | "
            f"{r['accepted_steps']} | {1e3 * r['wall_time_s']:.1f} |",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(dict(machine=_machine(), rows=rows), indent=1))


def _machine():
    import os
    import platform

    return dict(
        platform=platform.platform(),
        processor=platform.processor(),
        cpus=os.cpu_count(),
        jax=jax.__version__,
        device=str(jax.devices()[0]),
    )


if __name__ == "__main__":
    main()
