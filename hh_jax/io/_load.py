"""``load``: pick the loader from the file's extension."""

import os
from pathlib import Path
from typing import Any

from ._abf import load_abf
from ._csv import load_csv
from ._npz import load_npz
from ._nwb import load_nwb
from ._recording import Recording

_LOADERS = {".abf": load_abf, ".csv": load_csv, ".npz": load_npz, ".nwb": load_nwb}


def load(path: str | os.PathLike, **kwargs: Any) -> Recording:
    """Read a recording with the loader for its extension (``.abf``, ``.csv``,
    ``.npz``, ``.nwb``, any case); `kwargs` go to that loader."""
    suffix = Path(path).suffix.lower()
    if suffix not in _LOADERS:
        raise ValueError(
            f"{path}: unknown extension {suffix!r}; expected one of "
            f"{', '.join(_LOADERS)}."
        )
    return _LOADERS[suffix](path, **kwargs)
