"""The browser view: the page rendered headless with `solara.render` (components, controls,
Reset, the `escalation run` command it shows) and each figure checked against the model."""

import re
import shlex
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from conftest import JUNE

solara = pytest.importorskip("solara", reason="the viz extra is not installed")
v = pytest.importorskip("ipyvuetify")

from sim.ladder import Rung  # noqa: E402
from sim.model import CONVOYS  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.viz.app import Page, event_rows, model_params  # noqa: E402
from sim.viz.figures import (  # noqa: E402
    SUPPLY_ROUTE,
    attacks_figure,
    beliefs_figure,
    credibility_figure,
    ladder_figure,
    map_figure,
    posture_figure,
    shade_spans,
    weekly_counts,
)
from sim.viz.model import (  # noqa: E402
    SCENARIO_ENV,
    BrowserModel,
    Controls,
    default_controls,
    scenario_file,
    us_type_names,
)
from sim.viz.server import server_command, server_environment  # noqa: E402

SCENARIO = str(JUNE)


def controls(**changes) -> Controls:
    """The June 2020 scenario's own settings, with ``changes``."""
    return replace(default_controls(SCENARIO), **changes)


@dataclass
class Run:
    """A model stepped day by day, with what the US did each day read straight off the agent
    (independently of the page's own series)."""

    model: BrowserModel
    threat_live: list[bool]
    bluffs: list[int]
    host_pressure: list[bool]


def run(days: int, **changes) -> Run:
    model = BrowserModel.from_controls(controls(**changes))
    record = Run(model, [model.us.threat_live()], [0], [model.us.host_pressure_on()])
    for _ in range(days):
        model.step()
        record.threat_live.append(model.us.threat_live())
        record.bluffs.append(model.us.bluffs)
        record.host_pressure.append(model.us.host_pressure_on())
    return record


# Unrestrained militias and a US that threatens readily: many attacks, threats and pressure
# (seed 5: attacks on sites and convoys, attributed and not, before and in the last 40 days).
BUSY = {"same_restraint": True, "restraint": 0.0, "threat_prob": 0.3, "seed": 5}


@pytest.fixture(scope="module")
def bluffing() -> Run:
    """A US that never answers: its threats are bluffs."""
    return run(90, policy="never", **BUSY)


@pytest.fixture(scope="module")
def answering() -> Run:
    """The scenario's own US type: it answers some attacks (seed 7: some in the last 40 days)."""
    return run(90, **{**BUSY, "seed": 7})


def days_rising(counts: list[int]) -> list[int]:
    return [day for day in range(1, len(counts)) if counts[day] > counts[day - 1]]


def runs_of(flags: list[bool]) -> int:
    return sum(flag and (day == 0 or not flags[day - 1]) for day, flag in enumerate(flags))


def line(axes, label: str):
    """The line labelled ``label`` in ``axes``."""
    return next(item for item in axes.get_lines() if item.get_label() == label)


def with_gid(axes, gid: str) -> list:
    return [a for a in [*axes.collections, *axes.patches] if a.get_gid() == gid]


# --- the page ---------------------------------------------------------------------------------


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


def test_page_shows_the_state_and_every_panel(page):
    assert text_of(page, "escalation-day") == "Day 0"
    click(page, "Step", times=3)
    assert text_of(page, "escalation-day") == "Day 3"
    headline = [w.children[0] for w in page.find(class_="escalation-headline").widgets]
    assert any("true type disproportionate" in text for text in headline)
    assert "Day 3: system at rung" in figure_svg(page, "escalation-ladder")
    beliefs = figure_svg(page, "escalation-beliefs")
    assert "disproportionate (the true type)" in beliefs and 'id="belief-never"' in beliefs
    step_points = 2 * 4 - 1  # a step line through days 0-3
    assert line_points(beliefs, "chart-credibility") == step_points
    assert "US threat live" in figure_svg(page, "escalation-credibility")
    assert "Roadside bombs on supply convoys" in figure_svg(page, "escalation-attacks")
    assert "supply route" in figure_svg(page, "escalation-map")
    assert line_points(figure_svg(page, "escalation-posture"), "chart-troops") == step_points
    log = page.find(attributes={"class": "escalation-log"}).widget.unsafe_innerHTML
    assert log.count('class="escalation-event"') > 0 and "CAMEO event" in log


def test_reset_rebuilds_the_model_with_the_chosen_values(page):
    click(page, "Step", times=2)
    page.find(v.Select, label="US type (how the US really answers)").widget.v_model = "never"
    page.find(v.Slider, label="US threat probability").widget.v_model = 0.2
    page.find(v.Select, label="Attribution of attacks").widget.v_model = "perfect"
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
        "    --set us.threat_prob=0.2 \\\n"
        "    --set mechanisms.attribution=perfect \\\n"
        "    --set government.enforcement=0.55 \\\n"
        "    --set 'militias.*.restraint=0.8'"
    )
    headline = [w.children[0] for w in page.find(class_="escalation-headline").widgets]
    assert any("true type never" in text for text in headline)


def test_each_page_builds_its_own_model(monkeypatch):
    monkeypatch.setenv(SCENARIO_ENV, SCENARIO)
    _, first = solara.render(App(), handle_error=False)
    _, second = solara.render(App(), handle_error=False)
    click(first, "Step")
    assert text_of(first, "escalation-day") == "Day 1"
    assert text_of(second, "escalation-day") == "Day 0"
    first.close()
    second.close()


# --- controls and the command -----------------------------------------------------------------


def test_shown_command_reproduces_the_model(cli, tmp_path):
    chosen = controls(
        policy="escalation_dominance",
        enforcement=0.45,
        same_restraint=True,
        restraint=0.15,
        threat_prob=0.25,
        attribution="perfect",
        seed=11,
    )
    model = BrowserModel.from_controls(chosen)
    for _ in range(60):
        model.step()
    shown = model.datacollector.get_model_vars_dataframe()
    # The command the page shows, its line continuations (backslash-newline) removed as a
    # shell removes them.
    words = shlex.split(model.reproduce_command.replace("\\\n", ""))
    assert words[:2] == ["escalation", "run"]
    assert len([w for w in words if w == "--set"]) == 5  # every control was changed
    result = cli(*words[1:], "--out", tmp_path)
    assert result.exit_code == 0, result.output
    rerun = pd.read_csv(tmp_path / "timeseries.csv").head(len(shown))
    pd.testing.assert_frame_equal(rerun, shown.reset_index(drop=True), check_dtype=False)


def test_default_controls_leave_the_scenario_unchanged():
    defaults = default_controls(SCENARIO)
    assert defaults.overrides(load_scenario(SCENARIO)) == {}
    assert defaults.command({}) == f"escalation run {SCENARIO} --seed 0"
    assert BrowserModel.from_controls(defaults).reproduce_command == defaults.command({})
    assert defaults.same_restraint is False
    assert 0 <= defaults.restraint <= 1
    assert BrowserModel.from_controls(defaults).scenario.config == load_scenario(SCENARIO)


def test_us_types_on_offer_are_the_scenarios(tmp_path):
    hawk = (
        'name = "hawk"\nanswer_harassing = 0.5\nanswer_deadly = 1.0\nseverity = 0.9\n'
        "strikes_iranians = 0.9\nfollow_through = 1.0\nshow_of_force = 0.3\nyields = 0.0\n"
    )
    path = tmp_path / "hawk.toml"
    path.write_text(f'extends = "{JUNE}"\n[us]\npolicy = "hawk"\n[[us_types]]\n{hawk}')
    defaults = default_controls(str(path))
    params = model_params(defaults)
    names = us_type_names(load_scenario(path))
    assert names[-1] == "hawk" and len(names) == len(load_scenario(JUNE).us_types) + 1
    assert params["policy"]["values"] == names
    assert params["policy"]["value"] == "hawk"
    assert params["attribution"]["values"] == ["uncertain", "perfect"]  # v2 first, then v1
    legend = beliefs_figure(BrowserModel.from_controls(defaults)).legends[0]
    assert "hawk (the true type)" in [t.get_text() for t in legend.get_texts()]


# --- the figures ------------------------------------------------------------------------------


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


def test_beliefs_stack_irans_posterior_under_its_credibility(answering):
    model = answering.model
    series = model.datacollector.get_model_vars_dataframe()
    figure = beliefs_figure(model)
    axes = figure.axes[0]
    names = us_type_names(model.scenario.config)
    areas = [with_gid(axes, f"belief-{name}")[0] for name in names]
    tops = np.cumsum([series[f"belief:{name}"] for name in names], axis=0)[-1]
    assert tops == pytest.approx(1.0)  # the stack fills the chart: a posterior
    top_edge = areas[-1].get_paths()[0].vertices[:, 1].max()
    assert top_edge == pytest.approx(1.0)
    credibility = line(figure.axes[0], "US credibility: chance it backs a threat")
    assert list(credibility.get_ydata()) == pytest.approx(list(series["us_credibility"]))
    assert credibility.get_ydata()[-1] == pytest.approx(model.iran.belief.credibility)


def test_beliefs_show_the_us_moves_observers_learn_from(answering, bluffing):
    def marked(model, row):
        moves = beliefs_figure(model).axes[1]
        return sorted(int(x) for x in with_gid(moves, f"moves-{row}")[0].get_offsets()[:, 0])

    answered = sorted({a.day for a in answering.model.attacks if a.answered})
    assert answered  # the test needs answers to show
    assert marked(answering.model, "strikes-back") == answered
    bluffs = days_rising(bluffing.bluffs)
    assert bluffs  # ... and bluffs
    assert marked(bluffing.model, "bluff") == bluffs
    assert marked(bluffing.model, "strikes-back") == []  # a US that never answers


def test_credibility_per_observer_with_threats_and_bluffs(bluffing):
    model = bluffing.model
    figure = credibility_figure(model)
    axes = figure.axes[0]
    assert line(figure.axes[0], "US credibility for Iran").get_ydata()[-1] == pytest.approx(
        model.iran.belief.credibility
    )
    for group in model.militias:
        shown = line(figure.axes[0], f"... for {group.name}").get_ydata()[-1]
        assert shown == pytest.approx(group.belief.credibility)
    government = line(figure.axes[0], "Government credibility").get_ydata()
    assert government[-1] == pytest.approx(model.government.credibility)
    threat_spans = [p for p in axes.patches if p.get_label() == "US threat live"]
    assert runs_of(bluffing.threat_live) > 0  # the test needs threats
    assert len(threat_spans) == runs_of(bluffing.threat_live)
    bluffs = next(c for c in axes.collections if c.get_label().startswith("Bluff"))
    assert [int(x) for x in bluffs.get_offsets()[:, 0]] == days_rising(bluffing.bluffs)


def test_attacks_per_week_by_mode_hatch_the_unattributed(answering):
    model = answering.model
    attacks = model.attacks
    assert {a.attributed for a in attacks} == {True, False}  # the test needs both
    axes = attacks_figure(model).axes[0]
    for mode in {a.mode for a in attacks}:
        for attributed, kind in ((True, "attributed"), (False, "unattributed")):
            bars = with_gid(axes, f"bars-{mode}-{kind}")
            expected = sum(a.mode == mode and a.attributed == attributed for a in attacks)
            assert sum(bar.get_height() for bar in bars) == expected
            assert all(bool(bar.get_hatch()) != attributed for bar in bars)
    answered_weeks = {(a.day - 1) // 7 for a in attacks if a.answered}
    marks = with_gid(axes, "marks-answered")[0].get_offsets()[:, 0]
    assert sorted((int(x) - 4) // 7 for x in marks) == sorted(answered_weeks)


def test_weekly_counts_count_every_attack_in_its_week(bluffing):
    model = bluffing.model
    weeks = (model.day - 1) // 7 + 1
    counts = weekly_counts(model.attacks, weeks, lambda a: a.attacker)
    assert sum(map(sum, counts.values())) == len(model.attacks)
    for name, per_week in counts.items():
        for week, count in enumerate(per_week):
            days = range(7 * week + 1, 7 * week + 8)
            assert count == sum(a.attacker == name and a.day in days for a in model.attacks)


def distance_to_route(x: float, y: float) -> float:
    """Shortest distance (degrees) from a point to the supply route."""
    best = np.inf
    for (x0, y0), (x1, y1) in pairwise(SUPPLY_ROUTE):
        segment, point = np.array([x1 - x0, y1 - y0]), np.array([x - x0, y - y0])
        t = np.clip(point @ segment / (segment @ segment), 0, 1)
        best = min(best, float(np.hypot(*(point - t * segment))))
    return best


def test_map_marks_recent_attacks_by_attribution_and_mode(bluffing, answering):
    model = bluffing.model
    days = 40
    recent = [a for a in model.attacks if a.day > model.day - days]
    assert 0 < len(recent) < len(model.attacks)  # the test needs older attacks to leave out
    assert {a.target == CONVOYS for a in recent} == {True, False}  # ... convoys and sites
    assert {a.attributed for a in recent} == {True, False}  # ... and both kinds of attribution
    axes = map_figure(model, recent_days=days).axes[0]
    marks = [with_gid(axes, f"attack-{n}")[0] for n in range(len(recent))]
    assert not with_gid(axes, f"attack-{len(recent)}")
    for attack, mark in zip(recent, marks, strict=True):
        hollow = tuple(mark.get_facecolor()[0]) == (1.0, 1.0, 1.0, 1.0)
        assert hollow != attack.attributed
        on_route = distance_to_route(*mark.get_offsets()[0]) < 1e-9
        assert on_route == (attack.target == CONVOYS)
    answered = answering.model
    recent = [a for a in answered.attacks if a.day > answered.day - days]
    axes = map_figure(answered, recent_days=days).axes[0]
    rings = [n for n, a in enumerate(recent) if with_gid(axes, f"answered-{n}")]
    assert rings == [n for n, a in enumerate(recent) if a.answered] != []


def test_posture_shows_troops_preference_and_force_protection(bluffing):
    model = bluffing.model
    series = model.datacollector.get_model_vars_dataframe()
    figure = posture_figure(model)
    assert list(line(figure.axes[0], "US troops").get_ydata()) == list(series["troops"])
    preferred = line(figure.axes[0], "Troops the US prefers").get_ydata()
    assert list(preferred) == list(series["preferred_troops"])
    protection = line(figure.axes[1], "Force protection (right axis)").get_ydata()
    assert list(protection) == pytest.approx(list(series["force_protection"]))
    pressed = [p for p in figure.axes[0].patches if p.get_label().startswith("US pressing")]
    assert runs_of(bluffing.host_pressure) > 0  # the test needs pressure on Baghdad
    assert len(pressed) == runs_of(bluffing.host_pressure)


def test_spans_shade_each_run_of_days():
    figure = posture_figure(BrowserModel.from_controls(default_controls(SCENARIO)))
    axes = figure.axes[0]
    before = len(axes.patches)
    days = pd.Series(range(7))
    shade_spans(axes, days, pd.Series([False, True, True, False, False, True, True]), label="x")
    spans = (
        [p.get_x() for p in axes.patches[before:]],
        [p.get_width() for p in axes.patches[before:]],
    )
    assert spans == ([0.5, 4.5], [2.0, 2.0])


def test_event_log_gives_each_move_its_cameo_code(bluffing):
    model = bluffing.model
    rows = event_rows(model, lines=len(model.event_log))
    assert len(rows) == len(model.event_log)
    for (day, actor, text), (when, shown_actor, move, cameo) in zip(
        reversed(model.event_log), rows, strict=True
    ):
        assert when.startswith(f"{day} (") and shown_actor == actor
        tagged = re.search(r"\[CAMEO (\w+)\]$", text)
        assert "[CAMEO" not in move
        assert cameo.split(" ")[0] == (tagged.group(1) if tagged else "")
    assert any(cameo.startswith("138 Threaten") for *_, cameo in rows)  # the US threatened
    assert len(event_rows(model)) == 20


# --- serving ----------------------------------------------------------------------------------


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
