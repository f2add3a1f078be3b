"""Run many simulations: seeding, parallel execution, crash-safe Parquet output, resume, status.

Every run has a seed derived from the experiment seed and its (design point, replicate) only, so
results do not depend on the number of workers, the backend, the chunking or the completion order,
and adding replicates leaves earlier runs unchanged. Finished chunks of runs are written as they
complete, each as its own part file (temporary file, then rename) inside ``OUT/runs.parquet/``,
a dataset folder that `pandas.read_parquet` reads whole; a resumed sweep runs only the missing runs.

Python API: `run_experiment` (an experiment file) and `run_points` (a list of override dicts), both
returning the runs table sorted by ``run_id`` and taking their `RunOptions`; `load_runs`,
`load_series` and `sweep_status` (from `sim.sweep_folder`, which owns the folder's format) read a
sweep's folder.
"""

import hashlib
import itertools
import json
import math
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from sim import sweep_folder
from sim.errors import ExperimentError, SweepError
from sim.experiment import (
    Experiment,
    design_points,
    design_sample,
    design_size,
    load_experiment,
)
from sim.model import simulate
from sim.out_folder import (
    check_empty,
    check_output_path,
    check_unlocked,
    folder_lock,
    is_sweep_folder,
)
from sim.pool import Faults, WorkerPool, run_tasks, worker_pool
from sim.provenance import source_hash, sweep_inputs_hash
from sim.scenario import ScenarioConfig, apply_overrides, field_exists
from sim.sweep_folder import RUN_KEYS, load_runs, load_series, sweep_status
from sim.text import printable

__all__ = [
    "RunOptions",
    "SweepPlan",
    "TableSchema",
    "estimate",
    "execute_sweep",
    "experiment_plan",
    "flatten_outcomes",
    "format_estimate",
    "format_status",
    "load_runs",
    "load_series",
    "run_experiment",
    "run_points",
    "run_seed",
    "sweep_experiment",
    "sweep_status",
    "table_schema",
]

LIBRARIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic")
MAX_CHUNK = 25


def run_seed(seed: int, point: int, replicate: int, crn: bool = False) -> int:
    """The seed of one run: a child of ``SeedSequence(seed)`` keyed by (point, replicate).

    Under common random numbers every design point shares the seed of a replicate.
    """
    key = (replicate,) if crn else (point, replicate)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)
    return int(state[0])


def flatten_outcomes(outcomes: dict[str, Any]) -> dict[str, Any]:
    """Dict outcomes become one entry per key, e.g. ``n_attacks_by_site.Erbil``."""
    flat: dict[str, Any] = {}
    for name, value in outcomes.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": item for key, item in value.items()})
        else:
            flat[name] = value
    return flat


def probe_run(config: ScenarioConfig) -> tuple[dict[str, Any], pd.DataFrame]:
    """Outcomes and daily series of a one-day run: the names and types a sweep will produce."""
    result = simulate(apply_overrides(config, {"horizon_days": 1}), 0, series=True)
    return result.outcomes, result.series


# --- what to run, and how -----------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPlan:
    """Everything that determines a sweep's runs, plus the description its manifest carries."""

    config: ScenarioConfig
    points: list[dict[str, Any]]
    extra: list[dict[str, Any]]
    replicates: int
    seed: int
    crn: bool = False
    outcomes: list[str] | None = None
    series: bool | list[str] = False
    info: dict[str, Any] = field(default_factory=dict)

    # Cached in the instance dict (a frozen dataclass without slots allows it): a plan's points
    # and extras are never changed once it is made, nor the lists these return.
    @cached_property
    def parameters(self) -> list[str]:
        """Swept parameter names, in order of first appearance."""
        return list(dict.fromkeys(name for point in self.points for name in point))

    @cached_property
    def extra_names(self) -> list[str]:
        """Names of the per-point extra columns, in order of first appearance."""
        return list(dict.fromkeys(name for extra in self.extra for name in extra))

    @property
    def total(self) -> int:
        return len(self.points) * self.replicates

    def run_id(self, point: int, replicate: int) -> int:
        return point * self.replicates + replicate

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what fixes each run's result (the replicate count aside)."""
        content = {
            "config": self.config.model_dump(mode="json"),
            "points": self.points,
            "extra": self.extra,
            "seed": self.seed,
            "crn": self.crn,
            "outcomes": self.outcomes,
            "series": self.series,
        }
        return sha256(json.dumps(content, sort_keys=True, default=str))


@dataclass(frozen=True)
class RunOptions:
    """How a sweep is run; results are the same whatever these are.

    Attributes:
        workers: local worker processes (1: in this process); with ``dask="local"``, the
            size of the local Dask cluster.
        executor: run on this `concurrent.futures.Executor` instead (the caller shuts it down).
        dask: a Dask scheduler address, or ``"local"`` for a LocalCluster (the ``dask`` extra).
        resume: finish the sweep already in the output folder, running only the missing runs.
        progress: show a progress bar.
        chunk_size: runs per task (default: up to 25, fewer for small sweeps).
        force: write into a folder that holds other files (never another sweep's).
    """

    workers: int = 1
    executor: Executor | None = None
    dask: str | None = None
    resume: bool = False
    progress: bool = True
    chunk_size: int | None = None
    force: bool = False


@dataclass(frozen=True)
class RunSpec:
    run_id: int
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A chunk of runs for one worker."""

    config: ScenarioConfig
    runs: tuple[RunSpec, ...]
    outcome_columns: tuple[str, ...]
    series_columns: tuple[str, ...]


def run_chunk(task: Task) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Run a chunk; a run that raises becomes a row with status "error" and its traceback."""
    rows, frames = [], []
    for spec in task.runs:
        row = run_keys(spec)
        try:
            config = apply_overrides(task.config, spec.overrides, f"point {spec.point}")
            result = simulate(config, spec.seed, series=bool(task.series_columns))
        except Exception:
            rows.append({**row, "status": "error", "error": traceback.format_exc()})
            continue
        outcomes = flatten_outcomes(result.outcomes)
        rows.append({**row, **{c: outcomes.get(c) for c in task.outcome_columns}, "status": "ok"})
        if task.series_columns:
            frame = result.series.loc[:, list(task.series_columns)]
            frames.append(frame.assign(**{key: row[key] for key in RUN_KEYS}))
    series = pd.concat(frames, ignore_index=True) if frames else None
    return rows, series


def run_keys(spec: RunSpec) -> dict[str, Any]:
    """The columns that identify a run: run id, point, replicate and seed."""
    return {key: getattr(spec, key) for key in (*RUN_KEYS, "seed")}


def given_up_chunk(task: Task, reason: str) -> tuple[list[dict[str, Any]], None]:
    """A chunk given up after worker processes died running it: its runs, as failed runs."""
    error = (
        f"WorkerDied: the chunk of runs {task.runs[0].run_id} to {task.runs[-1].run_id} was "
        f"given up because {reason} (killed by the system, out of memory?); `escalation run` "
        "with a run's seed and values runs it alone"
    )
    return [{**run_keys(spec), "status": "error", "error": error} for spec in task.runs], None


# --- the tables' columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSchema:
    """Column names and Arrow schemas of a sweep's runs and series tables."""

    outcome_columns: tuple[str, ...]
    series_columns: tuple[str, ...]
    runs: pa.Schema
    series: pa.Schema | None


def table_schema(plan: SweepPlan, source: str) -> TableSchema:
    """Columns and types, from a one-day probe run; validates the outcome and series names."""
    outcomes, probe_series = probe_run(plan.config)
    flat = flatten_outcomes(outcomes)
    wanted = plan.outcomes
    columns = [c for c in flat if wanted is None or c in wanted or c.split(".", 1)[0] in wanted]
    for name in wanted or []:
        if name not in outcomes and name not in flat:
            raise ExperimentError(source, "outcomes", f"unknown outcome {name!r}")
    for name in plan.parameters:
        if name in columns:
            raise ExperimentError(
                source, f"parameters.{name}", "same name as an outcome; leave it out of outcomes"
            )
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("replicate", pa.int64()),
        pa.field("seed", pa.uint64()),
        *(pa.field(n, arrow_type([p.get(n) for p in plan.points])) for n in plan.parameters),
        *(pa.field(n, arrow_type([e.get(n) for e in plan.extra])) for n in plan.extra_names),
        *(pa.field(c, arrow_type([flat[c]])) for c in columns),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
    ]
    series_columns: list[str] = []
    series_schema = None
    if plan.series:
        available = list(probe_series.columns)
        chosen = available if plan.series is True else ["day", *plan.series]
        for name in chosen:
            if name not in available:
                raise ExperimentError(source, "series", f"unknown series column {name!r}")
        series_columns = list(dict.fromkeys(chosen))
        keys = pa.schema([pa.field(k, pa.int64()) for k in RUN_KEYS])
        body = pa.Schema.from_pandas(probe_series[series_columns], preserve_index=False)
        series_schema = pa.unify_schemas([keys, body.remove_metadata()])
    return TableSchema(tuple(columns), tuple(series_columns), pa.schema(fields), series_schema)


def arrow_type(values: list[Any]) -> pa.DataType:
    """Arrow type of a column's values; all-missing columns (censored days) are integers."""
    present = [v for v in values if v is not None]
    if not present:
        return pa.int64()
    kind = pa.array(present).type
    return pa.string() if pa.types.is_large_string(kind) else kind


# --- the output folder --------------------------------------------------------------------------


def check_folder(out: Path, plan: SweepPlan, options: RunOptions) -> None:
    """Check ``out`` may take this sweep, without writing anything.

    Raises `OutputError` when ``out`` cannot be a folder, lies in a sweep's table folder or
    holds other files (without ``force``), and `SweepError` when it holds another sweep's files,
    results without ``resume``, more replicates than the plan's, or runs made by other code.
    """
    check_output_path(out)
    if not is_sweep_folder(out):
        check_empty(out, options.force)
        return
    manifest_path = out / sweep_folder.MANIFEST
    if not manifest_path.is_file():
        raise SweepError(str(out), "", "holds sweep tables without a manifest; use another --out")
    other = sweep_folder.read_manifest(out)
    if other.get("fingerprint") != plan.fingerprint:
        raise SweepError(
            str(manifest_path),
            "fingerprint",
            f"holds the files of a different sweep ({other.get('name')!r}: scenario, points, seed "
            "or outputs differ); use another --out",
        )
    if not sweep_folder.has_results(out):
        return
    if not options.resume:
        raise SweepError(
            str(out),
            "",
            "holds results already; pass --resume to finish them, or pick another --out",
        )
    if (done := sweep_folder.replicates_done(out)) > plan.replicates:
        raise SweepError(
            str(out),
            "replicates",
            f"holds runs of {done} replicates, more than the {plan.replicates} asked for; "
            f"finished runs are never deleted: ask for {done} or more, or use another --out",
        )
    made_by = other.get("source_sha256")
    if made_by is not None and made_by != source_hash():
        raise SweepError(
            str(manifest_path),
            "source_sha256",
            "its runs were made by other code (the model or the runner changed since); "
            "resuming would mix the two: use another --out",
        )


def manifest(plan: SweepPlan, schema: TableSchema, counts: dict[str, int]) -> dict[str, Any]:
    """What the sweep is, how far it got, and the software that ran it."""
    config = plan.config
    return {
        "name": plan.info.get("name", "points"),
        "description": plan.info.get("description", ""),
        "experiment_file": plan.info.get("experiment_file"),
        "experiment_sha256": plan.info.get("experiment_sha256"),
        "scenario_file": plan.info.get("scenario_file"),
        "scenario_name": config.name,
        "scenario_sha256": sha256(config.model_dump_json()),
        "parameters": plan.info.get("parameters")
        or [{"name": name, "kind": "points"} for name in plan.parameters],
        "design": plan.info.get("design", {"kind": "points"}),
        "samples": len(plan.points),
        "replicates": plan.replicates,
        "seed": plan.seed,
        "common_random_numbers": plan.crn,
        "horizon_days": config.horizon_days,
        "outcomes": list(schema.outcome_columns),
        "series": list(schema.series_columns),
        "fingerprint": plan.fingerprint,
        "source_sha256": source_hash(),
        "inputs_sha256": sweep_inputs_hash(
            config.model_dump_json(), plan.info.get("experiment_sha256")
        ),
        "counts": counts,
        "environment": environment(),
    }


def environment() -> dict[str, Any]:
    """Package, git commit, Python and library versions (the manifest's only varying part)."""
    return {
        "escalation": package_version("escalation"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "libraries": {name: package_version(name) for name in LIBRARIES},
    }


def package_version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- execution ----------------------------------------------------------------------------------


def run_spec(plan: SweepPlan, point: int, replicate: int) -> RunSpec:
    seed = run_seed(plan.seed, point, replicate, plan.crn)
    return RunSpec(plan.run_id(point, replicate), point, replicate, seed, plan.points[point])


def missing_tasks(
    plan: SweepPlan, schema: TableSchema, done: np.ndarray, chunk_size: int | None
) -> Iterator[Task]:
    """Chunks of the runs not done yet (``done``: a flag per run id), made as they are needed
    (memory stays flat)."""
    missing = np.flatnonzero(~done)
    size = chunk_size or min(MAX_CHUNK, max(1, math.ceil(len(missing) / 16)))
    specs = (run_spec(plan, *divmod(int(run_id), plan.replicates)) for run_id in missing)
    for chunk in itertools.batched(specs, size):
        yield Task(plan.config, chunk, schema.outcome_columns, schema.series_columns)


def chunk_tables(
    plan: SweepPlan, schema: TableSchema, result: tuple[list[dict[str, Any]], pd.DataFrame | None]
) -> tuple[pa.Table, pa.Table | None]:
    """A finished chunk's runs table (with its points' values) and series table."""
    rows, series = result
    for row in rows:
        row.update(plan.points[row["point"]])
        row.update(plan.extra[row["point"]])
    runs = pa.Table.from_pylist(rows, schema=schema.runs)
    if schema.series is None:
        return runs, None
    frame = series if series is not None else pd.DataFrame(columns=schema.series.names)
    table = pa.Table.from_pandas(frame, schema=schema.series, preserve_index=False)
    return runs, table.replace_schema_metadata(None)


def execute_sweep(
    plan: SweepPlan, out: str | Path, options: RunOptions, source: str = "<points>"
) -> dict[str, int]:
    """Run the missing runs of ``plan`` into ``out``, holding the folder's lock; return the
    counts of runs (total, done, ok, error) and of faults (parts set aside as damaged, worker
    deaths, chunks rerun and given up).

    Nothing is written before the plan, the folder and the workers are known to be usable.
    """
    out = Path(out)
    schema = table_schema(plan, source)
    check_unlocked(out)
    check_folder(out, plan, options)
    faults = Faults()
    with worker_pool(options.workers, options.dask, options.executor) as pool, folder_lock(out):
        check_folder(out, plan, options)  # again: another sweep may have written meanwhile
        set_aside = sweep_folder.tidy_parts(out, plan.replicates)
        done = sweep_folder.done_runs(out, len(plan.points), plan.replicates)
        sweep_folder.write_manifest(
            out, manifest(plan, schema, sweep_folder.counts(out, plan.total))
        )
        try:
            run_missing(plan, schema, out, done, pool, options, faults)
        finally:
            counts = sweep_folder.counts(out, plan.total)
            sweep_folder.write_manifest(out, manifest(plan, schema, counts))
    return {
        **counts,
        "set_aside": len(set_aside),
        "worker_deaths": faults.deaths,
        "chunks_rerun": faults.rerun,
        "chunks_given_up": len(faults.given_up),
    }


def run_missing(
    plan: SweepPlan,
    schema: TableSchema,
    out: Path,
    done: np.ndarray,
    pool: WorkerPool,
    options: RunOptions,
    faults: Faults,
) -> None:
    """Run the runs not ``done``, writing each chunk into ``out`` as it finishes."""
    first = sweep_folder.next_part(out)
    chunks = missing_tasks(plan, schema, done, options.chunk_size)
    with tqdm(
        total=plan.total,
        initial=int(done.sum()),
        unit="run",
        desc=printable(plan.info.get("name", "points")),
        disable=not options.progress,
        dynamic_ncols=True,
    ) as bar:
        for index, result in run_tasks(run_chunk, chunks, pool, given_up_chunk, faults):
            runs, series = chunk_tables(plan, schema, result)
            sweep_folder.write_chunk(out, first + index, runs, series)
            bar.update(len(result[0]))


# --- public API ---------------------------------------------------------------------------------


def run_points(
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    *,
    replicates: int,
    seed: int,
    out: str | Path,
    series: bool | list[str] = False,
    crn: bool = False,
    extra_columns: list[dict[str, Any]] | None = None,
    name: str = "points",
    options: RunOptions = RunOptions(),
) -> pd.DataFrame:
    """Run every point ``replicates`` times into ``out`` and return the runs table.

    Unknown field paths raise `ExperimentError` before anything is written; a point whose
    values do not validate gives runs with status "error".

    Args:
        config: the base scenario.
        points: the design points, each a dict of dotted overrides of ``config``
            (``{"us.policy": "never", "militias.*.restraint": 0.6}``).
        replicates: runs per point.
        seed: the root of every run's seed.
        out: the results folder (see `sim.sweep_folder`).
        series: keep the daily series: True for every column, or a list of columns.
        crn: common random numbers (replicate r has the same seed at every point).
        extra_columns: ``extra_columns[i]`` adds columns to the rows of point i.
        name: the sweep's name in the manifest and the progress bar.
        options: workers, executor, resume, progress, chunk size.

    Returns:
        One row per run (see the module docstring for the columns), sorted by ``run_id``.
    """
    if replicates < 1:
        raise ExperimentError("<points>", "replicates", "must be at least 1")
    if extra_columns is not None and len(extra_columns) != len(points):
        raise ExperimentError("<points>", "extra_columns", "needs one dict per point")
    for i, point in enumerate(points):
        for path in point:
            if not field_exists(path, config):
                raise ExperimentError("<points>", f"points[{i}].{path}", "no such scenario field")
    plan = SweepPlan(
        config=config,
        points=[dict(p) for p in points],
        extra=[dict(e) for e in extra_columns] if extra_columns else [{} for _ in points],
        replicates=replicates,
        seed=seed,
        crn=crn,
        series=series,
        info={"name": name},
    )
    execute_sweep(plan, out, options)
    return load_runs(out)


def experiment_plan(experiment: Experiment) -> SweepPlan:
    """The sweep an experiment describes: its design points, replicates and outputs."""
    spec = experiment.spec
    points, extra = design_points(experiment)
    return SweepPlan(
        config=experiment.config,
        points=points,
        extra=extra,
        replicates=spec.replicates,
        seed=spec.seed,
        crn=spec.common_random_numbers,
        outcomes=spec.outcomes,
        series=spec.series,
        info={
            "name": spec.name,
            "description": spec.description,
            "experiment_file": str(experiment.path) if experiment.path else None,
            "experiment_sha256": experiment.sha256 or None,
            "scenario_file": os.path.normpath(experiment.scenario_path),
            "parameters": experiment.describe_parameters(),
            "design": spec.design.model_dump(exclude_none=True),
        },
    )


def run_experiment(
    experiment: str | Path | Experiment, out: str | Path, options: RunOptions = RunOptions()
) -> pd.DataFrame:
    """Run an experiment into a results folder and return the runs table.

    Args:
        experiment: an experiment file, or a loaded `Experiment`.
        out: the results folder (see `sim.sweep_folder`).
        options: workers, executor or Dask, resume, progress, chunk size.

    Returns:
        One row per run, sorted by ``run_id``.
    """
    sweep_experiment(experiment, out, options)
    return load_runs(out)


def sweep_experiment(
    experiment: str | Path | Experiment, out: str | Path, options: RunOptions = RunOptions()
) -> dict[str, int]:
    """`run_experiment` without reading the table back: returns the counts of runs."""
    experiment = as_experiment(experiment)
    source = str(experiment.path or "<experiment>")
    return execute_sweep(experiment_plan(experiment), out, options, source)


def as_experiment(experiment: str | Path | Experiment) -> Experiment:
    """A loaded experiment, reading the file if given a path."""
    return experiment if isinstance(experiment, Experiment) else load_experiment(experiment)


def estimate(
    experiment: str | Path | Experiment,
    out: str | Path | None = None,
    workers: int = 1,
    timed_runs: int = 3,
) -> dict[str, Any]:
    """Number of runs (those missing from ``out``, if given) and a time estimate from a few runs.

    Only the timed runs' design points are made (a grid's alone), unless ``out`` holds the
    sweep already.
    """
    experiment = as_experiment(experiment)
    spec = experiment.spec
    points, replicates = design_size(spec), spec.replicates
    picks = sorted({int(i) for i in np.linspace(0, points * replicates - 1, timed_runs)})
    indices = [run_id // replicates for run_id in picks]
    # A grid's timed points are made alone; any other design is made whole (as `design_sample`
    # makes it), once, for both the timed points and the check of an existing sweep in ``out``.
    grid_alone = spec.design.kind == "grid" and not (spec.levers or spec.variants)
    plan = None if grid_alone else experiment_plan(experiment)
    if plan is None:
        sampled = design_sample(experiment, indices)
    else:
        sampled = [plan.points[index] for index in indices]
    timed = SweepPlan(
        config=experiment.config,
        points=sampled,
        extra=[{} for _ in sampled],
        replicates=1,
        seed=spec.seed,
        crn=spec.common_random_numbers,
        outcomes=spec.outcomes,
        series=spec.series,
    )
    schema = table_schema(timed, str(experiment.path))
    specs = tuple(sampled_run(timed, run_id, replicates, i) for i, run_id in enumerate(picks))
    start = time.perf_counter()
    run_chunk(Task(experiment.config, specs, schema.outcome_columns, schema.series_columns))
    per_run = (time.perf_counter() - start) / len(specs)
    done = 0
    if out is not None:
        check_output_path(Path(out))
    if out is not None and is_sweep_folder(Path(out)):
        if plan is None:
            plan = experiment_plan(experiment)
        check_folder(Path(out), plan, RunOptions(resume=True))
        done = int(sweep_folder.done_runs(Path(out), points, replicates).sum())
    runs = points * replicates - done
    return {
        "name": spec.name,
        "points": points,
        "replicates": replicates,
        "runs": runs,
        "seconds_per_run": per_run,
        "estimated_seconds": per_run * runs / workers,
        "workers": workers,
    }


def sampled_run(timed: SweepPlan, run_id: int, replicates: int, index: int) -> RunSpec:
    """Run ``run_id`` of a sweep of ``replicates`` per point, whose point is ``timed``'s point
    ``index``."""
    point, replicate = divmod(run_id, replicates)
    seed = run_seed(timed.seed, point, replicate, timed.crn)
    return RunSpec(run_id, point, replicate, seed, timed.points[index])


def format_status(status: dict[str, Any], out: Path) -> str:
    """`sweep_status` as a few lines of text (user-given names and errors escaped)."""
    share = status["done"] / status["total"] if status["total"] else 1.0
    lines = [
        f"{printable(status['name'])}: {status['done']:,} of {status['total']:,} runs done "
        f"({share:.0%}), {status['ok']:,} ok, {status['error']:,} failed"
    ]
    lines += [f"  run {f['run_id']} failed: {printable(f['error'])}" for f in status["failed"]]
    if status["error"] > len(status["failed"]):
        lines.append(f"  ... and {status['error'] - len(status['failed'])} more")
    lines += [f"  damaged part file, not counted: {path}" for path in status["damaged"]]
    unfinished = status["done"] < status["total"] or status["damaged"]
    if unfinished and status["experiment_file"]:
        lines.append(
            f"finish with: escalation sweep {status['experiment_file']} --out {out} --resume"
            + (" (sets the damaged parts aside and reruns their runs)" if status["damaged"] else "")
        )
    return "\n".join(lines)


def format_estimate(estimate: dict[str, Any]) -> str:
    """`estimate` as one line of text."""
    minutes = estimate["estimated_seconds"] / 60
    return (
        f"{estimate['name']}: {estimate['runs']:,} runs to do ({estimate['points']:,} points x "
        f"{estimate['replicates']} replicates); {estimate['seconds_per_run']:.3f} s per run "
        f"(timed on a few runs), about {minutes:.1f} min on {estimate['workers']} worker(s)"
    )
