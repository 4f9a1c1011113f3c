"""Figures of sensitivity analyses: the time-resolved heat map, elasticity bars,
the Fisher eigen-spectrum, Sobol/DGSM bars and heat maps."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import SymLogNorm, TwoSlopeNorm

from ._style import VOLTAGE_COLOUR, tidy

_BLUE, _RED, _GREY = "#1f77b4", "#d62728", "#7f7f7f"


def plot_trace_sensitivity(
    result,
    *,
    normalised: bool = True,
    linthresh: float | None = 1.0,
    title: str | None = None,
):
    """V(t) on top and, aligned below, a heat map of the sensitivities over time
    (x, ms) and parameter (y): ``theta dV/dtheta`` in mV (the change of V for a
    100 % change of the parameter, to first order) when `normalised`, else the
    raw ``dV/dtheta``. Spike-time shifts dominate near spikes, so the colour
    scale is symmetric-logarithmic, linear within `linthresh` (None: linear).
    `result` is a :class:`hh_jax.sensitivity.TraceSensitivity`. Returns the
    Figure."""
    t, V = np.asarray(result.t), np.asarray(result.V)
    S = result.normalised if normalised else result.dV
    P = S.shape[1]
    fig, (ax_v, ax_s) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(9, 2.6 + 0.45 * P + 1.6),
        gridspec_kw=dict(height_ratios=[2.2, 0.45 * P + 0.8]),
        constrained_layout=True,
    )
    tidy(ax_v)
    ax_v.plot(t, V, color=VOLTAGE_COLOUR, lw=1.1)
    ax_v.set_ylabel("V (mV)")
    if np.any(result.I_ext != 0):
        ax_i = ax_v.twinx()
        ax_i.plot(t, result.I_ext, color=_GREY, lw=0.8, ls="--")
        ax_i.set_ylabel("I_ext (uA/cm$^2$)", color=_GREY)
        ax_i.spines["top"].set_visible(False)
    if title:
        ax_v.set_title(title)
    finite = S[np.isfinite(S)]
    vmax = float(np.max(np.abs(finite))) if finite.size else 1.0
    vmax = vmax if vmax > 0 else 1.0
    dt = np.diff(t).mean() if len(t) > 1 else 1.0
    image = ax_s.imshow(
        S.T,
        aspect="auto",
        origin="lower",
        interpolation="nearest",
        cmap="RdBu_r",
        norm=(
            TwoSlopeNorm(0.0, -vmax, vmax)
            if linthresh is None or linthresh >= vmax
            else SymLogNorm(linthresh, vmin=-vmax, vmax=vmax)
        ),
        extent=(t[0] - dt / 2, t[-1] + dt / 2, -0.5, P - 0.5),
    )
    ax_s.set_yticks(range(P), result.wrt)
    ax_s.set_xlabel("t (ms)")
    label = "theta dV/dtheta (mV)" if normalised else "dV/dtheta (mV per unit)"
    fig.colorbar(image, ax=ax_s, label=label, pad=0.01)
    return fig


def plot_elasticities(result, *, outputs=None, title: str | None = None):
    """Grouped bars of the elasticities ``d log y / d log theta`` of scalar outputs
    (one group per output, one bar per parameter). `result` is a
    :class:`hh_jax.sensitivity.LocalSensitivity` (trace outputs are skipped) or a
    list of :class:`hh_jax.sensitivity.ThresholdSensitivity`. Returns the Figure."""
    if isinstance(result, list | tuple):
        names = [r.name for r in result]
        wrt = result[0].wrt
        values = np.stack([r.elasticity for r in result])
    else:
        names = [
            o for o in (outputs or result.outputs) if np.ndim(result.values[o]) == 0
        ]
        wrt = result.wrt
        values = np.stack([result.elasticity(o) for o in names])
    fig, ax = plt.subplots(
        figsize=(1.6 + 1.3 * len(names) * max(1, len(wrt) / 3), 3.8),
        constrained_layout=True,
    )
    tidy(ax)
    width = 0.8 / len(wrt)
    x = np.arange(len(names))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, p in enumerate(wrt):
        ax.bar(
            x + (j - (len(wrt) - 1) / 2) * width,
            values[:, j],
            width,
            label=p,
            color=cycle[j % len(cycle)],
        )
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xticks(x, names)
    ax.set_ylabel("elasticity d log y / d log theta")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_fisher(result, *, title: str | None = None):
    """Three panels for a :class:`hh_jax.sensitivity.FisherInformation`: the
    eigenvalues of the log-parameter Fisher information (log scale, stiff to
    sloppy), their eigenvectors (parameter loadings), and the Cramér–Rao
    correlation matrix. Returns the Figure."""
    w, v = result.eigen()
    P = len(w)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), constrained_layout=True)
    ax = axes[0]
    tidy(ax)
    ax.semilogy(range(1, P + 1), np.maximum(w, 1e-300), "o-", color=_BLUE)
    ax.set_xticks(range(1, P + 1))
    ax.set_xlabel("eigen-direction (stiff -> sloppy)")
    ax.set_ylabel("eigenvalue of D F D")
    ax.set_title(f"sigma = {result.sigma:g} mV")
    ax = axes[1]
    im = ax.imshow(v, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_yticks(range(P), result.wrt)
    ax.set_xticks(range(P), [str(k + 1) for k in range(P)])
    ax.set_xlabel("eigen-direction")
    ax.set_title("loadings on log theta")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax = axes[2]
    im = ax.imshow(result.correlation, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(P), result.wrt, rotation=45)
    ax.set_yticks(range(P), result.wrt)
    ax.set_title("Cramér–Rao correlation")
    for i in range(P):
        for j in range(P):
            c = result.correlation[i, j]
            if np.isfinite(c):
                ax.text(
                    j,
                    i,
                    f"{c:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="w" if abs(c) > 0.6 else "k",
                )
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def plot_global(result, *, title: str | None = None):
    """One panel per output of a :class:`hh_jax.sensitivity.GlobalSensitivity`:
    first-order and total Sobol indices with their confidence intervals, and the
    DGSM upper bound on the total index (right axis). Returns the Figure."""
    outs = result.outputs
    P = len(result.names)
    fig, axes = plt.subplots(
        1,
        len(outs),
        figsize=(0.6 + 3.2 * len(outs), 3.6),
        squeeze=False,
        constrained_layout=True,
    )
    x = np.arange(P)
    for ax, out in zip(axes[0], outs):
        tidy(ax)
        ax.bar(
            x - 0.27,
            result.S1[out],
            0.27,
            yerr=result.S1_conf[out],
            color=_BLUE,
            label="S1",
            capsize=2,
        )
        ax.bar(
            x,
            result.ST[out],
            0.27,
            yerr=result.ST_conf[out],
            color=_RED,
            label="ST",
            capsize=2,
        )
        ax.bar(x + 0.27, result.dgsm_bound[out], 0.27, color=_GREY, label="DGSM bound")
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_xticks(x, result.names)
        ax.set_title(f"{out} ({result.failed[out]} flagged)")
        ax.axhline(0.0, color="k", lw=0.6)
    axes[0, 0].set_ylabel("index")
    axes[0, 0].legend(frameon=False, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_sobol_heatmap(result, *, index: str = "ST", title: str | None = None):
    """Heat map of Sobol indices (``"ST"`` or ``"S1"``), outputs x parameters,
    of a :class:`hh_jax.sensitivity.GlobalSensitivity`. Returns the Figure."""
    table = getattr(result, index)
    M = np.stack([table[o] for o in result.outputs])
    fig, ax = plt.subplots(
        figsize=(1.8 + 1.1 * len(result.names), 1.2 + 0.55 * len(result.outputs)),
        constrained_layout=True,
    )
    im = ax.imshow(np.clip(M, 0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(result.names)), result.names)
    ax.set_yticks(range(len(result.outputs)), result.outputs)
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if np.isfinite(M[i, j]):
                ax.text(
                    j,
                    i,
                    f"{M[i, j]:.2f}",
                    ha="center",
                    va="center",
                    color="w" if M[i, j] < 0.6 else "k",
                    fontsize=8,
                )
    fig.colorbar(im, ax=ax, label=f"Sobol {index}")
    ax.set_title(title or f"Sobol {index} (n = {result.n} base samples)")
    return fig
