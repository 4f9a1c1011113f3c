"""Bounded transforms: a parameter in (lower, upper) as a function of an
unconstrained number, so optimisers and samplers work without bounds.

Transforms are data (Equinox modules with static bounds), not closures. Which one
a parameter gets is chosen by its declaration (``log_scale``), in
:func:`transform_for`; :mod:`hh_jax.parameters` attaches them to a selection.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._parameter import ParameterInfo


class Logistic(eqx.Module):
    """``x = lower + (upper - lower) * sigmoid(u)``: a parameter in (lower, upper)."""

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def forward(self, u):
        return self.lower + (self.upper - self.lower) * jax.nn.sigmoid(u)

    def inverse(self, x):
        return _logit(self.quantile(x))

    def uniform(self, q):
        """The value at quantile `q` in [0, 1] of the natural prior (uniform).
        NumPy in, NumPy out; JAX in, JAX out."""
        return self.lower + (self.upper - self.lower) * _xp(q).asarray(q)

    def quantile(self, x):
        """The inverse of :meth:`uniform` (NumPy)."""
        return (np.asarray(x, float) - self.lower) / (self.upper - self.lower)


class LogLogistic(eqx.Module):
    """``log x`` logistic between ``log lower`` and ``log upper``: a positive
    parameter spanning decades (conductances, areas, time constants)."""

    lower: float = eqx.field(static=True)
    upper: float = eqx.field(static=True)

    def forward(self, u):
        lo, hi = math.log(self.lower), math.log(self.upper)
        return jnp.exp(lo + (hi - lo) * jax.nn.sigmoid(u))

    def inverse(self, x):
        return _logit(self.quantile(x))

    def uniform(self, q):
        """The value at quantile `q` of the natural prior (log-uniform). NumPy in,
        NumPy out; JAX in, JAX out."""
        lo, hi = math.log(self.lower), math.log(self.upper)
        xp = _xp(q)
        return xp.exp(lo + (hi - lo) * xp.asarray(q))

    def quantile(self, x):
        """The inverse of :meth:`uniform` (NumPy; -inf for x <= 0)."""
        lo, hi = math.log(self.lower), math.log(self.upper)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.log(np.asarray(x, float)) - lo) / (hi - lo)


Transform = Logistic | LogLogistic


def _xp(x):
    return jnp if isinstance(x, jax.Array) else np


def _logit(p):
    return np.log(p) - np.log1p(-p)


def transform_for(info: ParameterInfo, lower: float, upper: float) -> Transform:
    """The transform of a parameter declared by `info` with bounds (lower, upper):
    log-logistic where the declaration says ``log_scale`` and the bounds are
    positive, logistic otherwise."""
    if info.log_scale and lower > 0:
        return LogLogistic(float(lower), float(upper))
    return Logistic(float(lower), float(upper))
