"""Reading what users give: TOML files and ``--set`` values, with bounded resources.

Only regular files of at most `MAX_FILE_BYTES` are read (never a device, a pipe or a folder), a
UTF-8 byte-order mark is skipped, and data nested deeper than `MAX_NESTING` is refused, so no
input can exhaust memory or the stack. A file of another kind than the command takes (an
experiment given to `escalation run`, say) is named as such, with the command that takes it.
"""

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from sim.errors import InputError, ScenarioError

#: Largest input file read: scenario, experiment and calibration files are a few kilobytes, the
#: event record some hundred.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Deepest nesting of tables and arrays accepted (the scenario format needs four levels).
MAX_NESTING = 32

#: Top-level keys that only a file of one kind has (a calibration or experiment file has every
#: one of its kind's, a scenario any of its), and the command that takes that kind.
KIND_KEYS = {
    "calibration": {"priors", "record", "statistics"},
    "experiment": {"design", "replicates"},
    "scenario": {
        "extends", "start_date", "record_until", "mechanisms", "sites", "militias", "events",
        "modes", "militia_rules", "iran", "us", "us_types", "government",
    },
}  # fmt: skip
COMMANDS = {"calibration": "calibrate", "experiment": "sweep", "scenario": "run"}

BOM = b"\xef\xbb\xbf"


def read_bounded(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises `FileNotFoundError`, `OSError`, or `ValueError` naming what the path is instead
    (a folder, a device, a pipe) or that the file is too large.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a named pipe must not block the open
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"not a regular file (a {file_type(mode)})")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024 // 1024} MB; not an input file")
    return data


def file_type(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = [
        (stat.S_ISDIR, "folder"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "special file")


def read_toml(
    path: Path, error: type[InputError] = ScenarioError, kind: str | None = None
) -> tuple[dict[str, Any], bytes]:
    """A TOML file's mapping and bytes, expected to be a ``kind`` file (scenario, experiment,
    calibration); a missing, unreadable, malformed or other kind of file raises ``error``."""
    source = str(path)
    try:
        raw = read_bounded(path)
    except FileNotFoundError:
        raise error(source, "", "file not found") from None
    except NotADirectoryError:
        raise error(source, "", "file not found (a parent is not a folder)") from None
    except ValueError as problem:
        raise error(source, "", str(problem)) from None
    except OSError as problem:
        raise error(source, "", f"cannot read file ({os_reason(problem)})") from None
    try:
        text = raw.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as problem:
        reason = f"not UTF-8 text ({problem.reason} at byte {problem.start})"
        raise error(source, "", reason) from None
    data = parse_toml(text, source, error)
    if kind is not None:
        check_kind(data, kind, source, error)
    return data, raw


def os_reason(problem: Exception) -> str:
    """An OS error's reason without the path the message names already."""
    return problem.strerror if isinstance(problem, OSError) and problem.strerror else str(problem)


def parse_toml(text: str, source: str, error: type[InputError]) -> dict[str, Any]:
    """Parse TOML text, refusing data nested deeper than `MAX_NESTING`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(source, "", f"malformed TOML: {problem}") from None
    except RecursionError:
        data = None
    if data is None or nesting(data) > MAX_NESTING:
        raise error(source, "", f"nested more than {MAX_NESTING} levels deep")
    return data


def nesting(data: Any) -> int:
    """How deeply tables and arrays nest in ``data`` (0 for a plain value), without recursion."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth + 1)
            if depth + 1 > MAX_NESTING:
                break
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return deepest


def parse_value(text: str, source: str, error: type[InputError]) -> Any:
    """A ``--set`` value read as TOML (``0.5``, ``true``, ``[1, 2]``), else the plain string."""
    try:
        return parse_toml(f"value = {text}", source, error)["value"]
    except error as problem:
        if "nested" in problem.problem:
            raise
        return text


def file_kind(data: dict[str, Any]) -> str | None:
    """The kind of input file ``data`` plainly is (its top-level keys say), or None."""
    keys = set(data)
    for kind in ("calibration", "experiment"):
        if KIND_KEYS[kind] <= keys:
            return kind
    return "scenario" if keys & KIND_KEYS["scenario"] else None


def check_kind(data: dict[str, Any], expected: str, source: str, error: type[InputError]) -> None:
    """Raise ``error`` when ``data`` is plainly a file of another kind than ``expected``."""
    kind = file_kind(data)
    if kind is None or kind == expected:
        return
    raise error(
        source,
        "",
        f"this is {with_article(kind)} file, not {with_article(expected)} file; "
        f"`escalation {COMMANDS[kind]} {source}` takes it",
    )


def with_article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"
