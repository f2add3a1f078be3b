"""The exploratory commands: `plot` and `report` of a Morris design, `discover`, `robust` and
`compare`. Each reads only the columns it needs (`sim.sweep_columns`), writes its figures with
`sim.figures.write_panel` and a Markdown section that `escalation report` includes.

Outputs of `discover`, `robust` and `compare` go to ``OUT/analyses/<command>-<name>/`` (the
figures, their tables and captions, and ``section.md``), where `escalation plot` does not remove
them; ``name`` defaults to a slug of the expression.
"""

import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim import discovery, expressions, robust, screening, sensitivity, variants
from sim.analysis import SUMMARY_SOURCES, summary_values
from sim.errors import InputError, SweepError
from sim.explore_figures import (
    cart_panel,
    compare_panel,
    morris_panel,
    prim_panel,
    robust_panel,
    sobol_panel,
)
from sim.figures import STYLE, Panel, remove_stale, write_csv, write_panel
from sim.io import atomic_write, atomic_write_text
from sim.labels import label
from sim.report import figure_link, markdown_table
from sim.sweep_columns import SweepColumns, open_sweep
from sim.sweep_folder import SOBOL_COLUMNS

ANALYSES = "analyses"
SECTION = "section.md"
REPORT_TOP = 20  # factors listed per outcome in the screening report
BOOTSTRAP_SEED = 0


def summary_outcomes(sweep: SweepColumns) -> list[str]:
    """The summary outcomes (`sim.analysis.SUMMARY_SOURCES`) whose source the sweep has."""
    return [name for name, source in SUMMARY_SOURCES.items() if source in sweep.columns]


def describe(sweep: SweepColumns, runs: int) -> str:
    """Caption lines naming the experiment and the runs used."""
    manifest = sweep.manifest
    total = manifest.get("counts", {}).get("done", runs)
    return (
        f"Experiment: {sweep.name} ({manifest.get('experiment_file')}, sha256 "
        f"{manifest.get('experiment_sha256')})\n"
        f"Design: {sweep.design.get('kind', 'unknown')}; horizon {sweep.horizon} days\n"
        f"Runs: {total} in the sweep, {runs} ok used"
    )


def header(sweep: SweepColumns, runs: int) -> list[str]:
    """A report's title and the facts that identify the sweep."""
    manifest = sweep.manifest
    lines = [f"# {sweep.name}", ""]
    if manifest.get("description"):
        lines += [str(manifest["description"]), ""]
    return [
        *lines,
        f"- Experiment: `{manifest.get('experiment_file')}` "
        f"(sha256 `{manifest.get('experiment_sha256')}`)",
        f"- Design: {sweep.design.get('kind')}; replicates per point: "
        f"{manifest.get('replicates')}; seed: {manifest.get('seed')}; "
        f"common random numbers: {str(manifest.get('common_random_numbers')).lower()}; "
        f"horizon: {sweep.horizon} days",
        f"- Runs: {manifest.get('counts', {}).get('done', runs)} ({runs} ok)",
        "",
    ]


def write_panels(panels: list[Panel], folder: Path) -> list[Path]:
    """Save panels into ``folder`` (made if missing); return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    return [path for panel in panels for path in write_panel(panel, folder)]


# --- Morris screening ---------------------------------------------------------------------------


def is_morris(folder: Path) -> bool:
    """Whether the sweep in ``folder`` has a Morris design."""
    return open_sweep(folder).design.get("kind") == "morris"


def morris_tables(sweep: SweepColumns) -> tuple[list[pd.DataFrame], int]:
    """The screening table of each summary outcome, and the number of runs used."""
    outcomes = summary_outcomes(sweep)
    columns = ["point", "replicate", *screening.MORRIS_COLUMNS]
    runs = sweep.ok_runs(columns + [SUMMARY_SOURCES[name] for name in outcomes])
    levels = int(sweep.design.get("levels") or 4)
    parameters = sweep.names()
    tables = []
    for name in outcomes:
        values = runs[columns].assign(value=summary_values(runs, name, sweep.horizon))
        table = screening.morris_table(values, parameters, "value", levels, seed=BOOTSTRAP_SEED)
        tables.append(table.assign(outcome=name))
    return tables, len(runs)


def morris_caption(sweep: SweepColumns, runs: int) -> str:
    """What the Morris figure shows."""
    design = sweep.design
    levels = int(design.get("levels") or 4)
    return "\n".join(
        [
            describe(sweep, runs),
            f"Statistic: Morris elementary effects (Morris 1991; SALib trajectories): "
            f"{design.get('samples')} trajectories over {len(sweep.names())} factors on "
            f"{levels} levels, step {screening.morris_step(levels):.3g} of each factor's range; "
            "an effect is the change of the outcome (mean over replicates) per unit of the "
            "factor's range. Left: mu* (mean absolute effect, importance) against sigma (sd, "
            "interactions or non-linearity), with 95% percentile-bootstrap intervals over "
            f"trajectories (1000 resamples, seed {BOOTSTRAP_SEED}); grey: the mu* interval "
            "reaches the factor's seed-noise floor (the mu* that seed noise alone would give "
            "it, from the replicates; dotted: the median floor). Right: the top factors by mu*, "
            "numbered as on the left. Drawdown day counts runs without a drawdown at the horizon.",
        ]
    )


def plot_morris(folder: Path) -> list[Path]:
    """Draw the Morris figure of the sweep in ``folder`` into ``folder/figures``."""
    sweep = open_sweep(folder)
    tables, runs = morris_tables(sweep)
    with plt.style.context(STYLE, after_reset=True):
        panel = morris_panel(
            tables, morris_caption(sweep, runs), [label(t) for t in outcomes_of(tables)]
        )
    target = folder / "figures"
    written = write_panels([panel], target)
    remove_stale(target, written)
    return written


def outcomes_of(tables: list[pd.DataFrame]) -> list[str]:
    return [str(table["outcome"].iloc[0]) for table in tables]


def morris_report(folder: Path) -> str:
    """The report of a Morris sweep: the ranking of every factor for each outcome."""
    sweep = open_sweep(folder)
    tables, runs = morris_tables(sweep)
    lines = header(sweep, runs)
    lines += [
        "## Screening (Morris elementary effects)",
        "",
        *figure_link(folder, "morris"),
        f"Factors ranked by mu* (mean absolute elementary effect) for each outcome; the top "
        f"{REPORT_TOP} are listed here, all {len(sweep.names())} in `figures/morris.csv`. "
        "`above_noise` is false where the mu* interval reaches the seed-noise floor: such a "
        "factor cannot be told from the model's own noise with this design.",
        "",
    ]
    for table in tables:
        outcome = str(table["outcome"].iloc[0])
        shown = table.head(REPORT_TOP).assign(label=lambda t: t["parameter"].map(label))
        shown = shown[["rank", "label", "parameter", "mu_star", "mu_star_low", "mu_star_high",
                       "mu", "sigma", "noise_floor", "above_noise"]]  # fmt: skip
        above = int(table["above_noise"].sum())
        lines += [
            f"### {label(outcome)}",
            "",
            f"{above} of {len(table)} factors have mu* above the seed-noise floor.",
            "",
            markdown_table(shown),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n" + analysis_sections(folder)


# --- Sobol' indices (for `escalation plot` and `report` of a sobol design) ----------------------


def sobol_results(
    runs: pd.DataFrame, parameters: list[str], horizon: int, outcomes: list[str]
) -> tuple[pd.DataFrame, list[dict], list[tuple[str, bool, str]]]:
    """Indices, variance summaries and checks of each outcome of a Saltelli-layout table."""
    tables, summaries, checks = [], [], []
    for name in outcomes:
        values = runs[list(SOBOL_COLUMNS)].assign(value=summary_values(runs, name, horizon))
        table = sensitivity.sobol_table(values, parameters, "value", seed=BOOTSTRAP_SEED)
        table["outcome"] = name
        summary = sensitivity.variance_summary(values, parameters, "value", table)
        summary["outcome"] = name
        tables.append(table)
        summaries.append(summary)
        checks += sensitivity.sobol_checks(summary, table)
    return pd.concat(tables, ignore_index=True), summaries, checks


def sobol_caption(describe_lines: str, checks: list[tuple[str, bool, str]]) -> str:
    """What the Sobol' figure shows, and the checks."""
    failed = [f"{check} ({detail})" for check, ok, detail in checks if not ok]
    return "\n".join(
        [
            describe_lines,
            "Statistic: first-order and total Sobol' indices (Saltelli 2010 and Jansen 1999 "
            "estimators on replicate means) with the seed noise removed: the within-point "
            "variance of the replicates is estimated and subtracted from the variance and from "
            "the total-order terms (sim/sensitivity.py). Bars: all n base rows, with 95% "
            "percentile-bootstrap intervals (999 resamples of base rows, seed 0); open circles: "
            "the first n/2 rows (convergence). Drawdown day counts runs without a drawdown at "
            "the horizon.",
            "Checks failed: " + ("; ".join(failed) if failed else "none"),
        ]
    )


def sobol_figure(
    runs: pd.DataFrame, parameters: list[str], horizon: int, outcomes: list[str], lines: str
) -> Panel:
    """The Sobol' panel of a sweep's ok runs."""
    table, summaries, checks = sobol_results(runs, parameters, horizon, outcomes)
    caption = sobol_caption(lines, checks)
    return sobol_panel(table, summaries, caption, {name: label(name) for name in outcomes})


def sobol_report_lines(
    runs: pd.DataFrame, parameters: list[str], horizon: int, outcomes: list[str]
) -> list[str]:
    """The report's Sobol' tables: indices, the seed-noise shares and the checks."""
    table, summaries, checks = sobol_results(runs, parameters, horizon, outcomes)
    variance = pd.DataFrame(summaries)[
        ["outcome", "base_rows", "replicates", "seed_noise_share_of_runs",
         "seed_noise_share_of_means", "sum_first_order", "sum_total_order"]
    ]  # fmt: skip
    check_table = pd.DataFrame(checks, columns=["check", "passed", "detail"])
    shown = table.assign(parameter=table["parameter"].map(label))
    return [
        "Seed noise, measured from the replicates and removed from the indices: its share of "
        "the variance of single runs and of replicate means, and the sums of the indices.",
        "",
        markdown_table(variance),
        "",
        "Indices with 95% bootstrap intervals; `*_half`: the same from the first half of the "
        "base rows (convergence).",
        "",
        markdown_table(shown),
        "",
        "Checks (a failed check says which indices not to rely on):",
        "",
        markdown_table(check_table),
        "",
    ]


# --- scenario discovery -------------------------------------------------------------------------


def analysis_folder(folder: Path, command: str, name: str) -> Path:
    """``OUT/analyses/<command>-<name>``, emptied."""
    target = folder / ANALYSES / f"{command}-{name}"
    if target.exists():
        shutil.rmtree(target)
    return target


def write_section(target: Path, lines: list[str]) -> Path:
    path = target / SECTION
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


def analysis_sections(folder: Path) -> str:
    """The sections of every analysis of ``folder``, in name order, for `escalation report`."""
    root = folder / ANALYSES
    if not root.is_dir():
        return ""
    sections = [path / SECTION for path in sorted(root.iterdir()) if (path / SECTION).exists()]
    return "".join("\n" + path.read_text(encoding="utf-8") for path in sections)


def condition_table(
    sweep: SweepColumns, text: str, inputs: list[str], option: str
) -> tuple[expressions.Expression, pd.DataFrame]:
    """The parsed expression and the columns it and ``inputs`` need, ok runs only."""
    expression = expressions.parse(text, list(sweep.columns), option)
    return expression, sweep.ok_runs([*inputs, *expression.columns])


def write_discovery(
    folder: Path,
    where: str,
    name: str | None = None,
    min_coverage: float = discovery.DEFAULT_MIN_COVERAGE,
    mass_min: float = discovery.DEFAULT_MASS_MIN,
    depth: int = discovery.DEFAULT_DEPTH,
) -> list[Path]:
    """PRIM and CART of the runs meeting ``where``; figures and section in the analysis folder."""
    sweep = open_sweep(folder)
    inputs = sweep.inputs
    if not inputs:
        raise SweepError(str(folder), "parameters", "the sweep varies no input to discover over")
    expression, runs = condition_table(sweep, where, inputs, "--where")
    discovery.require_analysis_extra()
    condition = expressions.where(expression, runs)
    found = discovery.discover(
        runs[inputs], condition, where, min_coverage, mass_min, discovery.DEFAULT_ALPHA, depth
    )
    target = analysis_folder(folder, "discover", name or expression.slug())
    lines = describe(sweep, len(runs))
    with plt.style.context(STYLE, after_reset=True):
        panels = [
            prim_panel(found, prim_caption(lines, found, min_coverage, mass_min)),
            cart_panel(found, cart_caption(lines, found, depth, mass_min)),
        ]
    written = write_panels(panels, target)
    return [*written, write_section(target, discovery_section(folder, target, found))]


def prim_caption(lines: str, found: discovery.Discovery, min_coverage: float, mass: float) -> str:
    chosen = found.trajectory.loc[found.chosen]
    return "\n".join(
        [
            lines,
            f"Condition: {found.condition} ({found.cases} of {found.runs} runs).",
            "Statistic: PRIM (EMA Workbench; peeling and pasting, alpha 0.05, minimum mass "
            f"{mass:g}). Left: coverage (share of the runs meeting the condition that lie in "
            "the box) against density (share of the box's runs meeting it) of each box on the "
            "peeling trajectory, coloured by the number of restricted inputs; circled: the "
            f"chosen box, the densest with coverage >= {min_coverage:g} (box {found.chosen}: "
            f"coverage {chosen['coverage']:.3f}, density {chosen['density']:.3f}, mass "
            f"{chosen['mass']:.3f}). Right: its limits as shares of each input's range, with "
            "quasi-p-values of the lower / upper limit (Bryant and Lempert 2010; '-': not "
            "restricted).",
        ]
    )


def cart_caption(lines: str, found: discovery.Discovery, depth: int, mass: float) -> str:
    return "\n".join(
        [
            lines,
            f"Condition: {found.condition} ({found.cases} of {found.runs} runs).",
            f"Statistic: CART classification tree (scikit-learn, depth <= {depth}, leaves of at "
            f"least {mass:g} of the runs, random_state 0); each node gives its share of the runs "
            "and the share of them meeting the condition (yes) or not (no). Data: the leaves as "
            "rules with their runs, density and coverage.",
        ]
    )


def discovery_section(folder: Path, target: Path, found: discovery.Discovery) -> list[str]:
    """The report section of one discovery."""
    base = target.relative_to(folder)
    limits = found.limits.assign(input=found.limits["input"].map(label))
    limits = limits.astype(object).where(limits.notna(), "-")  # not restricted, or not a range
    chosen = found.trajectory.loc[found.chosen]
    return [
        f"## Scenario discovery: `{found.condition}`",
        "",
        f"{found.cases} of {found.runs} runs ({found.cases / found.runs:.1%}) meet the condition.",
        "",
        *figure_link(folder, "prim", base),
        f"PRIM's chosen box {found.chosen}: coverage {chosen['coverage']:.3f}, density "
        f"{chosen['density']:.3f}, {int(chosen['res_dim'])} restricted inputs. Limits with "
        "quasi-p-values (a limit with qp above 0.05 is not clearly needed):",
        "",
        markdown_table(limits),
        "",
        *figure_link(folder, "cart", base),
        "CART's leaves, densest first:",
        "",
        markdown_table(found.tree_rules),
        "",
    ]


# --- robust policies ----------------------------------------------------------------------------


def policy_runs(
    sweep: SweepColumns, text: str, option: str
) -> tuple[expressions.Expression, pd.DataFrame]:
    """The runs with their policy, world (and variant) and the expression's columns."""
    if "policy" not in sweep.columns:
        raise SweepError(str(sweep.folder), "levers", "the sweep has no candidate policies")
    keys = [c for c in ("policy", "world", "variant", "replicate") if c in sweep.columns]
    return condition_table(sweep, text, keys, option)


def write_robust(
    folder: Path, outcome: str, goal: str, threshold: float | None = None, name: str | None = None
) -> list[Path]:
    """Each policy's outcome and regret across the sampled worlds; figure and section."""
    if goal not in robust.GOALS:
        raise InputError("--goal", goal, f"must be one of {', '.join(robust.GOALS)}")
    sweep = open_sweep(folder)
    expression, runs = policy_runs(sweep, outcome, "--outcome")
    result = robust.robust_analysis(runs, expressions.quantity(expression, runs), goal, threshold)
    target = analysis_folder(folder, "robust", name or expression.slug())
    levers = sweep.names("lever")
    caption = robust_caption(describe(sweep, len(runs)), result, outcome)
    with plt.style.context(STYLE, after_reset=True):
        panel = robust_panel(result, outcome_words(expression, outcome), caption, levers)
    written = write_panels([panel], target)
    regret = result.regret.copy()
    regret.columns = [world_name(column) for column in regret.columns]
    regret_path = target / "regret.csv"
    regret_table = regret.rename_axis("policy").reset_index()
    atomic_write(regret_path, lambda tmp: write_csv(regret_table, tmp))
    section = robust_section(folder, target, result, outcome)
    return [*written, regret_path, write_section(target, section)]


def outcome_words(expression: expressions.Expression, text: str) -> str:
    """An outcome expression in words when it is a single name, else as written."""
    return label(expression.columns[0]) if expression.columns == [text.strip()] else text


def world_name(column: object) -> str:
    """A world's column name: its design point, or variant and design point."""
    return "/".join(str(part) for part in column) if isinstance(column, tuple) else str(column)


def robust_caption(lines: str, result: robust.RobustResult, outcome: str) -> str:
    worlds = result.outcomes.shape[1]
    aim = "lower" if result.goal == "min" else "higher"
    return "\n".join(
        [
            lines,
            f"Outcome: {outcome} ({aim} is better), the mean over a world's replicates.",
            f"Statistic: for each candidate policy, left: its outcome across the {worlds} "
            "sampled worlds (box: quartiles and median, whiskers 5-95%); middle: its regret, how "
            "much worse it does than the best policy in the same world (diamond: maximum; "
            "circled: the minimax-regret policy)"
            + (
                f"; right: the share of worlds in which it meets the threshold {result.threshold:g}"
                if result.threshold is not None
                else ""
            )
            + f". Median standard error of a (policy, world) mean: {result.standard_error:.3g} "
            "(seed noise; regrets below about twice it are not distinguishable from noise).",
        ]
    )


def robust_section(
    folder: Path, target: Path, result: robust.RobustResult, outcome: str
) -> list[str]:
    """The report section of one robustness analysis."""
    summary = result.summary
    minimax = ", ".join(summary.loc[summary["minimax_regret"], "policy"])
    lines = [
        f"## Robust policies: `{outcome}` ({'minimise' if result.goal == 'min' else 'maximise'})",
        "",
        *figure_link(folder, "robust", target.relative_to(folder)),
        f"{len(summary)} candidate policies across {result.outcomes.shape[1]} sampled worlds. "
        f"Minimax regret: **{minimax}**.",
    ]
    if result.threshold is not None:
        most = ", ".join(summary.loc[summary["most_satisficing"], "policy"])
        lines.append(f"Meets the threshold {result.threshold:g} in the most worlds: **{most}**.")
    return [
        *lines,
        f"Median standard error of a per-world mean: {result.standard_error:.3g}; regrets "
        "smaller than about twice that are seed noise. The full regret matrix is in "
        "`regret.csv`.",
        "",
        markdown_table(summary),
        "",
    ]


# --- variants -----------------------------------------------------------------------------------


def write_compare(
    folder: Path, outcomes: list[str], reference: str | None = None, name: str | None = None
) -> list[Path]:
    """Policy effects per variant and which conclusions hold in every variant."""
    sweep = open_sweep(folder)
    if "variant" not in sweep.columns:
        raise SweepError(str(folder), "variants", "the sweep has no model variants to compare")
    parsed = [expressions.parse(text, list(sweep.columns), "--outcome") for text in outcomes]
    used = [column for expression in parsed for column in expression.columns]
    runs = policy_runs(sweep, " + ".join(f"`{c}`" for c in dict.fromkeys(used)), "--outcome")[1]
    policies = list(dict.fromkeys(runs["policy"]))
    reference = reference or policies[0]
    if reference not in policies:
        raise InputError("--reference", reference, f"not a policy ({'; '.join(policies)})")
    paired = bool(sweep.manifest.get("common_random_numbers"))
    effects, found, orders = [], [], []
    labels = {}
    for text, expression in zip(outcomes, parsed, strict=True):
        values = runs.assign(value=expressions.quantity(expression, runs))
        table = variants.policy_effects(values, "value", reference, paired).assign(outcome=text)
        effects.append(table)
        found.append(variants.conclusions(values, "value", reference, paired).assign(outcome=text))
        orders.append(variants.ranking(table))
        labels[text] = outcome_words(expression, text)
    effects, found, orders = (pd.concat(t, ignore_index=True) for t in (effects, found, orders))
    target = analysis_folder(folder, "compare", name or "_".join(e.slug() for e in parsed))
    levers = sweep.names("lever")
    caption = compare_caption(describe(sweep, len(runs)), reference, paired)
    with plt.style.context(STYLE, after_reset=True):
        panel = compare_panel(effects, reference, levers, caption, labels)
    written = write_panels([panel], target)
    found_path = target / "conclusions.csv"
    atomic_write(found_path, lambda tmp: write_csv(found, tmp))
    section = compare_section(folder, target, found, orders, reference, paired)
    return [*written, found_path, write_section(target, section)]


def compare_caption(lines: str, reference: str, paired: bool) -> str:
    how = "paired by world and replicate (common random numbers)" if paired else "Welch"
    return "\n".join(
        [
            lines,
            f"Statistic: the effect of each candidate policy against {reference} (difference of "
            f"mean outcomes) in each model variant, with 95% t intervals ({how}).",
        ]
    )


def compare_section(
    folder: Path,
    target: Path,
    found: pd.DataFrame,
    orders: pd.DataFrame,
    reference: str,
    paired: bool,
) -> list[str]:
    """The report section of one comparison of variants."""
    held = int(found["holds_in_every_variant"].sum())
    same_order = orders.groupby("outcome", sort=False)["same_as_first_variant"].all()
    how = "paired by world and replicate" if paired else "Welch intervals"
    return [
        "## Conclusions across model variants",
        "",
        *figure_link(folder, "compare", target.relative_to(folder)),
        f"Each conclusion drawn in the first variant (the effect of a policy against "
        f"{reference}, or the order of two policies; 95% intervals, {how}; '0': the interval "
        f"includes 0) and its sign in every variant. {held} of {len(found)} conclusions hold "
        "in every variant; the ranking of the policies is the same in every variant for "
        f"{int(same_order.sum())} of {len(same_order)} outcomes.",
        "",
        markdown_table(found),
        "",
        "Ranking of the policies by mean outcome in each variant:",
        "",
        markdown_table(orders),
        "",
    ]
