"""W(N) with Brian2 in C++ standalone mode: one NeuronGroup of N HH neurons.

The model is written with area-specific units (µF/cm², mS/cm², µA/cm²), so no
area enters. The step current is ``I_amp * int(t >= 5 ms) * int(t < 105 ms)``;
a StateMonitor records V every save_dt (its ``dt``), and the network runs for
120 ms + one step so that the sample at t = 120 ms is taken.

Settings (all C++ standalone, 2 OpenMP threads unless said otherwise or
``--threads``):

- ``expeuler_dt0.025``: ``method='exponential_euler'`` (Brian2's usual choice for
  HH), dt = 0.025 ms.
- ``expeuler_dt0.025_1thread``: the same with one OpenMP thread. On a shared
  2-core machine two OpenMP threads stall at every step's barrier whenever another
  process takes a core, so this is the robust number.
- ``expeuler_dt0.001``: the same at dt = 0.001 ms.
- ``rk4_dt0.01``: ``method='rk4'``, dt = 0.01 ms.

Timing: ``compile_s`` is ``device.build(compile=True, run=False)``, i.e. code
generation plus the C++ compiler; ``wall_s`` is the network's own run time as
timed inside the generated binary (``omp_get_wtime`` around the run loop;
includes the StateMonitor's recording, excludes the process start-up, reading
initial values and writing results to disk). The binary's total wall time is
reported as ``binary_wall_s``.

    python run_brian2.py --n 100 --setting expeuler_dt0.025 --out out.npz
"""

import shutil
import tempfile

import brian2 as b2
import numpy as np
from brian2 import cm2, ms, msiemens, mV, uA, uF

import workload as w

SETTINGS = {
    "expeuler_dt0.025": dict(method="exponential_euler", dt=0.025, threads=2),
    "expeuler_dt0.025_1thread": dict(method="exponential_euler", dt=0.025, threads=1),
    "expeuler_dt0.001": dict(method="exponential_euler", dt=0.001, threads=2),
    "rk4_dt0.01": dict(method="rk4", dt=0.01, threads=2),
}

EQS = """
dv/dt = (I_stim - I_ion) / C_m : volt
I_ion = g_na*m**3*h*(v - E_na) + g_k*n**4*(v - E_k) + g_l*(v - E_l) : amp/meter**2
I_stim = I_amp * int(t >= t_on) * int(t < t_off) : amp/meter**2
dm/dt = q10 * (alpha_m*(1 - m) - beta_m*m) : 1
dh/dt = q10 * (alpha_h*(1 - h) - beta_h*h) : 1
dn/dt = q10 * (alpha_n*(1 - n) - beta_n*n) : 1
alpha_m = 1.0/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
beta_m = 4.0*exp(-(v + 65*mV)/(18*mV))/ms : Hz
alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
beta_h = 1.0/(exp(-(v + 35*mV)/(10*mV)) + 1)/ms : Hz
alpha_n = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
g_na : siemens/meter**2 (constant)
"""


def main():
    p = w.base_parser(__doc__.splitlines()[0], SETTINGS)
    p.add_argument("--threads", type=int, default=None, help="override the setting's")
    p.add_argument("--keep-build", action="store_true", help="keep the C++ project")
    args = p.parse_args()
    cfg = SETTINGS[args.setting]
    threads = cfg["threads"] if args.threads is None else args.threads
    n, t = args.n, w.save_grid(args.save_dt)
    ratio = args.save_dt / cfg["dt"]
    if abs(ratio - round(ratio)) > 1e-9:
        p.error(f"--save-dt must be a multiple of dt = {cfg['dt']} ms")

    build_dir = tempfile.mkdtemp(prefix="brian2_hh_")
    b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    # Always through OpenMP (1 thread too): only then does the binary time its run
    # loop with a wall clock (omp_get_wtime) rather than with CPU time.
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.defaultclock.dt = cfg["dt"] * ms

    namespace = dict(
        C_m=w.C_M * uF / cm2,
        g_k=w.G_K * msiemens / cm2,
        g_l=w.G_L * msiemens / cm2,
        E_na=w.E_NA * mV,
        E_k=w.E_K * mV,
        E_l=w.E_L * mV,
        I_amp=w.I_AMP * uA / cm2,
        t_on=w.STIM_START * ms,
        t_off=w.STIM_STOP * ms,
        q10=w.q10(),
    )
    group = b2.NeuronGroup(n, EQS, method=cfg["method"], namespace=namespace, name="hh")
    m0, h0, n0 = (float(x) for x in w.steady_state(w.V_REST))
    group.v = w.V_REST * mV
    group.m, group.h, group.n = m0, h0, n0
    group.g_na = w.g_na(n) * msiemens / cm2
    monitor = b2.StateMonitor(group, "v", record=True, dt=args.save_dt * ms)
    b2.run((w.T_STOP + cfg["dt"]) * ms, namespace={})

    try:
        with w.Timer() as compile_timer:
            b2.device.build(directory=build_dir, compile=True, run=False)

        def simulate():
            b2.device.run(directory=build_dir, with_output=False)
            return float(b2.device._last_run_time)

        wall_times, binary_times = [], []
        for _ in range(max(1, args.repeats)):  # rerun the binary; keep the best
            with w.Timer() as binary_timer:
                wall_times.append(simulate())
            binary_times.append(binary_timer.seconds)
            if sum(binary_times) >= 20.0:
                break
        t_mon = np.asarray(monitor.t / ms)
        V = np.asarray(monitor.v / mV)[:, : t.shape[0]]
    finally:
        if not args.keep_build:
            shutil.rmtree(build_dir, ignore_errors=True)
    if t_mon.shape[0] < t.shape[0] or np.abs(t_mon[: t.shape[0]] - t).max() > 1e-6:
        raise RuntimeError(f"monitor times {t_mon[:3]}...{t_mon[-3:]} off the grid")
    w.write_result(
        args.out,
        t=t,
        V=V,
        system="Brian2",
        version=b2.__version__,
        setting=args.setting,
        n=n,
        save_dt=args.save_dt,
        wall_s=min(wall_times),
        wall_excludes=(
            "Python start-up, model definition, code generation, C++ compilation, "
            "the binary's start-up and its reading/writing of arrays; it is the run "
            "loop as timed by the binary (omp_get_wtime), StateMonitor included; "
            "best of the repeated runs of the binary"
        ),
        compile_s=compile_timer.seconds,
        compile_what="device.build(compile=True, run=False): codegen + C++ compile",
        dtype="float64",
        threads=threads,
        notes=(
            f"C++ standalone, method={cfg['method']}, dt={cfg['dt']} ms, "
            + f"{threads} OpenMP thread(s)"
            + ", Brian2's default compiler flags"
        ),
        extra={"repeat_wall_s": wall_times, "binary_wall_s": binary_times},
    )


if __name__ == "__main__":
    main()
