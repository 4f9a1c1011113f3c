"""Multi-start optimisation: K starts advanced together in one vmapped step.

Methods (all on the unconstrained vector ``u``):

- ``"lm"``: Levenberg–Marquardt on the residuals (Jacobian by forward mode),
  the fastest near an optimum.
- ``"adam"``: Optax Adam with global-norm gradient clipping.
- ``"lbfgs"``: Optax L-BFGS with a backtracking line search (values only, so the
  forward-mode gradient suffices).

A start whose loss or parameters become non-finite is reset to a fresh
quasi-random point (its optimiser state re-initialised) and the event is
recorded; the others carry on untouched. The Python loop between steps shows
progress, stops early, and writes/reads checkpoints.
"""

import dataclasses
import functools
import io
import json
import os
import time
import zipfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from ._objective import Objective
from ._settings import FitSettings


def _value_and_jacobian(objective: Objective, u):
    def both(v):
        r, ok = objective.residuals_and_status(v)
        return r, (r, ok)

    J, (r, ok) = jax.jacfwd(both, has_aux=True)(u)
    return r, J, ok


class _LMState(eqx.Module):
    damping: Float[Array, ""]


def _lm_init(u):
    return _LMState(jnp.asarray(1e-3, u.dtype))


def _lm_step(objective, u, state):
    r, J, ok = _value_and_jacobian(objective, u)
    loss = jnp.sum(r * r)
    g = J.T @ r
    H = J.T @ J
    P = u.shape[0]
    lam = state.damping
    A = H + lam * (jnp.diag(jnp.diag(H)) + 1e-12 * jnp.eye(P))
    delta = -jnp.linalg.solve(A, g)
    delta = jnp.where(jnp.all(jnp.isfinite(delta)), delta, 0.0)
    trial = u + delta
    r_new = objective.residuals(trial)
    new_loss = jnp.sum(r_new * r_new)
    accept = jnp.isfinite(new_loss) & (new_loss < loss)
    u = jnp.where(accept, trial, u)
    lam = jnp.clip(jnp.where(accept, lam / 3.0, lam * 4.0), 1e-9, 1e9)
    return u, _LMState(lam), jnp.where(accept, new_loss, loss), ok


@eqx.filter_jit
def _lm_steps(objective, u, state):
    """One LM step of every start (rows of `u`). Module-level and taking the
    objective as an argument, so that repeated fits of objectives of one structure
    (a resumed fit, the starts of a population, the test suite) compile once."""
    return jax.vmap(_lm_step, in_axes=(None, 0, 0))(objective, u, state)


@eqx.filter_jit
def _final_evaluation(objective, u):
    """The loss of every start (rows of `u`) and its simulated sweeps, in one
    compiled call (evaluated eagerly the loss was traced and compiled operation
    by operation, and the best start's sweeps were compiled again on their own:
    together ~6 s of a small fit's ~25 s on the project's CPU)."""
    return jax.vmap(objective.loss_and_sweeps)(u)


def _gradient(objective, u):
    r, J, ok = _value_and_jacobian(objective, u)
    return jnp.sum(r * r), 2.0 * J.T @ r, ok


def _optax_optimiser(settings: FitSettings):
    if settings.method == "adam":
        return optax.chain(
            optax.clip_by_global_norm(settings.clip), optax.adam(settings.learning_rate)
        )
    return optax.lbfgs(
        linesearch=optax.scale_by_backtracking_linesearch(max_backtracking_steps=20)
    )


def _make_step(objective: Objective, settings: FitSettings):
    if settings.method == "lm":
        return jax.vmap(_lm_init), functools.partial(_lm_steps, objective)
    opt = _optax_optimiser(settings)

    def step(u, state):
        loss, grad, ok = _gradient(objective, u)
        if settings.method == "lbfgs":
            updates, state = opt.update(
                grad, state, u, value=loss, grad=grad, value_fn=objective.loss
            )
        else:
            updates, state = opt.update(grad, state, u)
        return optax.apply_updates(u, updates), state, loss, ok

    return jax.vmap(opt.init), eqx.filter_jit(jax.vmap(step))


def _merge(mask, new, old):
    """Rows of `new` where `mask` (K,), else `old`: for any PyTree of (K, ...)."""

    def pick(a, b):
        if not eqx.is_array(a):
            return a
        m = mask.reshape((-1,) + (1,) * (a.ndim - 1))
        return jnp.where(m, a, b)

    return jax.tree.map(pick, new, old)


@dataclasses.dataclass
class OptimisationLog:
    losses: list  # per step: (K,) loss at the start of the step
    params: list  # per step: (K, P) unconstrained parameters
    resets: list  # (step, start, reason)
    failed_sweeps: list  # (step, start, sweep indices)
    steps_done: int
    stopped_early: bool
    wall_time: float
    first_step_time: float
    ok_history: list = dataclasses.field(default_factory=list)  # per step: (K, S)
    final_sweeps: object = None  # the final sweeps of every start (batched, K)


def _save_checkpoint(path: Path, u, state, log: OptimisationLog, next_reserve, config):
    """Write the checkpoint (``.npz`` and its ``.json``) through temporary files
    renamed into place, so a run killed while writing leaves the previous
    checkpoint whole. The optimiser state (a PyTree) is serialised by Equinox
    into the same ``.npz`` (entry ``optimiser_state``)."""
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, state)
    tmp_npz = path.with_name(f".{path.stem}.tmp.npz")
    tmp_json = path.with_name(f".{path.stem}.tmp.json")
    np.savez(
        tmp_npz,
        u=np.asarray(u),
        losses=np.asarray(log.losses),
        params=np.asarray(log.params),
        next_reserve=next_reserve,
        steps_done=log.steps_done,
        optimiser_state=np.frombuffer(buffer.getvalue(), dtype=np.uint8),
    )
    tmp_json.write_text(
        json.dumps(dict(config=config, resets=log.resets, failed=log.failed_sweeps))
    )
    os.replace(tmp_json, path.with_suffix(".json"))
    os.replace(tmp_npz, path)


def _load_checkpoint(path: Path):
    """The checkpoint's arrays and metadata; ``ValueError`` if unreadable."""
    try:
        with np.load(path) as saved:
            arrays = {k: saved[k] for k in saved.files}
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"the checkpoint {path} cannot be read ({type(err).__name__}: {err}); "
            "delete it, or start afresh without --resume."
        ) from err
    return arrays, meta


def optimise(
    objective: Objective,
    u0: np.ndarray,
    reserve: np.ndarray,
    settings: FitSettings,
    *,
    progress: bool = True,
    checkpoint: Path | None = None,
    resume: bool = False,
    config: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, OptimisationLog]:
    """Run K starts (rows of `u0`) for `settings.steps` steps.

    **Returns:** ``(u, losses, log)``: final parameters (K, P), their losses (K,)
    and the log (loss and parameter paths, resets, failures, timing)."""
    init, step = _make_step(objective, settings)
    u = jnp.asarray(u0)
    state = init(u)
    log = OptimisationLog([], [], [], [], 0, False, 0.0, 0.0)
    next_reserve = 0
    config = dict(config or {}, method=settings.method)
    if checkpoint is not None and resume and Path(checkpoint).exists():
        saved, meta = _load_checkpoint(Path(checkpoint))
        if meta["config"] != config:
            raise ValueError(
                f"the checkpoint {checkpoint} was written for a different fit "
                f"({meta['config']}); start afresh without --resume."
            )
        u = jnp.asarray(saved["u"])
        if "optimiser_state" not in saved:
            raise ValueError(
                f"the checkpoint {checkpoint} holds no optimiser state (written by "
                "an older hh_jax?); start afresh without --resume."
            )
        state = eqx.tree_deserialise_leaves(
            io.BytesIO(saved["optimiser_state"].tobytes()), state
        )
        log.losses = list(saved["losses"])
        log.params = list(saved["params"])
        log.resets = [tuple(x) for x in meta["resets"]]
        log.failed_sweeps = [tuple(x) for x in meta["failed"]]
        log.steps_done = int(saved["steps_done"])
        next_reserve = int(saved["next_reserve"])

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=settings.steps,
            initial=log.steps_done,
            desc=f"fit ({settings.method})",
            unit="step",
        )
    start_time = time.perf_counter()
    best_history: list[float] = [float(np.min(log.losses[-1]))] if log.losses else []
    loss = None
    while log.steps_done < settings.steps:
        t0 = time.perf_counter()
        new_u, new_state, loss, ok = step(u, state)
        loss = np.asarray(loss)
        if log.steps_done == 0:
            log.first_step_time = time.perf_counter() - t0
        ok = np.asarray(ok)
        log.ok_history.append(ok)
        nonfinite = ~np.isfinite(loss) | ~np.all(np.isfinite(np.asarray(new_u)), axis=1)
        # A start whose every sweep failed learns nothing from its penalty: restart.
        dead = ~ok.any(axis=1)
        bad = nonfinite | dead
        for k in np.flatnonzero(~np.all(ok, axis=1)):
            log.failed_sweeps.append(
                (log.steps_done, int(k), np.flatnonzero(~np.asarray(ok)[k]).tolist())
            )
        log.losses.append(np.where(np.isfinite(loss), loss, np.inf))
        log.params.append(np.asarray(u))
        if bad.any():
            fresh = np.asarray(new_u).copy()
            for k in np.flatnonzero(bad):
                fresh[k] = reserve[next_reserve % len(reserve)]
                next_reserve += 1
                reason = (
                    "non-finite loss or parameters"
                    if nonfinite[k]
                    else "every sweep simulation failed"
                )
                log.resets.append((log.steps_done, int(k), reason))
            fresh = jnp.asarray(fresh)
            new_state = _merge(jnp.asarray(bad), init(fresh), new_state)
            new_u = fresh
        u, state = new_u, new_state
        log.steps_done += 1
        best = float(np.min(log.losses[-1]))
        best_history.append(best)
        if bar is not None:
            bar.set_postfix(best_loss=f"{best:.4g}")
            bar.update(1)
        if checkpoint is not None and log.steps_done % settings.checkpoint_every == 0:
            _save_checkpoint(Path(checkpoint), u, state, log, next_reserve, config)
        if len(best_history) > settings.patience:
            old = best_history[-settings.patience - 1]
            if old - best <= settings.tol * max(abs(old), 1e-300):
                log.stopped_early = True
                break
    if bar is not None:
        bar.close()
    final, log.final_sweeps = _final_evaluation(objective, u)
    final = np.asarray(final)
    final = np.where(np.isfinite(final), final, np.inf)
    log.wall_time = time.perf_counter() - start_time
    if checkpoint is not None:
        _save_checkpoint(Path(checkpoint), u, state, log, next_reserve, config)
    return np.asarray(u), final, log
