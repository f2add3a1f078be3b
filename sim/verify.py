"""Compare two results trees, or a results tree with a fresh regeneration of it.

What counts as the same:

- Parquet tables (a ``.parquet`` file, or a folder of part files read as one table): the same
  columns with the same types and the same rows after a stable sort by ``run_id`` and ``day``
  (those present); integers, strings, booleans and nulls exactly, floats within
  ``|a - b| <= max(RTOL * max(|a|, |b|), ATOL)`` (NaN equals NaN). How the rows are split into
  part files does not matter.
- ``manifest.json``: the same JSON apart from its ``environment`` (git commit, Python and
  library versions).
- Every other file (figures, captions, CSV tables, reports, the calibrated scenario): byte for
  byte.
- ``SHA256SUMS`` is not compared: it hashes the manifests, environment included, and every file
  it lists is compared above.
"""

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import InputError
from sim.results_plan import CHECKSUMS, INPUT_FOLDERS, RESULTS, Step, plan, regenerate

RTOL = 1e-9
ATOL = 1e-12
SORT_KEYS = ("run_id", "day")
ENVIRONMENT_FIELDS = ("environment",)
TEXT_SUFFIXES = (".csv", ".md", ".txt", ".json", ".toml")


class RegenerationError(Exception):
    """A step of the regeneration failed (an internal error, not bad input)."""


# --- trees -----------------------------------------------------------------------------------


def tree_entries(root: Path) -> dict[str, Path]:
    """Comparable entries of a tree by relative path: files, and Parquet folders as one entry."""
    entries: dict[str, Path] = {}

    def visit(folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.is_dir() and not _is_table(path):
                visit(path)
            elif path.name != CHECKSUMS:
                entries[path.relative_to(root).as_posix()] = path

    visit(root)
    return entries


def _is_table(path: Path) -> bool:
    return path.suffix == ".parquet"


def compare_trees(first: Path, second: Path, second_name: str) -> list[str]:
    """One line per entry that differs, ``RELATIVE_PATH: how``, sorted by path."""
    left, right = tree_entries(first), tree_entries(second)
    lines = []
    for relative in sorted(left.keys() | right.keys()):
        if relative not in right:
            lines.append(f"{relative}: missing from {second_name}")
        elif relative not in left:
            lines.append(f"{relative}: only in {second_name}")
        elif (problem := compare_entry(left[relative], right[relative])) is not None:
            lines.append(f"{relative}: {problem}")
    return lines


def compare_entry(first: Path, second: Path) -> str | None:
    """How two entries of the same name differ, or None if they match."""
    if _is_table(first) or _is_table(second):
        return compare_tables(first, second)
    if first.name == "manifest.json":
        return compare_manifests(first, second)
    return compare_bytes(first, second)


# --- files -----------------------------------------------------------------------------------


def compare_bytes(first: Path, second: Path) -> str | None:
    """Byte-for-byte; text files name their first differing line."""
    a, b = first.read_bytes(), second.read_bytes()
    if a == b:
        return None
    if first.suffix in TEXT_SUFFIXES:
        try:
            return _first_line_difference(a.decode("utf-8"), b.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return f"bytes differ ({len(a):,} vs {len(b):,} bytes)"


def _first_line_difference(a: str, b: str) -> str:
    lines_a, lines_b = a.splitlines(), b.splitlines()
    for number, (line_a, line_b) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
        if line_a != line_b:
            return f"line {number} differs: {_short(line_a)} vs {_short(line_b)}"
    if len(lines_a) != len(lines_b):
        return f"{len(lines_a)} lines vs {len(lines_b)}"
    return "line endings differ"


def _short(text: str, width: int = 60) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def compare_manifests(first: Path, second: Path) -> str | None:
    """Manifests as JSON, without their environment fields."""
    try:
        a, b = _manifest_fields(first), _manifest_fields(second)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"unreadable JSON ({error})"
    differing = [key for key in sorted(a.keys() | b.keys()) if a.get(key) != b.get(key)]
    if not differing:
        return None
    shown = ", ".join(f"{key} ({a.get(key)!r} vs {b.get(key)!r})" for key in differing[:3])
    more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
    return f"fields differ: {shown}{more}"


def _manifest_fields(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return dict(_flatten({k: v for k, v in data.items() if k not in ENVIRONMENT_FIELDS}))


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf value) pairs; lists stay whole."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}{key}.")
    else:
        yield prefix.removesuffix("."), value


# --- tables ----------------------------------------------------------------------------------


def read_sorted(path: Path) -> pa.Table:
    """A Parquet file or folder of parts as one table, stably sorted by the keys it has."""
    table = pq.read_table(path)
    table = table.replace_schema_metadata(None)
    keys = [(key, "ascending") for key in SORT_KEYS if key in table.column_names]
    return table.sort_by(keys) if keys else table


def compare_tables(first: Path, second: Path) -> str | None:
    """Columns, types and values of two Parquet tables (see the module docstring)."""
    try:
        a, b = read_sorted(first), read_sorted(second)
    except (OSError, pa.ArrowException) as error:
        return f"unreadable Parquet ({error})"
    if problem := _schema_difference(a, b):
        return problem
    problems = [p for name in a.column_names if (p := _column_difference(a, b, name)) is not None]
    return "; ".join(problems) if problems else None


def _schema_difference(a: pa.Table, b: pa.Table) -> str | None:
    only_a = [n for n in a.column_names if n not in b.column_names]
    only_b = [n for n in b.column_names if n not in a.column_names]
    if only_a or only_b:
        return f"columns differ: only in the first {only_a}, only in the second {only_b}"
    for name in a.column_names:
        if a[name].type != b[name].type:
            return f"column {name}: type {a[name].type} vs {b[name].type}"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows:,} rows vs {b.num_rows:,}"
    return None


def _column_difference(a: pa.Table, b: pa.Table, name: str) -> str | None:
    """``column NAME differs in K of N rows[, max abs diff D][, first at run_id R]``."""
    x, y = a[name].combine_chunks(), b[name].combine_chunks()
    differs = _differing_rows(x, y)
    count = int(differs.sum())
    if not count:
        return None
    text = f"column {name} differs in {count:,} of {len(differs):,} rows"
    if pa.types.is_integer(x.type) or pa.types.is_floating(x.type):
        both = differs & ~_nulls(x) & ~_nulls(y)
        with np.errstate(invalid="ignore"):
            gap = np.abs(_floats(x)[both] - _floats(y)[both])
        if (gap := gap[~np.isnan(gap)]).size:
            text += f", max abs diff {gap.max():.6g}"
    if "run_id" in a.column_names:
        text += f", first at run_id {a['run_id'][int(np.argmax(differs))].as_py()}"
    return text


def _differing_rows(x: pa.Array, y: pa.Array) -> np.ndarray:
    """Boolean mask of rows whose values differ (floats within the tolerance count as equal)."""
    null_x, null_y = _nulls(x), _nulls(y)
    if pa.types.is_floating(x.type):
        fx, fy = _floats(x), _floats(y)
        with np.errstate(invalid="ignore"):
            gap = np.abs(fx - fy)
        close = gap <= np.maximum(RTOL * np.maximum(np.abs(fx), np.abs(fy)), ATOL)
        same = close | (np.isnan(fx) & np.isnan(fy)) | (fx == fy)
    else:
        same = pc.fill_null(pc.equal(x, y), False).to_numpy(zero_copy_only=False)
    same = np.where(null_x | null_y, null_x & null_y, same)
    return ~same


def _nulls(array: pa.Array) -> np.ndarray:
    return array.is_null().to_numpy(zero_copy_only=False)


def _floats(array: pa.Array) -> np.ndarray:
    """Values as float64, nulls as NaN (the null masks are kept apart)."""
    floats = pc.cast(array, pa.float64(), safe=False)
    return floats.to_numpy(zero_copy_only=False).astype(np.float64)


# --- verify ----------------------------------------------------------------------------------


def verify_results(
    results: Path,
    against: Path | None = None,
    steps: list[Step] | None = None,
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Lines naming each file that differs between ``results`` and ``against``, or, without
    ``against``, a regeneration of ``results`` by ``steps`` (default: the `make figures` plan).

    Paths in the lines start with ``results`` as given. Raises `InputError` for a missing
    folder and `RegenerationError` if a step fails.
    """
    _check_folder(results)
    if against is not None:
        _check_folder(against)
        return _prefixed(results, compare_trees(results, against, str(against)))
    root = results.resolve().parent
    _check_inputs(root, results)
    with tempfile.TemporaryDirectory(prefix="escalation-verify-") as tmp:
        copy = Path(tmp)
        for folder in INPUT_FOLDERS:
            shutil.copytree(root / folder, copy / folder)
        steps = plan(root) if steps is None else steps
        echo(f"regenerating {results} in {copy}")
        try:
            regenerate(copy, steps, echo)
        except subprocess.CalledProcessError as error:
            raise RegenerationError(f"step failed with exit code {error.returncode}") from None
        lines = _prefixed(results, compare_trees(results, copy / RESULTS, "the regeneration"))
        lines += _outside_results(root, copy, steps)
    return lines


def _check_folder(path: Path) -> None:
    if not path.is_dir():
        raise InputError(str(path), "", "no such results folder")


def _check_inputs(root: Path, results: Path) -> None:
    """Regenerating reads the inputs beside ``results`` (the project folder)."""
    for folder in INPUT_FOLDERS:
        if not (root / folder).is_dir():
            raise InputError(
                str(results),
                "",
                f"no {folder}/ beside it to regenerate from; compare two copies with --against",
            )


def _prefixed(results: Path, lines: list[str]) -> list[str]:
    return [f"{results.as_posix().rstrip('/')}/{line}" for line in lines]


def _outside_results(root: Path, copy: Path, steps: list[Step]) -> list[str]:
    """Files the steps write outside results/ (the calibrated scenario), compared by bytes."""
    lines = []
    for step in steps:
        for output in step.outputs:
            ours, theirs = root / output, copy / output
            if output.startswith(f"{RESULTS}/") or ours.is_dir() or theirs.is_dir():
                continue
            if ours.is_file() and not theirs.is_file():
                lines.append(f"{output}: missing from the regeneration")
            elif theirs.is_file() and not ours.is_file():
                lines.append(f"{output}: only in the regeneration")
            elif ours.is_file() and (problem := compare_bytes(ours, theirs)) is not None:
                lines.append(f"{output}: {problem}")
    return lines
