"""A feature of a parameter sweep: heat map over two axes, or a line over one."""

import matplotlib.pyplot as plt
import numpy as np

from ..sweep import Grid, SweepResults
from ._style import tidy

_LABELS = {
    "rate": "firing rate",
    "latency": "first-spike latency",
    "spike_count": "spike count",
    "status": "status code",
    "truncated": "spike slots exceeded",
}


def _axis_label(results: SweepResults, name: str) -> str:
    return f"{name} ({results.units[name].replace('^2', '$^2$')})"


def _label(results: SweepResults, name: str) -> str:
    unit = results.units.get(name, "")
    unit = unit.replace("^2", "$^2$")
    text = _LABELS.get(name, name)
    return f"{text} ({unit})" if unit and unit not in ("1", "bool") else text


def _slice(results, values, x, y, at):
    """`values` over the grid reduced to axes (y, x) (or x), the others fixed at
    the grid point nearest `at[name]` (default: the middle of the axis)."""
    names = list(results.names)
    index, fixed = [], []
    for k, name in enumerate(names):
        if name in (x, y):
            index.append(slice(None))
            continue
        points = results.axis(name)
        if name in at:
            i = int(np.argmin(np.abs(points - at[name])))
        else:
            i = len(points) // 2
        index.append(i)
        fixed.append(f"{name} = {points[i]:.4g} {results.units[name]}")
    part = values[tuple(index)]
    kept = [n for n in names if n in (x, y)]
    if y is not None and kept == [x, y]:
        part = part.T  # rows follow y
    return part, fixed


def plot_sweep(
    results: SweepResults,
    feature: str = "rate",
    *,
    x: str | None = None,
    y: str | None = None,
    at: dict | None = None,
    ax=None,
    title: str | None = None,
):
    """Plot `feature` of a sweep (see :func:`hh_jax.sweep.open_sweep`).

    - A grid with two or more axes: a heat map over axes `x` and `y` (default:
      the first two with more than one point not fixed by `at`); any other axis
      is held at the point nearest ``at[name]`` (its unit; default: the axis's
      middle).
    - One axis, or all but `x` fixed by `at`: the feature along `x` (a line).
    - A parameter table: a scatter of `x` against `y` coloured by the feature
      (against the feature itself when one parameter was sampled).

    Points not computed or failed show as grey (heat map) or gaps. Returns the
    Figure."""
    at = dict(at or {})
    values = results.feature(feature).astype(float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.6), constrained_layout=True)
    else:
        fig = ax.figure
    label = _label(results, feature)
    names = list(results.names)
    for name in (x, y):
        if name is not None and name not in names:
            raise KeyError(f"{name!r} was not swept; swept: {', '.join(names)}")
    if isinstance(results.space, Grid):
        long = [
            n for n, s in zip(names, results.shape) if s > 1 and n not in at
        ] or names[:1]
        x = x or long[0]
        if y is None and len(long) > 1:
            y = next(n for n in long if n != x)
        part, fixed = _slice(results, values, x, y, at)
        xs = results.axis(x)
        if y is None:
            tidy(ax)
            ax.plot(xs, part, "o-", ms=3, color="#1f77b4")
            ax.set_ylabel(label)
        else:
            ys = results.axis(y)
            cmap = plt.get_cmap("viridis").with_extremes(bad="#bbbbbb")
            mesh = ax.pcolormesh(
                xs, ys, np.ma.masked_invalid(part), shading="nearest", cmap=cmap
            )
            fig.colorbar(mesh, ax=ax, label=label)
            ax.set_ylabel(_axis_label(results, y))
            _scale(ax.set_yscale, results, y)
        ax.set_xlabel(_axis_label(results, x))
        _scale(ax.set_xscale, results, x)
        subtitle = ", ".join(fixed)
    else:
        x = x or names[0]
        xs = results.parameter(x)
        tidy(ax)
        if len(names) == 1 and y is None:
            ax.plot(xs, values, ".", ms=2, color="#1f77b4")
            ax.set_ylabel(label)
        else:
            y = y or next(n for n in names if n != x)
            dots = ax.scatter(xs, results.parameter(y), c=values, s=4, cmap="viridis")
            fig.colorbar(dots, ax=ax, label=label)
            ax.set_ylabel(_axis_label(results, y))
        ax.set_xlabel(_axis_label(results, x))
        subtitle = ""
    heading = title or f"Sweep of {results.size:,} parameter sets: {label}"
    ax.set_title(heading + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    return fig


def _scale(setter, results, name) -> None:
    axis = results.space.axes[results.names.index(name)]
    if axis.scale == "log":
        setter("log")
