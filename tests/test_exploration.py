"""The exploratory commands end to end on small sweeps made by the real runner: `plot` and
`report` of a Morris design, `discover`, `robust`, `compare`; byte-stable outputs, bad input."""

import hashlib
from pathlib import Path

import pytest
from conftest import JUNE

from sim.runner import RunOptions, run_experiment

POLICIES = f"""
name = "fixture_policies"
scenario = "{JUNE}"
seed = 21
replicates = 3
horizon_days = 90
common_random_numbers = true
outcomes = ["redline_crossed", "n_attacks", "max_rung", "drawdown_day", "us_killed"]

[design]
kind = "lhs"
samples = 4

[parameters."militias.*.restraint"]
kind = "uniform"
low = 0.05
high = 0.9

[levers."us.policy"]
kind = "categorical"
values = ["never", "escalation_dominance"]

[variants.v2]

[variants.perfect_attribution]
"mechanisms.attribution" = "perfect"
"""
MORRIS = f"""
name = "fixture_morris"
scenario = "{JUNE}"
seed = 22
replicates = 2
horizon_days = 60
common_random_numbers = true
outcomes = ["redline_crossed", "n_attacks", "drawdown_day", "us_killed"]

[design]
kind = "morris"
samples = 4

[parameters."militias.*.restraint"]
kind = "uniform"
low = 0.05
high = 0.9

[parameters."militia_rules.harass_odds"]
kind = "uniform"
low = 0.005
high = 0.05

[parameters."us.threat_prob"]
kind = "uniform"
low = 0.0
high = 0.5
"""


def sweep(root: Path, text: str) -> Path:
    (root / "x.toml").write_text(text)
    run_experiment(root / "x.toml", root / "out", RunOptions(progress=False))
    return root / "out"


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("policies"), POLICIES)


@pytest.fixture(scope="module")
def morris(tmp_path_factory) -> Path:
    return sweep(tmp_path_factory.mktemp("morris"), MORRIS)


def digests(paths: list[Path]) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def written(output: str) -> list[Path]:
    return [Path(line.removeprefix("wrote ")) for line in output.splitlines()]


def test_morris_plot_and_report_rank_the_factors(cli, morris):
    result = cli("plot", morris)
    assert result.exit_code == 0, result.output
    first = digests(written(result.output))
    assert sorted(first) == ["morris.csv", "morris.pdf", "morris.png", "morris.txt"]
    assert digests(written(cli("plot", morris).output)) == first  # byte for byte
    caption = (morris / "figures" / "morris.txt").read_text()
    assert "4 trajectories over 3 factors" in caption and "seed-noise floor" in caption
    assert cli("report", morris).exit_code == 0
    report = (morris / "report.md").read_text()
    assert "## Screening (Morris elementary effects)" in report
    assert "| rank | label | parameter | mu_star |" in report
    assert "Militia restraint" in report  # human labels next to the field paths
    assert cli("plot", morris, "--by", "us.threat_prob").exit_code == 2


def test_discover_writes_prim_and_cart_and_the_report_includes_them(cli, policies):
    result = cli("discover", policies, "--where", "n_attacks >= 3", "--min-coverage", "0.3")
    assert result.exit_code == 0, result.output
    paths = written(result.output)
    folder = policies / "analyses" / "discover-n_attacks_ge_3"
    assert {p.name for p in paths} >= {"prim.png", "prim.csv", "cart.pdf", "section.md"}
    assert all(p.parent == folder for p in paths)
    again = cli("discover", policies, "--where", "n_attacks >= 3", "--min-coverage", "0.3")
    assert digests(written(again.output)) == digests(paths)  # byte-identical on re-running
    section = (folder / "section.md").read_text()
    assert section.startswith("## Scenario discovery: `n_attacks >= 3`")
    assert "quasi-p-values" in section
    assert cli("report", policies).exit_code == 0
    assert "## Scenario discovery" in (policies / "report.md").read_text()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("n_attacks >=", "error: --where: 'n_attacks >=': invalid syntax"),
        ("redline", "error: --where: 'redline': unknown outcome or parameter 'redline'"),
        ("us_killed", "error: --where: 'us_killed': us_killed is not true or false"),
    ],
)
def test_bad_where_exits_2_with_one_line_and_writes_nothing(cli, policies, where, message):
    result = cli("discover", policies, "--where", where, "--name", "bad")
    assert result.exit_code == 2
    assert result.output.startswith(message) and result.output.count("\n") == 1
    assert not (policies / "analyses" / "discover-bad").exists()


def test_robust_reports_regret_and_satisficing(cli, policies):
    result = cli(
        "robust", policies, "--outcome", "redline_crossed", "--goal", "min", "--threshold", "0.5"
    )
    assert result.exit_code == 0, result.output
    folder = policies / "analyses" / "robust-redline_crossed"
    summary = (folder / "robust.csv").read_text().splitlines()
    assert summary[0].startswith("policy,worlds,outcome_mean")
    assert len(summary) == 1 + 2  # two candidate policies
    assert "satisficing_share" in summary[0]
    regret = (folder / "regret.csv").read_text().splitlines()
    assert regret[0].startswith("policy,v2/0,v2/1")  # a world is (variant, design point)
    assert "Minimax regret" in (folder / "section.md").read_text()
    bad = cli("robust", policies, "--outcome", "redline_crossed", "--goal", "best")
    assert bad.exit_code == 2 and bad.output == "error: --goal: best: must be one of min, max\n"
    unknown = cli("robust", policies, "--outcome", "killed", "--goal", "min")
    assert unknown.exit_code == 2 and "unknown outcome or parameter 'killed'" in unknown.output


def test_compare_tells_which_conclusions_hold_in_every_variant(cli, policies):
    result = cli("compare", policies, "--outcome", "n_attacks", "--outcome", "max_rung >= 7")
    assert result.exit_code == 0, result.output
    folder = policies / "analyses" / "compare-n_attacks_max_rung_ge_7"
    table = (folder / "conclusions.csv").read_text().splitlines()
    assert table[0].startswith("outcome,conclusion,estimate,low,high,sign[v2],")
    assert "holds_in_every_variant" in table[0]
    assert "paired by world and replicate" in (folder / "section.md").read_text()
    first = digests(written(result.output))
    again = cli("compare", policies, "--outcome", "n_attacks", "--outcome", "max_rung >= 7")
    assert digests(written(again.output)) == first
    bad = cli("compare", policies, "--outcome", "n_attacks", "--reference", "sometimes")
    assert bad.exit_code == 2 and bad.output.startswith("error: --reference: sometimes: not a")
