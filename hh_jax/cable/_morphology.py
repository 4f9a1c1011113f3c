"""Neuron morphologies as trees of unbranched sections with 3-D points.

A :class:`Morphology` is a tuple of :class:`Section` s in topological order (every
section's parent comes before it). A section is an unbranched piece of cable given
by 3-D points with a diameter at each point (um), the cable between consecutive
points being a frustum (a cylinder when both diameters agree). This is NEURON's
description of a cell, so the same file gives the same cell here and there.

Host-side NumPy only: geometry is fixed before anything is compiled.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# SWC structure identifiers (the SWC standard) and the section names NEURON's
# Import3d gives them.
SOMA, AXON, BASAL, APICAL = 1, 2, 3, 4
KIND_NAMES = {SOMA: "soma", AXON: "axon", BASAL: "dend", APICAL: "apic"}


def kind_name(kind: int) -> str:
    """The section name prefix for an SWC structure identifier."""
    return KIND_NAMES.get(int(kind), f"custom{int(kind)}")


@dataclasses.dataclass(frozen=True, eq=False)
class Section:
    """One unbranched cable.

    **Fields:**

    - `name`: e.g. ``"dend[3]"``.
    - `kind`: SWC structure identifier (1 soma, 2 axon, 3 basal dendrite, 4 apical
      dendrite, other values custom).
    - `points`: ``(P, 3)`` coordinates of the 3-D points, um (``P >= 2``).
    - `diams`: ``(P,)`` diameters at the points, um (> 0).
    - `parent`: index of the parent section, or -1 for the root section.
    - `parent_x`: where on the parent the section's start attaches, as a fraction
      of the parent's length (0 = its start, 1 = its end).
    """

    name: str
    kind: int
    points: npt.ArrayLike
    diams: npt.ArrayLike
    parent: int = -1
    parent_x: float = 1.0

    def __post_init__(self):
        points = np.asarray(self.points, dtype=float)
        diams = np.asarray(self.diams, dtype=float)
        if points.ndim != 2 or points.shape[1] != 3 or points.shape[0] < 2:
            raise ValueError(
                f"section {self.name!r}: `points` must have shape (P >= 2, 3) (um); "
                f"got {points.shape}."
            )
        if diams.shape != (points.shape[0],):
            raise ValueError(
                f"section {self.name!r}: `diams` needs one diameter (um) per point; "
                f"got shape {diams.shape} for {points.shape[0]} points."
            )
        if not (np.all(np.isfinite(points)) and np.all(np.isfinite(diams))):
            raise ValueError(
                f"section {self.name!r}: points and diameters (um) must be finite."
            )
        if np.any(diams <= 0):
            raise ValueError(
                f"section {self.name!r}: diameters must be > 0 um; got "
                f"{diams.min():g} um."
            )
        if not 0.0 <= float(self.parent_x) <= 1.0:
            raise ValueError(
                f"section {self.name!r}: `parent_x` must lie in [0, 1] (fraction of "
                f"the parent's length); got {self.parent_x}."
            )
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "diams", diams)
        object.__setattr__(self, "parent_x", float(self.parent_x))
        if self.length <= 0:
            raise ValueError(f"section {self.name!r} has zero length (um).")

    @property
    def arc(self) -> np.ndarray:
        """Cumulative path length at each point, um (starts at 0)."""
        steps = np.linalg.norm(np.diff(self.points, axis=0), axis=1)
        return np.concatenate([[0.0], np.cumsum(steps)])

    @property
    def length(self) -> float:
        """Path length of the section, um."""
        return float(self.arc[-1])

    def point_at(self, x: float) -> np.ndarray:
        """Coordinates (um) at fraction `x` of the path length."""
        arc = self.arc
        s = float(x) * arc[-1]
        return np.array([np.interp(s, arc, self.points[:, i]) for i in range(3)])


@dataclasses.dataclass(frozen=True, eq=False)
class Morphology:
    """A tree of sections, parents before children (see :class:`Section`)."""

    sections: tuple[Section, ...]

    def __post_init__(self):
        sections = tuple(self.sections)
        if not sections:
            raise ValueError("a morphology needs at least one section.")
        for i, sec in enumerate(sections):
            if not isinstance(sec, Section):
                raise TypeError(f"sections[{i}] is not a Section.")
            if i == 0 and sec.parent != -1:
                raise ValueError("the first section must be the root (parent -1).")
            if i > 0 and not 0 <= sec.parent < i:
                raise ValueError(
                    f"section {sec.name!r} (index {i}) has parent {sec.parent}; a "
                    "section's parent must come before it (and only the first "
                    "section is a root)."
                )
            if i > 0 and sec.parent_x == 0.0 and sections[sec.parent].parent != -1:
                raise ValueError(
                    f"section {sec.name!r} attaches at x = 0 of a non-root section; "
                    "attach it to the end (x = 1) of that section's parent instead."
                )
        names = [s.name for s in sections]
        if len(set(names)) != len(names):
            raise ValueError("section names must be unique.")
        object.__setattr__(self, "sections", sections)

    def __len__(self) -> int:
        return len(self.sections)

    def index(self, section: "int | str") -> int:
        """The index of a section given by index or name."""
        if isinstance(section, str):
            for i, sec in enumerate(self.sections):
                if sec.name == section:
                    return i
            raise KeyError(
                f"no section named {section!r}; sections: "
                f"{', '.join(s.name for s in self.sections[:8])}"
                + (" ..." if len(self.sections) > 8 else "")
            )
        i = int(section)
        if not 0 <= i < len(self.sections):
            raise IndexError(
                f"section index {i} out of range (0..{len(self.sections) - 1})."
            )
        return i

    @property
    def total_length(self) -> float:
        """Summed path length of all sections, um."""
        return float(sum(s.length for s in self.sections))

    @classmethod
    def unbranched(cls, length: float, diam: float, *, name: str = "axon[0]"):
        """A single cylinder of `length` and `diam` (um) along the x axis."""
        for label, value in (("length", length), ("diam", diam)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    f"`{label}` must be a finite value > 0 um; got {value!r}."
                )
        section = Section(
            name=name,
            kind=AXON,
            points=np.array([[0.0, 0.0, 0.0], [float(length), 0.0, 0.0]]),
            diams=np.array([float(diam), float(diam)]),
        )
        return cls((section,))

    @classmethod
    def from_cylinders(
        cls,
        lengths: Sequence[float],
        diams: Sequence[float],
        parents: Sequence[int],
        *,
        names: Sequence[str] | None = None,
        kinds: Sequence[int] | None = None,
    ) -> "Morphology":
        """A tree of cylinders (NEURON's ``L`` and ``diam`` without 3-D points):
        section i has length ``lengths[i]`` and diameter ``diams[i]`` (um) and
        starts at the end of section ``parents[i]`` (-1 for the root, first).
        Coordinates are laid out along x (only path lengths matter)."""
        n = len(lengths)
        if not (len(diams) == n and len(parents) == n):
            raise ValueError("`lengths`, `diams` and `parents` need equal lengths.")
        names = list(names) if names is not None else [f"sec[{i}]" for i in range(n)]
        kinds = list(kinds) if kinds is not None else [BASAL] * n
        start = np.zeros(n)
        sections = []
        for i in range(n):
            p = int(parents[i])
            if i > 0 and not 0 <= p < i:
                raise ValueError(
                    f"parents[{i}] = {p}: each parent must be an earlier section."
                )
            if i > 0:
                start[i] = start[p] + float(lengths[p])
            a, b = start[i], start[i] + float(lengths[i])
            sections.append(
                Section(
                    name=names[i],
                    kind=int(kinds[i]),
                    points=np.array([[a, 0.0, 0.0], [b, 0.0, 0.0]]),
                    diams=np.full(2, float(diams[i])),
                    parent=p if i > 0 else -1,
                    parent_x=1.0,
                )
            )
        return cls(tuple(sections))
