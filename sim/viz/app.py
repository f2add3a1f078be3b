"""Browser view of one run: `escalation viz [SCENARIO]`, or `solara run sim/viz/app.py`.

A Mesa `SolaraViz` page with the run's state in words, the escalation ladder, Iran's belief over
the US types, the credibility of US threats, attacks per week by mode, a schematic map, the US
posture, the event log with CAMEO codes and the `escalation run` command that reproduces what
is shown. Each browser session builds its own model (inside the `Page` component), so tabs
never share one.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import matplotlib
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.ladder import MOVE_INFO
from sim.scenario import load_scenario
from sim.viz.figures import (
    attack_summary,
    attacks_figure,
    beliefs_figure,
    credibility_figure,
    ladder_figure,
    map_figure,
    mode_name,
    plural,
    posture_figure,
    type_label,
)
from sim.viz.model import (
    SEED_MAX,
    BrowserModel,
    Controls,
    default_controls,
    mechanism_settings,
    scenario_file,
    us_type_names,
)

EVENT_LOG_LINES = 20
CAMEO_TAG = re.compile(r"\s*\[CAMEO (\w+)\]$")  # how `EscalationModel.record_move` tags a move
#: CAMEO event codes in words, for the event log's tooltips (from the moves' codes).
CAMEO_NAMES = {info.cameo.split()[0]: info.cameo for info in MOVE_INFO.values()}
PAGE_CSS = """
.escalation-figure, .escalation-figure svg { width: 100%; height: 100%; }
.escalation-card { height: 100%; overflow: auto; }
.escalation-command { overflow-x: auto; }
.escalation-log { border-collapse: collapse; font-size: 0.85em; width: 100%; }
.escalation-log td, .escalation-log th { padding: 1px 6px; text-align: left; vertical-align: top; }
.escalation-log td:first-child { white-space: nowrap; }
.escalation-log td:last-child { font-size: 0.9em; opacity: 0.75; }
.escalation-log tr:nth-child(even) { background: rgba(127, 127, 127, 0.08); }
"""


def InlineSvg(figure: Figure, name: str):
    """A figure as inline SVG, text kept as text (fast to draw, readable in the page)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    solara.HTML(
        tag="div", unsafe_innerHTML=svg[svg.index("<svg") :], classes=["escalation-figure", name]
    )


def figure_view(draw: Callable[[BrowserModel], Figure], name: str) -> Callable:
    """A page component that shows ``draw(model)`` as inline SVG with CSS class ``name``."""

    def view(model: BrowserModel):
        InlineSvg(draw(model), name)

    view.__name__ = view.__qualname__ = draw.__name__.removesuffix("_figure").title()
    view.__doc__ = draw.__doc__
    return view


def Status(model: BrowserModel):
    """Today's date, the state of the run in words and the command that reproduces it."""
    with solara.Card("Run", classes=["escalation-card"]):
        solara.Text(f"Day {model.day}", classes=["escalation-day"])
        solara.Text(f" · {model.date:%d %B %Y} · {model.scenario.config.name}")
        for line in headline(model):
            solara.Div(children=[line], classes=["escalation-headline"])
        solara.Text("Reproduce with:")
        solara.Preformatted(model.reproduce_command, class_="escalation-command")


def headline(model: BrowserModel) -> list[str]:
    """Today's state in a few lines (plain text: Markdown would fetch KaTeX from a CDN)."""
    us, iran = model.us, model.iran
    belief = iran.belief
    likeliest = max(zip(belief.p, belief.types, strict=True), key=lambda pair: pair[0])
    attacks = model.attacks
    modes = Counter(a.mode for a in attacks)
    by_mode = ", ".join(f"{mode_name(mode)} {count}" for mode, count in modes.most_common())
    return [
        f"System rung {int(model.system_rung)}: {model.system_rung.label}",
        f"Attacks {len(attacks)}"
        + (f" ({by_mode})" if attacks else "")
        + f": {attack_summary(model)}",
        f"Iran's belief: US most likely {type_label(likeliest[1].name)} ({likeliest[0]:.2f}); "
        f"true type {type_label(us.type.name)}",
        f"US credibility {belief.credibility:.2f}, resolve {belief.resolve:.2f}; "
        f"{plural(us.threats, 'threat')}, {plural(us.bluffs, 'bluff')}"
        + (f"; threat live until day {us.threat_until}" if us.threat_live() else ""),
        f"US troops {round(model.troops):,} at {model.bases} sites, preferred "
        f"{round(us.preferred_troops()):,}; force protection {us.force_protection:.2f}"
        + ("; full withdrawal announced" if us.committed else ""),
        f"Iran's ceiling for proxies: {iran.ceiling.label}"
        + (f"; truce until day {model.truce_until}" if model.truce_active() else ""),
        government_line(model),
    ]


def government_line(model: BrowserModel) -> str:
    """The Iraqi government in one line."""
    government = model.government
    if government.fallen:
        return f"Government fell on day {model.government_fell_day}"
    line = (
        f"Government credibility {government.credibility:.2f}, "
        f"{plural(government.raids, 'raid')} ({government.failed_raids} failed)"
    )
    if government.demanded_withdrawal:
        line += "; demands a US withdrawal timetable"
    if model.us.host_pressure_on():
        line += f"; pressed by the US until day {model.us.host_pressure_until}"
    return line


def event_rows(model: BrowserModel, lines: int = EVENT_LOG_LINES) -> list[tuple[str, ...]]:
    """The latest ``lines`` entries of the event log, newest first, as (day and date, actor,
    move, CAMEO code and name); the CAMEO cell is empty for what is not a coded move
    (calendar events, notes)."""
    start = model.scenario.config.start_date
    rows = []
    for day, actor, text in reversed(model.event_log[-lines:]):
        tag = CAMEO_TAG.search(text)
        move = text[: tag.start()] if tag else text
        cameo = CAMEO_NAMES.get(tag.group(1), tag.group(1)) if tag else ""
        rows.append((f"{day} ({start + timedelta(days=day):%d %b})", actor, move, cameo))
    return rows


def EventLog(model: BrowserModel):
    """The latest moves, newest first, each with its CAMEO event code and name."""
    header = "".join(f"<th>{name}</th>" for name in ("Day", "Actor", "Move", "CAMEO event"))
    rows = [
        '<tr class="escalation-event">'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
        + "</tr>"
        for row in event_rows(model)
    ]
    with solara.Card(f"Latest events ({len(model.event_log)} so far)", classes=["escalation-card"]):
        solara.HTML(
            tag="table",
            unsafe_innerHTML=f"<tr>{header}</tr>" + "".join(rows),
            classes=["escalation-log"],
        )


COMPONENTS = [
    Status,
    figure_view(ladder_figure, "escalation-ladder"),
    figure_view(beliefs_figure, "escalation-beliefs"),
    figure_view(credibility_figure, "escalation-credibility"),
    figure_view(attacks_figure, "escalation-attacks"),
    figure_view(map_figure, "escalation-map"),
    figure_view(posture_figure, "escalation-posture"),
    EventLog,
]


def model_params(defaults: Controls) -> dict:
    """Mesa's parameter inputs: the scenario file is fixed, the rest are sliders and selects
    whose choices come from the scenario (its US types) and the scenario format."""
    config = load_scenario(defaults.scenario_file)
    fraction = {"type": "SliderFloat", "min": 0.0, "max": 1.0, "step": 0.05}
    return {
        "scenario_file": defaults.scenario_file,
        "policy": {
            "type": "Select",
            "value": defaults.policy,
            "values": us_type_names(config),
            "label": "US type (how the US really answers)",
        },
        "threat_prob": {
            "type": "SliderFloat",
            "value": defaults.threat_prob,
            "min": 0.0,
            "max": 0.5,
            "step": 0.01,
            "label": "US threat probability",
        },
        "attribution": {
            "type": "Select",
            "value": defaults.attribution,
            "values": mechanism_settings("attribution"),
            "label": "Attribution of attacks",
        },
        "enforcement": {
            **fraction,
            "value": defaults.enforcement,
            "label": "Government enforcement",
        },
        "same_restraint": {
            "type": "Checkbox",
            "value": defaults.same_restraint,
            "label": "Same restraint for every militia",
        },
        "restraint": {
            **fraction,
            "value": defaults.restraint,
            "label": "Militia restraint (when the same)",
        },
        "seed": {
            "type": "SliderInt",
            "value": defaults.seed,
            "min": 0,
            "max": SEED_MAX,
            "step": 1,
            "label": "Seed",
        },
    }


@solara.component
def Page():
    """The page; the model is built once per session, and rebuilt by Reset."""
    defaults = solara.use_memo(lambda: default_controls(scenario_file()), [])
    model = solara.use_memo(lambda: BrowserModel.from_controls(defaults), [])
    solara.Style(PAGE_CSS)
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(defaults),
        name=f"Escalation in Iraq: {model.scenario.config.name}",
    )


page = Page()
