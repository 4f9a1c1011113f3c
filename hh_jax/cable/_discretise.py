"""From a morphology to compartments: the d_lambda rule, segment areas and axial
resistances, and the tree of nodes the solver works on.

The discretisation is NEURON's, so that a cell here and in NEURON has the same
nodes and the same equations:

- Section s is cut into ``nseg[s]`` segments of equal path length; each has a
  node at its centre carrying the segment's membrane (area from the frustums
  between the 3-D points, lateral surface ``pi (r1 + r2) sqrt(dx^2 + (r1 - r2)^2)``).
- Neighbouring centres are joined by the axial resistance of the cable between
  them, ``R_a * integral dx / (pi r^2)`` (exact for a frustum:
  ``R_a dx / (pi r1 r2)``).
- Where child sections attach to the end of a section (x = 1), or to the start of
  the root section (x = 0), there is a node without membrane (zero area) joined
  to the nearest centre by half a segment; a child attaching elsewhere joins the
  centre of the segment that contains the point. A child's first centre is half
  of its first segment from the node it attaches to.
- Ends without children (sealed ends) carry no node: no current flows there, so
  NEURON's zero-area end node has the voltage of its neighbouring centre.

Host-side NumPy; the result is hashable so that it can be a static part of a
compiled function.
"""

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np

from ._morphology import Morphology, Section
from ._tree import TreeSchedule


def _lambda_f(section: Section, frequency: float, R_a: float, C_m: float) -> float:
    """NEURON's ``lambda_f`` (fixnseg.hoc): the AC length constant (um) at
    `frequency` (Hz), averaged over the 3-D points."""
    arc, d = section.arc, section.diams
    lam = np.sum(np.diff(arc) / np.sqrt(d[:-1] + d[1:]))
    lam *= np.sqrt(2.0) * 1e-5 * np.sqrt(4.0 * np.pi * frequency * R_a * C_m)
    return section.length / lam


def d_lambda_nseg(
    morphology: Morphology,
    *,
    R_a: "float | Sequence[float]",
    C_m: "float | Sequence[float]" = 1.0,
    frequency: float = 100.0,
    d_lambda: float = 0.1,
) -> tuple[int, ...]:
    """Segments per section by NEURON's d_lambda rule (``geom_nseg``): the odd
    number of segments that makes each at most `d_lambda` of the AC length
    constant at `frequency` (Hz), ``nseg = int((L / (d_lambda lambda_f) + 0.9) / 2)
    * 2 + 1``.

    `R_a` (ohm*cm) and `C_m` (uF/cm^2): one value, or one per section.
    """
    n = len(morphology)
    R_a = np.broadcast_to(np.asarray(R_a, dtype=float), (n,))
    C_m = np.broadcast_to(np.asarray(C_m, dtype=float), (n,))
    if not (np.all(R_a > 0) and np.all(C_m > 0)):
        raise ValueError("`R_a` (ohm*cm) and `C_m` (uF/cm^2) must be > 0.")
    if not (frequency > 0 and d_lambda > 0):
        raise ValueError(
            f"`frequency` (Hz) and `d_lambda` must be > 0; got {frequency}, {d_lambda}."
        )
    nseg = []
    for sec, ra, cm in zip(morphology.sections, R_a, C_m):
        lam = _lambda_f(sec, frequency, float(ra), float(cm))
        nseg.append(int((sec.length / (d_lambda * lam) + 0.9) / 2) * 2 + 1)
    return tuple(nseg)


def _half_segment_integrals(section: Section, nseg: int):
    """Membrane area (um^2) and ``integral dx / (pi r^2)`` (1/um) over each half
    segment, ``(2 nseg,)`` each, from the frustums between the 3-D points.

    A zero-length step in diameter between two points at the same place counts
    as the annulus it exposes (no resistance), in the half segment holding it."""
    arc, r = section.arc, section.diams / 2.0
    edges = np.linspace(0.0, arc[-1], 2 * nseg + 1)
    area = np.zeros(2 * nseg)
    resistance = np.zeros(2 * nseg)
    for j in range(len(arc) - 1):
        a0, a1, r0, r1 = arc[j], arc[j + 1], r[j], r[j + 1]
        if a1 <= a0:
            # On a boundary it belongs to the earlier half segment (as in NEURON).
            k = int(
                np.clip(np.searchsorted(edges, a0, side="left") - 1, 0, 2 * nseg - 1)
            )
            area[k] += np.pi * (r0 + r1) * abs(r0 - r1)
            continue
        for k in range(2 * nseg):
            lo, hi = max(a0, edges[k]), min(a1, edges[k + 1])
            if hi <= lo:
                continue
            ra = r0 + (r1 - r0) * (lo - a0) / (a1 - a0)
            rb = r0 + (r1 - r0) * (hi - a0) / (a1 - a0)
            dx = hi - lo
            area[k] += np.pi * (ra + rb) * np.sqrt(dx * dx + (ra - rb) ** 2)
            resistance[k] += dx / (np.pi * ra * rb)
    return area, resistance


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """The nodes of a discretised cell and how they connect (host-side, static).

    **Fields** (arrays have one entry per node, N in all):

    - `morphology`, `nseg`: what was discretised, segments per section.
    - `parent`: parent node, -1 for the root; parents come before children.
    - `section`, `x`: the section a node belongs to and its position along it
      (fraction of the section's length; 0 or 1 for the zero-area junction nodes).
    - `area`: membrane area, um^2 (0 at junction nodes).
    - `axial`: ``integral dx / (pi r^2)`` (1/um) of the cable between a node and
      its parent (0 for the root); the axial resistance is
      ``1e4 * R_a * axial`` ohm with `R_a` in ohm*cm.
    - `distance`: path length from the start of the root section, um.
    - `xyz`: coordinates, um.

    :meth:`schedule` gives the elimination plan of the tree solve.
    """

    morphology: Morphology
    nseg: tuple[int, ...]
    parent: np.ndarray
    section: np.ndarray
    x: np.ndarray
    area: np.ndarray
    axial: np.ndarray
    distance: np.ndarray
    xyz: np.ndarray
    _digest: str = dataclasses.field(repr=False, default="")
    _schedules: dict = dataclasses.field(repr=False, default_factory=dict)

    def __post_init__(self):
        # Identity (hash, ==) is the topology: a compiled simulation depends on it
        # alone, while areas and resistances are the Cable's array fields. Cables
        # of another diameter or resistivity on the same nodes share compilations.
        h = hashlib.sha1()
        for a in (self.parent, self.section, self.x):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr(self.nseg).encode())
        object.__setattr__(self, "_digest", h.hexdigest())

    def __hash__(self):
        return hash(self._digest)

    def __eq__(self, other):
        return isinstance(other, Layout) and other._digest == self._digest

    def schedule(self, width: int | None = None) -> TreeSchedule:
        """The tree-solve plan eliminating up to `width` nodes per sequential step
        (None: about the tree's height in steps; see :class:`TreeSchedule`)."""
        if width not in self._schedules:
            self._schedules[width] = TreeSchedule.build(self.parent, width=width)
        return self._schedules[width]

    @property
    def num_nodes(self) -> int:
        return int(self.parent.shape[0])

    @property
    def kind(self) -> np.ndarray:
        """SWC structure identifier of each node's section."""
        kinds = np.array([s.kind for s in self.morphology.sections])
        return kinds[self.section]

    def section_nodes(self, section: "int | str") -> np.ndarray:
        """Indices of the nodes of one section (by index or name), start to end."""
        s = self.morphology.index(section)
        nodes = np.nonzero(self.section == s)[0]
        return nodes[np.argsort(self.x[nodes], kind="stable")]

    def node(self, section: "int | str", x: float) -> int:
        """The node that represents position `x` (fraction of the length) of
        `section`: the centre of the segment containing x, as in NEURON; at x = 0
        or 1 the junction node there if there is one, else the end segment's
        centre (which has the same voltage: the end is sealed)."""
        s = self.morphology.index(section)
        x = float(x)
        if not 0.0 <= x <= 1.0:
            raise ValueError(
                f"position x = {x} on {self.morphology.sections[s].name}: x must lie "
                "in [0, 1] (fraction of the section's length)."
            )
        nodes = self.section_nodes(s)
        xs = self.x[nodes]
        if x in (0.0, 1.0):
            hit = np.nonzero(xs == x)[0]
            if hit.size:
                return int(nodes[hit[0]])
        n = self.nseg[s]
        k = min(int(x * n), n - 1)
        centres = nodes[(xs > 0.0) & (xs < 1.0)]
        return int(centres[k])

    def path_distance(self, a: int, b: int) -> float:
        """Path length (um) between nodes `a` and `b` along the tree."""
        ancestors = set()
        i = int(a)
        while i >= 0:
            ancestors.add(i)
            i = int(self.parent[i])
        j = int(b)
        while j not in ancestors:
            j = int(self.parent[j])
        return float(self.distance[a] + self.distance[b] - 2.0 * self.distance[j])

    def describe(self, node: int) -> str:
        """``"name(x)"`` of a node, as NEURON writes a segment."""
        name = self.morphology.sections[int(self.section[node])].name
        return f"{name}({self.x[node]:.6g})"


def discretise(morphology: Morphology, nseg: "int | Sequence[int]") -> Layout:
    """The nodes of `morphology` with `nseg` segments per section (one int for
    all, or one per section; see :func:`d_lambda_nseg`)."""
    n_sec = len(morphology)
    if isinstance(nseg, int | np.integer):
        nseg = (int(nseg),) * n_sec
    nseg = tuple(int(n) for n in nseg)
    if len(nseg) != n_sec or any(n < 1 for n in nseg):
        raise ValueError(
            f"`nseg` needs one positive int per section ({n_sec}); got {nseg}."
        )
    sections = morphology.sections
    attach_end = [False] * n_sec
    attach_start = [False] * n_sec
    for sec in sections[1:]:
        if sec.parent_x == 1.0:
            attach_end[sec.parent] = True
        elif sec.parent_x == 0.0:
            attach_start[sec.parent] = True

    parent, sec_of, xs, area, axial, dist, xyz = [], [], [], [], [], [], []
    start_node, end_node, centres = {}, {}, {}

    def add(p, s, x, a, f, d):
        parent.append(p)
        sec_of.append(s)
        xs.append(x)
        area.append(a)
        axial.append(f)
        dist.append(d)
        xyz.append(sections[s].point_at(x))
        return len(parent) - 1

    for s, sec in enumerate(sections):
        n = nseg[s]
        a_half, r_half = _half_segment_integrals(sec, n)
        L = sec.length
        if s == 0:
            base, d0 = -1, 0.0
            if attach_start[0]:
                base = start_node[0] = add(-1, 0, 0.0, 0.0, 0.0, 0.0)
        else:
            p = sec.parent
            if sec.parent_x == 1.0:
                base = end_node[p]
            elif sec.parent_x == 0.0:
                base = start_node[p]
            else:
                k = min(int(sec.parent_x * nseg[p]), nseg[p] - 1)
                base = centres[p][k]
            d0 = (
                dist[base]
                if sec.parent_x in (0.0, 1.0)
                else (
                    dist[centres[p][0]]
                    - (0.5 / nseg[p]) * sections[p].length
                    + sec.parent_x * sections[p].length
                )
            )
        nodes = []
        for k in range(n):
            if k == 0:
                f = r_half[0] if base >= 0 else 0.0
                p = base
            else:
                f = r_half[2 * k - 1] + r_half[2 * k]
                p = nodes[-1]
            a = a_half[2 * k] + a_half[2 * k + 1]
            nodes.append(add(p, s, (k + 0.5) / n, a, f, d0 + (k + 0.5) * L / n))
        centres[s] = nodes
        if attach_end[s]:
            end_node[s] = add(nodes[-1], s, 1.0, 0.0, r_half[-1], d0 + L)

    parent = np.asarray(parent, dtype=np.int64)
    return Layout(
        morphology=morphology,
        nseg=nseg,
        parent=parent,
        section=np.asarray(sec_of, dtype=np.int64),
        x=np.asarray(xs, dtype=float),
        area=np.asarray(area, dtype=float),
        axial=np.asarray(axial, dtype=float),
        distance=np.asarray(dist, dtype=float),
        xyz=np.asarray(xyz, dtype=float),
    )
