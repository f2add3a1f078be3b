"""Hostile input, table-driven: every bad scenario, experiment, calibration file, ``--set`` value,
``--out`` folder and option stops its command with the right exit code, exactly one line on
stderr naming the problem (terminal escapes escaped), and nothing written anywhere."""

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import EXPERIMENTS, JUNE, SCENARIOS

SMOKE = EXPERIMENTS / "smoke.toml"
CALIBRATION = EXPERIMENTS / "calibrate_2020.toml"


def experiment(body: str = "", name: str = "t", design: str = 'kind = "grid"') -> str:
    """An experiment file on the June scenario: ``body`` adds fields and parameters."""
    return (
        f'name = "{name}"\nscenario = "{JUNE}"\nseed = 1\nreplicates = 1\nhorizon_days = 5\n'
        f"{body}\n[design]\n{design}\n"
    )


def parameter(table: str) -> str:
    return f'[parameters."government.enforcement"]\n{table}\n'


def calibration(priors: str) -> str:
    """A calibration file whose only problem lies in ``priors``."""
    return (
        f'name = "c"\nscenario = "{SCENARIOS / "october2019.toml"}"\nrecord = "r.csv"\nseed = 1\n'
        'out = "o"\nresults = "r"\n'
        '[statistics]\nperiods = [2020-02-16]\nbaghdad_sites = ["Baghdad airport"]\n'
        f'[priors."government.enforcement"]\n{priors}\n'
        '[calibrated]\nbase = "b.toml"\npath = "p.toml"\n[forecast]\ndate = 2020-06-22\n'
    )


def extends_chain(folder: Path, length: int) -> None:
    for i in range(length):
        (folder / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (folder / f"c{length}.toml").write_text('name = "end"\n')


def sweep_folder(folder: Path) -> None:
    """What a sweep leaves: a manifest (of another sweep) and a table folder."""
    (folder / "sweep" / "runs.parquet").mkdir(parents=True)
    (folder / "sweep" / "manifest.json").write_text('{"name": "other", "fingerprint": "x"}')


#: Four parameters of 1,000 levels each: a grid of 10^12 points.
GRID_10_12 = "".join(
    f'[parameters."government.{name}"]\nkind = "uniform"\nlow = 0.1\nhigh = 0.9\nlevels = 1000\n'
    for name in ("enforcement", "credibility", "political_capital", "raid_cost")
)


@dataclass(frozen=True)
class Case:
    """A command on hostile input, the problem its one line must name, and its exit code.

    ``args`` may name ``{d}``, the inputs folder, into which ``files`` are written first and
    ``make`` makes anything else (a named pipe, a sweep folder).
    """

    id: str
    args: tuple[str, ...]
    expected: str
    files: dict[str, str] = field(default_factory=dict)
    make: Callable[[Path], None] | None = None
    code: int = 2


FINITE = "Input should be a finite number"
AT_MOST = "Input should be less than or equal to"
S, E = "{d}/s.toml", "{d}/e.toml"  # the scenario and experiment files a case writes
TROOPS = '[[sites]]\nname = "Erbil"\nus_troops = 9223372036854775807'
MILITIA = "capability = 0.5\nloyalty_to_iran = 0.5\nautonomy = 0.5\nrestraint = 0.5"
UNIFORM = 'kind = "uniform"\nlow = 0.1\nhigh = 0.9'
TEN_LEVELS = 'kind = "values"\nvalues = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]'


def on_june(body: str) -> dict[str, str]:
    """A scenario file ``s.toml`` that extends the June scenario with ``body``."""
    return {"s.toml": f'extends = "{JUNE}"\n{body}\n'}


def scenario_case(id: str, body: str, expected: str, command: str = "check") -> Case:
    return Case(id, (command, S), expected, on_june(body))


def experiment_case(id: str, text: str, expected: str, *options: str) -> Case:
    return Case(id, ("sweep", E, *options), expected, {"e.toml": text})


def out_case(id: str, command: str, out: str, expected: str, *options: str, **fields) -> Case:
    target = JUNE if command == "run" else SMOKE
    return Case(id, (command, str(target), "--out", out, *options), expected, **fields)


SCENARIO_CASES = [
    scenario_case("nan rate", "[militia_rules]\nharass_odds = nan", f"harass_odds: {FINITE}"),
    scenario_case(
        "nan probability is not '<= 1'",
        "[government]\nenforcement = nan",
        f"government.enforcement: {FINITE}",
        command="run",
    ),
    scenario_case("inf probability", "[government]\nenforcement = inf", FINITE),
    scenario_case("int64 troops", TROOPS, f"{AT_MOST} 200000"),
    scenario_case(
        "duplicate militias with extends",
        f'[[militias]]\nname = "X"\n{MILITIA}\n[[militias]]\nname = "X"\n{MILITIA}',
        "militias: duplicate name(s) X",
    ),
    Case(
        "extends /dev/zero",
        ("check", S),
        "extends: /dev/zero: not a regular file (a character",
        {"s.toml": 'extends = "/dev/zero"\n'},
    ),
    Case(
        "extends a folder",
        ("run", S),
        "extends: /tmp: not a regular file (a folder)",
        {"s.toml": 'extends = "/tmp"\n'},
    ),
    Case(
        "extends a named pipe",
        ("check", S),
        "extends: pipe: not a regular file (a named pipe)",
        {"s.toml": 'extends = "pipe"\n'},
        make=lambda d: os.mkfifo(d / "pipe"),
    ),
    Case(
        "extends 20 deep",
        ("check", "{d}/c0.toml"),
        "c0.toml: extends: more than 16 files deep",
        make=lambda d: extends_chain(d, 20),
    ),
    Case("extends itself", ("check", S), "circular extends", {"s.toml": 'extends = "s.toml"\n'}),
    Case(
        "deep arrays",
        ("check", S),
        "nested more than 32 levels deep",
        {"s.toml": "a = " + "[" * 50_000 + "]" * 50_000 + "\n"},
    ),
    Case(
        "deep dotted keys",
        ("check", S),
        "nested more than 32 levels deep",
        {"s.toml": "a" + ".a" * 5000 + " = 1\n"},
    ),
    Case("not UTF-8", ("check", S), "not UTF-8 text", {"s.toml": "name = '\udcff'\n"}),
    Case(
        "a huge file",
        ("check", S),
        "larger than 10 MB",
        make=lambda d: (d / "s.toml").write_bytes(b"#" * (10 * 2**20 + 1)),
    ),
    Case(
        "experiment to run",
        ("run", str(SMOKE)),
        "this is an experiment file, not a scenario file; `escalation sweep",
    ),
    Case("experiment to check", ("check", str(SMOKE)), "this is an experiment file"),
    Case(
        "calibration to run",
        ("run", str(CALIBRATION)),
        "this is a calibration file, not a scenario file; `escalation calibrate",
    ),
    Case("experiment to viz", ("viz", str(SMOKE)), "this is an experiment file"),
    Case("escape in a file name", ("check", "{d}/\x1b[2J.toml"), "\\x1b[2J.toml: file not found"),
]

EXPERIMENT_CASES = [
    experiment_case(
        "low = -inf",
        experiment(parameter('kind = "uniform"\nlow = -inf\nhigh = 0.5')),
        f"parameters.government.enforcement.low: {FINITE}",
    ),
    experiment_case(
        "nan level",
        experiment(parameter('kind = "values"\nvalues = [0.1, nan]')),
        f"values[1]: {FINITE}",
        "--dry-run",
    ),
    experiment_case(
        "nan fixed",
        experiment('[fixed]\n"us.threat_prob" = nan'),
        f"fixed.us.threat_prob: {FINITE}",
    ),
    experiment_case(
        "a string level, no pydantic internals",
        experiment(parameter('kind = "values"\nvalues = [0.1, "a"]')),
        "values[1]: Input should be a valid integer or a valid number",
    ),
    experiment_case("name with ..", experiment(name="../../evil"), "name: must be a plain folder"),
    experiment_case(
        "absolute name", experiment(name="/tmp/evil"), "name: must be a plain folder", "--dry-run"
    ),
    experiment_case(
        "name with an escape", experiment(name="\\u001b[2J"), "name: must be a plain folder"
    ),
    experiment_case(
        "10^12 grid points",
        experiment(GRID_10_12),
        "design: 1,000,000,000,000 design points, more than",
        "--dry-run",
    ),
    experiment_case(
        "2^30 Sobol samples",
        experiment(parameter(UNIFORM), design=f'kind = "sobol"\nsamples = {2**30}'),
        f"design.samples: {AT_MOST} 1000000",
    ),
    experiment_case(
        "10^9 levels",
        experiment(parameter(UNIFORM + "\nlevels = 1000000000")),
        f"levels: {AT_MOST} 1000",
        "--dry-run",
    ),
    experiment_case(
        "too many runs",
        experiment(parameter(TEN_LEVELS)).replace("= 1\nhorizon", "= 10000000\nhorizon"),
        "replicates: 100,000,000 runs, more than the 10,000,000",
    ),
    experiment_case(
        "seed beyond 64 bits",
        experiment().replace("seed = 1", f"seed = {2**64}"),
        f"seed: {AT_MOST} 18446744073709551615",
    ),
    Case(
        "scenario to sweep",
        ("sweep", str(JUNE)),
        "this is a scenario file, not an experiment file; `escalation run",
    ),
    Case(
        "calibration to sweep",
        ("sweep", str(CALIBRATION)),
        "this is a calibration file, not an experiment file",
    ),
    Case(
        "scenario to calibrate",
        ("calibrate", str(JUNE)),
        "this is a scenario file, not a calibration file",
    ),
    Case(
        "calibration prior low = nan",
        ("calibrate", "{d}/c.toml"),
        f"priors.government.enforcement.low: {FINITE}",
        {"c.toml": calibration("low = nan\nhigh = 0.5")},
    ),
]

SET_CASES = [
    Case(
        "--set nan",
        ("run", str(JUNE), "--set", "government.enforcement=nan"),
        f"--set: government.enforcement: {FINITE}",
    ),
    Case("--set -inf", ("run", str(JUNE), "--set", "us.audience_cost=-inf"), FINITE),
    Case(
        "--set int64 troops",
        ("run", str(JUNE), "--set", "sites.*.us_troops=9223372036854775807"),
        f"{AT_MOST} 200000",
    ),
    Case(
        "--set deep array",
        ("run", str(JUNE), "--set", "us.policy=" + "[" * 5000 + "]" * 5000),
        "--set us.policy: nested more than 32",
    ),
    Case(
        "--set without =",
        ("run", str(JUNE), "--set", "us.policy"),
        "--set: 'us.policy': expected PATH=VALUE",
    ),
    Case(
        "--set unknown field",
        ("run", str(JUNE), "--set", "us.nonsense=1"),
        "--set: us.nonsense: no such scenario field",
    ),
    Case(
        "--days 1e9", ("run", str(JUNE), "--days", "1e9"), "--days: Input should be a valid integer"
    ),
    Case(
        "--days 10^9 is blamed on --days",
        ("run", str(JUNE), "--days", "1000000000"),
        f"--days: horizon_days: {AT_MOST} 3650",
    ),
    Case(
        "--seed -1",
        ("run", str(JUNE), "--seed", "-1"),
        "--seed: Input should be greater than or equal to 0",
    ),
    Case("--seed 2^64", ("run", str(JUNE), "--seed", str(2**64)), f"--seed: {AT_MOST}"),
]

A_FILE = {"files": {"f": "x"}}
A_SWEEP = {"make": sweep_folder}
OTHER_FILES = {"files": {"notes.txt": "mine"}}
OUT_CASES = [
    out_case("run --out ''", "run", "", "--out: empty; give a folder"),
    out_case("sweep --out ' '", "sweep", " ", "--out: empty; give a folder"),
    out_case("run --out a file", "run", "{d}/f", "f: is a file, not a folder", **A_FILE),
    out_case("sweep --out a file", "sweep", "{d}/f", "f: is a file, not a folder", **A_FILE),
    out_case(
        "run --out /dev/null",
        "run",
        "/dev/null",
        "--out: /dev/null: is a character device, not a folder",
    ),
    out_case("sweep --out /dev/null", "sweep", "/dev/null", "is a character device, not a folder"),
    out_case(
        "run --out under a file",
        "run",
        "{d}/f/x",
        "f is a file, so no folder can be made in it",
        **A_FILE,
    ),
    out_case(
        "sweep --out under a file",
        "sweep",
        "{d}/f/x/y",
        "f is a file, so no folder can be made in it",
        **A_FILE,
    ),
    out_case(
        "run --out a sweep's table",
        "run",
        "{d}/sweep/runs.parquet",
        "runs.parquet, a table folder of a sweep",
        **A_SWEEP,
    ),
    out_case(
        "sweep --out in a sweep's table",
        "sweep",
        "{d}/sweep/runs.parquet/sub",
        "runs.parquet, a table folder of a sweep",
        **A_SWEEP,
    ),
    out_case(
        "run --force --out a sweep folder",
        "run",
        "{d}/sweep",
        "holds a sweep's results",
        "--force",
        **A_SWEEP,
    ),
    out_case(
        "sweep --force --out another sweep",
        "sweep",
        "{d}/sweep",
        "holds the files of a different sweep ('other'",
        "--force",
        **A_SWEEP,
    ),
    out_case(
        "run --out a non-empty folder",
        "run",
        "{d}",
        "not empty (holds notes.txt); pass --force",
        **OTHER_FILES,
    ),
    out_case(
        "sweep --out a non-empty folder",
        "sweep",
        "{d}",
        "not empty (holds notes.txt); pass --force",
        **OTHER_FILES,
    ),
]

FLAG_CASES = [
    Case(
        "--workers 1000",
        ("sweep", str(SMOKE), "--workers", "1000"),
        "--workers: 1000: more than 4 per CPU",
    ),
    Case(
        "--workers 0",
        ("sweep", str(SMOKE), "--workers", "0"),
        "--workers: Input should be greater than or equal to 1",
    ),
    Case(
        "--chunk-size 0",
        ("sweep", str(SMOKE), "--chunk-size", "0"),
        "--chunk-size: Input should be greater than",
    ),
    Case(
        "--dask malformed", ("sweep", str(SMOKE), "--out", "{d}/o", "--dask", "foo bar"), "--dask"
    ),
    Case("unknown option", ("run", str(JUNE), "--fast"), " run: No such option: --fast"),
    Case("missing argument", ("sweep",), " sweep: Missing argument"),
    Case("unknown command", ("frobnicate",), "No such command 'frobnicate'"),
    Case("--port 10^6", ("viz", str(JUNE), "--port", "1000000"), f"--port: {AT_MOST} 65535"),
    Case("status of /dev/null", ("status", "/dev/null"), "/dev/null/manifest.json"),
    Case("status of no sweep", ("status", "{d}"), "manifest.json: not found"),
    Case("plot of a file", ("plot", "{d}/f"), "f", {"f": "x"}),
    Case("report of no sweep", ("report", "{d}"), "not found; run `escalation sweep` first"),
]

CASES = SCENARIO_CASES + EXPERIMENT_CASES + SET_CASES + OUT_CASES + FLAG_CASES


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.lstat().st_size, path.lstat().st_mtime_ns)
        for path in root.rglob("*")
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_gives_one_line_and_writes_nothing(case, cli, tmp_path, monkeypatch):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name, text in case.files.items():
        (inputs / name).write_text(text, encoding="utf-8", errors="surrogateescape")
    if case.make:
        case.make(inputs)
    monkeypatch.chdir(tmp_path)  # a default output folder (out/NAME) would land here
    before = snapshot(tmp_path)
    result = cli(*(arg.format(d=inputs) for arg in case.args))
    assert result.exit_code == case.code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert case.expected in lines[0]
    assert "\x1b" not in result.output
    assert snapshot(tmp_path) == before


def test_a_utf8_byte_order_mark_is_skipped(cli, tmp_path):
    scenario = tmp_path / "bom.toml"
    scenario.write_bytes(b"\xef\xbb\xbf" + f'extends = "{JUNE}"\nname = "bom"\n'.encode())
    result = cli("check", scenario)
    assert (result.exit_code, result.output) == (0, f"ok: {scenario}\n")


def test_names_with_terminal_escapes_are_printed_escaped(cli, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'extends = "{JUNE}"\nname = "\\u001b]0;owned\\u0007\\n\\u202e"\n')
    result = cli("run", scenario, "--days", "2")
    assert result.exit_code == 0, result.output
    assert "\\x1b]0;owned\\x07\\n\\u202e (" in result.stdout  # and on one line
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout


def test_force_writes_into_a_folder_with_other_files(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = cli("run", JUNE, "--days", "2", "--out", tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt",
        "summary.json",
        "timeseries.csv",
    ]


def test_a_sweep_without_out_writes_under_out_not_results(cli, tmp_path, monkeypatch):
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(experiment(parameter('kind = "values"\nvalues = [0.2]'), name="tiny"))
    monkeypatch.chdir(tmp_path)
    result = cli("sweep", tiny, "--workers", "1", "--no-progress")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "tiny" / "manifest.json").is_file()
    assert not (tmp_path / "results").exists()
