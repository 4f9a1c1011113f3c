"""One recorded sweep: time, voltage and the command current, with units."""

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jaxtyping import Array, ArrayLike, Float

from .._checks import check_finite, check_increasing, concrete
from ..stimulus import PiecewiseConstant
from . import _units
from ._command import sampling_interval
from ._errors import error_context

# Whole-cell units to uA (the numerator of uA/cm^2).
_TO_MICROAMPERE = {_units.PICOAMPERE: 1e-6, _units.NANOAMPERE: 1e-3}
# A whole-cell command whose every nonzero value is below this (in pA or nA) was
# almost surely written in amperes.
_AMPERE_LIKE = 1e-6
# A membrane potential never stays within +-1 mV over a whole sweep, nor leaves
# +-1000 mV: such values were written in volts, or in uV or raw samples.
_VOLT_LIKE = 1.0
_MAX_MV = 1000.0


def _float_vector(name: str, x, unit: str) -> np.ndarray:
    try:
        arr = np.array(x, dtype=np.float64)  # a copy: the caller keeps its array
    except (TypeError, ValueError) as err:
        raise ValueError(f"`{name}` must be numbers in {unit}; {err}") from err
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D ({unit}); got shape {arr.shape}.")
    arr.setflags(write=False)
    return arr


def _validated(t, V, stimulus_times, stimulus_values, current_unit):
    unit = _units.sweep_current_unit(current_unit)
    t = _float_vector("t", t, "ms")
    V = _float_vector("V", V, "mV")
    if t.size == 0 or V.size == 0:
        raise ValueError(
            f"the sweep is empty (`t` has {t.size} samples, `V` {V.size}); a sweep "
            "needs at least two samples of t (ms) and V (mV)."
        )
    if t.size != V.size:
        raise ValueError(
            f"`t` (ms) has {t.size} samples but `V` (mV) has {V.size}; they must "
            "have the same length."
        )
    if t.size < 2:
        raise ValueError("a sweep needs at least two samples of t (ms) and V (mV).")
    check_increasing("t", t, "ms")
    check_finite("V", V, "mV")
    biggest = float(np.max(np.abs(V)))
    if biggest < _VOLT_LIKE:
        raise ValueError(
            f"`V` looks like volts (all |V| < {_VOLT_LIKE:g}, largest "
            f"{biggest:g}); values must be in mV."
        )
    if biggest > _MAX_MV:
        raise ValueError(
            f"`V` reaches |V| = {biggest:g}, beyond {_MAX_MV:g} mV: it looks like "
            "uV or raw samples; values must be in mV."
        )

    times = _float_vector("stimulus_times", stimulus_times, "ms")
    values = _float_vector("stimulus_values", stimulus_values, unit)
    if times.size == 0 or times.size != values.size:
        raise ValueError(
            f"`stimulus_times` (ms, {times.size} entries) and `stimulus_values` "
            f"({unit}, {values.size} entries) must be non-empty and of equal length."
        )
    check_increasing("stimulus_times", times, "ms")
    check_finite("stimulus_values", values, unit)
    nonzero = np.abs(values[values != 0])
    if unit in _TO_MICROAMPERE and nonzero.size and np.all(nonzero < _AMPERE_LIKE):
        raise ValueError(
            f"`stimulus_values` look like amperes (every nonzero |I| < "
            f"{_AMPERE_LIKE:g}, largest {nonzero.max():g}); values must be in {unit}."
        )

    end = t[-1] + sampling_interval(t)
    if times[0] > t[0]:
        raise ValueError(
            f"the stimulus starts at {times[0]:g} ms, after the first sample "
            f"({t[0]:g} ms); the command must be defined from the first sample on "
            f"(add a change point at t[0], e.g. with 0 {unit})."
        )
    if times[-1] > end + 1e-9 * max(1.0, abs(end)):
        raise ValueError(
            f"the stimulus changes at {times[-1]:g} ms, after the recording ends "
            f"({end:g} ms: the last sample plus one interval); the stimulus and the "
            "voltage must have the same duration."
        )
    return t, V, times, values, unit


def _check_scalar_positive(name: str, value, unit: str) -> None:
    if jnp.ndim(value) != 0:
        raise ValueError(
            f"`{name}` must be a scalar in {unit} (use jax.vmap for a batch); "
            f"got shape {jnp.shape(value)}."
        )
    arr = concrete(value)
    if arr is not None and not (np.isfinite(arr) and arr > 0):
        raise ValueError(f"`{name}` must be finite and > 0 {unit}; got {arr!r}.")


def membrane_area(
    area_cm2: Float[ArrayLike, ""] | None,
    capacitance_pF: Float[ArrayLike, ""] | None,
    C_m: Float[ArrayLike, ""],
) -> Float[Array, ""]:
    """The membrane area in cm^2: `area_cm2` itself, or ``capacitance_pF * 1e-6 /
    C_m`` from a total capacitance (pF) and a specific one (uF/cm^2). Traced values
    (a fitted area) pass through, so the result can be differentiated."""
    if area_cm2 is not None and capacitance_pF is not None:
        raise ValueError("give `area_cm2` (cm^2) or `capacitance_pF` (pF), not both.")
    if area_cm2 is None and capacitance_pF is None:
        raise ValueError(
            "the sweep's current is whole-cell (not uA/cm^2), so the membrane area "
            "must be given or fitted: pass `area_cm2` (cm^2), or `capacitance_pF` "
            "(total, pF) with `C_m` (uF/cm^2)."
        )
    if area_cm2 is not None:
        _check_scalar_positive("area_cm2", area_cm2, "cm^2")
        return jnp.asarray(area_cm2)
    _check_scalar_positive("capacitance_pF", capacitance_pF, "pF")
    _check_scalar_positive("C_m", C_m, "uF/cm^2")
    return jnp.asarray(capacitance_pF) * 1e-6 / jnp.asarray(C_m)


@dataclasses.dataclass(frozen=True, eq=False, init=False, repr=False)
class Sweep:
    """One current-clamp sweep.

    - `t`: sample times in ms, strictly increasing, shape ``(T,)``.
    - `V`: membrane potential in mV, shape ``(T,)``.
    - `stimulus_times`, `stimulus_values`: the command as a step function, value
      ``k`` (in `current_unit`) holding from ``stimulus_times[k]`` (ms) until the
      next time; the last value holds to the end. Shape ``(K,)``.
    - `current_unit`: ``"uA/cm^2"`` (a density) or ``"pA"``/``"nA"`` (whole cell).
    - `name`, `metadata`: free-form (loaders record the file, sampling rate in
      ``"sampling_rate_Hz"``, channel, ...). `metadata` is a copy of what is given.

    Every sample lasts one sampling interval, so the recording covers
    ``[t[0], t[-1] + sampling_interval)``. The command must be defined there:
    ``stimulus_times[0] <= t[0]``, and it may not change after the recording ends
    (``stimulus_times[-1] <= t[-1] + sampling_interval``). Construction checks this
    and the values (finite, V in mV, whole-cell currents not in amperes) and raises
    a ``ValueError`` naming the argument and its unit. The arrays are read-only
    float64 copies.
    """

    t: Float[np.ndarray, " T"]
    V: Float[np.ndarray, " T"]
    stimulus_times: Float[np.ndarray, " K"]
    stimulus_values: Float[np.ndarray, " K"]
    current_unit: str
    name: str
    metadata: Mapping[str, Any]

    def __init__(
        self,
        t: npt.ArrayLike,
        V: npt.ArrayLike,
        stimulus_times: npt.ArrayLike,
        stimulus_values: npt.ArrayLike,
        current_unit: str,
        name: str = "",
        metadata: Mapping[str, Any] | None = None,
    ):
        with error_context(f"sweep {name!r}" if name else "sweep"):
            arrays = _validated(t, V, stimulus_times, stimulus_values, current_unit)
        names = ("t", "V", "stimulus_times", "stimulus_values", "current_unit")
        for field, value in zip(names, arrays):
            object.__setattr__(self, field, value)
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "metadata", dict(metadata or {}))

    def __repr__(self) -> str:
        return (
            f"Sweep(name={self.name!r}, {self.t.size} samples, t = {self.t[0]:g} to "
            f"{self.t[-1]:g} ms, {self.stimulus_times.size} stimulus steps in "
            f"{self.current_unit})"
        )

    @property
    def sampling_interval(self) -> float:
        """The median spacing of `t`, in ms."""
        return sampling_interval(self.t)

    @property
    def duration(self) -> float:
        """``t[-1] - t[0] + sampling_interval``, in ms: each sample lasts one
        interval, so T samples at 20 kHz last T * 0.05 ms."""
        return float(self.t[-1] - self.t[0]) + self.sampling_interval

    def stimulus(
        self,
        area_cm2: Float[ArrayLike, ""] | None = None,
        capacitance_pF: Float[ArrayLike, ""] | None = None,
        C_m: Float[ArrayLike, ""] = 1.0,
    ) -> PiecewiseConstant:
        """The command as a :class:`hh_jax.PiecewiseConstant` in uA/cm^2.

        A density sweep (uA/cm^2) is returned as is and takes neither argument. A
        whole-cell sweep (pA, nA) is divided by the membrane area: give
        `area_cm2` (cm^2), or the total `capacitance_pF` (pF) with the specific
        capacitance `C_m` (uF/cm^2), the area then being ``capacitance_pF * 1e-6 /
        C_m`` cm^2; ``I [uA/cm^2] = I [pA] * 1e-6 / area [cm^2]``. Either may be a
        JAX scalar being fitted (the result is differentiable in it).
        """
        if self.current_unit == _units.DENSITY:
            if area_cm2 is not None or capacitance_pF is not None:
                raise ValueError(
                    f"sweep {self.name!r} is already a density (uA/cm^2); do not "
                    "pass `area_cm2` or `capacitance_pF`."
                )
            return PiecewiseConstant(self.stimulus_times, self.stimulus_values)
        with error_context(f"sweep {self.name!r}"):
            area = membrane_area(area_cm2, capacitance_pF, C_m)
        scale = _TO_MICROAMPERE[self.current_unit]
        values = jnp.asarray(self.stimulus_values) * (scale / area)
        return PiecewiseConstant(self.stimulus_times, values)

    def zero_time(self) -> "Sweep":
        """The same sweep with time counted from its first sample (t[0] = 0 ms);
        the stimulus moves with it. The shift (ms) is added to
        ``metadata["time_offset_ms"]``."""
        offset = float(self.t[0])
        metadata = dict(self.metadata)
        metadata["time_offset_ms"] = metadata.get("time_offset_ms", 0.0) + offset
        return dataclasses.replace(
            self,
            t=self.t - offset,
            stimulus_times=self.stimulus_times - offset,
            metadata=metadata,
        )

    def crop(self, start: float, end: float) -> "Sweep":
        """The samples with ``start <= t < end`` (ms) and the command over that
        span: the value in force at the first kept sample, then its later change
        points before `end`. Nothing is resampled."""
        keep = (self.t >= start) & (self.t < end)
        if keep.sum() < 2:
            raise ValueError(
                f"cropping sweep {self.name!r} to [{start}, {end}) ms keeps fewer than "
                "two samples."
            )
        t = self.t[keep]
        k0 = int(np.searchsorted(self.stimulus_times, t[0], side="right")) - 1
        later = (self.stimulus_times > t[0]) & (self.stimulus_times < end)
        times = np.concatenate([[t[0]], self.stimulus_times[later]])
        values = np.concatenate(
            [[self.stimulus_values[max(k0, 0)]], self.stimulus_values[later]]
        )
        return dataclasses.replace(
            self, t=t, V=self.V[keep], stimulus_times=times, stimulus_values=values
        )

    def downsample(
        self, factor: int, *, method: Literal["mean", "take"] = "mean"
    ) -> "Sweep":
        """Keep one sample in `factor`.

        - ``method="mean"`` (default): average each block of `factor` consecutive
          samples, time and voltage alike, so each new sample sits at the centre of
          its block (``t[0]`` moves by ``(factor - 1) / 2`` intervals). A boxcar
          low-pass: it removes noise, and at large factors it flattens spike peaks.
          A shorter last block is averaged too: no sample is dropped.
        - ``method="take"``: samples ``0, factor, 2 factor, ...`` unchanged (no
          filtering; what lies after the last kept sample is lost).

        The stimulus is exact at any resolution and is not changed.
        ``metadata["sampling_rate_Hz"]``, where present, is divided by `factor`.
        """
        if isinstance(factor, bool) or not isinstance(factor, int | np.integer):
            raise ValueError(f"`factor` must be a positive int; got {factor!r}.")
        if factor < 1 or math.ceil(self.t.size / factor) < 2:
            raise ValueError(
                f"`factor` must be >= 1 and leave at least two samples of the "
                f"{self.t.size}; got {factor}."
            )
        if method == "take":
            t, V = self.t[::factor], self.V[::factor]
        elif method == "mean":
            starts = np.arange(0, self.t.size, factor)
            counts = np.diff(np.append(starts, self.t.size))
            t = np.add.reduceat(self.t, starts) / counts
            V = np.add.reduceat(self.V, starts) / counts
        else:
            raise ValueError(f"`method` must be 'mean' or 'take'; got {method!r}.")
        metadata = dict(self.metadata)
        if "sampling_rate_Hz" in metadata:
            metadata["sampling_rate_Hz"] = metadata["sampling_rate_Hz"] / factor
        metadata["downsampled"] = (*metadata.get("downsampled", ()), (factor, method))
        return dataclasses.replace(self, t=t, V=V, metadata=metadata)

    def resample(self, dt: float) -> "Sweep":
        """The voltage linearly interpolated onto ``t[0] + k dt`` (ms) up to the last
        sample. No anti-alias filter: to thin out noisy data use
        :meth:`downsample` (block mean) instead. The stimulus is not changed."""
        if not (isinstance(dt, int | float) and math.isfinite(dt) and dt > 0):
            raise ValueError(f"`dt` must be finite and > 0 ms; got {dt!r}.")
        span = float(self.t[-1] - self.t[0])
        n = int(math.floor(span / dt + 1e-9)) + 1
        t = self.t[0] + dt * np.arange(n)
        metadata = dict(self.metadata)
        metadata["sampling_rate_Hz"] = 1e3 / dt
        return dataclasses.replace(
            self, t=t, V=np.interp(t, self.t, self.V), metadata=metadata
        )
