"""Scenario files: typed, validated parameters of one model run.

A scenario is a TOML file. Its fields and defaults are the pydantic models below; the defaults are
the state on 1 June 2020 and each is documented, with its source, in ``docs/model.md``. A file may
start with ``extends = "other.toml"`` and override only what differs: tables merge key by key, and
lists of named tables (sites, militias) merge by ``name``.
"""

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import ScenarioError, input_error
from sim.input_files import read_toml

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Name = Annotated[str, Field(min_length=1)]
MAX_TROOPS = 200_000  # more than the US ever had in Iraq: a count beyond it is a typo
MAX_EXTENDS = 16  # files in an ``extends`` chain: a longer one is a mistake


class Strict(BaseModel):
    """Base for scenario tables: unknown keys and non-finite numbers are errors, values are
    immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Mechanisms(Strict):
    """Switches for the model's mechanisms. Each default is model v2; the alternative settings
    restate model v1's assumptions, so a result can be checked against each of them."""

    choice: Literal["staged", "flat"] = "staged"
    beliefs: Literal["types", "deadly_only"] = "types"
    threats: Literal["commitments", "believed"] = "commitments"
    attribution: Literal["uncertain", "perfect"] = "uncertain"
    modes: Literal["all", "rockets"] = "all"
    outbidding: bool = True
    posture: Literal["strategic", "fixed_target"] = "strategic"
    bargaining: bool = True
    iran_response: Literal["decision", "coin_flip"] = "decision"
    host_pressure: bool = True


class SiteParams(Strict):
    """A site used by US forces and diplomats."""

    name: Name
    lat: Annotated[float, Field(ge=29.0, le=37.5)]
    lon: Annotated[float, Field(ge=38.5, le=49.0)]
    us_troops: Annotated[int, Field(ge=0, le=MAX_TROOPS)]
    defence: Probability = 0.3
    militia_access: Probability = 1.0
    symbolic_value: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0
    retain_priority: Annotated[int, Field(ge=0, le=100)] = 1


class ModeParams(Strict):
    """One way of attacking: what it hits, how deadly, how visible and how deniable it is."""

    target: Literal["sites", "convoys"]
    us_kill_prob: Probability
    iraqi_casualty_prob: Probability
    harass_munitions: Annotated[float, Field(ge=1.0, le=200.0)]
    lethal_munitions: Annotated[float, Field(ge=1.0, le=200.0)]
    visibility: Probability
    availability: Probability
    attribution_claimed: Probability
    attribution_front: Probability
    attribution_unclaimed: Probability

    def attribution(self, claim: str) -> float:
        """Chance the US identifies the group behind an attack with this claim."""
        return getattr(self, f"attribution_{claim}")


class MilitiaParams(Strict):
    """An Iran-backed Shia militia group."""

    name: Name
    capability: Probability
    loyalty_to_iran: Probability
    autonomy: Probability
    restraint: Annotated[float, Field(ge=0.0, lt=1.0)]
    standing: NonNegative = 1.0
    arms: dict[str, Probability] = Field(default_factory=dict)
    type_prior: dict[str, NonNegative] | None = None


class MilitiaRules(Strict):
    """Rules shared by the militia groups: the staged attack choice and its terms."""

    rationality: Annotated[float, Field(ge=0.1, le=10.0)] = 1.0
    harass_odds: Annotated[float, Field(gt=0.0, le=1.0)] = 0.028
    lethal_odds: Annotated[float, Field(gt=0.0, le=1.0)] = 0.002
    # the (mode, claim) nest's log-sum coefficient at the level stage: 1 is a flat choice within
    # the level; at most 1 for consistency with random-utility maximisation (Train 2009, ch. 4)
    nest_dissimilarity: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    pressure_value: NonNegative = 1.0
    lethal_pressure: Annotated[float, Field(ge=1.0)] = 1.5
    standing_value: NonNegative = 0.2
    front_credit: Probability = 0.3
    front_visibility: Probability = 0.95
    unclaimed_visibility: Probability = 0.9
    loss_weight: NonNegative = 10.0
    iraqi_casualty_cost: NonNegative = 0.2
    ceiling_violation_cost: NonNegative = 3.0
    enforcement_fear: NonNegative = 6.0
    harass_aim: Probability = 0.1
    access_weight: NonNegative = 3.0
    symbolic_weight: NonNegative = 1.0
    opportunity_weight: Probability = 0.5
    capability_recovery_per_day: Probability = 0.005
    standing_half_life_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 30.0
    outbid_weight: NonNegative = 0.5
    own_experience_weight: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    belief_half_life_days: Annotated[float, Field(gt=0.0, le=36500.0)] = 180.0


class USType(Strict):
    """One US type as observers imagine it: how it answers, threatens, shows force and yields."""

    name: Name
    answer_harassing: Probability
    answer_deadly: Probability
    severity: Probability
    strikes_iranians: Probability
    follow_through: Probability
    show_of_force: Probability
    yields: Probability


class IranParams(Strict):
    """Iran / IRGC-Quds Force: the proxies' ceiling, funding, direct answers and truce offers."""

    type_prior: dict[str, NonNegative] = Field(default_factory=lambda: dict(JUNE2020_PRIOR))
    belief_half_life_days: Annotated[float, Field(gt=0.0, le=36500.0)] = 180.0
    rationality: Annotated[float, Field(ge=0.1, le=10.0)] = 5.0
    review_interval_days: Annotated[int, Field(ge=1, le=365)] = 7
    withdrawal_value: NonNegative = 1.0
    harassment_value: Probability = 0.5
    proxy_loss_cost: NonNegative = 2.0
    strike_cost: NonNegative = 20.0
    dialogue_window_days: Annotated[int, Field(ge=0, le=365)] = 10
    dialogue_boost: NonNegative = 0.7
    response_value: NonNegative = 3.0
    war_cost: NonNegative = 20.0
    missile_salvo: Annotated[int, Field(ge=1, le=1000)] = 12
    missile_kill_prob: Probability = 0.01
    direct_response_prob: Probability = 0.6
    red_line_crossed: bool = False
    sanction: Probability = 0.5
    sanction_days: Annotated[int, Field(ge=0, le=3650)] = 60
    truce_value: NonNegative = 1.0
    truce_days: Annotated[int, Field(ge=1, le=3650)] = 90


class USParams(Strict):
    """United States: its true type (policy), threats, force protection, posture and pressure
    on the host government."""

    policy: Name = "disproportionate"
    threat_prob: Probability = 0.05
    threat_days: Annotated[int, Field(ge=1, le=3650)] = 30
    audience_cost: NonNegative = 1.0
    bluff_half_life_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 90.0
    force_protection_gain: Probability = 0.3
    max_defence: Probability = 0.9
    presence_cost: Annotated[float, Field(gt=0.0)] = 1.0
    mission_half_size: Annotated[int, Field(ge=1, le=MAX_TROOPS)] = 1000
    attack_cost: NonNegative = 0.02
    death_cost: NonNegative = 0.2
    host_demand_cost: NonNegative = 0.1
    election_weight: NonNegative = 0.25
    election_window_days: Annotated[int, Field(ge=1, le=3650)] = 120
    pressure_half_life_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 14.0
    posture_review_days: Annotated[int, Field(ge=1, le=365)] = 7
    drawdown_pace: Annotated[int, Field(ge=0, le=MAX_TROOPS)] = 250
    reinforce_pace: Annotated[int, Field(ge=0, le=MAX_TROOPS)] = 250
    posture_deadband: Annotated[int, Field(ge=0, le=MAX_TROOPS)] = 250
    reinforce_threshold: Annotated[int, Field(ge=0, le=MAX_TROOPS)] = 1500
    no_retreat_days: Annotated[int, Field(ge=0, le=3650)] = 30
    host_pressure_threshold: NonNegative = 5.0
    host_pressure_days: Annotated[int, Field(ge=1, le=3650)] = 30
    truce_accept_share: Probability = 0.5
    drawdown_target: Annotated[int, Field(ge=0, le=MAX_TROOPS)] | None = None


class GovernmentParams(Strict):
    """The Iraqi government of Prime Minister al-Kadhimi."""

    enforcement: Probability = 0.3
    political_capital: Probability = 0.6
    credibility: Probability = 0.6
    rationality: Annotated[float, Field(ge=0.1, le=10.0)] = 3.0
    review_interval_days: Annotated[int, Field(ge=1, le=365)] = 7
    raid_value: NonNegative = 0.5
    raid_cost: Probability = 0.3
    raid_failure_fear: NonNegative = 1.0
    capital_regen_per_day: Probability = 0.005
    militia_resistance: Probability = 0.6
    raid_capability_cut: Probability = 0.2
    raid_standing_loss: Probability = 0.2
    raid_success_credibility_gain: Probability = 0.05
    raid_failure_credibility_loss: Probability = 0.08
    backlash_standing_gain: NonNegative = 0.3
    attack_credibility_loss: Probability = 0.01
    strike_sovereignty_loss: Probability = 0.05
    credibility_recovery_per_day: Probability = 0.002
    demand_value: NonNegative = 2.0
    demand_threshold: NonNegative = 2.0
    grievance: NonNegative = 0.0
    grievance_per_strike: NonNegative = 1.0
    grievance_half_life_days: Annotated[float, Field(gt=0.0, le=3650.0)] = 30.0
    collapse_threshold: Probability = 0.1
    pressure_compliance: NonNegative = 1.0
    pressure_credibility_loss: Probability = 0.03
    demanded_withdrawal: bool = False


class CalendarEvent(Strict):
    """A dated event the model schedules; one after the scenario's start must have been
    announced before its information date (``announced``, ``source``), or lie in the replayed
    record. A ``government_change`` brings a new government with its own enforcement, political
    capital and credibility."""

    date: date
    kind: Literal["dialogue", "withdrawal_request", "handover", "election", "government_change"]
    label: str = ""
    site: str | None = None
    announced: date | None = None
    source: str = ""
    enforcement: Probability | None = None
    political_capital: Probability | None = None
    credibility: Probability | None = None

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> "CalendarEvent":
        if (self.kind == "handover") != (self.site is not None):
            raise ValueError("'site' is required for a handover event and only for it")
        government = (self.enforcement, self.political_capital, self.credibility)
        if (self.kind == "government_change") != all(v is not None for v in government):
            raise ValueError(
                "'enforcement', 'political_capital' and 'credibility' are required for a "
                "government_change event and only for it"
            )
        return self


def _june2020_sites() -> tuple[SiteParams, ...]:
    return (
        SiteParams(name="Green Zone / US Embassy", lat=33.30, lon=44.39, us_troops=300,
                   defence=0.4, militia_access=1.0, symbolic_value=2.0, retain_priority=5),
        SiteParams(name="Baghdad airport", lat=33.26, lon=44.23, us_troops=600,
                   defence=0.3, militia_access=1.0, symbolic_value=1.0, retain_priority=2),
        SiteParams(name="Camp Taji", lat=33.52, lon=44.26, us_troops=900,
                   defence=0.3, militia_access=0.9, symbolic_value=1.0, retain_priority=1),
        SiteParams(name="Ain al-Asad", lat=33.80, lon=42.44, us_troops=1600,
                   defence=0.4, militia_access=0.4, symbolic_value=1.0, retain_priority=4),
        SiteParams(name="Erbil", lat=36.24, lon=43.96, us_troops=1400,
                   defence=0.4, militia_access=0.2, symbolic_value=1.0, retain_priority=4),
        SiteParams(name="Harir", lat=36.55, lon=44.35, us_troops=400,
                   defence=0.4, militia_access=0.1, symbolic_value=0.5, retain_priority=3),
    )  # fmt: skip


def _june2020_militias() -> tuple[MilitiaParams, ...]:
    return (
        MilitiaParams(name="Kata'ib Hezbollah", capability=0.9, loyalty_to_iran=0.9,
                      autonomy=0.3, restraint=0.2, arms={"drone": 0.1}),
        MilitiaParams(name="Asa'ib Ahl al-Haq", capability=0.7, loyalty_to_iran=0.6,
                      autonomy=0.5, restraint=0.4),
        MilitiaParams(name="Harakat al-Nujaba", capability=0.6, loyalty_to_iran=0.8,
                      autonomy=0.4, restraint=0.3),
        MilitiaParams(name="Kata'ib Sayyid al-Shuhada", capability=0.4, loyalty_to_iran=0.8,
                      autonomy=0.3, restraint=0.5),
    )  # fmt: skip


def _modes() -> dict[str, ModeParams]:
    return {
        "rocket": ModeParams(target="sites", us_kill_prob=0.04, iraqi_casualty_prob=0.02,
                             harass_munitions=3.0, lethal_munitions=20.0, visibility=1.0,
                             availability=1.0, attribution_claimed=0.95, attribution_front=0.6,
                             attribution_unclaimed=0.5),
        "ied": ModeParams(target="convoys", us_kill_prob=0.002, iraqi_casualty_prob=0.3,
                          harass_munitions=1.0, lethal_munitions=2.0, visibility=0.3,
                          availability=0.15, attribution_claimed=0.95, attribution_front=0.3,
                          attribution_unclaimed=0.1),
        "drone": ModeParams(target="sites", us_kill_prob=0.05, iraqi_casualty_prob=0.02,
                            harass_munitions=1.0, lethal_munitions=3.0, visibility=1.0,
                            availability=0.02, attribution_claimed=0.95, attribution_front=0.5,
                            attribution_unclaimed=0.3),
    }  # fmt: skip


def _us_types() -> tuple[USType, ...]:
    return (
        USType(name="never", answer_harassing=0.0, answer_deadly=0.0, severity=0.1,
               strikes_iranians=0.0, follow_through=0.0, show_of_force=0.02, yields=0.5),
        USType(name="proportionate", answer_harassing=0.01, answer_deadly=0.9, severity=0.25,
               strikes_iranians=0.0, follow_through=0.5, show_of_force=0.05, yields=0.25),
        USType(name="disproportionate", answer_harassing=0.03, answer_deadly=0.95,
               severity=0.5, strikes_iranians=0.2, follow_through=0.7, show_of_force=0.1,
               yields=0.15),
        USType(name="escalation_dominance", answer_harassing=0.1, answer_deadly=1.0,
               severity=0.6, strikes_iranians=0.7, follow_through=0.9, show_of_force=0.2,
               yields=0.05),
    )  # fmt: skip


#: Iran's prior over the US types on 1 June 2020: the record replayed (docs/model.md 7.2).
JUNE2020_PRIOR = {
    "never": 0.0003,
    "proportionate": 0.1856,
    "disproportionate": 0.7859,
    "escalation_dominance": 0.0283,
}


def _june2020_events() -> tuple[CalendarEvent, ...]:
    return (
        CalendarEvent(date=date(2020, 6, 15), kind="dialogue",
                      label="US-Iraq strategic dialogue, first session (announced for mid-June)",
                      announced=date(2020, 4, 7), source=DIALOGUE_SOURCE),
        CalendarEvent(date=date(2020, 11, 3), kind="election",
                      label="US presidential election",
                      announced=date(1845, 1, 23), source=ELECTION_SOURCE),
    )  # fmt: skip


DIALOGUE_SOURCE = (
    "Pompeo, 7 April 2020: a strategic dialogue 'in the middle of June' "
    "(urdupoint.com/en/world/us-to-start-strategic-dialogue-with-iraq-in-m-886452.html)"
)
ELECTION_SOURCE = "3 U.S.C. 1 (election day fixed by statute, 1845)"


class ScenarioConfig(Strict):
    """A whole scenario. The defaults are the state on 1 June 2020."""

    name: str = "June 2020"
    description: str = (
        "State on 1 June 2020: about 5,200 US troops at six sites, Kadhimi in office since 7 May, "
        "a strategic dialogue announced for mid-June."
    )
    start_date: date = date(2020, 6, 1)
    record_until: date | None = None
    horizon_days: Annotated[int, Field(ge=1, le=3650)] = 365
    mechanisms: Mechanisms = Mechanisms()
    sites: Annotated[tuple[SiteParams, ...], Field(min_length=1, max_length=200)] = Field(
        default_factory=_june2020_sites
    )
    militias: Annotated[tuple[MilitiaParams, ...], Field(min_length=1, max_length=50)] = Field(
        default_factory=_june2020_militias
    )
    events: Annotated[tuple[CalendarEvent, ...], Field(max_length=1000)] = Field(
        default_factory=_june2020_events
    )
    modes: Annotated[dict[str, ModeParams], Field(min_length=1, max_length=20)] = Field(
        default_factory=_modes
    )
    militia_rules: MilitiaRules = MilitiaRules()
    iran: IranParams = IranParams()
    us: USParams = USParams()
    us_types: Annotated[tuple[USType, ...], Field(min_length=1, max_length=20)] = Field(
        default_factory=_us_types
    )
    government: GovernmentParams = GovernmentParams()

    @model_validator(mode="after")
    def _consistent(self) -> "ScenarioConfig":
        for table in ("sites", "militias", "us_types"):
            names = [item.name for item in getattr(self, table)]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"{table}: duplicate name(s) {', '.join(duplicates)}")
        self._check_events()
        self._check_mechanisms()
        self._check_types()
        self._check_modes()
        self._check_posture()
        return self

    def _check_events(self) -> None:
        if self.record_until is not None and self.record_until < self.start_date:
            raise ValueError(f"record_until: {self.record_until} is before start_date")
        site_names = {site.name for site in self.sites}
        known = self.information_date
        for i, event in enumerate(self.events):
            if event.date < self.start_date:
                raise ValueError(
                    f"events[{i}].date: {event.date} is before start_date {self.start_date}"
                )
            if event.site is not None and event.site not in site_names:
                raise ValueError(f"events[{i}].site: no site named {event.site!r}")
            if event.date > self.start_date and not self._known(event):
                raise ValueError(
                    f"events[{i}]: {event.date} is after start_date {self.start_date}: give "
                    f"'announced' (a date before {known}) and 'source', or set record_until "
                    "to replay the record"
                )

    def _check_mechanisms(self) -> None:
        switches = self.mechanisms
        if switches.beliefs == "deadly_only" and switches.threats == "commitments":
            raise ValueError(
                "mechanisms.threats: 'commitments' needs beliefs = 'types' (credibility is "
                "learned over US types); use threats = 'believed' with beliefs = 'deadly_only'"
            )

    @property
    def information_date(self) -> date:
        """What the scenario may know: the record it replays, else what was known at its start."""
        return self.record_until or self.start_date

    def _known(self, event: CalendarEvent) -> bool:
        """No hindsight: an event after the start lies in the replayed record, or was announced
        before the information date; either way with its source."""
        if self.record_until is not None and event.date <= self.record_until:
            return bool(event.source)
        announced = event.announced is not None and event.announced < self.information_date
        return announced and bool(event.source)

    def _check_types(self) -> None:
        names = {t.name for t in self.us_types}
        if self.us.policy not in names:
            raise ValueError(
                f"us.policy: {self.us.policy!r} is not a US type (us_types: {', '.join(names)})"
            )
        priors = [("iran.type_prior", self.iran.type_prior)]
        priors += [(f"militias.{m.name}.type_prior", m.type_prior) for m in self.militias]
        for field, prior in priors:
            if prior is None:
                continue
            unknown = sorted(set(prior) - names)
            if unknown:
                raise ValueError(f"{field}: unknown US type(s) {', '.join(unknown)}")
            if sum(prior.values()) <= 0:
                raise ValueError(f"{field}: the weights must not all be zero")

    def _check_modes(self) -> None:
        for militia in self.militias:
            unknown = sorted(set(militia.arms) - set(self.modes))
            if unknown:
                raise ValueError(f"militias.{militia.name}.arms: unknown mode(s) {unknown}")
        if self.mechanisms.modes == "rockets" and "rocket" not in self.modes:
            raise ValueError("mechanisms.modes: 'rockets' needs a mode named 'rocket'")
        if not any(m.target == "sites" for m in self.modes.values()):
            raise ValueError("modes: at least one mode must target sites")

    def _check_posture(self) -> None:
        target = self.us.drawdown_target
        if self.mechanisms.posture == "fixed_target":
            if target is None:
                raise ValueError(
                    "us.drawdown_target: required when mechanisms.posture is fixed_target"
                )
            if target > self.total_troops:
                raise ValueError(
                    f"us.drawdown_target: {target} exceeds the {self.total_troops} troops at the "
                    "sites"
                )
        elif target is not None:
            raise ValueError(
                "us.drawdown_target: used only with mechanisms.posture = 'fixed_target' (the "
                "strategic US chooses its own level)"
            )

    @property
    def total_troops(self) -> int:
        """US troops at all sites at the start."""
        return sum(site.us_troops for site in self.sites)

    def us_type(self, name: str) -> USType:
        """The US type called ``name``."""
        return next(t for t in self.us_types if t.name == name)


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


def read_scenario_data(path: Path) -> dict[str, Any]:
    """Read a scenario file into a mapping, resolving ``extends`` (relative to the file) up to
    `MAX_EXTENDS` files deep."""
    layers = [read_layer(path, None)]  # the file, then what it extends, and so on
    seen = [path.resolve()]
    while (parent := layers[-1].pop("extends", None)) is not None:
        child = str(seen[-1]) if len(seen) > 1 else str(path)
        if not isinstance(parent, str):
            raise ScenarioError(child, "extends", "must be a file name (string)")
        parent_path = (seen[-1].parent / parent).resolve()
        if parent_path in seen:
            raise ScenarioError(child, "extends", f"circular extends via {parent}")
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(str(path), "extends", f"more than {MAX_EXTENDS} files deep")
        if not parent_path.exists():
            raise ScenarioError(child, "extends", f"no such file {parent}")
        layers.append(read_layer(parent_path, (child, parent)))
        seen.append(parent_path)
    merged = layers.pop()
    for layer in reversed(layers):
        merged = _merge(merged, layer)
    return merged


def read_layer(path: Path, extended_by: tuple[str, str] | None) -> dict[str, Any]:
    """One file of an ``extends`` chain; a file that cannot be read is named by the file that
    extends it (``extended_by``: that file and its ``extends`` value)."""
    try:
        data, _ = read_toml(path, ScenarioError, "scenario")
    except ScenarioError as error:
        if extended_by is None or error.field:
            raise
        child, parent = extended_by
        raise ScenarioError(child, "extends", f"{parent}: {error.problem}") from None
    check_unique_names(data, str(path))
    return data


def check_unique_names(data: dict[str, Any], source: str) -> None:
    """Each list of named tables in one file (sites, militias, US types) names each item once:
    ``extends`` merges items by name, so a repeated name would silently merge."""
    for table, items in data.items():
        if _named_tables(items):
            names = [item["name"] for item in items]
            repeated = sorted({str(n) for n in names if names.count(n) > 1})
            if repeated:
                raise ScenarioError(source, table, f"duplicate name(s) {', '.join(repeated)}")


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


def _item_index(items: list[Any], head: str, path: str) -> int:
    """The index of the list item named ``head``, else numbered ``head``; KeyError if none."""
    index = next((i for i, item in enumerate(items) if item.get("name") == head), None)
    if index is None and head.isdigit() and int(head) < len(items):
        index = int(head)
    if index is None:
        raise KeyError(path)
    return index


def _set_path(data: Any, parts: list[str], value: Any, path: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(data, list):
        targets = list(range(len(data))) if head == "*" else [_item_index(data, head, path)]
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


def field_value(config: ScenarioConfig, path: str) -> Any:
    """The value (JSON form) of the field a dotted path names in ``config``, list items by name
    or index as in `apply_overrides` (not ``*``); KeyError if there is no such field."""
    value: Any = config.model_dump(mode="json")
    for part in path.split("."):
        if isinstance(value, list):
            value = value[_item_index(value, part, path)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value
