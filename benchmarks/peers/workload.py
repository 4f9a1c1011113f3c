"""The benchmark workload W(N), shared by every peer script (needs only NumPy).

N single-compartment Hodgkin–Huxley neurons (standard squid-axon model, 6.3 °C),
g_Na spread evenly over [100, 140] mS/cm², each starting at its steady state at
V = -65 mV, driven by a 10 µA/cm² step from 5 to 105 ms, 120 ms simulated.

The peer scripts import this module from their own directory (it is on
``sys.path`` because they are run as scripts), so every peer environment sees the
same constants and the same output conventions.
"""

import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

# Model (units: mV, ms, µF/cm², mS/cm², µA/cm²).
C_M = 1.0
G_NA_RANGE = (100.0, 140.0)
G_K = 36.0
G_L = 0.3
E_NA = 50.0
E_K = -77.0
E_L = -54.387
CELSIUS = 6.3
V_REST = -65.0

# Protocol.
I_AMP = 10.0
STIM_START = 5.0
STIM_STOP = 105.0
T_STOP = 120.0
SAVE_DT = 0.1
BREAKS = (0.0, STIM_START, STIM_STOP, T_STOP)

# Accuracy set W_acc = W(101).
N_ACC = 101


def g_na(n: int) -> np.ndarray:
    """Per-neuron sodium conductance (mS/cm²)."""
    return np.linspace(*G_NA_RANGE, n)


def q10() -> float:
    return 3.0 ** ((CELSIUS - 6.3) / 10.0)


def save_grid(save_dt: float) -> np.ndarray:
    """Sample times 0, save_dt, ..., T_STOP (ms)."""
    n = int(round(T_STOP / save_dt))
    if not math.isclose(n * save_dt, T_STOP, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"save_dt={save_dt} does not divide {T_STOP} ms.")
    return np.arange(n + 1) * save_dt


def stimulus(t):
    """Injected current density (µA/cm²): on in [STIM_START, STIM_STOP)."""
    return np.where((t >= STIM_START) & (t < STIM_STOP), I_AMP, 0.0)


# Rate functions (1/ms), the same as NEURON's hh.mod; vectorised over V.
def _vtrap(x, y):
    x = np.asarray(x, dtype=float)
    small = np.abs(x / y) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1.0 - x / y / 2.0), safe / np.expm1(safe / y))


def rates(V):
    """(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n) at V (mV)."""
    q = q10()
    am = 0.1 * _vtrap(-(V + 40.0), 10.0)
    bm = 4.0 * np.exp(-(V + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(V + 65.0) / 20.0)
    bh = 1.0 / (np.exp(-(V + 35.0) / 10.0) + 1.0)
    an = 0.01 * _vtrap(-(V + 55.0), 10.0)
    bn = 0.125 * np.exp(-(V + 65.0) / 80.0)
    return tuple(q * r for r in (am, bm, ah, bh, an, bn))


def steady_state(V=V_REST):
    """Gates (m, h, n) at their steady state at V."""
    am, bm, ah, bh, an, bn = rates(V)
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


def initial_state(n: int) -> np.ndarray:
    """(n, 4) array of (V, m, h, n) at rest."""
    m, h, nn = steady_state(V_REST)
    return np.tile([V_REST, float(m), float(h), float(nn)], (n, 1))


# Scalar right-hand side for one neuron (pure Python floats: the fastest form for
# SciPy's one-neuron-at-a-time integrators).
def _vtrap_scalar(x, y):
    if abs(x / y) < 1e-6:
        return y * (1.0 - x / y / 2.0)
    return x / math.expm1(x / y)


def make_rhs(gna: float, i_ext=None):
    """f(t, y) for one neuron; `i_ext` fixes the current (µA/cm²), else the step."""
    q = q10()
    exp = math.exp

    def rhs(t, y):
        V, m, h, n = y
        am = q * 0.1 * _vtrap_scalar(-(V + 40.0), 10.0)
        bm = q * 4.0 * exp(-(V + 65.0) / 18.0)
        ah = q * 0.07 * exp(-(V + 65.0) / 20.0)
        bh = q / (exp(-(V + 35.0) / 10.0) + 1.0)
        an = q * 0.01 * _vtrap_scalar(-(V + 55.0), 10.0)
        bn = q * 0.125 * exp(-(V + 65.0) / 80.0)
        if i_ext is None:
            i = I_AMP if STIM_START <= t < STIM_STOP else 0.0
        else:
            i = i_ext
        i_ion = (
            gna * m * m * m * h * (V - E_NA)
            + G_K * n * n * n * n * (V - E_K)
            + G_L * (V - E_L)
        )
        return [
            (i - i_ion) / C_M,
            am * (1.0 - m) - bm * m,
            ah * (1.0 - h) - bh * h,
            an * (1.0 - n) - bn * n,
        ]

    return rhs


# Output conventions shared by the peer scripts.
def base_parser(description: str, settings):
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--n", type=int, required=True, help="number of neurons N")
    p.add_argument("--setting", required=True, choices=sorted(settings))
    p.add_argument("--out", type=Path, required=True, help="output .npz")
    p.add_argument(
        "--save-dt", type=float, default=SAVE_DT, help="sampling interval (ms)"
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repeat the timed simulation up to this many times (best is reported; "
        "repeats stop once 20 s were spent)",
    )
    return p


def best_of(run, repeats: int = 3, budget_s: float = 20.0):
    """Call ``run()`` up to `repeats` times, stopping early once the calls took
    `budget_s` seconds in all; return (last result, list of wall times)."""
    times, out = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
        if sum(times) >= budget_s:
            break
    return out, times


class Timer:
    """Context manager measuring wall time with perf_counter."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def write_result(
    out: Path,
    *,
    t: np.ndarray,
    V: np.ndarray,
    system: str,
    version: str,
    setting: str,
    n: int,
    save_dt: float,
    wall_s: float,
    wall_excludes: str,
    compile_s: float | None,
    compile_what: str | None,
    dtype: str,
    threads: int,
    notes: str = "",
    extra: dict | None = None,
) -> dict:
    """Write ``out`` (.npz with t, V, g_na) and its JSON sidecar; return the record."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (n, t.shape[0]):
        raise ValueError(f"V has shape {V.shape}, expected {(n, t.shape[0])}.")
    np.savez(out, t=t, V=V, g_na=g_na(n))
    record = {
        "system": system,
        "version": version,
        "setting": setting,
        "N": n,
        "save_dt_ms": save_dt,
        "wall_s": wall_s,
        "wall_excludes": wall_excludes,
        "compile_s": compile_s,
        "compile_what": compile_what,
        "throughput_neuron_ms_per_s": n * T_STOP / wall_s if wall_s > 0 else None,
        "dtype": dtype,
        "threads": threads,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "notes": notes,
        "loadavg_at_end": list(os.getloadavg()),
        "status": "ok",
    }
    if extra:
        record.update(extra)
    out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    return record
