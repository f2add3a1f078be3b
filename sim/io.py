"""File output that is never half-written: write to a temporary file, flush it to disk, then
rename it; an error names the file it was writing (a full disk, say)."""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary path beside ``path``, then move it into place.

    The file is flushed to disk before the rename, so a power loss leaves the old file or the
    new one, whole. An `OSError` names ``path`` and the problem.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise naming(error, path) from None
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes owner-only files; use the usual mode
        write(Path(tmp))
        _flush_to_disk(Path(tmp))
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if (cause := os_error(error)) is not None:
            raise naming(cause, path) from None
        raise


def os_error(error: BaseException) -> OSError | None:
    """``error`` if it is an `OSError`, or the one that led to it: a writer that trips over its
    own clean-up after a full disk (matplotlib's PDF backend does) hides the real problem."""
    while isinstance(error, Exception):
        if isinstance(error, OSError) and error.errno is not None:
            return error
        error = error.__cause__ or error.__context__
    return None


def _flush_to_disk(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def naming(error: OSError, path: Path) -> OSError:
    """``error`` as a plain `OSError` naming ``path``, with the system's words for its errno."""
    reason = os.strerror(error.errno) if error.errno else str(error)
    return OSError(error.errno, reason, str(path))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented, key-sorted JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
