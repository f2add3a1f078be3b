"""Unit tests for each model rule, on small hand-built situations."""

import math
from collections import Counter

import numpy as np
import pytest

from sim.agents import Attack, lethality, logit_choice
from sim.ladder import RUNG_INFO, Rung
from sim.model import EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig, apply_overrides


def make_model(seed: int = 1, **overrides) -> EscalationModel:
    config = apply_overrides(ScenarioConfig(), overrides)
    return EscalationModel(EscalationScenario(rng=seed, config=config), record=False)


def fake_attack(model: EscalationModel, attacker: str, us_killed: int) -> Attack:
    attack = Attack(model.day, attacker, "Camp Taji", 10, us_killed, 0, Rung.HARASSING_FIRE)
    model.attacks_today.append(attack)
    return attack


# --- the ladder ---------------------------------------------------------------------------------


def test_ladder_is_ordered_on_every_scale():
    rungs = list(Rung)
    assert [int(r) for r in rungs] == list(range(12))
    goldstein = [RUNG_INFO[r].goldstein for r in rungs]
    hostility = [RUNG_INFO[r].mid_hostility for r in rungs]
    assert goldstein == sorted(goldstein, reverse=True)
    assert hostility == sorted(hostility)
    assert RUNG_INFO[Rung.OPEN_WAR].mid_hostility == 5
    assert RUNG_INFO[Rung.TALKS].goldstein > 0


# --- choice and casualties ----------------------------------------------------------------------


def test_logit_choice_matches_softmax_frequencies():
    rng = np.random.default_rng(0)
    utilities, rationality, draws = [0.0, 1.0, -1.0], 1.5, 20_000
    counts = Counter(logit_choice(rng, utilities, rationality) for _ in range(draws))
    weights = [math.exp(rationality * u) for u in utilities]
    for index, weight in enumerate(weights):
        expected = weight / sum(weights)
        # 5 standard errors of a binomial proportion over 20,000 draws: < 1 in a million to fail.
        tolerance = 5 * math.sqrt(expected * (1 - expected) / draws)
        assert abs(counts[index] / draws - expected) < tolerance


def test_logit_choice_is_a_best_response_when_rationality_is_high():
    rng = np.random.default_rng(0)
    assert {logit_choice(rng, [0.0, 2.0, 1.0], 100.0) for _ in range(200)} == {1}


def test_lethality_of_a_salvo():
    assert lethality(10, 0.0, 0.01) == pytest.approx(1 - 0.99**10)
    assert lethality(10, 1.0, 0.01) == 0.0
    assert lethality(20, 0.3, 0.01) > lethality(3, 0.3, 0.01)


def test_attack_casualties_fall_with_site_defence():
    exposed = make_model(**{"sites.*.defence": 0.0, "militia_rules.us_kill_prob_per_rocket": 0.05})
    shielded = make_model(**{"sites.*.defence": 1.0, "militia_rules.us_kill_prob_per_rocket": 0.05})
    exposed_killed = sum(exposed.resolve_attack("X", "Camp Taji", 20).us_killed for _ in range(50))
    shielded_killed = sum(
        shielded.resolve_attack("X", "Camp Taji", 20).us_killed for _ in range(50)
    )
    assert shielded_killed == 0
    assert exposed_killed > 0
    assert shielded.first_us_casualty_day is None
    assert exposed.first_us_casualty_day == 0


def test_attack_rung_follows_its_casualties():
    model = make_model(**{"militia_rules.us_kill_prob_per_rocket": 1.0, "sites.*.defence": 0.0})
    assert model.resolve_attack("X", "Camp Taji", 3).rung == Rung.US_CASUALTIES
    model = make_model(
        **{
            "militia_rules.us_kill_prob_per_rocket": 0.0,
            "militia_rules.iraqi_casualty_prob_per_rocket": 1.0,
        }
    )
    assert model.resolve_attack("X", "Camp Taji", 3).rung == Rung.IRAQI_CASUALTIES
    model = make_model(
        **{
            "militia_rules.us_kill_prob_per_rocket": 0.0,
            "militia_rules.iraqi_casualty_prob_per_rocket": 0.0,
        }
    )
    assert model.resolve_attack("X", "Camp Taji", 3).rung == Rung.HARASSING_FIRE


# --- Iran ---------------------------------------------------------------------------------------


def test_iran_learns_resolve_from_deadly_attacks_and_reaction_from_the_rest():
    model = make_model(
        **{
            "iran.learning_rate": 1.0,
            "iran.resolve_prior_alpha": 2.0,
            "iran.resolve_prior_beta": 2.0,
            "iran.reaction_prior_alpha": 1.0,
            "iran.reaction_prior_beta": 1.0,
        }
    )
    iran = model.iran
    iran.observe(Attack(0, "X", "Camp Taji", 20, 1, 0, Rung.US_CASUALTIES, answered=True))
    assert (iran.resolve_belief.alpha, iran.resolve_belief.beta) == (3.0, 2.0)
    assert iran.reaction == 0.5  # untouched by a deadly attack
    for _ in range(4):
        iran.observe(Attack(0, "X", "Camp Taji", 3, 0, 0, Rung.HARASSING_FIRE))
    assert iran.reaction == pytest.approx(1 / 6)
    assert iran.resolve == pytest.approx(3 / 5)  # untouched by harassing fire
    assert iran.answer_prob(0.25) == pytest.approx(0.25 * 3 / 5 + 0.75 / 6)


def test_a_us_threat_counts_as_part_of_an_answered_deadly_attack():
    model = make_model(**{"iran.learning_rate": 0.5})
    alpha = model.iran.resolve_belief.alpha
    model.iran.observe_threat(0.2)
    assert model.iran.resolve_belief.alpha == pytest.approx(alpha + 0.1)


def test_iran_allows_lethal_attacks_more_often_when_it_doubts_us_resolve():
    def lethal_share(alpha: float, beta: float) -> float:
        model = make_model(**{"iran.resolve_prior_alpha": alpha, "iran.resolve_prior_beta": beta})
        model.iran.urgency = 0.0
        choices = [model.iran.choose_ceiling() for _ in range(2000)]
        return choices.count(Rung.US_CASUALTIES) / len(choices)

    # With 2,000 draws each the shares differ by far more than sampling error (about 0.01).
    assert lethal_share(1.0, 20.0) > lethal_share(20.0, 1.0) + 0.2


def test_iran_strikes_directly_when_its_red_line_is_crossed():
    model = make_model(**{"iran.red_line_crossed": True, "iran.direct_response_prob": 1.0})
    model.step()
    assert model.iran.rung == Rung.STATE_ON_STATE
    strike = next(a for a in model.attacks if a.attacker == "Iran")
    assert strike.site == "Ain al-Asad"  # the largest base
    assert strike.rockets == model.scenario.config.iran.missile_salvo
    assert not model.iran.red_line_crossed


# --- United States ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "rung", "cut"),
    [
        ("proportionate", Rung.STRIKES_ON_MILITIAS, 0.3),
        ("escalation_dominance", Rung.STRIKES_ON_IRANIANS, 0.6),
    ],
)
def test_us_answers_american_deaths_by_its_policy(policy, rung, cut):
    model = make_model(**{"us.policy": policy, "us.retaliation_prob": 1.0})
    group = model.militia("Kata'ib Hezbollah")
    before = group.capability
    attack = fake_attack(model, group.name, us_killed=1)
    model.us.respond(attack)
    assert attack.answered
    assert model.us.rung == rung
    assert group.capability == pytest.approx(before * (1 - cut))
    assert model.iran.red_line_crossed == (rung == Rung.STRIKES_ON_IRANIANS)
    assert model.us.no_retreat_until == model.day + model.scenario.config.us.no_retreat_days


def test_us_that_never_retaliates_absorbs_deaths():
    model = make_model(**{"us.policy": "never", "us.retaliation_prob": 1.0})
    attack = fake_attack(model, "Kata'ib Hezbollah", us_killed=3)
    model.us.respond(attack)
    assert not attack.answered
    assert model.us.retaliations == 0


def test_us_absorbs_attacks_without_deaths_by_default():
    model = make_model(**{"us.retaliation_prob": 1.0})
    attacks = [fake_attack(model, "Kata'ib Hezbollah", us_killed=0) for _ in range(20)]
    for attack in attacks:
        model.us.respond(attack)
    assert not any(a.answered for a in attacks)


def test_force_protection_closes_part_of_the_gap():
    model = make_model(**{"us.force_protection_gain": 0.5, "us.max_defence": 0.9})
    model.defence["Camp Taji"] = 0.3
    model.us.harden("Camp Taji")
    assert model.defence["Camp Taji"] == pytest.approx(0.6)


def test_drawdown_waits_for_the_dialogue_and_stops_at_the_target():
    model = make_model(**{"militia_rules.attack_propensity": -50.0})  # a quiet theatre
    for _ in range(9):  # 1-10 June: the dialogue is on day 10
        model.step()
    assert model.troops == model.scenario.config.total_troops
    model.step()
    assert model.us.drawdown_planned
    assert model.troops < model.scenario.config.total_troops
    while model.running:
        model.step()
    assert model.troops == pytest.approx(3000)
    # 2,200 troops at 100 a week with no pressure take 154 days from day 10.
    assert model.drawdown_day == 10 + 154 - 1
    assert model.withdrawal_day is None


def test_no_retreat_under_fire():
    model = make_model()
    model.us.drawdown_planned = True
    model.us.no_retreat_until = model.day + 5
    troops = model.troops
    model.us.draw_down()
    assert model.troops == troops


def test_host_request_drives_troops_towards_zero_and_empties_least_valued_sites_first():
    model = make_model()
    model.government.requested_withdrawal = True
    model.withdraw(1000)
    assert model.site_troops["Camp Taji"] == 0  # retain_priority 1
    assert model.site_troops["Baghdad airport"] == 500  # priority 2, next in line
    assert model.bases == 5
    for _ in range(400):
        model.us.draw_down()
    assert model.troops == 0


def test_handover_consolidates_troops_at_the_largest_site():
    model = make_model()
    model.hand_over("Camp Taji")
    assert model.site_troops["Camp Taji"] == 0
    assert model.site_troops["Ain al-Asad"] == 1600 + 900
    assert model.troops == 5200


# --- the Iraqi government -----------------------------------------------------------------------


def test_successful_raid_weakens_the_group_and_builds_credibility():
    model = make_model()
    government, group = model.government, model.militia("Kata'ib Hezbollah")
    government.raid(group, success_prob=1.0)
    assert group.capability == pytest.approx(0.9 * 0.8)
    assert government.credibility == pytest.approx(0.65)
    assert government.capital == pytest.approx(0.3)


def test_failed_raid_costs_credibility_and_provokes_backlash():
    model = make_model()
    government, group = model.government, model.militia("Kata'ib Hezbollah")
    government.raid(group, success_prob=0.0)
    assert group.capability == 0.9
    assert group.restraint == pytest.approx(0.1)
    assert government.credibility == pytest.approx(0.52)


def test_us_strikes_feed_a_withdrawal_demand():
    model = make_model(**{"government.rationality": 50.0})
    for _ in range(3):
        model.government.on_us_strike()
    model.step()
    assert model.government.requested_withdrawal
    assert model.government.credibility < 0.6


def test_government_falls_when_credibility_collapses():
    model = make_model(**{"government.collapse_threshold": 0.5, "government.credibility": 0.4})
    model.step()
    assert model.government.fallen
    assert model.government_fell_day == 1
    assert model.government.effective_enforcement == 0.0


# --- calendar -----------------------------------------------------------------------------------


def test_calendar_events_fire_at_the_start_of_their_day():
    config = apply_overrides(
        ScenarioConfig(),
        {
            "events": [
                {"date": "2020-06-03", "kind": "handover", "site": "Camp Taji"},  # day 2
                {"date": "2020-06-05", "kind": "withdrawal_request"},  # day 4
            ]
        },
    )
    model = EscalationModel(EscalationScenario(rng=1, config=config), record=False)
    model.step()  # day 1
    assert model.site_troops["Camp Taji"] == 900
    model.step()  # day 2
    assert model.site_troops["Camp Taji"] == 0
    model.step()  # day 3
    assert not model.government.requested_withdrawal
    model.step()  # day 4
    assert model.government.requested_withdrawal


def test_iran_holds_its_strike_when_no_site_hosts_americans():
    model = make_model(**{"iran.red_line_crossed": True, "iran.direct_response_prob": 1.0})
    for site in model.sites:
        model.site_troops[site.name] = 0.0
    model.step()
    assert model.iran.rung == Rung.TALKS
    assert model.attacks == []
