"""The benchmark, one command: hh_jax and its peers on the same work, side by side.

Workload W(N): N HH neurons, g_Na evenly over [100, 140] mS/cm^2, 10 uA/cm^2 step
from 5 to 105 ms, 120 ms simulated, V saved every 0.1 ms.

- hh_jax: each configuration (``hh_jax_worker.CONFIGS``) and size in a fresh
  process (throughput, compile time), accuracy on W(1000) (or W(101)) against
  the DOP853 reference, and the reverse-mode gradient of a trace MSE (time over forward,
  peak memory).
- peers (NEURON, Brian2, Jaxley, SciPy): ``peers/driver.py`` in their own
  environments, or its last results with ``--reuse-peers``.

Writes ``results/benchmark.json``, ``results/benchmark.md`` (the table, printed
too), ``results/work_precision.png`` and ``results/throughput.png``.

    python benchmarks/run.py                      # full: N up to 1e4, ~30 min
    python benchmarks/run.py --smoke              # CI-sized: small N, no peers
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from hh_jax_worker import CONFIGS  # noqa: E402

# The default path (method "auto") and a fixed-step one.
GRADIENT_CONFIGS = ("batch-defaults-f64", "rk4-f64-dt0.05")


def _worker(config, n, kind, out_dir, reference, timeout):
    out = out_dir / f"{config}_{kind}_{n}.json"
    cmd = [
        sys.executable,
        str(HERE / "hh_jax_worker.py"),
        "--config",
        config,
        "--n",
        str(n),
        "--kind",
        kind,
        "--out",
        str(out),
    ]
    if reference is not None:
        cmd += ["--reference", str(reference)]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    start = time.perf_counter()
    try:
        run = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return dict(
            system="hh_jax",
            setting=config,
            N=n,
            kind=kind,
            status="timeout",
            timeout_s=timeout,
        )
    if run.returncode != 0:
        return dict(
            system="hh_jax",
            setting=config,
            N=n,
            kind=kind,
            status="failed",
            stderr=run.stderr[-2000:],
        )
    record = json.loads(out.read_text())
    record.update(status="ok", process_wall_s=time.perf_counter() - start)
    return record


def _reference(path: Path) -> Path:
    if not path.exists() and path.name == "reference_W1000.npz":
        path = path.with_name("reference_W101.npz")  # what reference.py computes
    if not path.exists():
        print(f"computing the W(101) reference into {path} (SciPy DOP853, minutes)")
        subprocess.run(
            [sys.executable, str(HERE / "peers" / "reference.py"), "--out", str(path)],
            check=True,
        )
    return path


def _fmt(x, digits=2):
    if x is None:
        return "—"
    return f"{x:.{digits}e}" if isinstance(x, float) else str(x)


def table(hh_records, peer_records, sizes) -> str:
    def rows_for(records, system_key):
        settings = []
        for r in records:
            key = (r.get("system"), r.get("setting"))
            if key not in settings:
                settings.append(key)
        lines = []
        for system, setting in settings:
            mine = [
                r
                for r in records
                if (r.get("system"), r.get("setting")) == (system, setting)
            ]
            thr = {
                r["N"]: r.get("throughput_neuron_ms_per_s")
                for r in mine
                if r.get("kind") == "throughput" and r.get("status") == "ok"
            }
            acc = next(
                (
                    r
                    for r in mine
                    if r.get("kind") == "accuracy" and r.get("status") == "ok"
                ),
                {},
            )
            comp = [
                r.get("compile_s")
                for r in mine
                if r.get("kind") == "throughput" and r.get("compile_s") is not None
            ]
            cells = [_fmt(thr.get(n)) for n in sizes]
            lines.append(
                f"| {system} | {setting} | "
                + " | ".join(cells)
                + f" | {_fmt(acc.get('max_spike_err_ms'))}"
                + f" | {acc.get('count_errors', '—')}"
                + f" | {_fmt(max(comp), 1) if comp else '—'} |"
            )
        return lines

    head = (
        "| system | setting | "
        + " | ".join(f"N={n}" for n in sizes)
        + " | max spike err (ms) | count errors | compile (s) |"
    )
    sep = "|" + "---|" * (len(sizes) + 5)
    lines = [head, sep] + rows_for(hh_records, "hh_jax")
    if peer_records:
        peer = []
        for r in peer_records:
            r = dict(r)
            r["throughput_neuron_ms_per_s"] = r.get("throughput_neuron_ms_per_s")
            peer.append(r)
        lines += rows_for(peer, "peers")
    return "\n".join(lines)


def gradient_table(records) -> str:
    lines = [
        "| setting | N | gradient / forward | gradient (s) "
        "| first gradient call (s) | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        if r.get("kind") != "gradient" or r.get("status") != "ok":
            continue
        lines.append(
            f"| {r['setting']} | {r['N']} | {r['gradient_over_forward']:.2f} | "
            f"{r['gradient_s']:.3g} | {r['first_gradient_call_s']:.3g} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def plots(hh_records, peer_records, out_dir: Path, sizes) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = hh_records + peer_records
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    n_ref = max(sizes)
    for r in records:
        if (
            r.get("kind") != "accuracy"
            or r.get("status") != "ok"
            or r.get("max_spike_err_ms") is None
        ):
            continue
        thr = [
            q.get("throughput_neuron_ms_per_s")
            for q in records
            if q.get("system") == r["system"]
            and q.get("setting") == r["setting"]
            and q.get("kind") == "throughput"
            and q.get("N") == n_ref
            and q.get("status") == "ok"
        ]
        if not thr or thr[0] is None:
            continue
        ours = r["system"] == "hh_jax"
        ax.scatter(
            r["max_spike_err_ms"],
            thr[0],
            s=60 if ours else 40,
            marker="o" if ours else "s",
            edgecolor="k",
            color="#d62728" if ours else "#7f7f7f",
        )
        ax.annotate(
            f"{r['system']} {r['setting']}"
            + (f" ({r['count_errors']} count err.)" if r.get("count_errors") else ""),
            (r["max_spike_err_ms"], thr[0]),
            fontsize=7,
            xytext=(4, 3),
            textcoords="offset points",
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="max spike-time error (ms; hh_jax on W(1000), peers on W(101))",
        ylabel=f"throughput at N = {n_ref} (neuron·ms/s)",
        title="Work–precision (up and left is better)",
    )
    ax.axvline(1e-3, color="k", lw=0.6, ls=":")
    ax.grid(alpha=0.3, which="both")
    fig.savefig(out_dir / "work_precision.png", dpi=120)

    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    keys = []
    for r in records:
        key = (r.get("system"), r.get("setting"))
        if r.get("kind") == "throughput" and key not in keys:
            keys.append(key)
    for system, setting in keys:
        pts = sorted(
            (r["N"], r["throughput_neuron_ms_per_s"])
            for r in records
            if (r.get("system"), r.get("setting")) == (system, setting)
            and r.get("kind") == "throughput"
            and r.get("status") == "ok"
            and r.get("throughput_neuron_ms_per_s")
        )
        if not pts:
            continue
        ours = system == "hh_jax"
        ax.plot(
            *zip(*pts),
            "o-" if ours else "s--",
            lw=1.8 if ours else 1.0,
            label=f"{system} {setting}",
            alpha=1.0 if ours else 0.7,
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="N (neurons)",
        ylabel="neuron·ms simulated per s",
        title="Throughput on W(N)",
    )
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, which="both")
    fig.savefig(out_dir / "throughput.png", dpi=120)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1,100,1000,10000")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--gradient-sizes", default="1000,10000")
    p.add_argument("--out-dir", type=Path, default=ROOT / "results")
    p.add_argument(
        "--reference",
        type=Path,
        default=ROOT / "results/peers/reference_W1000.npz",
        help="hh_jax accuracy reference (the peers use W(101))",
    )
    p.add_argument(
        "--peers", default=None, help="comma-separated peers for driver.py (all)"
    )
    p.add_argument(
        "--reuse-peers", action="store_true", help="read results/peers/peers.json"
    )
    p.add_argument("--no-peers", action="store_true")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="CI-sized: N <= 100, no accuracy run, no peers",
    )
    p.add_argument("--timeout", type=float, default=900.0)
    args = p.parse_args()
    if args.smoke:
        args.sizes, args.gradient_sizes, args.no_peers = "1,100", "100", True
        args.configs = "batch-defaults-f64,rk4-f64-dt0.05,rk4-f32-dt0.05"
    sizes = [int(s) for s in args.sizes.split(",")]
    configs = args.configs.split(",")
    work = args.out_dir / "hh_jax_runs"
    work.mkdir(parents=True, exist_ok=True)
    reference = None if args.smoke else _reference(args.reference)

    records = []
    for config in configs:
        if reference is not None:
            records.append(
                _worker(config, 101, "accuracy", work, reference, args.timeout)
            )
        for n in sizes:
            rec = _worker(config, n, "throughput", work, None, args.timeout)
            records.append(rec)
            print(
                f"{config:>22} N={n:<6} {rec.get('status')} "
                f"{_fmt(rec.get('throughput_neuron_ms_per_s'))} neuron·ms/s",
                flush=True,
            )
    for config in GRADIENT_CONFIGS:
        if config not in configs:
            continue
        for n in (int(s) for s in args.gradient_sizes.split(",")):
            records.append(_worker(config, n, "gradient", work, None, args.timeout))

    peers = []
    if not args.no_peers:
        peers_json = ROOT / "results/peers/peers.json"
        if not args.reuse_peers:
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "peers" / "driver.py"),
                    "--sizes",
                    args.sizes,
                ]
                + ([] if args.peers is None else ["--peers", args.peers]),
                check=False,
            )
        if peers_json.exists():
            peers = [
                r
                for r in json.loads(peers_json.read_text())
                if r.get("kind") in ("throughput", "accuracy")
            ]
        else:
            print("peer results missing: see benchmarks/peers/README.md")
    md = table(records, peers, sizes) + "\n\n" + gradient_table(records)
    machine = dict(
        platform=platform.platform(),
        processor=platform.processor(),
        cpus=os.cpu_count(),
        python=platform.python_version(),
        loadavg=list(os.getloadavg()),
    )
    (args.out_dir / "benchmark.json").write_text(
        json.dumps(dict(machine=machine, hh_jax=records, peers=peers), indent=1)
    )
    (args.out_dir / "benchmark.md").write_text(md + "\n")
    print(md)
    plots(records, peers, args.out_dir, sizes)
    print(
        f"wrote {args.out_dir}: benchmark.json, benchmark.md, work_precision.png, "
        "throughput.png"
    )


if __name__ == "__main__":
    main()
