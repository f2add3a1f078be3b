"""What a calibration writes: the posterior, the calibrated scenario, the predictive check of each
summary statistic, a six-month forecast, figures and a report (``results/validation/``).

Everything here is a function of the calibration file and its seed, so a second run writes the
same bytes.
"""

import os
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.calibrate import (
    _toml_location,
    generation_seed,
    resample,
    run_series,
    weighted_quantiles,
)
from sim.data import (
    daily_from_record,
    daily_from_series,
    monthly_attacks,
    statistic_names,
    summary_statistics,
)
from sim.io import atomic_write, atomic_write_json, atomic_write_text
from sim.ladder import US_RED_LINE, Rung
from sim.provenance import calibration_inputs_hash, source_hash
from sim.scenario import ScenarioConfig, validate_scenario

if TYPE_CHECKING:
    from sim.calibrate import Calibration

FORECAST_COLUMNS = ["date", "attacks", "us_killed", "troops", "system_rung", "iran_rung", "us_rung"]
PREDICTIVE, FORECAST = 101, 102  # generation numbers of the two checking batches (seeding only)
PNG = {"Software": None}  # no version stamp in the files


def write_outputs(
    calibration: "Calibration",
    posterior: pd.DataFrame,
    history: pd.DataFrame,
    executor: Executor | None,
    log: Callable[[str], None],
) -> None:
    """Posterior predictive check, calibrated scenario, forecast, figures and report."""
    spec = calibration.spec
    paths = [p.path for p in calibration.priors]
    estimates = {
        p: _round(
            weighted_quantiles(posterior[p].to_numpy(), posterior["weight"].to_numpy(), [0.5])[0]
        )
        for p in paths
    }
    calibrated_text, calibrated = calibrated_scenario(calibration, estimates)

    log(f"posterior predictive check: {spec.validation.draws} runs")
    draws = resample(posterior, spec.validation.draws, spec.seed)
    points = draws[paths].to_dict("records")
    seed = generation_seed(spec.seed, PREDICTIVE)
    tables = run_series(
        calibration.fit_config, points, seed, calibration.out / "predictive", executor
    )
    dailies = [daily_from_series(table) for table in tables]
    names = statistic_names(calibration.statistics)
    simulated = pd.DataFrame([summary_statistics(d, calibration.statistics) for d in dailies])
    coverage = coverage_table(calibration.observed, simulated[names])
    monthly = pd.DataFrame([monthly_attacks(d) for d in dailies]).fillna(0)

    forecast_config = forecast_scenario(calibrated, spec.forecast)
    log(f"forecast from {spec.forecast.start}: {spec.forecast.draws} runs")
    draws = resample(posterior, spec.forecast.draws, spec.seed + 1)
    seed = generation_seed(spec.seed, FORECAST)
    tables = run_series(
        forecast_config,
        draws[paths].to_dict("records"),
        seed,
        calibration.out / "forecast",
        executor,
        FORECAST_COLUMNS,
    )
    forecast = forecast_table(tables, forecast_config)

    results = calibration.results
    atomic_write_text(calibration.calibrated_path, calibrated_text)
    atomic_write(results / "posterior.parquet", lambda tmp: posterior.to_parquet(tmp, index=False))
    atomic_write(results / "coverage.csv", lambda tmp: coverage.to_csv(tmp, index=False))
    atomic_write(results / "forecast_runs.csv", lambda tmp: forecast.to_csv(tmp, index=False))
    parameters = parameter_table(calibration, posterior)
    plot_monthly(calibration, monthly, results / "monthly_attacks.png")
    plot_cumulative(calibration, dailies, results / "cumulative_attacks.png")
    plot_posterior(calibration, posterior, results / "posterior.png")
    summary = forecast_summary(forecast, forecast_config)
    report = {
        "name": spec.name,
        "observed": calibration.observed,
        "parameters": parameters.to_dict("records"),
        "coverage": coverage.to_dict("records"),
        "generations": history.to_dict("records"),
        "forecast": summary,
        "source_sha256": source_hash(),
        "inputs_sha256": calibration_inputs_hash(calibration),
    }
    atomic_write_json(results / "report.json", _plain(report))
    atomic_write_text(
        results / "report.md", report_markdown(calibration, parameters, coverage, history, summary)
    )
    log(f"wrote {calibration.calibrated_path} and {results}/")


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


# --- calibrated scenario ----------------------------------------------------------------------


def calibrated_scenario(
    calibration: "Calibration", estimates: dict[str, float]
) -> tuple[str, ScenarioConfig]:
    """TOML that extends the base scenario with the posterior medians and the carried fields,
    and the scenario it defines."""
    values = dict(estimates)
    fit = calibration.fit_config.model_dump(mode="json")
    for field_path in calibration.spec.calibrated.carry:
        values[field_path] = _lookup(fit, field_path)
    tables: dict[str, dict[str, Any]] = {}
    items: dict[tuple[str, str], dict[str, Any]] = {}
    base = calibration.base_config.model_dump(mode="json")
    for field_path, value in values.items():
        table, item, key = _toml_location(field_path, calibration.source)
        if item is None:
            tables.setdefault(table, {})[key] = value
            continue
        names = [entry["name"] for entry in base[table]] if item == "*" else [item]
        for name in names:
            items.setdefault((table, name), {})[key] = value
    base_path = (Path(calibration.source).parent / calibration.spec.calibrated.base).resolve()
    parent = calibration.calibrated_path.parent.resolve()
    lines = [
        f"# Generated by `escalation calibrate` from {Path(calibration.source).name}: do not edit.",
        "# Posterior medians of the fitted parameters (results/validation/report.md); every other",
        f"# value is {base_path.name}'s.",
        f'extends = "{_relative(base_path, parent)}"',
        f'name = "{calibration.base_config.name} (calibrated)"',
        f'description = "{calibration.base_config.name} with the parameters fitted to the '
        f'October 2019 - June 2020 record by {calibration.spec.name}."',
    ]
    for (table, name), keys in items.items():
        lines += ["", f"[[{table}]]", f"name = {_toml_value(name)}"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in keys.items()]
    for table, keys in tables.items():
        lines += ["", f"[{table}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in keys.items()]
    text = "\n".join(lines) + "\n"
    config = validate_scenario(_merged(calibration, tables, items), calibration.source)
    return text, config


def _relative(target: Path, start: Path) -> str:
    return os.path.relpath(target, start)


def _lookup(data: dict[str, Any], field_path: str) -> Any:
    value: Any = data
    for part in field_path.split("."):
        value = value[part]
    return value


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _merged(calibration: "Calibration", tables: dict, items: dict) -> dict[str, Any]:
    data = calibration.base_config.model_dump(mode="python")
    data["name"] = f"{data['name']} (calibrated)"
    for table, keys in tables.items():
        data[table] = {**data[table], **keys}
    for (table, name), keys in items.items():
        data[table] = [({**e, **keys} if e["name"] == name else e) for e in data[table]]
    return data


# --- predictive check -------------------------------------------------------------------------


def coverage_table(observed: dict[str, float], simulated: pd.DataFrame) -> pd.DataFrame:
    """Observed value, predictive median and 90% interval, and coverage, per statistic."""
    rows = []
    for name in simulated.columns:
        values = simulated[name].to_numpy()
        low, median, high = np.quantile(values, [0.05, 0.5, 0.95], method="inverted_cdf")
        rows.append(
            {
                "statistic": name,
                "observed": observed[name],
                "median": float(median),
                "low_5": float(low),
                "high_95": float(high),
                "covered": bool(low <= observed[name] <= high),
                "rank": float(
                    np.mean(values < observed[name]) + np.mean(values == observed[name]) / 2
                ),
            }
        )
    return pd.DataFrame(rows)


def parameter_table(calibration: "Calibration", posterior: pd.DataFrame) -> pd.DataFrame:
    """Prior range and posterior median and 90% interval of each fitted parameter."""
    rows = []
    weights = posterior["weight"].to_numpy()
    for prior in calibration.priors:
        kind = "log-uniform" if prior.log else "uniform"
        low, median, high = weighted_quantiles(
            posterior[prior.path].to_numpy(), weights, [0.05, 0.5, 0.95]
        )
        rows.append(
            {
                "parameter": prior.path,
                "prior": f"{kind} [{prior.low:g}, {prior.high:g}]",
                "median": _round(median),
                "low_5": _round(low),
                "high_95": _round(high),
            }
        )
    return pd.DataFrame(rows)


# --- forecast ---------------------------------------------------------------------------------


def forecast_scenario(calibrated: ScenarioConfig, forecast: Any) -> ScenarioConfig:
    """The calibrated scenario restarted on the forecast date for the forecast horizon.

    Calendar events before the start are dropped, except that a strategic-dialogue session
    already held becomes one on the start day (the drawdown it announced is under way).
    """
    data = calibrated.model_dump(mode="python")
    past_dialogue = any(e.kind == "dialogue" and e.date < forecast.start for e in calibrated.events)
    events = [e for e in data["events"] if e["date"] >= forecast.start]
    if past_dialogue:
        events.insert(
            0,
            {
                "date": forecast.start,
                "kind": "dialogue",
                "site": None,
                "label": "Strategic dialogue already under way (drawdown announced)",
            },
        )
    data.update(start_date=forecast.start, horizon_days=forecast.days, events=events)
    data["name"] = f"{calibrated.name}, from {forecast.start}"
    return validate_scenario(data, "<forecast>")


def forecast_table(tables: list[pd.DataFrame], config: ScenarioConfig) -> pd.DataFrame:
    """One row per forecast run: drawdown day, red line, rungs, attacks per month."""
    rows = []
    target = config.us.drawdown_target
    for table in tables:
        run = table.sort_values("day")
        daily = daily_from_series(run)
        reached = np.flatnonzero(run["troops"].to_numpy() <= target)
        row = {
            "drawdown_day": int(reached[0]) if len(reached) else None,
            "redline_crossed": bool(run["system_rung"].max() >= US_RED_LINE),
            "us_killed": int(run["us_killed"].iloc[-1]),
            "us_strikes_on_iranians": bool((run["us_rung"] >= Rung.STRIKES_ON_IRANIANS).any()),
            "iranian_direct_strikes": int(daily.iran_strikes.sum()),
            "attacks": int(daily.attacks[1:].sum()),
        }
        row.update({f"attacks_{m}": int(v) for m, v in monthly_attacks(daily).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def forecast_summary(forecast: pd.DataFrame, config: ScenarioConfig) -> dict[str, Any]:
    """Probabilities, dates and intervals of the forecast."""
    start = config.start_date
    days = forecast["drawdown_day"].dropna().to_numpy()

    def interval(values: np.ndarray) -> list[float]:
        return [float(v) for v in np.quantile(values, [0.05, 0.5, 0.95], method="inverted_cdf")]

    def as_date(day: float) -> str:
        return (start + timedelta(days=int(day))).isoformat()

    months = [c for c in forecast.columns if c.startswith("attacks_")]
    return {
        "start": start.isoformat(),
        "days": config.horizon_days,
        "runs": len(forecast),
        "drawdown_target": config.us.drawdown_target,
        "p_drawdown": float(len(days) / len(forecast)),
        "drawdown_date_5_50_95": [as_date(d) for d in interval(days)] if len(days) else None,
        "p_redline": float(forecast["redline_crossed"].mean()),
        "p_us_strikes_on_iranians": float(forecast["us_strikes_on_iranians"].mean()),
        "us_killed_mean": float(forecast["us_killed"].mean()),
        "attacks_5_50_95": interval(forecast["attacks"].to_numpy()),
        "monthly_attacks_5_50_95": {
            m.removeprefix("attacks_"): interval(forecast[m].to_numpy()) for m in months
        },
    }


# --- figures ----------------------------------------------------------------------------------


def plot_monthly(calibration: "Calibration", monthly: pd.DataFrame, path: Path) -> None:
    """Simulated monthly militia attacks (median, 50% and 90% bands) against the listed ones."""
    config = calibration.fit_config
    end = config.start_date + timedelta(days=config.horizon_days)
    listed = monthly_attacks(daily_from_record(calibration.events, config.start_date, end))
    months = list(monthly.columns)
    x = np.arange(len(months))
    q = monthly.quantile([0.05, 0.25, 0.5, 0.75, 0.95], interpolation="nearest")
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.fill_between(x, q.loc[0.05], q.loc[0.95], color="tab:blue", alpha=0.2, label="model 90%")
    ax.fill_between(x, q.loc[0.25], q.loc[0.75], color="tab:blue", alpha=0.35, label="model 50%")
    ax.plot(x, q.loc[0.5], color="tab:blue", label="model median")
    ax.plot(
        x,
        listed.reindex(months).fillna(0),
        "o",
        color="black",
        label="attacks listed in the record (a lower bound)",
    )
    ax.set_xticks(x, [m[2:] for m in months])
    ax.set_ylabel("militia attacks per month")
    ax.set_title("Posterior predictive monthly attacks, 28 Oct 2019 - 22 Jun 2020")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def plot_cumulative(calibration: "Calibration", dailies: list, path: Path) -> None:
    """Cumulative simulated attacks (bands) against the press tallies and the listed attacks."""
    config = calibration.fit_config
    cumulative = np.array([np.cumsum(d.attacks) for d in dailies])
    dates = pd.date_range(config.start_date, periods=cumulative.shape[1], freq="D")
    q = np.quantile(cumulative, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    end = dates[-1].date()
    listed = np.cumsum(daily_from_record(calibration.events, config.start_date, end).attacks)
    tallies = calibration.events[calibration.events["kind"] == "press_tally"]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.fill_between(dates, q[0], q[2], color="tab:blue", alpha=0.25, label="model 90%")
    ax.plot(dates, q[1], color="tab:blue", label="model median")
    ax.step(dates, listed, where="post", color="gray", label="attacks listed in the record")
    ax.plot(
        tallies["date"], tallies["tally"].astype(float), "D", color="black", label="press tallies"
    )
    ax.set_ylabel("militia attacks since 28 Oct 2019")
    ax.set_title("Cumulative attacks: model against the record")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    _save(fig, path)


def plot_posterior(calibration: "Calibration", posterior: pd.DataFrame, path: Path) -> None:
    """Weighted histogram of each fitted parameter over its prior range."""
    priors = calibration.priors
    fig, axes = plt.subplots(1, len(priors), figsize=(3 * len(priors), 2.8), squeeze=False)
    for ax, prior in zip(axes[0], priors, strict=True):
        bins = (
            np.geomspace(prior.low, prior.high, 21)
            if prior.log
            else np.linspace(prior.low, prior.high, 21)
        )
        ax.hist(posterior[prior.path], bins=bins, weights=posterior["weight"], color="tab:blue")
        if prior.log:
            ax.set_xscale("log")
        ax.set_title(prior.path, fontsize=8)
        ax.set_yticks([])
    fig.suptitle("Posterior (histogram range = prior range)", fontsize=9)
    _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, metadata=PNG))
    plt.close(fig)


# --- report -----------------------------------------------------------------------------------


def report_markdown(
    calibration: "Calibration",
    parameters: pd.DataFrame,
    coverage: pd.DataFrame,
    history: pd.DataFrame,
    forecast: dict[str, Any],
) -> str:
    """The validation report."""
    spec = calibration.spec
    fit = calibration.fit_config
    covered = int(coverage["covered"].sum())
    lines = [
        f"# Validation of the calibrated model ({spec.name})",
        "",
        f"Generated by `escalation calibrate experiments/{Path(calibration.source).name}` "
        f"(seed {spec.seed}); regenerated identically by `make figures`. Method and caveats: "
        "`docs/data.md`.",
        "",
        f"Fitted scenario: `{spec.scenario}` ({fit.start_date} to "
        f"{fit.start_date + timedelta(days=fit.horizon_days)})."
        f" Record: `{spec.record}`.",
        "",
        "## Posterior",
        "",
        "| parameter | prior | median | 90% interval |",
        "|---|---|---|---|",
        *(
            f"| `{r.parameter}` | {r.prior} | {r.median:g} | [{r.low_5:g}, {r.high_95:g}] |"
            for r in parameters.itertuples()
        ),
        "",
        "ABC generations (APMC):",
        "",
        "| generation | runs | acceptance | tolerance | effective sample size |",
        "|---|---|---|---|---|",
        *(
            f"| {int(r.generation)} | {int(r.runs)} | {r.acceptance:.2f} | {r.tolerance:.3f} | "
            f"{r.effective_sample_size:.0f} |"
            for r in history.itertuples()
        ),
        "",
        "## Posterior predictive check",
        "",
        f"{spec.validation.draws} runs of the fitted scenario, parameters drawn from the "
        f"posterior. {covered} of {len(coverage)} statistics lie in the 90% predictive interval.",
        "",
        "| statistic | observed | predictive median | 90% interval | covered | rank |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.statistic} | {r.observed:g} | {r.median:g} | [{r.low_5:g}, {r.high_95:g}] | "
            f"{'yes' if r.covered else '**no**'} | {r.rank:.2f} |"
            for r in coverage.itertuples()
        ),
        "",
        "Rank: the share of predictive runs below the observed value (ties count half); near 0",
        "or 1 the model rarely produces what happened even when the wide interval covers it.",
        "",
        "Figures: `monthly_attacks.png` (listed attacks per month against the predictive bands),",
        "`cumulative_attacks.png` (press tallies against the predictive bands), `posterior.png`.",
        "",
        f"## Forecast from {forecast['start']} ({forecast['days']} days)",
        "",
        f"{forecast['runs']} runs of `{spec.calibrated.path}` restarted on {forecast['start']}, "
        "parameters drawn from the posterior.",
        "",
        f"- Drawdown to {forecast['drawdown_target']} troops: probability "
        f"{forecast['p_drawdown']:.2f} within the horizon"
        + (
            f"; date 5% / median / 95%: {', '.join(forecast['drawdown_date_5_50_95'])}."
            if forecast["drawdown_date_5_50_95"]
            else "."
        ),
        f"- US red line crossed (an American killed or worse): probability "
        f"{forecast['p_redline']:.2f}; US strike killing Iranians: "
        f"{forecast['p_us_strikes_on_iranians']:.2f}; mean Americans killed "
        f"{forecast['us_killed_mean']:.2f}.",
        "- Militia attacks over the horizon, 5% / median / 95%: "
        + " / ".join(f"{v:g}" for v in forecast["attacks_5_50_95"])
        + "; per month:",
        "",
        "| month | 5% | median | 95% |",
        "|---|---|---|---|",
        *(
            f"| {m} | {v[0]:g} | {v[1]:g} | {v[2]:g} |"
            for m, v in forecast["monthly_attacks_5_50_95"].items()
        ),
        "",
    ]
    return "\n".join(lines)
