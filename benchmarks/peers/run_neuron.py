"""W(N) with NEURON: N single-compartment sections with the built-in ``hh``.

Each neuron is one section, nseg = 1, L = diam = sqrt(100/pi) µm, so its membrane
area is exactly 100 µm² = 1e-6 cm² (NEURON's ``area()`` excludes the end caps);
the 10 µA/cm² step is an ``IClamp`` of 10 µA/cm² × area = 0.01 nA. ``hh``
densities are set per section: gnabar_hh = g_Na / 1000 S/cm², el_hh = -54.387 mV
(NEURON's default is -54.3), ena = 50, ek = -77 mV, celsius = 6.3. All N sections
are one NEURON model, simulated together by ``finitialize`` + ``continuerun``.

Settings:

- ``fixed_dt0.025``: fixed step dt = 0.025 ms (NEURON's default implicit Euler,
  ``secondorder = 0``), rate tables on (``usetable_hh = 1``, the default).
- ``cvode_1e-6``: CVODE with one global variable step for all cells (what
  ``cvode.active(1)`` gives), atol = 1e-6, rtol = 0 (NEURON's default), rate
  tables off.
- ``cvode_1e-8``: as above with atol = 1e-8 (tight).
- ``lvardt_1e-6``: CVODE with local time steps (``cvode.use_local_dt(1)``: each
  cell has its own integrator, NEURON's way for many independent cells),
  atol = 1e-6, rate tables off.

V is recorded with ``Vector.record(seg._ref_v, save_dt)`` under the fixed step
(save_dt must be a multiple of dt) and with ``Vector.record(seg._ref_v, tvec)``
under CVODE, which returns values interpolated at the times in tvec.

    python run_neuron.py --n 100 --setting fixed_dt0.025 --out out.npz [--threads 1]
"""

import math

import numpy as np
from neuron import __version__ as neuron_version
from neuron import h

import workload as w

SETTINGS = {
    "fixed_dt0.025": dict(cvode=False, dt=0.025, table=1),
    "cvode_1e-6": dict(cvode=True, atol=1e-6, table=0),
    "cvode_1e-8": dict(cvode=True, atol=1e-8, table=0),
    "lvardt_1e-6": dict(cvode=True, atol=1e-6, table=0, local=True),
}


def build(n: int, t: np.ndarray, fixed_step: bool, check_t: bool):
    diam = math.sqrt(100.0 / math.pi)  # µm; area = pi * diam * L = 100 µm²
    secs, stims, recs = [], [], []
    tvec = h.Vector(t)
    save_dt = float(t[1] - t[0])

    def record(vec, ref, sec):
        # Fixed step: every save_dt (a multiple of dt). CVODE: at the times in
        # tvec, interpolated by the integrator (with local steps, by each cell's).
        if fixed_step:
            vec.record(ref, save_dt, sec=sec)
        else:
            vec.record(ref, tvec, sec=sec)

    for k, gna in enumerate(w.g_na(n)):
        sec = h.Section(name=f"n{k}")
        sec.L = sec.diam = diam
        sec.nseg = 1
        sec.cm = w.C_M
        sec.insert("hh")
        seg = sec(0.5)
        seg.hh.gnabar = gna * 1e-3  # S/cm²
        seg.hh.gkbar = w.G_K * 1e-3
        seg.hh.gl = w.G_L * 1e-3
        seg.hh.el = w.E_L
        sec.ena = w.E_NA
        sec.ek = w.E_K
        stim = h.IClamp(seg)
        stim.delay = w.STIM_START
        stim.dur = w.STIM_STOP - w.STIM_START
        # nA = µA/cm² · µm² · 1e-8 cm²/µm² · 1e3 nA/µA
        stim.amp = w.I_AMP * seg.area() * 1e-5
        rec = h.Vector()
        record(rec, seg._ref_v, sec)
        secs.append(sec)
        stims.append(stim)
        recs.append(rec)
    t_rec = h.Vector()
    if check_t:  # global t, to check the record times against the grid
        record(t_rec, h._ref_t, secs[0])
    # Return tvec as well: record() holds no reference to it, and it must outlive
    # the run.
    return secs, stims, recs, t_rec, tvec


def main():
    p = w.base_parser(__doc__.splitlines()[0], SETTINGS)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    cfg = SETTINGS[args.setting]
    n, t = args.n, w.save_grid(args.save_dt)
    if not cfg["cvode"]:
        ratio = args.save_dt / cfg["dt"]
        if abs(ratio - round(ratio)) > 1e-9:
            p.error(f"--save-dt must be a multiple of dt = {cfg['dt']} ms")

    h.load_file("stdrun.hoc")
    h.celsius = w.CELSIUS
    h.usetable_hh = cfg["table"]
    with w.Timer() as build_timer:
        local_dt = bool(cfg.get("local"))
        # With local steps or threads, NEURON cannot record the global t.
        check_t = not local_dt and args.threads == 1
        if local_dt:  # must be on before record vectors are tied to cells
            h.CVode().active(1)
            h.CVode().use_local_dt(1)
        secs, stims, recs, t_rec, tvec = build(
            n, t, fixed_step=not cfg["cvode"], check_t=check_t
        )
        assert abs(secs[0](0.5).area() - 100.0) < 1e-9
        cvode = h.CVode()
        if cfg["cvode"]:
            cvode.active(1)
            cvode.use_local_dt(1 if local_dt else 0)
            cvode.atol(cfg["atol"])
            cvode.rtol(0.0)
        else:
            cvode.active(0)
            h.secondorder = 0
            h.dt = cfg["dt"]
            h.steps_per_ms = 1.0 / cfg["dt"]
        pc = h.ParallelContext()
        if args.threads > 1:
            pc.nthread(args.threads)
    h.tstop = w.T_STOP
    # CVODE records the last requested times only if it runs past them.
    t_end = w.T_STOP + (2.5 * args.save_dt if cfg["cvode"] else 0.0)

    def simulate():
        h.finitialize(w.V_REST)
        h.continuerun(t_end)

    _, times = w.best_of(simulate, args.repeats)
    del stims  # kept alive (IClamps) until the runs are done
    t_rec = np.array(t_rec.to_python())
    if check_t and (
        t_rec.shape[0] < t.shape[0] or np.abs(t_rec[: t.shape[0]] - t).max() > 1e-6
    ):
        raise RuntimeError(f"recorded times {t_rec[:3]}...{t_rec[-3:]} off the grid")
    sizes = {int(r.size()) for r in recs}
    if sizes != {t.shape[0]}:
        raise RuntimeError(f"recorded {sorted(sizes)} samples, expected {t.shape[0]}")
    V = np.array([r.as_numpy()[: t.shape[0]] for r in recs])
    notes = (
        "NEURON hh, nseg=1 sections of 100 um^2, IClamp 0.01 nA; "
        f"usetable_hh={cfg['table']}; "
        + (
            f"CVODE {'local' if cfg.get('local') else 'global'} step "
            f"atol={cfg['atol']:g} rtol=0"
            if cfg["cvode"]
            else f"fixed dt={cfg['dt']} ms, secondorder=0"
        )
        + f"; pc.nthread({args.threads})"
    )
    w.write_result(
        args.out,
        t=t,
        V=V,
        system="NEURON",
        version=neuron_version,
        setting=args.setting,
        n=n,
        save_dt=args.save_dt,
        wall_s=min(times),
        wall_excludes=(
            "interpreter start-up, import, model building (sections, mechanisms, "
            "IClamps, record vectors) and copying the recordings out; includes "
            "finitialize() and continuerun() (CVODE: to 120 + 2.5 save_dt ms, so "
            "that the last record times are reached); best of the repeats"
        ),
        compile_s=build_timer.seconds,
        compile_what="model building in Python (no compilation)",
        dtype="float64",
        threads=args.threads,
        notes=notes,
        extra={"repeat_wall_s": times},
    )


if __name__ == "__main__":
    main()
