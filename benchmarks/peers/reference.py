"""Tight reference solution of the accuracy set W_acc = W(101).

SciPy ``solve_ivp`` DOP853 with rtol = atol = 1e-11, one neuron at a time,
integrated piecewise between the stimulus discontinuities (0–5, 5–105, 105–120 ms).
Spike times are the exact upward 0 mV crossings found by event detection (root
finding on the 7th-order dense output); V is the dense output on a 0.01 ms grid.

    python benchmarks/peers/reference.py [--out results/peers/reference_W101.npz]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import scipy

import workload as w
from run_scipy import solve_piecewise

RTOL = ATOL = 1e-11
GRID_DT = 0.01


def _upward_zero(t, y):
    return y[0]


_upward_zero.direction = 1.0


def solve_one(gna: float, t: np.ndarray):
    V, sols = solve_piecewise(
        gna,
        w.initial_state(1)[0],
        t,
        method="DOP853",
        rtol=RTOL,
        atol=ATOL,
        events=_upward_zero,
    )
    return V, np.array([s for sol in sols for s in sol.t_events[0].tolist()])


def compute(n: int = w.N_ACC):
    t = w.save_grid(GRID_DT)
    gnas = w.g_na(n)
    V = np.empty((n, t.shape[0]))
    spikes = []
    for k, gna in enumerate(gnas):
        V[k], s = solve_one(gna, t)
        spikes.append(s)
    width = max(1, max(len(s) for s in spikes))
    times = np.full((n, width), np.nan)
    for k, s in enumerate(spikes):
        times[k, : len(s)] = s
    return dict(t=t, V=V, g_na=gnas, spike_times=times)


def load_or_compute(path: Path, n: int = w.N_ACC) -> dict:
    """The cached reference at `path`, computed and written first if missing."""
    path = Path(path)
    if path.exists():
        with np.load(path) as d:
            data = {k: d[k] for k in d.files}
        if data["V"].shape[0] == n and np.allclose(data["g_na"], w.g_na(n)):
            return data
    start = time.perf_counter()
    data = compute(n)
    data["info"] = np.array(
        f"SciPy {scipy.__version__} solve_ivp DOP853 rtol=atol={RTOL:g}, piecewise "
        f"at {w.STIM_START} and {w.STIM_STOP} ms, spike times by event detection; "
        f"computed in {time.perf_counter() - start:.1f} s"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **data)
    return data


def main():
    root = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--out", type=Path, default=root / "results/peers/reference_W101.npz"
    )
    args = p.parse_args()
    data = load_or_compute(args.out)
    counts = np.sum(~np.isnan(data["spike_times"]), axis=1)
    print(
        f"{args.out}: {data['V'].shape[0]} neurons, spikes {counts.min()}-"
        f"{counts.max()}; {data.get('info', '')}"
    )


if __name__ == "__main__":
    main()
