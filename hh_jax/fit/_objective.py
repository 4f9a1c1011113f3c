"""The objective of a fit: from an unconstrained parameter vector to residuals.

``Objective.residuals(u)`` simulates every sweep with the parameters ``u`` and
returns the weighted residuals of every loss term, concatenated: the objective is
their sum of squares, ``sum_terms weight * mean(residual^2)``. Least-squares
methods (Levenberg–Marquardt) use the residuals directly, gradient methods the sum.

A sweep whose simulation fails (max_steps, non-finite) yields large finite
residuals instead of NaN, and is reported: it never turns another start's or
another sweep's numbers into NaN.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from .. import tolerances
from ..initial_state import DEFAULT_Y0, STEADY_V
from ..model import PointNeuron, State, steady_state
from ..simulate import simulate
from ._data import FitData
from ._losses import AbstractLoss, SimulatedSweeps
from ._space import AREA, ParameterSpace

_FAILED_RESIDUAL = 1e3  # per entry, in the units of each term: far above any fit


class Objective(eqx.Module):
    """What is minimised. Build it with :func:`hh_jax.fit.fit` or directly.

    - `template`: the model; free parameters are replaced by the fitted values.
    - `space`: the free parameters and their transforms.
    - `data`: the sweeps.
    - `losses`: the loss terms.
    - `area_um2`: membrane area (um^2) of a whole-cell recording when it is not
      fitted; None otherwise.
    - `initial`: the `y0` of :func:`hh_jax.fit.fit`: ``"rest"`` (default) starts
      each sweep at the model's resting state under the sweep's initial current;
      ``"steady"`` at -65 mV with the gates at steady state; ``"data"`` at its
      first recorded voltage (mean of the first 1 ms) with the gates at steady
      state. With noisy data the latter's start error can shift a near-threshold
      spike by milliseconds, so it suits only recordings that do not begin at
      rest. ``"state"``: `y0_state`, shared by every sweep.
    - `rtol`, `atol`, `max_steps`: defaults :data:`hh_jax.tolerances.FIT`.
    """

    template: PointNeuron
    space: ParameterSpace
    data: FitData
    losses: tuple[AbstractLoss, ...]
    area_um2: float | None = eqx.field(static=True, default=None)
    initial: str = eqx.field(static=True, default=DEFAULT_Y0["analysis"])
    rtol: float = eqx.field(static=True, default=tolerances.FIT.rtol)
    atol: float = eqx.field(static=True, default=tolerances.FIT.atol)
    # fit() scales it with the sweeps' duration
    max_steps: int = eqx.field(static=True, default=tolerances.FIT.max_steps)
    adjoint: str = eqx.field(static=True, default="forward")
    y0_state: State | None = None

    def model_and_area(self, u: Float[Array, " P"]):
        values = self.space.values(u)
        area = values.pop(AREA, self.area_um2)
        return self.template.replace(**values), area

    def _initial_states(self, model, stimulus):
        sweeps = self.data.t.shape[0]
        if self.initial == "steady":
            return steady_state(model, jnp.full((sweeps,), STEADY_V, self.data.V.dtype))
        if self.initial == "state":
            return jax.tree.map(
                lambda x: jnp.broadcast_to(x, (sweeps,)).astype(self.data.V.dtype),
                self.y0_state,
            )
        if self.initial == "rest":
            from ..model import resting_state

            # The holding current as a density: whole-cell pA already divided by
            # the membrane area in `stimulus`.
            I0 = stimulus.values[:, 0]
            return jax.vmap(
                lambda I: resting_state(model, holding_current=I, throw=False)
            )(I0)
        dt = self.data.t[:, 1] - self.data.t[:, 0]
        first = (self.data.t - self.data.t[:, :1]) < jnp.maximum(1.0, dt)[:, None]
        first = first & self.data.mask
        V0 = jnp.sum(jnp.where(first, self.data.V, 0.0), axis=1) / jnp.sum(
            first, axis=1
        )
        return steady_state(model, V0)

    def simulate(self, u: Float[Array, " P"]) -> SimulatedSweeps:
        """Every sweep simulated with parameters `u` at the data's sample times."""
        model, area = self.model_and_area(u)
        stimulus = self.data.stimulus(area)
        y0 = self._initial_states(model, stimulus)

        def one(stim, ts, y):
            return simulate(
                model,
                stim,
                ts,
                y0=y,
                throw=False,
                gates=False,
                rtol=self.rtol,
                atol=self.atol,
                max_steps=self.max_steps,
                adjoint=self.adjoint,
            )

        trace = jax.vmap(one)(stimulus, self.data.t, y0)
        ok = trace.ok & jnp.all(jnp.isfinite(trace.V), axis=-1)
        # Failed sweeps hold the data themselves (finite, zero gradient); their
        # residuals are replaced below, so nothing NaN reaches the optimiser.
        V = jnp.where(ok[:, None], trace.V, self.data.V)
        return SimulatedSweeps(t=self.data.t, V=V, ok=ok)

    def residuals_and_status(
        self, u: Float[Array, " P"]
    ) -> tuple[Float[Array, " R"], Bool[Array, " S"]]:
        sim = self.simulate(u)
        return self._residuals(sim), sim.ok

    def _residuals(self, sim: SimulatedSweeps) -> Float[Array, " R"]:
        parts = []
        for loss in self.losses:
            r = loss.residuals(sim, self.data)
            ok = sim.ok.reshape((-1,) + (1,) * (r.ndim - 1))
            r = jnp.where(ok, r, _FAILED_RESIDUAL)
            parts.append(jnp.sqrt(loss.weight / r.size) * r.ravel())
        return jnp.concatenate(parts)

    def loss_and_sweeps(
        self, u: Float[Array, " P"]
    ) -> tuple[Float[Array, ""], SimulatedSweeps]:
        """The loss at `u` and the simulated sweeps it was computed from."""
        sim = self.simulate(u)
        r = self._residuals(sim)
        return jnp.sum(r * r), sim

    def residuals(self, u: Float[Array, " P"]) -> Float[Array, " R"]:
        return self.residuals_and_status(u)[0]

    def loss(self, u: Float[Array, " P"]) -> Float[Array, ""]:
        r = self.residuals(u)
        return jnp.sum(r * r)

    def loss_terms(self, u: Float[Array, " P"]) -> dict[str, Float[Array, ""]]:
        """Each loss term's contribution to the objective, by name."""
        sim = self.simulate(u)
        out = {}
        for loss in self.losses:
            r = loss.residuals(sim, self.data)
            out[loss.name] = loss.weight * jnp.mean(r * r)
        return out
