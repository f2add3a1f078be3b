"""Matplotlib drawings of the model for the browser view: the ladder, the map, weekly attacks.

Each function takes the model and returns a `matplotlib.figure.Figure` (no pyplot, so sessions
drawing at the same time do not share state).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import MaxNLocator

from sim.ladder import IRAN_RED_LINE, RUNG_INFO, US_RED_LINE, Rung

if TYPE_CHECKING:
    from sim.model import EscalationModel
    from sim.scenario import Site

RED_LINES = {US_RED_LINE: "US red line", IRAN_RED_LINE: "Iran red line"}
STATE_COLOURS = {"Iran": "tab:green", "US": "tab:blue", "Government": "dimgray"}
MILITIA_COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
RECENT_DAYS = 14
FIGURE_SIZE = (6.4, 5.0)  # inches; the aspect of a cell of the page's grid

#: Iraq's border (lon, lat), simplified from Natural Earth 1:110m (public domain): a schematic.
IRAQ_OUTLINE = (
    (45.42, 35.98),
    (46.08, 35.68),
    (46.15, 35.09),
    (45.65, 34.75),
    (45.42, 33.97),
    (46.11, 33.02),
    (47.33, 32.47),
    (47.85, 31.71),
    (47.69, 30.98),
    (48.00, 30.99),
    (48.01, 30.45),
    (48.57, 29.93),
    (47.97, 29.98),
    (47.30, 30.06),
    (46.57, 29.10),
    (44.71, 29.18),
    (41.89, 31.19),
    (40.40, 31.89),
    (39.20, 32.16),
    (38.79, 33.38),
    (41.01, 34.42),
    (41.38, 35.63),
    (41.29, 36.36),
    (41.84, 36.61),
    (42.35, 37.23),
    (42.78, 37.39),
    (43.94, 37.26),
    (44.29, 37.00),
    (44.77, 37.17),
)


def actor_colours(model: EscalationModel) -> dict[str, str]:
    """A fixed colour per actor: the three states, then each militia group in scenario order."""
    colours = dict(STATE_COLOURS)
    for index, militia in enumerate(model.scenario.config.militias):
        colours[militia.name] = MILITIA_COLOURS[index % len(MILITIA_COLOURS)]
    return colours


def ladder_figure(model: EscalationModel) -> Figure:
    """The ladder, rung 0 at the foot: red lines in red, each actor marked on its rung."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes((0.43, 0.02, 0.22, 0.9))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(Rung) - 0.3)
    ax.axis("off")
    for rail in (0, 1):
        ax.plot([rail, rail], [-0.6, len(Rung) - 0.4], color="saddlebrown", linewidth=4)
    for rung in Rung:
        draw_rung(ax, rung, highlighted=rung == model.system_rung)
    draw_ceiling(ax, model.iran.ceiling)
    draw_actors(ax, model.actor_rungs(), actor_colours(model))
    ax.set_title(f"Day {model.day}: system at rung {int(model.system_rung)}", loc="left")
    return fig


def draw_rung(ax: Axes, rung: Rung, highlighted: bool) -> None:
    """One rung and its label; red-line rungs in red, the system's rung shaded."""
    red = rung in RED_LINES
    colour = "red" if red else "saddlebrown"
    if highlighted:
        ax.axhspan(rung - 0.4, rung + 0.4, color="gold", alpha=0.35, zorder=0)
    ax.plot([0, 1], [rung, rung], color=colour, linewidth=3 if red else 1.5)
    if red:
        ax.text(1.05, rung, RED_LINES[rung], ha="left", va="center", fontsize=8, color="red")
    label = f"{RUNG_INFO[rung].label}  {int(rung)}"
    ax.text(
        -0.05,
        rung,
        label,
        ha="right",
        va="center",
        fontsize=8,
        color=colour,
        fontweight="bold" if red or highlighted else "normal",
    )


def draw_ceiling(ax: Axes, ceiling: Rung) -> None:
    """Iran's ceiling for its proxies: a dashed line just above the highest allowed rung."""
    ax.plot([0, 1], [ceiling + 0.5] * 2, color="tab:green", linestyle="--", linewidth=1)
    ax.text(
        0.5,
        ceiling + 0.5,
        "Iran's ceiling for proxies",
        ha="center",
        va="bottom",
        fontsize=7,
        color="tab:green",
    )


def draw_actors(ax: Axes, rungs: dict[str, Rung], colours: dict[str, str]) -> None:
    """A dot per actor on its rung (side by side when they share one), named in the legend."""
    by_rung: dict[Rung, list[str]] = {}
    for actor, rung in rungs.items():
        by_rung.setdefault(rung, []).append(actor)
    dots = {}
    for rung, actors in by_rung.items():
        xs = np.linspace(0, 1, len(actors) + 2)[1:-1]
        for x, actor in zip(xs, actors, strict=True):
            dots[actor] = ax.scatter(
                [x], [rung], s=90, color=colours[actor], edgecolor="black", zorder=3
            )
    ax.legend(
        [dots[actor] for actor in rungs],
        [f"{actor} ({int(rung)})" for actor, rung in rungs.items()],
        loc="lower left",
        bbox_to_anchor=(1.04, 0),
        fontsize=7.5,
        title="Actor (rung)",
        frameon=False,
    )


def map_figure(model: EscalationModel, recent_days: int = RECENT_DAYS) -> Figure:
    """Schematic Iraq: sites sized by US troops, attacks of the last days marked by group."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.9))
    ax.add_patch(Polygon(IRAQ_OUTLINE, closed=True, facecolor="oldlace", edgecolor="gray"))
    ax.set_xlim(38.3, 49)
    ax.set_ylim(28.8, 37.8)
    ax.set_aspect(1 / np.cos(np.radians(33)))
    ax.set_xticks([])
    ax.set_yticks([])
    draw_sites(ax, model)
    draw_recent_attacks(ax, model, recent_days)
    ax.set_title(f"US sites and attacks in the last {recent_days} days (day {model.day})")
    return fig


def draw_sites(ax: Axes, model: EscalationModel) -> None:
    """Numbered sites, area proportional to troops, and a numbered list of troops per site."""
    lines = []
    for number, site in enumerate(model.sites, start=1):
        troops = round(model.site_troops[site.name])
        face = "tab:blue" if troops else "white"
        ax.scatter(
            [site.lon],
            [site.lat],
            s=40 + troops / 6,
            color=face,
            edgecolor="navy",
            alpha=0.6,
            gid=f"site-{number}",
        )
        ax.annotate(
            str(number),
            (site.lon, site.lat),
            xytext=label_offset(site, model.sites),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            color="navy",
        )
        lines.append(f"{number} {site.name}: {troops:,} US troops")
    lines.append(f"Total: {round(model.troops):,} at {model.bases} sites")
    ax.text(
        38.5,
        29.0,
        "\n".join(lines),
        fontsize=7.5 if len(lines) <= 9 else 6,
        va="bottom",
        ha="left",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "lightgray"},
    )


def label_offset(site: Site, sites: tuple[Site, ...], distance: float = 11) -> tuple[float, float]:
    """Offset (points) for a site's label, pointing away from its nearest neighbour."""
    others = [s for s in sites if s is not site]
    if not others:
        return (0.0, distance)
    nearest = min(others, key=lambda s: (s.lon - site.lon) ** 2 + (s.lat - site.lat) ** 2)
    away = np.array([site.lon - nearest.lon, site.lat - nearest.lat])
    norm = np.hypot(*away)
    dx, dy = away / norm * distance if norm else (0.0, distance)
    return (float(dx), float(dy))


def draw_recent_attacks(ax: Axes, model: EscalationModel, recent_days: int) -> None:
    """A triangle per recent attack, around its site, in the attacker's colour (edged black if
    Americans died)."""
    colours = actor_colours(model)
    where = {site.name: (site.lon, site.lat) for site in model.sites}
    recent = [a for a in model.attacks if a.day > model.day - recent_days]
    seen: Counter[str] = Counter()
    for number, attack in enumerate(recent):
        angle = 2.4 * seen[attack.site]  # golden-angle spiral keeps repeated attacks apart
        radius = 0.25 + 0.04 * seen[attack.site]
        seen[attack.site] += 1
        lon, lat = where[attack.site]
        ax.scatter(
            [lon + radius * np.cos(angle)],
            [lat + radius * np.sin(angle)],
            marker="^",
            s=55 if attack.us_killed else 30,
            color=colours[attack.attacker],
            edgecolor="black" if attack.us_killed else "none",
            zorder=3,
            gid=f"attack-{number}",
        )
    for attacker in dict.fromkeys(a.attacker for a in recent):
        ax.scatter([], [], marker="^", color=colours[attacker], label=attacker)
    if recent:
        ax.legend(loc="upper left", fontsize=7.5, title="Attacks by", title_fontsize=8)


def weekly_attacks(model: EscalationModel) -> dict[str, list[int]]:
    """Attacks per week (week 0 = days 1-7) by attacker, up to the current week."""
    weeks = max(model.day - 1, 0) // 7 + 1
    counts = {name: [0] * weeks for name in dict.fromkeys(a.attacker for a in model.attacks)}
    for attack in model.attacks:
        counts[attack.attacker][(attack.day - 1) // 7] += 1
    return counts


def chart(model: EscalationModel, title: str) -> tuple[Figure, Axes]:
    """An empty chart of a daily series, days 0 to today (at least a week) on the x axis."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes((0.12, 0.12, 0.84, 0.78))
    ax.set_xlim(0, max(model.day, 7))
    ax.set_xlabel("Day")
    ax.set_title(title)
    return fig, ax


def troops_figure(model: EscalationModel) -> Figure:
    """US troops in Iraq, day by day."""
    series = model.datacollector.get_model_vars_dataframe()
    fig, ax = chart(model, f"US troops in Iraq: {round(model.troops):,}")
    ax.plot(series["day"], series["troops"], color="tab:blue", gid="chart-troops")
    ax.set_ylim(0, max(series["troops"].max(), 1) * 1.1)
    return fig


def attacks_figure(model: EscalationModel) -> Figure:
    """Attacks per week, stacked by attacker, each bar over its week's days."""
    fig, ax = chart(model, f"Attacks per week ({len(model.attacks)} in all)")
    counts = weekly_attacks(model)
    colours = actor_colours(model)
    weeks = max(model.day - 1, 0) // 7 + 1
    centres = 7 * np.arange(weeks) + 4  # week 0 covers days 1-7
    bottom = np.zeros(weeks)
    for attacker, per_week in counts.items():
        ax.bar(centres, per_week, width=6, bottom=bottom, color=colours[attacker], label=attacker)
        bottom += per_week
    ax.set_xlim(0, max(model.day, 7))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if counts:
        ax.legend(loc="upper left", fontsize=7)
    return fig


def rung_figure(model: EscalationModel) -> Figure:
    """The system rung (the highest of any actor), with the red lines."""
    series = model.datacollector.get_model_vars_dataframe()
    fig, ax = chart(model, "System rung (highest rung of any actor)")
    ax.step(series["day"], series["system_rung"], where="post", color="black", gid="chart-rung")
    for rung, label in RED_LINES.items():
        ax.axhline(rung, color="red", linestyle="--", linewidth=1)
        ax.text(
            0.01, rung + 0.15, label, color="red", fontsize=8, transform=ax.get_yaxis_transform()
        )
    ax.set_ylim(-0.3, max(Rung) + 0.3)
    ax.set_yticks(range(len(Rung)))
    return fig


def beliefs_figure(model: EscalationModel) -> Figure:
    """Iran's beliefs about how the US answers attacks, and the government's credibility."""
    series = model.datacollector.get_model_vars_dataframe()
    fig, ax = chart(model, "Iran's belief in US resolve, government credibility")
    ax.plot(
        series["day"],
        series["iran_belief_us_resolve"],
        color="tab:green",
        label="Iran's belief in US resolve",
        gid="chart-resolve",
    )
    ax.plot(
        series["day"],
        series["iran_belief_us_reaction"],
        color="tab:green",
        linestyle="--",
        label="... that it answers attacks without US deaths",
        gid="chart-reaction",
    )
    ax.plot(
        series["day"],
        series["government_credibility"],
        color="dimgray",
        label="Government credibility",
        gid="chart-credibility",
    )
    ax.set_ylim(0, 1)
    ax.legend(loc="lower left", fontsize=8)
    return fig
