"""Every field, outcome and level has a human label, from one table."""

import typing

import pytest

from sim.labels import NAMES, TABLES, label, level_label
from sim.model import simulate
from sim.runner import flatten_outcomes
from sim.scenario import Mechanisms, ScenarioConfig, apply_overrides


def test_every_field_of_every_table_has_a_label():
    models = {
        "mechanisms": Mechanisms,
        "militia_rules": type(ScenarioConfig().militia_rules),
        "iran": type(ScenarioConfig().iran),
        "us": type(ScenarioConfig().us),
        "government": type(ScenarioConfig().government),
        "us_types": type(ScenarioConfig().us_types[0]),
        "modes": type(next(iter(ScenarioConfig().modes.values()))),
        "sites": type(ScenarioConfig().sites[0]),
        "militias": type(ScenarioConfig().militias[0]),
    }
    for table, model in models.items():
        missing = set(model.model_fields) - set(TABLES[table][1]) - {"name", "target", "type_prior"}
        assert not missing, f"{table}: no label for {sorted(missing)}"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("militias.*.restraint", "Militia restraint"),
        ("militias.Kata'ib Hezbollah.restraint", "Militia restraint (Kata'ib Hezbollah)"),
        ("us.policy", "US policy (true type)"),
        ("modes.rocket.us_kill_prob", "P(US killed per munition) (Rocket)"),
        ("us_types.*.answer_deadly", "P(answer deadly attack) (every us type)"),
        ("iran.type_prior.never", "Iran's prior on US type: Never"),
        ("n_attacks_by_site.Erbil", "Attacks on Erbil"),
        ("redline_crossed", "Red line crossed"),
        ("mechanisms.choice", "Attack choice"),
    ],
)
def test_paths_read_as_words(path, words):
    assert label(path) == words


def test_every_outcome_has_a_label():
    config = apply_overrides(ScenarioConfig(), {"horizon_days": 2})
    outcomes = flatten_outcomes(simulate(config, 0).outcomes)
    unlabelled = [name for name in outcomes if label(name) == name]
    assert unlabelled == ["max_rung_label"]  # text, never plotted
    assert "drawdown_day" in NAMES


def test_every_level_reads_as_words():
    assert level_label("escalation_dominance") == "Escalation dominance"
    assert level_label("never") == "Never"
    assert level_label(0.30000000001) == "0.3"
    assert level_label(True) == "Yes"
    for field, info in Mechanisms.model_fields.items():
        for value in typing.get_args(info.annotation):
            words = level_label(value)
            assert "_" not in words and words[0].isupper(), (field, value, words)
