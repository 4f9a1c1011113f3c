"""Global sensitivity of any JAX function over parameter ranges: Sobol indices
(SALib's Saltelli/Sobol' sampling and estimators) and derivative-based global
sensitivity measures (DGSM) from exact gradients at the same samples.

The function is evaluated in chunks of samples, one compiled ``vmap`` per chunk
(:func:`hh_jax.batching.map_chunks`: the last chunk padded so nothing
recompiles), with a progress bar. A sample
whose output is not finite (or whose status is not 0) is flagged and left out of
that output's estimators: for Sobol indices its whole Saltelli group (the
``P + 2`` rows that share a base point) is dropped, since the estimators pair them.
"""

import math
import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..batching import map_chunks
from ..parameters import check_interval
from ._result import GlobalSensitivity

# An output whose standard deviation over the samples is below this fraction of
# its magnitude is constant to rounding: its Sobol indices would be noise.
_CONSTANT = 1e-9


def check_ranges(ranges: Mapping[str, Sequence]) -> tuple:
    """(names, bounds array (P, 2)); ``ValueError`` unless finite with low < high."""
    if not ranges:
        raise ValueError("no parameter ranges given: {name: (low, high)}.")
    names, bounds = [], []
    for name, pair in ranges.items():
        low, high = check_interval(name, pair, what="range")
        names.append(name)
        bounds.append((low, high))
    return tuple(names), np.asarray(bounds)


def _salib(module: str):
    try:
        if module == "sample":
            from SALib.sample import sobol
        else:
            from SALib.analyze import sobol
    except ImportError as err:
        raise ImportError(
            "global sensitivity analysis needs SALib: pip install SALib"
        ) from err
    return sobol


def sobol_samples(bounds: np.ndarray, n: int, seed: int) -> np.ndarray:
    """SALib's Sobol' sequence with Saltelli's cross-sampling (first and total
    order): ``n * (P + 2)`` rows, in groups of ``P + 2`` per base point."""

    if n < 2 or n & (n - 1):
        raise ValueError(
            f"the number of base samples `n` must be a power of 2 (>= 2) for the "
            f"Sobol' sequence; got {n}."
        )
    problem = _salib_problem(bounds)
    return _salib("sample").sample(problem, n, calc_second_order=False, seed=seed)


def _salib_problem(bounds):
    P = len(bounds)
    return {
        "num_vars": P,
        "names": [f"x{i}" for i in range(P)],
        "bounds": [list(map(float, b)) for b in bounds],
    }


def _split(out):
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, jnp.asarray(0)


@eqx.filter_jit
def _evaluate_chunk(function, X, gradients: bool):
    def values(x):
        out, status = _split(function(x))
        out = {k: jnp.asarray(v) for k, v in out.items()}
        return out, (out, status)

    if gradients:
        grads, (out, status) = jax.vmap(jax.jacfwd(values, has_aux=True))(X)
    else:
        out, status = jax.vmap(lambda x: values(x)[1])(X)
        grads = None
    return out, status, grads


def evaluate_samples(
    function: Callable,
    X: np.ndarray,
    *,
    chunk_size: int = 512,
    gradients: bool = True,
    progress: bool | None = None,
    desc: str = "samples",
):
    """Outputs (dict of (B,)), statuses (B,) and, with `gradients`, gradients
    (dict of (B, P)) of `function` at the rows of `X`, in padded chunks
    (:func:`hh_jax.batching.map_chunks`), as NumPy arrays."""
    dtype = jnp.result_type(float)
    return map_chunks(
        lambda x: _evaluate_chunk(function, jnp.asarray(x, dtype), gradients),
        np.asarray(X),
        total=X.shape[0],
        chunk_size=chunk_size,
        progress=progress,
        desc=desc,
        unit="sample",
        to_host=True,
    )


def analyse(
    names,
    bounds,
    X,
    Y: dict,
    status,
    grads: dict | None,
    n: int,
    *,
    parameter_units=None,
    outputs=None,
    output_units=None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
    start_time: float | None = None,
) -> GlobalSensitivity:
    """Sobol indices (SALib) and DGSM from evaluated samples (see
    :func:`sobol_indices`)."""
    sobol = _salib("analyze")
    P = len(names)
    group = P + 2
    problem = _salib_problem(bounds)
    width = bounds[:, 1] - bounds[:, 0]
    outputs = list(Y) if outputs is None else list(outputs)
    res = {k: {} for k in ("S1", "S1_conf", "ST", "ST_conf", "dgsm", "se", "bound")}
    variance, failed, groups_used, notes = {}, {}, {}, []
    Y = dict(Y)
    for out in outputs:
        failed_run = np.asarray(status) != 0
        y = np.where(failed_run, np.nan, np.asarray(Y[out], float))
        Y[out] = y  # a failed run's numbers are meaningless: NaN
        bad = ~np.isfinite(y) | failed_run
        if grads is not None:
            bad |= ~np.all(np.isfinite(grads[out]), axis=-1)
        failed[out] = int(bad.sum())
        keep = ~bad.reshape(n, group).any(axis=1)
        groups_used[out] = int(keep.sum())
        for k in res:
            res[k][out] = np.full(P, np.nan)
        valid = y[~bad]
        variance[out] = float(np.var(valid)) if len(valid) > 1 else np.nan
        scale = float(np.max(np.abs(valid), initial=0.0))
        varies = bool(np.sqrt(variance[out]) > _CONSTANT * scale)
        if keep.sum() < 2:
            notes.append(
                f"{out}: fewer than 2 complete Saltelli groups without a flagged "
                "sample; no Sobol indices"
            )
        elif not varies:
            notes.append(
                f"{out}: constant over the ranges to rounding (sd "
                f"{np.sqrt(variance[out]):.3g}, |y| up to {scale:.3g}); no Sobol "
                "indices"
            )
        else:
            Si = sobol.analyze(
                problem,
                y.reshape(n, group)[keep].ravel(),
                calc_second_order=False,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=seed,
            )
            for k in ("S1", "S1_conf", "ST", "ST_conf"):
                res[k][out] = np.asarray(Si[k], float)
        if grads is not None and len(valid) >= 2:
            g2 = np.asarray(grads[out], float)[~bad] ** 2
            res["dgsm"][out] = g2.mean(axis=0)
            res["se"][out] = g2.std(axis=0, ddof=1) / math.sqrt(len(g2))
        if grads is not None and varies:
            with np.errstate(divide="ignore", invalid="ignore"):
                res["bound"][out] = (
                    res["dgsm"][out] * width**2 / (np.pi**2 * variance[out])
                )
    return GlobalSensitivity(
        names=list(names),
        bounds=np.asarray(bounds, float),
        parameter_units=list(parameter_units or ["?"] * P),
        outputs=outputs,
        output_units=list(output_units or ["?"] * len(outputs)),
        S1=res["S1"],
        S1_conf=res["S1_conf"],
        ST=res["ST"],
        ST_conf=res["ST_conf"],
        dgsm=res["dgsm"],
        dgsm_se=res["se"],
        dgsm_bound=res["bound"],
        variance=variance,
        n=n,
        X=np.asarray(X),
        Y={k: np.asarray(v) for k, v in Y.items()},
        status=np.asarray(status),
        failed=failed,
        groups_used=groups_used,
        conf_level=conf_level,
        notes=notes,
        wall_time_s=0.0 if start_time is None else time.perf_counter() - start_time,
    )


def sobol_indices(
    function: Callable,
    ranges: Mapping[str, Sequence],
    *,
    n: int = 1024,
    gradients: bool = True,
    chunk_size: int = 512,
    seed: int = 0,
    progress: bool | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> GlobalSensitivity:
    """Sobol indices (first order and total) and DGSM of a JAX function.

    **Arguments:**

    - `function`: ``theta (P,) -> {output: scalar}`` or
      ``-> ({output: scalar}, status)`` (status 0 = ok), traceable by JAX
      (``vmap``, and ``jacfwd`` for `gradients`). An Equinox module or its bound
      method is best: its arrays are traced, so new values do not recompile.
    - `ranges`: ``{name: (low, high)}``; each parameter uniform on its range, in
      the order given.
    - `n`: base samples (a power of 2); ``n (P + 2)`` evaluations.
    - `gradients`: also compute DGSM from forward-mode gradients at every sample.
    - `chunk_size`: samples per compiled vmapped call; `progress`: progress bar
      (default: when there is more than one chunk).
    - `seed`: scrambling of the Sobol' sequence and the bootstrap;
      `num_resamples`, `conf_level`: SALib's bootstrap of the confidence
      intervals.
    """
    start = time.perf_counter()
    names, bounds = check_ranges(ranges)
    X = sobol_samples(bounds, n, seed)
    Y, status, grads = evaluate_samples(
        function, X, chunk_size=chunk_size, gradients=gradients, progress=progress
    )
    return analyse(
        names,
        bounds,
        X,
        Y,
        status,
        grads,
        n,
        num_resamples=num_resamples,
        conf_level=conf_level,
        seed=seed,
        start_time=start,
    )
