"""Read a fit directory (``params.json``) back into a model.

Two writers produce ``params.json``: the whole-cell fit
(:func:`hh_jax.fit.fit_cell`, key ``"model"`` with the candidate's name, the
area in um^2 and the passive estimate) and the density fit
(:func:`hh_jax.fit.fit`, no model name: the model is the one it was given,
``"hh"`` unless ``--model cortical-rs`` was used).
"""

import dataclasses
import json
from pathlib import Path

from ..model import PointNeuron
from ..presets import HodgkinHuxley


def _builders() -> dict:
    from ..fit._presets import CANDIDATES

    builders = {name: c.build for name, c in CANDIDATES.items()}
    builders["hh"] = HodgkinHuxley
    return builders


@dataclasses.dataclass(frozen=True)
class FittedCell:
    """A fitted model read from a fit directory.

    - `model`: the :class:`hh_jax.PointNeuron` with the fitted values.
    - `model_name`: the preset it was built from (``"cortical-rs"`` ...).
    - `area_um2`: membrane area (um^2) for whole-cell fits, else None.
    - `V_rest`: the recorded resting potential (mV) if the fit measured it.
    """

    model: PointNeuron
    model_name: str
    area_um2: float | None
    V_rest: float | None


def load_fit(fit_dir: str | Path, model: str | None = None) -> FittedCell:
    """The fitted cell in `fit_dir` (a directory holding ``params.json``, or the
    file itself). `model` names the preset for a density fit, whose
    ``params.json`` does not record it (default ``"hh"``); for a whole-cell fit
    it must agree with the recorded name if given."""
    path = Path(fit_dir)
    path = path / "params.json" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no params.json in {fit_dir} (a fit's output).")
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "parameters" not in data:
        raise ValueError(f"{path} is not a fit's params.json (no 'parameters').")
    recorded = data.get("model")
    if recorded is not None and model is not None and model != recorded:
        raise ValueError(f"{path} is a fit of {recorded!r}, not of {model!r}.")
    name = recorded or model or "hh"
    builders = _builders()
    if name not in builders:
        raise ValueError(
            f"unknown model {name!r} in {path}; known: {sorted(builders)}."
        )
    base = builders[name]()
    infos = base.parameter_infos()
    values = {}
    for pname, entry in data["parameters"].items():
        if pname not in infos:
            raise ValueError(f"{path}: {name} has no parameter {pname!r}.")
        unit = entry.get("unit", infos[pname].unit)
        if unit != infos[pname].unit:
            raise ValueError(
                f"{path}: parameter {pname!r} is in {unit!r}; {name} expects "
                f"{infos[pname].unit!r}."
            )
        values[pname] = float(entry["value"])
    area = data.get("area")
    area_um2 = None if area is None else float(area["value"])
    passive = data.get("passive") or {}
    V_rest = passive.get("V_rest")
    return FittedCell(
        model=base.replace(**values),
        model_name=name,
        area_um2=area_um2,
        V_rest=None if V_rest is None else float(V_rest),
    )
