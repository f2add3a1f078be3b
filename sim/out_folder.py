"""Output folders (``--out``): checked before anything is written, locked while a sweep writes.

A folder is usable when it is, or can be created as, a folder this process may write in, and
it is not inside the table folders of a sweep (``OUT/runs.parquet/``), whose readers would take
anything written there for results. What it may already hold depends on the command: a sweep
folder takes only the same sweep (see `sim.runner`), `escalation run` never writes into a sweep
folder, and neither writes into another non-empty folder without ``--force``.
"""

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sim.errors import OutputError
from sim.input_files import file_type
from sim.sweep_folder import MANIFEST, RUNS, SERIES

LOCK = ".lock"
#: Names a folder may hold and still count as empty: a lock left by a killed sweep.
IGNORED = {LOCK}


def check_output_path(out: Path, option: str = "--out") -> None:
    """Raise `OutputError` unless ``out`` is, or can be created as, a folder to write in."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "a file" if existing.is_file() else f"a {file_type(existing.stat().st_mode)}"
        if existing == out:
            raise OutputError(option, str(out), f"is {what}, not a folder")
        raise OutputError(option, str(out), f"{existing} is {what}, so no folder can be made in it")
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "a read-only file system" if read_only(existing) else "no permission"
        raise OutputError(option, str(out), f"cannot write in {existing} ({reason})")
    if table := enclosing_table(out):
        raise OutputError(
            option, str(out), f"inside {table}, a table folder of a sweep; pick another folder"
        )


def read_only(path: Path) -> bool:
    """Whether ``path`` lies on a file system mounted read-only."""
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def enclosing_table(out: Path) -> Path | None:
    """The sweep table folder (``X/runs.parquet``, ``X/series.parquet``) ``out`` is or lies in."""
    for folder in (out.resolve(), *out.resolve().parents):
        if folder.name in (RUNS, SERIES) and (folder.parent / MANIFEST).exists():
            return folder
    return None


def is_sweep_folder(out: Path) -> bool:
    """Whether ``out`` holds a sweep's manifest or tables."""
    return any((out / name).exists() for name in (MANIFEST, RUNS, SERIES))


def contents(out: Path) -> list[str]:
    """The names in folder ``out`` (none if it does not exist), leftover locks aside."""
    if not out.is_dir():
        return []
    return sorted(name for name in os.listdir(out) if name not in IGNORED)


def check_empty(out: Path, force: bool, option: str = "--out") -> None:
    """Raise `OutputError` when ``out`` holds anything and ``force`` is not given."""
    names = contents(out)
    if names and not force:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise OutputError(
            option,
            str(out),
            f"not empty (holds {shown}); pass --force to write into it, or pick another folder",
        )


def check_run_folder(out: Path, force: bool) -> None:
    """A folder `escalation run` may write into: usable, not a sweep's, empty or ``force``."""
    check_output_path(out)
    if is_sweep_folder(out):
        raise OutputError(
            "--out", str(out), "holds a sweep's results; pick another folder for a single run"
        )
    check_empty(out, force)


@contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` (created with the folder if need be) for the block.

    Raises `OutputError` naming the holder's process id when another process holds it. The
    lock file is removed on leaving, and so is the folder if it was made here and is empty.
    """
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK
    try:
        fd = acquire(path)
    except BaseException:
        if created:
            with suppress(OSError):
                out.rmdir()
        raise
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # before releasing, so no one locks a file about to go
        os.close(fd)
        if created and not contents(out):
            with suppress(OSError):
                out.rmdir()


def check_unlocked(out: Path) -> None:
    """Raise `OutputError` naming the holder when another process holds ``OUT/.lock``."""
    with suppress(FileNotFoundError, NotADirectoryError):
        os.close(acquire(out / LOCK, create=False))


def acquire(path: Path, create: bool = True) -> int:
    """Lock ``path`` (created if need be, and ``create``) and write this process's id into it;
    the open file."""
    while True:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise OutputError(
                "--out",
                str(path.parent),
                f"in use by another sweep (process {holder}); wait for it to end, or pick "
                "another folder",
            ) from None
        if path.exists() and os.fstat(fd).st_ino == path.stat().st_ino:
            break  # the file locked is still the lock file (no one removed it meanwhile)
        os.close(fd)
    if create:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    return fd


@contextmanager
def written_or_nothing(out: Path) -> Iterator[list[Path]]:
    """If the block fails, remove the files it added to the yielded list, and the folders it
    made for ``out``: a command that fails leaves nothing behind."""
    made = [folder for folder in (out, *out.parents) if not folder.exists()]  # deepest first
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for folder in made:
            with suppress(OSError):
                folder.rmdir()
        raise
