"""A fit at a glance: data vs model per sweep, loss per start, parameter paths."""

import matplotlib.pyplot as plt
import numpy as np

from ._style import tidy

DATA_COLOUR = "#7f7f7f"
MODEL_COLOUR = "#d62728"


def plot_fit(result, *, truth: dict[str, float] | None = None, max_sweeps: int = 8):
    """Left: each sweep's recorded voltage (grey) and the fitted model (red), mV
    against ms. Right, top: the loss of every start against the step (log scale;
    the best start bold). Right, below: each free parameter's path per start, with
    the true value dashed if `truth` is given. Returns the Figure."""
    S = min(len(result.sweep_names), max_sweeps)
    P = len(result.names)
    rows = max(S, P + 1)
    fig = plt.figure(figsize=(13, 1.6 * rows + 1.0), constrained_layout=True)
    grid = fig.add_gridspec(rows, 2, width_ratios=[2.2, 1.0])
    sweep_axes = []
    for s in range(S):
        ax = fig.add_subplot(
            grid[s * rows // S : (s + 1) * rows // S, 0],
            sharex=sweep_axes[0] if sweep_axes else None,
        )
        tidy(ax)
        mask = result.mask[s]
        t = result.t[s][mask]
        ax.plot(
            t,
            result.V_data[s][mask],
            color=DATA_COLOUR,
            lw=2.4,
            alpha=0.55,
            label="data",
        )
        ax.plot(t, result.V_model[s][mask], color=MODEL_COLOUR, lw=0.8, label="model")
        ax.set_ylabel("V (mV)")
        ax.set_title(result.sweep_names[s], fontsize=9, loc="left")
        sweep_axes.append(ax)
    sweep_axes[0].legend(loc="upper right", frameon=False, fontsize=8, ncol=2)
    sweep_axes[-1].set_xlabel("time (ms)")
    if len(result.sweep_names) > S:
        sweep_axes[-1].annotate(
            f"(+{len(result.sweep_names) - S} more sweeps)",
            (1, 0),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
        )

    per_right = rows / (P + 1)

    def right(i):
        return fig.add_subplot(grid[int(i * per_right) : int((i + 1) * per_right), 1])

    ax = right(0)
    tidy(ax)
    history = np.asarray(result.loss_history)
    steps = np.arange(history.shape[0])
    for k in range(history.shape[1]):
        best = k == result.best_start
        ax.semilogy(
            steps,
            history[:, k],
            lw=2.0 if best else 0.8,
            color="k" if best else None,
            alpha=1.0 if best else 0.6,
            label="best start" if best else None,
        )
    ax.set_ylabel("loss")
    ax.set_title(f"{history.shape[1]} starts, {result.settings['method']}", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    paths = np.asarray(result.parameter_history)
    for i, name in enumerate(result.names):
        ax = right(i + 1)
        tidy(ax)
        for k in range(paths.shape[1]):
            best = k == result.best_start
            ax.plot(
                steps,
                paths[:, k, i],
                lw=2.0 if best else 0.8,
                color="k" if best else None,
                alpha=1.0 if best else 0.6,
            )
        if truth and name in truth:
            ax.axhline(truth[name], color=MODEL_COLOUR, ls="--", lw=1.0, label="true")
            ax.legend(frameon=False, fontsize=8)
        ax.set_ylabel(f"{name}\n({result.units[name]})")
        values = paths[..., i]
        if result.units[name] in ("mS/cm^2", "um^2", "ms") and np.all(values > 0):
            if values.min() > 1e-4 * values.max():  # log only over a sane range
                ax.set_yscale("log")
    ax.set_xlabel("step")
    return fig
