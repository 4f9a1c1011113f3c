"""A simulated trace: membrane potential, gates, currents and the stimulus."""

import matplotlib.pyplot as plt
import numpy as np

from ..spikes import THRESHOLD, spike_times
from ..trace import Trace
from ._style import CURRENT_COLOURS, GATE_COLOURS, VOLTAGE_COLOUR, colour, tidy


def plot_trace(trace: Trace, *, title: str | None = None, threshold: float = THRESHOLD):
    """Stacked panels sharing the time axis (ms): V (mV) with spike times (upward
    crossings of `threshold`, mV) marked,
    the gating variables, the channel currents (uA/cm^2; shown when the trace has
    them: ``simulate(..., currents=True)``) and the applied current.

    `trace` holds one neuron (no batch axis). Returns the matplotlib Figure."""
    t = np.asarray(trace.t)
    if t.ndim != 1:
        raise ValueError("plot_trace draws one neuron; index the batch first.")
    V = np.asarray(trace.V)
    currents = {k: np.asarray(v) for k, v in trace.currents.items() if k != "I_ext"}
    I_ext = trace.currents.get("I_ext")
    panels = ["V"] + (["gates"] if trace.gates else [])
    panels += (["currents"] if currents else []) + (
        ["I_ext"] if I_ext is not None else []
    )
    heights = {"V": 3.0, "gates": 1.6, "currents": 2.0, "I_ext": 1.0}
    fig, axes = plt.subplots(
        len(panels),
        1,
        sharex=True,
        figsize=(9, 1.3 + sum(heights[p] for p in panels)),
        gridspec_kw=dict(height_ratios=[heights[p] for p in panels]),
        constrained_layout=True,
    )
    axes = np.atleast_1d(axes)
    for ax, panel in zip(axes, panels):
        tidy(ax)
        if panel == "V":
            ax.plot(t, V, color=VOLTAGE_COLOUR, lw=1.2)
            spikes = np.asarray(spike_times(t, V, threshold))
            spikes = spikes[np.isfinite(spikes)]
            ax.plot(
                spikes,
                np.full_like(spikes, threshold),
                "v",
                color="#d62728",
                ms=5,
                label=f"{len(spikes)} spikes ({threshold:g} mV crossings)",
            )
            ax.set_ylabel("V (mV)")
            if len(spikes):
                ax.legend(loc="upper right", frameon=False, fontsize=8)
        elif panel == "gates":
            for i, (name, x) in enumerate(trace.gates.items()):
                ax.plot(
                    t, np.asarray(x), color=colour(name, GATE_COLOURS, i), label=name
                )
            ax.set_ylim(-0.03, 1.03)
            ax.set_ylabel("gates")
            ax.legend(
                loc="upper right", ncol=len(trace.gates), frameon=False, fontsize=8
            )
        elif panel == "currents":
            for i, (name, x) in enumerate(currents.items()):
                ax.plot(
                    t, x, color=colour(name, CURRENT_COLOURS, i), lw=1.0, label=name
                )
            ax.axhline(0.0, color="k", lw=0.5)
            ax.set_ylabel("outward current\n(uA/cm$^2$)")
            ax.legend(loc="upper right", ncol=len(currents), frameon=False, fontsize=8)
        else:
            ax.plot(t, np.asarray(I_ext), color="k", lw=1.0, drawstyle="steps-post")
            ax.set_ylabel("I$_{ext}$\n(uA/cm$^2$)")
    axes[-1].set_xlabel("time (ms)")
    if title:
        axes[0].set_title(title)
    return fig
