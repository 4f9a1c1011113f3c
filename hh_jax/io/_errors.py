"""Error messages that say where: the file, then the sweep, then the argument."""

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def error_context(label: str) -> Iterator[None]:
    """Prefix `label` (a file or sweep) to any ``ValueError`` raised inside."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{label}: {err}") from err
