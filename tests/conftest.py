"""Shared by the tests: the repository's paths and the `escalation` command line."""

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
EXPERIMENTS = ROOT / "experiments"
JUNE = SCENARIOS / "june2020.toml"


@dataclass(frozen=True)
class Outcome:
    """What a command did: its exit code and what it printed."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything printed, stdout then stderr."""
        return self.stdout + self.stderr


def run_escalation(*args: str | Path, in_subprocess: bool = False) -> Outcome:
    """`escalation ARGS...`, in this process or (``in_subprocess``) as ``python -m sim``."""
    words = [str(arg) for arg in args]
    if in_subprocess:
        done = subprocess.run(
            [sys.executable, "-m", "sim", *words], capture_output=True, text=True, check=False
        )
        return Outcome(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(app, words)
    return Outcome(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def cli() -> Callable[..., Outcome]:
    """Run `escalation ARGS...`: ``cli("run", path, "--seed", 3)`` gives an `Outcome`."""
    return run_escalation
