"""Parameter spaces: what a sweep varies, computed chunk by chunk.

A space is never materialised: :meth:`AbstractSpace.values` gives the parameter
values of the flat indices ``start:stop`` only, so a grid of 10^8 points costs
nothing until its chunks are simulated. Spaces are host-side descriptions (NumPy,
never traced), so they are frozen dataclasses rather than Equinox modules.
"""

import abc
import dataclasses
import hashlib
import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

_AXIS = re.compile(
    r"^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<low>[^:]+):(?P<high>[^:]+)"
    r":(?P<n>[^:]+)(?::(?P<scale>lin|linear|log))?\s*$"
)


class AbstractSpace(abc.ABC):
    """A finite, ordered set of parameter sets: ``size`` points, each giving a value
    (in the parameter's unit) to every name in ``names``."""

    @property
    @abc.abstractmethod
    def names(self) -> tuple[str, ...]:
        """Parameter names, e.g. ``("g_Na", "g_K")``."""

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...]:
        """Shape of a feature array over the space (grid shape, or ``(n,)``)."""

    @property
    def size(self) -> int:
        """Number of parameter sets."""
        return math.prod(self.shape)

    @abc.abstractmethod
    def values(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Parameter values (float64, each of shape ``(stop - start,)``) of the
        points with flat (C-order) indices ``start:stop``."""

    @abc.abstractmethod
    def describe(self) -> dict:
        """A JSON-serialisable description (written to the sweep manifest)."""

    def validate(self, model) -> None:
        """Check the names and ranges against `model` with the shared selection
        (:func:`hh_jax.parameters.select`): an unknown name raises
        :class:`hh_jax.parameters.UnknownParameterError` (a ``KeyError`` and a
        ``ValueError``, listing the valid names with units), a value outside a
        parameter's admissible range ``ValueError``."""
        from ..parameters import select

        ranges = self.ranges()
        for p in select(model, None, self.names).parameters:
            p.check_range(*ranges[p.name], what="sweep range")

    @abc.abstractmethod
    def ranges(self) -> dict[str, tuple[float, float]]:
        """Smallest and largest value of each parameter."""


@dataclasses.dataclass(frozen=True)
class Axis:
    """One grid axis: `n` values of parameter `name` from `low` to `high`
    (inclusive, in the parameter's unit), evenly spaced (``scale="linear"``) or
    geometrically (``scale="log"``, needs ``low > 0``)."""

    name: str
    low: float
    high: float
    n: int
    scale: str = "linear"

    def __post_init__(self):
        where = f"axis {self.name}={self.low}:{self.high}:{self.n}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"{where}: parameter name must be an identifier.")
        if isinstance(self.n, bool) or not isinstance(self.n, int | np.integer):
            raise ValueError(f"{where}: the number of points must be an integer.")
        if self.n < 1:
            raise ValueError(f"{where}: the number of points must be >= 1.")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"{where}: LOW and HIGH must be finite numbers.")
        if not self.low < self.high:
            raise ValueError(f"{where}: LOW must be smaller than HIGH.")
        if self.scale not in ("linear", "log"):
            raise ValueError(f"{where}: scale must be 'linear' or 'log'.")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"{where}: a log axis needs LOW > 0.")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        object.__setattr__(self, "n", int(self.n))

    @classmethod
    def parse(cls, text: str) -> "Axis":
        """``"NAME=LOW:HIGH:N"`` (or ``"NAME=LOW:HIGH:N:log"``) as an :class:`Axis`."""
        match = _AXIS.match(text)
        if match is None:
            raise ValueError(
                f"malformed sweep axis {text!r}; expected NAME=LOW:HIGH:N (optionally "
                ":log), e.g. g_Na=50:200:64."
            )
        try:
            low, high = float(match["low"]), float(match["high"])
        except ValueError:
            raise ValueError(
                f"malformed sweep axis {text!r}: LOW and HIGH must be numbers."
            ) from None
        try:
            n = int(match["n"])
        except ValueError:
            raise ValueError(
                f"malformed sweep axis {text!r}: N must be an integer."
            ) from None
        scale = "log" if match["scale"] == "log" else "linear"
        return cls(match["name"], low, high, n, scale)

    def points(self, index: np.ndarray | None = None) -> np.ndarray:
        """The axis values (float64), all or at integer positions `index`."""
        k = np.arange(self.n) if index is None else np.asarray(index)
        frac = k / (self.n - 1) if self.n > 1 else np.zeros(k.shape)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            out = np.exp(lo + (hi - lo) * frac)
        else:
            out = self.low + (self.high - self.low) * frac
        # The ends exactly, whatever the rounding.
        out = np.where(k == self.n - 1, self.high, out) if self.n > 1 else out
        return np.where(k == 0, self.low, out).astype(np.float64)

    def __str__(self) -> str:
        tail = ":log" if self.scale == "log" else ""
        return f"{self.name}={self.low:g}:{self.high:g}:{self.n}{tail}"


@dataclasses.dataclass(frozen=True)
class Grid(AbstractSpace):
    """The cartesian product of :class:`Axis` values; flat index ``i`` is the grid
    point ``np.unravel_index(i, shape)`` (C order: the last axis varies fastest)."""

    axes: tuple[Axis, ...]

    def __post_init__(self):
        axes = tuple(self.axes)
        if not axes or not all(isinstance(a, Axis) for a in axes):
            raise ValueError("a Grid needs at least one Axis.")
        names = [a.name for a in axes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"parameter(s) {', '.join(dupes)} swept twice.")
        object.__setattr__(self, "axes", axes)

    @classmethod
    def parse(cls, specs: Sequence[str]) -> "Grid":
        """A grid from ``["g_Na=50:200:64", "g_K=10:60:32:log", ...]``."""
        if isinstance(specs, str):
            specs = [specs]
        return cls(tuple(Axis.parse(s) for s in specs))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.n for a in self.axes)

    def values(self, start: int, stop: int) -> dict[str, np.ndarray]:
        flat = np.arange(start, stop, dtype=np.int64)
        index = np.unravel_index(flat, self.shape)
        return {a.name: a.points(k) for a, k in zip(self.axes, index)}

    def ranges(self) -> dict[str, tuple[float, float]]:
        return {a.name: (a.low, a.high) for a in self.axes}

    def describe(self) -> dict:
        return {"kind": "grid", "axes": [dataclasses.asdict(a) for a in self.axes]}


@dataclasses.dataclass(frozen=True, eq=False)
class ParameterTable(AbstractSpace):
    """Explicit parameter sets: ``columns[name][i]`` is the value of `name` in set
    ``i`` (all columns of one length n). Held in memory (8 bytes per value)."""

    columns: Mapping[str, np.ndarray]

    def __post_init__(self):
        cols = {str(k): np.asarray(v, np.float64) for k, v in self.columns.items()}
        if not cols:
            raise ValueError("a ParameterTable needs at least one column.")
        lengths = {k: v.shape for k, v in cols.items()}
        if any(len(s) != 1 for s in lengths.values()) or len(set(lengths.values())) > 1:
            raise ValueError(
                f"every column must be 1-D and of the same length; got {lengths}."
            )
        if next(iter(lengths.values()))[0] < 1:
            raise ValueError("a ParameterTable needs at least one row.")
        for k, v in cols.items():
            if not np.all(np.isfinite(v)):
                raise ValueError(f"column `{k}` holds NaN or infinite values.")
            v.setflags(write=False)
        object.__setattr__(self, "columns", cols)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(next(iter(self.columns.values()))),)

    def values(self, start: int, stop: int) -> dict[str, np.ndarray]:
        return {k: np.array(v[start:stop]) for k, v in self.columns.items()}

    def ranges(self) -> dict[str, tuple[float, float]]:
        return {k: (float(v.min()), float(v.max())) for k, v in self.columns.items()}

    def digest(self) -> str:
        """SHA-256 of the table (names and values), to recognise it on resume."""
        h = hashlib.sha256()
        for k, v in self.columns.items():
            h.update(k.encode() + b"\0")
            h.update(np.ascontiguousarray(v).tobytes())
        return h.hexdigest()

    def describe(self) -> dict:
        return {
            "kind": "table",
            "names": list(self.names),
            "size": self.size,
            "sha256": self.digest(),
            "ranges": {k: list(r) for k, r in self.ranges().items()},
        }


def latin_hypercube(
    bounds: Mapping[str, tuple[float, float]], n: int, *, seed: int = 0
) -> ParameterTable:
    """`n` parameter sets by Latin-hypercube sampling: each parameter's range
    ``bounds[name] = (low, high)`` (its unit) cut into `n` equal strata, one point
    drawn uniformly in each, the strata paired at random (``seed``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive integer; got {n!r}.")
    from scipy.stats import qmc

    for name, (low, high) in bounds.items():
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"bounds of `{name}` must be finite with LOW < HIGH.")
    if not bounds:
        raise ValueError("`bounds` must name at least one parameter.")
    unit = qmc.LatinHypercube(d=len(bounds), seed=np.random.default_rng(seed))
    u = unit.random(n)
    columns = {
        name: low + (high - low) * u[:, j]
        for j, (name, (low, high)) in enumerate(bounds.items())
    }
    return ParameterTable(columns)
