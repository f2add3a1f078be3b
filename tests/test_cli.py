"""The `escalation` command line: run, check, schema, and the demo from a clean checkout."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
JUNE = str(ROOT / "scenarios/june2020.toml")


def test_run_writes_daily_series_and_summary(tmp_path):
    result = CliRunner().invoke(app, ["run", JUNE, "--seed", "7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    series = pd.read_csv(tmp_path / "timeseries.csv")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(series) == 366  # day 0 and 365 days
    assert series["date"].iloc[0] == "2020-06-01"
    assert summary["seed"] == 7
    assert summary["us_killed"] == series["us_killed"].iloc[-1]
    assert summary["n_attacks"] + summary["iranian_direct_strikes"] == series["attacks"].sum()
    assert "drawdown day" in result.stdout
    assert sorted(tmp_path.iterdir()) == [tmp_path / "summary.json", tmp_path / "timeseries.csv"]


def test_set_overrides_reach_the_model_and_the_summary(tmp_path):
    args = ["run", JUNE, "--seed", "3", "--out", str(tmp_path), "--set", "us.policy=never"]
    result = CliRunner().invoke(app, [*args, "--set", "militias.*.restraint=0.9"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["overrides"] == {"us.policy": "never", "militias.*.restraint": 0.9}
    assert summary["us_retaliations"] == 0


@pytest.mark.parametrize("assignment", ["no-equals-sign", "=0.5"])
def test_malformed_set_exits_2(assignment):
    result = CliRunner().invoke(app, ["run", JUNE, "--set", assignment])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --set:")


def test_python_m_sim_is_the_same_command():
    args = [JUNE, "--seed", "5", "--days", "60"]
    via_module = subprocess.run(
        [sys.executable, "-m", "sim", "run", *args], capture_output=True, text=True, check=True
    )
    via_app = CliRunner().invoke(app, ["run", *args])
    assert via_module.stdout == via_app.stdout


def test_internal_errors_exit_1_not_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")  # --out under a regular file cannot be created: not a bad-input error
    result = CliRunner().invoke(app, ["run", JUNE, "--days", "5", "--out", str(blocker / "x")])
    assert result.exit_code == 1


@pytest.mark.slow
def test_make_demo_works_from_a_clean_checkout(tmp_path):
    """Clone the committed tree and run `make demo` there with this environment's .venv.

    The clone's own `sim` package comes first on PYTHONPATH, so what runs is what was committed.
    """
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    make = ["make", "-C", str(clone), "demo", f"VENV={venv}", f"STAMP={stamp}", "-o", str(stamp)]
    result = subprocess.run(
        make, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(clone)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = clone / "out"
    assert (out / "june2020/summary.json").is_file()
    assert (out / "drawdown/manifest.json").is_file()
    assert (out / "drawdown/report.md").is_file()
    figures = {p.name for p in (out / "drawdown/figures").iterdir()}
    assert {"survival.pdf", "survival.png", "survival.txt", "heatmap.pdf"} <= figures
