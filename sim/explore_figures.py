"""Figures of the exploratory analyses, in the same byte-stable style as `sim.figures`.

Morris screening (mu* against sigma, and the ranking), Sobol' indices with seed noise removed,
scenario discovery (PRIM's peeling trajectory and box, the CART tree), robust policies (outcomes,
regret, satisficing) and the comparison of variants (policy effects per variant). Each builder
returns a `sim.figures.Panel`; `sim.figures.write_panel` saves it.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.discovery import Discovery
from sim.figures import (
    DOUBLE_COLUMN,
    OKABE_ITO,
    SEQUENTIAL_MAP,
    Panel,
    level_colours,
)
from sim.labels import label, level_label
from sim.robust import RobustResult

TOP_FACTORS = 10  # factors named in a Morris ranking panel
GREY = "#999999"


# --- Morris screening ---------------------------------------------------------------------------


def morris_panel(tables: list[pd.DataFrame], caption: str, outcome_labels: list[str]) -> Panel:
    """Per outcome: mu* against sigma for every factor (left), the top factors' mu* (right)."""
    rows = len(tables)
    figure, axes = plt.subplots(
        rows, 2, figsize=(DOUBLE_COLUMN, 2.3 * rows), squeeze=False, width_ratios=[1, 1.15]
    )
    for (scatter, bars), table, title in zip(axes, tables, outcome_labels, strict=True):
        draw_morris_scatter(scatter, table, title)
        draw_morris_ranking(bars, table)
    handles, names = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=3)
    return Panel("morris", figure, caption, pd.concat(tables, ignore_index=True))


def draw_morris_scatter(axis, table: pd.DataFrame, title: str) -> None:
    """mu* (x) against sigma (y) with bootstrap intervals; the top factors numbered by rank."""
    table = table.dropna(subset=["mu_star"])
    for above, colour in ((False, GREY), (True, OKABE_ITO[0])):
        part = table[table["above_noise"] == above]
        axis.errorbar(
            part["mu_star"],
            part["sigma"],
            xerr=interval_errors(part, "mu_star"),
            yerr=interval_errors(part, "sigma"),
            fmt="o",
            ms=2.5,
            color=colour,
            ecolor=colour,
            elinewidth=0.4,
            alpha=0.8,
            label="above seed noise" if above else "within seed noise",
        )
    floor = float(table["noise_floor"].median())
    if floor == floor:
        axis.axvline(floor, color="#555555", lw=0.6, ls=":", label="seed-noise floor")
    for row in table.head(TOP_FACTORS).itertuples():
        axis.annotate(
            str(row.rank),
            (row.mu_star, row.sigma),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize=6,
        )
    axis.set(xlabel="mu* (mean |elementary effect|)", ylabel="sigma (sd of effects)")
    axis.set_title(title)
    axis.set_xlim(left=0)
    axis.set_ylim(bottom=0)


def draw_morris_ranking(axis, table: pd.DataFrame) -> None:
    """The top factors' mu* with its interval, most influential on top."""
    top = table.dropna(subset=["mu_star"]).head(TOP_FACTORS)
    rows = np.arange(len(top))
    colours = [OKABE_ITO[0] if above else GREY for above in top["above_noise"]]
    axis.barh(
        rows,
        top["mu_star"],
        color=colours,
        height=0.7,
        xerr=interval_errors(top, "mu_star"),
        error_kw={"lw": 0.6, "capsize": 1},
    )
    axis.set_yticks(
        rows, [f"{r}. {label(p)}" for r, p in zip(top["rank"], top["parameter"], strict=True)]
    )
    axis.invert_yaxis()
    axis.set(xlabel="mu*")
    axis.set_title(f"Top {len(top)} factors by mu*")
    axis.set_xlim(left=0)


def interval_errors(table: pd.DataFrame, column: str) -> np.ndarray:
    """Distances from an estimate to its interval's ends, for error bars (never negative)."""
    low, high = table[f"{column}_low"], table[f"{column}_high"]
    return np.clip([table[column] - low, high - table[column]], 0, None)


# --- Sobol' indices -----------------------------------------------------------------------------


def sobol_panel(
    table: pd.DataFrame, summaries: list[dict], caption: str, outcome_labels: dict[str, str]
) -> Panel:
    """First-order and total indices (noise removed) with intervals; open markers: n/2 rows."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    names = list(dict.fromkeys(table["parameter"]))
    height = 1.5 + 0.32 * len(names)
    figure, axes = plt.subplots(
        1, len(outcomes), figsize=(DOUBLE_COLUMN, height), sharey=True, squeeze=False
    )
    rows = np.arange(len(names))
    for axis, outcome, summary in zip(axes[0], outcomes, summaries, strict=True):
        part = table[table["outcome"] == outcome]
        for offset, kind, colour, text in (
            (-0.2, "first", OKABE_ITO[0], "first order $S_i$"),
            (0.2, "total", OKABE_ITO[1], "total $S_{Ti}$"),
        ):
            estimate = part[f"{kind}_order"].to_numpy()
            axis.barh(
                rows + offset,
                estimate,
                height=0.4,
                color=colour,
                label=f"{text}, n = {int(part['base_rows'].iloc[0])}",
                xerr=np.clip(
                    [estimate - part[f"{kind}_low"], part[f"{kind}_high"] - estimate], 0, None
                ),
                error_kw={"lw": 0.8, "capsize": 1.5},
            )
            axis.plot(
                part[f"{kind}_order_half"],
                rows + offset,
                "o",
                mfc="white",
                mec="black",
                ms=2.5,
                mew=0.6,
                label="same, first n/2 base rows" if kind == "first" else "_nolegend_",
            )
        low = min(-0.05, part[["first_low", "total_low"]].to_numpy().min())
        high = max(1.05, part[["first_high", "total_high"]].to_numpy().max())
        axis.set(xlabel="Sobol' index (share of variance)", xlim=(low, high))
        noise = summary["seed_noise_share_of_means"]
        axis.set_title(f"{outcome_labels[outcome]}\nseed noise {noise:.0%} of point-mean variance")
        axis.axvline(0, color="#555555", lw=0.6)
    axes[0][0].set_yticks(rows, [label(name) for name in names])
    axes[0][0].invert_yaxis()
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=3)
    return Panel("sobol", figure, caption, table)


# --- scenario discovery -------------------------------------------------------------------------


def prim_panel(found: Discovery, caption: str) -> Panel:
    """PRIM's peeling trajectory (coverage against density) and the chosen box's limits."""
    figure, (tradeoff, limits) = plt.subplots(
        1, 2, figsize=(DOUBLE_COLUMN, 2.8), width_ratios=[1, 1.2]
    )
    trajectory = found.trajectory
    dims = trajectory["res_dim"].astype(int)
    colours = plt.get_cmap(SEQUENTIAL_MAP, max(dims.max(), 1) + 1)
    points = tradeoff.scatter(
        trajectory["coverage"], trajectory["density"], c=dims, cmap=colours, s=9, lw=0,
        vmin=-0.5, vmax=dims.max() + 0.5,
    )  # fmt: skip
    chosen = trajectory.loc[found.chosen]
    tradeoff.plot(chosen["coverage"], chosen["density"], "o", mfc="none", mec=OKABE_ITO[1], ms=8)
    tradeoff.annotate(
        f"box {found.chosen}", (chosen["coverage"], chosen["density"]), xytext=(6, -10),
        textcoords="offset points", fontsize=6, color=OKABE_ITO[1],
    )  # fmt: skip
    tradeoff.set(xlabel="Coverage", ylabel="Density", xlim=(0, 1.02), ylim=(0, 1.02))
    tradeoff.set_title("Peeling trajectory")
    bar = figure.colorbar(points, ax=tradeoff, ticks=range(dims.max() + 1))
    bar.set_label("Restricted inputs")
    draw_box_limits(limits, found.limits)
    return Panel(
        "prim", figure, caption, trajectory.assign(chosen=trajectory.index == found.chosen)
    )


def draw_box_limits(axis, limits: pd.DataFrame) -> None:
    """Each restricted input's kept range (or share of levels) as a bar over its full range
    (0 to 1), with its limits (or levels) and quasi-p-values written beside it."""
    rows = np.arange(len(limits))
    for row, limit in zip(rows, limits.itertuples(), strict=True):
        if limit.kind == "range":
            span = limit.full_high - limit.full_low or 1.0
            start = (limit.low - limit.full_low) / span
            width = (limit.high - limit.low) / span
            text = f"{limit.low:.3g} to {limit.high:.3g}"
        else:
            start, width = 0.0, limit.share
            text = ", ".join(level_label(level) for level in limit.levels.split(", "))
        axis.barh(row, 1.0, left=0.0, height=0.5, color="#eeeeee")
        axis.barh(row, width, left=start, height=0.5, color=OKABE_ITO[0])
        axis.text(1.03, row, f"{text}\nqp {qp_text(limit.qp_low, limit.qp_high)}",
                  va="center", fontsize=6)  # fmt: skip
    axis.set_yticks(rows, [label(name) for name in limits["input"]])
    axis.invert_yaxis()
    axis.set(xlim=(0, 1.6), xticks=[0, 0.5, 1], xlabel="Share of the input's range")
    axis.set_title("Chosen box")
    axis.grid(False)


def qp_text(low: float, high: float) -> str:
    """Quasi-p-values of a box's lower and upper limit ('-' where that side is not restricted)."""
    return " / ".join("-" if value != value else f"{value:.2g}" for value in (low, high))


def cart_panel(found: Discovery, caption: str) -> Panel:
    """The CART tree, drawn by scikit-learn with human labels for the inputs."""
    from sklearn.tree import plot_tree

    depth = found.tree.get_depth()
    figure, axis = plt.subplots(figsize=(DOUBLE_COLUMN, 1.2 + 1.1 * max(depth, 1)))
    names = [feature_label(name) for name in found.features]
    plot_tree(
        found.tree,
        feature_names=names,
        class_names=["no", "yes"],
        impurity=False,
        proportion=True,
        precision=2,
        fontsize=5,
        ax=axis,
        filled=False,
    )
    return Panel("cart", figure, caption, found.tree_rules)


def feature_label(feature: str) -> str:
    """A CART feature in words: one-hot ``us.policy=never`` -> ``US policy (true type) = Never``."""
    name, sep, level = feature.partition("=")
    return f"{label(name)} = {level_label(level)}" if sep else label(name)


# --- robust policies ----------------------------------------------------------------------------


def robust_panel(
    result: RobustResult, outcome_label: str, caption: str, levers: list[str]
) -> Panel:
    """Per policy: its outcome across worlds, its regret across worlds, its satisficing share."""
    policies = list(result.outcomes.index)
    names = [policy_words(policy, levers) for policy in policies]
    panels = 3 if result.threshold is not None else 2
    figure, axes = plt.subplots(
        1, panels, figsize=(DOUBLE_COLUMN, 1.3 + 0.3 * len(policies)), sharey=True
    )
    rows = np.arange(len(policies))
    draw_spread(axes[0], result.outcomes, rows, outcome_label)
    if result.threshold is not None:
        axes[0].axvline(result.threshold, color=OKABE_ITO[1], lw=0.8, ls="--")
    draw_spread(axes[1], result.regret, rows, f"Regret ({outcome_label})")
    maxima = result.summary["regret_max"].to_numpy()
    axes[1].plot(maxima, rows, "D", color=OKABE_ITO[1], ms=3, label="maximum")
    best = result.summary["minimax_regret"].to_numpy()
    axes[1].plot(maxima[best], rows[best], "D", mfc="none", mec="black", ms=6, mew=0.8)
    axes[1].set_title("Regret (diamond: maximum)")
    if result.threshold is not None:
        share = result.summary["satisficing_share"].to_numpy()
        axes[2].barh(rows, share, color=OKABE_ITO[2], height=0.6)
        axes[2].set(xlim=(0, 1), xlabel="Share of worlds")
        axes[2].set_title(f"Meets {'<=' if result.goal == 'min' else '>='} "
                          f"{result.threshold:g}")  # fmt: skip
    axes[0].set_yticks(rows, names)
    axes[0].invert_yaxis()
    axes[0].set_ylabel(" / ".join(label(lever) for lever in levers))
    axes[0].set_title("Outcome across worlds")
    return Panel("robust", figure, caption, result.summary)


def draw_spread(axis, table: pd.DataFrame, rows: np.ndarray, xlabel: str) -> None:
    """Per row of ``table`` (a policy), its values across columns (worlds) as a box plot."""
    values = [row[~np.isnan(row)] for row in table.to_numpy(dtype=float)]
    axis.boxplot(
        values, positions=rows, orientation="horizontal", widths=0.6, whis=(5, 95),
        showfliers=False, medianprops={"color": OKABE_ITO[0]},
    )  # fmt: skip
    axis.set(xlabel=xlabel)


def policy_words(policy: str, levers: list[str]) -> str:
    """A policy's lever levels in words, in lever order: ``Never / 0.2``."""
    levels = dict(part.split("=", 1) for part in policy.split(", ") if "=" in part)
    return " / ".join(level_label(number_or_text(levels.get(lever, ""))) for lever in levers)


def number_or_text(text: str) -> object:
    """A lever level read back from a policy label: a number if it is one."""
    try:
        return float(text)
    except ValueError:
        return text


# --- variants -----------------------------------------------------------------------------------


def compare_panel(
    effects: pd.DataFrame, reference: str, levers: list[str], caption: str, labels: dict[str, str]
) -> Panel:
    """Per outcome, each policy's effect against the reference, one marker per variant."""
    outcomes = list(dict.fromkeys(effects["outcome"]))
    variants = list(dict.fromkeys(effects["variant"]))
    policies = [p for p in dict.fromkeys(effects["policy"]) if p != reference]
    figure, axes = plt.subplots(
        1, len(outcomes), figsize=(DOUBLE_COLUMN, 2.2 + 0.45 * len(policies)), sharey=True,
        squeeze=False,
    )  # fmt: skip
    rows = np.arange(len(policies))
    step = 0.7 / max(len(variants), 1)
    for axis, outcome in zip(axes[0], outcomes, strict=True):
        part = effects[(effects["outcome"] == outcome) & (effects["policy"] != reference)]
        for index, (variant, colour) in enumerate(
            zip(variants, level_colours(len(variants)), strict=True)
        ):
            here = part[part["variant"] == variant].set_index("policy").loc[policies]
            axis.errorbar(
                here["effect"], rows - 0.35 + step * (index + 0.5),
                xerr=interval_errors(here, "effect"), fmt="o", ms=3,
                color=colour, elinewidth=0.8, capsize=1.5, label=level_label(variant),
            )  # fmt: skip
        axis.axvline(0, color="#555555", lw=0.6)
        versus = policy_words(reference, levers)
        axis.set(xlabel=f"Effect on {labels[outcome]}\n(against {versus})")
    axes[0][0].set_yticks(rows, [policy_words(p, levers) for p in policies])
    axes[0][0].set_ylim(len(policies) - 0.5, -0.5)
    axes[0][0].set_ylabel(" / ".join(label(lever) for lever in levers))
    handles, names = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=min(len(variants), 4),
                  title="Model variant")  # fmt: skip
    return Panel("compare", figure, caption, effects)


__all__ = [
    "cart_panel",
    "compare_panel",
    "morris_panel",
    "prim_panel",
    "robust_panel",
    "sobol_panel",
]
