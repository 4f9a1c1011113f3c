"""The fixed time grid of a cable simulation, built on the host.

Every save time and every stimulus discontinuity is a grid point, and no step is
longer than `dt`. Each save interval holds the same number K of steps (the grid
is a ``(T - 1, K)`` table), so the integration is one ``scan`` over save
intervals of a ``fori_loop`` over K steps.
"""

import numpy as np


def time_grid(
    ts: np.ndarray, jumps: np.ndarray, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, steps)``, both ``(T - 1, K)`` (ms): row i splits the save
    interval ``[ts[i], ts[i + 1]]`` into K steps, at most `dt` long, with every
    jump time inside it on a step boundary. Jumps within ``1e-9 dt`` of a save time
    count as that save time."""
    ts = np.asarray(ts, dtype=float)
    jumps = np.unique(np.asarray(jumps, dtype=float).ravel())
    jumps = jumps[np.isfinite(jumps)]
    tol = 1e-9 * dt
    rows = []
    for a, b in zip(ts[:-1], ts[1:]):
        inner = jumps[(jumps > a + tol) & (jumps < b - tol)]
        if inner.size > 1:  # merge jumps closer than tol to each other
            inner = inner[np.concatenate([[True], np.diff(inner) > tol])]
        edges = np.concatenate([[a], inner, [b]])
        lengths = np.diff(edges)
        counts = np.maximum(np.ceil(lengths / dt - 1e-9), 1).astype(int)
        rows.append((edges, lengths, counts))
    K = max(int(c.sum()) for _, _, c in rows)
    starts, steps = [], []
    for edges, lengths, counts in rows:
        while counts.sum() < K:  # same K everywhere: split the longest steps
            counts[np.argmax(lengths / counts)] += 1
        h = np.concatenate([np.full(c, l / c) for c, l in zip(counts, lengths)])
        s = np.concatenate(
            [e + np.arange(c) * (l / c) for e, c, l in zip(edges, counts, lengths)]
        )
        starts.append(s)
        steps.append(h)
    return np.stack(starts), np.stack(steps)


def gate_intervals(steps: np.ndarray, staggered: bool) -> np.ndarray:
    """How far the gates advance after each voltage step (ms), same shape as
    `steps`. Staggered (Crank–Nicolson): gates live at step midpoints, so from the
    middle of one step to the middle of the next, ``(h_j + h_{j+1}) / 2`` (the
    last one ``h``). Otherwise (backward Euler) the step itself."""
    if not staggered:
        return steps.copy()
    flat = steps.ravel()
    following = np.concatenate([flat[1:], flat[-1:]])
    return (0.5 * (flat + following)).reshape(steps.shape)
