"""Exact derivatives of the batched solvers, in forward and in reverse mode.

A solver's output is wrapped in a ``jax.custom_jvp`` whose tangent is a linear
map with a custom transpose (:mod:`._linear`), so ``jax.jvp``/``jax.jacfwd``
and ``jax.grad``/``jax.vjp`` all work and both give the derivative of the
computed (discrete) solution:

- **Few directions** (the usual case: a loss over a batch differentiated with
  respect to a few parameters, shared or one per neuron): the forward pass
  propagates the solution together with its sensitivities along every basis
  direction of the differentiated inputs (one pass; lanes being independent, a
  per-neuron parameter is a single direction whatever the batch size). Forward
  and reverse mode are then contractions with the stored sensitivities.
  Reverse mode costs one such pass (measured ~3x a plain solve).
- **Many directions** (when the sensitivities would not fit in
  ``SENSITIVITY_BYTES``): tangents are propagated on demand in forward mode;
  reverse mode runs the solver-specific adjoint if there is one (the fixed-step
  solvers: a sweep backwards over checkpointed chunks of steps, each chunk
  recomputed from its stored start state and differentiated there), else one
  forward pass per basis direction.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._fixed import Options, chunk_function, raw_solve, start_derivative
from ._linear import fill_tangents, linear_call, nonzero_tangents, zero_tangent

# Forward sensitivities are kept for at most this many bytes (all directions).
SENSITIVITY_BYTES = 1.5e9


def _directions(leaves, mask, per_lane_of):
    """Basis directions of the differentiated leaves: one per element of a shared
    leaf, one per trailing element of a per-lane leaf (the lanes are
    independent, so a tangent of ones over the lanes gives every lane its own
    sensitivity). Returns [(leaf index, element index, per_lane)]."""
    out = []
    for k, (leaf, m) in enumerate(zip(leaves, mask)):
        kind = per_lane_of[k]
        if not m or kind is None:  # None: no derivative by convention
            continue
        shape = jnp.shape(leaf)[1:] if kind else jnp.shape(leaf)
        for e in range(int(np.prod(shape, dtype=int))):
            out.append((k, e, kind))
    return out


def _basis(leaves, treedef, directions):
    """Stacked tangents (D, ...), one basis direction each."""
    D = len(directions)
    stacked = [zero_tangent(x, (D,) + jnp.shape(x)) for x in leaves]
    for d, (k, e, per_lane) in enumerate(directions):
        x = stacked[k]
        if per_lane:
            flat = x[d].reshape((x.shape[1], -1)).at[:, e].set(1.0)
        else:
            flat = x[d].reshape(-1).at[e].set(1.0)
        stacked[k] = x.at[d].set(flat.reshape(x.shape[1:]))
    return jax.tree.unflatten(treedef, stacked)


def _coefficient(leaf, e, per_lane):
    if per_lane:
        return leaf.reshape((leaf.shape[0], -1))[:, e]  # (N,): the lane axis is last
    return leaf.reshape(-1)[e]


def _along_lanes(c, ndim):
    """A per-lane coefficient (N,) shaped to multiply an array (..., N) of `ndim`
    dimensions (the lane axis last); a shared scalar as it is."""
    return c if jnp.ndim(c) == 0 else c.reshape((1,) * (ndim - 1) + c.shape)


def _contract(ct, sens_d, per_lane):
    """<ct, sensitivity> per lane (summed over all but the last axis) or in all."""
    parts = jax.tree.leaves(
        jax.tree.map(
            lambda c, s: (
                jnp.sum(c * s, axis=tuple(range(c.ndim - 1)))
                if per_lane
                else jnp.sum(c * s)
            ),
            ct,
            sens_d,
        )
    )
    return sum(parts)


def _add_at(x, e, per_lane, value):
    if per_lane:
        flat = x.reshape((x.shape[0], -1)).at[:, e].add(value)
    else:
        flat = x.reshape(-1).at[e].add(value)
    return flat.reshape(x.shape)


def differentiable(plain, per_lane_of, reverse=None, prepare=None):
    """``plain(p) -> (outputs, aux)`` with forward- and reverse-mode derivatives
    of `outputs` (aux: diagnostics, float arrays, never differentiated).

    `per_lane_of(p)` gives, per leaf of p, True (one value per lane, the lane
    axis first), False (shared) or None (never differentiated). Every output
    has the lane axis last. `prepare(p)`
    returns (outputs, aux, residuals) for `reverse(p, residuals, ct) -> cotangent
    of p`, the adjoint used when the sensitivities are too large to keep."""

    @jax.custom_jvp
    def f(p):
        return plain(p)

    def rule(primals, tangents):
        (p,), (dp,) = primals, tangents
        mask, lin, _ = nonzero_tangents(dp)
        leaves, treedef = jax.tree.flatten(p)
        kinds = per_lane_of(p)
        directions = _directions(leaves, mask, kinds)
        position = {k: i for i, k in enumerate(i for i, m in enumerate(mask) if m)}
        shapes = jax.eval_shape(plain, p)[0]
        out_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(shapes))

        if len(directions) * out_bytes <= SENSITIVITY_BYTES:
            basis = _basis(leaves, treedef, directions)
            (outputs, aux), (sens, _) = jax.vmap(
                lambda t: jax.jvp(plain, (p,), (t,)), out_axes=((None, None), 0)
            )(basis)

            def tangent(sens, lin):
                total = jax.tree.map(lambda s: jnp.zeros_like(s[0]), sens)
                for d, (k, e, per_lane) in enumerate(directions):
                    c = _coefficient(lin[position[k]], e, per_lane)
                    total = jax.tree.map(
                        lambda t, s, d=d, c=c: t + s[d] * _along_lanes(c, s.ndim - 1),
                        total,
                        sens,
                    )
                return total

            def transpose(sens, ct):
                cts = [jnp.zeros_like(x) for x in lin]
                for d, (k, e, per_lane) in enumerate(directions):
                    sens_d = jax.tree.map(lambda s, d=d: s[d], sens)
                    i = position[k]
                    cts[i] = _add_at(
                        cts[i], e, per_lane, _contract(ct, sens_d, per_lane)
                    )
                return cts

            t_out = linear_call(tangent, transpose, sens, lin)
        else:
            if prepare is not None and reverse is not None:
                outputs, aux, residuals = prepare(p)
            else:
                (outputs, aux), residuals = plain(p), None

            def tangent(res, lin):
                p, _ = res
                full = fill_tangents(mask, lin, p)
                return jax.jvp(lambda q: plain(q)[0], (p,), (full,))[1]

            def transpose(res, ct):
                p, residuals = res
                if reverse is not None:
                    g = reverse(p, residuals, ct)
                    return [x for x, m in zip(jax.tree.leaves(g), mask) if m]
                # One forward pass per basis direction.
                cts = [jnp.zeros_like(x) for x in lin]
                for k, e, per_lane in directions:
                    t = _basis(leaves, treedef, [(k, e, per_lane)])
                    t = jax.tree.map(lambda x: x[0], t)
                    sens_d = jax.jvp(lambda q: plain(q)[0], (p,), (t,))[1]
                    i = position[k]
                    cts[i] = _add_at(
                        cts[i], e, per_lane, _contract(ct, sens_d, per_lane)
                    )
                return cts

            t_out = linear_call(tangent, transpose, (p, residuals), lin)
        zero_aux = jax.tree.map(jnp.zeros_like, aux)
        return (outputs, aux), (t_out, zero_aux)

    f.defjvp(rule, symbolic_zeros=True)
    return f


# -- the fixed-step solvers ---------------------------------------------------


def _fixed_kinds(p):
    lanes, y0, xs = p
    N = y0[0].shape[0]
    kinds = [
        bool(jnp.ndim(x) >= 1 and jnp.shape(x)[0] == N)
        for x in jax.tree.leaves(lanes.model)
    ]
    kinds += [lanes.stimulus_batched] * len(jax.tree.leaves(lanes.stimulus))
    kinds += [None] * len(jax.tree.leaves(lanes.jumps))
    kinds += [True] * len(y0)
    kinds += [None] * len(jax.tree.leaves(xs))
    return kinds


def _fixed_reverse(tableau, M, options: Options, p, starts, ct):
    """The discrete adjoint, backwards over the chunks: each recomputed from its
    stored start state and differentiated there."""
    (ct_outs, ct_y_end) = ct
    lanes, y0, xs = p

    def chunk_of(lanes, y_s, xs_c):
        f_s = start_derivative(lanes, xs_c[0][0], xs_c[1][0], y_s)
        worst0 = jnp.zeros_like(y_s[0])
        step = chunk_function(lanes, tableau, M, options)
        (y_e, _, _), outs = step((y_s, f_s, worst0), xs_c)
        return outs, y_e

    def body(carry, inputs):
        lam, g_lanes = carry
        y_s, xs_c, ct_c = inputs
        _, vjp = jax.vjp(lambda l, y: chunk_of(l, y, xs_c), lanes, y_s)
        g_l, g_y = vjp((ct_c, lam))
        return (g_y, jax.tree.map(jnp.add, g_lanes, g_l)), None

    zeros = jax.tree.map(jnp.zeros_like, lanes)
    (lam0, g_lanes), _ = jax.lax.scan(
        body, (ct_y_end, zeros), (starts, xs, ct_outs), reverse=True
    )
    # The jump times carry no derivative (by convention, as in hh_jax.simulate).
    g_lanes = eqx.tree_at(lambda l: l.jumps, g_lanes, jnp.zeros_like(lanes.jumps))
    return g_lanes, lam0, jax.tree.map(jnp.zeros_like, xs)


def fixed_core(lanes, tableau, xs, y0, M: int, options: Options):
    """``raw_solve`` -> (per-step outputs, final state, worst error), with
    forward and reverse derivatives (the error monitor is not differentiated)."""

    def plain(p):
        lanes, y0, xs = p
        outs, y_end, worst, _ = raw_solve(lanes, tableau, xs, y0, M, options)
        return (outs, y_end), worst

    def prepare(p):
        lanes, y0, xs = p
        outs, y_end, worst, starts = raw_solve(
            lanes, tableau, xs, y0, M, options, keep_starts=True
        )
        return (outs, y_end), worst, starts

    reverse = functools.partial(_fixed_reverse, tableau, M, options)
    f = differentiable(plain, _fixed_kinds, reverse=reverse, prepare=prepare)
    (outs, y_end), worst = f((lanes, y0, xs))
    return outs, y_end, worst
