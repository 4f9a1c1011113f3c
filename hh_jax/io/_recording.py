"""A recording: the sweeps of one file, with batch helpers for fitting."""

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Bool, Float

from ..stimulus import PiecewiseConstant
from ._sweep import Sweep


@dataclasses.dataclass(frozen=True, eq=False, init=False, repr=False)
class Recording:
    """The sweeps of one recording, in file order.

    `source` names where they came from (a path); `metadata` holds what the file
    says about the whole recording (a copy of what is given). ``len``, iteration
    and ``recording[i]`` work on the sweeps.
    """

    sweeps: tuple[Sweep, ...]
    source: str
    metadata: Mapping[str, Any]

    def __init__(
        self,
        sweeps: Iterable[Sweep],
        source: str = "",
        metadata: Mapping[str, Any] | None = None,
    ):
        sweeps = tuple(sweeps)
        if not sweeps:
            raise ValueError(f"a Recording needs at least one sweep ({source!r}).")
        for sweep in sweeps:
            if not isinstance(sweep, Sweep):
                raise ValueError(f"`sweeps` must hold Sweep objects; got {sweep!r}.")
        object.__setattr__(self, "sweeps", sweeps)
        object.__setattr__(self, "source", str(source))
        object.__setattr__(self, "metadata", dict(metadata or {}))

    def __len__(self) -> int:
        return len(self.sweeps)

    def __iter__(self) -> Iterator[Sweep]:
        return iter(self.sweeps)

    def __getitem__(self, index: int) -> Sweep:
        return self.sweeps[index]

    def __repr__(self) -> str:
        return f"Recording({self.source!r}, {len(self)} sweeps)"

    def select(self, indices: Iterable[int]) -> "Recording":
        """A recording of the sweeps at `indices` (in that order)."""
        return dataclasses.replace(self, sweeps=[self.sweeps[i] for i in indices])

    def _map(self, fn) -> "Recording":
        return dataclasses.replace(self, sweeps=[fn(s) for s in self.sweeps])

    def zero_time(self) -> "Recording":
        """Every sweep with its time counted from its first sample (ms)."""
        return self._map(Sweep.zero_time)

    def crop(self, start: float, end: float) -> "Recording":
        """Every sweep cropped to ``[start, end)`` ms, see :meth:`Sweep.crop`."""
        return self._map(lambda s: s.crop(start, end))

    def downsample(
        self, factor: int, *, method: Literal["mean", "take"] = "mean"
    ) -> "Recording":
        """Every sweep downsampled by `factor`: block means by default, see
        :meth:`Sweep.downsample`."""
        return self._map(lambda s: s.downsample(factor, method=method))

    def resample(self, dt: float) -> "Recording":
        """Every sweep interpolated onto a grid of spacing `dt` ms, see
        :meth:`Sweep.resample`."""
        return self._map(lambda s: s.resample(dt))

    def padded(
        self,
    ) -> tuple[
        Float[np.ndarray, "S T"], Float[np.ndarray, "S T"], Bool[np.ndarray, "S T"]
    ]:
        """``(t, V, mask)`` of shape ``(sweeps, longest sweep)``, in ms and mV.

        `mask` is True on recorded samples. Shorter sweeps are padded after their
        end: `t` continues with the sweep's own sampling interval (each row stays
        strictly increasing, so it can be used as save times), `V` repeats the last
        sample (finite, so masked losses have finite gradients). Nothing is cut.
        """
        length = max(s.t.size for s in self.sweeps)
        shape = (len(self), length)
        t, V, mask = np.empty(shape), np.empty(shape), np.zeros(shape, dtype=bool)
        for row, sweep in enumerate(self.sweeps):
            n = sweep.t.size
            extra = np.arange(1, length - n + 1)
            t[row, :n] = sweep.t
            t[row, n:] = sweep.t[-1] + sweep.sampling_interval * extra
            V[row, :n] = sweep.V
            V[row, n:] = sweep.V[-1]
            mask[row, :n] = True
        return t, V, mask

    def padded_stimulus(
        self,
        area_cm2: Float[ArrayLike, ""] | None = None,
        capacitance_pF: Float[ArrayLike, ""] | None = None,
        C_m: Float[ArrayLike, ""] = 1.0,
    ) -> PiecewiseConstant:
        """All commands as one batched :class:`hh_jax.PiecewiseConstant` in uA/cm^2
        with `times` and `values` of shape ``(sweeps, K)``, for ``jax.vmap``.

        Units and arguments as in :meth:`Sweep.stimulus` (one area for all sweeps).
        Shorter commands are padded with their last value at times after their
        sweep's end, so each member's current is unchanged."""
        stimuli = [s.stimulus(area_cm2, capacitance_pF, C_m) for s in self.sweeps]
        length = max(s.times.shape[-1] for s in stimuli)
        times, values = [], []
        for sweep, stim in zip(self.sweeps, stimuli):
            n = length - stim.times.shape[-1]
            end = max(sweep.t[-1] + sweep.sampling_interval, sweep.stimulus_times[-1])
            pad = end + sweep.sampling_interval * np.arange(1, n + 1)
            times.append(jnp.concatenate([stim.times, jnp.asarray(pad)]))
            values.append(
                jnp.concatenate([stim.values, jnp.repeat(stim.values[-1:], n)])
            )
        return PiecewiseConstant(jnp.stack(times), jnp.stack(values))
