"""A validation at a glance: each held-out sweep, data vs model, and the f–I curve."""

import math

import matplotlib.pyplot as plt
import numpy as np

from ._fit import DATA_COLOUR, MODEL_COLOUR
from ._style import tidy


def plot_validation(validation, *, max_sweeps: int = 12):
    """One panel per validated sweep (recorded V grey, model red, mV against ms
    on the recording's clock; the title gives the step amplitude and the checks
    passed), and the f–I curve: eFEL spike count against step amplitude, data
    vs model. Returns the Figure."""
    sweeps = validation.sweeps
    shown = sweeps
    if len(sweeps) > max_sweeps:  # evenly spread over the amplitudes
        pick = np.unique(
            np.linspace(0, len(sweeps) - 1, max_sweeps).round().astype(int)
        )
        shown = [sweeps[i] for i in pick]
    panels = len(shown) + 1
    cols = min(4, panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.2 * cols, 2.6 * rows),
        constrained_layout=True,
        squeeze=False,
    )
    axes = axes.ravel()
    for ax, s in zip(axes, shown):
        tidy(ax)
        ax.plot(s.t, s.V_data, color=DATA_COLOUR, lw=1.6, alpha=0.6, label="data")
        ax.plot(s.t, s.V_model, color=MODEL_COLOUR, lw=0.7, label="model")
        ax.set_title(
            f"sweep {s.index}: {s.amplitude:+.4g} {s.current_unit} "
            f"({s.passed}/{s.applicable} checks)",
            fontsize=9,
        )
        ax.set_xlabel("t (ms)")
        ax.set_ylabel("V (mV)")
    axes[0].legend(loc="upper right", fontsize=8, frameon=False)
    ax = axes[len(shown)]
    tidy(ax)
    amp = [s.amplitude for s in sweeps]
    for which, colour, marker in (
        ("data", DATA_COLOUR, "o"),
        ("model", MODEL_COLOUR, "s"),
    ):
        count = [s.features[which]["Spikecount"] or 0 for s in sweeps]
        ax.plot(amp, count, marker=marker, color=colour, lw=1.2, ms=4, label=which)
    ax.set_xlabel(f"step amplitude ({sweeps[0].current_unit})")
    ax.set_ylabel("spike count (eFEL)")
    ax.set_title(
        f"f–I: {validation.passed}/{validation.applicable} checks passed "
        f"({100 * validation.fraction:.0f} %)",
        fontsize=9,
    )
    ax.legend(fontsize=8, frameon=False)
    for extra in axes[len(shown) + 1 :]:
        extra.axis("off")
    return fig
