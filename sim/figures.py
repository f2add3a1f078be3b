"""Paper figures of a sweep, written byte for byte reproducibly.

Every figure is saved as vector PDF and 300 dpi PNG with the table it plots (CSV) and a caption
(TXT) naming the experiment, the runs used and the statistic shown. Output is deterministic:
the Agg backend, one fixed style (DejaVu Sans, which ships with matplotlib), no dates or software
versions in file metadata, a fixed hash salt, seeded bootstraps and sorted iteration everywhere.
"""

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.figure import Figure

from sim import analysis
from sim.analysis import FigurePlan, SweepResults
from sim.errors import SweepError
from sim.io import atomic_write, atomic_write_bytes, atomic_write_json, atomic_write_text
from sim.labels import label, level_label
from sim.ladder import Rung

SINGLE_COLUMN = 3.5  # inches, the usual journal column width
DOUBLE_COLUMN = 7.2  # inches, the usual full page width
PNG_DPI = 300
OKABE_ITO = [  # Okabe & Ito (2008), safe for all common colour-vision deficiencies
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
]
SEQUENTIAL_MAP = "cividis"  # perceptually uniform and colour-blind safe
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "image.cmap": SEQUENTIAL_MAP,
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": PNG_DPI,
    "pdf.fonttype": 42,  # embed TrueType so text stays editable
    "pdf.compression": 6,
    "svg.hashsalt": "escalation",
    "path.simplify": False,
}
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}
PNG_METADATA = {"Software": None}
PLAN_FILE = "plan.json"  # which parameters `plot` split and mapped by, for `report`
CONFIDENCE = 0.95
DAY_LABEL = "Days since scenario start (d)"


@dataclass
class Panel:
    """A finished figure with its caption and the table it plots."""

    name: str
    figure: Figure
    caption: str
    data: pd.DataFrame


def rung_label(rung: int) -> str:
    """A short tick label for a rung, e.g. '7 US casualties'."""
    words = Rung(rung).name.replace("_", " ").capitalize()
    words = words.replace("Us ", "US ").replace("iranians", "Iranians")
    return f"{rung} {words}"


def level_colours(count: int) -> list[str]:
    """The first ``count`` Okabe-Ito colours, repeated if more are needed."""
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(count)]


def describe_runs(sweep: SweepResults) -> str:
    """The caption lines naming the experiment and the runs used."""
    manifest = sweep.manifest
    source = manifest.get("experiment_file")
    digest = manifest.get("experiment_sha256")
    origin = ", ".join(str(part) for part in (source, digest and f"sha256 {digest}") if part)
    total, ok = len(sweep.runs), len(sweep.ok)
    return (
        f"Experiment: {sweep.name}" + (f" ({origin})" if origin else "") + "\n"
        f"Design: {sweep.design or 'unknown'}; horizon {sweep.horizon} days\n"
        f"Runs: {total} in the sweep, {ok} ok, {total - ok} failed; the figure uses the ok runs"
    )


def number(value: float, digits: int = 3) -> str:
    """A float for captions: fixed significant digits, 'n.r.' (not reached) for NaN."""
    return "n.r." if value != value else f"{value:.{digits}g}"


# --- survival ------------------------------------------------------------------------------------


def survival_panel(sweep: SweepResults, plan: FigurePlan) -> Panel:
    """Kaplan-Meier curves of time to drawdown, one per level of the split parameter."""
    runs, by = sweep.ok, plan.by
    curves = analysis.survival_curves(runs, by, sweep.horizon, CONFIDENCE)
    figure, axes = plt.subplots(figsize=(SINGLE_COLUMN, 2.6))
    for curve, colour in zip(curves, level_colours(len(curves)), strict=True):
        axes.fill_between(
            curve.days, curve.low, curve.high, step="post", color=colour, alpha=0.2, lw=0
        )
        axes.step(
            curve.days, curve.survival, where="post", color=colour, label=level_label(curve.label)
        )
    axes.axhline(0.5, color="#555555", lw=0.6, ls=":")
    last_day = max(float(curve.days[-1]) for curve in curves)
    axes.set(xlim=(0, last_day), ylim=(0, 1.02), xlabel=DAY_LABEL)
    axes.set_ylabel("P(no drawdown yet)")
    axes.legend(title=label(by.name) if by else None, loc="best")
    medians = "; ".join(
        f"{c.label}: {number(c.median)} [{number(c.median_low)}, {number(c.median_high)}] "
        f"({c.events} drawdowns in {c.n} runs)"
        for c in curves
    )
    lines = [
        describe_runs(sweep),
        "Statistic: Kaplan-Meier estimate (scipy.stats.ecdf on right-censored data) of the "
        "probability that US troops have not yet come down to the drawdown target by each day"
        + (f", one curve per level of {by.name}" if by else "")
        + f"; shaded: {CONFIDENCE:.0%} pointwise log-log confidence bands; runs without a "
        "drawdown are censored at the horizon; the axis ends at the last run's last day. "
        "Dotted line: 0.5.",
        f"Median drawdown day [{CONFIDENCE:.0%} CI] (n.r. = not reached): {medians}",
    ]
    if by is not None and len(curves) > 1:
        tests = analysis.logrank_table(runs, by, sweep.horizon)
        lines.append(
            "Log-rank tests (scipy.stats.logrank, two-sided, pairwise; Bonferroni-adjusted p): "
            + "; ".join(
                f"{row.level_a} vs {row.level_b}: z = {row.statistic:.3f}, "
                f"p = {row.p_value:.3g} (adj. {row.p_bonferroni:.3g})"
                for row in tests.itertuples()
            )
        )
    return Panel("survival", figure, "\n".join(lines), analysis.survival_steps(curves))


# --- escalation fans -----------------------------------------------------------------------------


def fan_panel(sweep: SweepResults, plan: FigurePlan) -> Panel:
    """The system's rung over time: median and 50%/90% bands over replicates, per level."""
    table = analysis.fan_quantiles(sweep.series, sweep.ok, plan.by)
    levels = list(dict.fromkeys(table["level"]))
    width = SINGLE_COLUMN if len(levels) == 1 else DOUBLE_COLUMN
    figure, axes = plt.subplots(1, len(levels), figsize=(width, 2.6), sharey=True, squeeze=False)
    for axis, level, colour in zip(axes[0], levels, level_colours(len(levels)), strict=True):
        fan = table[table["level"] == level]
        axis.fill_between(
            fan["day"], fan["q05"], fan["q95"], color=colour, alpha=0.2, lw=0, label="90%"
        )
        axis.fill_between(
            fan["day"], fan["q25"], fan["q75"], color=colour, alpha=0.45, lw=0, label="50%"
        )
        axis.plot(fan["day"], fan["q50"], color=colour, label="median")
        axis.set(xlim=(0, fan["day"].max()))
        if plan.by is not None:
            axis.set_title(level_label(level))
    label_size = plt.rcParams["axes.labelsize"]
    if plan.by is not None:
        figure.suptitle(label(plan.by.name), fontsize=label_size)
    if len(levels) > 1:
        figure.supxlabel(DAY_LABEL, fontsize=label_size)
    else:
        axes[0][0].set_xlabel(DAY_LABEL)
    axes[0][0].set(ylim=(-0.3, len(Rung) - 0.7), yticks=range(len(Rung)))
    axes[0][0].set_yticklabels([rung_label(r) for r in range(len(Rung))])
    axes[0][0].set_ylabel(f"Highest rung in past {analysis.FAN_WINDOW_DAYS} days")
    handles, names = axes[0][-1].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=3)
    caption = "\n".join(
        [
            describe_runs(sweep),
            "Statistic: highest rung reached by any actor (system_rung, 0 = talks, 11 = open "
            f"war) in the {analysis.FAN_WINDOW_DAYS} days up to each day; line: median over "
            "replicates; bands: 25-75% and 5-95% quantiles "
            "(observed rungs, nearest-rank)"
            + (f"; one panel per level of {plan.by.name}" if plan.by else "")
            + ".",
        ]
    )
    return Panel("fan", figure, caption, table)


# --- heat maps -----------------------------------------------------------------------------------


def heatmap_panel(sweep: SweepResults, plan: FigurePlan) -> Panel:
    """P(red line crossed) and median drawdown day over two swept parameters."""
    x, y = plan.heat
    table = analysis.heatmap_table(sweep.ok, x, y, sweep.horizon)
    figure, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.9))
    outcomes = [
        ("p_redline", "P(red line crossed within horizon)", (0.0, 1.0), ".2f"),
        ("median_drawdown_day", "Median drawdown day (d)", (0.0, float(sweep.horizon)), ".0f"),
    ]
    for axis, (column, title, limits, spec) in zip(axes, outcomes, strict=True):
        grid = table.pivot(index=y.name, columns=x.name, values=column)
        grid = grid.reindex(index=list(dict.fromkeys(table[y.name])))
        grid = grid.reindex(columns=list(dict.fromkeys(table[x.name])))
        draw_heatmap(axis, grid, limits, spec, title)
        axis.set(xlabel=label(x.name), ylabel=label(y.name))
    caption = "\n".join(
        [
            describe_runs(sweep),
            f"Statistic: over {label(x.name)} ({x.name}, x) and {label(y.name)} ({y.name}, y), "
            "in their declared order, left: share of runs in which the US "
            "red line (an American killed) was crossed within the horizon; right: Kaplan-Meier "
            "median drawdown day (n.r. = more than half the runs had no drawdown by the horizon, "
            f"hatched). Parameters with more than {analysis.MAX_LEVELS} values are binned into "
            f"{analysis.HEAT_BINS} equal-width bins. Runs per cell: "
            f"{table['runs'].min()}-{table['runs'].max()}.",
        ]
    )
    return Panel("heatmap", figure, caption, table)


def draw_heatmap(
    axis, grid: pd.DataFrame, limits: tuple[float, float], spec: str, title: str
) -> None:
    """A cell grid with values written in, a colour bar, and hatching where a value is missing."""
    values = grid.to_numpy(dtype=float)
    mesh = axis.pcolormesh(
        np.ma.masked_invalid(values), vmin=limits[0], vmax=limits[1], cmap=SEQUENTIAL_MAP
    )
    axis.set_facecolor("#eeeeee")
    axis.grid(False)
    axis.set_xticks(
        np.arange(values.shape[1]) + 0.5,
        [level_label(v) for v in grid.columns],
        rotation=30,
        ha="right",
    )
    axis.set_yticks(np.arange(values.shape[0]) + 0.5, [level_label(v) for v in grid.index])
    for (row, col), value in np.ndenumerate(values):
        if np.isnan(value):
            axis.add_patch(
                plt.Rectangle((col, row), 1, 1, fill=False, hatch="///", lw=0, ec="#999999")
            )
            axis.text(col + 0.5, row + 0.5, "n.r.", ha="center", va="center", fontsize=6)
        else:
            shade = (value - limits[0]) / (limits[1] - limits[0])
            colour = "black" if shade > 0.55 else "white"
            axis.text(
                col + 0.5,
                row + 0.5,
                format(value, spec),
                ha="center",
                va="center",
                fontsize=6,
                color=colour,
            )
    axis.figure.colorbar(mesh, ax=axis, label=title)


# --- global sensitivity --------------------------------------------------------------------------


def sobol_panel(sweep: SweepResults, plan: FigurePlan) -> Panel:
    """First-order and total Sobol' indices with the seed noise removed (`sim.sensitivity`)."""
    from sim.exploration import sobol_figure  # it builds on this module

    names = [p.name for p in sweep.parameters]
    return sobol_figure(
        sweep.ok, names, sweep.horizon, list(plan.sobol_outcomes), describe_runs(sweep)
    )


# --- attack counts -------------------------------------------------------------------------------


def attacks_panel(sweep: SweepResults, plan: FigurePlan) -> Panel:
    """Mean attacks per run on each site and by each group, per level of the split parameter."""
    table = analysis.attack_counts(sweep.ok, plan.by, CONFIDENCE)
    levels = list(dict.fromkeys(table["level"]))
    figure, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 2.8))
    bar = 0.8 / len(levels)
    for axis, kind, title in zip(axes, ("site", "group"), ("By site", "By group"), strict=True):
        part = table[table["by"] == kind]
        names = list(dict.fromkeys(part["name"]))
        rows = np.arange(len(names))
        for index, (level, colour) in enumerate(
            zip(levels, level_colours(len(levels)), strict=True)
        ):
            values = part[part["level"] == level].set_index("name").loc[names]
            errors = [values["mean"] - values["low"], values["high"] - values["mean"]]
            axis.barh(
                rows - 0.4 + bar * (index + 0.5),
                values["mean"],
                height=bar,
                color=colour,
                label=level_label(level),
                xerr=errors,
                error_kw={"lw": 0.6, "capsize": 1},
            )
        axis.set_yticks(rows, [level_label(name) for name in names])
        axis.invert_yaxis()
        axis.set(title=title, xlabel="Attacks per run (mean)")
    if plan.by is not None:
        handles, names = axes[1].get_legend_handles_labels()
        figure.legend(
            handles, names, title=label(plan.by.name), loc="outside lower center", ncols=4
        )
    caption = "\n".join(
        [
            describe_runs(sweep),
            "Statistic: mean number of militia attacks per run on each site (left) and by each "
            f"group (right) over the horizon, with {CONFIDENCE:.0%} Student-t intervals of the mean"
            + (f"; bars per level of {label(plan.by.name)} ({plan.by.name})" if plan.by else "")
            + ".",
        ]
    )
    return Panel("attacks", figure, caption, table)


# --- writing -------------------------------------------------------------------------------------


def chosen_panels(plan: FigurePlan) -> list[Callable[[SweepResults, FigurePlan], Panel]]:
    """The figure builders that fit the sweep, in a fixed order."""
    chosen = [
        (plan.survival, survival_panel),
        (plan.fan, fan_panel),
        (plan.heat is not None, heatmap_panel),
        (bool(plan.sobol_outcomes), sobol_panel),
        (plan.attacks, attacks_panel),
    ]
    return [build for fits, build in chosen if fits]


def build_panels(sweep: SweepResults, plan: FigurePlan) -> list[Panel]:
    """Every figure that fits the sweep, drawn in the fixed style (nothing written yet)."""
    with plt.style.context(STYLE, after_reset=True):
        return [build(sweep, plan) for build in chosen_panels(plan)]


def write_panel(panel: Panel, folder: Path) -> list[Path]:
    """Save one figure as PDF and PNG with its caption and data; return the paths written."""
    stem = folder / panel.name
    paths = [stem.with_suffix(suffix) for suffix in (".pdf", ".png", ".txt", ".csv")]
    with plt.style.context(STYLE, after_reset=True):
        atomic_write_bytes(paths[0], rendered(panel.figure, "pdf", PDF_METADATA))
        atomic_write_bytes(paths[1], rendered(panel.figure, "png", PNG_METADATA))
    plt.close(panel.figure)
    atomic_write_text(paths[2], f"Figure: {panel.name}\n{panel.caption}\nData: {paths[3].name}\n")
    atomic_write(paths[3], lambda tmp: write_csv(panel.data, tmp))
    return paths


def rendered(figure: Figure, kind: str, metadata: dict, dpi: float | None = None) -> bytes:
    """A figure's file in memory: written to disk by us, a full disk is one clear error
    (matplotlib's own writer trips over its clean-up and leaves its file open). ``dpi``
    overrides the style's ``savefig.dpi``."""
    buffer = io.BytesIO()
    resolution = {} if dpi is None else {"dpi": dpi}
    figure.savefig(buffer, format=kind, metadata=metadata, **resolution)
    return buffer.getvalue()


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """A table as CSV with a fixed float format, so the bytes do not depend on the platform."""
    table.to_csv(path, index=False, float_format="%.6g", lineterminator="\n")


def remove_stale(folder: Path, written: list[Path]) -> None:
    """Delete figure files that an earlier plot wrote and this one did not."""
    keep = set(written)
    for path in sorted(folder.iterdir()):
        if path.suffix in {".pdf", ".png", ".txt", ".csv"} and path not in keep:
            path.unlink()


def plot_sweep(folder: Path, by: str | None = None, heat: list[str] | None = None) -> list[Path]:
    """Draw every figure that fits a sweep into its ``figures`` folder.

    Each figure is written as PDF, PNG, a caption (``.txt``) and the table it plots (``.csv``);
    files an earlier plot wrote and this one did not are removed.

    Args:
        folder: the sweep's results folder (see `sim.sweep_folder`).
        by: the swept parameter to split survival curves, fans and attack bars by (default: the
            first categorical one, else the first with few values).
        heat: the two swept parameters of the heat maps, x then y (default: the first two
            numeric ones).

    Returns:
        The paths written, figure by figure.
    """
    from sim.exploration import is_morris, plot_morris  # they build on this module

    if is_morris(folder):
        if by is not None or heat:
            raise SweepError("--by" if by else "--heat", "", "not used by Morris designs")
        return plot_morris(folder)
    sweep = analysis.load_results(folder)
    plan = analysis.plan_figures(sweep, by, heat)
    panels = build_panels(sweep, plan)
    target = folder / "figures"
    target.mkdir(exist_ok=True)
    written = [path for panel in panels for path in write_panel(panel, target)]
    remove_stale(target, written)
    atomic_write_json(target / PLAN_FILE, plan_choices(plan))
    return written


def plan_choices(plan: FigurePlan) -> dict[str, object]:
    """The parameters a plot split and mapped by, as `report` reads them back."""
    heat = [p.name for p in plan.heat] if plan.heat else None
    return {"by": plan.by.name if plan.by else None, "heat": heat}


def file_digest(path: Path) -> str:
    """The sha256 of a file, for manifests and tests."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
