"""The result of a fit, and saving it as ``params.json`` + ``fit.npz``."""

import dataclasses
from pathlib import Path

import numpy as np

from .._tables import Column, format_table, write_json

TABLE_FEATURES = (
    "Spikecount",
    "time_to_first_spike",
    "mean_frequency",
    "AP_amplitude",
    "AP_width",
    "voltage_base",
    "steady_state_voltage_stimend",
)


@dataclasses.dataclass
class FitResult:
    """Everything a fit produced. Parameter values are in physical units
    (`units`); arrays over starts have a leading axis K, over steps N.

    - `parameters`, `units`: the best start's fitted values.
    - `start_parameters` (K, P): where each start began; `final_parameters` (K, P)
      and `final_losses` (K,) where it ended; `best_start`.
    - `loss_history` (N, K), `parameter_history` (N, K, P): the paths.
    - `area`: {"value": um^2, "fitted": bool} for whole-cell data, else None.
    - `t`, `V_data`, `V_model`, `mask` (S, T): the sweeps and the fit's traces.
    - `features`: {feature: {"data": (S,), "model": (S,)}} (eFEL names).
    - `resets`, `failed_sweeps`: starts reset for non-finite values, sweeps whose
      simulation failed, as (step, start, ...).
    - `timing`: wall time, first step (mostly compilation), steps, solves.
    - `notes`: what the initialiser and the optimiser reported.
    - `objective`, `best_unconstrained`: the :class:`Objective` and the best
      start's unconstrained vector ``u``, for further analysis (e.g. confidence
      intervals from the residual Jacobian); not saved to disk.
    """

    names: list[str]
    units: dict[str, str]
    parameters: dict[str, float]
    start_parameters: np.ndarray
    final_parameters: np.ndarray
    final_losses: np.ndarray
    best_start: int
    loss_history: np.ndarray
    parameter_history: np.ndarray
    area: dict | None
    sweep_names: list[str]
    t: np.ndarray
    V_data: np.ndarray
    V_model: np.ndarray
    mask: np.ndarray
    features: dict
    resets: list
    failed_sweeps: list
    timing: dict
    settings: dict
    notes: list[str]
    objective: object = None  # the Objective (not saved): for refits, sensitivities
    best_unconstrained: np.ndarray | None = None  # the best start's u (not saved)

    @property
    def loss(self) -> float:
        return float(self.final_losses[self.best_start])

    def rows(self, truth: dict[str, float] | None = None) -> list[dict]:
        """One row per fitted parameter: value and unit (and, for names in
        `truth`, the true value and the relative error)."""
        rows = []
        for name in self.names:
            row = dict(
                parameter=name, value=self.parameters[name], unit=self.units[name]
            )
            if truth and name in truth:
                row.update(
                    true=truth[name],
                    rel_error=abs(row["value"] - truth[name]) / abs(truth[name]),
                )
            rows.append(row)
        return rows

    def table(self, truth: dict[str, float] | None = None) -> str:
        """A plain-text table of the fitted parameters (and the true values and
        relative errors, if `truth` is given)."""
        columns = [
            Column("parameter", 12, align="<"),
            Column("value", 14, ".6g", header="fitted", gap=2),
            Column("unit", 9, align="<"),
        ]
        if truth:
            columns += [
                Column("true", 12, cell=lambda r: _cell(r, "true", ".6g")),
                Column(
                    "rel_error",
                    12,
                    header="rel. error",
                    cell=lambda r: _cell(r, "rel_error", ".2e"),
                ),
            ]
        return format_table(self.rows(truth), columns)

    def feature_table(self) -> str:
        """Data vs model, per sweep, for the eFEL features in `features`."""
        names = list(self.features)
        lines = [f"{'sweep':<14}" + "".join(f"{n[:18]:>20}" for n in names)]
        for s, sweep in enumerate(self.sweep_names):
            cells = []
            for n in names:
                d, m = self.features[n]["data"][s], self.features[n]["model"][s]
                cells.append(f"{_fmt(d)} / {_fmt(m)}".rjust(20))
            lines.append(f"{sweep[:14]:<14}" + "".join(cells))
        return "\n".join(lines) + "\n(data / model)"

    def save(self, directory: str | Path) -> None:
        """Write ``params.json`` (parameters with units, settings, timing, notes)
        and ``fit.npz`` (histories and traces) into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        summary = dict(
            parameters={
                n: dict(value=self.parameters[n], unit=self.units[n])
                for n in self.names
            },
            loss=self.loss,
            best_start=self.best_start,
            area=self.area,
            sweeps=self.sweep_names,
            features=self.features,  # NaN (no value) as null
            resets=self.resets,
            failed_sweeps=self.failed_sweeps,
            timing=self.timing,
            settings=self.settings,
            notes=self.notes,
        )
        write_json(directory / "params.json", summary)
        np.savez(
            directory / "fit.npz",
            names=np.asarray(self.names),
            start_parameters=self.start_parameters,
            final_parameters=self.final_parameters,
            final_losses=self.final_losses,
            loss_history=self.loss_history,
            parameter_history=self.parameter_history,
            t=self.t,
            V_data=self.V_data,
            V_model=self.V_model,
            mask=self.mask,
        )


def _fmt(x) -> str:
    x = float(x)
    return "—" if not np.isfinite(x) else f"{x:.4g}"


def _cell(row: dict, key: str, spec: str) -> str:
    return format(row[key], spec) if key in row else ""
