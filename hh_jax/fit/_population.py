"""Scoring a population of candidate parameter sets on the training windows.

The global phase of a fit evaluates hundreds of candidates per generation. Each
candidate is simulated on every training window in one vectorised fixed-step
integration (lanes = candidates x windows; windows with the same timing share a
call), the windows' eFEL-named features are computed on the simulated traces,
and each candidate gets the sum of its squared capped z-scores
(:mod:`._targets`). The resting potential is pinned: the leak reversal of each
candidate is set so that its rest under the holding current is the recorded
one, which makes the pre-step baseline exact and leaves the search to the
active properties.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..model import PointNeuron, steady_state
from ..solvers._exponential import integrate_exponential
from ._space import AREA, ParameterSpace
from ._targets import Z_CAP, WindowTargets, window_features, z_scores

PA_TO_UA = 1e-6  # pA -> uA
UM2_TO_CM2 = 1e-8


@dataclasses.dataclass(frozen=True)
class TrainingWindow:
    """A stretch of one training sweep that the population is scored on.

    - `sweep`: index of the sweep among the training sweeps; `kind`: ``"step"``
      (around the main step) or ``"passive"`` (a hyperpolarising segment).
    - `t_start`, `t_end`: the simulated span, ms on the sweep's clock; the
      model starts there at rest.
    - `stimulus_times`, `stimulus_values`: the command over the span (ms, and
      the sweep's current unit: pA for whole-cell data).
    - `feature_start`, `feature_end`: the step whose features are read (ms).
    - `targets`: the data's features of the window.
    """

    sweep: int
    kind: str
    t_start: float
    t_end: float
    stimulus_times: np.ndarray
    stimulus_values: np.ndarray
    feature_start: float
    feature_end: float
    targets: WindowTargets

    def timing_key(self, dt: float) -> tuple:
        """Windows with equal keys can share one integration."""
        rel = np.round((self.stimulus_times - self.t_start) / dt).astype(int)
        n = int(round((self.t_end - self.t_start) / dt))
        return (n, tuple(rel.tolist()), round(self.feature_start - self.t_start, 6))


@dataclasses.dataclass(frozen=True)
class PopulationScores:
    """`scores` (B,): sum of squared z over windows and features (failed
    candidates: the largest possible score); `z` (B, W, F): the z-scores
    times the square root of each feature's weight; `features`
    (B, W, F); `failed` (B,): the simulation became non-finite or the pinned
    leak reversal left its physical range."""

    scores: np.ndarray
    z: np.ndarray
    features: np.ndarray
    failed: np.ndarray


class PopulationEvaluator:
    """Scores candidates given as unit-cube points (B, P) mapped through `space`.

    - `model`: the template; `space`: the free parameters (``"area"`` among them
      for whole-cell data whose area is not given).
    - `windows`: the training windows.
    - `area_um2`: the membrane area of whole-cell data when it is not free.
    - `V_rest`: the recorded resting potential (mV) that each candidate's leak
      reversal is pinned to; None leaves ``E_L`` as it is.
    - `dt`: the fixed step (ms), also the output grid of the features.
    - `threshold`: spike detection level (mV); `max_spikes`: per-spike slots.
    - `dtype`: precision of the search's simulations (float32 by default: the
      features it scores are resolved far more finely than their tolerances,
      and it is 2-3x faster than float64 on CPU).
    """

    def __init__(
        self,
        model: PointNeuron,
        space: ParameterSpace,
        windows: list[TrainingWindow],
        *,
        whole_cell: bool,
        area_um2: float | None,
        V_rest: float | None,
        dt: float,
        threshold: float,
        max_spikes: int,
        dtype=jnp.float32,
    ):
        self.dtype = dtype
        self.model = jax.tree.map(
            lambda x: x.astype(dtype) if eqx.is_inexact_array(x) else x, model
        )
        self.space = space
        self.windows = windows
        self.whole_cell = whole_cell
        self.area_um2 = area_um2
        self.V_rest = V_rest
        self.dt = float(dt)
        self.threshold = float(threshold)
        self.max_spikes = int(max_spikes)
        self.names = tuple(t.name for t in windows[0].targets.terms)
        groups: dict[tuple, list[int]] = {}
        for i, w in enumerate(windows):
            groups.setdefault(w.timing_key(self.dt), []).append(i)
        self.groups = list(groups.values())
        self.values = np.stack([w.targets.values for w in windows])
        self.scales = np.stack([w.targets.scales for w in windows])
        self.active = np.stack([w.targets.active for w in windows])
        self.weights = np.stack([w.targets.weights for w in windows])
        self.pin = V_rest is not None and "E_L" not in space.names
        if self.pin and "E_L" not in model.parameter_infos():
            self.pin = False

    def physical(self, Q) -> dict:
        """Unit-cube points (B, P) to physical values by name (NumPy in, NumPy
        out; JAX arrays stay JAX, so the map can be differentiated)."""
        xp = np if isinstance(Q, np.ndarray) else jnp
        Q = xp.clip(Q, 0.0, 1.0)
        out = {}
        for i, (n, tr) in enumerate(zip(self.space.names, self.space.transforms)):
            out[n] = tr.uniform(Q[:, i])  # (log-)uniform by the declaration
        return out

    def area(self, values: dict, B: int):
        if not self.whole_cell:
            return np.ones(B)
        if AREA in values:
            return values[AREA]
        return np.full(B, float(self.area_um2))

    def group_features(self, group: list[int], values: dict, area_um2):
        """Features (S, B, F) of the windows in `group` (timing-compatible) for
        the B candidates `values` (by name, (B,) arrays), and `ok` (S, B).
        Pure JAX given the windows: differentiable in `values`. One compiled call
        per group and population size (run eagerly, the lane set-up and the rest
        states were hundreds of single-operation compilations per fit)."""
        first = self.windows[group[0]]
        levels = np.stack([self.windows[i].stimulus_values for i in group])  # (S, K)
        # Time from the window's start: windows of sweeps on different clocks
        # (NWB) share the integration when their protocols match. The command
        # changes on the grid point nearest its recorded time (the data's own
        # sampling, dt = the sample interval).
        steps = int(round((first.t_end - first.t_start) / self.dt))
        change = np.round((first.stimulus_times - first.t_start) / self.dt)
        level_of_step = np.clip(
            np.searchsorted(change, np.arange(steps - 1), side="right") - 1, 0, None
        )
        window = (
            first.feature_start - first.t_start,
            first.feature_end - first.t_start,
        )
        return _group_features(
            self.model,
            values,
            jnp.asarray(area_um2, self.dtype),
            jnp.asarray(levels, self.dtype),
            jnp.asarray(level_of_step, jnp.int32),
            jnp.asarray(self.dt * np.arange(steps), self.dtype),
            jnp.asarray(window, self.dtype),
            self.group_settings(),
        )

    def group_settings(self) -> "_GroupSettings":
        return _GroupSettings(
            dtype=self.dtype,
            whole_cell=self.whole_cell,
            pin=self.pin,
            V_rest=None if self.V_rest is None else float(self.V_rest),
            dt=self.dt,
            threshold=self.threshold,
            names=self.names,
            max_spikes=self.max_spikes,
        )

    def __call__(self, Q: np.ndarray) -> PopulationScores:
        values = self.physical(np.asarray(Q, float))
        B = np.asarray(Q).shape[0]
        area = self.area(values, B)
        W, F = len(self.windows), len(self.names)
        features = np.full((B, W, F), np.nan)
        failed = np.zeros(B, bool)
        for group in self.groups:
            f, ok = self.group_features(
                group, {n: jnp.asarray(v, self.dtype) for n, v in values.items()}, area
            )
            f = np.asarray(f)
            for j, i in enumerate(group):
                features[:, i] = f[j]
            failed |= ~np.asarray(ok).all(axis=0)
        z = np.asarray(
            z_scores(
                jnp.asarray(features),
                jnp.asarray(self.values),
                jnp.asarray(self.scales),
                jnp.asarray(self.active),
            )
        )
        z = z * np.sqrt(self.weights)[None]  # weighted: score = sum of z^2
        scores = np.sum(z**2, axis=(1, 2))
        scores = np.where(failed, W * F * Z_CAP**2, scores)
        return PopulationScores(scores, z, features, failed)


@dataclasses.dataclass(frozen=True)
class _GroupSettings:
    """The static part of one group's evaluation (hashable: one compilation per
    distinct value and array shapes)."""

    dtype: object
    whole_cell: bool
    pin: bool
    V_rest: float | None
    dt: float
    threshold: float
    names: tuple[str, ...]
    max_spikes: int


def lane_models(model: PointNeuron, values: dict, holding, s: _GroupSettings):
    """The lane models (N,) and their rest states, E_L pinned per lane;
    `bad` (N,) where the pinned E_L is not finite or far outside its range."""
    params = {n: v for n, v in values.items() if n != AREA}
    model = model.replace(**{n: jnp.asarray(v, s.dtype) for n, v in params.items()})
    if not s.pin:
        return model, None, jnp.zeros(holding.shape, bool)
    V = jnp.full(holding.shape, s.V_rest, s.dtype)
    rest = steady_state(model, V)
    g_L = model.get("g_L")
    leak = g_L * (V - model.get("E_L"))
    active = model.membrane_current(rest) - leak
    E_L = V + (active - holding) / g_L
    info = model.parameter_infos()["E_L"]
    lo, hi = info.fit_bounds or (-120.0, 0.0)
    bad = ~jnp.isfinite(E_L) | (E_L < lo - 20) | (E_L > hi + 20)
    E_L = jnp.where(bad, info.default, E_L)
    model = model.replace(E_L=E_L)
    return model, steady_state(model, V), bad


@eqx.filter_jit
def _group_features(
    model, values, area_um2, levels, level_of_step, ts, window, s: _GroupSettings
):
    """The simulation and features of one group (see
    :meth:`PopulationEvaluator.group_features`); every array an argument, so
    that nothing large is a compile-time constant."""
    S = levels.shape[0]
    B = next(iter(values.values())).shape[0]
    lane = {n: jnp.tile(v, S) for n, v in values.items()}  # (S*B,), sweep-major
    levels = jnp.repeat(levels.T, B, axis=1)  # (K, S*B)
    if s.whole_cell:
        area = jnp.tile(area_um2, S)
        levels = levels * (PA_TO_UA / (area * UM2_TO_CM2))[None, :]
    model, y0, bad = lane_models(model, lane, levels[0], s)
    V = integrate_exponential(model, y0, levels, level_of_step, s.dt).T
    ok = jnp.all(jnp.isfinite(V), axis=-1) & ~bad
    V = jnp.where(ok[:, None], V, jnp.asarray(-70.0, V.dtype))
    f, _ = window_features(
        ts,
        V,
        window[0],
        window[1],
        jnp.asarray(s.threshold, s.dtype),
        names=s.names,
        max_spikes=s.max_spikes,
    )
    return f.reshape(S, B, -1), ok.reshape(S, B)
