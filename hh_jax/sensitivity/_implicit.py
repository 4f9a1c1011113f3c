"""Threshold criteria ``G(I, theta)`` and their roots, differentiated implicitly.

A root found by Optimistix (``optx.root_find``) carries the implicit-function
adjoint: under ``jax.jacfwd`` its derivative is ``-G_theta / G_I`` at the root,
with both partial derivatives from forward sensitivities through the solver.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float

from .. import excitability
from ..initial_state import resolve_y0
from ..model import PointNeuron, State
from ..stimulus import Step
from ._params import ParameterSelection
from ._problem import forward_trace


class StepPeak(eqx.Module):
    """``G(I, theta)``: peak of V over the save times with ``t > after`` during a
    step of amplitude I (uA/cm^2) from `start` to `stop` ms, minus `level` mV."""

    model: PointNeuron
    selection: ParameterSelection
    ts: Float[Array, " T"]
    y0: State | None
    start: float = eqx.field(static=True)
    stop: float = eqx.field(static=True)
    after: float = eqx.field(static=True)
    level: float = eqx.field(static=True)
    from_rest: bool = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __call__(self, I, theta):
        model = self.selection.apply(self.model, None, theta)[0]
        y0 = resolve_y0(model, "rest") if self.from_rest else self.y0
        trace = forward_trace(
            model,
            Step(I, self.start, self.stop),
            self.ts,
            y0,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
        )
        late = jnp.where(self.ts > self.after, trace.V, -jnp.inf)
        return jnp.max(late) - self.level


class RestGrowth(eqx.Module):
    """``G(I, theta)``: largest real part (1/ms) of the eigenvalues at rest under a
    constant current I (uA/cm^2)."""

    model: PointNeuron
    selection: ParameterSelection

    def __call__(self, I, theta):
        model = self.selection.apply(self.model, None, theta)[0]
        return excitability.rest_growth_rate(model, jnp.reshape(I, (1,)))[0]


growth_on_grid = eqx.filter_jit(excitability.rest_growth_rate)


def bisect(theta, G, lower, upper, atol, max_iterations):
    solver = optx.Bisection(rtol=0.0, atol=atol, flip=False)
    sol = optx.root_find(
        lambda I, th: G(I, th),
        solver,
        0.5 * (lower + upper),
        args=theta,
        options=dict(lower=lower, upper=upper),
        max_steps=max_iterations,
        throw=False,
    )
    return sol.value, sol.result == optx.RESULTS.successful


def newton(theta, G, guess, atol, max_iterations):
    solver = optx.Newton(rtol=0.0, atol=atol)
    sol = optx.root_find(
        lambda I, th: G(I, th),
        solver,
        guess,
        args=theta,
        max_steps=max_iterations,
        throw=False,
    )
    return sol.value, sol.result == optx.RESULTS.successful


@eqx.filter_jit
def root_and_derivative(find, theta, G, *args):
    def root(th):
        value, ok = find(th, G, *args)
        return value, (value, ok)

    d, (value, ok) = jax.jacfwd(root, has_aux=True)(theta)
    return value, d, ok
