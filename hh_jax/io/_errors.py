"""Error messages that say where: the file, then the sweep, then the argument."""

import contextlib
import struct
import zipfile
import zlib
from collections.abc import Iterator


@contextlib.contextmanager
def error_context(label: str) -> Iterator[None]:
    """Prefix `label` (a file or sweep) to any ``ValueError`` raised inside."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{label}: {err}") from err


# What the readers (zipfile, pyabf's struct unpacking, HDF5) raise on a file that
# is truncated or of another format.
_UNREADABLE = (EOFError, OSError, struct.error, zipfile.BadZipFile, zlib.error)


@contextlib.contextmanager
def readable(kind: str, *also: type[Exception]) -> Iterator[None]:
    """Turn a reader's low-level failure on a truncated or foreign file (and the
    exception types `also`) into a ``ValueError`` that says so (a missing file
    stays ``FileNotFoundError``)."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (*_UNREADABLE, *also) as err:
        raise ValueError(
            f"cannot read it as {kind}: the file is truncated or not {kind} "
            f"({type(err).__name__}: {err})."
        ) from err
