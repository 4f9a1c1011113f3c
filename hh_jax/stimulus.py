"""Applied currents ``I_ext(t)``, in uA/cm^2 with t in ms (positive depolarises).

Every stimulus is an Equinox module with array fields, so amplitudes (and the
times of smooth stimuli) can be differentiated and vmapped. Each reports its
discontinuities through :meth:`AbstractStimulus.jump_times`; the solver steps exactly
onto them, so edges are never smeared. Stimuli add: ``Step(...) + Sine(...)``.

Gradients with respect to the *time of a discontinuity* (the start of a step, say)
are zero: the solver treats each edge as a fixed point of the time grid. Use a
smooth stimulus (``Ramp``, ``Sine``) where such a derivative is needed.
"""

import abc
import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_finite, check_increasing, concrete
from ._parameter import parameter

_UNIT = "uA/cm^2"
_MISSING = dataclasses.MISSING


def _current(doc: str, default=_MISSING):
    """A current field (uA/cm^2), smooth in the solution: it can be differentiated."""
    return parameter(default, unit=_UNIT, doc=doc)


def _edge(doc: str, default=_MISSING, unit: str = "ms"):
    """A field that places a discontinuity: the solver steps onto it, so its
    derivative through a simulation is zero, not the true one."""
    return parameter(default, unit=unit, doc=doc, discontinuity=True)


def _check_batch_shapes(**fields) -> None:
    """Raise if the fields' shapes (a batch of stimuli) do not broadcast."""
    shapes = {name: np.shape(value) for name, value in fields.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"`{n}` {s}" for n, s in shapes.items())
        raise ValueError(
            f"a batch of stimuli needs fields of one batch shape; got {listed}."
        ) from None


def _check_interval(name_start, start, name_stop, stop) -> None:
    check_finite(name_start, start, "ms")
    s, e = concrete(start), concrete(stop)
    if s is None or e is None:
        return
    if np.any(np.isnan(e)):
        raise ValueError(f"`{name_stop}` must not be NaN (ms).")
    if not np.all(e > s):
        raise ValueError(
            f"`{name_stop}` ({e}) must be later than `{name_start}` ({s}) (ms)."
        )


def _window(t, start, stop):
    return (t >= start) & (t < stop)


class AbstractStimulus(eqx.Module):
    """An applied current density ``I_ext(t)`` (uA/cm^2), t in ms."""

    @abc.abstractmethod
    def __call__(self, t: Float[ArrayLike, ""]) -> Float[Array, ""]:
        """The current (uA/cm^2) at time `t` (ms)."""

    @abc.abstractmethod
    def jump_times(self) -> Float[Array, " J"]:
        """Times (ms) where the current (or its slope) jumps; the solver steps onto
        each of them. Times outside the simulated interval are harmless."""

    def __add__(self, other: "AbstractStimulus") -> "StimulusSum":
        if not isinstance(other, AbstractStimulus):
            return NotImplemented
        left = self.terms if isinstance(self, StimulusSum) else (self,)
        right = other.terms if isinstance(other, StimulusSum) else (other,)
        return StimulusSum(terms=left + right)


class Constant(AbstractStimulus):
    """A constant current `amplitude` (uA/cm^2) for all times."""

    amplitude: Float[Array, ""] = _current("constant current")

    def __check_init__(self):
        check_finite("amplitude", self.amplitude, _UNIT)

    def __call__(self, t):
        return self.amplitude + jnp.zeros_like(t)

    def jump_times(self):
        return jnp.zeros((0,), dtype=self.amplitude.dtype)


class Step(AbstractStimulus):
    """`amplitude` (uA/cm^2) from `start` until `stop` (ms), zero otherwise."""

    amplitude: Float[Array, ""] = _current("step current")
    start: Float[Array, ""] = _edge("step onset")
    stop: Float[Array, ""] = _edge("step end", math.inf)

    def __check_init__(self):
        _check_batch_shapes(amplitude=self.amplitude, start=self.start, stop=self.stop)
        check_finite("amplitude", self.amplitude, _UNIT)
        _check_interval("start", self.start, "stop", self.stop)

    def __call__(self, t):
        return jnp.where(_window(t, self.start, self.stop), self.amplitude, 0.0)

    def jump_times(self):
        return jnp.stack(jnp.broadcast_arrays(self.start, self.stop))


class PulseTrain(AbstractStimulus):
    """`count` rectangular pulses of `amplitude` (uA/cm^2) and `width` (ms), the
    first starting at `start` (ms), one every `interval` (ms)."""

    amplitude: Float[Array, ""] = _current("pulse current")
    start: Float[Array, ""] = _edge("onset of the first pulse")
    width: Float[Array, ""] = _edge("pulse width")
    interval: Float[Array, ""] = _edge("pulse period")
    count: int = eqx.field(static=True)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude, _UNIT)
        check_finite("start", self.start, "ms")
        for name in ("width", "interval"):
            value = concrete(getattr(self, name))
            if value is not None and not np.all(np.isfinite(value) & (value > 0)):
                raise ValueError(f"`{name}` must be finite and > 0 ms; got {value}.")
        w, p = concrete(self.width), concrete(self.interval)
        if w is not None and p is not None and np.any(w > p):
            raise ValueError(f"pulse `width` ({w} ms) exceeds `interval` ({p} ms).")
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"`count` must be a positive int; got {self.count!r}.")

    def _onsets(self):
        return self.start + self.interval * jnp.arange(self.count)

    def __call__(self, t):
        on = self._onsets()
        active = jnp.any(_window(t, on, on + self.width))
        return jnp.where(active, self.amplitude, 0.0)

    def jump_times(self):
        on = self._onsets()
        return jnp.concatenate([on, on + self.width])


class PiecewiseConstant(AbstractStimulus):
    """``values[k]`` (uA/cm^2) holds from ``times[k]`` until ``times[k + 1]`` (ms);
    the last value holds for ever and the current is zero before ``times[0]``.

    This is the stimulus format of recorded sweeps and of the NEURON reference
    traces (``stim_t``, ``stim_I``)."""

    times: Float[Array, " K"] = _edge("start time of each level")
    values: Float[Array, " K"] = _current("current of each level")

    def __check_init__(self):
        if self.times.ndim < 1 or self.times.shape[-1] < 1:
            raise ValueError("`times` must be a non-empty 1-D array (ms).")
        if self.times.shape[-1] != self.values.shape[-1]:
            raise ValueError(
                f"`times` ({self.times.shape[-1]} entries) and `values` "
                f"({self.values.shape[-1]} entries) must have the same length."
            )
        check_increasing("times", self.times, "ms")
        check_finite("values", self.values, _UNIT)

    def __call__(self, t):
        k = jnp.searchsorted(self.times, t, side="right") - 1
        value = self.values[jnp.clip(k, 0, self.values.shape[-1] - 1)]
        return jnp.where(k >= 0, value, 0.0)

    def jump_times(self):
        return self.times


class Ramp(AbstractStimulus):
    """A current rising linearly from `initial` at `start` to `amplitude` at `stop`
    (uA/cm^2, ms), zero outside ``[start, stop)``."""

    amplitude: Float[Array, ""] = _current("current at the end of the ramp")
    start: Float[Array, ""] = _edge("ramp onset")
    stop: Float[Array, ""] = _edge("ramp end")
    initial: Float[Array, ""] = _current("current at the start of the ramp", 0.0)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude, _UNIT)
        check_finite("initial", self.initial, _UNIT)
        check_finite("stop", self.stop, "ms")
        _check_interval("start", self.start, "stop", self.stop)

    def __call__(self, t):
        fraction = (t - self.start) / (self.stop - self.start)
        value = self.initial + (self.amplitude - self.initial) * fraction
        return jnp.where(_window(t, self.start, self.stop), value, 0.0)

    def jump_times(self):
        return jnp.stack(jnp.broadcast_arrays(self.start, self.stop))


class Sine(AbstractStimulus):
    """``offset + amplitude * sin(2 pi frequency (t - start) + phase)`` between
    `start` and `stop` (ms), zero outside. Currents in uA/cm^2, `frequency` in Hz,
    `phase` in radians."""

    amplitude: Float[Array, ""] = _current("sine amplitude")
    frequency: Float[Array, ""] = parameter(unit="Hz", doc="sine frequency")
    start: Float[Array, ""] = _edge("sine onset", 0.0)
    stop: Float[Array, ""] = _edge("sine end", math.inf)
    phase: Float[Array, ""] = parameter(0.0, unit="rad", doc="phase at onset")
    offset: Float[Array, ""] = _current("constant offset", 0.0)

    def __check_init__(self):
        for name in ("amplitude", "offset"):
            check_finite(name, getattr(self, name), _UNIT)
        check_finite("frequency", self.frequency, "Hz")
        check_finite("phase", self.phase, "rad")
        _check_interval("start", self.start, "stop", self.stop)

    def __call__(self, t):
        angle = 2.0 * jnp.pi * self.frequency * 1e-3 * (t - self.start) + self.phase
        value = self.offset + self.amplitude * jnp.sin(angle)
        return jnp.where(_window(t, self.start, self.stop), value, 0.0)

    def jump_times(self):
        return jnp.stack(jnp.broadcast_arrays(self.start, self.stop))


class Sampled(AbstractStimulus):
    """A current given as samples ``values[k]`` at times ``t0 + k dt`` (ms),
    linearly interpolated in between and zero outside the sampled span.

    Frozen noise is the typical use (see :func:`frozen_noise`); any recorded
    command waveform on a regular grid works too."""

    values: Float[Array, " K"] = _current("sampled current")
    dt: Float[Array, ""] = _edge("sampling interval")
    t0: Float[Array, ""] = _edge("time of the first sample", 0.0)

    def __check_init__(self):
        if self.values.ndim < 1 or self.values.shape[-1] < 2:
            raise ValueError("`values` needs at least two samples (uA/cm^2).")
        check_finite("values", self.values, _UNIT)
        check_finite("t0", self.t0, "ms")
        dt = concrete(self.dt)
        if dt is not None and not np.all(np.isfinite(dt) & (dt > 0)):
            raise ValueError(f"`dt` must be finite and > 0 ms; got {dt}.")

    @property
    def t_end(self):
        return self.t0 + self.dt * (self.values.shape[-1] - 1)

    def __call__(self, t):
        n = self.values.shape[-1]
        position = (t - self.t0) / self.dt
        k = jnp.clip(jnp.floor(position).astype(jnp.int32), 0, n - 2)
        frac = position - k
        value = self.values[k] * (1.0 - frac) + self.values[k + 1] * frac
        inside = (t >= self.t0) & (t <= self.t_end)
        return jnp.where(inside, value, 0.0)

    def jump_times(self):
        return jnp.stack(jnp.broadcast_arrays(self.t0, self.t_end))


def frozen_noise(
    key: jax.Array,
    *,
    duration: float,
    dt: float,
    mean: float = 0.0,
    std: float = 1.0,
    correlation_time: float | None = None,
    t0: float = 0.0,
) -> Sampled:
    """A reproducible noisy current: Gaussian samples every `dt` ms over `duration`
    ms with `mean` and `std` (uA/cm^2). With `correlation_time` (ms) the samples form
    an Ornstein–Uhlenbeck process with that time constant instead of white noise."""
    n = int(round(duration / dt)) + 1
    white = jax.random.normal(key, (n,))
    if correlation_time is None:
        values = mean + std * white
    else:
        decay = math.exp(-dt / correlation_time)
        scale = math.sqrt(1.0 - decay**2)

        def step(x, w):
            x = decay * x + scale * w
            return x, x

        _, path = jax.lax.scan(step, white[0], white[1:])
        values = mean + std * jnp.concatenate([white[:1], path])
    return Sampled(values=values, dt=dt, t0=t0)


class StimulusSum(AbstractStimulus):
    """The sum of several stimuli (build it with ``+``)."""

    terms: tuple[AbstractStimulus, ...]

    def __call__(self, t):
        total = jnp.zeros_like(jnp.asarray(t, dtype=jnp.result_type(float)))
        for term in self.terms:
            total = total + term(t)
        return total

    def jump_times(self):
        return jnp.concatenate([jnp.atleast_1d(s.jump_times()) for s in self.terms])


def as_stimulus(stimulus) -> AbstractStimulus:
    """Accept a stimulus, or a number meaning a constant current (uA/cm^2)."""
    if isinstance(stimulus, AbstractStimulus):
        return stimulus
    if isinstance(stimulus, int | float) or (
        hasattr(stimulus, "shape") and getattr(stimulus, "ndim", 1) == 0
    ):
        return Constant(stimulus)
    raise TypeError(
        "`stimulus` must be an hh_jax stimulus (Step, PiecewiseConstant, ...) or a "
        f"number in uA/cm^2; got {type(stimulus).__name__}."
    )
