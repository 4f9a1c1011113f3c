"""Run the peer simulators on W(N) and on the accuracy set W_acc = W(101).

For every peer (SciPy, NEURON, Brian2, Jaxley) and setting, runs
``run_<peer>.py`` in the peer's own virtual environment (made by
``setup_envs.sh``) as a subprocess with a timeout:

- throughput runs: W(N) for each N of ``--sizes``, V saved every 0.1 ms;
- one accuracy run: W(101) saved at the peer's native resolution (fixed-step
  settings every step, 0.025 ms; variable-step and small-step settings every
  0.01 ms).

Spike times of every accuracy run come from one common method,
``hh_jax.spike_times`` (cubic interpolation between samples, float64), and are
compared with a tight SciPy reference (``reference.py``: DOP853, rtol = atol =
1e-11, exact event-detected 0 mV crossings), cached in
``results/peers/reference_W101.npz``.

Writes ``results/peers/peers.json`` (a list of records: one per subprocess run,
``kind`` = "throughput" | "accuracy" | "check", with ``status`` = "ok" |
"skipped" | "unavailable" | "failed" | "timeout") and ``results/peers/peers.md``
(the summary table, also printed). Raw V traces go to ``--work-dir`` (outside the
repository; large) and are deleted unless ``--keep-traces``.

    python benchmarks/peers/driver.py [--sizes 1,100,1000,10000] [--peers neuron,...]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import hh_jax  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import reference  # noqa: E402
import workload as w  # noqa: E402

# Per setting: the accuracy run's save_dt (ms), and the largest N timed (larger
# sizes are recorded as skipped, with the reason).
PEERS = {
    "scipy": dict(
        system="SciPy",
        env=None,  # the driver's own interpreter (the main venv)
        module="scipy",
        settings={
            "odeint": dict(acc_save_dt=0.01, max_n=1000, why="~20 ms per neuron"),
            "dop853_1e-9": dict(acc_save_dt=0.01, max_n=100, why="~0.14 s per neuron"),
        },
    ),
    "neuron": dict(
        system="NEURON",
        env="neuron",
        module="neuron",
        settings={
            "fixed_dt0.025": dict(acc_save_dt=0.025),
            "cvode_1e-6": dict(acc_save_dt=0.01),
            "cvode_1e-8": dict(
                acc_save_dt=0.01,
                max_n=1000,
                why="global CVODE at N=10000 takes several minutes",
            ),
        },
    ),
    "brian2": dict(
        system="Brian2",
        env="brian2",
        module="brian2",
        settings={
            "expeuler_dt0.025": dict(acc_save_dt=0.025),
            "expeuler_dt0.025_1thread": dict(acc_save_dt=0.025),
            "rk4_dt0.01": dict(
                acc_save_dt=0.01,
                max_n=1000,
                why="~1 min at N=10000 on an idle machine, several under load",
            ),
        },
    ),
    "jaxley": dict(
        system="Jaxley",
        env="jaxley",
        module="jaxley",
        settings={
            "exp_euler_f32": dict(acc_save_dt=0.025),
            "exp_euler_f64": dict(acc_save_dt=0.025),
            "bwd_euler_f32": dict(acc_save_dt=0.025),
        },
    ),
}

NEURON_REFERENCE = ROOT.parent / "shared/reference/neuron_hh/step_10.npz"


def peer_python(peer: dict, envs: Path) -> Path:
    if peer["env"] is None:
        return Path(sys.executable)
    return envs / peer["env"] / "bin" / "python"


def check_available(peer: dict, python: Path):
    """(True, version) or (False, reason)."""
    if not python.exists():
        return False, f"no interpreter at {python} (run setup_envs.sh)"
    mod = peer["module"]
    try:
        res = subprocess.run(
            [str(python), "-c", f"import {mod}; print({mod}.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return False, f"importing {mod} timed out"
    if res.returncode != 0:
        return False, f"import {mod} failed: {res.stderr.strip()[-500:]}"
    return True, res.stdout.strip().splitlines()[-1]


def cpu_busy(interval: float = 1.0) -> float:
    """Fraction of all CPUs busy over the next `interval` seconds (/proc/stat)."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v) - idle, sum(v)

    try:
        b0, t0 = sample()
        time.sleep(interval)
        b1, t1 = sample()
    except OSError:
        return float("nan")
    return (b1 - b0) / max(t1 - t0, 1)


def wait_for_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (up to `max_wait` s) until other work leaves the CPUs nearly idle, so
    that timings are not taken while the shared machine is busy; return the last
    measured busy fraction."""
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy


def run_peer(python, peer_name, setting, n, save_dt, out, timeout, repeats, quiet=0):
    """Run one peer script; return its JSON record (or a failure record)."""
    cmd = [
        str(python),
        str(HERE / f"run_{peer_name}.py"),
        "--n",
        str(n),
        "--setting",
        setting,
        "--save-dt",
        repr(save_dt),
        "--out",
        str(out),
        "--repeats",
        str(repeats),
    ]
    record = dict(N=n, save_dt_ms=save_dt, command=" ".join(cmd))
    if quiet > 0:
        record["cpu_busy_before_run"] = wait_for_quiet(quiet)
    record["loadavg_at_start"] = list(os.getloadavg())
    start = time.perf_counter()
    try:
        res = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE
        )
    except subprocess.TimeoutExpired:
        record.update(status="timeout", reason=f"exceeded the {timeout} s timeout")
        return record
    finally:
        record["process_wall_s"] = time.perf_counter() - start
    sidecar = Path(out).with_suffix(".json")
    if res.returncode != 0 or not sidecar.exists():
        tail = (res.stderr or res.stdout).strip()[-1500:]
        record.update(status="failed", reason=f"exit code {res.returncode}: {tail}")
        return record
    record.update(json.loads(sidecar.read_text()))
    return record


def count_spikes(V):
    return np.sum((V[:, :-1] < 0.0) & (V[:, 1:] >= 0.0), axis=1)


def compare_spikes(sim: np.ndarray, ref: np.ndarray) -> dict:
    """Spike-time errors of `sim` against `ref` (both (N, S) NaN-padded)."""
    c_sim = np.sum(~np.isnan(sim), axis=1)
    c_ref = np.sum(~np.isnan(ref), axis=1)
    width = max(sim.shape[1], ref.shape[1])
    pad = lambda a: np.pad(  # noqa: E731
        a, ((0, 0), (0, width - a.shape[1])), constant_values=np.nan
    )
    err = np.abs(pad(sim) - pad(ref))  # in-order pairs; NaN where either is absent
    good = c_sim == c_ref
    matched = err[good]
    matched = matched[~np.isnan(matched)]
    paired = err[~np.isnan(err)]
    return dict(
        count_errors=int(np.sum(~good)),
        count_error_neurons=[int(k) for k in np.nonzero(~good)[0]],
        max_spike_err_ms=float(matched.max()) if matched.size else None,
        mean_spike_err_ms=float(matched.mean()) if matched.size else None,
        max_spike_err_all_pairs_ms=float(paired.max()) if paired.size else None,
        spikes_ref=int(c_ref.sum()),
        spikes_sim=int(c_sim.sum()),
    )


def spike_times(t, V):
    return np.asarray(hh_jax.spike_times(np.asarray(t), np.asarray(V), 0.0))


def accuracy_metrics(npz: Path, ref: dict) -> dict:
    with np.load(npz) as d:
        t, V, g = d["t"], d["V"], d["g_na"]
    if not np.allclose(g, ref["g_na"]):
        raise ValueError("accuracy run used other g_Na values than the reference")
    metrics = compare_spikes(spike_times(t, V), ref["spike_times"])
    # Voltage error on the samples shared with the reference's 0.01 ms grid.
    k = np.rint(t / 0.01).astype(int)
    on_grid = np.abs(k * 0.01 - t) < 1e-9
    dv = np.abs(V[:, on_grid] - ref["V"][:, k[on_grid]])
    metrics["max_abs_dV_mV"] = float(dv.max())
    return metrics


def shared_neuron_step10():
    """Spike times (1, S) of the shared NEURON 9.0.2 trace for g_Na = 120, or None."""
    if not NEURON_REFERENCE.exists():
        return None
    with np.load(NEURON_REFERENCE) as d:
        return spike_times(d["t"], d["V"][None])


def vs_shared_neuron(npz: Path, ref: dict) -> dict | None:
    """Compare the g_Na = 120 member of an accuracy run with the shared trace."""
    nrn = shared_neuron_step10()
    if nrn is None:
        return None
    k = int(np.argmin(np.abs(ref["g_na"] - 120.0)))
    with np.load(npz) as d:
        ours = spike_times(d["t"], d["V"][k : k + 1])
    res = compare_spikes(ours, nrn)
    return dict(
        max_spike_err_ms=res["max_spike_err_ms"], count_errors=res["count_errors"]
    )


def checks(ref: dict) -> list:
    """Sanity checks of the reference."""
    out = []
    # The common spike-time method on the reference's own 0.01 ms trace.
    grid = compare_spikes(spike_times(ref["t"], ref["V"]), ref["spike_times"])
    out.append(
        dict(
            kind="check",
            name="cubic spike times on the reference's 0.01 ms grid vs its events",
            status="ok",
            **grid,
        )
    )
    nrn = shared_neuron_step10()
    if nrn is not None:
        k = int(np.argmin(np.abs(ref["g_na"] - 120.0)))
        rec = compare_spikes(nrn, ref["spike_times"][k : k + 1])
        out.append(
            dict(
                kind="check",
                name="reference (g_Na=120) vs shared NEURON 9.0.2 step_10 "
                "(usetable_hh=0, CVODE 1e-9)",
                status="ok",
                **rec,
            )
        )
    return out


def fmt(x, digits=2):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    return f"{x:.{digits}g}"


def table(records: list, sizes: list) -> str:
    rows = []
    head = (
        "| System | Setting | dtype | threads | compile/build (s) | "
        + " | ".join(f"N={n}" for n in sizes)
        + " | max spike err (ms) | count errors (of 101) |"
    )
    rows.append(head)
    rows.append("|" + "---|" * (7 + len(sizes)))
    keys = []
    for r in records:
        if r.get("kind") in ("throughput", "accuracy"):
            key = (r["system"], r["setting"])
            if key not in keys:
                keys.append(key)
    for system, setting in keys:
        mine = [
            r for r in records if r.get("system") == system and r["setting"] == setting
        ]
        thr = {r["N"]: r for r in mine if r["kind"] == "throughput"}
        acc = next((r for r in mine if r["kind"] == "accuracy"), {})
        ok = [r for r in mine if r.get("status") == "ok"]
        if not ok:
            reason = mine[0].get("reason", "")
            rows.append(
                f"| {system} | {setting} | – | – | – | "
                + " | ".join(mine[0]["status"] for _ in sizes)
                + f" | {mine[0]['status']}: {reason[:60]} | – |"
            )
            continue
        compiles = [r["compile_s"] for r in ok if r.get("compile_s") is not None]
        cells = []
        for n in sizes:
            r = thr.get(n)
            if r is None:
                cells.append("–")
            elif r["status"] == "ok":
                cells.append(f"{r['throughput_neuron_ms_per_s']:.2g}")
            else:
                cells.append(r["status"])
        err = acc.get("max_spike_err_ms") if acc.get("status") == "ok" else None
        cnt = acc.get("count_errors") if acc.get("status") == "ok" else None
        compile_txt = (
            f"{min(compiles):.2g}–{max(compiles):.2g}"
            if compiles and max(compiles) > 1.5 * min(compiles) + 0.01
            else (f"{np.median(compiles):.2g}" if compiles else "–")
        )
        rows.append(
            f"| {system} | {setting} | {ok[0]['dtype']} | {ok[0]['threads']} | "
            f"{compile_txt} | "
            + " | ".join(cells)
            + f" | {fmt(err)} | {cnt if cnt is not None else acc.get('status', '–')} |"
        )
    return "\n".join(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1,100,1000,10000")
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated")
    p.add_argument(
        "--settings", default="", help="comma-separated subset of settings (all)"
    )
    p.add_argument(
        "--envs",
        type=Path,
        default=Path(os.environ.get("PEER_ENVS", "/work/peer-envs")),
    )
    p.add_argument("--timeout", type=float, default=300.0, help="per run (s)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=15.0,
        help="before each timed run with N >= 100, wait up to this long (s) for the "
        "CPUs to be idle (0: don't wait)",
    )
    p.add_argument("--no-accuracy", action="store_true")
    p.add_argument("--no-caps", action="store_true", help="ignore the max_n caps")
    p.add_argument("--out-dir", type=Path, default=ROOT / "results/peers")
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/hh_jax_peers"))
    p.add_argument("--keep-traces", action="store_true")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    only = {s for s in args.settings.split(",") if s}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    args.work_dir.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    ref = reference.load_or_compute(args.out_dir / "reference_W101.npz")
    records = []
    for peer_name in args.peers.split(","):
        peer = PEERS[peer_name]
        python = peer_python(peer, args.envs)
        ok, info = check_available(peer, python)
        base = dict(system=peer["system"], python=str(python))
        print(f"== {peer['system']}: {'version ' + info if ok else info}", flush=True)
        for setting, cfg in peer["settings"].items():
            if only and setting not in only:
                continue
            base_s = dict(base, setting=setting)
            if not ok:
                for kind in ("throughput", "accuracy"):
                    records.append(
                        dict(base_s, kind=kind, status="unavailable", reason=info)
                    )
                continue
            for n in sizes:
                rec = dict(base_s, kind="throughput", N=n)
                max_n = cfg.get("max_n")
                if max_n is not None and n > max_n and not args.no_caps:
                    rec.update(
                        status="skipped",
                        reason=f"size cap N <= {max_n} ({cfg['why']}); keeps the "
                        "full run within ~30 min on 2 cores",
                    )
                else:
                    out = args.work_dir / f"{peer_name}_{setting}_N{n}.npz"
                    rec.update(
                        run_peer(
                            python,
                            peer_name,
                            setting,
                            n,
                            w.SAVE_DT,
                            out,
                            args.timeout,
                            args.repeats,
                            quiet=args.quiet_wait if n >= 100 else 0.0,
                        )
                    )
                    rec["kind"] = "throughput"
                    if rec["status"] == "ok":
                        with np.load(out) as d:
                            rec["spikes_total"] = int(count_spikes(d["V"]).sum())
                        if not args.keep_traces:
                            out.unlink()
                _report(rec)
                records.append(rec)
            if args.no_accuracy:
                continue
            out = args.work_dir / f"{peer_name}_{setting}_acc.npz"
            rec = dict(base_s, kind="accuracy", N=w.N_ACC)
            rec.update(
                run_peer(
                    python,
                    peer_name,
                    setting,
                    w.N_ACC,
                    cfg["acc_save_dt"],
                    out,
                    args.timeout,
                    1,
                )
            )
            rec["kind"] = "accuracy"
            if rec["status"] == "ok":
                rec.update(accuracy_metrics(out, ref))
                if peer_name == "neuron":  # the classic set-up check (units, area)
                    rec["vs_shared_neuron_step10"] = vs_shared_neuron(out, ref)
                if not args.keep_traces:
                    out.unlink()
            _report(rec)
            records.append(rec)
    records.extend(checks(ref))
    for r in records:
        if r["kind"] == "check":
            print(
                f"check: {r['name']}: max {fmt(r['max_spike_err_ms'])} ms, "
                f"count errors {r['count_errors']}"
            )
    meta = dict(
        kind="meta",
        status="ok",
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        python=platform.python_version(),
        sizes=sizes,
        total_wall_s=time.perf_counter() - started,
        reference=str(ref.get("info", "")),
        hh_jax_spike_times="hh_jax.spike_times(t, V, 0.0), float64",
        notes="throughput = N * 120 ms / wall_s (neuron*ms/s); wall_s is the best "
        "of the repeats of the simulation proper (see each record's wall_excludes)",
    )
    records.insert(0, meta)
    (args.out_dir / "peers.json").write_text(json.dumps(records, indent=1))
    md = table(records, sizes)
    (args.out_dir / "peers.md").write_text(
        "Throughput in neuron·ms/s (simulated ms × neurons per wall second); "
        "accuracy on W(101) against the DOP853 1e-11 reference.\n\n" + md + "\n"
    )
    print(md)
    print(f"total {meta['total_wall_s']:.0f} s; wrote {args.out_dir / 'peers.json'}")


def _report(rec):
    what = f"{rec['system']} {rec['setting']} N={rec.get('N')} {rec['kind']}"
    if rec["status"] != "ok":
        print(f"  {what}: {rec['status']} ({rec.get('reason', '')[:200]})", flush=True)
        return
    line = (
        f"  {what}: wall {rec['wall_s']:.3g} s, "
        f"{rec['throughput_neuron_ms_per_s']:.3g} neuron*ms/s, "
        f"compile {fmt(rec.get('compile_s'))} s"
    )
    if rec["kind"] == "accuracy":
        line += (
            f"; max spike err {fmt(rec['max_spike_err_ms'])} ms, "
            f"count errors {rec['count_errors']}"
        )
        if rec.get("vs_shared_neuron_step10"):
            line += (
                "; g_Na=120 vs shared NEURON step_10: "
                f"{fmt(rec['vs_shared_neuron_step10']['max_spike_err_ms'])} ms"
            )
    print(line, flush=True)


if __name__ == "__main__":
    main()
