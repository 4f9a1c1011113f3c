"""Derivatives that work in forward and in reverse mode.

A ``jax.custom_vjp`` function cannot be differentiated in forward mode, and a
``jax.custom_jvp`` one is transposed by JAX (through everything its tangent rule
does). The solvers here use a custom JVP whose tangent is a
``jax.custom_derivatives.linear_call``: a linear map (forward sensitivities) with
a hand-written transpose (the discrete adjoint). ``jax.jvp``/``jax.jacfwd``
evaluate the map, ``jax.grad``/``jax.vjp`` its transpose.

JAX has no batching rule for ``linear_call`` (needed by ``jax.jacfwd`` and
``jax.vmap``); one is registered here, batching the map and its transpose
together. It uses JAX internals; where they are missing, vmapped derivatives
raise JAX's own "not implemented" error instead of running wrongly.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import linear_call as linear_call

try:  # JAX internals: the primitive and the jaxpr batching utility.
    from jax._src.custom_derivatives import linear_call_p as _linear_call_p
    from jax._src.interpreters import batching as _batching
except ImportError:  # pragma: no cover - other JAX versions
    _linear_call_p = _batching = None


def _batch_rule(
    axis_data, args, dims, *, callee, transpose_thunk, num_callee_consts, num_res
):
    size = axis_data.size
    args = [
        jnp.broadcast_to(x, (size,) + jnp.shape(x))
        if d is None or d is getattr(_batching, "not_mapped", None)
        else jnp.moveaxis(x, d, 0)
        for x, d in zip(args, dims)
    ]
    batched_callee, _ = _batching.batch_jaxpr(
        callee, axis_data, [True] * len(args), True
    )
    n_out = len(callee.out_avals)

    @functools.cache
    def batched_transpose():
        transpose, t_consts = transpose_thunk()
        flags = [False] * len(t_consts) + [True] * (num_res + n_out)
        batched, _ = _batching.batch_jaxpr(transpose, axis_data, flags, True)
        return batched, t_consts

    out = _linear_call_p.bind(
        *args,
        callee=batched_callee,
        transpose_thunk=batched_transpose,
        num_callee_consts=num_callee_consts,
        num_res=num_res,
    )
    return out, [0] * len(out)


if _linear_call_p is not None and hasattr(_batching, "fancy_primitive_batchers"):
    _batching.fancy_primitive_batchers.setdefault(_linear_call_p, _batch_rule)


def nonzero_tangents(tangents):
    """(mask, leaves): which leaves of a tangent pytree are not symbolic zeros
    (``jax.custom_jvp`` with ``symbolic_zeros=True``), and those leaves."""
    from jax.custom_derivatives import SymbolicZero

    leaves, treedef = jax.tree.flatten(
        tangents, is_leaf=lambda x: isinstance(x, SymbolicZero)
    )
    mask = tuple(not isinstance(x, SymbolicZero) for x in leaves)
    return mask, [x for x, m in zip(leaves, mask) if m], treedef


def fill_tangents(mask, lin, like):
    """The full tangent pytree shaped like `like`: `lin` where `mask`, else 0."""
    leaves, treedef = jax.tree.flatten(like)
    it = iter(lin)
    full = [next(it) if m else zero_tangent(x) for m, x in zip(mask, leaves)]
    return jax.tree.unflatten(treedef, full)


def zero_tangent(x, shape=None):
    """A zero tangent for `x` (shaped `shape`, default x's): of x's dtype, or
    float0 for an integer or boolean `x` (as ``jax.jvp`` requires)."""
    shape = jnp.shape(x) if shape is None else shape
    if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jnp.zeros(shape, jnp.result_type(x))
    return np.zeros(shape, jax.dtypes.float0)
