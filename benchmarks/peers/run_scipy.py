"""W(N) with SciPy, one neuron at a time (the textbook way).

Settings:

- ``odeint``: ``scipy.integrate.odeint`` (LSODA) with its default tolerances
  (rtol = atol = 1.49e-8) over the whole 0–120 ms at once, the step current inside
  the right-hand side; output requested on the save grid.
- ``dop853_1e-9``: ``solve_ivp`` DOP853, rtol = atol = 1e-9, integrated piecewise
  between the stimulus discontinuities (0–5, 5–105, 105–120 ms), dense output
  evaluated on the save grid.

Runs in the main venv (only NumPy and SciPy needed).

    python benchmarks/peers/run_scipy.py --n 100 --setting odeint --out out.npz
"""

import numpy as np
import scipy
from scipy.integrate import odeint, solve_ivp

import workload as w

SETTINGS = {
    "odeint": "odeint (LSODA) rtol=atol=1.49e-8 (defaults), whole 0-120 ms at once",
    "dop853_1e-9": "solve_ivp DOP853 rtol=atol=1e-9, piecewise at 5 and 105 ms",
}


def run_odeint(gna, y0, t):
    rhs = w.make_rhs(gna)
    return odeint(rhs, y0, t, tfirst=True)[:, 0]


def solve_piecewise(gna, y0, t, **options):
    """V (mV) on `t` from ``solve_ivp`` (`options`, dense output) run piece by
    piece between the stimulus discontinuities ``w.BREAKS``, and the solution
    of each piece (for its events)."""
    V = np.empty_like(t)
    y = y0
    sols = []
    for a, b in zip(w.BREAKS[:-1], w.BREAKS[1:]):
        i_ext = w.I_AMP if a == w.STIM_START else 0.0
        sol = solve_ivp(w.make_rhs(gna, i_ext), (a, b), y, dense_output=True, **options)
        if not sol.success:
            raise RuntimeError(sol.message)
        # Samples on [a, b]; the left end of later pieces overwrites nothing new.
        sel = (t >= a) & (t <= b)
        V[sel] = sol.sol(t[sel])[0]
        y = sol.y[:, -1]
        sols.append(sol)
    return V, sols


def run_piecewise(gna, y0, t, method="DOP853", rtol=1e-9, atol=1e-9):
    return solve_piecewise(gna, y0, t, method=method, rtol=rtol, atol=atol)[0]


def main():
    args = w.base_parser(__doc__.splitlines()[0], SETTINGS).parse_args()
    n, t = args.n, w.save_grid(args.save_dt)
    gnas = w.g_na(n)
    y0 = w.initial_state(1)[0]
    step = run_odeint if args.setting == "odeint" else run_piecewise
    V = np.empty((n, t.shape[0]))

    def simulate():
        for k in range(n):
            V[k] = step(gnas[k], y0, t)

    _, times = w.best_of(simulate, args.repeats)
    w.write_result(
        args.out,
        t=t,
        V=V,
        system="SciPy",
        version=scipy.__version__,
        setting=args.setting,
        n=n,
        save_dt=args.save_dt,
        wall_s=min(times),
        wall_excludes="interpreter start-up and imports only (nothing to build); best "
        "of the repeats",
        compile_s=0.0,
        compile_what="none (pure-Python right-hand side)",
        dtype="float64",
        threads=1,
        notes=SETTINGS[args.setting] + "; Python scalar right-hand side",
        extra={"repeat_wall_s": times},
    )


if __name__ == "__main__":
    main()
