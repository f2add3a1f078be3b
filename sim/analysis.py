"""Statistics behind the figures, computed from a sweep's output folder.

`load_results` reads a sweep folder (`sim.sweep_folder`): the runs, the daily series if kept and
the manifest. Everything else here is pure: tables in, tables out, no plotting. Survival estimates
treat a run that never draws down as right-censored at its horizon.
"""

import itertools
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.errors import SweepError
from sim.sweep_folder import (
    MANIFEST,
    RUNS,
    SOBOL_COLUMNS,
    load_runs,
    load_series,
    read_manifest,
)

REQUIRED_COLUMNS = ("run_id", "status")
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_WINDOW_DAYS = 14
MAX_LEVELS = 8  # a numeric parameter with more distinct values is binned for heat maps
HEAT_BINS = 5


@dataclass(frozen=True)
class SweptParameter:
    """A swept parameter: its dotted scenario path and whether its values are numbers."""

    name: str
    numeric: bool
    levels: tuple = ()


@dataclass
class SweepResults:
    """A sweep's runs, daily series (if recorded) and manifest."""

    folder: Path
    runs: pd.DataFrame
    series: pd.DataFrame | None
    manifest: dict[str, Any]
    parameters: list[SweptParameter] = field(default_factory=list)

    @property
    def ok(self) -> pd.DataFrame:
        """The runs that finished without error."""
        return self.runs[self.runs["status"] == "ok"]

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.folder.name)

    @property
    def design(self) -> str:
        design = self.manifest.get("design", {})
        return str(design.get("kind", "") if isinstance(design, dict) else design)

    @property
    def horizon(self) -> int:
        return int(self.manifest["horizon_days"])

    def parameter(self, name: str, option: str) -> SweptParameter:
        """The swept parameter called ``name``, or a SweepError naming ``option``."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        swept = ", ".join(p.name for p in self.parameters) or "none"
        raise SweepError(option, name, f"not a swept parameter (swept: {swept})")


def load_results(folder: Path) -> SweepResults:
    """Read a sweep folder, checking that it holds what the analysis needs."""
    if not folder.is_dir():
        raise SweepError(str(folder), "", "no such folder")
    runs_path = folder / RUNS
    if not runs_path.exists():
        raise SweepError(str(runs_path), "", "not found; run `escalation sweep` first")
    manifest = read_manifest(folder)
    runs = load_runs(folder)
    for column in REQUIRED_COLUMNS:
        if column not in runs:
            raise SweepError(str(runs_path), column, "missing column")
    if "horizon_days" not in manifest:
        raise SweepError(str(folder / MANIFEST), "horizon_days", "missing")
    parameters = swept_parameters(manifest, runs, folder)
    return SweepResults(folder, runs, load_series(folder), manifest, parameters)


def swept_parameters(
    manifest: dict[str, Any], runs: pd.DataFrame, folder: Path
) -> list[SweptParameter]:
    """The manifest's parameters in order, each typed by its column in the runs table."""
    parameters = []
    for index, entry in enumerate(manifest.get("parameters", [])):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not name:
            raise SweepError(str(folder / MANIFEST), f"parameters.{index}", "no name")
        if name not in runs:
            raise SweepError(str(folder / RUNS), name, "swept parameter has no column")
        column = runs[name]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        declared = entry.get("values") or ()
        levels = tuple(declared) if not numeric and declared else tuple(sorted(column.unique()))
        parameters.append(SweptParameter(name, numeric, levels))
    return parameters


# --- survival of the US presence -----------------------------------------------------------------


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan-Meier estimate of P(no drawdown by day t), with pointwise confidence bands."""

    label: str
    n: int
    events: int
    days: np.ndarray
    survival: np.ndarray
    low: np.ndarray
    high: np.ndarray
    median: float
    median_low: float
    median_high: float
    confidence: float


def kaplan_meier(
    days: np.ndarray, observed: np.ndarray, confidence: float = 0.95, label: str = ""
) -> SurvivalCurve:
    """Kaplan-Meier estimate (`scipy.stats.ecdf` on right-censored data), log-log bands.

    ``days`` are event days where ``observed`` and censoring days elsewhere. The returned step
    function starts at day 0 with survival 1. The median is the first day with survival <= 0.5,
    and its interval the first days at which the upper and lower bands fall to 0.5
    (Brookmeyer-Crowley); NaN means "not reached within the horizon".
    """
    days = np.asarray(days, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    sample = stats.CensoredData(uncensored=days[observed], right=days[~observed])
    sf = stats.ecdf(sample).sf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(confidence, method="log-log")
    survival = sf.probabilities
    low = fill_undefined_band(band.low.probabilities, survival)
    high = fill_undefined_band(band.high.probabilities, survival)
    steps = np.concatenate([[0.0], sf.quantiles])
    survival, low, high = (np.concatenate([[1.0], values]) for values in (survival, low, high))
    return SurvivalCurve(
        label=label,
        n=len(days),
        events=int(observed.sum()),
        days=steps,
        survival=survival,
        low=low,
        high=high,
        median=first_day_at_or_below(steps, survival, 0.5),
        median_low=first_day_at_or_below(steps, low, 0.5),
        median_high=first_day_at_or_below(steps, high, 0.5),
        confidence=confidence,
    )


def fill_undefined_band(band: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """The log-log band is undefined where survival is 0 or 1; there it equals the estimate."""
    return np.where(np.isnan(band), survival, band)


def first_day_at_or_below(days: np.ndarray, values: np.ndarray, level: float) -> float:
    """The first day at which a decreasing step function is <= ``level``; NaN if never."""
    below = np.flatnonzero(values <= level + 1e-12)
    return float(days[below[0]]) if below.size else float("nan")


def drawdown_times(runs: pd.DataFrame, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Drawdown day of each run (the horizon when censored, i.e. missing) and whether observed."""
    days = runs["drawdown_day"].astype(float).to_numpy()
    observed = ~np.isnan(days)
    return np.where(observed, days, float(horizon)), observed


def survival_curves(
    runs: pd.DataFrame, by: SweptParameter | None, horizon: int, confidence: float = 0.95
) -> list[SurvivalCurve]:
    """One Kaplan-Meier curve per level of ``by`` (in level order), or one for all runs."""
    groups = [("all runs", runs)] if by is None else grouped(runs, by)
    curves = []
    for label, group in groups:
        days, observed = drawdown_times(group, horizon)
        curves.append(kaplan_meier(days, observed, confidence, level_name(label)))
    return curves


def level_name(level: Any) -> str:
    """A parameter level as text: floats to 3 significant digits, anything else as is."""
    return f"{level:.3g}" if isinstance(level, float) else str(level)


def grouped(runs: pd.DataFrame, by: SweptParameter) -> list[tuple[Any, pd.DataFrame]]:
    """The runs at each level of ``by`` that has any, in level order."""
    groups = [(level, runs[runs[by.name] == level]) for level in by.levels]
    return [(level, group) for level, group in groups if not group.empty]


def logrank_table(runs: pd.DataFrame, by: SweptParameter, horizon: int) -> pd.DataFrame:
    """Pairwise log-rank tests (`scipy.stats.logrank`) between the levels of ``by``.

    p-values are two-sided; `p_bonferroni` multiplies them by the number of pairs.
    """
    samples = []
    for level, group in grouped(runs, by):
        days, observed = drawdown_times(group, horizon)
        samples.append(
            (level_name(level), stats.CensoredData(days[observed], right=days[~observed]))
        )
    rows = []
    pairs = list(itertools.combinations(samples, 2))
    for (first, x), (second, y) in pairs:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.logrank(x, y)
        rows.append(
            {
                "level_a": first,
                "level_b": second,
                "statistic": float(result.statistic),
                "p_value": float(result.pvalue),
                "p_bonferroni": min(1.0, float(result.pvalue) * len(pairs)),
            }
        )
    return pd.DataFrame(
        rows, columns=["level_a", "level_b", "statistic", "p_value", "p_bonferroni"]
    )


def survival_summary(curves: list[SurvivalCurve]) -> pd.DataFrame:
    """Runs, drawdowns and median drawdown day with its interval, one row per curve."""
    return pd.DataFrame(
        {
            "level": [c.label for c in curves],
            "runs": [c.n for c in curves],
            "drawdowns": [c.events for c in curves],
            "median_day": [c.median for c in curves],
            "median_low": [c.median_low for c in curves],
            "median_high": [c.median_high for c in curves],
        }
    )


def survival_steps(curves: list[SurvivalCurve]) -> pd.DataFrame:
    """The plotted step functions as one long table."""
    frames = [
        pd.DataFrame(
            {"level": c.label, "day": c.days, "survival": c.survival, "low": c.low, "high": c.high}
        )
        for c in curves
    ]
    return pd.concat(frames, ignore_index=True)


# --- escalation fans -----------------------------------------------------------------------------


def fan_quantiles(
    series: pd.DataFrame,
    runs: pd.DataFrame,
    by: SweptParameter | None,
    column: str = "system_rung",
    window: int = FAN_WINDOW_DAYS,
) -> pd.DataFrame:
    """Quantiles over replicates, for each day (and level of ``by``), of the highest value of
    ``column`` in the trailing ``window`` days.

    The daily rung flickers between an attack and quiet days; its trailing maximum is the state
    of the crisis. Rungs are ordinal, so each quantile is an observed rung (nearest rank).
    """
    keys = ["run_id"] + ([by.name] if by else [])
    table = series[["run_id", "day", column]].merge(runs[keys], on="run_id", validate="many_to_one")
    table = table.sort_values(["run_id", "day"], kind="stable")
    rolling = table.groupby("run_id", sort=True)[column].rolling(window, min_periods=1).max()
    table[column] = rolling.reset_index(level=0, drop=True)
    groups = [("all runs", table)] if by is None else grouped(table, by)
    frames = []
    for level, group in groups:
        days = group.groupby("day", sort=True)[column]
        quantiles = {
            f"q{round(q * 100):02d}": days.quantile(q, interpolation="nearest")
            for q in FAN_QUANTILES
        }
        frame = pd.DataFrame(quantiles).reset_index()
        frame.insert(0, "level", level_name(level))
        frame.insert(2, "runs", days.size().to_numpy())
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- heat maps -----------------------------------------------------------------------------------


def parameter_levels(values: pd.Series) -> pd.Series:
    """The values themselves if few, else equal-width bins labelled by their range."""
    if values.nunique() <= MAX_LEVELS:
        return values
    bins = pd.cut(values, HEAT_BINS)
    labels = {iv: f"{iv.left:.3g} to {iv.right:.3g}" for iv in bins.cat.categories}
    return bins.map(labels).astype(pd.CategoricalDtype(list(labels.values()), ordered=True))


def declared_order(values: pd.Series, parameter: SweptParameter) -> pd.Series:
    """A categorical parameter's values in its declared order; others binned if many-valued."""
    if parameter.numeric:
        return parameter_levels(values)
    return values.astype(pd.CategoricalDtype(list(parameter.levels), ordered=True))


def heatmap_table(
    runs: pd.DataFrame, x: SweptParameter, y: SweptParameter, horizon: int
) -> pd.DataFrame:
    """Per cell of (x, y): runs, P(red line crossed) and Kaplan-Meier median drawdown day;
    categorical parameters in their declared order."""
    table = runs.assign(_x=declared_order(runs[x.name], x), _y=declared_order(runs[y.name], y))
    x, y = x.name, y.name
    rows = []
    for (x_level, y_level), cell in table.groupby(["_x", "_y"], sort=True, observed=True):
        days, observed = drawdown_times(cell, horizon)
        rows.append(
            {
                x: x_level,
                y: y_level,
                "runs": len(cell),
                "p_redline": float(cell["redline_crossed"].astype(float).mean()),
                "median_drawdown_day": kaplan_meier(days, observed).median,
            }
        )
    return pd.DataFrame(rows)


# --- global sensitivity --------------------------------------------------------------------------

#: Outcomes of the screening and Sobol' analyses: name -> the runs column it is computed from
#: (the drawdown day of a run without one counts as the horizon).
SUMMARY_SOURCES = {
    "redline_crossed": "redline_crossed",
    "drawdown_day_restricted": "drawdown_day",
    "us_killed": "us_killed",
    "n_attacks": "n_attacks",
}
SOBOL_OUTCOMES = ("redline_crossed", "drawdown_day_restricted", "us_killed")


def summary_values(runs: pd.DataFrame, name: str, horizon: int) -> np.ndarray:
    """A summary outcome of each run as floats (see `SUMMARY_SOURCES`)."""
    if name == "drawdown_day_restricted":
        return drawdown_times(runs, horizon)[0]  # censored at the horizon
    return runs[SUMMARY_SOURCES[name]].astype(float).to_numpy()


# --- attack counts -------------------------------------------------------------------------------


def attack_counts(
    runs: pd.DataFrame, by: SweptParameter | None, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean attacks per run on each site and by each group, with a t interval of the mean."""
    groups = [("all runs", runs)] if by is None else grouped(runs, by)
    rows = []
    for level, group in groups:
        for kind in ("site", "group"):
            prefix = f"n_attacks_by_{kind}."
            for column in sorted(c for c in runs.columns if c.startswith(prefix)):
                counts = group[column].fillna(0).to_numpy(dtype=float)
                mean, low, high = mean_interval(counts, confidence)
                rows.append(
                    {
                        "level": level_name(level),
                        "by": kind,
                        "name": column.removeprefix(prefix),
                        "runs": len(counts),
                        "mean": mean,
                        "low": low,
                        "high": high,
                    }
                )
    return pd.DataFrame(rows, columns=["level", "by", "name", "runs", "mean", "low", "high"])


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """The mean and its Student-t confidence interval (the mean itself when n < 2 or sd = 0)."""
    mean = float(np.mean(values))
    if len(values) < 2 or np.std(values) == 0:
        return mean, mean, mean
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * stats.sem(values)
    return mean, mean - float(half), mean + float(half)


# --- what fits the sweep -------------------------------------------------------------------------


@dataclass(frozen=True)
class FigurePlan:
    """Which figures fit a sweep and what they show; a figure whose data is missing is left out.

    by: the parameter that survival curves, fans and attack bars are split by (None: pooled);
    heat: the heat-map pair; sobol_outcomes: outcomes to compute Sobol indices of (empty: no
    Sobol figure); survival, fan, attacks: whether the data for those figures is there.
    """

    by: SweptParameter | None
    heat: tuple[SweptParameter, SweptParameter] | None
    sobol_outcomes: tuple[str, ...]
    survival: bool
    fan: bool
    attacks: bool


def plan_figures(
    sweep: SweepResults, by: str | None = None, heat: list[str] | None = None
) -> FigurePlan:
    """Split by ``by`` or the first categorical (else few-valued) parameter; heat maps over
    ``heat`` or the first two numeric parameters; Sobol for sobol designs; fans if series exist."""
    if sweep.ok.empty:
        raise SweepError(str(sweep.folder / RUNS), "", "no run finished ok")
    columns = set(sweep.runs.columns)
    split = sweep.parameter(by, "--by") if by is not None else default_split(sweep.parameters)
    if heat:
        if len(heat) != 2:
            raise SweepError("--heat", "", f"give exactly two parameters, not {len(heat)}")
        pair = tuple(sweep.parameter(name, "--heat") for name in heat)
        if pair[0] == pair[1]:
            raise SweepError("--heat", heat[0], "the two parameters must differ")
    else:
        numeric = [p for p in sweep.parameters if p.numeric and len(p.levels) > 1]
        pair = tuple(numeric[:2]) if len(numeric) >= 2 else None
    if not {"redline_crossed", "drawdown_day"} <= columns:
        pair = None
    sobol = ()
    if sweep.design == "sobol":
        for column in SOBOL_COLUMNS:
            if column not in columns:
                raise SweepError(str(sweep.folder / RUNS), column, "missing column")
        sobol = tuple(name for name in SOBOL_OUTCOMES if SUMMARY_SOURCES[name] in columns)
    return FigurePlan(
        by=split,
        heat=pair,
        sobol_outcomes=sobol,
        survival="drawdown_day" in columns,
        fan=sweep.series is not None and "system_rung" in sweep.series,
        attacks=any(column.startswith("n_attacks_by_") for column in columns),
    )


def default_split(parameters: list[SweptParameter]) -> SweptParameter | None:
    """The first categorical parameter, else the first with 2..MAX_LEVELS values, else None."""
    for parameter in parameters:
        if not parameter.numeric and len(parameter.levels) > 1:
            return parameter
    for parameter in parameters:
        if 1 < len(parameter.levels) <= MAX_LEVELS:
            return parameter
    return None
