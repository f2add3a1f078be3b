"""`escalation verify`: comparing results trees, and the plan `make figures` and verify share."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.results_plan import FIGURE_EXPERIMENTS, Step, plan, write_checksums
from sim.verify import RTOL, compare_trees, verify_results

ROOT = Path(__file__).resolve().parents[1]
ROWS = 3


def runs_table(**changes: list) -> pa.Table:
    columns = {
        "run_id": [0, 1, 2],
        "us_killed": [0, 2, 5],
        "belief": [0.1, 2 / 3, 1e-300],
        "policy": ["never", None, "proportionate"],
        **changes,
    }
    return pa.table(columns)


def make_tree(root: Path, table: pa.Table | None = None) -> Path:
    """A small results tree: a sweep folder with runs in two parts, a figure, a caption, a
    manifest and a report."""
    sweep = root / "results" / "smoke"
    (sweep / "runs.parquet").mkdir(parents=True)
    (sweep / "figures").mkdir()
    table = table if table is not None else runs_table()
    pq.write_table(table.slice(0, 2), sweep / "runs.parquet" / "part-000000.parquet")
    pq.write_table(table.slice(2), sweep / "runs.parquet" / "part-000001.parquet")
    (sweep / "figures" / "survival.png").write_bytes(b"\x89PNG\r\n\x1a\nfigure")
    (sweep / "figures" / "survival.txt").write_text("Time to drawdown.\nMedian 40 days.\n")
    manifest = {"name": "smoke", "counts": {"ok": ROWS}, "environment": {"git_commit": "abc"}}
    (sweep / "manifest.json").write_text(json.dumps(manifest))
    (sweep / "report.md").write_text("# smoke\n")
    write_checksums(root / "results")
    return root / "results"


def differences(first: Path, second: Path) -> list[str]:
    return compare_trees(first, second, "the second")


def test_identical_trees_match(tmp_path):
    assert differences(make_tree(tmp_path / "a"), make_tree(tmp_path / "b")) == []


def test_float_last_bit_differences_are_within_the_tolerance(tmp_path):
    beliefs = runs_table()["belief"].to_numpy()
    nudged = np.nextafter(beliefs, np.inf)
    assert (nudged != beliefs).all()
    second = make_tree(tmp_path / "b", runs_table(belief=nudged.tolist()))
    assert differences(make_tree(tmp_path / "a"), second) == []


def test_a_float_difference_beyond_the_tolerance_is_reported(tmp_path):
    second = make_tree(tmp_path / "b", runs_table(belief=[0.1, 2 / 3 * (1 + 10 * RTOL), 1e-300]))
    (line,) = differences(make_tree(tmp_path / "a"), second)
    assert line.startswith("smoke/runs.parquet: column belief differs in 1 of 3 rows")
    assert "first at run_id 1" in line


def test_a_real_difference_names_the_column_and_its_size(tmp_path):
    second = make_tree(tmp_path / "b", runs_table(us_killed=[0, 2, 6]))
    assert differences(make_tree(tmp_path / "a"), second) == [
        "smoke/runs.parquet: column us_killed differs in 1 of 3 rows, max abs diff 1, "
        "first at run_id 2"
    ]


def test_nulls_strings_and_types_are_compared_exactly(tmp_path):
    first = make_tree(tmp_path / "a")
    changed = make_tree(tmp_path / "b", runs_table(policy=["never", "never", "proportionate"]))
    assert differences(first, changed) == [
        "smoke/runs.parquet: column policy differs in 1 of 3 rows, first at run_id 1"
    ]
    floats = make_tree(tmp_path / "c", runs_table(us_killed=[0.0, 2.0, 5.0]))
    assert differences(first, floats) == [
        "smoke/runs.parquet: column us_killed: type int64 vs double"
    ]


def test_row_order_and_part_files_do_not_matter(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b")
    parts = second / "smoke" / "runs.parquet"
    for part in parts.iterdir():
        part.unlink()
    table = runs_table()
    pq.write_table(table.take([2, 0, 1]), parts / "part-000007.parquet")
    assert differences(first, second) == []


def test_missing_and_extra_files_are_named(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b")
    (second / "smoke" / "figures" / "survival.txt").unlink()
    (second / "smoke" / "figures" / "fan.csv").write_text("day\n")
    assert differences(first, second) == [
        "smoke/figures/fan.csv: only in the second",
        "smoke/figures/survival.txt: missing from the second",
    ]


def test_figures_and_captions_are_compared_byte_for_byte(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b")
    figure = second / "smoke" / "figures" / "survival.png"
    figure.write_bytes(figure.read_bytes() + b"\0")
    (second / "smoke" / "figures" / "survival.txt").write_text("Time to drawdown.\nMedian 41.\n")
    assert differences(first, second) == [
        "smoke/figures/survival.png: bytes differ (14 vs 15 bytes)",
        "smoke/figures/survival.txt: line 2 differs: 'Median 40 days.' vs 'Median 41.'",
    ]


def test_manifests_ignore_only_the_environment(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b")
    path = second / "smoke" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["environment"] = {"git_commit": "def", "python": "3.12.1"}
    path.write_text(json.dumps(manifest, indent=2))
    assert differences(first, second) == []  # SHA256SUMS differs too, and is not compared
    manifest["counts"]["ok"] = 2
    path.write_text(json.dumps(manifest))
    assert differences(first, second) == ["smoke/manifest.json: fields differ: counts.ok (3 vs 2)"]


def test_verify_command_exit_codes(tmp_path):
    first = make_tree(tmp_path / "a")
    second = make_tree(tmp_path / "b", runs_table(us_killed=[0, 2, 6]))
    same = CliRunner().invoke(
        app, ["verify", str(first), "--against", str(make_tree(tmp_path / "c"))]
    )
    assert same.exit_code == 0, same.output
    differ = CliRunner().invoke(app, ["verify", str(first), "--against", str(second)])
    assert differ.exit_code == 1
    assert f"{first}/smoke/runs.parquet: column us_killed differs in 1 of 3 rows" in differ.output
    missing = CliRunner().invoke(app, ["verify", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "no such results folder" in missing.output
    assert "Traceback" not in missing.output


def test_the_plan_is_what_results_holds_and_what_make_figures_runs():
    shipped = {path.name for path in (ROOT / "results").iterdir() if path.is_dir()}
    assert shipped == {*FIGURE_EXPERIMENTS, "validation"}
    commands = [step.command for step in plan(ROOT)]
    assert commands[0] == "escalation calibrate experiments/calibrate_2020.toml"
    assert "escalation plot results/redline" in commands
    assert plan(ROOT)[0].outputs == (
        "out/calibrate_2020",
        "results/validation",
        "scenarios/june2020_calibrated.toml",
    )
    makefile = (ROOT / "Makefile").read_text()
    figures = makefile.split("\nfigures:", 1)[1].split("\n\n", 1)[0]
    assert "sim.results_plan" in figures


def test_checksums_are_in_sha256sum_format(tmp_path):
    results = make_tree(tmp_path)
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=results, capture_output=True)
    assert done.returncode == 0, done.stdout
    assert "./smoke/runs.parquet/part-000001.parquet" in (results / "SHA256SUMS").read_text()


@pytest.mark.slow
def test_verify_regenerates_with_the_plan_and_finds_a_changed_file(tmp_path):
    for folder in ("experiments", "scenarios", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    out = "results/smoke"
    steps = [
        Step(("sweep", "experiments/smoke.toml", "--out", out, "--no-progress"), (out,)),
        Step(("report", out)),
    ]
    for step in steps:
        subprocess.run([sys.executable, "-m", "sim", *step.arguments], cwd=tmp_path, check=True)
    results = tmp_path / "results"
    assert verify_results(results, steps=steps, echo=lambda _: None) == []
    report = results / "smoke" / "report.md"
    report.write_text(report.read_text() + "edited\n")
    (line,) = verify_results(results, steps=steps, echo=lambda _: None)
    assert line.startswith(f"{results.as_posix()}/smoke/report.md: ")
    assert line.endswith("lines vs " + str(len(report.read_text().splitlines()) - 1))
