"""What `make figures` regenerates, in one place: `make figures` runs this plan in the project
folder, and `escalation verify` runs it again in a temporary copy of the inputs to compare.

The plan: the calibration (``results/validation/`` and the calibrated scenario), then for each
experiment in `FIGURE_EXPERIMENTS` its sweep, figures, exploratory analyses (`ANALYSES`) and
report (``results/NAME/``), then ``results/SHA256SUMS``. Every step is an `escalation` command run
from the project folder, with its outputs deleted first, so the results never mix with those of
older code.

Run it with ``python -m sim.results_plan [PROJECT_FOLDER]``.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError
from sim.scenario import read_toml

CALIBRATION = "experiments/calibrate_2020.toml"
FIGURE_EXPERIMENTS = ("drawdown", "screen", "redline", "variants", "robust")
#: Exploratory analyses run on an experiment's results after its figures, before its report.
ANALYSES: dict[str, tuple[tuple[str, ...], ...]] = {
    "redline": (("discover", "--where", "redline_crossed"),),
    "variants": (
        ("compare", "--outcome", "redline_crossed", "--outcome", "us_killed",
         "--outcome", "n_attacks"),
    ),
    "robust": (
        ("robust", "--outcome", "redline_crossed", "--goal", "min", "--threshold", "0.25"),
        ("robust", "--outcome", "us_killed", "--goal", "min"),
    ),
}  # fmt: skip
RESULTS = "results"
CHECKSUMS = "SHA256SUMS"
# What the plan reads: copied into the temporary folder `escalation verify` regenerates in.
INPUT_FOLDERS = ("experiments", "scenarios", "data")


@dataclass(frozen=True)
class Step:
    """One `escalation` command, run from the project folder after deleting ``outputs``."""

    arguments: tuple[str, ...]
    outputs: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return " ".join(("escalation", *self.arguments))


def calibration_outputs(root: Path) -> tuple[str, ...]:
    """The calibration's runs folder, results folder and calibrated scenario, from its file.

    Raises `InputError` if the file cannot be read.
    """
    spec, _ = read_toml(root / CALIBRATION)
    here = Path(CALIBRATION).parent
    paths = (spec["out"], spec["results"], spec["calibrated"]["path"])
    return tuple(Path(os.path.normpath(here / path)).as_posix() for path in paths)


def plan(root: Path) -> list[Step]:
    """The steps of `make figures`, in order."""
    steps = [Step(("calibrate", CALIBRATION), calibration_outputs(root))]
    for name in FIGURE_EXPERIMENTS:
        folder = f"{RESULTS}/{name}"
        sweep = ("sweep", f"experiments/{name}.toml", "--out", folder, "--no-progress")
        steps += [Step(sweep, (folder,)), Step(("plot", folder))]
        steps += [Step((command, folder, *rest)) for command, *rest in ANALYSES.get(name, ())]
        steps.append(Step(("report", folder)))
    return steps


def regenerate(
    root: Path, steps: list[Step] | None = None, echo: Callable[[str], None] = print
) -> None:
    """Run ``steps`` (default: the whole plan) in ``root``, then write the checksums.

    Raises `subprocess.CalledProcessError` when a step fails.
    """
    for step in plan(root) if steps is None else steps:
        for output in step.outputs:
            _delete(root / output)
        echo(step.command)
        subprocess.run([sys.executable, "-m", "sim", *step.arguments], cwd=root, check=True)
    write_checksums(root / RESULTS)


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_checksums(results: Path) -> None:
    """``results/SHA256SUMS`` in ``sha256sum`` format, so ``sha256sum -c`` checks it."""
    files = sorted(
        (path.relative_to(results).as_posix() for path in results.rglob("*") if path.is_file()),
        key=lambda path: path.encode(),
    )
    lines = [
        f"{hashlib.sha256((results / path).read_bytes()).hexdigest()}  ./{path}\n"
        for path in files
        if path != CHECKSUMS
    ]
    (results / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def main() -> None:
    """``python -m sim.results_plan [PROJECT_FOLDER]``: regenerate results/ there."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    try:
        regenerate(root)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except subprocess.CalledProcessError as error:
        print(f"error: step failed with exit code {error.returncode}", file=sys.stderr)
        sys.exit(error.returncode)


if __name__ == "__main__":
    main()
