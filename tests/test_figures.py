"""Figures and report from small fixture sweeps made by the real runner."""

import hashlib
import struct
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import JUNE

from sim.analysis import FigurePlan, SweepResults, load_results, plan_figures
from sim.figures import (
    DOUBLE_COLUMN,
    PNG_DPI,
    SINGLE_COLUMN,
    STYLE,
    attacks_panel,
    fan_panel,
    heatmap_panel,
    plot_sweep,
    survival_panel,
)
from sim.report import write_report
from sim.runner import RunOptions, run_experiment

GRID = f"""
name = "fixture_grid"
scenario = "{JUNE}"
seed = 11
replicates = 2
horizon_days = 150
series = ["system_rung"]

[design]
kind = "grid"

[parameters."us.policy"]
kind = "categorical"
values = ["never", "proportionate"]

[parameters."militias.*.restraint"]
kind = "values"
values = [0.2, 0.6]

[parameters."government.enforcement"]
kind = "values"
values = [0.1, 0.7]
"""
SOBOL = f"""
name = "fixture_sobol"
scenario = "{JUNE}"
seed = 12
replicates = 1
horizon_days = 90
outcomes = ["redline_crossed", "drawdown_day", "us_killed"]

[design]
kind = "sobol"
samples = 8

[parameters."militia_rules.harass_odds"]
kind = "uniform"
low = 0.005
high = 0.05

[parameters."government.enforcement"]
kind = "uniform"
low = 0.0
high = 0.8
"""


def sweep_folder(root: Path, name: str, text: str) -> Path:
    experiment = root / f"{name}.toml"
    experiment.write_text(text)
    run_experiment(experiment, root / name, RunOptions(progress=False))
    return root / name


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    return sweep_folder(tmp_path_factory.mktemp("grid"), "grid", GRID)


@pytest.fixture(scope="module")
def sobol(tmp_path_factory) -> Path:
    return sweep_folder(tmp_path_factory.mktemp("sobol"), "sobol", SOBOL)


@pytest.fixture(scope="module")
def written(grid) -> list[Path]:
    """The files a first `plot` of the grid sweep wrote."""
    return plot_sweep(grid)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def png_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    data, chunks, at = path.read_bytes(), [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def test_grid_sweep_gets_survival_fan_heatmap_and_attack_figures(grid, written):
    names = sorted({path.stem for path in written})
    assert names == ["attacks", "fan", "heatmap", "survival"]  # no Sobol for a grid
    for name in names:
        for suffix in (".pdf", ".png", ".txt", ".csv"):
            assert (grid / "figures" / f"{name}{suffix}").stat().st_size > 0
        assert (grid / "figures" / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    caption = (grid / "figures" / "survival.txt").read_text()
    assert "Experiment: fixture_grid" in caption
    assert "Runs: 16 in the sweep, 16 ok, 0 failed" in caption
    assert "Kaplan-Meier" in caption and "Log-rank" in caption and "us.policy" in caption
    heat = (grid / "figures" / "heatmap.txt").read_text()
    assert "Militia restraint (militias.*.restraint, x) and Government enforcement" in heat


def test_figures_have_journal_widths(grid, written):
    widths = {}
    for name in ("survival", "heatmap"):
        header = dict(png_chunks(grid / "figures" / f"{name}.png"))[b"IHDR"]
        widths[name] = struct.unpack(">I", header[:4])[0]
    assert widths == {
        "survival": round(SINGLE_COLUMN * PNG_DPI),
        "heatmap": round(DOUBLE_COLUMN * PNG_DPI),
    }


def test_plot_twice_gives_identical_bytes_and_no_dates(grid, written):
    first = digests(grid / "figures")
    assert plot_sweep(grid) == written
    assert digests(grid / "figures") == first
    pdf = (grid / "figures" / "fan.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"ModDate" not in pdf and b"Matplotlib" not in pdf
    chunk_types = {kind for kind, _ in png_chunks(grid / "figures" / "fan.png")}
    assert chunk_types == {b"IHDR", b"pHYs", b"IDAT", b"IEND"}  # no tEXt (Software), no tIME


def test_sobol_design_gets_sobol_figure_and_table(sobol):
    written = plot_sweep(sobol)
    assert "sobol" in {path.stem for path in written}
    assert "fan" not in {path.stem for path in written}  # no series recorded
    table = (sobol / "figures" / "sobol.csv").read_text().splitlines()
    assert table[0] == (
        "outcome,parameter,base_rows,first_order,first_low,first_high,total_order,total_low,"
        "total_high,first_order_half,total_order_half,first_sum_low,first_sum_high"
    )
    assert len(table) == 1 + 3 * 2  # three outcomes x two parameters
    caption = (sobol / "figures" / "sobol.txt").read_text()
    assert "percentile-bootstrap" in caption and "seed noise removed" in caption
    assert "seed noise measured" in caption  # one replicate per point: that check fails


def test_report_holds_the_tables(grid, written, sobol):
    text = write_report(grid).read_text()
    assert text.startswith("# fixture_grid")
    assert "![survival](figures/survival.png)" in text
    assert "| level | runs | drawdowns | median_day | median_low | median_high |" in text
    assert "| level_a | level_b | statistic | p_value | p_bonferroni |" in text
    assert "## Attacks by site and by group" in text
    sensitivity = write_report(sobol).read_text()
    assert "## Global sensitivity" in sensitivity
    assert "## Escalation over time" not in sensitivity  # no series recorded


@pytest.mark.slow
def test_cli_plot_and_report_say_what_they_wrote(cli, grid):
    result = cli("plot", grid, "--by", "government.enforcement")
    assert result.exit_code == 0, result.output
    assert f"wrote {grid / 'figures' / 'survival.pdf'}" in result.output
    assert "government.enforcement" in (grid / "figures" / "survival.txt").read_text()
    result = cli("report", grid)
    assert result.exit_code == 0
    assert result.output == f"wrote {grid / 'report.md'}\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["plot", "{tmp}/absent"], "error: {tmp}/absent: no such folder\n"),
        (["plot", "{tmp}"], "error: {tmp}/runs.parquet: not found; run `escalation sweep` first\n"),
        (
            ["report", "{tmp}"],
            "error: {tmp}/runs.parquet: not found; run `escalation sweep` first\n",
        ),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(cli, tmp_path, arguments, message):
    result = cli(*(a.format(tmp=tmp_path) for a in arguments))
    assert result.exit_code == 2
    assert result.output == message.format(tmp=tmp_path)
    assert not (tmp_path / "figures").exists()


@pytest.mark.slow
def test_cli_unknown_parameter_is_bad_input(cli, grid):
    result = cli("plot", grid, "--by", "us.polcy")
    assert result.exit_code == 2
    assert result.output.startswith("error: --by: us.polcy: not a swept parameter")


def test_survival_axis_ends_where_the_data_end():
    runs = pd.DataFrame(
        {"run_id": range(4), "status": "ok", "drawdown_day": [10.0, 20.0, 30.0, 40.0]}
    )
    sweep = SweepResults(Path("x"), runs, None, {"name": "t", "horizon_days": 365}, [])
    plan = FigurePlan(None, None, (), survival=True, fan=False, attacks=False)
    with plt.style.context(STYLE, after_reset=True):
        panel = survival_panel(sweep, plan)
    assert panel.figure.axes[0].get_xlim() == (0.0, 40.0)  # not the 365-day horizon
    plt.close(panel.figure)


def test_legends_sit_outside_the_data_and_labels_are_words(grid):
    sweep = load_results(grid)
    plan = plan_figures(sweep)
    with plt.style.context(STYLE, after_reset=True):
        attacks, fan = attacks_panel(sweep, plan), fan_panel(sweep, plan)
    for panel in (attacks, fan):
        assert panel.figure.legends and all(a.get_legend() is None for a in panel.figure.axes)
        plt.close(panel.figure)
    assert attacks.figure.legends[0].get_title().get_text() == "US policy (true type)"
    entries = [text.get_text() for text in attacks.figure.legends[0].get_texts()]
    assert entries == ["Never", "Proportionate"]


def test_categorical_heat_map_axis_follows_the_declared_order(grid):
    sweep = load_results(grid)
    plan = plan_figures(sweep, heat=["us.policy", "government.enforcement"])
    with plt.style.context(STYLE, after_reset=True):
        panel = heatmap_panel(sweep, plan)
    axis = panel.figure.axes[0]
    assert [t.get_text() for t in axis.get_xticklabels()] == ["Never", "Proportionate"]
    assert axis.get_xlabel() == "US policy (true type)"
    plt.close(panel.figure)


def test_report_after_plot_by_describes_the_figure_it_embeds(grid):
    plot_sweep(grid, by="government.enforcement")
    text = write_report(grid).read_text()
    assert "![survival](figures/survival.png)" in text
    assert "Log-rank tests between levels of Government enforcement" in text
    other = write_report(grid, by="us.policy").read_text()
    assert "![survival]" not in other
    assert "escalation plot" in other and "--by 'us.policy'" in other
    plot_sweep(grid)  # as the other tests expect it
