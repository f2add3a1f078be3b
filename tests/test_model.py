"""Whole-model properties (Hypothesis), behaviour over many seeds, and Mesa integration."""

import subprocess
import sys
from statistics import mean

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.ladder import Rung
from sim.model import EscalationModel, EscalationScenario, simulate
from sim.scenario import ScenarioConfig, apply_overrides

POLICIES = ["never", "proportionate", "disproportionate", "escalation_dominance"]

scenarios = st.builds(
    lambda policy, restraint, enforcement, propensity, kill, request: apply_overrides(
        ScenarioConfig(),
        {
            "horizon_days": 90,
            "us.policy": policy,
            "militias.*.restraint": restraint,
            "government.enforcement": enforcement,
            "militia_rules.attack_propensity": propensity,
            "militia_rules.us_kill_prob_per_rocket": kill,
            "iran.red_line_crossed": request,
            "government.grievance": 5.0 if request else 0.0,
        },
    ),
    st.sampled_from(POLICIES),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(-8.0, 0.0),
    st.floats(0.0, 0.2),
    st.booleans(),
)


@settings(max_examples=25, deadline=None)
@given(config=scenarios, seed=st.integers(0, 2**32 - 1))
def test_state_stays_on_the_ladder_and_counts_never_fall(config, seed):
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=False)
    troops, killed, attacks = model.troops, 0, 0
    while model.running:
        model.step()
        assert all(isinstance(r, Rung) for r in model.actor_rungs().values())
        assert Rung.TALKS <= model.system_rung <= Rung.OPEN_WAR
        assert 0 <= model.troops <= troops + 1e-9  # never negative, never grows
        assert model.us_killed >= killed
        assert len(model.attacks) >= attacks
        assert 0.0 <= model.iran.resolve <= 1.0
        assert 0.0 <= model.government.credibility <= 1.0
        troops, killed, attacks = model.troops, model.us_killed, len(model.attacks)
    outcomes = model.outcomes()
    assert sum(outcomes["days_at_rung"].values()) == config.horizon_days
    assert outcomes["n_attacks"] == sum(outcomes["n_attacks_by_group"].values())
    assert outcomes["redline_crossed"] == (outcomes["us_killed"] > 0)


@settings(max_examples=10, deadline=None)
@given(config=scenarios, seed=st.integers(0, 2**32 - 1))
def test_same_seed_gives_identical_outputs(config, seed):
    first = simulate(config, seed, series=True)
    second = simulate(config, seed, series=True)
    assert first.outcomes == second.outcomes
    assert first.series.equals(second.series)


def mean_outcome(overrides: dict, outcome: str, seeds: range) -> float:
    config = apply_overrides(ScenarioConfig(), overrides)
    return mean(simulate(config, seed).outcomes[outcome] for seed in seeds)


def test_a_us_that_always_retaliates_sees_fewer_attacks_than_one_that_never_does():
    always = {"us.retaliation_prob": 1.0, "us.nonlethal_retaliation_prob": 1.0}
    never = {"us.policy": "never", "us.threat_prob": 0.0}
    # 40 seeds each: measured means about 6 and 38 attacks a year, standard deviations about 2
    # and 8, so standard errors below 1.5; the margin of 10 is many standard errors wide.
    seeds = range(40)
    assert mean_outcome(always, "n_attacks", seeds) < mean_outcome(never, "n_attacks", seeds) - 10


def test_raising_site_defences_lowers_us_casualties():
    # Better defences also embolden the militias (they attack about twice as often), so the
    # effect on deaths is smaller than the five-fold cut in per-rocket lethality. 100 seeds each:
    # measured means 0.79 and 0.46 deaths, standard deviations 0.9 and 0.6, so the standard error
    # of the difference is about 0.11 and the gap is three of them.
    seeds = range(100)
    weak = mean_outcome({"sites.*.defence": 0.0, "us.max_defence": 0.0}, "us_killed", seeds)
    strong = mean_outcome({"sites.*.defence": 0.8, "us.max_defence": 0.8}, "us_killed", seeds)
    assert strong < weak


def test_a_strong_government_holds_better_than_a_weak_one():
    seeds = range(30)
    weak = {"government.enforcement": 0.05, "government.credibility": 0.3}
    strong = {"government.enforcement": 0.8, "government.credibility": 0.8}
    assert mean_outcome(strong, "n_attacks", seeds) < mean_outcome(weak, "n_attacks", seeds)
    assert mean_outcome(strong, "government_credibility_final", seeds) > mean_outcome(
        weak, "government_credibility_final", seeds
    )


def test_model_runs_with_all_defaults_and_collects_daily_data():
    model = EscalationModel()
    for _ in range(30):
        model.step()
    table = model.datacollector.get_model_vars_dataframe()
    assert len(table) == 31  # day 0 and 30 days
    assert table["day"].tolist() == list(range(31))
    assert table["date"].iloc[10] == "2020-06-11"


BATCH_RUN = """
import mesa
from sim.model import EscalationModel
if __name__ == "__main__":
    rows = mesa.batch_run(EscalationModel, parameters={}, max_steps=40,
                          number_processes=1, data_collection_period=-1,
                          display_progress=False, rng=[1, 2])
    print(len(rows), sorted({int(row["Step"]) for row in rows}), rows[0]["troops"] > 0)
"""


def test_model_runs_under_mesa_batch_run_with_its_defaults(tmp_path):
    # batch_run forces the 'spawn' start method process-wide, so it runs in its own interpreter.
    script = tmp_path / "batch.py"
    script.write_text(BATCH_RUN)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["2", "[40]", "True"]
