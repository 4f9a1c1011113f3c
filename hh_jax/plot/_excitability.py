"""The f–I curve, with the bistable range where rest and firing coexist."""

import matplotlib.pyplot as plt
import numpy as np

from ..excitability import FICurve
from ._style import tidy


def plot_fi_curve(fi: FICurve, *, ax=None, title: str = "f–I curve"):
    """Firing rate (Hz) against constant current (uA/cm^2) for both branches of an
    :class:`hh_jax.excitability.FICurve`, the bistable range shaded and the loss of
    stability of rest (from the eigenvalues) marked. Returns the Figure."""
    amps = np.asarray(fi.amplitudes)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 4.2), constrained_layout=True)
    else:
        fig = ax.figure
    tidy(ax)
    ax.plot(
        amps,
        np.asarray(fi.rate_decreasing),
        "s-",
        ms=3,
        color="#d62728",
        label="current decreasing (start: firing)",
    )
    ax.plot(
        amps,
        np.asarray(fi.rate_increasing),
        "o--",
        ms=3,
        color="#1f77b4",
        label="current increasing (start: rest)",
    )
    bistable = fi.bistable_range()
    if bistable is not None:
        ax.axvspan(
            *bistable,
            color="#ffbf00",
            alpha=0.2,
            label=f"bistable: {bistable[0]:.2f}–{bistable[1]:.2f} uA/cm$^2$",
        )
    I_c = fi.instability_current()
    if I_c is not None:
        ax.axvline(
            I_c,
            color="k",
            lw=0.8,
            ls=":",
            label=f"rest loses stability: {I_c:.2f} uA/cm$^2$",
        )
    ax.set_xlabel("constant current (uA/cm$^2$)")
    ax.set_ylabel("firing rate (Hz)")
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return fig
