"""Results as rows: one writer for plain-text tables, CSV and JSON.

Every result class of fit, sensitivity and validation describes itself as a list of
rows (dicts with the same keys, values in stated units). This module turns rows
into a fixed-width text table (:func:`format_table`, columns described by
:class:`Column`), a CSV file with a header (:func:`write_csv`) and JSON
(:func:`write_json`, NaN and infinities as ``null``, arrays as lists).
:class:`TabularResult` gives a result class ``table``, ``to_csv`` and ``to_json``
from its ``rows``.
"""

import csv
import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a text table.

    - `key`: the row's key (and the header, unless `header` is given).
    - `width`: characters, the header included; `align`: ``">"`` or ``"<"``.
    - `format`: a format spec for the value (``".5g"``); ``""`` prints it as is.
    - `cell`: a function of the whole row giving the printed value, for cells
      made of several keys (``"[low, high]"``); `format` is then ignored.
    - `gap`: spaces printed after the column.
    """

    key: str
    width: int
    format: str = ""
    header: str | None = None
    align: str = ">"
    cell: Callable[[Any], str] | None = None
    gap: int = 0

    def head(self) -> str:
        text = self.key if self.header is None else self.header
        return f"{text:{self.align}{self.width}}" + " " * self.gap

    def render(self, row: Any) -> str:
        if self.cell is not None:
            text = self.cell(row)
        else:
            value = row[self.key]
            text = format(value, self.format) if self.format else str(value)
        return f"{text:{self.align}{self.width}}" + " " * self.gap


def format_table(
    rows: Sequence[Any],
    columns: Sequence[Column],
    *,
    title: Sequence[str] = (),
    rule: bool = True,
    footer: Sequence[str] = (),
) -> str:
    """`rows` as a fixed-width table: `title` lines, the header, a rule of dashes
    (if `rule`), one line per row, `footer` lines. Rows are dicts, or any objects
    where every column has a `cell` function."""
    head = "".join(c.head() for c in columns).rstrip()
    lines = [*title, head]
    if rule:
        lines.append("-" * len(head))
    lines += ["".join(c.render(r) for c in columns).rstrip() for r in rows]
    lines += list(footer)
    return "\n".join(lines)


def jsonable(x) -> Any:
    """`x` as plain JSON data: dicts (string keys), lists, numbers, strings, None.
    NaN and infinities become None; NumPy and JAX arrays lists; other objects
    their ``str``."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    elif hasattr(x, "__array__") and not isinstance(x, str):
        return jsonable(np.asarray(x).tolist())
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if x is None or isinstance(x, bool | int | str):
        return x
    return str(x)


def write_json(path, data: dict) -> None:
    """Write `data` as indented JSON (see :func:`jsonable`), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(data), indent=2) + "\n")


def write_csv(path, rows: Sequence[dict]) -> None:
    """Write same-keyed rows as CSV with a header (None as an empty cell),
    creating the folder; no rows, an empty file."""
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


class TabularResult:
    """A result that is a list of rows. Subclasses define :meth:`rows` and
    :meth:`columns` (and optionally :meth:`table_title`, :meth:`table_footer`,
    :meth:`to_dict`); they get :meth:`table`, :meth:`to_csv` and :meth:`to_json`.
    `table_rule`: whether a rule of dashes follows the header."""

    table_rule = True

    def rows(self) -> list[dict]:
        raise NotImplementedError

    def columns(self) -> Sequence[Column]:
        raise NotImplementedError

    def table_title(self) -> list[str]:
        return []

    def table_footer(self) -> list[str]:
        return []

    def table(self) -> str:
        """A plain-text table of :meth:`rows`."""
        return format_table(
            self.rows(),
            self.columns(),
            title=self.table_title(),
            rule=self.table_rule,
            footer=self.table_footer(),
        )

    def to_dict(self) -> dict:
        """The result as JSON data (default: its rows)."""
        return {"rows": self.rows()}

    def to_csv(self, path) -> None:
        """Write :meth:`rows` as CSV."""
        write_csv(path, self.rows())

    def to_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON."""
        write_json(path, self.to_dict())
