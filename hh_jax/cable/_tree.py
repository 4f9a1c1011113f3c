"""Solving the tree-structured linear system of a cable in O(N), vectorised.

The implicit step of a cable couples each node only to its neighbours on the
tree, so the matrix is symmetric with one off-diagonal pair per link:
``A[i, i] = diag[i]`` and ``A[i, p] = A[p, i] = -g[i]`` for the link between node
``i`` and its parent ``p``. Gaussian elimination from the leaves to a root
followed by back substitution from the root (Hines 1984) solves it exactly with
no fill-in.

Elimination is serial only along root-to-leaf paths, so the schedule here
eliminates many nodes per step: the solver re-roots the tree at its centre
(halving the longest path), then, like Hu's algorithm for scheduling tree-shaped
task graphs, packs each step with up to `width` ready nodes, those farthest from
the root first for the elimination, those with the most below them first for the
back substitution. A step is a gather, a few elementwise operations and a
scatter-add over `width` nodes: the whole solve is a ``jax.lax.scan`` of about
the tree's height in steps, differentiable in both modes and batched by ``vmap``.
"""

import dataclasses
import functools
import hashlib
import heapq

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float


def _neighbours(parent: np.ndarray) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(parent.shape[0])]
    for i, p in enumerate(parent):
        if p >= 0:
            adj[i].append(int(p))
            adj[int(p)].append(i)
    return adj


def _bfs(adj, start):
    """Breadth-first order, parents and depths from `start`."""
    n = len(adj)
    order, up, depth = [start], np.full(n, -1), np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=bool)
    seen[start] = True
    head = 0
    while head < len(order):
        u = order[head]
        head += 1
        for v in adj[u]:
            if not seen[v]:
                seen[v] = True
                up[v] = u
                depth[v] = depth[u] + 1
                order.append(v)
    return order, up, depth


def _centre(adj) -> int:
    """A centre of the tree: the middle of a longest path."""
    order, _, _ = _bfs(adj, 0)
    far = order[-1]
    order, up, _ = _bfs(adj, far)
    path = [order[-1]]
    while up[path[-1]] >= 0:
        path.append(int(up[path[-1]]))
    return path[len(path) // 2]


def _pack(ready_key, blockers, release, n, width):
    """List scheduling: steps of up to `width` nodes, a node being ready when its
    `blockers` count reaches zero; highest `ready_key` first. Returns a list of
    lists of nodes."""
    heap = [(-ready_key[u], u) for u in range(n) if blockers[u] == 0]
    heapq.heapify(heap)
    steps = []
    while heap:
        step = [heapq.heappop(heap)[1] for _ in range(min(width, len(heap)))]
        steps.append(step)
        for u in step:
            for v in release(u):
                blockers[v] -= 1
                if blockers[v] == 0:
                    heapq.heappush(heap, (-ready_key[v], v))
    return steps


@dataclasses.dataclass(frozen=True, eq=False)
class TreeSchedule:
    """Static elimination plan for a tree of `n` nodes.

    - `root`: the node solved last in elimination (the tree's centre).
    - `eliminate`: ``(3, S_e, W)`` node, its parent towards `root`, and the index
      of the link's conductance, per step and slot; padding slots hold `n`.
    - `substitute`: ``(3, S_b, W)`` likewise for the back substitution.
    - `parent`: the tree as given (node i's link, of conductance ``g[i]``, joins
      it to ``parent[i]``; -1 for the root).
    """

    n: int
    root: int
    eliminate: np.ndarray
    substitute: np.ndarray
    parent: np.ndarray
    _digest: str = dataclasses.field(repr=False, default="")

    def __post_init__(self):
        h = hashlib.sha1(np.ascontiguousarray(self.eliminate).tobytes())
        h.update(np.ascontiguousarray(self.parent).tobytes())
        h.update(np.ascontiguousarray(self.substitute).tobytes())
        h.update(repr((self.n, self.root)).encode())
        object.__setattr__(self, "_digest", h.hexdigest())

    def __hash__(self):
        return hash(self._digest)

    def __eq__(self, other):
        return isinstance(other, TreeSchedule) and other._digest == self._digest

    @property
    def num_steps(self) -> int:
        """Sequential steps of one solve (elimination plus substitution)."""
        return int(self.eliminate.shape[1] + self.substitute.shape[1])

    @classmethod
    def build(cls, parent: np.ndarray, width: int | None = None) -> "TreeSchedule":
        """The plan for the tree given by `parent` (``parent[i]`` the parent of
        node i, -1 for the root; the link of node i has conductance index i).
        `width`: nodes per step (default: ``ceil(N / height)``, so that the
        number of steps is about the height of the re-rooted tree)."""
        parent = np.asarray(parent, dtype=np.int64)
        n = int(parent.shape[0])
        if n == 0 or np.sum(parent < 0) != 1:
            raise ValueError("a tree needs nodes and exactly one root (parent -1).")
        adj = _neighbours(parent)
        root = _centre(adj)
        order, up, depth = _bfs(adj, root)
        if len(order) != n:
            raise ValueError("the nodes do not form one connected tree.")
        height = np.zeros(n, dtype=np.int64)  # longest path down to a leaf
        for u in reversed(order):
            if up[u] >= 0:
                height[up[u]] = max(height[up[u]], height[u] + 1)
        if width is None:
            width = max(1, -(-(n - 1) // max(int(height[root]), 1)))
        width = int(width)
        if width < 1:
            raise ValueError(f"`width` must be a positive int; got {width}.")
        # The geometric link of u (index of its conductance) is u when u's
        # geometric parent is its parent towards the new root, else that parent.
        link = np.array(
            [u if parent[u] == up[u] else int(up[u]) for u in range(n)], dtype=np.int64
        )
        children = [[] for _ in range(n)]
        for u in range(n):
            if up[u] >= 0:
                children[up[u]].append(u)
        # Elimination: a node is ready once all its children are eliminated.
        blockers = np.array([len(c) for c in children])
        blockers[root] = n + 1  # never eliminated
        elim = _pack(depth, blockers, lambda u: [int(up[u])], n, width)
        # Substitution: ready once the parent is known; the root is solved first.
        blockers = np.ones(n, dtype=np.int64)
        blockers[root] = 0
        subst = _pack(height, blockers, lambda u: children[u], n, width)
        subst = [[u for u in step if u != root] for step in subst]
        subst = [step for step in subst if step]

        def table(steps):
            out = np.full((3, max(len(steps), 1), width), n, dtype=np.int32)
            for s, step in enumerate(steps):
                out[0, s, : len(step)] = step
                out[1, s, : len(step)] = up[step]
                out[2, s, : len(step)] = link[step]
            return out

        return cls(
            n=n,
            root=int(root),
            eliminate=table(elim),
            substitute=table(subst),
            parent=parent,
        )


def tree_matvec(
    schedule: TreeSchedule,
    diag: Float[Array, " N"],
    g: Float[Array, " N"],
    x: Float[Array, " N"],
) -> Float[Array, " N"]:
    """``A x`` for the tree matrix of :func:`tree_solve`."""
    up = np.where(schedule.parent < 0, np.arange(schedule.n), schedule.parent)
    link = jnp.where(schedule.parent < 0, 0.0, g)
    return diag * x - link * x[up] - jnp.zeros_like(x).at[up].add(link * x)


@functools.partial(jax.jit, static_argnums=0)
def tree_solve(
    schedule: TreeSchedule,
    diag: Float[Array, " N"],
    g: Float[Array, " N"],
    rhs: Float[Array, " N"],
) -> Float[Array, " N"]:
    """Solve ``A x = rhs`` for the symmetric tree matrix with diagonal `diag` and
    ``A[i, parent[i]] = A[parent[i], i] = -g[i]`` (``g[root]`` unused).

    The matrix must be non-singular with a non-vanishing pivot at every step, which
    holds for the diagonally dominant matrices of a cable step (``diag[i] >=`` the
    sum of its links' ``g``, strictly somewhere on every branch).

    Derivatives (forward and reverse) are those of the linear solve, computed by
    implicit differentiation (``jax.lax.custom_linear_solve``): one more tree solve
    and a matrix-vector product, O(N), instead of differentiating the elimination
    steps (whose reverse pass would touch the whole vector at every step)."""
    return jax.lax.custom_linear_solve(
        lambda x: tree_matvec(schedule, diag, g, x),
        rhs,
        lambda _, b: _eliminate_and_substitute(schedule, diag, g, b),
        symmetric=True,
    )


def _eliminate_and_substitute(schedule, diag, g, rhs):
    one = jnp.ones((1,), diag.dtype)
    zero = jnp.zeros((1,), diag.dtype)
    d = jnp.concatenate([diag, one])  # index n: a harmless padding slot
    r = jnp.concatenate([rhs, zero])
    gg = jnp.concatenate([g, zero])

    def eliminate(carry, step):
        d, r = carry
        u, p, e = step[0], step[1], step[2]
        factor = gg[e] / d[u]
        d = d.at[p].add(-gg[e] * factor)
        r = r.at[p].add(factor * r[u])
        return (d, r), None

    (d, r), _ = jax.lax.scan(
        eliminate, (d, r), jnp.asarray(np.moveaxis(schedule.eliminate, 0, 1))
    )
    x = jnp.zeros_like(d).at[schedule.root].set(r[schedule.root] / d[schedule.root])

    def substitute(x, step):
        u, p, e = step[0], step[1], step[2]
        return x.at[u].set((r[u] + gg[e] * x[p]) / d[u]), None

    x, _ = jax.lax.scan(
        substitute, x, jnp.asarray(np.moveaxis(schedule.substitute, 0, 1))
    )
    return x[:-1]
