"""Matplotlib drawings of the model for the browser view: the ladder, beliefs over US types,
credibility, attacks by mode, the map and the US posture.

Each drawing function takes the model and returns a `matplotlib.figure.Figure` (no pyplot, so
sessions drawing at the same time do not share state). Legends sit outside the axes, below or
beside them, so they never cover data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import MaxNLocator

from sim.agents import LETHAL, Attack
from sim.figures import OKABE_ITO
from sim.ladder import IRAN_RED_LINE, RUNG_INFO, US_RED_LINE, Rung
from sim.viz.model import us_type_names

if TYPE_CHECKING:
    from sim.scenario import SiteParams
    from sim.viz.model import BrowserModel

RED_LINES = {US_RED_LINE: "US red line", IRAN_RED_LINE: "Iran red line"}
STATE_COLOURS = {"Iran": "tab:green", "US": "tab:blue", "Government": "dimgray"}
MILITIA_COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
RECENT_DAYS = 14
FIGURE_SIZE = (6.4, 5.0)  # inches; the aspect of a cell of the page's grid
CHART_AXES = (0.1, 0.26, 0.84, 0.64)  # left, bottom, width, height: room below for the legend
SMALL = 7.5  # font size of legends and annotations

IRAN_MODE = "missile"  # the mode of Iran's own strikes (not one of the scenario's modes)
#: Attack modes in words; a mode not listed here is named after its key.
MODE_NAMES = {
    "rocket": "rockets and mortars",
    "ied": "roadside bombs",
    "drone": "drones",
    IRAN_MODE: "Iranian missiles",
}
TARGET_NAMES = {"sites": "on US sites", "convoys": "on supply convoys"}
MODE_MARKERS = {"rocket": "^", "ied": "s", "drone": "D", IRAN_MODE: "*"}
MODE_PALETTE = tuple(OKABE_ITO[i] for i in (1, 5, 4, 6, 7))  # colour-blind safe
NOT_ATTRIBUTED_HATCH = "////"

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
#: The main supply route from Kuwait to Baghdad (Safwan, Nasiriyah, Samawah, Diwaniyah, Hillah,
#: Baghdad), where roadside bombs hit US logistics convoys: a schematic.
SUPPLY_ROUTE = (
    (47.68, 30.10),
    (46.26, 31.05),
    (45.29, 31.31),
    (44.93, 31.99),
    (44.42, 32.48),
    (44.30, 33.15),
)


# --- names and colours ------------------------------------------------------------------------


def actor_colours(model: BrowserModel) -> dict[str, str]:
    """A fixed colour per actor: the three states, then each militia group in scenario order."""
    colours = dict(STATE_COLOURS)
    for index, militia in enumerate(model.scenario.config.militias):
        colours[militia.name] = MILITIA_COLOURS[index % len(MILITIA_COLOURS)]
    return colours


def attack_modes(model: BrowserModel) -> list[str]:
    """The scenario's attack modes, then Iran's missiles once Iran has struck."""
    modes = list(model.modes)
    if any(attack.by_iran for attack in model.attacks):
        modes.append(IRAN_MODE)
    return modes


def mode_name(mode: str) -> str:
    """A mode in a few words: 'roadside bombs', 'Iranian missiles'."""
    return MODE_NAMES.get(mode, mode.replace("_", " "))


def mode_label(model: BrowserModel, mode: str) -> str:
    """A mode in words, with what it hits: 'Roadside bombs on supply convoys'."""
    name = mode_name(mode)
    target = "sites" if mode == IRAN_MODE else model.modes[mode].target
    return f"{name[0].upper()}{name[1:]} {TARGET_NAMES[target]}"


def mode_colours(model: BrowserModel) -> dict[str, str]:
    """A fixed colour per mode, Iran's missiles in Iran's colour."""
    colours = {m: MODE_PALETTE[i % len(MODE_PALETTE)] for i, m in enumerate(model.modes)}
    colours[IRAN_MODE] = STATE_COLOURS["Iran"]
    return colours


def type_label(name: str) -> str:
    """A US type name in words: 'escalation_dominance' -> 'escalation dominance'."""
    return name.replace("_", " ")


def plural(count: int, noun: str) -> str:
    """A count and its noun: 1 American, 2 Americans."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- the ladder -------------------------------------------------------------------------------


def ladder_figure(model: BrowserModel) -> Figure:
    """The ladder, rung 0 at the foot: red lines in red, each actor marked on its rung."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes((0.43, 0.02, 0.22, 0.86))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(Rung) - 0.3)
    ax.axis("off")
    for rail in (0, 1):
        ax.plot([rail, rail], [-0.6, len(Rung) - 0.4], color="saddlebrown", linewidth=4)
    for rung in Rung:
        draw_rung(ax, rung, highlighted=rung == model.system_rung)
    draw_ceiling(ax, model.iran.ceiling)
    draw_actors(ax, model.actor_rungs(), actor_colours(model))
    fig.suptitle(
        f"Day {model.day}: system at rung {int(model.system_rung)}\n"
        f"highest so far: {int(model.max_rung)} {model.max_rung.label}",
        x=0.02,
        ha="left",
        fontsize=10,
    )
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
        fontsize=SMALL,
        title="Actor (rung)",
        frameon=False,
    )


# --- daily charts -----------------------------------------------------------------------------


def chart(
    model: BrowserModel, title: str, subtitle: str = "", axes: Sequence[float] = CHART_AXES
) -> tuple[Figure, Axes]:
    """An empty chart of a daily series, days 0 to today (at least a week) on the x axis, with
    a title and an optional smaller line under it."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes(axes)
    ax.set_xlim(0, max(model.day, 7))
    ax.set_xlabel("Day")
    ax.set_title(title, loc="left", pad=16 if subtitle else 6)
    if subtitle:
        ax.text(0, 1.015, subtitle, transform=ax.transAxes, fontsize=SMALL, va="bottom")
    return fig, ax


def legend_below(fig: Figure, handles: list, columns: int = 2) -> None:
    """The figure's legend in ``columns`` columns along its foot, clear of the axes."""
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.02, 0.0),
        ncol=columns,
        fontsize=SMALL,
        frameon=False,
        handlelength=1.8,
        columnspacing=1.2,
    )


def shade_spans(ax: Axes, days: pd.Series, on: pd.Series, **style) -> Patch:
    """Shade each run of days on which ``on`` holds; the legend handle of the shading."""
    start = None
    for day, flag in zip(days, on, strict=True):
        if flag and start is None:
            start = day
        elif not flag and start is not None:
            ax.axvspan(start - 0.5, day - 0.5, linewidth=0, **style)
            start = None
    if start is not None:
        ax.axvspan(start - 0.5, days.iloc[-1] + 0.5, linewidth=0, **style)
    return Patch(linewidth=0, **style)


def rises(series: pd.Series) -> pd.Series:
    """Whether a running count went up on each day (day 0 counts as no change)."""
    return series.diff().fillna(0) > 0


def daily_table(model: BrowserModel) -> pd.DataFrame:
    """The run's daily series and the page's own, side by side, one row a day."""
    series = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    page = model.page_series.get_model_vars_dataframe().reset_index(drop=True)
    return pd.concat([series, page.drop(columns="day")], axis=1)


def daily(ax: Axes, table: pd.DataFrame, column: str, label: str, **style) -> Line2D:
    """A daily series as steps (a day's value holds until the next day)."""
    (drawn,) = ax.step(table["day"], table[column], where="post", label=label, **style)
    return drawn


def beliefs_figure(model: BrowserModel) -> Figure:
    """Iran's posterior over the US types (stacked), the credibility it gives US threats, and
    above it the US moves every observer learns from."""
    table = daily_table(model)
    fig, ax = chart(model, "", axes=(0.19, 0.26, 0.77, 0.42))
    types = us_type_names(model.scenario.config)
    truth = model.scenario.config.us.policy
    areas = ax.stackplot(
        table["day"],
        [table[f"belief:{name}"] for name in types],
        colors=colormaps["YlOrRd"](np.linspace(0.15, 0.85, len(types))),
        labels=[type_label(n) + (" (the true type)" if n == truth else "") for n in types],
        step="post",
    )
    for area, name in zip(areas, types, strict=True):
        area.set_gid(f"belief-{name}")
    credibility = daily(
        ax,
        table,
        "us_credibility",
        "US credibility: chance it backs a threat",
        color="black",
        linewidth=1.8,
        gid="chart-credibility",
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("Iran's belief")
    moves = fig.add_axes((0.19, 0.71, 0.77, 0.2), sharex=ax)
    draw_us_moves(moves, model, table)
    moves.set_title("US moves observed, and Iran's belief about the US type", loc="left")
    legend_below(fig, [*reversed(areas), credibility])
    return fig


def draw_us_moves(ax: Axes, model: BrowserModel, table: pd.DataFrame) -> None:
    """A row of ticks per kind of US move: the evidence beliefs are updated with."""
    days = table["day"]
    rows = {
        "Strikes back": (sorted({a.day for a in model.attacks if a.answered}), "darkred"),
        "No answer": (sorted({a.day for a in model.attacks if not a.answered}), "gray"),
        "Threat": (days[rises(table["threats"])], "tab:blue"),
        "Bluff": (days[rises(table["bluffs"])], "red"),
        "Show of force": (days[rises(table["shows_of_force"])], "darkorange"),
        "Draws down": (days[table["troops"].diff() < 0], "tab:green"),
    }
    for row, (label, (when, colour)) in enumerate(rows.items()):
        ax.scatter(
            list(when),
            [row] * len(when),
            marker="|",
            s=70,
            color=colour,
            linewidths=2,
            gid=f"moves-{label.lower().replace(' ', '-')}",
        )
    ax.set_yticks(range(len(rows)), list(rows), fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="x", labelbottom=False)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.5)


def credibility_figure(model: BrowserModel) -> Figure:
    """How credible each observer finds US threats, when a threat was live and when it proved a
    bluff; and the Iraqi government's own credibility."""
    table = daily_table(model)
    title = "Credibility of US threats (per observer) and of the government"
    fig, ax = chart(model, title, axes=(0.1, 0.3, 0.84, 0.6))
    colours = actor_colours(model)
    threat = shade_spans(
        ax,
        table["day"],
        table["threat_live"],
        color="lightsteelblue",
        alpha=0.6,
        label="US threat live",
    )
    lines = [
        daily(
            ax,
            table,
            "us_credibility",
            "US credibility for Iran",
            color=colours["Iran"],
            linewidth=2,
            gid="chart-us-credibility",
        )
    ]
    for group in model.militias:
        lines.append(
            daily(
                ax,
                table,
                f"credibility:{group.name}",
                f"... for {group.name}",
                color=colours[group.name],
                linewidth=1,
            )
        )
    bluffs = rises(table["bluffs"])
    bluff = ax.scatter(
        table["day"][bluffs],
        table["us_credibility"][bluffs],
        marker="x",
        s=40,
        color="red",
        zorder=3,
        label="Bluff: threat crossed, no answer",
    )
    lines.append(
        daily(
            ax,
            table,
            "government_credibility",
            "Government credibility",
            color=colours["Government"],
            linestyle="--",
            gid="chart-government-credibility",
        )
    )
    collapse = ax.axhline(
        model.government.params.collapse_threshold,
        color="dimgray",
        linestyle=":",
        linewidth=1,
        label="Government falls below this",
    )
    ax.set_ylim(0, 1)
    legend_below(fig, [*lines, collapse, threat, bluff])
    return fig


def posture_figure(model: BrowserModel) -> Figure:
    """US troops against the level the US prefers, force protection, and what bears on them:
    pressure on Baghdad, a truce, a withdrawal commitment."""
    table = daily_table(model)
    title = (
        f"US posture: {round(model.troops):,} troops, "
        f"{round(model.us.preferred_troops()):,} preferred"
    )
    fig, ax = chart(model, title, axes=(0.12, 0.26, 0.76, 0.64))
    spans = [
        shade_spans(
            ax,
            table["day"],
            table["host_pressure"],
            color="gainsboro",
            label="US pressing Baghdad to rein in militias",
        ),
        shade_spans(ax, table["day"], table["truce"], color="palegreen", alpha=0.5, label="Truce"),
    ]
    lines = [
        daily(ax, table, "troops", "US troops", color="tab:blue", linewidth=2, gid="chart-troops"),
        daily(
            ax,
            table,
            "preferred_troops",
            "Troops the US prefers",
            color="tab:blue",
            linestyle="--",
            gid="chart-preferred",
        ),
    ]
    ax.set_ylim(0, max(table["troops"].max(), table["preferred_troops"].max(), 1) * 1.1)
    ax.set_ylabel("Troops")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    committed = table["day"][table["committed"]]
    if len(committed):
        lines.append(
            ax.axvline(
                committed.iloc[0], color="black", linestyle=":", label="Full withdrawal announced"
            )
        )
    protection = ax.twinx()
    lines.append(
        daily(
            protection,
            table,
            "force_protection",
            "Force protection (right axis)",
            color="darkorange",
            gid="chart-force-protection",
        )
    )
    protection.set_ylim(0, 1)
    protection.set_ylabel("Force protection (0 to 1)")
    legend_below(fig, [*lines, *spans])
    return fig


def weekly_counts(
    attacks: Iterable[Attack], weeks: int, key: Callable[[Attack], Hashable]
) -> dict[Hashable, list[int]]:
    """Attacks per week (week 0 = days 1-7) by ``key``, for ``weeks`` weeks."""
    counts: dict[Hashable, list[int]] = {}
    for attack in attacks:
        counts.setdefault(key(attack), [0] * weeks)[(attack.day - 1) // 7] += 1
    return counts


def weeks_so_far(model: BrowserModel) -> int:
    """Weeks begun by today (at least one)."""
    return max(model.day - 1, 0) // 7 + 1


def attack_summary(model: BrowserModel) -> str:
    """What became of the attacks so far, in one line."""
    attacks = model.attacks
    return (
        f"{sum(a.level == LETHAL for a in attacks)} aimed to kill, "
        f"{sum(a.attributed for a in attacks)} attributed, "
        f"{sum(a.answered for a in attacks)} answered by the US, "
        f"{plural(model.us_killed, 'American')} killed"
    )


def attacks_figure(model: BrowserModel) -> Figure:
    """Attacks per week stacked by mode, the unattributed part hatched; above each bar, the
    attacks the US answered and those that killed Americans."""
    attacks = model.attacks
    weeks = weeks_so_far(model)
    fig, ax = chart(
        model, f"Attacks per week by mode ({len(attacks)} in all)", attack_summary(model)
    )
    counts = weekly_counts(attacks, weeks, lambda a: (a.mode, a.attributed))
    colours = mode_colours(model)
    centres = 7 * np.arange(weeks) + 4  # week 0 covers days 1-7
    bottom = np.zeros(weeks)
    handles = []
    for mode in attack_modes(model):
        for attributed in (True, False):
            per_week = counts.get((mode, attributed))
            if per_week is None:
                continue
            ax.bar(
                centres,
                per_week,
                width=6,
                bottom=bottom,
                color=colours[mode],
                alpha=1.0 if attributed else 0.45,
                edgecolor="white" if attributed else "black",
                linewidth=0.5,
                hatch=None if attributed else NOT_ATTRIBUTED_HATCH,
                gid=f"bars-{mode}-{'attributed' if attributed else 'unattributed'}",
            )
            bottom += per_week
        handles.append(Patch(color=colours[mode], label=mode_label(model, mode)))
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="black",
            hatch=NOT_ATTRIBUTED_HATCH,
            label="Hatched: not attributed",
        )
    )
    handles += draw_week_marks(ax, centres, bottom, attacks, weeks)
    ax.set_ylim(0, max(bottom.max(), 1) + 1.6)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Attacks")
    legend_below(fig, handles)
    return fig


def draw_week_marks(
    ax: Axes, centres: np.ndarray, tops: np.ndarray, attacks: list[Attack], weeks: int
) -> list[Line2D]:
    """Above each week's bar: a marker (with the count when more than one) for the attacks the
    US answered, then one for those that killed Americans. Returns the legend handles."""
    marks = (
        ("answered", lambda a: a.answered, "v", "black", "US answered (count)"),
        ("killed", lambda a: a.us_killed > 0, "X", "red", "Killed Americans (count)"),
    )
    heights = tops + 0.45
    handles = []
    for name, chosen, marker, colour, label in marks:
        per_week = np.array(weekly_counts(attacks, weeks, chosen).get(True, [0] * weeks))
        shown = per_week > 0
        ys = heights[shown]
        ax.scatter(
            centres[shown], ys, marker=marker, s=30, color=colour, zorder=3, gid=f"marks-{name}"
        )
        for x, y, count in zip(centres[shown], ys, per_week[shown], strict=True):
            if count > 1:
                ax.annotate(
                    str(count),
                    (x, y),
                    xytext=(5, 0),
                    textcoords="offset points",
                    fontsize=7,
                    va="center",
                    color=colour,
                )
        heights[shown] += 0.6
        handles.append(Line2D([], [], marker=marker, color=colour, linestyle="none", label=label))
    return handles


# --- the map ----------------------------------------------------------------------------------


def map_figure(model: BrowserModel, recent_days: int = RECENT_DAYS) -> Figure:
    """Schematic Iraq: sites sized by US troops, the convoys' supply route, and the attacks of
    the last days coloured by group and marked by mode."""
    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_axes((0.0, 0.0, 0.64, 0.93), anchor="NW")
    ax.add_patch(Polygon(IRAQ_OUTLINE, closed=True, facecolor="oldlace", edgecolor="gray"))
    ax.plot(*zip(*SUPPLY_ROUTE, strict=True), color="gray", linestyle="--", linewidth=1.2)
    ax.annotate(
        "supply route\nfrom Kuwait",
        SUPPLY_ROUTE[0],
        xytext=(-4, -6),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=7,
        color="dimgray",
    )
    ax.set_xlim(38.6, 48.8)
    ax.set_ylim(28.9, 37.6)
    ax.set_aspect(1 / np.cos(np.radians(33)))
    ax.set_xticks([])
    ax.set_yticks([])
    draw_sites(fig, ax, model)
    draw_recent_attacks(ax, model, recent_days)
    ax.set_title(
        f"US sites and attacks in the last {recent_days} days (day {model.day})", loc="left"
    )
    return fig


def draw_sites(fig: Figure, ax: Axes, model: BrowserModel) -> None:
    """Numbered sites, area proportional to troops, and a numbered list of troops per site
    beside the map."""
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
            alpha=0.5,
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
        lines.append(f"{number} {site.name}: {troops:,}")
    lines.append(f"Total: {round(model.troops):,} at {model.bases} sites")
    fig.text(
        0.66,
        0.02,
        "US troops by site\n" + "\n".join(lines),
        fontsize=SMALL if len(lines) <= 9 else 6,
        va="bottom",
        ha="left",
    )


def label_offset(
    site: SiteParams, sites: tuple[SiteParams, ...], distance: float = 11
) -> tuple[float, float]:
    """Offset (points) for a site's label, pointing away from its nearest neighbour."""
    others = [s for s in sites if s is not site]
    if not others:
        return (0.0, distance)
    nearest = min(others, key=lambda s: (s.lon - site.lon) ** 2 + (s.lat - site.lat) ** 2)
    away = np.array([site.lon - nearest.lon, site.lat - nearest.lat])
    norm = np.hypot(*away)
    dx, dy = away / norm * distance if norm else (0.0, distance)
    return (float(dx), float(dy))


def route_point(fraction: float) -> tuple[float, float]:
    """The point ``fraction`` (0 to 1) of the way along the supply route, by vertex steps."""
    position = fraction * (len(SUPPLY_ROUTE) - 1)
    index = min(int(position), len(SUPPLY_ROUTE) - 2)
    (x0, y0), (x1, y1) = SUPPLY_ROUTE[index], SUPPLY_ROUTE[index + 1]
    step = position - index
    return (x0 + step * (x1 - x0), y0 + step * (y1 - y0))


def attack_position(model: BrowserModel, attack: Attack, repeat: int) -> tuple[float, float]:
    """Where to mark an attack: around its site on a golden-angle spiral (repeats kept apart),
    or spread along the supply route for attacks on convoys."""
    sites = {site.name: site for site in model.sites}
    if attack.target not in sites:
        return route_point((0.2 + 0.618 * repeat) % 1.0)
    site = sites[attack.target]
    angle = 2.4 * repeat
    radius = 0.45 + 0.05 * repeat
    return (site.lon + radius * np.cos(angle), site.lat + radius * np.sin(angle))


def draw_recent_attacks(ax: Axes, model: BrowserModel, recent_days: int) -> None:
    """A mark per recent attack: the attacker's colour, the mode's shape; hollow if the US did
    not attribute it, ringed if the US answered it, edged black if Americans died."""
    colours = actor_colours(model)
    recent = [a for a in model.attacks if a.day > model.day - recent_days]
    seen: Counter[str] = Counter()
    for number, attack in enumerate(recent):
        x, y = attack_position(model, attack, seen[attack.target])
        seen[attack.target] += 1
        colour = colours[attack.attacker]
        ax.scatter(
            [x],
            [y],
            marker=MODE_MARKERS.get(attack.mode, "o"),
            s=70 if attack.us_killed else 40,
            facecolor=colour if attack.attributed else "white",
            edgecolor="black" if attack.us_killed else colour,
            linewidths=1.5,
            zorder=3,
            gid=f"attack-{number}",
        )
        if attack.answered:
            ax.scatter(
                [x],
                [y],
                marker="o",
                s=160,
                facecolor="none",
                edgecolor="black",
                linewidths=1,
                zorder=3,
                gid=f"answered-{number}",
            )
    groups = [
        Patch(color=colours[name], label=name) for name in dict.fromkeys(a.attacker for a in recent)
    ]
    marks = [
        key(mode_label(model, mode), marker=MODE_MARKERS.get(mode, "o"), color="gray")
        for mode in attack_modes(model)
    ]
    marks += [
        key("Hollow: not attributed", markerfacecolor="white", markeredgecolor="gray"),
        key("Ringed: US answered", markerfacecolor="none", markeredgecolor="black", markersize=11),
        key(
            "Black edge: Americans killed",
            color="gray",
            markeredgecolor="black",
            markeredgewidth=1.5,
        ),
    ]
    side_legend(ax, marks, "Marks", top=1.0)
    if groups:
        side_legend(ax, groups, "Attacks by", top=0.62)


def key(label: str, marker: str = "o", **style) -> Line2D:
    """A legend entry for a kind of mark."""
    return Line2D([], [], marker=marker, linestyle="none", label=label, **style)


def side_legend(ax: Axes, handles: list, title: str, top: float) -> None:
    """A legend to the right of the map, its top at ``top`` (a fraction of the map's height);
    earlier legends stay."""
    if ax.get_legend() is not None:
        ax.add_artist(ax.get_legend())
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, top),
        fontsize=SMALL,
        title=title,
        title_fontsize=8,
        frameon=False,
        alignment="left",
    )
