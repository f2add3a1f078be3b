"""Errors in what a user gave: a file, a field in it, an option, a missing optional extra.

Every one is an `InputError` naming the source (a file or an option), the field path inside it
and the problem; the command line prints it as one line, ``error: source: field: problem``, and
exits with code 2. Anything else that goes wrong is an internal error (exit code 1).
"""

import re
from typing import Any

from pydantic import ValidationError


class InputError(Exception):
    """Bad input: ``str()`` is ``source: field: problem`` (no field when it is empty)."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source, self.field, self.problem = source, field, problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class ScenarioError(InputError):
    """A scenario file, or an override of one, that does not validate."""


class ExperimentError(InputError):
    """An experiment file, or a list of design points, that does not validate."""


class SweepError(InputError):
    """A sweep folder that cannot take or give results, or a bad option about one."""


class OutputError(InputError):
    """An output folder (``--out``) that cannot or must not take what a command writes."""


class CalibrationError(InputError):
    """A calibration file that does not validate."""


class RecordError(InputError):
    """A malformed row of the historical event record."""


class MissingExtraError(InputError):
    """An optional extra that a command needs is not installed."""

    def __init__(self, needed_by: str, extra: str) -> None:
        super().__init__(needed_by, "", f"needs the {extra} extra: pip install -e '.[{extra}]'")


def input_error[E: InputError](
    error: ValidationError, data: Any, source: str, kind: type[E] = InputError
) -> E:
    """The first problem pydantic found in ``data``, as a ``kind`` naming its field path.

    The path keeps only the parts of pydantic's location that address ``data`` (so union
    tags and member types are dropped) and writes list indices as ``[i]``. Extra keys are an
    "unknown field"; a validator that names its own field (``"high: must exceed low"``) has
    that field appended to the path.
    """
    errors = error.errors(include_url=False)
    first = errors[0]
    path = field_path(addressed(first["loc"], data, keep_last=first["type"] == "missing"))
    problem = first["msg"].removeprefix("Value error, ")
    alternatives = [e for e in errors if field_path(addressed(e["loc"], data)) == path]
    if len(alternatives) > 1 and problem.startswith(SHOULD_BE):
        problem = either(alternatives)
    problem = INSTANCE_OF.sub("", problem)
    if first["type"] == "extra_forbidden":
        problem = "unknown field"
    if first["type"] == "value_error" and ": " in problem:
        field, problem = problem.split(": ", 1)
        path = f"{path}.{field}" if path else field
    return kind(source, path, problem)


SHOULD_BE = "Input should be "
#: pydantic's "or instance of CalendarEvent": a class name means nothing to the user.
INSTANCE_OF = re.compile(r" or instance of \w+")


def either(alternatives: list[dict[str, Any]]) -> str:
    """One problem for a value that fits none of a union's members: "Input should be a valid
    integer or a valid number" (each member's first clause, once)."""
    wanted = [
        e["msg"].removeprefix(SHOULD_BE).split(",")[0]
        for e in alternatives
        if e["msg"].startswith(SHOULD_BE)
    ]
    return SHOULD_BE + " or ".join(dict.fromkeys(wanted))


def addressed(loc: tuple[Any, ...], data: Any, keep_last: bool = False) -> list[str | int]:
    """The parts of an error location that are keys or indices of ``data``, in order."""
    parts: list[str | int] = []
    for index, part in enumerate(loc):
        if addresses(data, part):
            data = data[part]
        elif not (keep_last and index == len(loc) - 1):
            continue
        parts.append(part)
    return parts


def addresses(data: Any, part: Any) -> bool:
    """Whether ``part`` is a key of the mapping ``data`` or an index of the list ``data``."""
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list | tuple) and isinstance(part, int) and 0 <= part < len(data)


def field_path(parts: list[str | int]) -> str:
    """A location as a field path: ``sites[4].us_troops``."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path
