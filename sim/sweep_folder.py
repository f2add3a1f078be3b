"""The sweep folder: the one place that knows its file names and how its tables are stored.

A sweep writes into a folder ``OUT``::

    OUT/manifest.json              what was run, with counts and software versions
    OUT/runs.parquet/part-*.parquet    one row per run, a part file per finished chunk
    OUT/series.parquet/part-*.parquet  the daily series, when kept (same part numbers)

`pandas.read_parquet` reads each ``.parquet`` folder whole. A chunk's series part is written
before its runs part, each atomically (temporary file, then rename), so a runs part is the
commit of its chunk: a series part without one is a leftover of a crash. A part that cannot be
read (zero bytes or truncated, as a power loss may leave it) is moved with the rest of its chunk
into ``OUT/damaged/`` when the sweep resumes, and its runs run again. The runner writes folders
with `write_chunk` and `write_manifest`; the analysis and the status report read them with
`load_runs`, `load_series` and `read_manifest`.
"""

import json
import os
import re
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.errors import SweepError
from sim.input_files import read_bounded
from sim.io import atomic_write, atomic_write_json

RUNS = "runs.parquet"
SERIES = "series.parquet"
MANIFEST = "manifest.json"
DAMAGED = "damaged"
PART = re.compile(r"part-(\d{6})\.parquet")
RUN_KEYS = ("run_id", "point", "replicate")
#: Columns of a Saltelli (Sobol') design: the block (A, B, AB), the parameter an AB block takes
#: from B (-1 for A and B) and the row within the block.
SOBOL_COLUMNS = ("sobol_block", "sobol_param", "sobol_row")


def part_name(index: int) -> str:
    """The file name of part ``index``."""
    return f"part-{index:06d}.parquet"


def parts(folder: Path) -> dict[int, Path]:
    """The part files of a table folder by index, in order (none if there is no folder)."""
    found = {}
    if folder.is_dir():
        for path in folder.iterdir():
            if match := PART.fullmatch(path.name):
                found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def has_results(out: Path) -> bool:
    """Whether ``out`` holds any finished chunk."""
    return bool(parts(out / RUNS))


def next_part(out: Path) -> int:
    """The first part index no runs or series part uses yet."""
    return max([*parts(out / RUNS), *parts(out / SERIES), -1]) + 1


def write_table(path: Path, table: pa.Table) -> None:
    """Write one Parquet file atomically."""
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_chunk(out: Path, index: int, runs: pa.Table, series: pa.Table | None) -> None:
    """Write a finished chunk as part ``index``: its series part first, then its runs part."""
    if series is not None:
        write_table(out / SERIES / part_name(index), series)
    write_table(out / RUNS / part_name(index), runs)


def read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One part file; a part that cannot be read (zero bytes or truncated, as a power loss
    leaves it) raises `DamagedPart`."""
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as error:
        raise DamagedPart(path, error) from None


class DamagedPart(Exception):
    """A part file that cannot be read."""

    def __init__(self, path: Path, error: Exception) -> None:
        self.path = path
        super().__init__(f"{path}: {' '.join(str(error).split())}")


def read_parts(folder: Path, columns: list[str] | None = None) -> pa.Table | None:
    """A table folder's parts as one Arrow table (``columns`` only, if given); None if empty.

    A damaged part raises `SweepError` with the way to repair the sweep.
    """
    try:
        tables = [read_part(path, columns) for path in parts(folder).values()]
    except DamagedPart as damaged:
        raise SweepError(
            str(damaged.path),
            "",
            f"damaged part file (truncated or empty); {resume_hint(folder.parent)} sets it "
            "aside and reruns its runs",
        ) from None
    return pa.concat_tables(tables) if tables else None


def resume_hint(out: Path) -> str:
    """The command that finishes the sweep in ``out``."""
    try:
        experiment = read_manifest(out).get("experiment_file")
    except SweepError:
        experiment = None
    return f"`escalation sweep {experiment or 'EXPERIMENT'} --out {out} --resume`"


def load_runs(out: str | Path) -> pd.DataFrame:
    """A sweep's runs table (finished runs only), sorted by ``run_id``."""
    table = read_parts(Path(out) / RUNS)
    if table is None:
        return pd.DataFrame(columns=[*RUN_KEYS, "seed", "status", "error"])
    return table.to_pandas().sort_values("run_id", ignore_index=True)


def load_series(out: str | Path) -> pd.DataFrame | None:
    """A sweep's daily series, sorted by ``run_id`` and day; None if none were kept."""
    table = read_parts(Path(out) / SERIES)
    if table is None:
        return None
    return table.to_pandas().sort_values(["run_id", "day"], ignore_index=True)


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the sweep in ``out``."""
    path = out / MANIFEST
    try:
        manifest = json.loads(read_bounded(path))
    except FileNotFoundError:
        raise SweepError(str(path), "", "not found; run `escalation sweep` first") from None
    except (OSError, ValueError) as error:
        raise SweepError(str(path), "", f"unreadable ({error})") from None
    if not isinstance(manifest, dict):
        raise SweepError(str(path), "", "not a JSON object")
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest of the sweep in ``out`` (atomically, keys sorted)."""
    atomic_write_json(out / MANIFEST, manifest)


def counts(out: Path, total: int) -> dict[str, int]:
    """Runs in the sweep (``total``), finished, finished ok and failed (damaged parts aside)."""
    done = ok = 0
    for path in parts(out / RUNS).values():
        with suppress(DamagedPart):
            done, ok = count_statuses(read_part(path, ["status"]), done, ok)
    return {"total": total, "done": done, "ok": ok, "error": done - ok}


def count_statuses(table: pa.Table, done: int, ok: int) -> tuple[int, int]:
    """``done`` and ``ok`` plus the runs of a part's table, and those of them that are ok."""
    statuses = table["status"]
    return done + len(statuses), ok + (pc.sum(pc.equal(statuses, "ok")).as_py() or 0)


def damaged_parts(out: Path) -> list[Path]:
    """The part files of ``out`` that cannot be read, without reading them whole."""
    damaged = []
    for folder in (out / RUNS, out / SERIES):
        for path in parts(folder).values():
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException):
                damaged.append(path)
    return damaged


def done_runs(out: Path, points: int, replicates: int) -> np.ndarray:
    """Which runs have a result in ``out``: a flag per run id (one byte per run)."""
    done = np.zeros(points * replicates, dtype=bool)
    for path in parts(out / RUNS).values():
        table = read_part(path, ["point", "replicate"])
        done[table["point"].to_numpy() * replicates + table["replicate"].to_numpy()] = True
    return done


def replicates_done(out: Path) -> int:
    """How many replicates the runs in ``out`` reach (the highest replicate + 1; 0 if none),
    damaged parts aside."""
    highest = -1
    for path in parts(out / RUNS).values():
        with suppress(DamagedPart):
            column = read_part(path, ["replicate"])["replicate"]
            highest = max(highest, pc.max(column).as_py() if len(column) else -1)
    return highest + 1


def tidy_parts(out: Path, replicates: int) -> list[Path]:
    """Repair a folder left by a crash; return the damaged part files set aside.

    Drops temporary files and series parts without their runs part, moves damaged parts (and
    the other part of their chunk) to ``OUT/damaged/``, and renumbers runs if the replicate
    count grew. Every fix is idempotent, so a crash during this step is repaired by the next
    resume.
    """
    for folder in (out / RUNS, out / SERIES):
        for tmp in folder.glob(".part-*.tmp"):
            tmp.unlink()
    runs_parts, series_parts = parts(out / RUNS), parts(out / SERIES)
    set_aside = []
    for index in sorted({*runs_parts, *series_parts}):
        chunk = [p for p in (runs_parts.get(index), series_parts.get(index)) if p is not None]
        if index not in runs_parts:
            chunk[0].unlink()  # a series part without its runs part: its chunk never finished
            continue
        try:
            for path in chunk:
                renumber(path, replicates)
        except DamagedPart:
            set_aside += [move_aside(out, path) for path in chunk]
    return set_aside


def move_aside(out: Path, path: Path) -> Path:
    """Move a part file into ``OUT/damaged/<table>/``, where readers of the sweep never look."""
    target = out / DAMAGED / path.parent.name / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    return target


def renumber(path: Path, replicates: int) -> None:
    """Recompute a part's run ids from (point, replicate), e.g. after replicates were added."""
    table = read_part(path)
    run_id = table["point"].to_numpy() * replicates + table["replicate"].to_numpy()
    if (run_id != table["run_id"].to_numpy()).any():
        write_table(path, table.set_column(0, "run_id", pa.array(run_id, pa.int64())))


def sweep_status(out: str | Path) -> dict[str, Any]:
    """Progress of the sweep in ``out``: counts, the first failed runs with their errors, and
    the damaged part files (not counted)."""
    out = Path(out)
    manifest = read_manifest(out)
    columns = ["run_id", "status", "error"]
    failed: list[dict[str, Any]] = []
    done = ok = 0
    for path in parts(out / RUNS).values():
        try:
            table = read_part(path, columns)
        except DamagedPart:  # its status column alone may still read: count it as `counts` does
            with suppress(DamagedPart):
                done, ok = count_statuses(read_part(path, ["status"]), done, ok)
            continue
        runs = table.to_pandas()
        errors = runs[runs["status"] == "error"]
        failed += [
            {"run_id": int(r.run_id), "error": r.error.strip().splitlines()[-1]}
            for r in errors.itertuples()
        ]
        failed = sorted(failed, key=lambda f: f["run_id"])[:5]
        done, ok = count_statuses(table, done, ok)
    return {
        "name": manifest["name"],
        "experiment_file": manifest.get("experiment_file"),
        "total": manifest["counts"]["total"],
        "done": done,
        "ok": ok,
        "error": done - ok,
        "failed": failed,
        "damaged": [str(path) for path in damaged_parts(out)],
    }
