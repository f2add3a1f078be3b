"""The escalation model: one step is one day of the 2020 confrontation in Iraq."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import partial
from typing import Any

import mesa
from mesa.experimental.scenarios import Scenario

from sim.agents import (
    Attack,
    AttackOption,
    Iran,
    IraqiGovernment,
    MilitiaGroup,
    UnitedStates,
    attack_menu,
)
from sim.ladder import Rung
from sim.scenario import CalendarEvent, ScenarioConfig, Site

DEFAULT_CONFIG = ScenarioConfig()


class EscalationScenario(Scenario):
    """Typed defaults for the model: a validated scenario (June 2020 unless given)."""

    config: ScenarioConfig = DEFAULT_CONFIG


class EscalationModel(mesa.Model):
    """Iran, militias, the US and the Iraqi government on a shared escalation ladder.

    Args:
        scenario: the scenario and seed; the June 2020 defaults when omitted.
        rng: seed, used when no scenario is given (as `mesa.batch_run` passes it).
        record: collect the daily series with a `mesa.DataCollector` (off for fast sweeps).
    """

    def __init__(
        self,
        scenario: EscalationScenario | None = None,
        rng: Any = None,
        record: bool = True,
    ):
        super().__init__(scenario=scenario or EscalationScenario(rng=rng))
        config = self.scenario.config
        self.sites: tuple[Site, ...] = config.sites
        self.site_troops: dict[str, float] = {s.name: float(s.us_troops) for s in self.sites}
        self.defence: dict[str, float] = {s.name: s.defence for s in self.sites}
        self.attacks: list[Attack] = []
        self.attacks_today: list[Attack] = []
        self.attack_menu: list[AttackOption] = []
        self.us_killed = 0
        self.iraqi_casualties = 0
        self.system_rung = Rung.TALKS
        self.max_rung = Rung.TALKS
        self.days_at_rung: Counter[Rung] = Counter()
        self.first_us_casualty_day: int | None = None
        self.drawdown_day: int | None = None
        self.withdrawal_day: int | None = None
        self.government_fell_day: int | None = None
        self.event_log: list[tuple[int, str, str]] | None = [] if record else None
        self.dialogue_days = [self.day_of(e.date) for e in config.events if e.kind == "dialogue"]

        self.iran = Iran(self, config.iran)
        for params in config.militias:
            MilitiaGroup(self, params)
        self.us = UnitedStates(self)
        self.government = IraqiGovernment(self, config.government)
        self.militias = self.agents_by_type[MilitiaGroup]

        self.schedule_calendar(config.events)
        self.check_troop_thresholds()
        self.datacollector = (
            mesa.DataCollector(model_reporters=self.reporters()) if record else None
        )
        self.collect()

    # --- time and calendar -------------------------------------------------------------------

    @property
    def day(self) -> int:
        """Days since the start date; the initial state is day 0."""
        return self.steps

    @property
    def date(self) -> date:
        """Calendar date of the current day."""
        return self.scenario.config.start_date + timedelta(days=self.day)

    def day_of(self, when: date) -> int:
        """Day number of a calendar date."""
        return (when - self.scenario.config.start_date).days

    def schedule_calendar(self, events: tuple[CalendarEvent, ...]) -> None:
        """Schedule each dated event at the start of its day, before the actors move."""
        for day in sorted({self.day_of(e.date) for e in events}):
            if day == 0:
                self.fire_calendar_events()
            else:
                self.schedule_event(self.fire_calendar_events, at=day - 0.5)

    def fire_calendar_events(self) -> None:
        """Apply the calendar events that fall on the coming day."""
        coming = round(self.time + 0.5)
        for event in self.scenario.config.events:
            if self.day_of(event.date) != coming:
                continue
            self.note("Calendar", event.label or event.kind, day=coming)
            match event.kind:
                case "dialogue":
                    self.us.drawdown_planned = True
                case "withdrawal_request":
                    self.government.requested_withdrawal = True
                case "handover":
                    self.hand_over(event.site)

    def dialogue_is_salient(self, window: int) -> bool:
        """Whether a strategic-dialogue session lies within ``window`` days of today."""
        return any(abs(self.day - d) <= window for d in self.dialogue_days)

    # --- the day -----------------------------------------------------------------------------

    def step(self) -> None:
        """One day: Iran, then the militias in random order, the US, the government."""
        self.attacks_today = []
        self.iran.step()
        self.attack_menu = attack_menu(self)
        self.militias.shuffle_do("step")
        self.us.step()
        self.government.step()
        for attack in self.attacks_today:
            self.iran.observe(attack)
        self.system_rung = max(self.actor_rungs().values())
        self.max_rung = max(self.max_rung, self.system_rung)
        self.days_at_rung[self.system_rung] += 1
        self.check_troop_thresholds()
        self.collect()
        if self.day >= self.scenario.config.horizon_days:
            self.running = False

    def actor_rungs(self) -> dict[str, Rung]:
        """Today's rung of each actor, by name."""
        rungs = {"Iran": self.iran.rung, "US": self.us.rung, "Government": self.government.rung}
        rungs.update({m.name: m.rung for m in self.militias})
        return rungs

    # --- attacks and forces ------------------------------------------------------------------

    def resolve_attack(
        self,
        attacker: str,
        site_name: str,
        rockets: int,
        kill_prob: float | None = None,
        rung: Rung | None = None,
    ) -> Attack:
        """Draw the casualties of a salvo at a site and record the attack."""
        rules = self.scenario.config.militia_rules
        per_rocket = rules.us_kill_prob_per_rocket if kill_prob is None else kill_prob
        us_killed = int(self.rng.binomial(rockets, per_rocket * (1.0 - self.defence[site_name])))
        iraqi = int(self.rng.binomial(rockets, rules.iraqi_casualty_prob_per_rocket))
        if rung is None:
            rung = (
                Rung.US_CASUALTIES
                if us_killed
                else Rung.IRAQI_CASUALTIES
                if iraqi
                else Rung.HARASSING_FIRE
            )
        attack = Attack(self.day, attacker, site_name, rockets, us_killed, iraqi, rung)
        self.attacks.append(attack)
        self.attacks_today.append(attack)
        self.us_killed += us_killed
        self.iraqi_casualties += iraqi
        if us_killed and self.first_us_casualty_day is None:
            self.first_us_casualty_day = self.day
        if self.event_log is not None:
            harm = f"{us_killed} Americans killed" if us_killed else "no Americans killed"
            extra = f", {iraqi} Iraqi casualties" if iraqi else ""
            self.note(attacker, f"{rockets} rockets/missiles at {site_name}: {harm}{extra}")
        return attack

    def iranian_missile_strike(self) -> Attack:
        """Iran answers a strike on its personnel directly, at the largest US base."""
        params = self.scenario.config.iran
        target = max(self.occupied_sites(), key=lambda s: self.site_troops[s.name])
        return self.resolve_attack(
            "Iran", target.name, params.missile_salvo, params.missile_kill_prob, Rung.STATE_ON_STATE
        )

    def occupied_sites(self) -> list[Site]:
        """Sites that still host US personnel."""
        return [s for s in self.sites if self.site_troops[s.name] > 0]

    def mean_defence(self) -> float:
        """Average defence of the occupied sites (1 when none is left)."""
        sites = self.occupied_sites()
        return sum(self.defence[s.name] for s in sites) / len(sites) if sites else 1.0

    @property
    def troops(self) -> float:
        """US troops in Iraq."""
        return sum(self.site_troops.values())

    @property
    def bases(self) -> int:
        """Sites still held by US forces."""
        return len(self.occupied_sites())

    def withdraw(self, amount: float) -> None:
        """Withdraw troops, emptying the least-valued sites first."""
        order = sorted(
            self.occupied_sites(), key=lambda s: (s.retain_priority, self.site_troops[s.name])
        )
        for site in order:
            if amount <= 0:
                break
            taken = min(amount, self.site_troops[site.name])
            self.site_troops[site.name] -= taken
            amount -= taken

    def hand_over(self, site_name: str | None) -> None:
        """Hand a site to Iraqi forces, consolidating its troops at the largest remaining site.

        Handing over the last site takes its troops out of Iraq.
        """
        troops = self.site_troops.get(site_name, 0.0)
        self.site_troops[site_name] = 0.0
        remaining = self.occupied_sites()
        if troops and remaining:
            largest = max(remaining, key=lambda s: self.site_troops[s.name])
            self.site_troops[largest.name] += troops

    def check_troop_thresholds(self) -> None:
        """Note the first day troops reach the drawdown target, and zero."""
        troops = self.troops
        if self.drawdown_day is None and troops <= self.scenario.config.us.drawdown_target + 1e-6:
            self.drawdown_day = self.day
        if self.withdrawal_day is None and troops <= 1e-6:
            self.withdrawal_day = self.day

    def most_active_militia(self) -> MilitiaGroup:
        """The group with most attacks so far, the most capable on ties."""
        return max(self.militias, key=lambda m: (m.attacks, m.capability))

    def militia(self, name: str) -> MilitiaGroup:
        """The militia group called ``name``."""
        return next(m for m in self.militias if m.name == name)

    # --- records -----------------------------------------------------------------------------

    def reporters(self) -> dict[str, Any]:
        """DataCollector reporters for the daily series."""
        reporters: dict[str, Any] = {
            "day": "day",
            "date": lambda m: m.date.isoformat(),
            "troops": lambda m: round(m.troops),
            "bases": "bases",
            "system_rung": lambda m: int(m.system_rung),
            "iran_rung": lambda m: int(m.iran.rung),
            "iran_ceiling": lambda m: int(m.iran.ceiling),
            "us_rung": lambda m: int(m.us.rung),
            "government_rung": lambda m: int(m.government.rung),
            "attacks": lambda m: len(m.attacks_today),
            "us_killed": "us_killed",
            "iraqi_casualties": "iraqi_casualties",
            "iran_belief_us_resolve": lambda m: m.iran.resolve,
            "iran_belief_us_reaction": lambda m: m.iran.reaction,
            "government_credibility": lambda m: m.government.credibility,
            "attack_pressure": lambda m: m.us.pressure,
        }
        for name in (m.name for m in self.militias):
            reporters[f"rung:{name}"] = partial(_militia_rung, name=name)
        return reporters

    def note(self, actor: str, text: str, day: int | None = None) -> None:
        """Add a line to the event log (kept only when recording); ``day`` defaults to today."""
        if self.event_log is not None:
            self.event_log.append((self.day if day is None else day, actor, text))

    def collect(self) -> None:
        """Record today's state, if recording."""
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def outcomes(self) -> dict[str, Any]:
        """The run's outcomes (see ``docs/model.md``)."""
        config = self.scenario.config
        return {
            "horizon_days": self.day,
            "drawdown_day": self.drawdown_day,
            "drawdown_censored": self.drawdown_day is None,
            "withdrawal_day": self.withdrawal_day,
            "withdrawal_censored": self.withdrawal_day is None,
            "redline_crossed": self.first_us_casualty_day is not None,
            "first_us_casualty_day": self.first_us_casualty_day,
            "us_killed": self.us_killed,
            "iraqi_casualties": self.iraqi_casualties,
            "max_rung": int(self.max_rung),
            "max_rung_label": self.max_rung.label,
            "days_at_rung": {r.name: self.days_at_rung[r] for r in Rung},
            "n_attacks": sum(a.attacker != "Iran" for a in self.attacks),
            "n_attacks_by_group": {m.name: m.attacks for m in self.militias},
            "n_attacks_by_site": {
                s.name: sum(a.site == s.name and a.attacker != "Iran" for a in self.attacks)
                for s in config.sites
            },
            "iranian_direct_strikes": sum(a.attacker == "Iran" for a in self.attacks),
            "us_retaliations": self.us.retaliations,
            "government_raids": self.government.raids,
            "government_requested_withdrawal": self.government.requested_withdrawal,
            "government_fell_day": self.government_fell_day,
            "government_credibility_final": self.government.credibility,
            "iran_belief_us_resolve_final": self.iran.resolve,
            "iran_belief_us_reaction_final": self.iran.reaction,
            "troops_final": round(self.troops),
        }


def _militia_rung(model: EscalationModel, name: str) -> int:
    return int(model.militia(name).rung)


# --- one run -------------------------------------------------------------------------------------
# (Imports for this section; the model rewrite moves them to the top of the file.)
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

Seed = int | np.random.SeedSequence


@dataclass
class RunResult:
    """Outcomes of one run, and its daily series when asked for."""

    outcomes: dict[str, Any]
    series: pd.DataFrame | None


def simulate(config: ScenarioConfig, seed: Seed, series: bool = False) -> RunResult:
    """Run a scenario to its horizon and collect its outcomes.

    Outcomes are computed directly by the model; the daily series (one row per day, day 0 the
    initial state) comes from the model's DataCollector, which runs only when asked for.

    Args:
        config: the scenario, run for ``config.horizon_days`` days.
        seed: the run's seed (an integer or a `numpy.random.SeedSequence`); the same seed gives
            the same run.
        series: also record the daily series (slower).

    Returns:
        The run's outcomes (see ``docs/model.md``) and, if ``series``, its daily series.
    """
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=series)
    while model.running:
        model.step()
    table = model.datacollector.get_model_vars_dataframe() if series else None
    return RunResult(model.outcomes(), table)
