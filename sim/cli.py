"""The `escalation` command line.

Bad input (a scenario or experiment that does not validate, a missing file, an unusable --out
folder, a missing optional extra: any `InputError`; a usage error) exits with code 2 and one line
naming the file or option, the field and the problem. An operating-system error (a full disk)
exits with code 1 and one line naming the path; Ctrl-C exits with 130 and SIGTERM with 143.
Internal errors exit with code 1. Text from the user is printed with control characters
escaped (`sim.text`).
"""

import errno
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer 0.20 and later carry their own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click import exceptions as click_errors

from sim.errors import InputError, MissingExtraError, OutputError
from sim.input_files import parse_value
from sim.io import atomic_write, atomic_write_json
from sim.out_folder import check_run_folder, written_or_nothing
from sim.scenario import load_scenario, scenario_json_schema
from sim.signals import exit_code, sigterm_as_interrupt, stopped
from sim.text import printable, printable_lines

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class Commands(TyperGroup):
    """The commands, with bad input and usage errors turned into one line on stderr and exit
    code 2, operating-system errors into one line and exit code 1, and SIGTERM handled like
    Ctrl-C."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            with sigterm_as_interrupt():
                code = super().main(*args, standalone_mode=False, **kwargs)
        except click_errors.NoArgsIsHelpError as error:
            error.show()
            sys.exit(error.exit_code)
        except click_errors.UsageError as error:
            say_error(usage_problem(error))
            sys.exit(2)
        except click_errors.ClickException as error:
            say_error(error.format_message())
            sys.exit(error.exit_code)
        except typer.Abort:
            say_error("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as error:
            say_error(str(error))
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt as interrupt:
            say_error(stopped(interrupt))
            raise typer.Exit(code=exit_code(interrupt)) from None
        except OSError as error:
            say_error(os_problem(error))
            raise typer.Exit(code=1) from None


def usage_problem(error: click_errors.UsageError) -> str:
    """A usage error as one line: the option and the problem, or the command and the problem."""
    param = getattr(error, "param", None)
    bad_value = isinstance(error, typer.BadParameter) and not isinstance(
        error, click_errors.MissingParameter
    )
    if bad_value and param is not None and param.opts:
        return f"{max(param.opts, key=len)}: {' '.join(error.message.split())}"
    command = error.ctx.command_path if error.ctx else "escalation"
    message = " ".join(error.format_message().split())
    return f"{command}: {message} (see {command} --help)"


def os_problem(error: OSError) -> str:
    """An operating-system error as one line naming the path, with advice if the disk is full."""
    line = os_error_text(error)
    if error.errno in DISK_FULL:
        line += "; nothing is half-written: free some space and run the command again"
    return line


def os_error_text(error: OSError) -> str:
    """An operating-system error as one line naming the path, without advice."""
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def say(text: str) -> None:
    """Print one line to stdout, control characters (line breaks too) escaped."""
    typer.echo(printable(text))


def say_lines(text: str) -> None:
    """Print a report of several lines to stdout, other control characters escaped."""
    typer.echo(printable_lines(text))


def say_error(text: str) -> None:
    """Print ``error: text`` to stderr as one line, control characters escaped."""
    typer.echo(f"error: {printable(text)}", err=True)


def say_note(text: str) -> None:
    """Print ``note: text`` to stderr as one line, control characters escaped."""
    typer.echo(f"note: {printable(text)}", err=True)


def interrupted(interrupt: KeyboardInterrupt, then: str) -> typer.Exit:
    """Say on stderr that a command was stopped (Ctrl-C or SIGTERM) and ``then``, what to do
    next; return the exit to raise, with the interrupt's exit code."""
    say_error(f"{stopped(interrupt)}; {then}")
    return typer.Exit(code=exit_code(interrupt))


def output_folder(value: str | None) -> Path | None:
    """An ``--out`` value as a path (None: not given); an empty one is bad input."""
    if value is None:
        return None
    if not value.strip():
        raise OutputError("--out", "", "empty; give a folder")
    return Path(value)


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
    seed: Annotated[int, typer.Option(min=0, max=2**64 - 1, help="Random seed.")] = 0,
    out: Annotated[
        str | None, typer.Option(help="Folder for timeseries.csv, summary.json.")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Override the horizon (days).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario field: PATH=VALUE (repeatable)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write into a folder that holds other files (not a sweep's).")
    ] = False,
) -> None:
    """Run one scenario; print its summary and write the daily series and outcomes."""
    from sim.model import simulate
    from sim.scenario import apply_overrides

    folder = output_folder(out)
    if folder is not None:
        check_run_folder(folder, force)
    overrides = parse_assignments(set_ or [])
    config = apply_overrides(load_scenario(scenario), overrides, "--set")
    if days is not None:
        config = apply_overrides(config, {"horizon_days": days}, "--days")
        overrides["horizon_days"] = days
    result = simulate(config, seed, series=folder is not None)
    summary = {
        "scenario": str(scenario),
        "name": config.name,
        "seed": seed,
        "overrides": overrides,
        **result.outcomes,
    }
    if folder is not None:
        with written_or_nothing(folder) as written:
            written.append(folder / "timeseries.csv")
            atomic_write(written[-1], lambda tmp: result.series.to_csv(tmp, index=False))
            written.append(folder / "summary.json")
            atomic_write_json(written[-1], summary)
    say_lines(format_summary(summary))
    if folder is not None:
        say(f"wrote {folder / 'timeseries.csv'} and {folder / 'summary.json'}")


def parse_assignments(assignments: list[str]) -> dict[str, object]:
    """``PATH=VALUE`` pairs; values read as TOML (``0.5``, ``true``), else as plain strings."""
    overrides: dict[str, object] = {}
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or not path.strip():
            raise InputError("--set", repr(assignment), "expected PATH=VALUE")
        overrides[path.strip()] = parse_value(text, f"--set {path.strip()}", InputError)
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
        ("scenario", f"{printable(summary['name'])} ({printable(summary['scenario'])}), "
                     f"seed {summary['seed']}"),
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
            say_error(str(error))
            problems += 1
        else:
            say(f"ok: {path}")
    if problems:
        raise typer.Exit(code=2)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    typer.echo(json.dumps(scenario_json_schema(), indent=2, sort_keys=True))


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file.")],
    out: Annotated[str | None, typer.Option(help="Results folder (default: out/<name>).")] = None,
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
    force: Annotated[
        bool, typer.Option(help="Write into a folder that holds other files (not a sweep's).")
    ] = False,
) -> None:
    """Run an experiment into OUT/runs.parquet; exit code 3 if some runs failed."""
    from sim.experiment import load_experiment
    from sim.pool import WorkersKeepDying, check_workers
    from sim.runner import RunOptions, estimate, format_estimate, sweep_experiment

    folder = output_folder(out)
    workers = workers or os.cpu_count() or 1
    check_workers(workers)
    loaded = load_experiment(experiment)
    folder = folder or Path("out") / loaded.name
    if dry_run:
        say(format_estimate(estimate(loaded, folder, workers)))
        return
    options = RunOptions(
        workers, dask=dask, resume=resume, progress=progress, chunk_size=chunk_size, force=force
    )
    finish = f"finish with: escalation sweep {experiment} --out {folder} --resume"
    try:
        counts = sweep_experiment(loaded, folder, options)
    except KeyboardInterrupt as interrupt:
        raise interrupted(interrupt, f"{kept(folder)}; {finish}") from None
    except WorkersKeepDying as error:
        say_error(f"{error}; {kept(folder)}; {finish}")
        raise typer.Exit(code=1) from None
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise
        say_error(f"{os_error_text(error)}; {kept(folder)}; free some space and {finish}")
        raise typer.Exit(code=1) from None
    report_faults(counts, folder)
    done, ok, failed = counts["done"], counts["ok"], counts["error"]
    say(f"wrote {folder}: {done:,} runs, {ok:,} ok, {failed:,} failed")
    if failed:
        say_error(f"see the error column, or: escalation status {folder}")
        raise typer.Exit(code=3)


def kept(folder: Path) -> str:
    """How many finished runs a stopped sweep kept, in words."""
    from sim.sweep_folder import counts

    return f"the {counts(folder, 0)['done']:,} finished run(s) are kept in {folder}"


def report_faults(counts: dict[str, int], folder: Path) -> None:
    """Say on stderr what went wrong and was repaired during a sweep."""
    if counts["set_aside"]:
        say_note(f"{counts['set_aside']} part file(s) of damaged chunks moved to "
                 f"{folder / 'damaged'}; their runs ran again")  # fmt: skip
    if counts["worker_deaths"]:
        given_up = counts["chunks_given_up"]
        say_note(
            f"a worker process died {counts['worker_deaths']} time(s); the workers were "
            f"restarted and {counts['chunks_rerun']} chunk(s) of runs ran again"
            + (f"; {given_up} chunk(s) were given up and recorded as failed" if given_up else "")
        )


@app.command()
def status(out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")]) -> None:
    """Report the progress of a sweep: runs done, failed and to go."""
    from sim.runner import format_status, sweep_status

    say_lines(format_status(sweep_status(out), out))


@app.command()
def calibrate(
    experiment: Annotated[Path, typer.Argument(help="Calibration TOML file.")],
    workers: Annotated[int | None, typer.Option(min=1, help="Parallel workers.")] = None,
) -> None:
    """Fit parameters to the 2019-2020 record (ABC); write the calibrated scenario and report."""
    from sim.calibration import calibrate as run_calibration

    try:
        run_calibration(experiment, workers=workers, log=say)
    except KeyboardInterrupt as interrupt:
        raise interrupted(interrupt, "the same command resumes the fit") from None


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
    except KeyboardInterrupt as interrupt:
        raise interrupted(interrupt, "the same command resumes the forecast") from None


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
        say(f"wrote {path}")


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")],
    by: ByOption = None,
    heat: HeatOption = None,
) -> None:
    """Write OUT/report.md: a short summary with the tables behind the figures."""
    from sim.report import write_report

    say(f"wrote {write_report(out, by, heat)}")


@app.command()
def discover(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep.")],
    where: Annotated[
        str,
        typer.Option(help="Condition over outcomes, e.g. 'redline_crossed' or 'max_rung >= 9'."),
    ],
    name: Annotated[str | None, typer.Option(help="Name of the analysis folder.")] = None,
    min_coverage: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="PRIM: the chosen box covers at least this.")
    ] = 0.5,
    mass_min: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="PRIM and CART: smallest box or leaf share.")
    ] = 0.05,
    depth: Annotated[int, typer.Option(min=1, max=10, help="CART: largest tree depth.")] = 3,
) -> None:
    """Scenario discovery: PRIM and CART of the runs meeting --where (the analysis extra)."""
    from sim.exploration import write_discovery

    for path in write_discovery(out, where, name, min_coverage, mass_min, depth):
        typer.echo(f"wrote {path}")


@app.command()
def robust(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep with levers.")],
    outcome: Annotated[str, typer.Option(help="Outcome (or expression) to judge policies by.")],
    goal: Annotated[str, typer.Option(help="min or max: which way the outcome is better.")],
    threshold: Annotated[
        float | None, typer.Option(help="Satisficing: the outcome a policy must meet.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the analysis folder.")] = None,
) -> None:
    """Robust policies: each candidate policy's outcome and regret across the sampled worlds."""
    from sim.exploration import write_robust

    for path in write_robust(out, outcome, goal, threshold, name):
        typer.echo(f"wrote {path}")


@app.command()
def compare(
    out: Annotated[Path, typer.Argument(help="Results folder of a sweep with variants, levers.")],
    outcome: Annotated[list[str], typer.Option(help="Outcome (or expression); repeatable.")],
    reference: Annotated[
        str | None, typer.Option(help="Policy the others are compared with (default: first).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name of the analysis folder.")] = None,
) -> None:
    """Do conclusions about policies hold in every model variant?"""
    from sim.exploration import write_compare

    for path in write_compare(out, outcome, reference, name):
        typer.echo(f"wrote {path}")


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
        differences = verify_results(results, against, echo=say)
    except RegenerationError as error:
        say_error(str(error))
        raise typer.Exit(code=1) from None
    for line in differences:
        say(line)
    if differences:
        typer.echo(f"{len(differences)} file(s) differ", err=True)
        raise typer.Exit(code=1)
    say(f"ok: every file in {results} matches")


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

    say(f"serving {scenario} at http://{host}:{port}/ (Ctrl-C to stop)")
    serve(scenario, host, port)


def main() -> None:
    """Entry point of the `escalation` console script."""
    app(prog_name="escalation")


if __name__ == "__main__":
    sys.exit(main())
