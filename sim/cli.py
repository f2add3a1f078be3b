"""The `escalation` command line.

Bad input (a scenario or experiment that does not validate, a missing file, a missing optional
extra: any `InputError`) exits with code 2 and one line naming the file, the field and the
problem; internal errors exit with code 1.
"""

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from sim.errors import InputError, MissingExtraError
from sim.io import atomic_write, atomic_write_json
from sim.scenario import load_scenario, scenario_json_schema


class Commands(TyperGroup):
    """The commands, with bad input turned into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    cls=Commands,
    help="Agent-based simulation of escalation and deterrence in Iraq, 2020.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: Annotated[int, typer.Option(min=0, help="Random seed.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Folder for timeseries.csv, summary.json.")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Override the horizon (days).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario field: PATH=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Run one scenario; print its summary and write the daily series and outcomes."""
    from sim.model import simulate
    from sim.scenario import apply_overrides

    overrides = parse_assignments(set_ or [])
    if days is not None:
        overrides["horizon_days"] = days
    config = apply_overrides(load_scenario(scenario), overrides, "--set")
    result = simulate(config, seed, series=out is not None)
    summary = {
        "scenario": str(scenario),
        "name": config.name,
        "seed": seed,
        "overrides": overrides,
        **result.outcomes,
    }
    if out is not None:
        atomic_write(out / "timeseries.csv", lambda tmp: result.series.to_csv(tmp, index=False))
        atomic_write_json(out / "summary.json", summary)
    typer.echo(format_summary(summary))
    if out is not None:
        typer.echo(f"wrote {out / 'timeseries.csv'} and {out / 'summary.json'}")


def parse_assignments(assignments: list[str]) -> dict[str, object]:
    """``PATH=VALUE`` pairs; values read as TOML (``0.5``, ``true``), else as plain strings."""
    overrides: dict[str, object] = {}
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or not path.strip():
            raise InputError("--set", repr(assignment), "expected PATH=VALUE")
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            value = text
        overrides[path.strip()] = value
    return overrides


def format_summary(summary: dict) -> str:
    """The headline outcomes as a two-column table."""

    def show(value: object) -> str:
        return (
            "censored"
            if value is None
            else f"{value:.3f}"
            if isinstance(value, float)
            else str(value)
        )

    rows = [
        ("scenario", f"{summary['name']} ({summary['scenario']}), seed {summary['seed']}"),
        ("days simulated", show(summary["horizon_days"])),
        ("drawdown started on day", show(summary["drawdown_start_day"])),
        ("troops halved on day", show(summary["drawdown_day"])),
        ("withdrawal day", show(summary["withdrawal_day"])),
        ("troops at the end", show(summary["troops_final"])),
        ("red line crossed", show(summary["redline_crossed"])),
        ("first US casualty day", "none" if summary["first_us_casualty_day"] is None
         else show(summary["first_us_casualty_day"])),
        ("US killed", show(summary["us_killed"])),
        ("highest rung", f"{summary['max_rung']} ({summary['max_rung_label']})"),
        ("militia attacks", show(summary["n_attacks"])),
        ("attacks by mode", ", ".join(f"{m} {n}" for m, n in summary["n_attacks_by_mode"].items())),
        ("US answers", show(summary["us_answers"])),
        ("US threats, of them bluffs", f"{summary['us_threats']}, {summary['us_bluffs']}"),
        ("government credibility", show(summary["government_credibility_final"])),
        ("government fell on day", "no" if summary["government_fell_day"] is None
         else show(summary["government_fell_day"])),
        ("Iran's belief: US credibility", show(summary["us_credibility_final"])),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Scenario TOML files to validate.")],
) -> None:
    """Validate scenario files without running them."""
    problems = 0
    for path in files:
        try:
            load_scenario(path)
        except InputError as error:
            typer.echo(f"error: {error}", err=True)
            problems += 1
        else:
            typer.echo(f"ok: {path}")
    if problems:
        raise typer.Exit(code=2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    typer.echo(json.dumps(scenario_json_schema(), indent=2, sort_keys=True))


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
    out: Annotated[
        Path | None, typer.Option(help="Results folder (default: results/<name>).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: the CPU count).")
    ] = None,
    resume: Annotated[bool, typer.Option(help="Run only the runs missing from --out.")] = False,
    dask: Annotated[
        str | None, typer.Option(help="Dask scheduler address, or 'local' for a LocalCluster.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Print the number of runs and a time estimate; run nothing.")
    ] = False,
    chunk_size: Annotated[int | None, typer.Option(min=1, help="Runs per task.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Run an experiment into OUT/runs.parquet; exit code 3 if some runs failed."""
    from sim.experiment import load_experiment
    from sim.runner import RunOptions, estimate, format_estimate, sweep_experiment

    workers = workers or os.cpu_count() or 1
    loaded = load_experiment(experiment)
    out = out or Path("results") / loaded.name
    if dry_run:
        typer.echo(format_estimate(estimate(loaded, out if out.exists() else None, workers)))
        return
    options = RunOptions(
        workers, dask=dask, resume=resume, progress=progress, chunk_size=chunk_size
    )
    try:
        counts = sweep_experiment(loaded, out, options)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; finished runs are in {out}, finish with --resume", err=True)
        raise typer.Exit(code=130) from None
    done, ok, failed = counts["done"], counts["ok"], counts["error"]
    typer.echo(f"wrote {out}: {done:,} runs, {ok:,} ok, {failed:,} failed")
    if failed:
        typer.echo(f"see the error column, or: escalation status {out}", err=True)
        raise typer.Exit(code=3)


@app.command()
def status(out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")]) -> None:
    """Report the progress of a sweep: runs done, failed and to go."""
    from sim.runner import format_status, sweep_status

    typer.echo(format_status(sweep_status(out), out))


@app.command()
def calibrate(
    experiment: Annotated[Path, typer.Argument(help="Calibration TOML file.")],
    workers: Annotated[int | None, typer.Option(min=1, help="Parallel workers.")] = None,
) -> None:
    """Fit parameters to the 2019-2020 record (ABC); write the calibrated scenario and report."""
    from sim.calibration import calibrate as run_calibration

    try:
        run_calibration(experiment, workers=workers, log=typer.echo)
    except KeyboardInterrupt:
        typer.echo("interrupted; the same command resumes the fit", err=True)
        raise typer.Exit(code=130) from None


@app.command()
def forecast(
    calibration: Annotated[
        Path, typer.Argument(help="Results folder of a calibration (holds fit.json).")
    ],
    when: Annotated[
        str,
        typer.Option(
            "--date",
            help="Forecast from this day (YYYY-MM-DD), on or after the end of the fitted record.",
        ),
    ],
    days: Annotated[int, typer.Option(min=7, max=1000, help="Days to forecast.")] = 182,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the forecast (default: out/forecast_DATE); its runs go to OUT/runs."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: the CPU count).")
    ] = None,
) -> None:
    """Continue a calibration's fitted histories past the record and write the forecast:
    weekly attacks by mode (fan chart), P(red line), P(US answer), troops and posture changes,
    each with intervals, and the baselines beside the model."""
    from datetime import date

    from sim.calibration.continuation import FitInputs, write_forecast
    from sim.pool import worker_pool

    try:
        start = date.fromisoformat(when)
    except ValueError:
        raise InputError("--date", "", f"{when!r}: expected a date as YYYY-MM-DD") from None
    fit = FitInputs.load(calibration)
    out = out or Path("out") / f"forecast_{start}"
    try:
        with worker_pool(workers or os.cpu_count() or 1) as pool:
            write_forecast(fit, start, days, out, out / "runs", pool.executor, log=typer.echo)
    except KeyboardInterrupt:
        typer.echo("interrupted; the same command resumes the forecast", err=True)
        raise typer.Exit(code=130) from None


ByOption = Annotated[
    str | None, typer.Option("--by", help="Parameter to split survival curves, fans and bars by.")
]
HeatOption = Annotated[
    list[str] | None, typer.Option("--heat", help="Heat-map parameter (give twice: x, then y).")
]


@app.command()
def plot(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")],
    by: ByOption = None,
    heat: HeatOption = None,
) -> None:
    """Draw the figures that fit a sweep into OUT/figures (PDF, PNG, caption, data)."""
    from sim.figures import plot_sweep

    for path in plot_sweep(out, by, heat):
        typer.echo(f"wrote {path}")


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")],
    by: ByOption = None,
    heat: HeatOption = None,
) -> None:
    """Write OUT/report.md: a short summary with the tables behind the figures."""
    from sim.report import write_report

    typer.echo(f"wrote {write_report(out, by, heat)}")


@app.command()
def verify(
    results: Annotated[Path, typer.Argument(help="Results folder to check, e.g. results/.")],
    against: Annotated[
        Path | None, typer.Option(help="Compare with this copy instead of regenerating.")
    ] = None,
) -> None:
    """Regenerate RESULTS as `make figures` does (in a temporary folder), or read another copy,
    and compare them file by file; exit code 1 if anything differs."""
    from sim.verify import RegenerationError, verify_results

    try:
        differences = verify_results(results, against, echo=typer.echo)
    except RegenerationError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    for line in differences:
        typer.echo(line)
    if differences:
        typer.echo(f"{len(differences)} file(s) differ", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"ok: every file in {results} matches")


@app.command()
def viz(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario TOML file (default: scenarios/june2020.toml).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8765,
) -> None:
    """Explore one run in the browser (a Mesa SolaraViz page; works without internet)."""
    from importlib.util import find_spec

    from sim.viz.model import DEFAULT_SCENARIO

    scenario = scenario or DEFAULT_SCENARIO
    load_scenario(scenario)
    if find_spec("solara") is None:
        raise MissingExtraError("escalation viz", "viz")
    from sim.viz.server import serve

    typer.echo(f"serving {scenario} at http://{host}:{port}/ (Ctrl-C to stop)")
    serve(scenario, host, port)


def main() -> None:
    """Entry point of the `escalation` console script."""
    app(prog_name="escalation")


if __name__ == "__main__":
    sys.exit(main())
