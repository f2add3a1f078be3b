"""A short Markdown summary of a sweep, with the tables behind its figures."""

from pathlib import Path

import pandas as pd

from sim import analysis
from sim.analysis import FigurePlan, SweepResults
from sim.io import atomic_write_text

CONFIDENCE = 0.95


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table, floats to 3 significant digits, NaN as 'n.r.'."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "n.r." if value != value else f"{value:.3g}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def figure_link(sweep: SweepResults, name: str) -> list[str]:
    """An image line for ``figures/<name>.png`` if `escalation plot` has drawn it."""
    if (sweep.folder / "figures" / f"{name}.png").exists():
        return [f"![{name}](figures/{name}.png)", ""]
    return []


def header(sweep: SweepResults) -> list[str]:
    """Title and the facts that identify the sweep."""
    manifest, total, ok = sweep.manifest, len(sweep.runs), len(sweep.ok)
    parameters = ", ".join(f"`{p.name}`" for p in sweep.parameters) or "none"
    lines = [f"# {sweep.name}", ""]
    if manifest.get("description"):
        lines += [str(manifest["description"]), ""]
    lines += [
        f"- Experiment: `{manifest.get('experiment_file')}` "
        f"(sha256 `{manifest.get('experiment_sha256')}`)",
        f"- Design: {sweep.design or 'unknown'}; swept parameters: {parameters}",
        f"- Runs: {total} ({ok} ok, {total - ok} failed); replicates per point: "
        f"{manifest.get('replicates')}; seed: {manifest.get('seed')}; "
        f"horizon: {sweep.horizon} days",
        "",
        "All statistics below use the runs that finished ok.",
        "",
    ]
    return lines


def survival_section(sweep: SweepResults, plan: FigurePlan) -> list[str]:
    """Median drawdown day per level, and the log-rank tests between levels."""
    curves = analysis.survival_curves(sweep.ok, plan.by, sweep.horizon, CONFIDENCE)
    lines = [
        "## Time to drawdown",
        "",
        *figure_link(sweep, "survival"),
        f"Kaplan-Meier median drawdown day with its {CONFIDENCE:.0%} interval; runs without a "
        "drawdown are censored at the horizon (n.r. = not reached).",
        "",
        markdown_table(analysis.survival_summary(curves)),
        "",
    ]
    if plan.by is not None and len(curves) > 1:
        tests = analysis.logrank_table(sweep.ok, plan.by, sweep.horizon)
        lines += [
            f"Log-rank tests between levels of `{plan.by.name}` (two-sided, pairwise):",
            "",
            markdown_table(tests),
            "",
        ]
    return lines


def fan_section(sweep: SweepResults, plan: FigurePlan) -> list[str]:
    """The fan chart's quantiles at five days spread over the horizon."""
    table = analysis.fan_quantiles(sweep.series, sweep.ok, plan.by)
    days = sorted({round(sweep.horizon * share) for share in (0, 0.25, 0.5, 0.75, 1)})
    return [
        "## Escalation over time",
        "",
        *figure_link(sweep, "fan"),
        f"Highest rung in the past {analysis.FAN_WINDOW_DAYS} days: quantiles over replicates.",
        "",
        markdown_table(table[table["day"].isin(days)]),
        "",
    ]


def heatmap_section(sweep: SweepResults, plan: FigurePlan) -> list[str]:
    """Red-line probability and median drawdown day per cell of the two heat-map parameters."""
    x, y = plan.heat
    table = analysis.heatmap_table(sweep.ok, x.name, y.name, sweep.horizon)
    return [
        f"## Outcomes over `{x.name}` and `{y.name}`",
        "",
        *figure_link(sweep, "heatmap"),
        "Share of runs crossing the red line within the horizon and Kaplan-Meier median "
        "drawdown day, per cell.",
        "",
        markdown_table(table),
        "",
    ]


def sobol_section(sweep: SweepResults, plan: FigurePlan) -> list[str]:
    """First-order and total Sobol indices of each outcome, with bootstrap intervals."""
    names = [p.name for p in sweep.parameters]
    outcomes = list(plan.sobol_outcomes)
    table = analysis.sobol_tables(sweep.ok, names, outcomes, sweep.horizon, CONFIDENCE)
    return [
        "## Global sensitivity",
        "",
        *figure_link(sweep, "sobol"),
        f"Sobol indices with {CONFIDENCE:.0%} percentile-bootstrap intervals (999 resamples).",
        "",
        markdown_table(table),
        "",
    ]


def attacks_section(sweep: SweepResults, plan: FigurePlan) -> list[str]:
    """Mean attacks per run by site and by group."""
    table = analysis.attack_counts(sweep.ok, plan.by, CONFIDENCE)
    return [
        "## Attacks by site and by group",
        "",
        *figure_link(sweep, "attacks"),
        f"Mean attacks per run with {CONFIDENCE:.0%} Student-t intervals.",
        "",
        markdown_table(table),
        "",
    ]


def render_report(sweep: SweepResults, plan: FigurePlan) -> str:
    """The whole report as Markdown."""
    sections = [
        (plan.survival, survival_section),
        (plan.fan, fan_section),
        (plan.heat is not None, heatmap_section),
        (bool(plan.sobol_outcomes), sobol_section),
        (plan.attacks, attacks_section),
    ]
    lines = header(sweep)
    for fits, section in sections:
        if fits:
            lines += section(sweep, plan)
    return "\n".join(lines).rstrip() + "\n"


def write_report(folder: Path, by: str | None = None, heat: list[str] | None = None) -> Path:
    """Write ``folder/report.md`` for the sweep in ``folder``; return its path."""
    sweep = analysis.load_results(folder)
    plan = analysis.plan_figures(sweep, by, heat)
    text = render_report(sweep, plan)
    path = folder / "report.md"
    atomic_write_text(path, text)
    return path
