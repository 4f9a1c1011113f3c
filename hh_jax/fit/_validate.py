"""Validation: a fitted model against sweeps it did not see, judged by eFEL.

Each validated sweep is replayed whole with the fitted model
(:func:`._replay.replay_each`; a sweep whose simulation fails fails its
checks and is named in `Validation.failures`), and eFEL itself (the reference
implementation of the features) measures data and model with the same
settings: the spike threshold of the fit, the sweep's main step as the stimulus
window, times counted from the sweep's first sample. Five checks per sweep, the
criteria users judge fits by:

- spike count (eFEL ``Spikecount``) within 15 % (within 2 below 10 spikes);
- first-spike latency (``time_to_first_spike``) within 10 ms;
- mean AP peak (``peak_voltage``) within 5 mV;
- mean AP width (``AP_width``) within 25 %;
- pre-step baseline (``voltage_base``) within 2 mV, where the data have no
  spike before the step.

Latency, peak and width apply where the data spike in the step (a model that
does not spike there fails them); ``None`` marks a check that does not apply.
"""

import dataclasses
from pathlib import Path

import numpy as np

from .._tables import Column, format_table, write_json
from ..io import Recording, Sweep
from ._protocol import main_step_window, step_protocol
from ._replay import replay_each

CRITERIA = {
    "spike_count": "eFEL Spikecount within 15 % (within 2 spikes below 10)",
    "first_spike_latency": "eFEL time_to_first_spike within 10 ms",
    "AP_peak": "mean eFEL peak_voltage within 5 mV",
    "AP_width": "mean eFEL AP_width within 25 %",
    "voltage_base": "eFEL voltage_base within 2 mV (no spike before the step)",
}
REPORTED = (
    "Spikecount",
    "Spikecount_stimint",
    "time_to_first_spike",
    "mean_frequency",
    "peak_voltage",
    "AP_width",
    "spike_half_width",
    "AHP_depth_abs",
    "adaptation_index2",
    "voltage_base",
    "steady_state_voltage_stimend",
    "sag_ratio1",
)


def efel_features(
    t: np.ndarray, V: np.ndarray, start: float, end: float, threshold: float
) -> dict[str, float | None]:
    """eFEL's :data:`REPORTED` features of one trace (means of per-spike ones;
    None where eFEL has none). `t` in ms from the sweep's start."""
    import efel

    efel.reset()
    efel.set_setting("Threshold", float(threshold))
    trace = {
        "T": np.asarray(t),
        "V": np.asarray(V),
        "stim_start": [start],
        "stim_end": [end],
    }
    raw = efel.get_feature_values([trace], list(REPORTED), raise_warnings=False)[0]
    efel.reset()
    out = {}
    for name in REPORTED:
        v = raw.get(name)
        out[name] = None if v is None or len(v) == 0 else float(np.mean(v))
    return out


def _checks(data: dict, model: dict, spike_before_step: bool) -> dict:
    def result(ok, d, m, tolerance):
        return {"pass": ok, "data": d, "model": m, "tolerance": tolerance}

    n_d, n_m = data["Spikecount"] or 0.0, model["Spikecount"] or 0.0
    tol = 2.0 if n_d < 10 else 0.15 * n_d
    checks = {"spike_count": result(bool(abs(n_m - n_d) <= tol), n_d, n_m, tol)}
    data_spikes = data["time_to_first_spike"] is not None
    for key, name, tol_of in (
        ("first_spike_latency", "time_to_first_spike", lambda d: 10.0),
        ("AP_peak", "peak_voltage", lambda d: 5.0),
        ("AP_width", "AP_width", lambda d: 0.25 * abs(d)),
    ):
        d, m = data[name], model[name]
        if not data_spikes or d is None:
            checks[key] = result(None, d, m, None)
        else:
            tol = tol_of(d)
            checks[key] = result(m is not None and abs(m - d) <= tol, d, m, tol)
    d, m = data["voltage_base"], model["voltage_base"]
    if spike_before_step or d is None:
        checks["voltage_base"] = result(None, d, m, None)
    else:
        checks["voltage_base"] = result(m is not None and abs(m - d) <= 2.0, d, m, 2.0)
    return checks


@dataclasses.dataclass
class SweepValidation:
    """One validated sweep: its index in the recording, the main step (ms from
    the sweep's start, and amplitude in the sweep's unit), the eFEL features of
    data and model, the checks, and both traces (`t` on the recording's clock)."""

    index: int
    name: str
    step_start: float
    step_end: float
    amplitude: float
    current_unit: str
    features: dict
    checks: dict
    t: np.ndarray
    V_data: np.ndarray
    V_model: np.ndarray
    failure: str | None = None

    @property
    def passed(self) -> int:
        return sum(c["pass"] is True for c in self.checks.values())

    @property
    def applicable(self) -> int:
        return sum(c["pass"] is not None for c in self.checks.values())


@dataclasses.dataclass
class Validation:
    """The validation of a fit on a set of sweeps: `sweeps` (one
    :class:`SweepValidation` each), `threshold` (mV), and the totals."""

    sweeps: list[SweepValidation]
    threshold: float

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.sweeps)

    @property
    def applicable(self) -> int:
        return sum(s.applicable for s in self.sweeps)

    @property
    def failures(self) -> list[str]:
        """One line per sweep whose simulation failed (its checks count as
        failed)."""
        return [
            f"sweep {s.index}: the model's simulation failed ({s.failure}); its "
            "checks count as failed"
            for s in self.sweeps
            if s.failure is not None
        ]

    @property
    def fraction(self) -> float:
        return self.passed / self.applicable if self.applicable else float("nan")

    def by_check(self) -> dict[str, tuple[int, int]]:
        """(passed, applicable) per check."""
        out = {}
        for key in CRITERIA:
            results = [s.checks[key]["pass"] for s in self.sweeps]
            out[key] = (
                sum(r is True for r in results),
                sum(r is not None for r in results),
            )
        return out

    def table(self) -> str:
        """A plain-text table: per sweep, data / model for each check."""
        columns = [
            Column("sweep", 5, gap=1, cell=lambda s: str(s.index)),
            Column("I", 8, gap=2, cell=lambda s: f"{s.amplitude:.4g}"),
        ] + [
            Column(key, 22, header=key[:18], cell=lambda s, key=key: _check(s, key))
            for key in CRITERIA
        ]
        summary = ", ".join(f"{k} {p}/{n}" for k, (p, n) in self.by_check().items())
        footer = [
            f"passed {self.passed} of {self.applicable} checks "
            f"({100 * self.fraction:.0f} %): {summary}"
        ]
        return format_table(self.sweeps, columns, footer=footer)

    def to_json(self) -> dict:
        return {
            "threshold_mV": self.threshold,
            "criteria": CRITERIA,
            "summary": {
                "passed": self.passed,
                "applicable": self.applicable,
                "fraction": self.fraction,
                "by_check": {
                    k: {"passed": p, "applicable": n}
                    for k, (p, n) in self.by_check().items()
                },
            },
            "failures": self.failures,
            "sweeps": {
                str(s.index): {
                    "name": s.name,
                    "failure": s.failure,
                    "step": {
                        "start_ms": s.step_start,
                        "end_ms": s.step_end,
                        "amplitude": s.amplitude,
                        "unit": s.current_unit,
                    },
                    "features": s.features,
                    "checks": s.checks,
                    "passed": s.passed,
                    "applicable": s.applicable,
                }
                for s in self.sweeps
            },
        }

    def save(self, directory: str | Path) -> None:
        """Write ``validation.npz`` (``t_<k>`` ms on the recording's clock and
        ``V_<k>`` mV of the model, ``V_data_<k>`` of the data, per sweep index k),
        ``validation.json`` and ``validation.png``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {}
        for s in self.sweeps:
            arrays[f"t_{s.index}"] = s.t
            arrays[f"V_{s.index}"] = s.V_model
            arrays[f"V_data_{s.index}"] = s.V_data
        np.savez(directory / "validation.npz", **arrays)
        write_json(directory / "validation.json", self.to_json())
        import matplotlib

        matplotlib.use("Agg")
        from ..plot import plot_validation

        fig = plot_validation(self)
        fig.savefig(directory / "validation.png", dpi=100)
        import matplotlib.pyplot as plt

        plt.close(fig)


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.4g}"


def _check(sweep: "SweepValidation", key: str) -> str:
    """``data/model mark`` of one check of one sweep."""
    c = sweep.checks[key]
    mark = {True: "ok", False: "FAIL", None: "  "}[c["pass"]]
    return f"{_fmt(c['data'])}/{_fmt(c['model'])} {mark}"


def validate_model(
    model,
    recording: Recording,
    sweeps: list[int],
    *,
    area_um2: float | None,
    threshold: float,
    V_guess: float = -65.0,
    window: tuple[float, float] | None = None,
) -> Validation:
    """Replay `sweeps` (indices into `recording`) with `model` and check them
    (module docstring). `area_um2`: the membrane area for whole-cell data;
    `window`: the recording's main step (default: found from all its sweeps,
    :func:`hh_jax.fit.main_step_window`)."""
    if window is None:
        window = main_step_window(list(recording.sweeps))
    chosen: list[Sweep] = [recording[i] for i in sweeps]
    if not chosen:
        raise ValueError("no sweeps to validate.")
    V_model, failures = replay_each(model, chosen, area_um2=area_um2, V_guess=V_guess)
    out = []
    for k, (index, sweep, Vm) in enumerate(zip(sweeps, chosen, V_model)):
        proto = step_protocol(sweep, window)
        t0 = float(sweep.t[0])
        start, end = proto.main_step.start - t0, proto.main_step.end - t0
        rel = sweep.t - t0
        data = efel_features(rel, sweep.V, start, end, threshold)
        before = sweep.t < proto.main_step.start
        spike_before = bool(before.any() and np.max(sweep.V[before]) > threshold)
        if Vm is None:  # the simulation failed: every applicable check fails
            Vm = np.full_like(np.asarray(sweep.V, float), np.nan)
            mod = dict.fromkeys(data)
            checks = _checks(data, mod, spike_before)
            for c in checks.values():
                if c["pass"] is not None:
                    c["pass"] = False
        else:
            mod = efel_features(rel, Vm, start, end, threshold)
            checks = _checks(data, mod, spike_before)
        out.append(
            SweepValidation(
                index=int(index),
                name=sweep.name,
                step_start=start,
                step_end=end,
                amplitude=proto.main_step.amplitude,
                current_unit=sweep.current_unit,
                features={"data": data, "model": mod},
                checks=checks,
                t=np.asarray(sweep.t),
                V_data=np.asarray(sweep.V),
                V_model=np.asarray(Vm),
                failure=failures.get(k),
            )
        )
    return Validation(out, float(threshold))
