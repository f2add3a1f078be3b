"""No hindsight, and mechanism switches that are checked: what a scenario may state."""

from datetime import date
from pathlib import Path

import pytest

from sim.scenario import ScenarioConfig, ScenarioError, load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def defaults() -> dict:
    return ScenarioConfig().model_dump(mode="json")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_later_event_was_announced_before_the_start_or_is_replayed_record(path):
    config = load_scenario(path)
    for event in config.events:
        assert event.source, event.label
        if event.date <= config.start_date:
            continue
        replayed = config.record_until is not None and event.date <= config.record_until
        announced = event.announced is not None and event.announced < config.information_date
        assert replayed or announced, f"{path.name}: {event.label} ({event.date})"


def test_a_scenario_that_replays_the_record_may_use_what_was_announced_by_its_end():
    data = load_scenario(ROOT / "scenarios" / "october2019.toml").model_dump(mode="json")
    follow_up = {"date": "2020-07-15", "kind": "dialogue", "source": "x"}
    data["events"].append({**follow_up, "announced": "2020-06-11"})
    assert validate_scenario(data).information_date == date(2020, 6, 22)
    data["events"][-1]["announced"] = "2020-06-23"
    with pytest.raises(ScenarioError, match=r"a date before 2020-06-22"):
        validate_scenario(data, "x.toml")


def test_forecast_scenarios_replay_no_record():
    for name in ("june2020", "january2020", "no_retaliation", "strong_kadhimi"):
        assert load_scenario(ROOT / "scenarios" / f"{name}.toml").record_until is None


def test_an_event_after_the_start_without_an_announcement_is_rejected():
    data = defaults()
    data["events"].append({"date": "2020-07-15", "kind": "dialogue", "label": "follow-up"})
    with pytest.raises(ScenarioError, match=r"events\[2\]: 2020-07-15 is after start_date"):
        validate_scenario(data, "x.toml")


def test_an_announcement_after_the_start_is_hindsight():
    data = defaults()
    data["events"].append(
        {"date": "2020-07-15", "kind": "dialogue", "announced": "2020-06-11", "source": "x"}
    )
    with pytest.raises(ScenarioError, match=r"events\[2\]"):
        validate_scenario(data, "x.toml")


def test_a_replayed_record_must_name_its_sources():
    data = defaults()
    data["record_until"] = "2020-12-31"
    data["events"].append({"date": "2020-07-15", "kind": "dialogue"})
    with pytest.raises(ScenarioError, match=r"events\[2\]"):
        validate_scenario(data, "x.toml")
    data["events"][-1]["source"] = "a page published on 15 July 2020"
    assert validate_scenario(data).events[-1].date == date(2020, 7, 15)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"mechanisms": {"choise": "flat"}}, "mechanisms.choise", "unknown field"),
        ({"mechanisms": {"choice": "nested"}}, "mechanisms.choice", "'staged' or 'flat'"),
        ({"mechanisms": {"beliefs": "deadly_only"}}, "mechanisms.threats", "needs beliefs"),
        ({"mechanisms": {"posture": "fixed_target"}}, "us.drawdown_target", "required"),
        ({"us": {"drawdown_target": 3000}}, "us.drawdown_target", "fixed_target"),
        ({"us": {"policy": "hawk"}}, "us.policy", "not a US type"),
        ({"iran": {"type_prior": {"hawk": 1.0}}}, "iran.type_prior", "unknown US type"),
        (
            {"militia_rules": {"nest_dissimilarity": 1.5}},
            "militia_rules.nest_dissimilarity",
            "less than or equal to 1",
        ),
    ],
)
def test_unknown_or_inconsistent_switches_name_the_field(change, field, problem):
    data = defaults()
    for table, values in change.items():
        data[table] = {**data[table], **values}
    with pytest.raises(ScenarioError) as error:
        validate_scenario(data, "x.toml")
    assert error.value.field == field
    assert problem in error.value.problem
