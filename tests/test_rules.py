"""Unit tests for each model rule, on small hand-built situations."""

import math
from collections import Counter
from itertools import cycle

import numpy as np
import pytest

from sim.agents import HARASS, LETHAL, Attack, lethality, logit_choice, pick
from sim.beliefs import Observation, TypeBelief, likelihood
from sim.ladder import MOVE_INFO, RUNG_INFO, Move, Rung
from sim.model import CONVOYS, EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig, apply_overrides


def make_model(seed: int = 1, **overrides) -> EscalationModel:
    config = apply_overrides(ScenarioConfig(), overrides)
    return EscalationModel(EscalationScenario(rng=seed, config=config), record=True)


def fixed_draws(model: EscalationModel, *values: float) -> None:
    """Make the model's uniform draws the given values, repeated."""
    draws = cycle(values)
    model.uniform = lambda: next(draws)


def option_utilities(group, level) -> dict:
    """Utility of each (mode, claim) at ``level``, freshly computed."""
    plan = group.plan(level)
    return dict(zip(plan.options, plan.utilities, strict=True))


def fake_attack(model, attacker="Kata'ib Hezbollah", us_killed=0, mode="rocket", claim="claimed"):
    attack = Attack(model.day, attacker, mode, claim, "Camp Taji", HARASS, 3, us_killed, 0,
                    Rung.US_CASUALTIES if us_killed else Rung.HARASSING_FIRE)  # fmt: skip
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


def test_every_move_has_a_rung_and_a_cameo_code():
    assert set(MOVE_INFO) == set(Move)
    for move, info in MOVE_INFO.items():
        assert info.cameo.split()[0].isdigit(), move
        assert -10.0 <= info.goldstein <= 10.0
    # cooperative moves sit at the bottom of the ladder, violent ones above the threats
    assert Move.DECLARE_TRUCE.info.rung == Rung.TALKS and Move.DECLARE_TRUCE.info.goldstein > 0
    assert Move.SHOW_OF_FORCE.info.rung == Rung.SHOW_OF_FORCE
    assert Move.ROADSIDE_BOMB.info.rung > Move.THREATEN_FORCE.info.rung


# --- choice and casualties ----------------------------------------------------------------------


def test_logit_choice_matches_softmax_frequencies():
    rng = np.random.default_rng(0)
    utilities, rationality, draws = [0.0, 1.0, -1.0], 1.5, 20_000
    counts = Counter(logit_choice(rng.random(), utilities, rationality) for _ in range(draws))
    weights = [math.exp(rationality * u) for u in utilities]
    for index, weight in enumerate(weights):
        expected = weight / sum(weights)
        # 5 standard errors of a binomial proportion over 20,000 draws: < 1 in a million to fail.
        assert abs(counts[index] / draws - expected) < 5 * math.sqrt(
            expected * (1 - expected) / draws
        )


def test_pick_never_returns_a_zero_weight():
    assert pick(0.0, [0.0, 1.0]) == 1
    assert pick(0.999999, [1.0, 0.0]) == 0


def test_lethality_of_an_attack():
    assert lethality(10, 0.0, 0.01) == pytest.approx(1 - 0.99**10)
    assert lethality(10, 1.0, 0.01) == 0.0
    assert lethality(20, 0.3, 0.01) > lethality(3, 0.3, 0.01)


def test_harassing_attacks_aim_to_miss():
    model = make_model()
    table = model.target_table("rocket")
    assert table.lethality[HARASS] < 0.1 * table.lethality[LETHAL]


def test_attack_rung_follows_its_casualties():
    model = make_model()
    killed = model.resolve("X", "rocket", "claimed", "Camp Taji", LETHAL, 5, 1.0, 0.0)
    assert killed.rung == Rung.US_CASUALTIES and model.first_us_casualty_day == 0
    iraqi = model.resolve("X", "rocket", "claimed", "Camp Taji", HARASS, 5, 0.0, 1.0)
    assert iraqi.rung == Rung.IRAQI_CASUALTIES
    harmless = model.resolve("X", "rocket", "claimed", "Camp Taji", HARASS, 5, 0.0, 0.0)
    assert harmless.rung == Rung.HARASSING_FIRE


# --- targets: size terms ------------------------------------------------------------------------


def test_a_sites_choice_weight_is_its_troops_times_its_appeal():
    model = make_model()
    table = model.target_table("rocket")
    weights = dict(zip(table.names, table.weights, strict=True))
    assert weights["Baghdad airport"] == pytest.approx(600.0)  # symbolic 1, full access
    assert weights["Green Zone / US Embassy"] == pytest.approx(300.0 * math.e)  # symbolic 2
    assert weights["Camp Taji"] == pytest.approx(900.0 * math.exp(3.0 * (0.9 - 1.0)))


def test_convoy_attacks_hit_supply_lines_sized_by_the_troops_they_supply():
    model = make_model()
    table = model.target_table("ied")
    assert table.names == [CONVOYS]
    assert table.weights == [pytest.approx(model.troops)]


def test_emptied_sites_leave_the_targets():
    model = make_model()
    model.withdraw(300)  # the Green Zone has the highest retain priority: it is emptied last
    model.withdraw(model.site_troops["Camp Taji"])  # Camp Taji (priority 1) goes first
    assert "Camp Taji" not in model.target_table("rocket").names


# --- beliefs over US types ----------------------------------------------------------------------


def test_bayes_rule_over_types():
    config = ScenarioConfig()
    types = config.us_types
    belief = TypeBelief(types, [1.0] * len(types), half_life_days=1e9)
    seen = Observation("answer", True, deadly=True, seen=1.0, iranians=False)
    belief.observe(seen)
    expected = [likelihood(t, seen) for t in types]
    assert belief.p == pytest.approx([e / sum(expected) for e in expected])
    assert belief.p[0] < 0.01  # 'never' answers nothing: only its tremble explains an answer


def test_unanswered_attacks_that_could_not_be_attributed_teach_less():
    config = ScenarioConfig()
    clear, deniable = (TypeBelief(config.us_types, [1.0] * 4, 1e9) for _ in range(2))
    for _ in range(5):
        clear.observe(Observation("answer", False, deadly=True, seen=1.0))
        deniable.observe(Observation("answer", False, deadly=True, seen=0.1))
    assert clear.p[0] > deniable.p[0] > 0.25  # both move towards 'never', the clear one more


def test_old_evidence_fades_with_its_half_life():
    config = ScenarioConfig()
    belief = TypeBelief(config.us_types, [1.0, 0.0, 0.0, 3.0], half_life_days=10)
    belief.fade(10)  # one half-life: the posterior is raised to the power 1/2
    assert belief.p[3] / belief.p[0] == pytest.approx(math.sqrt(3.0))


def test_expected_answer_cost_sums_over_types():
    config = ScenarioConfig()
    belief = TypeBelief(config.us_types, [0.0, 1.0, 1.0, 0.0], half_life_days=1e9)
    proportionate, disproportionate = config.us_types[1], config.us_types[2]
    severity, iranians = belief.answer_cost(lethality=0.5, threatened=False)
    expected = 0.5 * sum(
        (0.5 * t.answer_deadly + 0.5 * t.answer_harassing) * t.severity
        for t in (proportionate, disproportionate)
    )
    assert severity == pytest.approx(expected)
    assert iranians == pytest.approx(
        0.5 * (0.5 * 0.95 + 0.5 * 0.03) * disproportionate.strikes_iranians
    )
    threatened, _ = belief.answer_cost(lethality=0.0, threatened=True)
    assert threatened == pytest.approx(0.5 * (0.5 * 0.25 + 0.7 * 0.5))  # follow-through rates


# --- the militias' staged choice ----------------------------------------------------------------


def test_the_within_level_choice_is_a_logit_on_the_nest_scale():
    model = make_model()
    group = model.militias[0]
    plan = group.plans()[HARASS]
    utilities = option_utilities(group, HARASS)
    scale = model.rules.nest_dissimilarity / model.rules.rationality
    assert plan.inclusive == pytest.approx(
        scale * math.log(sum(math.exp(u / scale) for u in utilities.values()))
    )
    shares = [w / sum(plan.weights) for w in plan.weights]
    top = max(utilities.values())
    expected = [math.exp((utilities[o] - top) / scale) for o in plan.options]
    assert shares == pytest.approx([e / sum(expected) for e in expected])


def test_claiming_an_attack_costs_deniability():
    model = make_model()
    utilities = option_utilities(model.militias[0], LETHAL)
    # a lethal rocket attack is priced mostly by the answer it draws if attributed
    assert utilities["rocket", "unclaimed"] > utilities["rocket", "claimed"]


def test_going_above_irans_ceiling_costs_a_loyal_group_more():
    model = make_model()
    model.iran.ceiling = Rung.TALKS
    model.touch()
    loyal = model.militia("Kata'ib Hezbollah")  # loyalty 0.9, autonomy 0.3
    free = model.militia("Asa'ib Ahl al-Haq")  # loyalty 0.6, autonomy 0.5
    before = {g.name: option_utilities(g, HARASS) for g in (loyal, free)}
    model.iran.ceiling = HARASS
    model.touch()
    after = {g.name: option_utilities(g, HARASS) for g in (loyal, free)}
    drop = {name: before[name]["rocket", "unclaimed"] - after[name]["rocket", "unclaimed"]
            for name in before}  # fmt: skip
    rules = model.rules
    assert drop[loyal.name] == pytest.approx(-rules.ceiling_violation_cost * 0.9 * 0.7)
    assert drop[free.name] == pytest.approx(-rules.ceiling_violation_cost * 0.6 * 0.5)


def test_outbidding_pushes_a_group_that_trails_its_rivals():
    model = make_model()
    group = model.militias[0]
    for rival in model.militias[1:]:
        rival.standing = 3.0
    group.standing = 1.0
    model.standing_total = sum(g.standing for g in model.militias)
    assert group.outbid_deficit() == pytest.approx(model.rules.outbid_weight * 2.0)
    off = make_model(**{"mechanisms.outbidding": False})
    assert off.militias[0].outbid_deficit() == 0.0


def test_a_claimed_attack_earns_standing_a_deniable_one_does_not():
    model = make_model()
    group = model.militias[0]
    start = group.standing
    group.credit(fake_attack(model, group.name, claim="unclaimed"))
    assert group.standing == start
    group.credit(fake_attack(model, group.name, claim="claimed"))
    assert group.standing == pytest.approx(start + 1.0)  # rockets: visibility 1, harassing


# --- the United States --------------------------------------------------------------------------


def test_an_unattributed_attack_cannot_be_answered():
    model = make_model(**{"us.policy": "escalation_dominance"})
    attack = fake_attack(model, us_killed=2, claim="unclaimed")
    fixed_draws(model, 0.99)  # above the attribution chance of 0.5
    assert not model.us.respond(attack)
    assert not attack.attributed and not attack.answered


def test_the_us_answers_an_attributed_deadly_attack_by_its_type():
    model = make_model(**{"us.policy": "proportionate"})
    group = model.militia("Kata'ib Hezbollah")
    before = group.capability
    attack = fake_attack(model, group.name, us_killed=1)
    fixed_draws(model, 0.0)
    assert model.us.respond(attack)
    assert attack.answered and model.us.rung == Rung.STRIKES_ON_MILITIAS
    assert group.capability == pytest.approx(before * (1 - 0.25))
    assert model.us.no_retreat_until == model.day + model.scenario.config.us.no_retreat_days


def test_a_never_type_absorbs_even_deaths():
    model = make_model(**{"us.policy": "never"})
    attack = fake_attack(model, us_killed=3)
    fixed_draws(model, 0.0)
    assert not model.us.respond(attack)


def test_a_live_threat_raises_the_answer_chance_by_the_audience_cost():
    def answer_chance(violation: bool, audience_cost: float) -> float:
        model = make_model(**{"us.policy": "proportionate", "us.audience_cost": audience_cost})
        attack = fake_attack(model)
        attack.violation = violation
        draws = iter([0.0, 0.5, 0.5])  # attributed; the answer draw; no Iranians struck
        model.uniform = lambda: next(draws)
        return float(model.us.respond(attack))

    assert answer_chance(False, 1.0) == 0.0  # a harassing attack: 1% chance, the draw is 0.5
    assert answer_chance(True, 0.0) == 0.0  # follow-through 0.5: the draw of 0.5 just misses
    assert answer_chance(True, 1.0) == 1.0  # the audience cost tips it: 1 / (1 + e^-1) = 0.73


def test_a_threat_not_backed_is_a_bluff_that_costs_the_us_and_future_threats():
    model = make_model(**{"us.policy": "never"})
    attack = fake_attack(model)
    attack.violation = True
    fixed_draws(model, 0.0, 0.99)
    model.us.respond(attack)
    assert model.us.bluffs == 1 and model.us.bluff_cost == 1.0


def test_believed_threats_move_beliefs_but_commit_the_us_to_nothing():
    model = make_model(**{"us.policy": "never", "mechanisms.beliefs": "deadly_only",
                          "mechanisms.threats": "believed"})  # fmt: skip
    model.us.threat_until = 10
    assert model.us.threat_live() and not model.us.threat_binding()
    attack = fake_attack(model, claim="unclaimed")
    attack.violation = True
    fixed_draws(model, 0.99)  # not attributed
    assert not model.us.respond(attack)
    assert model.us.bluffs == 0  # no commitment, so no bluff to pay for


def test_a_rejected_truce_shows_on_the_ladder_for_the_day():
    model = make_model()
    model.offer_truce()
    model.us.step()
    assert model.us.rung >= Rung.DEMANDS


def test_a_show_of_force_raises_every_sites_defence():
    model = make_model(**{"us.force_protection_gain": 0.5})
    site = model.site("Camp Taji")
    fixed_draws(model, 0.0)
    model.us.consider_show_of_force()
    assert model.us.rung == Rung.SHOW_OF_FORCE
    assert model.defence(site) == pytest.approx(0.3 + 0.5 * (0.9 - 0.3))


def test_the_preferred_level_is_the_initial_one_at_baseline_cost():
    model = make_model()
    assert model.us.preferred_troops() == pytest.approx(model.initial_troops)
    model.us.pressure = 10.0  # ten recent attacks raise the cost of presence by 0.2 a week
    params = model.scenario.config.us
    expected = 1000 * model.us.mission_value / (1.0 + 10 * params.attack_cost)
    assert model.us.preferred_troops() == pytest.approx(expected - params.mission_half_size)


def test_a_host_demand_and_the_election_raise_the_cost_of_presence():
    model = make_model()
    base = model.us.marginal_cost()
    model.government.demanded_withdrawal = True
    assert model.us.marginal_cost() == pytest.approx(base + 0.1)
    for _ in range(155):  # to 3 November 2020
        model.step()
    assert model.election_salience(120) == 1.0


def test_capability_recovers_to_the_groups_own_strength_not_beyond():
    model = make_model()
    group = model.militia("Kata'ib Sayyid al-Shuhada")  # capability 0.4
    group.capability = 0.399
    for _ in range(3):
        group.recover()
    assert group.capability == 0.4


def test_the_mission_value_makes_the_initial_posture_preferred_whatever_the_start():
    for demanded in (False, True):
        model = make_model(**{"government.demanded_withdrawal": demanded})
        assert model.us.preferred_troops() == pytest.approx(model.initial_troops)


def test_a_new_government_takes_office_on_its_day():
    change = {"date": "2020-06-03", "kind": "government_change", "enforcement": 0.9,
              "political_capital": 0.8, "credibility": 0.7, "announced": "2020-05-01",
              "source": "test"}  # fmt: skip
    model = make_model(events=[change])
    model.government.fallen = True
    for _ in range(3):
        model.step()
    assert not model.government.fallen
    assert model.government.enforcement == 0.9
    assert model.government.normal_credibility == 0.7


def test_no_drawdown_without_a_reason():
    quiet = {"militia_rules.harass_odds": 1e-9, "militia_rules.lethal_odds": 1e-9}
    model = make_model(**quiet, events=[], horizon_days=200)
    while model.running:
        model.step()
    assert model.troops == model.initial_troops
    assert model.outcomes()["drawdown_start_censored"]


def test_fixed_target_drawdown_restates_v1():
    quiet = {"militia_rules.harass_odds": 1e-9, "militia_rules.lethal_odds": 1e-9}
    model = make_model(
        **quiet, **{"mechanisms.posture": "fixed_target", "us.drawdown_target": 4000}
    )
    while model.running:
        model.step()
    assert model.troops == 4000.0  # reached after the dialogue, never below


def test_a_committed_withdrawal_empties_every_site():
    quiet = {"militia_rules.harass_odds": 1e-9, "militia_rules.lethal_odds": 1e-9}
    model = make_model(horizon_days=200, **quiet)
    model.us.commit_to_withdrawal("test")
    while model.running:
        model.step()
    assert model.troops == 0.0 and model.withdrawal_day is not None
    assert model.outcomes()["withdrawal_announced_day"] == 0


# --- Iran ---------------------------------------------------------------------------------------


def test_irans_direct_answer_is_a_decision_against_the_expected_us_answer():
    def strikes(war_cost: float) -> int:
        count = 0
        for seed in range(200):
            model = make_model(seed, **{"iran.war_cost": war_cost, "iran.red_line_crossed": True})
            count += model.iran.decides_to_strike()
        return count

    # With 200 draws each, the shares differ by far more than sampling error (about 0.035).
    assert strikes(0.0) > strikes(200.0) + 60


def test_the_coin_flip_restates_v1():
    model = make_model(
        **{"mechanisms.iran_response": "coin_flip", "iran.direct_response_prob": 1.0}
    )
    assert model.iran.decides_to_strike()


def test_iran_allows_less_when_it_believes_the_us_strikes_iranians():
    def lethal_share(prior: dict) -> float:
        model = make_model(**{"iran.type_prior": prior})
        return sum(model.iran.choose_ceiling() == LETHAL for _ in range(2000)) / 2000

    soft = {
        "never": 1.0,
        "proportionate": 1.0,
        "disproportionate": 0.0,
        "escalation_dominance": 0.0,
    }
    hard = {
        "never": 0.0,
        "proportionate": 0.0,
        "disproportionate": 0.0,
        "escalation_dominance": 1.0,
    }
    assert lethal_share(soft) > lethal_share(hard) + 0.3


def test_iran_cuts_the_funding_of_a_group_above_its_ceiling():
    model = make_model()
    model.iran.ceiling = Rung.TALKS
    group = model.militia("Asa'ib Ahl al-Haq")
    model.launch_attack(group, HARASS, "rocket", "unclaimed")
    assert group.sanctioned_until == model.day + model.scenario.config.iran.sanction_days
    group.capability = before = 0.2  # weakened: it recovers towards its strength of 0.7
    group.recover()
    rules, iran = model.rules, model.scenario.config.iran
    assert group.capability == pytest.approx(
        before + rules.capability_recovery_per_day * (1 - iran.sanction)
    )


# --- bargaining ---------------------------------------------------------------------------------


def test_a_us_that_wants_to_leave_accepts_a_truce_and_an_attributed_attack_breaks_it():
    model = make_model()
    model.us.pressure = 200.0  # the preferred level is far below half the troops
    model.offer_truce()
    assert model.truce_active() and model.us.committed
    assert model.moves[Move.DECLARE_TRUCE] == 1
    attack = model.launch_attack(model.militias[0], HARASS, "rocket", "claimed")
    fixed_draws(model, 0.0, 0.99)
    model.us.respond(attack)
    assert not model.truce_active() and not model.us.committed
    assert model.truce_violations == 1


def test_a_us_that_wants_to_stay_rejects_a_truce():
    model = make_model()
    model.offer_truce()
    assert not model.truce_active() and model.moves[Move.REJECT_TRUCE] == 1


# --- the government -----------------------------------------------------------------------------


def test_a_successful_raid_weakens_the_group_and_its_standing():
    model = make_model()
    group = model.militia("Kata'ib Hezbollah")
    capability, standing = group.capability, group.standing
    fixed_draws(model, 0.0)
    model.government.raid(group, success_prob=1.0)
    params = model.scenario.config.government
    assert group.capability == pytest.approx(capability * (1 - params.raid_capability_cut))
    assert group.standing == pytest.approx(standing * (1 - params.raid_standing_loss))


def test_a_failed_raid_backfires():
    model = make_model()
    group = model.militia("Kata'ib Hezbollah")
    standing, credibility = group.standing, model.government.credibility
    fixed_draws(model, 0.99)
    model.government.raid(group, success_prob=0.0)
    params = model.scenario.config.government
    assert group.standing == pytest.approx(standing + params.backlash_standing_gain)
    assert model.government.credibility == pytest.approx(
        credibility - params.raid_failure_credibility_loss
    )


def test_a_raid_under_us_pressure_costs_the_government_at_home():
    model = make_model()
    model.us.host_pressure_until = 10
    credibility = model.government.credibility
    fixed_draws(model, 0.99)
    model.government.raid(model.militias[0], success_prob=0.0)
    params = model.scenario.config.government
    loss = params.pressure_credibility_loss + params.raid_failure_credibility_loss
    assert model.government.credibility == pytest.approx(credibility - loss)


def test_us_pressure_makes_a_raid_more_attractive():
    def raids(pressured: bool) -> int:
        total = 0
        for seed in range(300):
            model = make_model(seed)
            model.militias[0].attacks = 1
            model.us.host_pressure_until = 10 if pressured else -1
            model.government.review()
            total += model.government.raids
        return total

    assert raids(True) > raids(False) + 30


# --- war ----------------------------------------------------------------------------------------


def test_open_war_is_absorbing():
    model = make_model(horizon_days=20)
    for _ in range(3):
        model.step()
    model.start_war()
    attacks = len(model.attacks)
    while model.running:
        model.step()
    assert len(model.attacks) == attacks
    assert model.system_rung == Rung.OPEN_WAR
    assert model.days_at_rung[Rung.OPEN_WAR] == 17
    assert model.outcomes()["open_war_day"] == 3


def test_cached_plans_follow_a_threat_until_it_expires():
    model = make_model()
    group = model.militias[0]
    before = group.plans()[LETHAL].inclusive
    model.us.threat_until = model.day  # a threat live today only
    threatened = group.plans()[LETHAL].inclusive
    assert threatened < before  # every type answers at least at its follow-through rate
    model.us.threat_until = model.day - 1  # expired, with nothing else changed
    assert group.plans()[LETHAL].inclusive == group.plan(LETHAL).inclusive == before


def test_a_second_round_of_direct_strikes_is_open_war():
    model = make_model(**{"us.policy": "escalation_dominance"})
    strike = model.iranian_missile_strike()
    strike.us_killed = 0
    model.us.strike_iran(strike)  # the US answers Iran's strike on Iranian forces
    assert model.iran.red_line_crossed and model.iran.in_exchange and not model.at_war
    model.iran.decides_to_strike = lambda: True
    model.step()  # Iran strikes back: the states exchange blows again
    assert model.at_war and model.iran.direct_strikes == 1


def test_iran_weighs_certain_war_before_a_second_round():
    model = make_model()
    model.uniform = lambda: 0.5
    assert model.iran.decides_to_strike()  # a first strike risks war only if it kills Americans
    model.iran.in_exchange = True
    assert not model.iran.decides_to_strike()  # a second round is war for certain
