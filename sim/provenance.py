"""Hashes that tie results to the code and the inputs that made them.

`source_hash` covers every module that can change a run, a table, a figure or a report: all of
``sim/**/*.py`` except the modules listed in `NOT_OUTPUT_CODE` (the command-line wrapper, the
browser view, benchmarks, the reproducibility tools themselves, and the modules that only word
errors, place work on workers, handle signals or guard output folders). A module that is added or
moved is covered without editing this file; one that cannot change any output is listed below.
Paths are package-relative with ``/`` and line endings are normalised, so the hash is the same on
every platform and checkout.
"""

import hashlib
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.calibration import Calibration

PACKAGE = Path(__file__).resolve().parent

# Package-relative patterns (fnmatch, ``*`` crosses folders) of modules that cannot change outputs.
NOT_OUTPUT_CODE = (
    "__main__.py",
    "cli.py",
    "bench.py",
    "bench_tables.py",
    "app.py",
    "viz/*",
    "provenance.py",
    "verify.py",
    "errors.py",
    "out_folder.py",
    "pool.py",
    "signals.py",
    "text.py",
)

# Calibration file fields that change how it runs, not what it writes.
EXECUTION_SETTINGS = {"workers", "out"}


def source_files(package: Path = PACKAGE) -> list[str]:
    """Package-relative paths of the modules `source_hash` covers, sorted."""
    paths = (path.relative_to(package).as_posix() for path in package.rglob("*.py"))
    return sorted(
        path
        for path in paths
        if "__pycache__" not in path and not any(fnmatch(path, p) for p in NOT_OUTPUT_CODE)
    )


def source_hash(package: Path = PACKAGE) -> str:
    """SHA-256 over the path and text of every module in `source_files`."""
    digest = hashlib.sha256()
    for path in source_files(package):
        text = (package / path).read_bytes().replace(b"\r\n", b"\n")
        digest.update(f"{path}\n{hashlib.sha256(text).hexdigest()}\n".encode())
    return digest.hexdigest()


def inputs_hash(*parts: str | bytes) -> str:
    """SHA-256 over a sequence of inputs (file bytes, resolved configurations), in order."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(f"{len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()


def sweep_inputs_hash(scenario_json: str, experiment_sha256: str | None) -> str:
    """The inputs of a sweep: its resolved base scenario and its experiment file's bytes."""
    return inputs_hash(scenario_json, experiment_sha256 or "")


def calibration_inputs_hash(calibration: "Calibration") -> str:
    """The inputs of a calibration: its settings (but the worker count and the runs folder, which
    change no output), the record, and both scenarios as resolved."""
    record = Path(calibration.source).parent / calibration.spec.record
    return inputs_hash(
        calibration.spec.model_dump_json(exclude=EXECUTION_SETTINGS),
        record.read_bytes(),
        calibration.fit_config.model_dump_json(),
        calibration.base_config.model_dump_json(),
    )
