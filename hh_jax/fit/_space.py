"""The free parameters of a fit and their transforms to an unconstrained space.

Each free parameter has a name (a model parameter such as ``"g_Na"``, or
``"area"`` for the membrane area of a whole-cell recording) and a bounded
transform. Transforms are data (Equinox modules with static bounds), not closures:
the optimiser sees only the unconstrained vector ``u``; ``ParameterSpace.values``
maps it to physical values in the parameter's unit.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..model import PointNeuron

AREA = "area"  # fitted membrane area of a whole-cell recording, um^2
AREA_UNIT = "um^2"
AREA_BOUNDS = (100.0, 1e6)  # um^2: a small neuron's soma to a large pyramidal cell


class Logistic(eqx.Module):
    """``x = lower + (upper - lower) * sigmoid(u)``: a parameter in (lower, upper)."""

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def forward(self, u):
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(u)

    def inverse(self, x):
        p = (np.asarray(x, float) - self.lower) / (self.upper - self.lower)
        return np.log(p) - np.log1p(-p)

    def uniform(self, q):
        """The value at quantile `q` in [0, 1] of the natural prior (uniform)."""
        return self.lower + (self.upper - self.lower) * np.asarray(q)


class LogLogistic(eqx.Module):
    """``log x`` logistic between ``log lower`` and ``log upper``: a positive
    parameter spanning decades (conductances, areas, time constants)."""

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def forward(self, u):
        lo, hi = math.log(self.lower), math.log(self.upper)
        return jnp.exp(lo + (hi - lo) * jax.nn.sigmoid(u))

    def inverse(self, x):
        lo, hi = math.log(self.lower), math.log(self.upper)
        p = (np.log(np.asarray(x, float)) - lo) / (hi - lo)
        return np.log(p) - np.log1p(-p)

    def uniform(self, q):
        """The value at quantile `q` of the natural prior (log-uniform)."""
        lo, hi = math.log(self.lower), math.log(self.upper)
        return np.exp(lo + (hi - lo) * np.asarray(q))


Transform = Logistic | LogLogistic


def default_transform(lower: float, upper: float, log_scale: bool) -> Transform:
    if not lower < upper:
        raise ValueError(f"bounds must satisfy lower < upper; got ({lower}, {upper}).")
    if log_scale and lower > 0:
        return LogLogistic(float(lower), float(upper))
    return Logistic(float(lower), float(upper))


class ParameterSpace(eqx.Module):
    """Names, units and transforms of the free parameters, in order.

    ``values(u)`` maps an unconstrained vector ``u`` (P,) to ``{name: value}`` in
    physical units; ``unconstrained(values)`` is its inverse (NumPy, for start
    points)."""

    names: tuple[str, ...] = eqx.field(static=True)
    units: tuple[str, ...] = eqx.field(static=True)
    transforms: tuple[Transform, ...]

    def __len__(self) -> int:
        return len(self.names)

    def values(self, u: Float[Array, " P"]) -> dict[str, Float[Array, ""]]:
        return {
            n: tr.forward(u[i])
            for i, (n, tr) in enumerate(zip(self.names, self.transforms))
        }

    def unconstrained(self, values: dict[str, float]) -> np.ndarray:
        out = []
        for name, tr in zip(self.names, self.transforms):
            x = float(values[name])
            if not tr.lower < x < tr.upper:
                raise ValueError(
                    f"the start value of `{name}` ({x:g} {self.unit(name)}) lies "
                    f"outside its bounds ({tr.lower:g}, {tr.upper:g}); widen the "
                    "bounds or change the start."
                )
            out.append(tr.inverse(x))
        return np.asarray(out, dtype=float)

    def unit(self, name: str) -> str:
        return self.units[self.names.index(name)]

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {n: (tr.lower, tr.upper) for n, tr in zip(self.names, self.transforms)}

    def quasi_random(self, count: int, seed: int) -> np.ndarray:
        """`count` unconstrained points from a scrambled Sobol sequence, spread
        (log-)uniformly inside the bounds (away from the edges by 1 %)."""
        from scipy.stats import qmc

        m = max(int(np.ceil(np.log2(max(count, 1)))), 0)
        q = qmc.Sobol(len(self), scramble=True, seed=seed).random_base2(m)
        q = 0.01 + 0.98 * q[:count]
        return np.stack(
            [tr.inverse(tr.uniform(q[:, i])) for i, tr in enumerate(self.transforms)],
            axis=-1,
        )


def build_space(
    model: PointNeuron,
    free: list[str] | tuple[str, ...],
    bounds: dict[str, tuple[float, float]] | None = None,
    *,
    whole_cell: bool = False,
) -> ParameterSpace:
    """The space of `free` parameters of `model`, with `bounds` overriding the
    defaults (a parameter's declared fit bounds; ``area``: 100 to 1e6 um^2).

    Raises ``ValueError`` for no free parameters, unknown names (listing the model's
    parameters), ``area`` without whole-cell data, and unidentifiable combinations
    (``C_m`` with ``area``: only their product, the total capacitance, shows in a
    whole-cell recording)."""
    free = list(free)
    bounds = dict(bounds or {})
    if not free:
        raise ValueError("no free parameters: name at least one, e.g. g_Na g_K g_L.")
    if len(set(free)) != len(free):
        raise ValueError(f"free parameters repeat a name: {free}.")
    infos = model.parameter_infos()
    unknown = [n for n in free if n not in infos and n != AREA]
    if unknown:
        raise ValueError(
            f"the model has no parameter {', '.join(map(repr, unknown))}; it has "
            f"{', '.join(infos)}"
            + (" and 'area' (whole-cell data)" if whole_cell else "")
            + "."
        )
    if AREA in free and not whole_cell:
        raise ValueError(
            "'area' can be fitted only for whole-cell recordings (currents in pA or "
            "nA); this data is a current density (uA/cm^2)."
        )
    if AREA in free and "C_m" in free:
        raise ValueError(
            "C_m and area cannot both be free: a whole-cell recording shows only "
            "their product, the total capacitance. Fix C_m (e.g. 1 uF/cm^2)."
        )
    extra = set(bounds) - set(free)
    if extra:
        raise ValueError(
            f"bounds given for parameters that are not free: {sorted(extra)}."
        )
    units, transforms = [], []
    for name in free:
        if name == AREA:
            lo, hi = bounds.get(name, AREA_BOUNDS)
            units.append(AREA_UNIT)
            transforms.append(default_transform(lo, hi, log_scale=True))
            continue
        info = infos[name]
        if name in bounds:
            lo, hi = bounds[name]
        elif info.fit_bounds is not None:
            lo, hi = info.fit_bounds
        else:
            raise ValueError(
                f"`{name}` has no default bounds; give them ({info.unit})."
            )
        if lo < info.minimum or (info.strictly_positive and lo <= 0):
            raise ValueError(
                f"bounds of `{name}` ({lo:g}, {hi:g}) leave its physical range "
                f"({info.requirement()})."
            )
        log_scale = info.unit in ("mS/cm^2", "ms") or info.strictly_positive
        units.append(info.unit)
        transforms.append(default_transform(lo, hi, log_scale=log_scale))
    return ParameterSpace(tuple(free), tuple(units), tuple(transforms))
