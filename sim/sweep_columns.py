"""A sweep read column by column: the exploratory analyses load only what they use.

`SweepColumns` knows a sweep folder's manifest, its parameters (with their role: a design
parameter, a lever of the candidate policies, or the model variant) and the names of its columns
(from the Parquet schema, reading no rows); `SweepColumns.ok_runs` reads the chosen columns of
the runs that finished ok (pyarrow column projection), so a 100,000-run sweep with a hundred
outcome columns costs the memory of the few columns an analysis needs.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import SweepError
from sim.sweep_folder import MANIFEST, RUNS, parts, read_manifest, read_parts


@dataclass(frozen=True)
class SweepColumns:
    """A sweep folder's manifest and column names, without its rows."""

    folder: Path
    manifest: dict[str, Any]
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.folder.name)

    @property
    def design(self) -> dict[str, Any]:
        design = self.manifest.get("design", {})
        return design if isinstance(design, dict) else {"kind": str(design)}

    @property
    def horizon(self) -> int:
        return int(self.manifest["horizon_days"])

    def entries(self, role: str | None = None) -> list[dict[str, Any]]:
        """The manifest's parameter entries with ``role`` ("lever", "variant"; None: design)."""
        found = [e for e in self.manifest.get("parameters", []) if isinstance(e, dict)]
        return [e for e in found if e.get("role") == role]

    def names(self, role: str | None = None) -> list[str]:
        """Names of the parameters with ``role`` (None: the design's parameters)."""
        return [str(entry["name"]) for entry in self.entries(role)]

    @property
    def inputs(self) -> list[str]:
        """Every swept input: design parameters, levers and the variant, in manifest order."""
        return [str(e["name"]) for e in self.manifest.get("parameters", []) if isinstance(e, dict)]

    def ok_runs(self, columns: list[str]) -> pd.DataFrame:
        """``columns`` of the runs that finished ok, sorted by ``run_id``."""
        for column in columns:
            if column not in self.columns:
                raise SweepError(str(self.folder / RUNS), column, "no such column")
        wanted = list(dict.fromkeys(["run_id", "status", *columns]))
        table = read_parts(self.folder / RUNS, wanted).to_pandas()
        ok = table[table["status"] == "ok"].sort_values("run_id", ignore_index=True)
        if ok.empty:
            raise SweepError(str(self.folder / RUNS), "", "no run finished ok")
        return ok


def open_sweep(folder: Path) -> SweepColumns:
    """The manifest and column names of the sweep in ``folder``."""
    if not folder.is_dir():
        raise SweepError(str(folder), "", "no such folder")
    found = parts(folder / RUNS)
    if not found:
        raise SweepError(str(folder / RUNS), "", "not found; run `escalation sweep` first")
    manifest = read_manifest(folder)
    if "horizon_days" not in manifest:
        raise SweepError(str(folder / MANIFEST), "horizon_days", "missing")
    try:
        schema = pq.read_schema(next(iter(found.values())))
    except (OSError, pa.ArrowException) as error:
        raise SweepError(str(folder / RUNS), "", f"cannot read Parquet ({error})") from None
    return SweepColumns(folder, manifest, tuple(schema.names))
