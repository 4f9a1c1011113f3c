"""hh_jax throughput at large N on whatever JAX device is present (GPU, TPU or CPU).

The hh_jax rows of the benchmark (``hh_jax_worker.py``, one fresh process per
configuration and size, so compile times are cold) at N = 1e4, 1e5, 1e6 in
float32 and float64; nothing here selects a platform, JAX picks its default
device. A wall-clock budget (default 8 min) skips what would not fit and records
it as skipped. Writes ``results/gpu/gpu.json`` and ``results/gpu/gpu.md``.

    bash benchmarks/gpu.sh            # full: N = 1e4 ... 1e6, <= 8 min
    bash benchmarks/gpu.sh --quick    # N = 100, 1000 (a CPU check, ~1-2 min)
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
WORKER = HERE / "hh_jax_worker.py"
CONFIGS = (
    "batch-defaults-f64",
    "batch-defaults-f32",
    "tsit5-f64-dt0.05",
    "tsit5-f32-dt0.1",
    "rk4-f32-dt0.05",
)
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (100, 1000)


def _device() -> str:
    probe = (
        "import jax; d = jax.devices(); print(len(d), d[0].platform, d[0].device_kind)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300
    )
    return run.stdout.strip() or f"unknown ({run.stderr[-300:]})"


def _run(config: str, n: int, out: Path, timeout: float, repeats: int) -> dict:
    cmd = [sys.executable, str(WORKER), "--config", config, "--n", str(n)]
    cmd += ["--kind", "throughput", "--repeats", str(repeats), "--out", str(out)]
    base = dict(setting=config, N=n)
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(base, status="timeout", timeout_s=timeout)
    if run.returncode != 0:
        return dict(base, status="failed", stderr=run.stderr[-2000:])
    return dict(json.loads(out.read_text()), status="ok")


def _table(records, sizes, device) -> str:
    head = "| setting | " + " | ".join(f"N={n:.0e}" for n in sizes)
    lines = [
        f"Throughput in neuron·ms/s (W(N), 120 ms, V every 0.1 ms); device: {device}",
        "",
        head + " | method used | compile (s), largest N |",
        "|---" * (len(sizes) + 3) + "|",
    ]
    for config in dict.fromkeys(r["setting"] for r in records):
        mine = {r["N"]: r for r in records if r["setting"] == config}
        cells = []
        for n in sizes:
            r = mine.get(n, {})
            if r.get("status") == "ok":
                cells.append(f"{r['throughput_neuron_ms_per_s']:.2e}")
            else:
                cells.append(r.get("status", "—"))
        ok = [r for r in mine.values() if r.get("status") == "ok"]
        last = max(ok, key=lambda r: r["N"]) if ok else {}
        lines.append(
            f"| {config} | "
            + " | ".join(cells)
            + f" | {last.get('trace_method', '—')} | "
            + (f"{last['compile_s']:.1f} |" if last else "— |")
        )
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="N = 100, 1000 only")
    p.add_argument("--sizes", default=None, help="comma-separated N")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--budget", type=float, default=450.0, help="total wall (s)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--out-dir", type=Path, default=ROOT / "results" / "gpu")
    args = p.parse_args()
    if args.sizes:
        sizes = [int(float(s)) for s in args.sizes.split(",")]
    else:
        sizes = list(QUICK_SIZES if args.quick else SIZES)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    device = _device()
    print(f"device: {device}", flush=True)
    records = []
    for n in sizes:  # smallest first, so a tight budget still gives full rows
        for config in args.configs.split(","):
            left = args.budget - (time.perf_counter() - start)
            if left < 20:
                records.append(dict(setting=config, N=n, status="skipped (budget)"))
                continue
            out = args.out_dir / f"{config}_{n}.json"
            rec = _run(config, n, out, left, args.repeats)
            records.append(rec)
            thr = rec.get("throughput_neuron_ms_per_s")
            print(
                f"{config:>22} N={n:<8} {rec['status']}"
                + (f" {thr:.3g} neuron·ms/s" if thr else ""),
                flush=True,
            )
    md = _table(records, sizes, device)
    meta = dict(
        device=device,
        platform=platform.platform(),
        cpus=os.cpu_count(),
        loadavg=list(os.getloadavg()),
        total_wall_s=time.perf_counter() - start,
    )
    (args.out_dir / "gpu.json").write_text(
        json.dumps(dict(meta=meta, records=records), indent=1)
    )
    (args.out_dir / "gpu.md").write_text(md + "\n")
    print(md)
    print(f"total {meta['total_wall_s']:.0f} s; wrote {args.out_dir}/gpu.md, gpu.json")


if __name__ == "__main__":
    main()
