"""The host-built time grid of the fixed-step solvers.

Steps are uniform between consecutive breakpoints (the start, every stimulus
discontinuity, the end) and at most `dt` long, independent of the save times:
the same steps serve a 0.1 ms and a 0.01 ms save grid, so accuracy measured on
one holds for the other. Each save time is written from the step that contains
it, by cubic Hermite interpolation; a step holds up to M save times ("slots").
The steps are grouped in chunks of C (the unit of checkpointing in reverse mode),
the last chunk padded with zero-length steps.
"""

import math
from typing import NamedTuple

import numpy as np


class StepGrid(NamedTuple):
    t_start: np.ndarray  # (S,) start of each step, ms (padded steps: the end time)
    h: np.ndarray  # (S,) step lengths, ms (0 for padding)
    theta: np.ndarray  # (S, M) save times inside each step as fractions in [0, 1]
    slot_of_save: np.ndarray  # (T - 1,) flat index step * M + slot of ts[1:]
    chunk: int  # C, steps per chunk; S is a multiple of C

    @property
    def n_steps(self) -> int:
        return int(self.h.shape[0])

    @property
    def slots(self) -> int:
        return int(self.theta.shape[1])


def step_grid(ts: np.ndarray, jumps: np.ndarray, dt: float, chunk: int) -> StepGrid:
    """Steps of at most `dt` ms over ``[ts[0], ts[-1]]`` with every jump inside it
    a step boundary; see the module docstring."""
    ts = np.asarray(ts, np.float64)
    t0, t1 = ts[0], ts[-1]
    inner = np.unique(jumps[(jumps > t0) & (jumps < t1)])
    breaks = np.concatenate([[t0], inner, [t1]])
    starts, lengths = [], []
    for a, b in zip(breaks[:-1], breaks[1:]):
        n = max(int(math.ceil((b - a) / dt - 1e-9)), 1)
        edges = a + (b - a) * np.arange(n + 1) / n
        edges[-1] = b
        starts.append(edges[:-1])
        lengths.append(np.diff(edges))
    t_start = np.concatenate(starts)
    h = np.concatenate(lengths)
    ends = t_start + h
    # Step containing each save time: the first whose end is >= it.
    k = np.searchsorted(ends, ts[1:], side="left")
    k = np.minimum(k, h.shape[0] - 1)
    counts = np.bincount(k, minlength=h.shape[0])
    M = max(int(counts.max()), 1)
    slot = np.zeros_like(k)
    seen = np.zeros(h.shape[0], int)
    for i, step in enumerate(k):
        slot[i] = seen[step]
        seen[step] += 1
    theta = np.full((h.shape[0], M), np.nan)
    theta[k, slot] = np.clip((ts[1:] - t_start[k]) / h[k], 0.0, 1.0)
    pad = (-h.shape[0]) % chunk
    if pad:
        t_start = np.concatenate([t_start, np.full(pad, t1)])
        h = np.concatenate([h, np.zeros(pad)])
        theta = np.concatenate([theta, np.full((pad, M), np.nan)])
    return StepGrid(t_start, h, theta, k * M + slot, chunk)
