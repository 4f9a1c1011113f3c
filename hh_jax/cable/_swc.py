"""Reading SWC morphology files into a :class:`Morphology`.

An SWC file lists sample points, one a line: ``id type x y z radius parent``
(coordinates and radius in um, parent -1 for the root, ``#`` starts a comment).
Points are grouped into unbranched sections the way NEURON's ``Import3d`` does
for files written depth-first (each branch after its parent), so that a file gives
the same sections, 3-D points and connections in both:

- A section is a chain of points of one type; it ends at a branch point (a point
  with two or more children), where the type changes, or at a tip.
- A child section starts with a copy of its parent point (NEURON prepends it),
  with the parent's diameter, so that the cable is continuous.
- A single-point soma (the root is the only soma point) becomes a cylinder of
  length and diameter ``2 r`` along x, centred on the point (3 points);
  sections starting from it attach at its middle (x = 0.5) and start at their own
  first point.
- A soma given as a chain of points is one section; a soma point's children of
  another type attach at that point's position along the soma (start at x = 0,
  end at x = 1, else its path fraction), and at the soma's ends the copied point
  takes the child's diameter (as Import3d does).
- The root's first child of its own type continues the root's section; its other
  children attach at x = 0.
- As in Import3d, a point whose parent is not the previous line starts a new
  section even on an unbranched chain (in a depth-first file this happens only at
  branch points).
"""

import dataclasses
from pathlib import Path

import numpy as np

from ._morphology import SOMA, Morphology, Section, kind_name


def _parse(text: str, source: str):
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 7:
            raise ValueError(
                f"{source}:{lineno}: an SWC line needs 7 fields (id type x y z "
                f"radius parent); got {len(fields)}."
            )
        try:
            ident, kind, parent = int(fields[0]), int(fields[1]), int(fields[6])
            x, y, z, r = (float(v) for v in fields[2:6])
        except ValueError:
            raise ValueError(f"{source}:{lineno}: cannot read {line!r}.") from None
        if not np.isfinite([x, y, z, r]).all() or r <= 0:
            raise ValueError(
                f"{source}:{lineno}: coordinates must be finite and the radius > 0 "
                f"um; got radius {r}."
            )
        rows.append((ident, kind, x, y, z, r, parent))
    if not rows:
        raise ValueError(f"{source}: no SWC points found.")
    return rows


class _Points:
    """The parsed points, indexed by SWC id, with children in file order."""

    def __init__(self, rows, source):
        self.kind, self.xyz, self.radius, self.parent = {}, {}, {}, {}
        self.children: dict[int, list[int]] = {}
        self.line: dict[int, int] = {}
        for line, (ident, kind, x, y, z, r, parent) in enumerate(rows):
            self.line[ident] = line
            if ident in self.kind:
                raise ValueError(f"{source}: point id {ident} appears twice.")
            self.kind[ident] = kind
            self.xyz[ident] = np.array([x, y, z])
            self.radius[ident] = r
            self.parent[ident] = parent
            self.children[ident] = []
        roots = [i for i, p in self.parent.items() if p == -1]
        if len(roots) != 1:
            raise ValueError(
                f"{source}: an SWC cell needs exactly one root point (parent -1); "
                f"found {len(roots)}."
            )
        self.root = roots[0]
        for ident, parent in self.parent.items():
            if parent == -1:
                continue
            if parent not in self.kind:
                raise ValueError(
                    f"{source}: point {ident} names parent {parent}, which is not "
                    "in the file."
                )
            self.children[parent].append(ident)
        # Every point must be reachable from the root (no cycles, one tree).
        seen, stack = set(), [self.root]
        while stack:
            i = stack.pop()
            seen.add(i)
            stack.extend(self.children[i])
        if len(seen) != len(self.kind):
            raise ValueError(f"{source}: the points do not form a single tree.")

    def diam(self, i):
        return 2.0 * self.radius[i]


def load_swc(path: "str | Path") -> Morphology:
    """Read an SWC file (coordinates and radii in um) into a :class:`Morphology`.

    Sections are named by type as NEURON does (``soma[0]``, ``axon[0]``,
    ``dend[i]``, ``apic[i]``; other types ``custom<type>[i]``); see the module
    documentation for how points become sections.
    """
    path = Path(path)
    return parse_swc(path.read_text(), source=str(path))


def parse_swc(text: str, *, source: str = "<swc>") -> Morphology:
    """:func:`load_swc` on the text of an SWC file."""
    pts = _Points(_parse(text, source), source)
    counters: dict[int, int] = {}
    sections: list[Section] = []
    # Pending section starts: (first point id, parent section, how it attaches
    # ("root", "middle" of a point soma, "start"/"end" of the parent, "inside" a
    # soma chain), parent point id, x on the parent for "inside").
    pending: list[tuple[int, int, str, int | None, float]] = []

    first_line: list[int] = []  # file line of each section's first own point

    def name_for(kind):  # a placeholder, renumbered at the end
        n = counters.get(kind, 0)
        counters[kind] = n + 1
        return f"{kind_name(kind)}[{n}]"

    def add_section(ids, kind, parent, parent_x, pre=None):
        first_line.append(pts.line[ids[0]])
        xyz = [pts.xyz[i] for i in ids]
        diams = [pts.diam(i) for i in ids]
        if pre is not None:
            xyz.insert(0, pre[0])
            diams.insert(0, pre[1])
        sections.append(
            Section(
                name=name_for(kind),
                kind=kind,
                points=np.array(xyz),
                diams=np.array(diams),
                parent=parent,
                parent_x=parent_x,
            )
        )
        return len(sections) - 1

    root = pts.root
    root_kind = pts.kind[root]
    soma_children = [c for c in pts.children[root] if pts.kind[c] == SOMA]
    if root_kind == SOMA and not soma_children:
        # Single-point soma: a cylinder 2r long and 2r wide, centred on the point.
        first_line.append(pts.line[root])
        c, r = pts.xyz[root], pts.radius[root]
        offsets = np.array([[-r, 0.0, 0.0], [0.0, 0.0, 0.0], [r, 0.0, 0.0]])
        sections.append(
            Section(
                name=name_for(SOMA),
                kind=SOMA,
                points=c + offsets,
                diams=np.full(3, 2.0 * r),
            )
        )
        for child in reversed(pts.children[root]):
            pending.append((child, 0, "middle", None, 0.5))
    else:
        pending.append((root, -1, "root", None, 0.0))

    while pending:
        start, parent, how, via, inside_x = pending.pop()
        kind = pts.kind[start]
        ids = [start]
        attach: list[tuple[int, int]] = []  # (child, index of its point in `ids`)
        current = start
        while True:
            kids = pts.children[current]
            same = [k for k in kids if pts.kind[k] == kind]
            if how == "root" and current == start:
                follow = same[0] if same else None
            elif kind == SOMA:
                follow = same[0] if len(same) == 1 else None
            else:
                follow = kids[0] if len(kids) == 1 and same else None
            if follow is not None and pts.line[follow] != pts.line[current] + 1:
                follow = None  # not the next line: Import3d starts a section
            for k in kids:
                if k != follow:
                    attach.append((k, len(ids) - 1))
            if follow is None:
                break
            ids.append(follow)
            current = follow
        if len(ids) < 2 and how in ("root", "middle"):
            raise ValueError(
                f"{source}: point {start} starts a section of a single point "
                "(no continuation of its type); cannot make a cable of it."
            )
        # Where this section attaches, and the copied parent point, if any.
        if how in ("root", "middle", "inside"):
            parent_x, pre = (1.0 if how == "root" else inside_x), None
        else:
            parent_x, pre = _attachment(pts, sections[parent], via, start, how)
        index = add_section(ids, kind, parent, parent_x, pre)
        arc = sections[index].arc
        offset = 0 if pre is None else 1
        for child, at in reversed(attach):
            if at == 0 and how == "root":
                pending.append((child, index, "start", ids[at], 0.0))
            elif at == len(ids) - 1:
                pending.append((child, index, "end", ids[at], 1.0))
            else:  # interior point of a soma chain
                x = float(arc[at + offset] / arc[-1])
                pending.append((child, index, "inside", ids[at], x))
    return Morphology(tuple(_numbered(sections, first_line)))


def _numbered(sections, first_line):
    """Name the sections of each type in the file order of their first points, as
    Import3d does (``dend[0]`` starts earliest in the file)."""
    names = {}
    for kind in {s.kind for s in sections}:
        mine = sorted(
            (i for i, s in enumerate(sections) if s.kind == kind),
            key=lambda i: first_line[i],
        )
        for n, i in enumerate(mine):
            names[i] = f"{kind_name(kind)}[{n}]"
    return [dataclasses.replace(s, name=names[i]) for i, s in enumerate(sections)]


def _attachment(pts, parent_section, via, start, how):
    """(parent_x, copied point) for a section starting at point `start` whose
    parent point is `via` in `parent_section`."""
    parent_x = 0.0 if how == "start" else 1.0
    diam = pts.diam(start) if parent_section.kind == SOMA else pts.diam(via)
    return parent_x, (pts.xyz[via], diam)
