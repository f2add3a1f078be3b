"""Scenario files: defaults, extends, overrides, and one clear error for every bad input."""

import json

import pytest
from conftest import JUNE, ROOT, SCENARIOS

from sim.scenario import (
    ScenarioConfig,
    ScenarioError,
    apply_overrides,
    field_exists,
    field_value,
    load_scenario,
    scenario_json_schema,
)

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def test_june2020_file_states_the_model_defaults():
    assert load_scenario(JUNE) == ScenarioConfig()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_validate(path):
    config = load_scenario(path)
    assert config.total_troops > 0


def test_extends_merges_named_tables_by_name():
    january = load_scenario(SCENARIOS / "january2020.toml")
    june = ScenarioConfig()
    by_name = {site.name: site for site in january.sites}
    assert by_name["Ain al-Asad"].us_troops == 1000  # overridden
    assert by_name["Ain al-Asad"].lat == june.sites[3].lat  # inherited
    assert "al-Qaim" in by_name  # added
    assert january.total_troops == 5200
    assert january.government.enforcement == 0.1
    assert january.us == june.us


def test_counterfactuals_change_only_what_they_name():
    never = load_scenario(SCENARIOS / "no_retaliation.toml")
    assert never.us.policy == "never"
    assert never.militias == ScenarioConfig().militias


def test_overrides_address_items_by_name_index_and_wildcard():
    config = apply_overrides(
        ScenarioConfig(),
        {
            "militias.*.restraint": 0.9,
            "militias.Kata'ib Hezbollah.capability": 0.5,
            "sites.0.defence": 0.1,
            "us.policy": "never",
        },
    )
    assert all(m.restraint == 0.9 for m in config.militias)
    assert config.militias[0].capability == 0.5
    assert config.sites[0].defence == 0.1
    assert config.us.policy == "never"


def test_override_of_unknown_field_names_the_path():
    with pytest.raises(ScenarioError, match=r"<overrides>: us\.bogus: no such scenario field"):
        apply_overrides(ScenarioConfig(), {"us.bogus": 1})
    assert field_exists("militias.*.restraint")
    assert not field_exists("militias.*.courage")


def test_field_value_reads_list_items_by_name_or_index_and_plain_fields():
    config = apply_overrides(ScenarioConfig(), {"militias.Kata'ib Hezbollah.restraint": 0.7})
    assert field_value(config, "militias.Kata'ib Hezbollah.restraint") == 0.7
    assert field_value(config, "militias.0.restraint") == 0.7
    assert field_value(config, "us.policy") == "disproportionate"
    with pytest.raises(KeyError):
        field_value(config, "militias.Nobody.restraint")


def test_published_json_schema_is_current():
    published = json.loads((ROOT / "docs/scenario.schema.json").read_text())
    assert published == scenario_json_schema()


BAD_INPUTS = [
    ("unknown key", "[us]\nretaliation_probability = 0.5\n", "us.retaliation_probability",
     "unknown field"),
    ("wrong type", '[us]\nthreat_prob = "high"\n', "us.threat_prob", "valid number"),
    ("negative troops", 'extends = "june2020.toml"\n[[sites]]\nname = "Erbil"\nus_troops = -5\n',
     "sites[4].us_troops", "greater than or equal to 0"),
    ("probability above 1", "[government]\nenforcement = 1.5\n", "government.enforcement",
     "less than or equal to 1"),
    ("event before start", '[[events]]\ndate = 2020-05-01\nkind = "dialogue"\n', "events[0].date",
     "before start_date"),
    ("unknown policy", '[us]\npolicy = "nuke"\n', "us.policy", "not a US type"),
    ("handover without site", '[[events]]\ndate = 2020-07-01\nkind = "handover"\n', "events[0]",
     "'site' is required"),
    ("handover to unknown site",
     '[[events]]\ndate = 2020-07-01\nkind = "handover"\nsite = "Mars"\n', "events[0].site",
     "no site named"),
    ("duplicate militia", '[[militias]]\nname = "A"\ncapability = 0.5\nloyalty_to_iran = 0.5\n'
     'autonomy = 0.5\nrestraint = 0.5\n' * 2, "militias", "duplicate name"),
    ("target above troops",
     '[mechanisms]\nposture = "fixed_target"\n[us]\ndrawdown_target = 9000\n',
     "us.drawdown_target", "exceeds the 5200 troops"),
    ("horizon zero", "horizon_days = 0\n", "horizon_days", "greater than or equal to 1"),
    ("malformed TOML", "[us\npolicy = 1\n", "", "malformed TOML"),
    ("missing parent", 'extends = "nowhere.toml"\n', "extends", "no such file"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_scenario_exits_2_with_one_line_naming_file_and_field(
    cli, tmp_path, body, field, problem
):
    (tmp_path / "june2020.toml").write_text(JUNE.read_text())
    bad = tmp_path / "bad.toml"
    bad.write_text(body)
    out = tmp_path / "out"
    result = cli("run", bad, "--out", out)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad}: {field}")
    assert problem in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_missing_file_and_circular_extends(cli, tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    result = cli("check", tmp_path / "a.toml", tmp_path / "missing.toml")
    assert result.exit_code == 2
    assert "extends: circular extends via a.toml" in result.stderr
    assert f"{tmp_path / 'missing.toml'}: file not found" in result.stderr


def test_check_accepts_every_shipped_scenario(cli):
    result = cli("check", *SHIPPED)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("ok: ") == len(SHIPPED)
