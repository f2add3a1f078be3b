"""Browser view of one run: `escalation viz [SCENARIO]`, or `solara run sim/viz/app.py`.

A Mesa `SolaraViz` page with the escalation ladder, a schematic map of the sites, live charts,
the event log and the `escalation run` command that reproduces what is shown. Each browser
session builds its own model (inside the `Page` component), so tabs never share one.
"""

from __future__ import annotations

import io
from datetime import timedelta

import matplotlib
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.viz.figures import (
    attacks_figure,
    beliefs_figure,
    ladder_figure,
    map_figure,
    rung_figure,
    troops_figure,
)
from sim.viz.model import (
    POLICIES,
    SEED_MAX,
    BrowserModel,
    Controls,
    default_controls,
    scenario_file,
)

EVENT_LOG_LINES = 15
PAGE_CSS = """
.escalation-figure, .escalation-figure svg { width: 100%; height: 100%; }
.escalation-card { height: 100%; overflow: auto; }
.escalation-command { overflow-x: auto; }
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


def Status(model: BrowserModel):
    """Today's date, the headline numbers and the command that reproduces this run."""
    with solara.Card("Run", classes=["escalation-card"]):
        solara.Text(f"Day {model.day}", classes=["escalation-day"])
        solara.Text(f" · {model.date:%d %B %Y} · {model.scenario.config.name}")
        for line in headline(model):
            solara.Div(children=[line])
        solara.Text("Reproduce with:")
        solara.Preformatted(model.controls.command(wrap=True), class_="escalation-command")


def headline(model: BrowserModel) -> list[str]:
    """Today's state in a few lines (plain text: Markdown would fetch KaTeX from a CDN)."""
    return [
        f"System rung {int(model.system_rung)}: {model.system_rung.label}",
        f"US troops {round(model.troops):,} at {model.bases} sites",
        f"Attacks {len(model.attacks)}, US killed {model.us_killed}",
        f"Iran's belief in US resolve {model.iran.resolve:.2f} "
        f"(answers to attacks without US deaths {model.iran.reaction:.2f})",
        f"Government credibility {model.government.credibility:.2f}",
    ]


def Ladder(model: BrowserModel):
    """The escalation ladder with each actor's rung."""
    InlineSvg(ladder_figure(model), "escalation-ladder")


def SitesMap(model: BrowserModel):
    """Schematic map of the sites, troops and recent attacks."""
    InlineSvg(map_figure(model), "escalation-map")


def Troops(model: BrowserModel):
    """US troops over time."""
    InlineSvg(troops_figure(model), "escalation-troops")


def AttacksPerWeek(model: BrowserModel):
    """Attacks per week, by group."""
    InlineSvg(attacks_figure(model), "escalation-attacks")


def SystemRung(model: BrowserModel):
    """The system rung over time, with the red lines."""
    InlineSvg(rung_figure(model), "escalation-rung")


def Beliefs(model: BrowserModel):
    """Iran's belief in US resolve and the government's credibility over time."""
    InlineSvg(beliefs_figure(model), "escalation-beliefs")


def EventLog(model: BrowserModel):
    """The latest actions in words, newest first."""
    start = model.scenario.config.start_date
    with solara.Card(f"Latest events ({len(model.event_log)} so far)", classes=["escalation-card"]):
        for day, actor, text in reversed(model.event_log[-EVENT_LOG_LINES:]):
            when = start + timedelta(days=day)
            line = f"Day {day} ({when:%d %b}) · {actor}: {text}"
            solara.Div(children=[line], classes=["escalation-event"])


COMPONENTS = [Status, Ladder, SitesMap, Troops, AttacksPerWeek, SystemRung, Beliefs, EventLog]


def model_params(defaults: Controls) -> dict:
    """Mesa's parameter inputs: the scenario file is fixed, the rest are sliders and selects."""
    fraction = {"type": "SliderFloat", "min": 0.0, "max": 1.0, "step": 0.05}
    return {
        "scenario_file": defaults.scenario_file,
        "policy": {
            "type": "Select",
            "value": defaults.policy,
            "values": list(POLICIES),
            "label": "US retaliation policy",
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
