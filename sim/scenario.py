"""Scenario files: typed, validated parameters of one model run.

A scenario is a TOML file. Its fields and defaults are the pydantic models below; the defaults are
the state on 1 June 2020 and each is documented, with its source, in ``docs/model.md``. A file may
start with ``extends = "other.toml"`` and override only what differs: tables merge key by key, and
lists of named tables (sites, militias) merge by ``name``.
"""

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError, ScenarioError, input_error

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Name = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Base for scenario tables: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(Strict):
    """A site used by US forces and diplomats."""

    name: Name
    lat: Annotated[float, Field(ge=29.0, le=37.5)]
    lon: Annotated[float, Field(ge=38.5, le=49.0)]
    us_troops: Annotated[int, Field(ge=0)]
    defence: Probability = 0.3
    militia_access: Probability = 1.0
    symbolic_value: NonNegative = 1.0
    retain_priority: Annotated[int, Field(ge=0)] = 1


class Militia(Strict):
    """An Iran-backed Shia militia group."""

    name: Name
    capability: Probability
    loyalty_to_iran: Probability
    autonomy: Probability
    restraint: Probability


class MilitiaRules(Strict):
    """Rules shared by every militia group: attack choice and attack effects."""

    rationality: Positive = 1.0
    attack_propensity: float = -2.5
    attack_gain: NonNegative = 2.0
    threat_gain: float = -3.0
    restraint_weight: NonNegative = 3.0
    access_weight: NonNegative = 3.0
    retaliation_fear: NonNegative = 8.0
    ceiling_violation_cost: NonNegative = 4.0
    enforcement_fear: NonNegative = 1.5
    rocket_cost: NonNegative = 0.15
    light_salvo_mean: Annotated[float, Field(ge=1.0)] = 3.0
    heavy_salvo_mean: Annotated[float, Field(ge=1.0)] = 20.0
    us_kill_prob_per_rocket: Probability = 0.006
    iraqi_casualty_prob_per_rocket: Probability = 0.02
    capability_recovery_per_day: Probability = 0.005
    min_capability: Probability = 0.05


class Iran(Strict):
    """Iran / IRGC-Quds Force: proxy ceiling, belief about US resolve, direct action."""

    resolve_prior_alpha: Positive = 2.0
    resolve_prior_beta: Positive = 1.0
    reaction_prior_alpha: Positive = 1.0
    reaction_prior_beta: Positive = 15.0
    learning_rate: NonNegative = 0.5
    withdrawal_value: NonNegative = 1.0
    harassment_value: Probability = 0.5
    retaliation_cost: NonNegative = 10.0
    rationality: Positive = 3.0
    review_interval_days: Annotated[int, Field(ge=1)] = 7
    dialogue_window_days: Annotated[int, Field(ge=0)] = 10
    dialogue_boost: NonNegative = 0.7
    direct_response_prob: Probability = 0.6
    missile_salvo: Annotated[int, Field(ge=1)] = 12
    missile_kill_prob: Probability = 0.01
    red_line_crossed: bool = False


class US(Strict):
    """United States: red-line rule, retaliation policy, force protection and drawdown."""

    policy: Literal["never", "proportionate", "disproportionate", "escalation_dominance"] = (
        "proportionate"
    )
    retaliation_prob: Probability = 0.9
    nonlethal_retaliation_prob: Probability = 0.0
    threat_prob: Probability = 0.3
    threat_credibility: Probability = 0.2
    strike_capability_cut: Probability = 0.3
    disproportionate_factor: Annotated[float, Field(ge=1.0)] = 2.0
    iranian_casualty_prob: Probability = 0.25
    force_protection_gain: Probability = 0.05
    max_defence: Probability = 0.9
    drawdown_target: Annotated[int, Field(ge=0)] = 3000
    planned_drawdown_per_week: NonNegative = 100.0
    pressure_weight: NonNegative = 0.5
    request_weight: NonNegative = 1.0
    pressure_half_life_days: Positive = 14.0
    no_retreat_days: Annotated[int, Field(ge=0)] = 30


class Government(Strict):
    """The Iraqi government of Prime Minister al-Kadhimi."""

    enforcement: Probability = 0.3
    political_capital: Probability = 0.6
    credibility: Probability = 0.6
    rationality: Positive = 3.0
    raid_value: NonNegative = 1.5
    raid_cost: Probability = 0.3
    raid_failure_fear: NonNegative = 1.0
    capital_regen_per_day: Probability = 0.005
    militia_resistance: Probability = 0.6
    raid_capability_cut: Probability = 0.2
    raid_success_credibility_gain: Probability = 0.05
    raid_failure_credibility_loss: Probability = 0.08
    backlash_restraint_loss: Probability = 0.1
    attack_credibility_loss: Probability = 0.01
    strike_sovereignty_loss: Probability = 0.05
    credibility_recovery_per_day: Probability = 0.002
    demand_value: NonNegative = 2.0
    demand_threshold: NonNegative = 2.0
    grievance: NonNegative = 0.0
    grievance_per_strike: NonNegative = 1.0
    grievance_half_life_days: Positive = 30.0
    collapse_threshold: Probability = 0.1


class CalendarEvent(Strict):
    """A dated event from the record that the model schedules."""

    date: date
    kind: Literal["dialogue", "withdrawal_request", "handover"]
    label: str = ""
    site: str | None = None

    @model_validator(mode="after")
    def _handover_names_a_site(self) -> "CalendarEvent":
        if (self.kind == "handover") != (self.site is not None):
            raise ValueError("'site' is required for a handover event and only for it")
        return self


def _june2020_sites() -> tuple[Site, ...]:
    return (
        Site(name="Green Zone / US Embassy", lat=33.30, lon=44.39, us_troops=300,
             defence=0.4, militia_access=1.0, symbolic_value=1.0, retain_priority=5),
        Site(name="Baghdad airport", lat=33.26, lon=44.23, us_troops=600,
             defence=0.3, militia_access=1.0, symbolic_value=1.0, retain_priority=2),
        Site(name="Camp Taji", lat=33.52, lon=44.26, us_troops=900,
             defence=0.3, militia_access=0.9, symbolic_value=1.0, retain_priority=1),
        Site(name="Ain al-Asad", lat=33.80, lon=42.44, us_troops=1600,
             defence=0.4, militia_access=0.4, symbolic_value=1.0, retain_priority=4),
        Site(name="Erbil", lat=36.24, lon=43.96, us_troops=1400,
             defence=0.4, militia_access=0.2, symbolic_value=1.0, retain_priority=4),
        Site(name="Harir", lat=36.55, lon=44.35, us_troops=400,
             defence=0.4, militia_access=0.1, symbolic_value=0.5, retain_priority=3),
    )  # fmt: skip


def _june2020_militias() -> tuple[Militia, ...]:
    return (
        Militia(name="Kata'ib Hezbollah", capability=0.9, loyalty_to_iran=0.9,
                autonomy=0.3, restraint=0.2),
        Militia(name="Asa'ib Ahl al-Haq", capability=0.7, loyalty_to_iran=0.6,
                autonomy=0.5, restraint=0.4),
        Militia(name="Harakat al-Nujaba", capability=0.6, loyalty_to_iran=0.8,
                autonomy=0.4, restraint=0.3),
        Militia(name="Kata'ib Sayyid al-Shuhada", capability=0.4, loyalty_to_iran=0.8,
                autonomy=0.3, restraint=0.5),
    )  # fmt: skip


def _june2020_events() -> tuple[CalendarEvent, ...]:
    return (
        CalendarEvent(date=date(2020, 6, 11), kind="dialogue",
                      label="US-Iraq strategic dialogue, first session"),
        CalendarEvent(date=date(2020, 7, 15), kind="dialogue",
                      label="Strategic dialogue follow-up on withdrawal timing"),
    )  # fmt: skip


class ScenarioConfig(Strict):
    """A whole scenario. The defaults are the state on 1 June 2020."""

    name: str = "June 2020"
    description: str = (
        "State on 1 June 2020: about 5,200 US troops at six sites, Kadhimi in office since 7 May, "
        "strategic dialogue on 11 June."
    )
    start_date: date = date(2020, 6, 1)
    horizon_days: Annotated[int, Field(ge=1, le=3650)] = 365
    sites: Annotated[tuple[Site, ...], Field(min_length=1)] = Field(default_factory=_june2020_sites)
    militias: Annotated[tuple[Militia, ...], Field(min_length=1)] = Field(
        default_factory=_june2020_militias
    )
    events: tuple[CalendarEvent, ...] = Field(default_factory=_june2020_events)
    militia_rules: MilitiaRules = MilitiaRules()
    iran: Iran = Iran()
    us: US = US()
    government: Government = Government()

    @model_validator(mode="after")
    def _consistent(self) -> "ScenarioConfig":
        for table in ("sites", "militias"):
            names = [item.name for item in getattr(self, table)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{table}: duplicate name(s) {', '.join(duplicates)}")
        site_names = {site.name for site in self.sites}
        for i, event in enumerate(self.events):
            if event.date < self.start_date:
                raise ValueError(
                    f"events[{i}].date: {event.date} is before start_date {self.start_date}"
                )
            if event.site is not None and event.site not in site_names:
                raise ValueError(f"events[{i}].site: no site named {event.site!r}")
        troops = sum(site.us_troops for site in self.sites)
        if self.us.drawdown_target > troops:
            raise ValueError(
                f"us.drawdown_target: {self.us.drawdown_target} exceeds the {troops} troops "
                "at the sites"
            )
        return self

    @property
    def total_troops(self) -> int:
        """US troops at all sites at the start."""
        return sum(site.us_troops for site in self.sites)


def validate_scenario(data: dict[str, Any], source: str = "<scenario>") -> ScenarioConfig:
    """Validate a scenario mapping, raising `ScenarioError` on the first problem."""
    try:
        return ScenarioConfig.model_validate(data)
    except ValidationError as error:
        raise input_error(error, data, source, ScenarioError) from None


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if _named_tables(base) and _named_tables(override):
        merged = {item["name"]: item for item in base}
        for item in override:
            merged[item["name"]] = _merge(merged.get(item["name"], {}), item)
        return list(merged.values())
    return override


def _named_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def read_toml(path: Path, error: type[InputError] = ScenarioError) -> tuple[dict[str, Any], bytes]:
    """A TOML file's mapping and bytes; a missing, unreadable or malformed file raises ``error``."""
    source = str(path)
    try:
        raw = path.read_bytes()
        return tomllib.loads(raw.decode("utf-8")), raw
    except FileNotFoundError:
        raise error(source, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise error(source, "", f"cannot read file ({problem})") from None
    except tomllib.TOMLDecodeError as problem:
        raise error(source, "", f"malformed TOML: {problem}") from None


def read_scenario_data(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file into a mapping, resolving ``extends`` (relative to the file)."""
    source = str(path)
    data, _ = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(source, "extends", "must be a file name (string)")
    parent_path = (path.parent / parent).resolve()
    if parent_path in _seen:
        raise ScenarioError(source, "extends", f"circular extends via {parent}")
    if not parent_path.exists():
        raise ScenarioError(source, "extends", f"no such file {parent}")
    base = read_scenario_data(parent_path, (*_seen, path.resolve()))
    return _merge(base, data)


def load_scenario(path: str | Path) -> ScenarioConfig:
    """Load and validate a scenario file."""
    path = Path(path)
    return validate_scenario(read_scenario_data(path), str(path))


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format (``extends`` aside)."""
    schema = ScenarioConfig.model_json_schema()
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "Scenario file this one overrides, relative to this file.",
    }
    return schema


def _set_path(data: Any, parts: list[str], value: Any, path: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(data, list):
        if head == "*":
            targets = list(range(len(data)))
        else:
            index = next((i for i, item in enumerate(data) if item.get("name") == head), None)
            if index is None and head.isdigit() and int(head) < len(data):
                index = int(head)
            if index is None:
                raise KeyError(path)
            targets = [index]
        for index in targets:
            if rest:
                _set_path(data[index], rest, value, path)
            else:
                data[index] = value
        return
    if not isinstance(data, dict) or head not in data:
        raise KeyError(path)
    if rest:
        _set_path(data[head], rest, value, path)
    else:
        data[head] = value


def apply_overrides(
    config: ScenarioConfig, overrides: dict[str, Any], source: str = "<overrides>"
) -> ScenarioConfig:
    """Return ``config`` with dotted-path fields replaced and re-validated.

    Paths name scenario fields, e.g. ``us.retaliation_prob``; list items are addressed by name or
    index (``militias.Kata'ib Hezbollah.restraint``, ``sites.0.defence``) or all at once with
    ``*`` (``militias.*.restraint``).
    """
    if not overrides:
        return config
    data = config.model_dump(mode="json")
    for path, value in overrides.items():
        try:
            _set_path(data, path.split("."), value, path)
        except KeyError:
            raise ScenarioError(source, path, "no such scenario field") from None
    return validate_scenario(data, source)


def field_exists(path: str, config: ScenarioConfig | None = None) -> bool:
    """Whether a dotted path names a scenario field (checked against ``config``)."""
    data = (config or ScenarioConfig()).model_dump(mode="json")
    try:
        _set_path(data, path.split("."), None, path)
    except KeyError:
        return False
    return True
