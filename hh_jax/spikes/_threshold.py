"""The spike threshold: one default, in mV, for every layer of hh_jax."""

import numpy as np
from jaxtyping import ArrayLike, Float

from .._checks import concrete

Threshold = float | Float[ArrayLike, ""]  # mV; an array to differentiate by it

THRESHOLD = -20.0
"""Default spike threshold, mV: eFEL's ``Threshold``. Low enough for the small
spikes of recorded cells, above the subthreshold responses of the presets. The
NEURON reference traces define spikes as 0 mV crossings: pass ``threshold=0.0``
to compare with them."""

EFEL_THRESHOLD = THRESHOLD  # its name before it was everybody's default


def check_threshold(threshold) -> None:
    """Raise if a concrete `threshold` (mV) is not a finite real number (traced
    values pass unchecked)."""
    value = concrete(threshold)
    if value is None:
        return
    if value.dtype == bool or not np.issubdtype(value.dtype, np.number):
        raise TypeError(f"`threshold` must be a number of mV; got {threshold!r}.")
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"`threshold` must be a finite number of mV; got {threshold!r}."
        )
