"""The browser view rendered headless with `solara.render`: components, controls, Reset, and the
`escalation run` command the page shows."""

import re
import shlex

import pandas as pd
import pytest
from conftest import JUNE

solara = pytest.importorskip("solara", reason="the viz extra is not installed")
v = pytest.importorskip("ipyvuetify")

from sim.ladder import Rung  # noqa: E402
from sim.viz.app import Page  # noqa: E402
from sim.viz.figures import ladder_figure, map_figure, weekly_attacks  # noqa: E402
from sim.viz.model import (  # noqa: E402
    SCENARIO_ENV,
    BrowserModel,
    Controls,
    default_controls,
    scenario_file,
)
from sim.viz.server import server_command, server_environment  # noqa: E402

SCENARIO = str(JUNE)


@solara.component
def App():
    """The page inside the app layout, as `solara run` serves it (the sidebar needs it)."""
    with solara.AppLayout():
        Page()


@pytest.fixture
def page(monkeypatch):
    """A rendered page on the June 2020 scenario."""
    monkeypatch.setenv(SCENARIO_ENV, SCENARIO)
    _, rc = solara.render(App(), handle_error=False)
    yield rc
    rc.close()


def text_of(rc, css_class: str) -> str:
    return rc.find(class_=css_class).widget.children[0]


def figure_svg(rc, name: str) -> str:
    return rc.find(attributes={"class": f"escalation-figure {name}"}).widget.unsafe_innerHTML


def line_points(svg: str, gid: str) -> int:
    """Vertices of the line drawn with matplotlib ``gid`` in an SVG."""
    group = svg[svg.index(f'id="{gid}"') :]
    path = re.search(r'\sd="([^"]*)"', group).group(1)
    return len(re.findall(r"[ML]", path))


def click(rc, label: str, times: int = 1) -> None:
    button = rc.find(v.Btn, children=[label])
    for _ in range(times):
        button.widget.click()


def test_page_shows_day_ladder_map_charts_and_log(page):
    assert text_of(page, "escalation-day") == "Day 0"
    click(page, "Step", times=3)
    assert text_of(page, "escalation-day") == "Day 3"
    assert "Day 3: system at rung" in figure_svg(page, "escalation-ladder")
    assert "Green Zone / US Embassy" in figure_svg(page, "escalation-map")
    assert line_points(figure_svg(page, "escalation-troops"), "chart-troops") == 4  # days 0-3
    assert line_points(figure_svg(page, "escalation-beliefs"), "chart-resolve") == 4
    assert "US red line" in figure_svg(page, "escalation-rung")
    assert "Attacks per week" in figure_svg(page, "escalation-attacks")
    events = [w.children[0] for w in page.find(class_="escalation-event").widgets]
    assert events and all(line.startswith("Day ") for line in events)


def test_reset_rebuilds_the_model_with_the_chosen_values(page):
    click(page, "Step", times=2)
    page.find(v.Select, label="US retaliation policy").widget.v_model = "never"
    page.find(v.Slider, label="Government enforcement").widget.v_model = 0.55
    page.find(v.Checkbox, label="Same restraint for every militia").widget.v_model = True
    page.find(v.Slider, label="Militia restraint (when the same)").widget.v_model = 0.8
    page.find(v.Slider, label="Seed").widget.v_model = 42
    assert text_of(page, "escalation-day") == "Day 2"  # controls act only on Reset
    click(page, "Reset")
    assert text_of(page, "escalation-day") == "Day 0"
    assert text_of(page, "escalation-command") == (
        f"escalation run {scenario_file()} --seed 42 \\\n"
        "    --set us.policy=never \\\n"
        "    --set 'militias.*.restraint=0.8' \\\n"
        "    --set government.enforcement=0.55"
    )


def test_each_page_builds_its_own_model(monkeypatch):
    monkeypatch.setenv(SCENARIO_ENV, SCENARIO)
    _, first = solara.render(App(), handle_error=False)
    _, second = solara.render(App(), handle_error=False)
    click(first, "Step")
    assert text_of(first, "escalation-day") == "Day 1"
    assert text_of(second, "escalation-day") == "Day 0"
    first.close()
    second.close()


def test_shown_command_reproduces_the_model(cli, tmp_path):
    controls = Controls(SCENARIO, "disproportionate", 0.45, True, 0.15, seed=11)
    model = BrowserModel.from_controls(controls)
    for _ in range(60):
        model.step()
    shown = model.datacollector.get_model_vars_dataframe()
    words = shlex.split(controls.command())
    assert words[:2] == ["escalation", "run"]
    result = cli(*words[1:], "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rerun = pd.read_csv(tmp_path / "timeseries.csv").head(len(shown))
    pd.testing.assert_frame_equal(rerun, shown.reset_index(drop=True), check_dtype=False)


def test_default_controls_leave_the_scenario_unchanged():
    controls = default_controls(SCENARIO)
    assert controls.overrides() == {"us.policy": "proportionate", "government.enforcement": 0.3}
    assert controls.same_restraint is False
    assert 0 <= controls.restraint <= 1


def test_ladder_marks_each_actor_on_its_rung_and_the_red_lines():
    model = BrowserModel.from_controls(default_controls(SCENARIO))
    model.iran.rung = Rung.STRIKES_ON_IRANIANS
    model.us.rung = Rung.STRIKES_ON_MILITIAS
    figure = ladder_figure(model)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend[:3] == ["Iran (9)", "US (8)", "Government (0)"]
    assert len(legend) == 3 + len(model.scenario.config.militias)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert "US red line" in texts and "Iran red line" in texts


def test_map_marks_only_the_attacks_of_the_last_days():
    model = BrowserModel.from_controls(
        Controls(SCENARIO, "never", 0.0, True, 0.0, seed=5)  # no restraint: many attacks
    )
    for _ in range(40):
        model.step()
    recent = [a for a in model.attacks if a.day > model.day - 14]
    assert len(recent) < len(model.attacks)  # the test needs older attacks to leave out
    axes = map_figure(model, recent_days=14).axes[0]
    marks = [c for c in axes.collections if (c.get_gid() or "").startswith("attack-")]
    assert len(marks) == len(recent)


def test_weekly_attacks_count_every_attack_in_its_week():
    model = BrowserModel.from_controls(Controls(SCENARIO, "never", 0.0, True, 0.0, seed=5))
    for _ in range(30):
        model.step()
    counts = weekly_attacks(model)
    assert sum(map(sum, counts.values())) == len(model.attacks)
    for name, per_week in counts.items():
        for week, count in enumerate(per_week):
            days = range(7 * week + 1, 7 * week + 8)
            assert count == sum(a.attacker == name and a.day in days for a in model.attacks)


def test_viz_rejects_a_bad_scenario_with_one_line(cli, tmp_path):
    result = cli("viz", tmp_path / "missing.toml")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'missing.toml'}: file not found"


def test_server_listens_on_loopback_and_serves_assets_locally(tmp_path):
    command = server_command("127.0.0.1", 8765)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert {"--production", "--no-check-version"} <= set(command)
    env = server_environment(tmp_path / "s.toml")
    assert env["SOLARA_ASSETS_PROXY"] == "True"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env[SCENARIO_ENV] == str(tmp_path / "s.toml")
