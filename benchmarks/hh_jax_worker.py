"""One hh_jax benchmark measurement in a fresh process (precision and device count
are process-wide JAX settings, and compile times need a cold start).

    python benchmarks/hh_jax_worker.py --config rk4-f64-dt0.05 --n 10000 \
        --kind throughput --out result.json

Kinds:
- ``throughput``: W(N), V saved every 0.1 ms; first call (compile + run) and the
  best of a few steady calls.
- ``accuracy``: W(n) of the reference (W(1000) by default), V saved every
  0.01 ms; spike times from that grid (cubic Hermite with the method's dV/dt,
  the same interpolation for every method) and, where the method records them,
  located inside the steps; both compared with the DOP853 1e-11 reference.
- ``gradient``: reverse-mode gradient of a trace MSE over W(N) with respect to
  every neuron's g_Na, time relative to the forward solve, and peak memory.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

CONFIGS = {
    # name: (method, dtype, dt (fixed) or rtol = atol (adaptive), devices)
    # simulate_batch with its defaults (method "auto"): the headline rows.
    "batch-defaults-f64": ("auto", "float64", None, 1),
    "batch-defaults-f32": ("auto", "float32", None, 1),
    # The methods "auto" chose between, by the work-precision measurement.
    "tsit5-f64-dt0.04": ("tsit5", "float64", 0.04, 1),
    "tsit5-f64-dt0.0625": ("tsit5", "float64", 0.0625, 1),
    "tsit5-f32-dt0.0625": ("tsit5", "float32", 0.0625, 1),
    "tsit5-f32-dt0.075": ("tsit5", "float32", 0.075, 1),
    "tsit5-f32-dt0.1": ("tsit5", "float32", 0.1, 1),
    "rk4-f64-dt0.015": ("rk4", "float64", 0.015, 1),
    "rk4-f64-dt0.025": ("rk4", "float64", 0.025, 1),
    "rk4-f64-dt0.05": ("rk4", "float64", 0.05, 1),
    "rk4-f32-dt0.05": ("rk4", "float32", 0.05, 1),
    "lanes-adaptive-f64-3e-8": ("adaptive", "float64", 3e-8, 1),
    "lanes-adaptive-f64-1e-7": ("adaptive", "float64", 1e-7, 1),
    "lanes-adaptive-f32-1e-6": ("adaptive", "float32", 1e-6, 1),
    # jax.vmap(hh_jax.simulate): Diffrax Tsit5, the general path.
    "diffrax-vmap-f64": ("diffrax", "float64", None, 1),
    "diffrax-vmap-tight-f64": ("diffrax", "float64", 1e-8, 1),
    "batch-defaults-f64-2dev": ("auto", "float64", None, 2),
    "tsit5-f64-dt0.05": ("tsit5", "float64", 0.05, 1),
}
T_STOP, SAVE_DT, STIM = 120.0, 0.1, (10.0, 5.0, 105.0)


def _setup(config: str):
    method, dtype, param, devices = CONFIGS[config]
    if devices > 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_force_host_platform_device_count={devices}"
        )
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    return method, dtype, param, devices


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--config", choices=sorted(CONFIGS), required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument(
        "--kind", choices=("throughput", "accuracy", "gradient"), required=True
    )
    p.add_argument("--reference", type=Path, default=None)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    method, dtype, param, devices = _setup(args.config)

    import jax
    import jax.numpy as jnp
    import numpy as np

    import hh_jax as hh

    ts = np.arange(0.0, T_STOP + SAVE_DT / 2, SAVE_DT)
    stim = hh.Step(*STIM)
    n = args.n
    if args.kind == "accuracy":
        ref = np.load(args.reference)
        g = np.asarray(ref["g_na"])
        n = g.size
    else:
        g = np.linspace(100.0, 140.0, n)
    g = jnp.asarray(g, dtype)
    if devices > 1:
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        pad = (-n) % devices
        g = jnp.concatenate([g, jnp.full(pad, g[-1])]) if pad else g
        mesh = Mesh(np.array(jax.devices()), ("batch",))
        g = jax.device_put(g, NamedSharding(mesh, PartitionSpec("batch")))

    def forward(g, max_spikes=0, ts=ts):
        model = hh.HodgkinHuxley(g_Na=g)
        # chunk_size at its default ("auto"), as a user calls simulate_batch.
        options = dict(gates=False, progress=False)
        if method == "diffrax":
            tol = {} if param is None else dict(rtol=param, atol=param)
            return hh.simulate_batch(
                model,
                stim,
                ts,
                method="diffrax",
                currents=max_spikes > 0,
                **tol,
                **options,
            )
        if method in ("tsit5", "rk4"):
            options.update(dt=param)
        elif method == "adaptive":
            options.update(rtol=param, atol=param)
        if max_spikes:
            # The reference's spikes are upward 0 mV crossings.
            options.update(max_spikes=max_spikes, currents=True, threshold=0.0)
        return hh.simulate_batch(model, stim, ts, method=method, **options)

    record = dict(
        system="hh_jax",
        setting=args.config,
        method=method,
        dtype=dtype,
        devices=devices,
        N=n,
        kind=args.kind,
        jax=jax.__version__,
        loadavg_at_start=list(os.getloadavg()),
    )
    if args.kind in ("throughput", "accuracy"):
        spikes = 24 if args.kind == "accuracy" else 0
        if args.kind == "accuracy":
            ts = np.asarray(ref["t"])  # the reference's 0.01 ms grid
        start = time.perf_counter()
        trace = forward(g, spikes, ts)
        trace.V.block_until_ready()
        first = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            forward(g, spikes, ts).V.block_until_ready()
            times.append(time.perf_counter() - start)
            if sum(times) > 30:
                break
        wall = min(times)
        record.update(
            wall_s=wall,
            first_call_s=first,
            compile_s=max(first - wall, 0.0),
            throughput_neuron_ms_per_s=n * T_STOP / wall,
            wall_times=times,
            trace_method=trace.method,
        )
        if args.kind == "accuracy":
            sys.path.insert(0, str(Path(__file__).parent / "peers"))
            from driver import compare_spikes  # noqa: E402

            c = trace.currents
            if "dVdt" in c:
                dV = np.asarray(c["dVdt"], np.float64)
            else:  # Diffrax path: from the currents, C_m = 1 uF/cm^2
                dV = np.asarray(c["I_ext"] - c["I_Na"] - c["I_K"] - c["I_L"])
            V = np.asarray(trace.V, np.float64)
            grid = np.asarray(hh.spike_times(ts, V, 0.0, dVdt=dV, max_spikes=spikes))
            record.update(compare_spikes(grid[:n], ref["spike_times"]))
            record["spike_method"] = "cubic Hermite with dV/dt on the 0.01 ms save grid"
            record["max_abs_dV_mV"] = float(np.max(np.abs(V - ref["V"])))
            if trace.spikes is not None:
                inside = compare_spikes(
                    np.asarray(trace.spikes, np.float64)[:n], ref["spike_times"]
                )
                record["in_step"] = {
                    k: inside[k] for k in ("max_spike_err_ms", "count_errors")
                }
            record["status_ok"] = int(np.sum(np.asarray(trace.status) == 0))
    else:  # gradient of a trace MSE w.r.t. every neuron's g_Na
        target = forward(g).V

        def loss(gg):
            return jnp.mean((forward(gg).V - target - 1.0) ** 2)

        grad = jax.jit(jax.grad(loss))
        fwd = jax.jit(lambda gg: forward(gg).V)
        start = time.perf_counter()
        fwd(g).block_until_ready()  # compile the forward pass outside the timing
        record["first_forward_call_s"] = time.perf_counter() - start
        rss0 = _peak_rss_mb()
        start = time.perf_counter()
        grad(g).block_until_ready()
        first_grad = time.perf_counter() - start
        grad_times, fwd_times = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            grad(g).block_until_ready()
            grad_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            fwd(g).block_until_ready()
            fwd_times.append(time.perf_counter() - start)
        record.update(
            gradient_s=min(grad_times),
            forward_s=min(fwd_times),
            gradient_over_forward=min(grad_times) / min(fwd_times),
            first_gradient_call_s=first_grad,
            gradient_compile_s=max(first_grad - min(grad_times), 0.0),
            peak_rss_mb=_peak_rss_mb(),
            rss_before_gradient_mb=rss0,
        )
    record["loadavg_at_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v for k, v in record.items() if not isinstance(v, list)}))


if __name__ == "__main__":
    main()
