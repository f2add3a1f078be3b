"""The validation report: ``report.json`` for programs and ``report.md`` for readers."""

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.calibration.abc import converged, particle_values, weighted_quantiles, weighted_sd
from sim.calibration.sbc import SBCResult
from sim.calibration.spec import Calibration
from sim.provenance import calibration_inputs_hash, source_hash

if TYPE_CHECKING:
    from sim.calibration.pipeline import FitResult, RollingResult


def json_ready(value: Any) -> Any:
    """A copy for JSON: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def parameter_rows(calibration: Calibration, main: "FitResult", sbc: SBCResult) -> list[dict]:
    """Prior and posterior of each parameter, its posterior sd over its prior sd (internal
    scale), and the SBC verdict."""
    generation = main.abc.posterior
    values = particle_values(calibration.priors, generation.theta)
    verdicts = sbc.summary.set_index("parameter")
    rows = []
    for j, prior in enumerate(calibration.priors):
        low, median, high = weighted_quantiles(values[:, j], generation.weights, [0.05, 0.5, 0.95])
        sd = weighted_sd(generation.theta[:, j], generation.weights)
        rows.append(
            {
                "parameter": prior.path,
                "prior": f"{'log-uniform' if prior.log else 'uniform'} [{prior.low:g}, "
                f"{prior.high:g}]",
                "median": float(f"{median:.4g}"),
                "low_5": float(f"{low:.4g}"),
                "high_95": float(f"{high:.4g}"),
                "sd_ratio": round(sd / prior.internal_sd, 3),
                "verdict": verdicts.loc[prior.path, "verdict"],
            }
        )
    return rows


def posterior_change(calibration: Calibration, main: "FitResult") -> list[dict[str, float]]:
    """How far each parameter's posterior mean moved in the last generation, in prior sds,
    and the Monte Carlo standard error of that move (from both generations' ESS)."""
    if len(main.abc.generations) < 2:
        return []
    before, after = main.abc.generations[-2:]
    rows = []
    for j, prior in enumerate(calibration.priors):
        means, variances = [], []
        for g in (before, after):
            means.append(np.average(g.theta[:, j], weights=g.weights))
            variances.append(weighted_sd(g.theta[:, j], g.weights) ** 2 / g.effective_sample_size)
        rows.append(
            {
                "parameter": prior.path,
                "shift": round(abs(means[1] - means[0]) / prior.internal_sd, 3),
                "standard_error": round(float(np.sqrt(sum(variances))) / prior.internal_sd, 3),
            }
        )
    return rows


def predictive_rows(main: "FitResult", names: list[str]) -> list[dict]:
    """In-sample check: every run of the final generation, weighted by its parameter set's
    weight, against the observed statistics."""
    generation = main.abc.posterior
    stats = generation.statistics
    weights = np.repeat(generation.weights / stats.shape[1], stats.shape[1])
    flat = stats.reshape(-1, stats.shape[-1])
    rows = []
    for k, name in enumerate(names):
        low, median, high = weighted_quantiles(flat[:, k], weights, [0.05, 0.5, 0.95])
        observed = float(main.observed[k])
        below = float(
            weights[flat[:, k] < observed].sum() + weights[flat[:, k] == observed].sum() / 2
        )
        rows.append(
            {
                "statistic": name,
                "observed": observed,
                "median": median,
                "low_5": low,
                "high_95": high,
                "covered": bool(low <= observed <= high),
                "rank": round(below, 3),
            }
        )
    return rows


def report_data(
    calibration: Calibration,
    main: "FitResult",
    names: list[str],
    sbc: SBCResult,
    rolling: list["RollingResult"],
    forecast: dict[str, Any],
    particle: dict[str, Any],
) -> dict[str, Any]:
    """Everything the report shows, JSON-ready."""
    spec = calibration.spec
    settings = calibration.settings
    report = {
        "name": spec.name,
        "seed": spec.seed,
        "scenario": spec.scenario,
        "record": spec.record,
        "fit_window": [calibration.fit_start.isoformat(), calibration.fit_end.isoformat()],
        "settings": spec.abc.model_dump(),
        "observed": dict(zip(names, main.observed.tolist(), strict=True)),
        "parameters": parameter_rows(calibration, main, sbc),
        "generations": [g.diagnostics() for g in main.abc.generations],
        "converged": converged(main.abc, settings),
        "last_shift": posterior_change(calibration, main),
        "projection_r2": dict(
            zip(
                [p.path for p in calibration.priors],
                main.abc.projection.r2.round(3).tolist(),
                strict=True,
            )
        ),
        "predictive": predictive_rows(main, names),
        "sbc": sbc.summary.to_dict("records"),
        "sbc_settings": spec.sbc.model_dump(),
        "rolling": [rolling_data(r, settings) for r in rolling],
        "forecast": forecast,
        "calibrated_particle": particle,
        "source_sha256": source_hash(),
        "inputs_sha256": calibration_inputs_hash(calibration),
    }
    return json_ready(report)


def rolling_data(result: "RollingResult", settings: Any) -> dict[str, Any]:
    """One rolling-origin test, JSON-ready."""
    fit = result.fit
    last = fit.abc.posterior
    return {
        "origin": fit.until.isoformat(),
        "weeks": [result.weeks[0].isoformat(), (result.weeks[-1] + timedelta(days=6)).isoformat()],
        "observed_total": int(result.observed.sum()),
        "generations": len(fit.abc.generations),
        "final_acceptance": round(last.acceptance, 4),
        "final_effective_sample_size": round(last.effective_sample_size, 1),
        "converged": converged(fit.abc, settings),
        "scores": result.scores.to_dict("records"),
        "hawkes": result.hawkes,
    }


def still_moving(shifts: list[dict[str, float]]) -> str:
    """A sentence naming the parameters whose mean moved by more than two standard errors."""
    moving = [r for r in shifts if r["shift"] > 2 * r["standard_error"]]
    if not moving:
        return "Every move is within that: the posterior has settled."
    names = ", ".join(f"`{r['parameter']}`" for r in moving)
    return (
        f"Still moving when the fit stopped: {names}; for them the posterior at the tolerance "
        "the budget reaches is not yet the one a smaller tolerance would give."
    )


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def report_markdown(data: dict[str, Any]) -> str:
    """The validation report."""
    settings = data["settings"]
    last = data["generations"][-1]
    forecast = data["forecast"]
    particle = data["calibrated_particle"]
    stop = (
        f"stopped because the acceptance fell to {last['acceptance']:.4g}, below the floor of "
        f"{settings['min_acceptance']}"
        if data["converged"]
        else f"**did not converge**: it stopped at the cap of {settings['max_generations']} "
        "generations"
    )

    def prob(key: str) -> str:
        p = forecast[key]
        return f"{p['p']:.2f} ({p['low']:.2f}-{p['high']:.2f})"

    lines = [
        f"# Calibration and validation of model v2 ({data['name']})",
        "",
        f"Generated by `escalation calibrate experiments/{data['name']}.toml` (seed "
        f"{data['seed']}); `make figures` and `make validation` regenerate it identically. "
        "Method: `docs/data.md`. Fitted scenario "
        f"`{Path(data['scenario']).name}`, {data['fit_window'][0]} to {data['fit_window'][1]}; "
        f"record `{Path(data['record']).name}`.",
        "",
        "## Posterior",
        "",
        *table(
            ["parameter", "prior", "median", "90% interval", "sd / prior sd", "SBC"],
            [
                [
                    f"`{r['parameter']}`",
                    r["prior"],
                    f"{r['median']:g}",
                    f"[{r['low_5']:g}, {r['high_95']:g}]",
                    f"{r['sd_ratio']:.2f}",
                    r["verdict"],
                ]
                for r in data["parameters"]
            ],
        ),
        "",
        "sd / prior sd: posterior over prior standard deviation on the prior's scale (log for "
        "log-uniform priors); 1 means the record says nothing about the parameter.",
        "",
        "## Convergence (ABC-PMC, main fit)",
        "",
        f"{settings['replicates']} runs per parameter set; {settings['prior_draws']} prior "
        f"draws, then enough parameter sets per generation for about {settings['accepted']} "
        f"accepted runs (at most {settings['max_proposals']}). The fit {stop}.",
        "",
        *table(
            [
                "generation",
                "parameter sets",
                "runs",
                "tolerance",
                "acceptance",
                "accepted sets",
                "ESS",
            ],
            [
                [
                    str(g["generation"]),
                    str(g["parameter_sets"]),
                    str(g["runs"]),
                    f"{g['tolerance']:.3f}",
                    f"{g['acceptance']:.3f}",
                    str(g["accepted_sets"]),
                    f"{g['effective_sample_size']:.0f}",
                ]
                for g in data["generations"]
            ],
        ),
        "",
        "Tolerance: of the acceptance test, in that generation's distance (summaries scaled by "
        "the previous generation's spread, so tolerances of different generations are not on "
        "one scale). How far each posterior mean moved in the last generation, in prior sd, "
        "with the Monte Carlo standard error of the move: "
        + ", ".join(
            f"`{r['parameter']}` {r['shift']:.2f} ({r['standard_error']:.2f})"
            for r in data["last_shift"]
        )
        + "; a move within about two standard errors is noise, not a trend. "
        + still_moving(data["last_shift"])
        + " Share of each "
        "parameter's prior variance the statistics predict (R^2 of the summaries): "
        + ", ".join(f"`{k}` {v:.2f}" for k, v in data["projection_r2"].items())
        + ".",
        "",
        "## Simulation-based calibration",
        "",
        f"{data['sbc_settings']['histories']} histories simulated from prior draws, each "
        f"fitted by rejection ABC on the other prior draws ({data['sbc_settings']['nearest']} "
        "nearest runs, the fit's summaries and distance). Coverage of the central 50% and 90% "
        "intervals should be near 0.5 and 0.9; the p-value tests uniform ranks (chi-square, "
        "10 bins). This checks the statistics, summaries and distance at the reference "
        "table's tolerance, not the smaller tolerance of the sequential fit. Figure: "
        "`sbc_ranks.png`.",
        "",
        *table(
            [
                "parameter",
                "50% coverage",
                "90% coverage",
                "uniformity p",
                "ranks",
                "contraction",
                "verdict",
            ],
            [
                [
                    f"`{r['parameter']}`",
                    f"{r['coverage_50']:.2f}",
                    f"{r['coverage_90']:.2f}",
                    f"{r['uniformity_p']:.3f}",
                    r["ranks"],
                    f"{r['contraction']:.2f}",
                    r["verdict"],
                ]
                for r in data["sbc"]
            ],
        ),
        "",
        "Contraction: 1 - posterior variance / prior variance, averaged over the histories; "
        "identified from 0.2, weakly identified from 0.05.",
        "",
        "## In-sample check of the fitted statistics",
        "",
        "Every run of the final generation, weighted. In sample: these runs were selected "
        "for being close to the record, so coverage here is expected and proves little; the "
        "held-back weeks below are the test.",
        "",
        *table(
            ["statistic", "observed", "median", "90% interval", "rank"],
            [
                [
                    r["statistic"],
                    f"{r['observed']:g}",
                    f"{r['median']:g}",
                    f"[{r['low_5']:g}, {r['high_95']:g}]",
                    f"{r['rank']:.2f}",
                ]
                for r in data["predictive"]
            ],
        ),
        "",
        "## Out of sample: rolling origins inside the record",
        "",
        "For each origin the model is fitted to the record up to that day only (knowing only "
        "events announced by then), its accepted histories are continued to the end of the "
        "record, and its weekly attacks on sites are scored against the listed attacks of the "
        "whole weeks held back, beside three baselines fitted to the same days: Poisson at "
        "the past rate, Poisson at the last 8 weeks' rate, and a self-exciting (Hawkes) "
        "process. Lower CRPS and log score are better; skill = 1 - model score / forecaster "
        "score (positive: the model is better; 0 for the model itself). Figure: "
        "`rolling_origin.png`.",
        "",
    ]
    for r in data["rolling"]:
        hawkes = r["hawkes"]
        lines += [
            f"### Origin {r['origin']}: {r['weeks'][0]} to {r['weeks'][1]} "
            f"({r['observed_total']} attacks listed)",
            "",
            f"Fit: {r['generations']} generations, final acceptance "
            f"{r['final_acceptance']:.3f}, ESS {r['final_effective_sample_size']:.0f}"
            f"{'' if r['converged'] else ' (**not converged**)'}. Hawkes fit: baseline "
            f"{hawkes['mu']:.3f}/day, branching ratio {hawkes['alpha']:.2f}, decay "
            f"{hawkes['beta']:.3f}/day.",
            "",
            *table(
                [
                    "forecaster",
                    "CRPS",
                    "log score",
                    "model skill (CRPS)",
                    "model skill (log)",
                    "50% coverage",
                    "90% coverage",
                ],
                [
                    [
                        s["forecaster"],
                        f"{s['crps']:.3f}",
                        f"{s['log_score']:.3f}",
                        f"{s['model_skill_crps']:+.2f}",
                        f"{s['model_skill_log_score']:+.2f}",
                        f"{s['covered_50']:.2f}",
                        f"{s['covered_90']:.2f}",
                    ]
                    for s in r["scores"]
                ],
            ),
            "",
        ]
    troops = forecast["troops_end_5_25_50_75_95"]
    lines += [
        f"## Forecast from {forecast['from']} ({forecast['days']} days)",
        "",
        f"The main fit's accepted histories continued to {forecast['window'][1]} "
        f"({forecast['runs']} runs, effective {forecast['effective_runs']:.0f}); events after "
        "22 June 2020 are only those announced by then. Probabilities with 90% Monte Carlo "
        "intervals. Weekly fan chart: `forecast/fan.png`; weekly quantiles of every series, "
        "model and baselines: `forecast/weekly.csv`.",
        "",
        f"- US red line crossed (an American killed): {prob('p_red_line')}",
        f"- The US answers at least one attack: {prob('p_us_answer')}",
        f"- An Iranian direct strike: {prob('p_iranian_strike')}; open war: {prob('p_open_war')}",
        f"- The US draws down at least once: {prob('p_drawdown')}; reinforces: "
        f"{prob('p_reinforcement')}; completes a withdrawal: {prob('p_withdrawal_complete')}",
        f"- Troops at the end, 5/25/50/75/95%: {', '.join(f'{t:,.0f}' for t in troops)} "
        f"(median {forecast['troops_start']:,.0f} on {forecast['from']})",
        "- Attacks on sites over the window, 5/50/95%: "
        + " / ".join(f"{v:g}" for v in forecast["site_attacks_5_50_95"]),
        "",
        "## The calibrated scenario",
        "",
        f"`scenarios/june2020_calibrated.toml` holds one particle (generation "
        f"{particle['generation']}, parameter set {particle['point']}): the accepted one "
        "nearest the posterior medians; its header gives the command that reproduces its "
        "fitted history. It starts from the June 2020 scenario, a different state from the "
        "fitted histories' June; the forecast above does not use it.",
        "",
        "## Limits",
        "",
        "- The record is short and sparse: about 34 attacks, 2 deadly ones, one Iranian strike, "
        "one US threat. Posteriors stay wide (see sd / prior sd) and SBC says which parameters "
        "the record identifies at all; every other parameter of the model is a judgement "
        "(docs/model.md), fixed in the fit.",
        "- The listing of attacks misses some the press tallies count (docs/data.md): window "
        "counts use the tallies where they exist, the held-back weeks use the listing, a lower "
        "bound.",
        "- Attacks on supply convoys (IEDs) are not in the record; the model's IED forecast is "
        "not checked against anything.",
        "- The Kadhimi government takes office on 7 May 2020 as a scheduled change of the "
        "government's parameters, set by hand in the fitted scenario, not fitted. The model has "
        "no embassy siege or leadership strike; the US answers and Iran's strike are the "
        "model's own.",
        "- Troop levels are not fitted: the record gives about 5,200 through early 2020 and no "
        "count for June. In the fitted histories the US draws down during the record (median "
        f"{forecast['troops_start']:,.0f} troops on {forecast['from']}), so the forecast's troop "
        "levels continue the model's June, not a measured one.",
        "- COVID-19 is not modelled.",
        "- A tolerance above zero and a few runs per parameter set make the ABC posterior wider "
        "than the exact one (conservative); SBC coverage above nominal shows this.",
        "",
    ]
    return "\n".join(lines)
