"""``simulate``: integrate a point neuron under a stimulus with Diffrax.

This is the only module that drives the ODE solver. The vector field
:func:`vector_field` is a pure function of ``(t, state, model, stimulus)``; the
solver steps exactly onto every stimulus discontinuity.
"""

import dataclasses
from collections.abc import Sequence
from typing import Literal

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, ArrayLike, Float

from . import tolerances
from ._checks import check_increasing, check_one_neuron, concrete
from .initial_state import STEADY_V, InitialState, check_y0, resolve_y0
from .model import PointNeuron, State, steady_state
from .settings import resolve_settings
from .stimulus import AbstractStimulus, as_stimulus
from .trace import Trace, status_from_flags

# Chosen by measurement against the NEURON reference traces (docs/accuracy.md):
# Tsit5 at rtol 1e-5, atol 1e-6 puts every reference spike within 1.7e-4 ms.
DEFAULT_SOLVER: dfx.AbstractAdaptiveSolver = dfx.Tsit5()
DEFAULT_RTOL = tolerances.DEFAULT.rtol
DEFAULT_ATOL = tolerances.DEFAULT.atol
DEFAULT_MAX_STEPS = tolerances.DEFAULT.max_steps


def vector_field(
    t: Float[ArrayLike, ""],
    state: State,
    model: PointNeuron,
    stimulus: AbstractStimulus,
) -> State:
    """``d(state)/dt`` at time `t` (ms): mV/ms for V, 1/ms for gates."""
    return model.derivative(state, stimulus(t))


def _diffrax_vector_field(t, y, args):
    model, stimulus = args
    return vector_field(t, y, model, stimulus)


_TERM = dfx.ODETerm(_diffrax_vector_field)


def _finite_rms_norm(y) -> Array:
    """Diffrax's RMS error norm, with NaN mapped to inf.

    A too-large trial step can throw the explicit stages far outside the physical
    range, where exponentials overflow and the error estimate becomes NaN. Diffrax
    treats an infinite error as "reject and shrink", but a NaN one poisons the step
    size for good; mapping NaN to inf turns the first case into the second.
    """
    norm = optx.rms_norm(y)
    return jnp.where(jnp.isnan(norm), jnp.inf, norm)


def stable_step_bound(model: PointNeuron, state: State) -> Array:
    """A step size (ms) the explicit solver can take stably near `state`:
    2 / (the fastest linear rate there), the rate being the larger of the membrane's
    conductance over capacitance (1/ms) and each gate's alpha + beta (1/ms).

    The adaptive controller alone sees zero error at an exact equilibrium and would
    let the step grow to the next stimulus edge. The solution stays right, but its
    derivative is that of a step far outside the stability region, which overflows
    in reverse mode; capping the step here keeps gradients finite from rest."""
    current = lambda V: model.membrane_current(State(V, state.gates))  # noqa: E731
    _, conductance = jax.jvp(current, (state.V,), (jnp.ones_like(state.V),))
    rate = jnp.abs(conductance) / model.C_m
    for r in model.gate_rates(state.V).values():
        rate = jnp.maximum(rate, r.alpha + r.beta)
    bound = 2.0 / rate
    return jnp.where(jnp.isfinite(bound) & (bound > 0), bound, jnp.inf)


def _as_times(ts) -> Float[Array, " T"]:
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(
            f"`ts` must be a 1-D array of at least two save times in ms; got shape "
            f"{ts.shape}."
        )
    check_increasing("ts", ts, "ms")
    if not jnp.issubdtype(ts.dtype, jnp.floating):
        ts = ts.astype(jnp.result_type(float))
    return ts


def _check_initial_state(y0: State, model: PointNeuron | None = None) -> None:
    """Raise for a non-finite V or a state variable outside the range its channel
    or pool declares (gates [0, 1], concentrations >= 0). Without `model`, every
    variable is checked as a gate."""
    if model is not None:
        model.check_state(y0)
        return
    V = concrete(y0.V)
    if V is not None and not np.all(np.isfinite(V)):
        raise ValueError(f"initial `V` must be finite (mV); got {V}.")
    for name, x in y0.gates.items():
        arr = concrete(x)
        if arr is None:
            continue
        if not ((arr >= 0) & (arr <= 1)).all():
            raise ValueError(
                f"initial gate `{name}` must lie in [0, 1] (dimensionless); got {arr}."
            )


def _invalid_state(y0: State, model: PointNeuron | None = None) -> Array:
    """True where V is not finite or a state variable is outside its declared
    range (without `model`: outside [0, 1])."""
    if model is not None:
        return model.invalid_state(y0)
    bad = ~jnp.isfinite(y0.V)
    for x in y0.gates.values():
        bad = bad | ~((x >= 0) & (x <= 1))
    return bad


def _adjoint(adjoint) -> dfx.AbstractAdjoint | None:
    if adjoint is None:
        return None  # both modes: see _simulate_both_modes
    if adjoint == "reverse":
        return dfx.RecursiveCheckpointAdjoint()
    if adjoint == "forward":
        return dfx.ForwardMode()
    if isinstance(adjoint, dfx.AbstractAdjoint):
        return adjoint
    raise ValueError(
        f"`adjoint` must be 'reverse', 'forward' or a diffrax adjoint; got {adjoint!r}."
    )


@dataclasses.dataclass(frozen=True)
class SimulateSettings:
    """How :func:`simulate` integrates (each field may also be passed to it as a
    keyword, ``simulate(model, stimulus, ts, rtol=1e-8)``; :mod:`hh_jax.settings`).

    - `solver`: a Diffrax adaptive solver (None: ``diffrax.Tsit5()``).
    - `rtol`, `atol`: tolerances of its adaptive step control (atol in mV for V).
      The defaults were chosen by measurement (docs/accuracy.md).
    - `max_steps`: bound on solver steps; reaching it is reported in ``status``.
    - `dt0`: initial step in ms (None: chosen automatically).
    - `adjoint`: None: ``jax.grad``/``jax.vjp`` use Diffrax's checkpointed
      reverse mode and ``jax.jacfwd``/``jax.jvp`` its forward mode, whichever is
      asked for. ``"reverse"`` or ``"forward"`` fix one of them (the other mode
      then fails), or pass any Diffrax adjoint.
    """

    solver: dfx.AbstractAdaptiveSolver | None = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    max_steps: int = DEFAULT_MAX_STEPS
    dt0: float | None = None
    adjoint: Literal["reverse", "forward"] | dfx.AbstractAdjoint | None = None


def simulate(
    model: PointNeuron,
    stimulus: AbstractStimulus | float,
    ts: Float[ArrayLike, " T"] | Sequence[float],
    *,
    y0: InitialState | None = "steady",
    gates: bool = True,
    currents: bool = False,
    throw: bool = True,
    settings: SimulateSettings | None = None,
    **options,
) -> Trace:
    """Simulate `model` driven by `stimulus`, saving the state at times `ts`.

    **Arguments:**

    - `model`: a :class:`hh_jax.PointNeuron`, e.g. ``hh_jax.HodgkinHuxley()``.
    - `stimulus`: applied current (uA/cm^2): an hh_jax stimulus such as
      ``Step(10.0, 5.0, 105.0)`` or a number for a constant current.
    - `ts`: strictly increasing save times in ms; the simulation runs from
      ``ts[0]`` to ``ts[-1]``.
    - `y0`: initial state (:mod:`hh_jax.initial_state`): ``"steady"`` (default;
      V = -65 mV, the other variables at their steady state there, as in the
      NEURON reference traces; ``None`` means the same), ``"rest"`` (the model's
      resting state, Newton's method, moving with the parameters), a
      :class:`hh_jax.State` or an array ``[V (mV), gate_1, gate_2, ...]`` in
      ``model.gate_names`` order (``[V, m, h, n]`` for Hodgkin–Huxley).
    - `gates`, `currents`: save the gating variables; save each channel current and
      the applied current ``I_ext`` (uA/cm^2).
    - `settings`: a :class:`SimulateSettings`: the Diffrax `solver`, `rtol`,
      `atol`, `max_steps`, `dt0` and the `adjoint` of derivatives. Each field may
      also be passed as a keyword (``simulate(model, stimulus, ts, rtol=1e-8)``).
    - `throw`: raise on failure or invalid input. With ``throw=False`` (use it under
      ``vmap``) each member reports its own ``status`` instead and invalid members
      hold NaN, without affecting the others.

    **Returns:** a :class:`hh_jax.Trace` with ``t``, ``V``, the gates (``.m`` ...),
    the currents if requested, and ``status``.

    Works under ``jax.jit``, ``jax.vmap`` (over any model or stimulus field or the
    initial state), ``jax.grad`` and ``jax.jacfwd``. Precision follows the inputs:
    enable float64 with ``jax.config.update("jax_enable_x64", True)``.
    """
    if not isinstance(model, PointNeuron):
        raise TypeError(
            f"`model` must be an hh_jax.PointNeuron; got {type(model).__name__}."
        )
    settings = resolve_settings(SimulateSettings, settings, options, entry="simulate")
    solver, rtol, atol = settings.solver, settings.rtol, settings.atol
    max_steps, dt0, adjoint = settings.max_steps, settings.dt0, settings.adjoint
    stimulus = as_stimulus(stimulus)
    ts = _as_times(ts)
    check_y0(y0)
    if y0 is None or isinstance(y0, str):
        # "steady" is None inside (one compilation for both); "rest" is solved
        # inside the jit, where it sees the traced model.
        y0 = None if y0 in (None, "steady") else y0
    else:
        y0 = resolve_y0(model, y0)
    check_one_neuron(model, stimulus, ts[0], None if isinstance(y0, str) else y0)
    if throw:
        model.check_values()
        if isinstance(y0, State):
            _check_initial_state(y0, model)
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"`max_steps` must be a positive int; got {max_steps!r}.")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"`rtol` and `atol` must be > 0; got {rtol}, {atol}.")
    precision = jnp.result_type(float)
    if rtol < jnp.finfo(precision).eps:
        raise ValueError(
            f"`rtol` = {rtol:g} is below the resolution of {jnp.dtype(precision).name} "
            f"({float(jnp.finfo(precision).eps):.1e}): no step can meet it. Enable "
            "float64 (jax.config.update('jax_enable_x64', True)) or loosen `rtol`."
        )
    # With concrete inputs (no outer jit/vmap/grad) the checks above already ran in
    # Python and a failure can be raised from the status afterwards. The compiled
    # function then has no host callbacks, which keeps it in JAX's persistent
    # compilation cache and saves the callback overhead.
    concrete_inputs = all(
        concrete(x) is not None
        for x in jax.tree.leaves((model, stimulus, ts, y0))
        if eqx.is_array(x)
    )
    trace = _simulate(
        model,
        stimulus,
        ts,
        y0,
        solver=DEFAULT_SOLVER if solver is None else solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
        dt0=dt0,
        save_gates=gates,
        save_currents=currents,
        adjoint=_adjoint(adjoint),
        throw=throw and not concrete_inputs,
    )
    if throw and concrete_inputs:
        trace.raise_if_failed()
    return trace


@eqx.filter_jit
def _simulate(model, stimulus, ts, y0, *, adjoint, **options) -> Trace:
    if adjoint is not None:
        return _solve(model, stimulus, ts, y0, adjoint=adjoint, **options)
    return _simulate_both_modes(model, stimulus, ts, y0, **options)


def _simulate_both_modes(model, stimulus, ts, y0, **options) -> Trace:
    """The solve with both derivative modes: a custom JVP whose tangent is Diffrax's
    forward mode and whose transpose (``jax.grad``) is Diffrax's
    RecursiveCheckpointAdjoint (:mod:`hh_jax.solvers._linear`). Costs one more
    solve than a single-mode adjoint: the primal is computed on its own."""
    from .solvers._linear import fill_tangents, linear_call, nonzero_tangents

    dynamic, static = eqx.partition((model, stimulus, ts, y0), eqx.is_inexact_array)

    int_dtypes = {}

    def run(dynamic, adjoint):
        m, st, t, y = eqx.combine(dynamic, static)
        trace = _solve(m, st, t, y, adjoint=adjoint, **options)
        floats, ints = eqx.partition(trace, eqx.is_inexact_array)
        int_dtypes["tree"] = jax.tree.map(lambda x: x.dtype, ints)
        # Integers (status, step counts) ride along as floats: no derivative.
        ints = jax.tree.map(lambda x: x.astype(ts.dtype), ints)
        return floats, ints, ints

    reverse = dfx.RecursiveCheckpointAdjoint()

    @jax.custom_jvp
    def solve(dynamic):
        floats, as_float, _ = run(dynamic, reverse)
        return floats, as_float

    def rule(primals, tangents):
        (dynamic,), (tangent_in,) = primals, tangents
        mask, lin, _ = nonzero_tangents(tangent_in)
        floats, as_float, _ = run(dynamic, reverse)

        def tangent(dynamic, lin):
            full = fill_tangents(mask, lin, dynamic)
            return jax.jvp(lambda d: run(d, dfx.ForwardMode())[0], (dynamic,), (full,))[
                1
            ]

        def transpose(dynamic, ct):
            _, vjp = jax.vjp(lambda d: run(d, reverse)[0], dynamic)
            (g,) = vjp(ct)
            return [x for x, m in zip(jax.tree.leaves(g), mask) if m]

        t_floats = linear_call(tangent, transpose, dynamic, lin)
        return (floats, as_float), (t_floats, jax.tree.map(jnp.zeros_like, as_float))

    solve.defjvp(rule, symbolic_zeros=True)
    floats, as_float = solve(dynamic)
    ints = jax.tree.map(lambda x, d: x.astype(d), as_float, int_dtypes["tree"])
    return eqx.combine(floats, ints)


def _solve(
    model: PointNeuron,
    stimulus: AbstractStimulus,
    ts: Float[Array, " T"],
    y0: State | str | None,
    *,
    solver,
    rtol,
    atol,
    max_steps,
    dt0,
    save_gates,
    save_currents,
    adjoint,
    throw,
) -> Trace:
    dtype = ts.dtype
    # None: the steady state at -65 mV; "rest": Newton's method, a member without
    # a rest gets V = NaN and is reported INVALID_INPUT below.
    y0 = resolve_y0(model, y0, throw=False)
    y0 = jax.tree.map(lambda x: jnp.asarray(x, dtype), y0)
    invalid = model.invalid_parameters() | _invalid_state(y0, model)
    if throw:
        ts = eqx.error_if(
            ts,
            jnp.any(invalid),
            "invalid input: a parameter outside its physical range (negative "
            "conductance, non-positive capacitance, NaN) or an initial gate outside "
            "[0, 1]",
        )
        ts = eqx.error_if(ts, jnp.any(jnp.diff(ts) <= 0), "`ts` must be increasing")
    else:
        # Invalid members integrate a harmless default instead (so they finish in a
        # few steps rather than stalling a vmapped batch) and are reported INVALID.
        model = model.defaults_where(invalid)
        y0 = jax.tree.map(
            lambda x, safe: jnp.where(invalid, safe, x),
            y0,
            steady_state(model, jnp.asarray(STEADY_V, dtype)),
        )

    t0, t1 = ts[0], ts[-1]
    jump_ts = jnp.asarray(stimulus.jump_times(), dtype)
    jump_ts = jnp.where(jnp.isfinite(jump_ts), jump_ts, t1)
    if jump_ts.shape[0] == 0:  # e.g. a constant current: nothing to step onto
        jump_ts = None
    dtmax = jax.lax.stop_gradient(stable_step_bound(model, y0))
    controller = dfx.ClipStepSizeController(
        dfx.PIDController(rtol=rtol, atol=atol, norm=_finite_rms_norm, dtmax=dtmax),
        jump_ts=jump_ts,
    )
    sol = dfx.diffeqsolve(
        _TERM,
        solver,
        t0,
        t1,
        dt0,
        y0,
        args=(model, stimulus),
        saveat=dfx.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=max_steps,
        adjoint=adjoint,
        throw=throw,
    )
    ys: State = sol.ys
    finite = jnp.asarray(True)
    for x in jax.tree.leaves(ys):
        finite = finite & jnp.all(jnp.isfinite(x))
    status = status_from_flags(sol.result, finite, invalid)
    if not throw:
        ys = jax.tree.map(lambda x: jnp.where(invalid, jnp.nan, x), ys)
    saved_currents = {}
    if save_currents:
        saved_currents = dict(model.currents(ys))
        saved_currents["I_ext"] = jax.vmap(stimulus)(ts)
    return Trace(
        t=ts,
        V=ys.V,
        gates=dict(ys.gates) if save_gates else {},
        currents=saved_currents,
        status=status,
        num_steps=sol.stats["num_accepted_steps"],
    )
