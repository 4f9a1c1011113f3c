"""W(N) with Jaxley: one single-compartment cell with ``HH``, vmapped over g_Na.

Jaxley's normal way to run many parameter sets is ``jax.vmap`` over
``jx.integrate(cell, params=...)`` with the varied parameter made trainable; that
is what this script does (N cells = N members of the vmapped batch, one ``jit``).
The cell is Jaxley's default compartment (radius 1 µm, length 10 µm); its HH
leak reversal is set to -54.387 mV (Jaxley's default is -54.3), conductances are
in S/cm², and the step current (nA, ``jx.step_current``) is 10 µA/cm² times the
membrane area 2·pi·r·L. Jaxley's HH has no temperature factor; at 6.3 °C the
standard factor is 1. Gates start at their steady state at -65 mV
(``init_states``).

Settings:

- ``exp_euler_f32`` / ``exp_euler_f64``: ``solver="exp_euler"``, dt = 0.025 ms,
  float32 (JAX default) / float64 (``jax_enable_x64``).
- ``bwd_euler_f32``: Jaxley's default solver (``"bwd_euler"``, exponential-Euler
  gates and an implicit voltage step), dt = 0.025 ms, float32.

Timing: ``compile_s`` is ``jit(...).lower(...).compile()`` (tracing + XLA
compilation); ``wall_s`` is the best of several calls of the compiled function
(``block_until_ready``), excluding the copy of the result to NumPy.

    python run_jaxley.py --n 100 --setting exp_euler_f32 --out out.npz
"""

import math
import os
import sys

import numpy as np

import workload as w

SETTINGS = {
    "exp_euler_f32": dict(solver="exp_euler", x64=False, dt=0.025),
    "exp_euler_f64": dict(solver="exp_euler", x64=True, dt=0.025),
    "bwd_euler_f32": dict(solver="bwd_euler", x64=False, dt=0.025),
}


def main():
    p = w.base_parser(__doc__.splitlines()[0], SETTINGS)
    args = p.parse_args()
    cfg = SETTINGS[args.setting]
    n, t = args.n, w.save_grid(args.save_dt)
    dt = cfg["dt"]
    stride = args.save_dt / dt
    if abs(stride - round(stride)) > 1e-9:
        p.error(f"--save-dt must be a multiple of dt = {dt} ms")
    stride = int(round(stride))

    import jax

    jax.config.update("jax_enable_x64", cfg["x64"])
    import jax.numpy as jnp
    import jaxley as jx
    from jaxley.channels import HH

    with w.Timer() as build_timer:
        cell = jx.Cell(jx.Branch(jx.Compartment(), ncomp=1), parents=[-1])
        cell.insert(HH())
        cell.set("capacitance", w.C_M)  # µF/cm²
        cell.set("HH_gK", w.G_K * 1e-3)  # S/cm²
        cell.set("HH_gLeak", w.G_L * 1e-3)
        cell.set("HH_eNa", w.E_NA)
        cell.set("HH_eK", w.E_K)
        cell.set("HH_eLeak", w.E_L)
        cell.set("v", w.V_REST)
        cell.init_states()
        radius = float(cell.nodes["radius"].iloc[0])  # µm
        length = float(cell.nodes["length"].iloc[0])
        area_um2 = 2.0 * math.pi * radius * length
        amp_na = w.I_AMP * area_um2 * 1e-5  # µA/cm² · µm² → nA
        current = jx.step_current(
            i_delay=w.STIM_START,
            i_dur=w.STIM_STOP - w.STIM_START,
            i_amp=amp_na,
            delta_t=dt,
            t_max=w.T_STOP,
        )
        cell.stimulate(current, verbose=False)
        cell.record("v", verbose=False)
        cell.make_trainable("HH_gNa", verbose=False)

        def simulate(gna):
            v = jx.integrate(
                cell,
                params=[{"HH_gNa": jnp.reshape(gna, (1,))}],
                delta_t=dt,
                t_max=w.T_STOP,
                solver=cfg["solver"],
            )
            return v[0, ::stride]

        dtype = jnp.float64 if cfg["x64"] else jnp.float32
        gnas = jnp.asarray(w.g_na(n) * 1e-3, dtype=dtype)
        batched = jax.jit(jax.vmap(simulate))
    with w.Timer() as compile_timer:
        compiled = batched.lower(gnas).compile()
    V, times = w.best_of(lambda: compiled(gnas).block_until_ready(), args.repeats)
    V = np.asarray(V, dtype=np.float64)
    if V.shape[1] != t.shape[0]:
        raise RuntimeError(f"got {V.shape[1]} samples, expected {t.shape[0]}")
    w.write_result(
        args.out,
        t=t,
        V=V,
        system="Jaxley",
        version=jx.__version__,
        setting=args.setting,
        n=n,
        save_dt=args.save_dt,
        wall_s=min(times),
        wall_excludes=(
            "Python/JAX start-up, building the cell, tracing and XLA compilation, "
            "and copying V to NumPy; best of the repeated calls"
        ),
        compile_s=compile_timer.seconds,
        compile_what="jax.jit(jax.vmap(integrate)).lower(g_na).compile()",
        dtype=str(np.dtype(dtype)),
        threads=os.cpu_count() or 0,
        notes=(
            f"solver={cfg['solver']}, dt={dt} ms, vmap over {n} g_Na values; "
            f"area {area_um2:.4f} um^2, step {amp_na:.6g} nA; "
            f"XLA CPU ({jax.__version__}) default threading"
        ),
        extra={
            "repeat_wall_s": times,
            "build_s": build_timer.seconds,
            "jax_version": jax.__version__,
            "python_executable": sys.executable,
        },
    )


if __name__ == "__main__":
    main()
