"""Input checks shared by the public entry points.

Checks run in Python on concrete values and raise a ``ValueError`` that names the
argument and its unit. Under ``jit``/``vmap`` values are abstract; callers then fall
back to ``eqx.error_if`` or to a per-member status (see :mod:`hh_jax.simulate`).
"""

import jax
import numpy as np


def concrete(x) -> np.ndarray | None:
    """``x`` as a NumPy array, or ``None`` when it is a tracer (inside jit/vmap)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def describe_bad(values, ok, limit: int = 3) -> str:
    """A short description of the offending entries of a (possibly batched) value."""
    values, ok = np.asarray(values), np.asarray(ok)
    if values.ndim == 0:
        return f"got {values.item()!r}"
    bad = np.argwhere(~ok)
    shown = ", ".join(
        f"[{', '.join(map(str, idx))}] = {values[tuple(idx)]!r}" for idx in bad[:limit]
    )
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"got {shown}{more}"


def check_finite(name: str, value, unit: str) -> None:
    """Raise if a concrete ``value`` holds NaN or inf."""
    arr = concrete(value)
    if arr is None:
        return
    ok = np.isfinite(arr)
    if not np.all(ok):
        raise ValueError(
            f"`{name}` must be finite (in {unit}); {describe_bad(arr, ok)}."
        )


def check_increasing(name: str, value, unit: str, *, strict: bool = True) -> None:
    """Raise if a concrete 1-D ``value`` is not (strictly) increasing along its
    last axis, or is not finite."""
    arr = concrete(value)
    if arr is None:
        return
    check_finite(name, arr, unit)
    if arr.ndim == 0:
        raise ValueError(f"`{name}` must be a 1-D array of times in {unit}.")
    steps = np.diff(arr, axis=-1)
    ok = steps > 0 if strict else steps >= 0
    if not np.all(ok):
        where = np.argwhere(~ok)[0]
        k = int(where[-1])
        word = "strictly increasing" if strict else "non-decreasing"
        raise ValueError(
            f"`{name}` must be {word} (times in {unit}); entry {k + 1} "
            f"({arr[..., k + 1].ravel()[0]!r}) follows {arr[..., k].ravel()[0]!r}."
        )


_BATCH_HINT = (
    "hh_jax.simulate runs one neuron; for a batch use hh_jax.simulate_batch or "
    "jax.vmap(hh_jax.simulate)."
)


def check_one_neuron(model, stimulus, t0, y0) -> None:
    """Raise if a model parameter, the stimulus current or the initial state
    `y0` is batched (has a shape) where one neuron is simulated. Shapes are known
    under ``jit`` too; under ``vmap`` each member is a single neuron."""
    for name, value in model.parameters().items():
        if np.ndim(value) != 0:
            raise ValueError(
                f"`model` parameter `{name}` has shape {np.shape(value)}: {_BATCH_HINT}"
            )
    shape = jax.eval_shape(lambda s, t: s(t), stimulus, t0).shape
    if shape != ():
        raise ValueError(
            f"the `stimulus` current (uA/cm^2) has shape {shape}: {_BATCH_HINT}"
        )
    if y0 is not None:
        for name, value in (("V", y0.V), *y0.gates.items()):
            if np.ndim(value) != 0:
                raise ValueError(
                    f"`y0` must hold one neuron's state (V in mV and each gate "
                    f"a scalar); `{name}` has shape {np.shape(value)}: {_BATCH_HINT}"
                )
