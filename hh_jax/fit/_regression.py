"""One-shot regression estimate of the linear parameters (Huys, Ahrens & Paninski
2006, J. Neurophysiol. 96:872).

Given the recorded V(t), every gate follows from V alone (its ODE is linear in the
gate, driven by V), so each channel's current per unit conductance, phi_i(t), is
known. The membrane equation

    C_m dV/dt + sum_i g_i phi_i(t) = I_ext(t)

is then linear in the maximal conductances, in C_m, in the leak's g_L E_L and, for
a whole-cell recording, in 1/area (I_ext = I_pA 1e-6 / area). Integrated over
consecutive windows (so that no noisy derivative is taken), it is a linear least-
squares problem, solved within the parameters' bounds. Parameters that enter
nonlinearly (reversal potentials other than E_L, V_T, time constants) keep their
template values.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..channels import Leak
from ..model import PointNeuron
from ._data import FitData
from ._space import AREA, ParameterSpace

_CONDUCTANCE_UNIT = "mS/cm^2"


def _refine(t, V, substeps: int):
    """Times and voltages on a grid `substeps` times finer than the samples: cubic
    Hermite interpolation with slopes from centred differences (Catmull–Rom)."""
    slope = np.gradient(V, t)
    h = np.diff(t)[:, None]
    s = (np.arange(substeps) / substeps)[None, :]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    fine = (
        h00 * V[:-1, None]
        + h10 * h * slope[:-1, None]
        + h01 * V[1:, None]
        + h11 * h * slope[1:, None]
    )
    t_fine = (t[:-1, None] + h * s).ravel()
    return np.append(t_fine, t[-1]), np.append(fine.ravel(), V[-1])


def gates_along(model: PointNeuron, t, V) -> dict:
    """Gate trajectories (dimensionless) driven by the voltage `V` (mV) sampled at
    times `t` (ms), starting at steady state: exponential integration with the
    rates at each interval's mean voltage (second order in the step)."""
    V_mid = 0.5 * (V[1:] + V[:-1])
    dt = jnp.diff(t)
    rates = model.gate_rates(V_mid)
    start = model.gate_rates(V[:1])

    def advance(name):
        inf = rates[name].steady_state
        decay = jnp.exp(-dt / rates[name].time_constant)

        def step(x, inputs):
            x_inf, d = inputs
            x = x_inf + (x - x_inf) * d
            return x, x

        x0 = start[name].steady_state[0]
        _, xs = jax.lax.scan(step, x0, (inf, decay))
        return jnp.concatenate([x0[None], xs])

    return {name: advance(name) for name in model.gate_names}


def _conductance_name(channel) -> str | None:
    names = [
        n for n, i in channel.parameter_infos().items() if i.unit == _CONDUCTANCE_UNIT
    ]
    return names[0] if len(names) == 1 else None


def _window_integrals(t, x, width):
    """Integrals of `x` (on a grid of uniform spacing) over consecutive windows
    of `width` intervals, by Simpson's rule (`width` even)."""
    h = t[1] - t[0]
    n = ((len(x) - 1) // width) * width
    w = np.ones(width + 1)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    starts = np.arange(0, n, width)
    idx = starts[:, None] + np.arange(width + 1)[None, :]
    return (x[idx] * w).sum(axis=1) * h / 3.0


def _window_differences(x, width):
    n = ((len(x) - 1) // width) * width
    return x[width : n + 1 : width] - x[0 : n + 1 - width : width]


def _sweep_equations(model, t, V, charge, width, free, area_um2, whole_cell):
    """Columns (by unknown) and right-hand side of one sweep's windowed membrane
    equation, ``sum_unknowns theta_j a_j = b``, in uA/cm^2 * ms (or uA * ms)."""
    gates = {
        k: jnp.asarray(v)
        for k, v in gates_along(model, jnp.asarray(t), jnp.asarray(V)).items()
    }
    dV = _window_differences(V, width)
    columns: dict[str, np.ndarray] = {}
    known = np.zeros(len(dV))  # terms with known coefficients, moved to the right
    if "C_m" in free:
        columns["C_m"] = dV
    else:
        known += float(model.C_m) * dV
    for ch in model.channels:
        g_name = _conductance_name(ch)
        if g_name is None:
            raise ValueError(
                f"{type(ch).__name__} has no single maximal conductance; the "
                "regression initialiser needs currents linear in one conductance."
            )
        if isinstance(ch, Leak) and "E_L" in free:
            # g_L (V - E_L) = g_L V - c with c = g_L E_L: linear in (g_L, c).
            phi = V
            columns["leak_offset"] = -_window_integrals(t, np.ones_like(V), width)
        else:
            unit = eqx.tree_at(lambda c: getattr(c, g_name), ch, jnp.asarray(1.0))
            phi = np.asarray(unit.current(jnp.asarray(V), gates))
        integral = _window_integrals(t, phi, width)
        if g_name in free:
            columns[g_name] = integral
        else:
            known += float(getattr(ch, g_name)) * integral
    injected = _window_differences(charge, width)  # exact: a step function
    n = ((len(V) - 1) // width) * width
    peak = V[: n + 1][: (n // width) * width].reshape(-1, width).max(axis=1)
    peak = np.maximum(peak, V[width : n + 1 : width])
    if not whole_cell:
        return columns, injected - known, peak
    if AREA in free:  # divide by the area: 1/area multiplies the injected charge
        columns["inverse_area"] = -injected * 1e-6  # uA ms per (1/cm^2)
        return columns, -known, peak
    return columns, injected * 1e-6 / (area_um2 * 1e-8) - known, peak


def _inside(value: float, lo: float, hi: float) -> float:
    """`value` if strictly inside (lo, hi), else just inside the nearer bound."""
    margin = (hi - lo) * 1e-3
    return min(max(value, lo + margin), hi - margin)


SUBTHRESHOLD_MV = -45.0  # windows below this are used for the passive stage


def _least_squares(model, data, free, bounds, area_um2, window, substeps, below):
    """Solve the windowed membrane equation for the unknowns in `free` (others at
    the model's values), using only windows whose voltage stays below `below` mV
    (all windows if None). Returns {unknown: value}."""
    from scipy.optimize import lsq_linear

    blocks, rhs = [], []
    t_all, V_all, mask_all = (np.asarray(x) for x in (data.t, data.V, data.mask))
    for s in range(data.num_sweeps):
        n = int(mask_all[s].sum())
        t_data, V_data = t_all[s, :n], V_all[s, :n]
        stride = max(int(round(window / float(np.median(np.diff(t_data))))), 1)
        t, V = _refine(t_data, V_data, substeps)
        charge = _charge(
            np.asarray(data.stimulus_times[s]), np.asarray(data.stimulus_values[s]), t
        )
        columns, b, peak = _sweep_equations(
            model, t, V, charge, stride * substeps, free, area_um2, data.whole_cell
        )
        use = np.ones_like(peak, bool) if below is None else peak < below
        blocks.append({k: c[use] for k, c in columns.items()})
        rhs.append(b[use])
    names = list(blocks[0])
    A = np.concatenate([np.stack([c[k] for k in names], axis=1) for c in blocks])
    b = np.concatenate(rhs)
    if A.shape[0] < 2 * len(names):
        raise ValueError(
            "too few usable windows for the regression estimate "
            f"({A.shape[0]} for {len(names)} unknowns)."
        )
    lower, upper = [], []
    for k in names:
        if k == "inverse_area":
            lo, hi = bounds[AREA]
            lower.append(1.0 / (hi * 1e-8))
            upper.append(1.0 / (lo * 1e-8))
        elif k == "leak_offset":
            lower.append(-np.inf)
            upper.append(np.inf)
        else:
            lower.append(bounds[k][0])
            upper.append(bounds[k][1])
    scale = np.linalg.norm(A, axis=0)
    scale[scale == 0] = 1.0
    sol = lsq_linear(
        A / scale, b, bounds=(np.asarray(lower) * scale, np.asarray(upper) * scale)
    )
    return dict(zip(names, sol.x / scale))


def regression_estimate(
    model: PointNeuron,
    data: FitData,
    space: ParameterSpace,
    *,
    area_um2: float | None = None,
    window: float = 1.0,
    substeps: int = 4,
) -> tuple[dict[str, float], list[str]]:
    """Least-squares estimate of the free parameters that enter linearly.

    The voltage is refined `substeps`-fold by cubic interpolation, gates are
    integrated along it, and the membrane equation is integrated over windows of
    `window` ms (Simpson's rule); longer windows average out more noise.

    When the membrane area is free (whole-cell data), the estimate has two
    stages: first everything from the windows that stay below -45 mV, which fixes
    the area (and C_m, g_L, E_L) without the spikes, where a mismatch between the
    model's and the cell's spike currents could otherwise be absorbed by an absurd
    area; then every free conductance from all windows, with that area.

    **Returns:** ``(values, notes)``: `values` maps every free parameter to a start
    value (physical units; nonlinear ones keep the template's value), `notes` says
    what could not be estimated and what was moved inside its bounds.
    """
    free = set(space.names)
    if "E_L" in free and not any(isinstance(ch, Leak) for ch in model.channels):
        raise ValueError("E_L is free but the model has no leak channel.")
    bounds = space.bounds()
    args = (bounds, area_um2, window, substeps)
    if AREA in free:
        passive = _least_squares(model, data, free, *args, SUBTHRESHOLD_MV)
        area_um2 = 1.0 / passive["inverse_area"] / 1e-8
        passive_values = {k: v for k, v in passive.items() if k in ("C_m", "g_L")}
        if "leak_offset" in passive:
            g_L = passive.get("g_L", float(model.get("g_L")))
            passive_values["E_L"] = passive["leak_offset"] / g_L
        model = model.replace(**passive_values)
        rest = free - {AREA, "C_m"}
        theta = _least_squares(
            model, data, rest, bounds, area_um2, window, substeps, None
        )
        theta["inverse_area"] = passive["inverse_area"]
    else:
        theta = _least_squares(model, data, free, *args, None)

    values: dict[str, float] = {}
    notes = []
    for name in space.names:
        if name == AREA:
            values[name] = 1.0 / theta["inverse_area"] / 1e-8
        elif name == "E_L":
            g_L = theta.get("g_L", float(model.get("g_L")))
            values[name] = theta["leak_offset"] / g_L
        elif name in theta:
            values[name] = float(theta[name])
        else:
            values[name] = float(model.get(name))
            notes.append(f"{name}: enters nonlinearly; template value kept")
        lo, hi = bounds[name]
        if not lo < values[name] < hi:
            inside = _inside(values[name], lo, hi)
            notes.append(
                f"{name}: estimate {values[name]:.4g} at or beyond a bound; "
                f"start at {inside:.4g}"
            )
            values[name] = inside
    return values, notes


def _charge(times, values, t):
    """Exact integral of the step function (value k from times[k]) from times[0]
    to each `t` (units of the values times ms)."""
    ends = np.append(times[1:], np.inf)
    overlap = np.clip(np.minimum(t[:, None], ends[None, :]) - times[None, :], 0.0, None)
    return overlap @ values
