"""Source and input hashes, and the check that results/ was made by the code and inputs here."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from sim.calibration import load_calibration
from sim.experiment import load_experiment
from sim.provenance import (
    PACKAGE,
    calibration_inputs_hash,
    source_files,
    source_hash,
    sweep_inputs_hash,
)
from sim.results_plan import CALIBRATION, CHECKSUMS, FIGURE_EXPERIMENTS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
REGENERATE = "run make figures"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the package to edit."""
    return Path(shutil.copytree(PACKAGE, tmp_path / "sim", ignore=shutil.ignore_patterns("*.pyc")))


def test_the_model_core_is_covered_and_the_command_line_wrapper_is_not():
    assert source_files() == sorted(source_files())
    files = set(source_files())
    core = {"model.py", "agents.py", "ladder.py", "scenario.py", "experiment.py", "runner.py"}
    assert core <= {Path(path).name for path in files}
    assert not {"cli.py", "bench.py", "verify.py", "__main__.py"} & files
    assert not any(path.startswith("viz") for path in files)


def test_source_hash_follows_output_code_only(package: Path):
    before = source_hash(package)
    assert before == source_hash(package)
    (package / "cli.py").write_text("# a new command\n", encoding="utf-8")
    assert source_hash(package) == before
    model = package / "model.py"
    model.write_bytes(model.read_bytes() + b"\n# a change\n")
    assert source_hash(package) != before


def test_source_hash_is_the_same_with_windows_line_endings(package: Path):
    before = source_hash(package)
    for name in source_files(package):
        path = package / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert source_hash(package) == before


def test_a_new_module_is_covered(package: Path):
    before = source_hash(package)
    (package / "forecast").mkdir()
    (package / "forecast" / "hawkes.py").write_text("X = 1\n", encoding="utf-8")
    assert "forecast/hawkes.py" in source_files(package)
    assert source_hash(package) != before


def sweep_manifests() -> list[Path]:
    return [RESULTS / name / "manifest.json" for name in FIGURE_EXPERIMENTS]


def test_results_were_made_by_the_code_here():
    """Fails when a module that shapes results changed after results/ was regenerated."""
    now = source_hash()
    reports = [*sweep_manifests(), RESULTS / "validation" / "report.json"]
    stale = [
        f"{path.parent.relative_to(ROOT)} (made by source {recorded or 'unrecorded'})"
        for path in reports
        if (recorded := json.loads(path.read_text(encoding="utf-8")).get("source_sha256")) != now
    ]
    assert not stale, f"stale results, the source is now {now}: {', '.join(stale)}; {REGENERATE}"


def test_results_were_made_from_the_inputs_here():
    """Fails when an experiment, a scenario or the record changed after results/ was made."""
    stale = []
    for path in sweep_manifests():
        manifest = json.loads(path.read_text(encoding="utf-8"))
        experiment = load_experiment(ROOT / manifest["experiment_file"])
        expected = sweep_inputs_hash(experiment.config.model_dump_json(), experiment.sha256)
        if manifest.get("inputs_sha256") != expected:
            stale.append(str(path.parent.relative_to(ROOT)))
    report = json.loads((RESULTS / "validation" / "report.json").read_text(encoding="utf-8"))
    calibration = load_calibration(ROOT / CALIBRATION)
    if report.get("inputs_sha256") != calibration_inputs_hash(calibration):
        stale.append("results/validation")
    assert not stale, f"results made from other inputs: {', '.join(stale)}; {REGENERATE}"


def test_results_match_their_checksums():
    lines = (RESULTS / CHECKSUMS).read_text(encoding="utf-8").splitlines()
    listed = {line.split("  ./", 1)[1]: line.split("  ", 1)[0] for line in lines}
    files = {
        path.relative_to(RESULTS).as_posix()
        for path in RESULTS.rglob("*")
        if path.is_file() and path.name != CHECKSUMS
    }
    assert set(listed) == files, f"results/{CHECKSUMS} lists other files; {REGENERATE}"
    changed = [
        name
        for name, digest in listed.items()
        if hashlib.sha256((RESULTS / name).read_bytes()).hexdigest() != digest
    ]
    assert not changed, f"changed since {CHECKSUMS} was written: {changed}; {REGENERATE}"
