"""A short Markdown summary of a sweep, with the tables behind its figures."""

import json
from pathlib import Path

import pandas as pd

from sim import analysis
from sim.analysis import FigurePlan, SweepResults
from sim.figures import PLAN_FILE, plan_choices
from sim.io import atomic_write_text
from sim.labels import label

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


def figure_link(folder: Path, name: str, base: Path | None = None) -> list[str]:
    """An image line for ``figures/<name>.png`` (or ``base/<name>.png``, both relative to
    ``folder``) if it was drawn."""
    where = base or Path("figures")
    if (folder / where / f"{name}.png").exists():
        return [f"![{name}]({where.as_posix()}/{name}.png)", ""]
    return []


def sweep_figure(sweep: SweepResults, name: str, figures: bool) -> list[str]:
    """`figure_link` for the sweep's figure ``name``, nothing unless ``figures``."""
    return figure_link(sweep.folder, name) if figures else []


def drawn_choices(folder: Path) -> dict[str, object] | None:
    """The parameters the last `escalation plot` split and mapped by (None if not plotted)."""
    path = folder / "figures" / PLAN_FILE
    try:
        choices = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return choices if isinstance(choices, dict) else None


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


def survival_section(sweep: SweepResults, plan: FigurePlan, figures: bool) -> list[str]:
    """Median drawdown day per level, and the log-rank tests between levels."""
    curves = analysis.survival_curves(sweep.ok, plan.by, sweep.horizon, CONFIDENCE)
    lines = [
        "## Time to drawdown",
        "",
        *sweep_figure(sweep, "survival", figures),
        f"Kaplan-Meier median drawdown day with its {CONFIDENCE:.0%} interval; runs without a "
        "drawdown are censored at the horizon (n.r. = not reached).",
        "",
        markdown_table(analysis.survival_summary(curves)),
        "",
    ]
    if plan.by is not None and len(curves) > 1:
        tests = analysis.logrank_table(sweep.ok, plan.by, sweep.horizon)
        lines += [
            f"Log-rank tests between levels of {label(plan.by.name)} (`{plan.by.name}`; "
            "two-sided, pairwise):",
            "",
            markdown_table(tests),
            "",
        ]
    return lines


def fan_section(sweep: SweepResults, plan: FigurePlan, figures: bool) -> list[str]:
    """The fan chart's quantiles at five days spread over the horizon."""
    table = analysis.fan_quantiles(sweep.series, sweep.ok, plan.by)
    days = sorted({round(sweep.horizon * share) for share in (0, 0.25, 0.5, 0.75, 1)})
    return [
        "## Escalation over time",
        "",
        *sweep_figure(sweep, "fan", figures),
        f"Highest rung in the past {analysis.FAN_WINDOW_DAYS} days: quantiles over replicates.",
        "",
        markdown_table(table[table["day"].isin(days)]),
        "",
    ]


def heatmap_section(sweep: SweepResults, plan: FigurePlan, figures: bool) -> list[str]:
    """Red-line probability and median drawdown day per cell of the two heat-map parameters."""
    x, y = plan.heat
    table = analysis.heatmap_table(sweep.ok, x, y, sweep.horizon)
    return [
        f"## Outcomes over {label(x.name)} and {label(y.name)}",
        "",
        *sweep_figure(sweep, "heatmap", figures),
        f"Share of runs crossing the red line within the horizon and Kaplan-Meier median "
        f"drawdown day, per cell of `{x.name}` and `{y.name}`.",
        "",
        markdown_table(table),
        "",
    ]


def sobol_section(sweep: SweepResults, plan: FigurePlan, figures: bool) -> list[str]:
    """Sobol' indices with the seed noise removed, the noise shares and the checks."""
    from sim.exploration import sobol_report_lines  # it builds on this module

    names = [p.name for p in sweep.parameters]
    outcomes = list(plan.sobol_outcomes)
    return [
        "## Global sensitivity",
        "",
        *sweep_figure(sweep, "sobol", figures),
        *sobol_report_lines(sweep.ok, names, sweep.horizon, outcomes),
    ]


def attacks_section(sweep: SweepResults, plan: FigurePlan, figures: bool) -> list[str]:
    """Mean attacks per run by site and by group."""
    table = analysis.attack_counts(sweep.ok, plan.by, CONFIDENCE)
    return [
        "## Attacks by site and by group",
        "",
        *sweep_figure(sweep, "attacks", figures),
        f"Mean attacks per run with {CONFIDENCE:.0%} Student-t intervals.",
        "",
        markdown_table(table),
        "",
    ]


def render_report(sweep: SweepResults, plan: FigurePlan, replot: str | None = None) -> str:
    """The whole report as Markdown. Given ``replot`` (see `replot_note`), it embeds no figure
    and that note follows the title."""
    sections = [
        (plan.survival, survival_section),
        (plan.fan, fan_section),
        (plan.heat is not None, heatmap_section),
        (bool(plan.sobol_outcomes), sobol_section),
        (plan.attacks, attacks_section),
    ]
    lines = header(sweep)
    if replot is not None:
        lines[2:2] = [replot, ""]  # after the title and its blank line
    for fits, section in sections:
        if fits:
            lines += section(sweep, plan, replot is None)
    return "\n".join(lines).rstrip() + "\n"


def write_report(folder: Path, by: str | None = None, heat: list[str] | None = None) -> Path:
    """Write ``folder/report.md`` for the sweep in ``folder``; return its path.

    Without ``by`` and ``heat`` the report follows the last `escalation plot` of the folder, so
    it describes the figures it embeds; given ones that differ from the plot's, it embeds no
    figure and says which `plot` command would draw the matching ones.
    """
    from sim.exploration import analysis_sections, is_morris, morris_report

    path = folder / "report.md"
    if is_morris(folder):
        atomic_write_text(path, morris_report(folder))
        return path
    drawn = drawn_choices(folder)
    if drawn is not None and by is None and not heat:
        by, heat = drawn.get("by"), drawn.get("heat")
    sweep = analysis.load_results(folder)
    plan = analysis.plan_figures(sweep, by, heat)
    replot = None
    if drawn is not None and drawn != plan_choices(plan):
        replot = replot_note(folder, plan)
    text = render_report(sweep, plan, replot) + analysis_sections(folder)
    atomic_write_text(path, text)
    return path


def replot_note(folder: Path, plan: FigurePlan) -> str:
    """Why a report embeds no figures, and the command that draws matching ones."""
    options = f" --by '{plan.by.name}'" if plan.by else ""
    options += "".join(f" --heat '{p.name}'" for p in plan.heat or ())
    return (
        "The figures in `figures/` were drawn with other parameters than this report uses; "
        f"run `escalation plot {folder}{options}` to draw matching ones."
    )
