"""The fixed time grid of a cable simulation, built on the host.

Every save time and every stimulus discontinuity is a grid point, and no step is
longer than `dt`. Each save interval holds the same number K of steps (the grid
is a ``(T - 1, K)`` table), so the integration is one ``scan`` over save
intervals of a ``fori_loop`` over K steps.
"""

import numpy as np


def time_grid(
    ts: np.ndarray, jumps: np.ndarray, dt: float, *, eps: float = 2.3e-16
) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, steps)``, both ``(T - 1, K)`` (ms): row i splits the save
    interval ``[ts[i], ts[i + 1]]`` into K steps, at most `dt` long, with every
    jump time inside it on a step boundary.

    A jump within ``1e-9 dt + 8 eps max(1, |t|)`` of a save time (or of another
    jump) is that time: `eps` is the precision the jump times were computed in
    (float32 stimulus times are rounded, and 0.1 in float32 is not the save time
    0.1)."""
    ts = np.asarray(ts, dtype=float)
    jumps = np.unique(np.asarray(jumps, dtype=float).ravel())
    jumps = jumps[np.isfinite(jumps)]
    tol = 1e-9 * dt + 8.0 * eps * max(1.0, float(np.max(np.abs(ts))))
    gaps = np.diff(ts)
    plain = np.maximum(np.ceil(gaps / dt - 1e-9), 1).astype(int)
    # Rows with a jump strictly inside are split there (few; done one by one).
    row_of = np.searchsorted(ts, jumps, side="right") - 1
    inside = (row_of >= 0) & (row_of < gaps.size)
    inside &= jumps > ts[np.clip(row_of, 0, ts.size - 1)] + tol
    inside &= jumps < ts[np.clip(row_of + 1, 0, ts.size - 1)] - tol
    split = {}
    for row in np.unique(row_of[inside]):
        a, b = ts[row], ts[row + 1]
        inner = jumps[inside & (row_of == row)]
        inner = inner[np.concatenate([[True], np.diff(inner) > tol])]
        edges = np.concatenate([[a], inner, [b]])
        lengths = np.diff(edges)
        counts = np.maximum(np.ceil(lengths / dt - 1e-9), 1).astype(int)
        split[int(row)] = (edges, lengths, counts)
    K = max([int(plain.max())] + [int(c.sum()) for _, _, c in split.values()])
    steps = np.repeat((gaps / K)[:, None], K, axis=1)
    starts = ts[:-1, None] + np.arange(K)[None, :] * steps
    for row, (edges, lengths, counts) in split.items():
        while counts.sum() < K:  # same K everywhere: split the longest steps
            counts[np.argmax(lengths / counts)] += 1
        steps[row] = np.concatenate(
            [np.full(c, ln / c) for c, ln in zip(counts, lengths)]
        )
        starts[row] = np.concatenate(
            [e + np.arange(c) * (ln / c) for e, c, ln in zip(edges, counts, lengths)]
        )
    return starts, steps


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
