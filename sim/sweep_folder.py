"""The sweep folder: the one place that knows its file names and how its tables are stored.

A sweep writes into a folder ``OUT``::

    OUT/manifest.json              what was run, with counts and software versions
    OUT/runs.parquet/part-*.parquet    one row per run, a part file per finished chunk
    OUT/series.parquet/part-*.parquet  the daily series, when kept (same part numbers)

`pandas.read_parquet` reads each ``.parquet`` folder whole. A chunk's series part is written
before its runs part, each atomically (temporary file, then rename), so a runs part is the
commit of its chunk: a series part without one is a leftover of a crash. The runner writes
folders with `write_chunk` and `write_manifest`; the analysis and the status report read them
with `load_runs`, `load_series` and `read_manifest`.
"""

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import SweepError
from sim.io import atomic_write, atomic_write_json

RUNS = "runs.parquet"
SERIES = "series.parquet"
MANIFEST = "manifest.json"
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


def read_parts(folder: Path, columns: list[str] | None = None) -> pa.Table | None:
    """A table folder's parts as one Arrow table (``columns`` only, if given); None if empty."""
    try:
        tables = [pq.read_table(path, columns=columns) for path in parts(folder).values()]
    except (OSError, pa.ArrowException) as error:
        raise SweepError(str(folder), "", f"cannot read Parquet ({error})") from None
    return pa.concat_tables(tables) if tables else None


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
        manifest = json.loads(path.read_text(encoding="utf-8"))
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
    """Runs in the sweep (``total``), finished, finished ok and failed."""
    table = read_parts(out / RUNS, columns=["status"])
    statuses = table["status"].to_pylist() if table is not None else []
    ok = statuses.count("ok")
    return {"total": total, "done": len(statuses), "ok": ok, "error": len(statuses) - ok}


def done_runs(out: Path, replicates: int) -> set[tuple[int, int]]:
    """The (point, replicate) pairs with a result in ``out``, replicates below ``replicates``."""
    table = read_parts(out / RUNS, columns=["point", "replicate"])
    if table is None:
        return set()
    pairs = zip(table["point"].to_pylist(), table["replicate"].to_pylist(), strict=True)
    return {(p, r) for p, r in pairs if r < replicates}


def tidy_parts(out: Path, replicates: int) -> None:
    """Drop leftovers of a crash and renumber runs if the replicate count changed.

    Leftovers are temporary files and series parts without their runs part. Every fix is
    idempotent, so a crash during this step is repaired by the next resume.
    """
    for folder in (out / RUNS, out / SERIES):
        for tmp in folder.glob(".part-*.tmp"):
            tmp.unlink()
    runs_parts = parts(out / RUNS)
    for index, path in parts(out / SERIES).items():
        if index not in runs_parts:
            path.unlink()
        else:
            renumber(path, replicates)
    for path in runs_parts.values():
        renumber(path, replicates)


def renumber(path: Path, replicates: int) -> None:
    """Recompute a part's run ids from (point, replicate); drop replicates beyond the count."""
    table = pq.read_table(path)
    point = table["point"].to_numpy()
    replicate = table["replicate"].to_numpy()
    keep = replicate < replicates
    run_id = point * replicates + replicate
    if keep.all() and (run_id == table["run_id"].to_numpy()).all():
        return
    table = table.set_column(0, "run_id", pa.array(run_id, pa.int64())).filter(pa.array(keep))
    if table.num_rows:
        write_table(path, table)
    else:
        path.unlink()


def sweep_status(out: str | Path) -> dict[str, Any]:
    """Progress of the sweep in ``out``: counts, and the first failed runs with their errors."""
    out = Path(out)
    manifest = read_manifest(out)
    columns = ["run_id", "status", "error"]
    table = read_parts(out / RUNS, columns=columns)
    runs = table.to_pandas() if table is not None else pd.DataFrame(columns=columns)
    failed = runs[runs["status"] == "error"].sort_values("run_id").head(5)
    return {
        "name": manifest["name"],
        "experiment_file": manifest.get("experiment_file"),
        **counts(out, manifest["counts"]["total"]),
        "failed": [
            {"run_id": int(r.run_id), "error": r.error.strip().splitlines()[-1]}
            for r in failed.itertuples()
        ],
    }
