"""The 2019-2020 record: loader validation and the observed summary statistics."""

from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS

from sim.calibration.record import (
    COLUMNS,
    StatisticSpec,
    daily_from_record,
    daily_from_series,
    load_events,
    monthly_attacks,
    record_statistics,
    summary_statistics,
    untallied,
)
from sim.errors import RecordError
from sim.model import simulate
from sim.scenario import load_scenario

RECORD = ROOT / "data" / "events_2019_2020.csv"
SPEC = StatisticSpec(
    checkpoints=(date(2020, 2, 16), date(2020, 3, 16), date(2020, 6, 8), date(2020, 6, 22)),
    june=(date(2020, 6, 1), date(2020, 6, 22)),
)
GOOD = "2020-03-11,rocket_attack,militia,Camp Taji,18 rockets,2,12,1,,example.com/taji"


def write_record(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


def test_record_loads_with_every_row_sourced():
    events = load_events(RECORD)
    assert len(events) >= 45
    assert events["date"].is_monotonic_increasing
    assert (events["source"].str.len() > 5).all()
    assert (events["kind"] == "rocket_attack").sum() == 28
    assert events["us_killed"].sum() == 3  # the K-1 contractor and two soldiers at Taji


def test_observed_statistics_of_the_record():
    observed = record_statistics(load_events(RECORD), date(2019, 10, 28), SPEC)
    assert observed == {
        "attacks_to_feb16": 19.0,  # AFP tallies: 19, 24, 29, 34
        "attacks_feb17_mar16": 5.0,
        "attacks_mar17_jun08": 5.0,
        "attacks_jun09_jun22": 5.0,
        "lethal_attacks": 2.0,  # 27 Dec (K-1), 11 Mar (Taji)
        "lethal_attacks_answered": 2.0,  # US strikes 29 Dec, 12 Mar
        "iranian_direct_strikes": 1.0,  # 8 Jan
        "escalation_after_first_death": 5.0,  # 9 attacks in the 30 days after K-1, 4 before
        "june_spate": 5.0,  # 8, 10, 13, 16, 18 June
        "june_us_killed": 0.0,
    }


def test_monthly_attacks_of_the_listed_record():
    daily = daily_from_record(load_events(RECORD), date(2019, 10, 28), date(2020, 6, 22))
    monthly = monthly_attacks(daily)
    assert monthly["2020-01"] == 7 and monthly["2020-06"] == 6
    assert monthly.sum() == 28


def test_simulated_statistics_agree_with_the_run_outcomes():
    config = load_scenario(SCENARIOS / "october2019.toml")
    result = simulate(config, 3, series=True)
    daily = daily_from_series(result.series)
    assert daily.attacks.sum() == result.outcomes["n_attacks"]
    assert daily.iran_strikes.sum() == result.outcomes["iranian_direct_strikes"]
    assert daily.us_deaths.sum() == result.outcomes["us_killed"]
    stats = summary_statistics(daily, SPEC)
    periods = [v for k, v in stats.items() if k.startswith("attacks_")]
    assert sum(periods) == result.outcomes["n_attacks"]


@pytest.mark.parametrize(
    ("row", "where", "problem"),
    [
        ("2020-02-30,rocket_attack,militia,Taji,,0,0,0,,example.com/a", "line 2: date", "date"),
        ("2020-03-11,rocket_attak,militia,Taji,,0,0,0,,example.com/a", "line 2: kind", "Input"),
        ("2020-03-11,rocket_attack,militia,Taji,,-1,0,0,,example.com/a", "line 2: us_killed",
         "greater than or equal to 0"),
        ("2020-03-11,rocket_attack,militia,Taji,,x,0,0,,example.com/a", "line 2: us_killed",
         "integer"),
        ("2020-03-11,rocket_attack,militia,Taji,,0,0,0,,", "line 2: source", "pattern"),
        ("2020-03-11,press_tally,AFP,,,0,0,0,,example.com/a", "line 2: tally", "required"),
        ("2020-03-11,rocket_attack,militia,Taji,,0,0,0,4,example.com/a", "line 2: tally",
         "only for it"),
        ("2020-03-11,rocket_attack,militia,Taji", "line 2", "expected 10 fields"),
    ],
)  # fmt: skip
def test_malformed_rows_are_rejected_with_file_line_and_column(tmp_path, row, where, problem):
    path = write_record(tmp_path, row)
    with pytest.raises(RecordError) as caught:
        load_events(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: ")
    assert problem in message
    assert "\n" not in message


def test_rows_out_of_date_order_are_rejected(tmp_path):
    path = write_record(tmp_path, GOOD, GOOD.replace("2020-03-11", "2020-03-01"))
    with pytest.raises(RecordError, match=r"line 3: date: 2020-03-01 is earlier"):
        load_events(path)


def test_wrong_header_is_rejected(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("date,kind\n2020-03-11,rocket_attack\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"line 1: columns must be date, kind, actor"):
        load_events(path)


def test_checkpoints_without_a_press_tally_are_found():
    checkpoints = (date(2020, 1, 1), date(2020, 2, 16), date(2020, 3, 1))
    assert untallied(load_events(RECORD), checkpoints) == [date(2020, 1, 1), date(2020, 3, 1)]
