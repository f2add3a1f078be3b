"""Re-measure the run figures quoted in docs/model.md (sections 1, 4, 7, 10, 11 and 12).

    .venv/bin/python docs/measure.py            # everything, seeds 0-199 (15 to 30 minutes)
    .venv/bin/python docs/measure.py june2020   # only the June 2020 figures
    .venv/bin/python docs/measure.py behaviour  # June 2020 and the behaviour-test comparisons

Every figure is a mean over seeds 0-199 of `sim.model.simulate(config, seed)` (the same runs,
stepped here by hand so the daily ceiling and troop level can be read), with a 95% interval of
the mean (mean +- 1.96 standard errors; for a share of runs, the normal interval of a
proportion). Differences between scenarios are differences of means over the same seeds, with a
Welch 95% interval. The figures computed without simulation (day-0 values) are checked by
tests/test_docs.py.
"""

import math
import sys
from collections import Counter
from datetime import date
from itertools import pairwise
from pathlib import Path
from statistics import fmean, median, stdev

from sim.agents import LETHAL
from sim.ladder import Move, Rung
from sim.model import EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig, apply_overrides, load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(200)
Z95 = 1.96
BAGHDAD = ("Green Zone / US Embassy", "Baghdad airport", "Camp Taji")


def dialogue_window(config: ScenarioConfig) -> range:
    """The days of a run within Iran's urgency window of a dialogue session (days 4-24 in June
    2020: the session of 15 June is day 14, the window 10 days)."""
    days = [(e.date - config.start_date).days for e in config.events if e.kind == "dialogue"]
    width = config.iran.dialogue_window_days
    return range(max(1, min(days) - width), max(days) + width + 1)


def run(config: ScenarioConfig, seed: int) -> dict:
    """One run's outcomes plus what the daily state shows: the ceiling and the troops by day."""
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=False)
    ceilings, troops = Counter(), []
    while model.running:
        model.step()
        ceilings[model.iran.ceiling] += 1
        troops.append(model.troops)
    out = model.outcomes()
    militia = [a for a in model.attacks if not a.by_iran]
    out["attack_days"] = [a.day for a in militia]
    out["rocket_salvos"] = [a.munitions for a in militia if a.mode == "rocket"]
    out["ceilings"] = ceilings
    out["lethal_deadly"] = sum(a.us_killed > 0 for a in militia if a.level == LETHAL)
    out["troops_by_day"] = troops
    out["iran_strike_days"] = [a.day for a in model.attacks if a.by_iran]
    out["deadly_answered"] = sum(a.answered for a in militia if a.us_killed)
    out["other_answered"] = sum(a.answered for a in militia if not a.us_killed)
    out["reinforcements"] = sum(1 for a, b in pairwise(troops) if b > a + 1e-9)
    out["truce_rejections"] = model.moves[Move.REJECT_TRUCE]
    # a truce held broken ends before its term (end_truce moves truce_until to the day before)
    out["truce_broken"] = model.truce_day is not None and model.truce_until < model.truce_day + (
        config.iran.truce_days
    )
    return out


def runs(config: ScenarioConfig) -> list[dict]:
    return [run(config, seed) for seed in SEEDS]


def fmt(x: float) -> str:
    """Three significant digits; whole numbers with thousands separators from 1,000."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def mean_ci(values: list[float]) -> str:
    m = fmean(values)
    se = stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{fmt(m)} [{fmt(m - Z95 * se)}, {fmt(m + Z95 * se)}]"


def share_ci(hits: int, n: int) -> str:
    p = hits / n
    se = math.sqrt(p * (1 - p) / n)
    return f"{p:.2f} [{max(0.0, p - Z95 * se):.2f}, {min(1.0, p + Z95 * se):.2f}]"


def diff_ci(a: list[float], b: list[float]) -> str:
    d = fmean(a) - fmean(b)
    se = math.sqrt(stdev(a) ** 2 / len(a) + stdev(b) ** 2 / len(b))
    return f"{sign(d)} [{sign(d - Z95 * se)}, {sign(d + Z95 * se)}]"


def sign(x: float) -> str:
    return ("+" if x >= 0 else "-") + fmt(abs(x))


def event_day(rs: list[dict], key: str) -> str:
    days = [r[key] for r in rs if r[key] is not None]
    if not days:
        return f"{key}: in 0 of {len(rs)} runs"
    return f"{key}: in {share_ci(len(days), len(rs))} of runs, median day {median(days):g}"


def col(rs: list[dict], key: str) -> list[float]:
    return [float(r[key]) for r in rs]


def report_june(rs: list[dict]) -> None:
    n = len(rs)
    attacks = col(rs, "n_attacks")
    total = sum(attacks)
    print(
        f"militia attacks a year: {mean_ci(attacks)}; sd {stdev(attacks):.3g}; "
        f"range {min(attacks):g}-{max(attacks):g}"
    )
    for key in (
        "n_attacks_by_mode",
        "n_attacks_by_claim",
        "n_attacks_by_group",
        "n_attacks_by_site",
    ):
        names = rs[0][key]
        parts = [
            f"{k} {fmean([r[key][k] for r in rs]):.3g} "
            f"({100 * sum(r[key][k] for r in rs) / total:.0f} %)"
            for k in names
        ]
        print(f"{key}: " + "; ".join(parts))
    baghdad = sum(r["n_attacks_by_site"][s] for r in rs for s in BAGHDAD)
    print(
        f"attacks on Baghdad sites (Green Zone, airport, Camp Taji): {100 * baghdad / total:.0f} %"
    )
    print(
        f"lethal attempts a year: {mean_ci(col(rs, 'n_lethal_attempts'))} "
        f"({100 * sum(col(rs, 'n_lethal_attempts')) / total:.1f} % of attacks); of them deadly: "
        f"{sum(r['lethal_deadly'] for r in rs)} of {sum(col(rs, 'n_lethal_attempts')):g}"
    )
    deadly = col(rs, "n_deadly_attacks")
    print(
        f"deadly attacks a year: {mean_ci(deadly)} ({100 * sum(deadly) / total:.1f} % of attacks)"
    )
    print(
        f"answered: {sum(r['deadly_answered'] for r in rs)} of {sum(deadly):g} deadly attacks, "
        f"{sum(r['other_answered'] for r in rs)} of {total - sum(deadly):g} others"
    )
    print(f"Americans killed a year: {mean_ci(col(rs, 'us_killed'))}")
    print(
        f"P(red line crossed): {share_ci(sum(r['redline_crossed'] for r in rs), n)}; "
        f"{event_day(rs, 'first_us_casualty_day')}"
    )
    print("max rung:", dict(sorted(Counter(r["max_rung"] for r in rs).items())))
    print(
        "days at rung:",
        {k: round(fmean([r["days_at_rung"][k] for r in rs]), 1) for k in rs[0]["days_at_rung"]},
    )
    for key in (
        "us_answers",
        "us_strikes_on_iranians",
        "us_threats",
        "us_bluffs",
        "us_shows_of_force",
        "us_host_pressure",
        "iranian_direct_strikes",
        "government_raids",
        "government_failed_raids",
        "truce_offers",
        "truce_rejections",
        "truce_violations",
        "reinforcements",
    ):
        values = col(rs, key)
        print(f"{key}: mean {mean_ci(values)}; runs with any {sum(v > 0 for v in values)}")
    for key in (
        "open_war_day",
        "government_fell_day",
        "truce_day",
        "drawdown_start_day",
        "drawdown_day",
        "withdrawal_day",
        "withdrawal_announced_day",
    ):
        print(event_day(rs, key))
    print(
        f"government demanded withdrawal in {sum(r['government_demanded_withdrawal'] for r in rs)}"
        f" of {n}; credibility final {mean_ci(col(rs, 'government_credibility_final'))}"
    )
    print(
        f"attributed share (pooled): "
        f"{sum(r['attributed_share'] * r['n_attacks'] for r in rs) / total:.2f}"
    )
    for key in (
        "us_credibility_final",
        "us_resolve_final",
        "force_protection_final",
        "troops_final",
        "troops_min",
    ):
        print(f"{key}: {mean_ci(col(rs, key))}")
    print(
        "belief_final:",
        {k: round(fmean([r["belief_final"][k] for r in rs]), 4) for k in rs[0]["belief_final"]},
    )
    days = Counter(d for r in rs for d in r["attack_days"])
    months = [
        (1, 30),
        (31, 61),
        (62, 92),
        (93, 122),
        (123, 153),
        (154, 183),
        (184, 214),
        (215, 245),
        (246, 273),
        (274, 304),
        (305, 334),
        (335, 365),
    ]
    print(
        "attacks by month (Jun 2020 - May 2021):",
        [round(sum(days[d] for d in range(a, b + 1)) / n, 2) for a, b in months],
    )
    window = dialogue_window(ScenarioConfig())
    inside = sum(days[d] for d in window) / (n * len(window))
    outside = sum(c for d, c in days.items() if d not in window) / (n * (365 - len(window)))
    print(
        f"attacks a day inside the dialogue window (days {window.start}-{window.stop - 1}): "
        f"{inside:.3f}; outside {outside:.3f}"
    )
    print(f"attacks on days 1-21 (2-22 June 2020): {sum(days[d] for d in range(1, 22)) / n:.2f}")
    salvos = [s for r in rs for s in r["rocket_salvos"]]
    heavy = 100 * sum(s >= 10 for s in salvos) / len(salvos)
    print(f"rocket salvos with 10 or more rockets: {heavy:.1f} % of {len(salvos)}")
    ceilings = Counter()
    for r in rs:
        ceilings.update(r["ceilings"])
    print(
        "ceiling share of days:",
        {Rung(k).name: round(v / (365 * n), 3) for k, v in sorted(ceilings.items())},
    )
    troops_at = [fmean([r["troops_by_day"][d - 1] for r in rs]) for d in (30, 90, 155, 250, 365)]
    print("mean troops on days 30, 90, 155, 250, 365:", [round(t) for t in troops_at])
    truces = [r for r in rs if r["truce_day"] is not None]
    print(
        f"truces agreed in {len(truces)} runs (days {sorted(r['truce_day'] for r in truces)}), "
        f"broken by an attributed attack in {sum(r['truce_broken'] for r in truces)}, "
        f"government demand in {sum(r['government_demanded_withdrawal'] for r in truces)} of them"
    )


def ied_share(rs: list[dict]) -> float:
    return sum(r["n_attacks_by_mode"].get("ied", 0) for r in rs) / max(1, sum(col(rs, "n_attacks")))


def baghdad_share(rs: list[dict]) -> float:
    hits = sum(r["n_attacks_by_site"].get(s, 0) for r in rs for s in BAGHDAD)
    return hits / max(1, sum(col(rs, "n_attacks")))


def summary(name: str, rs: list[dict], base: list[dict] | None) -> None:
    n = len(rs)
    line = (
        f"{name}: attacks {mean_ci(col(rs, 'n_attacks'))}; lethal attempts "
        f"{fmean(col(rs, 'n_lethal_attempts')):.2f}; ied share "
        f"{ied_share(rs):.2f}; Baghdad share {baghdad_share(rs):.2f}; "
        f"P(red line) {share_ci(sum(r['redline_crossed'] for r in rs), n)}; "
        f"answers {fmean(col(rs, 'us_answers')):.2f}; Iranian strikes "
        f"{fmean(col(rs, 'iranian_direct_strikes')):.2f}; open war "
        f"{sum(r['open_war_day'] is not None for r in rs)}; gov fell "
        f"{sum(r['government_fell_day'] is not None for r in rs)}; truce "
        f"{sum(r['truce_day'] is not None for r in rs)} (offers "
        f"{fmean(col(rs, 'truce_offers')):.2f}, rejections "
        f"{fmean(col(rs, 'truce_rejections')):.2f}); "
        f"demand {sum(r['government_demanded_withdrawal'] for r in rs)}; "
        f"{event_day(rs, 'drawdown_start_day')}; {event_day(rs, 'drawdown_day')}; "
        f"{event_day(rs, 'withdrawal_day')}; troops_final {fmean(col(rs, 'troops_final')):.0f}"
    )
    print(line)
    if base is not None:
        print(
            f"   vs june2020: attacks {diff_ci(col(rs, 'n_attacks'), col(base, 'n_attacks'))}; "
            f"red line {diff_ci(col(rs, 'redline_crossed'), col(base, 'redline_crossed'))}; "
            f"lethal attempts "
            f"{diff_ci(col(rs, 'n_lethal_attempts'), col(base, 'n_lethal_attempts'))}; "
            f"troops_final {diff_ci(col(rs, 'troops_final'), col(base, 'troops_final'))}"
        )


SWITCHES = {
    "choice=flat": {"mechanisms.choice": "flat"},
    "beliefs=deadly_only (threats=believed)": {
        "mechanisms.beliefs": "deadly_only",
        "mechanisms.threats": "believed",
    },
    "threats=believed": {"mechanisms.threats": "believed"},
    "attribution=perfect": {"mechanisms.attribution": "perfect"},
    "modes=rockets": {"mechanisms.modes": "rockets"},
    "outbidding=false": {"mechanisms.outbidding": False},
    "posture=fixed_target (3000)": {
        "mechanisms.posture": "fixed_target",
        "us.drawdown_target": 3000,
    },
    "bargaining=false": {"mechanisms.bargaining": False},
    "iran_response=coin_flip": {"mechanisms.iran_response": "coin_flip"},
    "host_pressure=false": {"mechanisms.host_pressure": False},
}

SENSITIVITY = {
    "militia_rules.rationality": (0.5, 1.5),
    "militia_rules.nest_dissimilarity": (0.25, 1.0),
    "militia_rules.harass_odds": (0.014, 0.056),
    "militia_rules.enforcement_fear": (3.0, 12.0),
    "militia_rules.loss_weight": (5.0, 20.0),
    "us.attack_cost": (0.01, 0.04),
    "us.election_weight": (0.0, 0.5),
    "us.truce_accept_share": (0.25, 0.75),
    "iran.dialogue_boost": (0.0, 1.4),
}


def split_site(cfg: ScenarioConfig, name: str, copies: int) -> ScenarioConfig:
    """As tests/test_behaviour.py: site ``name`` split into identical copies sharing its troops."""
    data = cfg.model_dump(mode="json")
    site = next(s for s in data["sites"] if s["name"] == name)
    data["sites"].remove(site)
    for k in range(copies):
        data["sites"].append(
            {**site, "name": f"{name} {k}", "us_troops": site["us_troops"] // copies}
        )
    return validate_scenario(data)


def diff99(a: list[float], b: list[float]) -> str:
    d = fmean(a) - fmean(b)
    se = math.sqrt(stdev(a) ** 2 / len(a) + stdev(b) ** 2 / len(b))
    return f"{sign(d)} [{sign(d - 2.576 * se)}, {sign(d + 2.576 * se)}]"


def behaviour(base: list[dict]) -> None:
    """The comparisons of tests/test_behaviour.py, with their 99% intervals."""
    june = ScenarioConfig()
    uniform = {t.name: 1.0 for t in june.us_types}
    few = range(100)

    def over(seeds, **overrides):
        config = apply_overrides(june, overrides)
        return [run(config, s) for s in seeds]

    split = [run(split_site(june, "Camp Taji", 2), s) for s in SEEDS]
    for key in ("n_attacks", "redline_crossed", "us_killed"):
        print(f"split Camp Taji in 2 - base, {key}: {diff99(col(split, key), col(base, key))}")
    flat = apply_overrides(june, {"mechanisms.choice": "flat"})
    flat_split = [run(split_site(flat, "Green Zone / US Embassy", 3), s) for s in few]
    flat_base = [run(flat, s) for s in few]
    print(
        f"flat: split Green Zone in 3 - base, n_attacks: "
        f"{diff99(col(flat_split, 'n_attacks'), col(flat_base, 'n_attacks'))}"
    )
    for field, low, high in (
        ("us_types.disproportionate.answer_deadly", 0.3, 1.0),
        ("us_types.disproportionate.severity", 0.2, 0.8),
    ):
        weak, strong = over(SEEDS, **{field: low}), over(SEEDS, **{field: high})
        for key in ("n_lethal_attempts", "us_killed"):
            print(f"{field} {high} - {low}, {key}: {diff99(col(strong, key), col(weak, key))}")
    always = {
        f"us_types.escalation_dominance.{k}": 1.0
        for k in ("answer_harassing", "answer_deadly", "follow_through")
    }
    never = over(few, **{"iran.type_prior": uniform, "us.policy": "never"})
    answers = over(
        few, **{"iran.type_prior": uniform, "us.policy": "escalation_dominance"}, **always
    )
    for key in ("n_attacks", "n_deadly_attacks"):
        print(f"never - always answers, {key}: {diff99(col(never, key), col(answers, key))}")
    prop = over(few, **{"us.policy": "proportionate"})
    dom = over(few, **{"us.policy": "escalation_dominance"})
    same = sum(a == b for a, b in zip(prop, dom, strict=True))
    print(
        f"escalation_dominance - proportionate, n_attacks: "
        f"{diff99(col(dom, 'n_attacks'), col(prop, 'n_attacks'))}; identical runs {same} of "
        f"{len(few)}"
    )
    harsh = over(
        few,
        **{
            "iran.type_prior": uniform,
            "us.policy": "escalation_dominance",
            "us_types.escalation_dominance.answer_harassing": 0.5,
            "us_types.escalation_dominance.severity": 0.8,
        },
    )

    print(f"ied share, punishing US {ied_share(harsh):.3f} vs never {ied_share(never):.3f}")
    bluffer = over(few, **{"us.policy": "never", "us.threat_prob": 1.0})
    silent = over(few, **{"us.policy": "never", "us.threat_prob": 0.0})
    print(
        f"bluffs a run {fmean(col(bluffer, 'us_bluffs')):.2f}; credibility bluffer - silent: "
        f"{diff99(col(bluffer, 'us_credibility_final'), col(silent, 'us_credibility_final'))}"
    )
    weak = over(few, **{"government.enforcement": 0.05})
    strong = over(few, **{"government.enforcement": 0.8, "government.credibility": 0.8})
    print(
        f"strong - weak government, n_attacks "
        f"{diff99(col(strong, 'n_attacks'), col(weak, 'n_attacks'))}; credibility "
        f"{diff99(*(col(rs, 'government_credibility_final') for rs in (strong, weak)))}"
    )


def record_comparison() -> None:
    """October 2019 against the AFP tallies; January 2020's first days; runs without attacks."""
    october = load_scenario(ROOT / "scenarios" / "october2019.toml")
    rs = runs(october)

    def day(y: int, m: int, d: int) -> int:
        return (date(y, m, d) - october.start_date).days

    windows = [
        ("to 16 Feb 2020 (AFP: 19)", 1, day(2020, 2, 16)),
        ("17 Feb - 16 Mar (AFP: 5)", day(2020, 2, 17), day(2020, 3, 16)),
        ("17 Mar - 8 Jun (AFP: 5)", day(2020, 3, 17), day(2020, 6, 8)),
        ("9 - 22 Jun (AFP: 5)", day(2020, 6, 9), day(2020, 6, 22)),
    ]
    for name, first, last in windows:
        counts = [sum(first <= d <= last for d in r["attack_days"]) for r in rs]
        print(f"october2019 attacks {name}: {mean_ci(counts)}")
    kadhimi = day(2020, 5, 7)
    fell = [r["government_fell_day"] for r in rs if r["government_fell_day"] is not None]
    later = sum(d >= kadhimi for d in fell)
    print(
        f"october2019 deadly attacks {mean_ci(col(rs, 'n_deadly_attacks'))}; runs with an "
        f"Iranian strike {sum(r['iranian_direct_strikes'] > 0 for r in rs)}; the caretaker "
        f"government fell before 7 May 2020 (day {kadhimi}) in "
        f"{sum(d < kadhimi for d in fell)} runs, the Kadhimi government after it in "
        f"{later}; credibility at the end {mean_ci(col(rs, 'government_credibility_final'))}"
    )
    january = load_scenario(ROOT / "scenarios" / "january2020.toml")
    rs = runs(january)
    day1 = sum(1 in r["iran_strike_days"] for r in rs)
    to_june = [
        sum(d <= (date(2020, 6, 22) - january.start_date).days for d in r["attack_days"])
        for r in rs
    ]
    fell = [r["government_fell_day"] for r in rs if r["government_fell_day"] is not None]
    print(
        f"january2020: Iranian strike on day 1 in {day1} runs; attacks to 22 June 2020 "
        f"{mean_ci(to_june)}; government fell in {len(fell)} runs, median day {median(fell):g}; "
        f"{event_day(rs, 'drawdown_start_day')}; {event_day(rs, 'drawdown_day')}"
    )
    quiet = {"militia_rules.harass_odds": 1e-9, "militia_rules.lethal_odds": 1e-9}
    for name, overrides in (
        ("no attacks", quiet),
        ("no attacks, election_weight 0", {**quiet, "us.election_weight": 0.0}),
        ("election_weight 0", {"us.election_weight": 0.0}),
    ):
        rs = runs(apply_overrides(ScenarioConfig(), overrides))
        path = [round(fmean([r["troops_by_day"][d - 1] for r in rs])) for d in (30, 90, 155, 365)]
        print(
            f"{name}: troops on days 30, 90, 155, 365 {path}; lowest "
            f"{mean_ci(col(rs, 'troops_min'))}; {event_day(rs, 'drawdown_start_day')}"
        )


def stale_plans(seeds: range = range(50)) -> None:
    """Section 7.4: how far a group's cached plan is from one computed afresh (plans are cached
    with the government's enforcement rounded to 0.02)."""
    from sim.agents import LEVELS, MilitiaGroup

    decide = MilitiaGroup.decide
    counts = Counter()

    def checked(group):
        if group.capability > 0.0:
            cached = group.plans()
            for level in LEVELS:
                fresh, kept = group.plan(level).inclusive, cached[level].inclusive
                gap = 0.0 if fresh == kept else abs(fresh - kept)  # both -inf: no target
                counts["checks"] += 1
                counts["stale > 0.2"] += gap > 0.2
                counts["max gap x 1000"] = max(counts["max gap x 1000"], round(1000 * gap))
        return decide(group)

    MilitiaGroup.decide = checked
    try:
        for seed in seeds:
            run(ScenarioConfig(), seed)
    finally:
        MilitiaGroup.decide = decide
    print(f"stale plans over {len(seeds)} runs: {dict(counts)}")


INERT = {
    "iran.truce_value": (0.0, 2.0),
    "iran.truce_days": (30, 180),
    "us.truce_accept_share": (0.25, 0.75),
    "iran.harassment_value": (0.4,),
    "iran.direct_response_prob": (0.0, 1.0),
    "iran.sanction": (0.0, 1.0),
    "iran.sanction_days": (10, 180),
    "militia_rules.capability_recovery_per_day": (0.001, 0.02),
    "us.reinforce_pace": (500,),
    "us.reinforce_threshold": (500,),
    "us_types.*.yields": (0.5,),
    "us_types.disproportionate.yields": (0.5,),
    "government.credibility_recovery_per_day": (0.0, 0.01),
    "sites.Harir.lat": (30.0,),
}


def inert(base: list[dict]) -> None:
    """Section 12: does a field move anything at the defaults? Runs that differ from the June
    2020 run of the same seed in any outcome, and the difference in attacks."""
    june = ScenarioConfig()
    for field, levels in INERT.items():
        for level in levels:
            rs = runs(apply_overrides(june, {field: level}))
            differ = sum(
                model_outcomes(a) != model_outcomes(b) for a, b in zip(rs, base, strict=True)
            )
            print(
                f"{field} = {level}: runs that differ {differ} of {len(rs)}; attacks "
                f"{diff_ci(col(rs, 'n_attacks'), col(base, 'n_attacks'))}; truces "
                f"{sum(r['truce_day'] is not None for r in rs)}"
            )


def model_outcomes(r: dict) -> dict:
    """The outcomes of `EscalationModel.outcomes()` in a measured run (without the extras)."""
    return {k: v for k, v in r.items() if k in OUTCOME_KEYS}


OUTCOME_KEYS = set(
    EscalationModel(EscalationScenario(rng=0, config=ScenarioConfig()), record=False).outcomes()
)


def main(what: str = "all") -> None:
    june = ScenarioConfig()
    base = runs(june)
    print("== June 2020 (seeds 0-199)")
    report_june(base)
    if what == "june2020":
        return
    print("\n== Behaviour tests (tests/test_behaviour.py), 99% intervals")
    behaviour(base)
    if what == "behaviour":
        return
    print("\n== Record comparison")
    record_comparison()
    stale_plans()
    print("\n== Scenarios")
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if path.stem == "june2020":
            continue
        config = load_scenario(path)
        same_state = config.start_date == june.start_date
        summary(path.stem, runs(config), base if same_state else None)
    print("\n== Mechanism switches, one at a time on June 2020")
    for name, overrides in SWITCHES.items():
        summary(name, runs(apply_overrides(june, overrides)), base)
    print("\n== Fields that may move nothing at the defaults")
    inert(base)
    print("\n== One at a time")
    for field, levels in SENSITIVITY.items():
        for level in levels:
            rs = runs(apply_overrides(june, {field: level}))
            print(
                f"{field} = {level}: attacks {mean_ci(col(rs, 'n_attacks'))}; lethal attempts "
                f"{fmean(col(rs, 'n_lethal_attempts')):.2f}; P(red line) "
                f"{share_ci(sum(r['redline_crossed'] for r in rs), len(rs))}; troops_final "
                f"{fmean(col(rs, 'troops_final')):.0f}; troops_min "
                f"{fmean(col(rs, 'troops_min')):.0f}; truces "
                f"{sum(r['truce_day'] is not None for r in rs)}"
            )


if __name__ == "__main__":
    main(*sys.argv[1:2])
