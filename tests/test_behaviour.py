"""The behaviour model v2 is built to produce, each over many seeds with a stated direction and
a 99% interval (docs/model.md, section 11).

Every comparison runs the same seeds under two settings. A claim of *no effect* passes when the
99% interval of the difference of means contains 0; a claim of an effect passes when the whole
interval lies on the stated side of 0. Seeds are fixed, so a test either always passes or always
fails for given code; 99% intervals keep a change of code from flipping a true claim by chance.
"""

import math
from statistics import fmean, variance

import numpy as np
import pytest

from sim.agents import LEVELS
from sim.model import EscalationModel, EscalationScenario, simulate
from sim.scenario import ScenarioConfig, apply_overrides, validate_scenario

Z99 = 2.576
SEEDS = range(200)
UNIFORM_PRIOR = {t.name: 1.0 for t in ScenarioConfig().us_types}


def config(**overrides) -> ScenarioConfig:
    return apply_overrides(ScenarioConfig(), overrides)


def outcomes(cfg: ScenarioConfig, seeds=SEEDS) -> list[dict]:
    return [simulate(cfg, seed).outcomes for seed in seeds]


def values(runs: list[dict], name: str) -> list[float]:
    return [float(run[name]) for run in runs]


def difference(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """Mean of ``a`` less mean of ``b``, with a 99% normal interval (Welch standard error)."""
    diff = fmean(a) - fmean(b)
    se = math.sqrt(variance(a) / len(a) + variance(b) / len(b))
    return diff, diff - Z99 * se, diff + Z99 * se


def share_difference(a: list[dict], b: list[dict], part, whole, resamples: int = 2000):
    """Difference of pooled shares sum(part)/sum(whole) with a 99% bootstrap interval over runs."""
    rng = np.random.default_rng(0)
    parts = [np.array([part(r) for r in runs], float) for runs in (a, b)]
    wholes = [np.array([whole(r) for r in runs], float) for runs in (a, b)]
    estimate = parts[0].sum() / wholes[0].sum() - parts[1].sum() / wholes[1].sum()
    draws = []
    for _ in range(resamples):
        i, j = (rng.integers(0, len(p), len(p)) for p in parts)
        draws.append(
            parts[0][i].sum() / wholes[0][i].sum() - parts[1][j].sum() / wholes[1][j].sum()
        )
    low, high = np.quantile(draws, [0.005, 0.995])
    return estimate, low, high


def split_site(cfg: ScenarioConfig, name: str, copies: int) -> ScenarioConfig:
    """The scenario with site ``name`` split into identical copies sharing its troops."""
    data = cfg.model_dump(mode="json")
    site = next(s for s in data["sites"] if s["name"] == name)
    data["sites"].remove(site)
    for k in range(copies):
        data["sites"].append(
            {**site, "name": f"{name} {k}", "us_troops": site["us_troops"] // copies}
        )
    return validate_scenario(data)


def day_one_odds(cfg: ScenarioConfig) -> list[float]:
    """Each group's odds of a harassing and of a lethal attack on day 1."""
    model = EscalationModel(EscalationScenario(rng=0, config=cfg), record=False)
    model.step()
    return [group.plans()[level].inclusive for group in model.militias for level in LEVELS]


# --- 1. choice invariant to how the menu is cut --------------------------------------------------


def test_splitting_a_site_leaves_every_groups_choice_unchanged():
    base = ScenarioConfig()
    split = split_site(base, "Camp Taji", 3)
    assert day_one_odds(split) == pytest.approx(day_one_odds(base), abs=1e-12)


@pytest.mark.slow
def test_splitting_a_site_leaves_attacks_and_the_red_line_unchanged():
    base = outcomes(ScenarioConfig())
    split = outcomes(split_site(ScenarioConfig(), "Camp Taji", 2))
    for name in ("n_attacks", "redline_crossed", "us_killed"):
        _, low, high = difference(values(split, name), values(base, name))
        assert low < 0.0 < high, name


@pytest.mark.slow
def test_under_v1s_flat_menu_splitting_a_site_raises_attacks():
    flat = config(**{"mechanisms.choice": "flat"})
    base = outcomes(flat, range(100))
    split = outcomes(split_site(flat, "Green Zone / US Embassy", 3), range(100))
    _, low, _ = difference(values(split, "n_attacks"), values(base, "n_attacks"))
    assert low > 0.0


def test_an_option_nobody_can_use_changes_nothing():
    data = ScenarioConfig().model_dump(mode="json")
    data["modes"]["mortar"] = {**data["modes"]["rocket"], "availability": 0.0}
    with_mortar = validate_scenario(data)
    for seed in range(5):
        assert (
            simulate(with_mortar, seed).outcomes["n_attacks"]
            == simulate(ScenarioConfig(), seed).outcomes["n_attacks"]
        )


def test_splitting_a_mode_into_two_with_half_the_arms_each_changes_no_choice():
    data = ScenarioConfig().model_dump(mode="json")
    ied = data["modes"].pop("ied")
    for name in ("ied", "ied2"):
        data["modes"][name] = {**ied, "availability": ied["availability"] / 2}
    assert day_one_odds(validate_scenario(data)) == pytest.approx(
        day_one_odds(ScenarioConfig()), abs=1e-12
    )


def test_renaming_the_groups_changes_nothing_but_the_names():
    data = ScenarioConfig().model_dump(mode="json")
    names = {m["name"]: f"group {i}" for i, m in enumerate(data["militias"])}
    for militia in data["militias"]:
        militia["name"] = names[militia["name"]]
    renamed = validate_scenario(data)
    for seed in range(5):
        first, second = simulate(ScenarioConfig(), seed).outcomes, simulate(renamed, seed).outcomes
        by_group = {names[k]: v for k, v in first.pop("n_attacks_by_group").items()}
        assert by_group == second.pop("n_attacks_by_group")
        assert first == second


@pytest.mark.slow
def test_the_order_of_sites_and_groups_does_not_matter():
    data = ScenarioConfig().model_dump(mode="json")
    data["sites"].reverse()
    data["militias"].reverse()
    reordered = outcomes(validate_scenario(data))
    base = outcomes(ScenarioConfig())
    for name in ("n_attacks", "redline_crossed"):
        _, low, high = difference(values(reordered, name), values(base, name))
        assert low < 0.0 < high, name


# --- 2. deterrence -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("us_types.disproportionate.answer_deadly", 0.3, 1.0),
        ("us_types.disproportionate.severity", 0.2, 0.8),
    ],
)
def test_a_surer_or_harder_answer_deters_attacks_that_risk_american_lives(field, low, high):
    weak = outcomes(config(**{field: low}))
    strong = outcomes(config(**{field: high}))
    for name in ("n_lethal_attempts", "us_killed"):
        _, _, top = difference(values(strong, name), values(weak, name))
        assert top < 0.0, name


@pytest.mark.slow
def test_a_us_that_never_answers_is_tested_more_than_one_that_always_does():
    always = {"answer_harassing": 1.0, "answer_deadly": 1.0, "follow_through": 1.0}
    common = {"iran.type_prior": UNIFORM_PRIOR}
    never = outcomes(config(**common, **{"us.policy": "never"}), range(100))
    always_answers = outcomes(
        config(
            **common,
            **{"us.policy": "escalation_dominance"},
            **{f"us_types.escalation_dominance.{k}": v for k, v in always.items()},
        ),
        range(100),
    )
    for name in ("n_attacks", "n_deadly_attacks"):
        _, low, _ = difference(values(never, name), values(always_answers, name))
        assert low > 0.0, name


@pytest.mark.slow
def test_escalation_dominance_differs_from_proportionate_beyond_relabelling():
    proportionate = outcomes(config(**{"us.policy": "proportionate"}), range(100))
    dominance = outcomes(config(**{"us.policy": "escalation_dominance"}), range(100))
    _, _, high = difference(values(dominance, "n_attacks"), values(proportionate, "n_attacks"))
    assert high < 0.0
    same = sum(a == b for a, b in zip(proportionate, dominance, strict=True))
    assert same <= 5  # measured 1 of 100; v1: 54% identical, every seed without a deadly attack


# --- 3. displacement -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_punishing_us_displaces_attacks_to_low_risk_modes():
    harsh = {"answer_harassing": 0.5, "severity": 0.8}
    common = {"iran.type_prior": UNIFORM_PRIOR}
    punishing = outcomes(
        config(
            **common,
            **{"us.policy": "escalation_dominance"},
            **{f"us_types.escalation_dominance.{k}": v for k, v in harsh.items()},
        ),
        range(100),
    )
    never = outcomes(config(**common, **{"us.policy": "never"}), range(100))
    estimate, low, _ = share_difference(
        punishing, never, lambda r: r["n_attacks_by_mode"]["ied"], lambda r: r["n_attacks"]
    )
    assert low > 0.0, estimate


# --- 4. bluffs -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_us_that_threatens_and_never_acts_ends_less_credible_than_one_that_never_threatened():
    bluffer = outcomes(config(**{"us.policy": "never", "us.threat_prob": 1.0}), range(100))
    silent = outcomes(config(**{"us.policy": "never", "us.threat_prob": 0.0}), range(100))
    assert fmean(values(bluffer, "us_bluffs")) > 1.0
    _, _, high = difference(
        values(bluffer, "us_credibility_final"), values(silent, "us_credibility_final")
    )
    assert high < 0.0


# --- 5. the government ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_strong_government_sees_fewer_attacks_and_keeps_its_credibility():
    weak = outcomes(config(**{"government.enforcement": 0.05}), range(100))
    strong = outcomes(
        config(**{"government.enforcement": 0.8, "government.credibility": 0.8}), range(100)
    )
    _, _, high = difference(values(strong, "n_attacks"), values(weak, "n_attacks"))
    assert high < 0.0
    _, low, _ = difference(
        values(strong, "government_credibility_final"), values(weak, "government_credibility_final")
    )
    assert low > 0.0
