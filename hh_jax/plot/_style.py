"""Shared look: colours per quantity, axis labels with units."""

import matplotlib

GATE_COLOURS = {"m": "#d62728", "h": "#1f77b4", "n": "#2ca02c", "p": "#9467bd"}
CURRENT_COLOURS = {
    "I_Na": "#d62728",
    "I_K": "#2ca02c",
    "I_L": "#7f7f7f",
    "I_M": "#9467bd",
    "I_ext": "#000000",
}
VOLTAGE_COLOUR = "#222222"


def colour(name: str, table: dict[str, str], index: int) -> str:
    if name in table:
        return table[name]
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    return cycle[index % len(cycle)]


def tidy(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.grid(alpha=0.25, linewidth=0.6)
