"""Scenario priors over US types are the record replayed to the scenario's start date."""

from pathlib import Path

import pytest

from sim.beliefs import record_signals, replay
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SIGNALS = ROOT / "data" / "us_signals_2019_2020.csv"


@pytest.mark.parametrize("name", ["june2020", "january2020", "october2019"])
def test_irans_prior_is_the_record_replayed_to_the_start_date(name):
    config = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    signals = record_signals(SIGNALS, config)
    replayed = replay(config.us_types, signals, config.iran.belief_half_life_days)
    stated = [config.iran.type_prior[t.name] for t in config.us_types]
    if len(set(stated)) == 1:  # a uniform prior may be stated in any scale
        stated = [1.0 / len(stated)] * len(stated)
    assert stated == pytest.approx(replayed, abs=1e-9)


def test_signals_before_the_start_only():
    config = load_scenario(ROOT / "scenarios" / "june2020.toml")
    days = [day for day, _ in record_signals(SIGNALS, config)]
    assert days == sorted(days) and max(days) < 0 and len(days) > 50
