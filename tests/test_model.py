"""Whole-model properties (Hypothesis) and Mesa integration."""

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.ladder import Move, Rung
from sim.model import EscalationModel, EscalationScenario, simulate
from sim.scenario import ScenarioConfig, apply_overrides

POLICIES = [t.name for t in ScenarioConfig().us_types]

scenarios = st.builds(
    lambda policy, restraint, enforcement, odds, kill, crossed, choice, posture: apply_overrides(
        ScenarioConfig(),
        {
            "horizon_days": 90,
            "us.policy": policy,
            "militias.*.restraint": restraint,
            "government.enforcement": enforcement,
            "militia_rules.harass_odds": odds,
            "modes.rocket.us_kill_prob": kill,
            "iran.red_line_crossed": crossed,
            "government.grievance": 5.0 if crossed else 0.0,
            "mechanisms.choice": choice,
            "mechanisms.posture": posture,
            "us.drawdown_target": 3000 if posture == "fixed_target" else None,
        },
    ),
    st.sampled_from(POLICIES),
    st.floats(0.0, 0.95),
    st.floats(0.0, 1.0),
    st.floats(1e-4, 0.5),
    st.floats(0.0, 0.2),
    st.booleans(),
    st.sampled_from(["staged", "flat"]),
    st.sampled_from(["strategic", "fixed_target"]),
)


@settings(max_examples=25, deadline=None)
@given(config=scenarios, seed=st.integers(0, 2**32 - 1))
def test_state_stays_on_the_ladder_and_counts_never_fall(config, seed):
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=False)
    troops, killed, attacks = model.troops, 0, 0
    while model.running:
        moves = model.moves[Move.DRAW_DOWN] + model.moves[Move.REINFORCE]
        model.step()
        assert all(isinstance(r, Rung) for r in model.actor_rungs().values())
        assert Rung.TALKS <= model.system_rung <= Rung.OPEN_WAR
        assert model.troops >= 0.0
        if model.troops != troops:  # no troop level that no rule chose
            assert model.moves[Move.DRAW_DOWN] + model.moves[Move.REINFORCE] == moves + 1
        assert model.us_killed >= killed
        assert len(model.attacks) >= attacks
        assert abs(sum(model.iran.belief.p) - 1.0) < 1e-9
        assert 0.0 <= model.government.credibility <= 1.0
        assert all(0.0 <= g.capability <= 1.0 and g.standing >= 0.0 for g in model.militias)
        troops, killed, attacks = model.troops, model.us_killed, len(model.attacks)
    outcomes = model.outcomes()
    assert sum(outcomes["days_at_rung"].values()) == config.horizon_days
    assert outcomes["n_attacks"] == sum(outcomes["n_attacks_by_group"].values())
    assert outcomes["n_attacks"] == sum(outcomes["n_attacks_by_mode"].values())
    assert outcomes["n_attacks"] == sum(outcomes["n_attacks_by_site"].values())
    assert outcomes["redline_crossed"] == (outcomes["us_killed"] > 0)


@settings(max_examples=10, deadline=None)
@given(config=scenarios, seed=st.integers(0, 2**32 - 1))
def test_same_seed_gives_identical_outputs(config, seed):
    first = simulate(config, seed, series=True)
    second = simulate(config, seed, series=True)
    assert first.outcomes == second.outcomes
    assert first.series.equals(second.series)


def test_model_runs_with_all_defaults_and_collects_daily_data():
    model = EscalationModel()
    for _ in range(30):
        model.step()
    table = model.datacollector.get_model_vars_dataframe()
    assert len(table) == 31  # day 0 and 30 days
    assert table["day"].tolist() == list(range(31))
    assert table["date"].iloc[10] == "2020-06-11"
    beliefs = table[[f"belief:{name}" for name in POLICIES]].sum(axis=1)
    assert (abs(beliefs - 1.0) < 1e-9).all()


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
