"""Tables of results: units of derivatives, CSV and JSON files."""

import csv
import json
import math
from pathlib import Path

import numpy as np


def derivative_unit(output_unit: str, parameter_unit: str) -> str:
    """Unit of ``d output / d parameter``, e.g. ``"ms/(mS/cm^2)"``."""
    if parameter_unit == "1":
        return output_unit
    den = f"({parameter_unit})" if "/" in parameter_unit else parameter_unit
    num = f"({output_unit})" if "/" in output_unit else output_unit
    return f"{num}/{den}"


def _plain(x):
    """JSON-safe value: NaN and inf become None, arrays lists."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path, data: dict) -> None:
    """Write `data` as indented JSON (NaN/inf as null), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(data), indent=2) + "\n")


def write_csv(path, rows: list[dict]) -> None:
    """Write a list of same-keyed dicts as CSV with a header, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not rows:
        path.write_text("")
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
