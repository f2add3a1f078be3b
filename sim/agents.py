"""The four kinds of actors: Iran, the militia groups, the United States, the Iraqi government.

Each agent's ``step`` picks today's action; choices among options are noisy best responses (logit
quantal response, `logit_choice`). Every number an agent uses comes from its scenario table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.ladder import Rung
from sim.scenario import Government as GovernmentParams
from sim.scenario import Iran as IranParams
from sim.scenario import Militia as MilitiaParams

if TYPE_CHECKING:
    from sim.model import EscalationModel


def logit_choice(rng: np.random.Generator, utilities: list[float], rationality: float) -> int:
    """Index drawn with probability proportional to ``exp(rationality * utility)``."""
    top = max(utilities)
    weights = [math.exp(rationality * (u - top)) for u in utilities]
    draw = rng.random() * sum(weights)
    for index, weight in enumerate(weights):
        draw -= weight
        if draw < 0:
            return index
    return len(weights) - 1


def lethality(rockets: float, site_defence: float, kill_prob_per_rocket: float) -> float:
    """Chance that a salvo of ``rockets`` kills at least one American at a site."""
    return 1.0 - (1.0 - kill_prob_per_rocket * (1.0 - site_defence)) ** rockets


@dataclass
class Attack:
    """One militia attack (or Iranian missile strike) and what it caused."""

    day: int
    attacker: str
    site: str
    rockets: int
    us_killed: int
    iraqi_casualties: int
    rung: Rung
    answered: bool = False


@dataclass(frozen=True)
class AttackOption:
    """An attack open to every group today, with the utility terms all groups share."""

    site: str
    rockets: float
    intended: Rung
    gain: float
    value: float


def attack_menu(model: EscalationModel) -> list[AttackOption]:
    """Light and heavy salvos at each occupied site, valued against today's risks.

    The shared terms: propensity, the cost of the rockets, access, fear of US retaliation (the
    chance, as Iran believes it, that the US answers this salvo) and fear of the government's
    enforcement.
    """
    rules = model.scenario.config.militia_rules
    shared = (
        rules.attack_propensity - rules.enforcement_fear * model.government.effective_enforcement
    )
    menu = []
    for site in model.occupied_sites():
        defence = model.defence[site.name]
        for rockets, intended in (
            (rules.light_salvo_mean, Rung.HARASSING_FIRE),
            (rules.heavy_salvo_mean, Rung.US_CASUALTIES),
        ):
            risk = lethality(rockets, defence, rules.us_kill_prob_per_rocket)
            value = (
                shared
                - rules.rocket_cost * rockets
                - rules.access_weight * (1.0 - site.militia_access)
                - rules.retaliation_fear * model.iran.answer_prob(risk)
            )
            gain = rules.attack_gain * site.symbolic_value * rockets / rules.heavy_salvo_mean
            menu.append(AttackOption(site.name, rockets, intended, gain, value))
    return menu


@dataclass
class Belief:
    """A Beta-Bernoulli belief about how often something happens."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """Posterior mean."""
        return self.alpha / (self.alpha + self.beta)

    def update(self, happened: bool, weight: float) -> None:
        """Count one observation, with ``weight`` (1 is conjugate updating)."""
        if happened:
            self.alpha += weight
        else:
            self.beta += weight


class Iran(mesa.Agent):
    """IRGC-Quds Force: sets how far up the ladder its proxies may go and learns US resolve.

    Iran holds two beliefs: ``resolve``, the chance the US answers an attack that kills Americans
    (its red line), and ``reaction``, the chance it answers one that does not.
    """

    model: EscalationModel

    def __init__(self, model: EscalationModel, params: IranParams):
        super().__init__(model)
        self.params = params
        self.resolve_belief = Belief(params.resolve_prior_alpha, params.resolve_prior_beta)
        self.reaction_belief = Belief(params.reaction_prior_alpha, params.reaction_prior_beta)
        self.ceiling = Rung.HARASSING_FIRE
        self.red_line_crossed = params.red_line_crossed
        self.urgency = 0.0
        self.rung = Rung.TALKS

    @property
    def resolve(self) -> float:
        """Believed chance that the US answers an attack that kills Americans."""
        return self.resolve_belief.mean

    @property
    def reaction(self) -> float:
        """Believed chance that the US answers an attack that kills no American."""
        return self.reaction_belief.mean

    def answer_prob(self, lethality: float) -> float:
        """Believed chance that the US answers a salvo that kills Americans with ``lethality``."""
        return lethality * self.resolve + (1.0 - lethality) * self.reaction

    def step(self) -> None:
        """Strike directly if Iran's red line was crossed; review the proxy ceiling weekly."""
        self.rung = Rung.TALKS
        salient = self.model.dialogue_is_salient(self.params.dialogue_window_days)
        self.urgency = self.params.dialogue_boost if salient else 0.0
        if self.red_line_crossed:
            self.red_line_crossed = False
            has_target = bool(self.model.occupied_sites())
            if has_target and self.model.rng.random() < self.params.direct_response_prob:
                self.model.iranian_missile_strike()
                self.rung = Rung.STATE_ON_STATE
        if (self.model.day - 1) % self.params.review_interval_days == 0:
            ceiling = self.choose_ceiling()
            if ceiling != self.ceiling:
                self.model.note("Iran", f"proxies may now go up to: {ceiling.label}")
            self.ceiling = ceiling

    def choose_ceiling(self) -> Rung:
        """Logit choice of the proxies' ceiling: pressure on the US against expected retaliation.

        Threats bring no pressure and no risk; harassing fire brings ``harassment_value`` of the
        pressure of attacks that may kill Americans, at the risk of a light salvo.
        """
        rules = self.model.scenario.config.militia_rules
        value = self.params.withdrawal_value * (1.0 + self.urgency)
        defence = self.model.mean_defence()
        options = (
            (Rung.THREATS, 0.0, 0.0),
            (Rung.HARASSING_FIRE, self.params.harassment_value, rules.light_salvo_mean),
            (Rung.US_CASUALTIES, 1.0, rules.heavy_salvo_mean),
        )
        utilities = [
            value * pressure
            - self.params.retaliation_cost
            * self.answer_prob(lethality(rockets, defence, rules.us_kill_prob_per_rocket))
            * (rockets > 0)
            for _, pressure, rockets in options
        ]
        return options[logit_choice(self.model.rng, utilities, self.params.rationality)][0]

    def observe(self, attack: Attack) -> None:
        """Learn from whether the US answered an attack, by whether it killed Americans."""
        belief = self.resolve_belief if attack.us_killed else self.reaction_belief
        belief.update(attack.answered, self.params.learning_rate)

    def observe_threat(self, credibility: float) -> None:
        """A US deterrent threat counts as a fraction of an answered deadly attack."""
        self.resolve_belief.update(True, self.params.learning_rate * credibility)


class MilitiaGroup(mesa.Agent):
    """An Iran-backed militia: decides whether, where and how hard to attack."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, params: MilitiaParams):
        super().__init__(model)
        self.name = params.name
        self.capability = params.capability
        self.loyalty = params.loyalty_to_iran
        self.autonomy = params.autonomy
        self.restraint = params.restraint
        self.rung = Rung.TALKS
        self.attacks = 0

    def step(self) -> None:
        """Choose among standing down, threatening, or a light or heavy salvo at a US site."""
        model = self.model
        rules = model.scenario.config.militia_rules
        self.capability = min(1.0, self.capability + rules.capability_recovery_per_day)
        self.rung = Rung.TALKS
        if self.capability < rules.min_capability:
            return
        menu = model.attack_menu
        utilities = [0.0, rules.threat_gain, *(self.attack_utility(o) for o in menu)]
        choice = logit_choice(model.rng, utilities, rules.rationality)
        if choice == 1:
            self.rung = Rung.THREATS
            model.note(self.name, "threatens US forces")
        elif choice > 1:
            option = menu[choice - 2]
            rockets = 1 + int(model.rng.poisson(option.rockets - 1.0))
            self.rung = model.resolve_attack(self.name, option.site, rockets).rung
            self.attacks += 1

    def attack_utility(self, option: AttackOption) -> float:
        """The group's utility of an attack: the day's menu value plus its own terms."""
        rules = self.model.scenario.config.militia_rules
        urgency = 1.0 + self.loyalty * self.model.iran.urgency
        utility = (
            option.value
            + option.gain * self.capability * urgency
            - rules.restraint_weight * self.restraint
        )
        if option.intended > self.model.iran.ceiling:
            utility -= rules.ceiling_violation_cost * self.loyalty * (1.0 - self.autonomy)
        return utility

    def weaken(self, fraction: float) -> None:
        """Lose a fraction of capability (US strike, government raid)."""
        self.capability *= 1.0 - fraction


class UnitedStates(mesa.Agent):
    """US forces: red-line retaliation, deterrent threats, force protection, drawdown."""

    model: EscalationModel

    def __init__(self, model: EscalationModel):
        super().__init__(model)
        self.params = model.scenario.config.us
        self.rung = Rung.TALKS
        self.retaliations = 0
        self.drawdown_planned = False
        self.no_retreat_until = -1
        self.pressure = 0.0

    def step(self) -> None:
        """Answer today's attacks, harden struck sites, then draw down if allowed."""
        model = self.model
        self.rung = Rung.TALKS
        attacks = model.attacks_today
        decay = 0.5 ** (1.0 / self.params.pressure_half_life_days)
        self.pressure = self.pressure * decay + len(attacks)
        for attack in attacks:
            self.harden(attack.site)
            self.respond(attack)
        if attacks and self.rung == Rung.TALKS and model.rng.random() < self.params.threat_prob:
            self.rung = Rung.THREATS
            model.note("US", "issues a deterrent threat")
            model.iran.observe_threat(self.params.threat_credibility)
        self.draw_down()

    def respond(self, attack: Attack) -> None:
        """The red-line rule: retaliate for Americans killed, by the policy's rung."""
        model = self.model
        if self.params.policy == "never":
            return
        if attack.attacker == "Iran":
            if attack.us_killed and model.rng.random() < self.params.retaliation_prob:
                attack.answered = True
                self.rung = max(self.rung, Rung.OPEN_WAR)
                model.note("US", "strikes Iran: open war")
                self.no_retreat_until = model.day + self.params.no_retreat_days
            return
        chance = (
            self.params.retaliation_prob
            if attack.us_killed
            else self.params.nonlethal_retaliation_prob
        )
        if model.rng.random() >= chance:
            return
        attack.answered = True
        self.retaliations += 1
        self.no_retreat_until = model.day + self.params.no_retreat_days
        model.government.on_us_strike()
        cut = self.params.strike_capability_cut
        model.note("US", f"retaliates for the attack by {attack.attacker}")
        if self.params.policy == "proportionate":
            model.militia(attack.attacker).weaken(cut)
            self.rung = max(self.rung, Rung.STRIKES_ON_MILITIAS)
            return
        model.militia(attack.attacker).weaken(min(1.0, cut * self.params.disproportionate_factor))
        hits_iranians = (
            self.params.policy == "escalation_dominance"
            or model.rng.random() < self.params.iranian_casualty_prob
        )
        if hits_iranians:
            model.iran.red_line_crossed = True
            self.rung = max(self.rung, Rung.STRIKES_ON_IRANIANS)
            model.note("US", "strike kills Iranian personnel: Iran's red line crossed")
        else:
            self.rung = max(self.rung, Rung.STRIKES_ON_MILITIAS)

    def harden(self, site_name: str) -> None:
        """Force protection: each attack closes part of the gap to the best defence."""
        gap = self.params.max_defence - self.model.defence[site_name]
        self.model.defence[site_name] += self.params.force_protection_gain * max(gap, 0.0)

    def draw_down(self) -> None:
        """Withdraw troops: the planned rate, sped up by attacks and a host request."""
        model = self.model
        if model.day <= self.no_retreat_until:
            return
        request = model.government.requested_withdrawal
        if request:
            floor = 0.0
        elif self.drawdown_planned:
            floor = float(self.params.drawdown_target)
        else:
            return
        multiplier = (
            1.0 + self.params.pressure_weight * self.pressure + self.params.request_weight * request
        )
        rate = self.params.planned_drawdown_per_week / 7.0 * multiplier
        model.withdraw(min(rate, model.troops - floor))


class IraqiGovernment(mesa.Agent):
    """The al-Kadhimi government: raids on militias, the dialogue, withdrawal demands."""

    model: EscalationModel

    def __init__(self, model: EscalationModel, params: GovernmentParams):
        super().__init__(model)
        self.params = params
        self.enforcement = params.enforcement
        self.capital = params.political_capital
        self.credibility = params.credibility
        self.grievance = params.grievance
        self.requested_withdrawal = False
        self.fallen = False
        self.rung = Rung.TALKS
        self.raids = 0

    @property
    def effective_enforcement(self) -> float:
        """Enforcement the militias must reckon with: capacity backed by credibility."""
        return 0.0 if self.fallen else self.enforcement * self.credibility

    def step(self) -> None:
        """Lose credibility for today's attacks, then talk, raid or demand a timetable."""
        params = self.params
        model = self.model
        self.rung = Rung.TALKS
        self.capital = min(1.0, self.capital + params.capital_regen_per_day)
        self.grievance *= 0.5 ** (1.0 / params.grievance_half_life_days)
        self.credibility -= params.attack_credibility_loss * len(model.attacks_today)
        if self.credibility < params.credibility:  # recovers slowly towards its starting level
            gap = params.credibility - self.credibility
            self.credibility += min(params.credibility_recovery_per_day, gap)
        self.credibility = max(0.0, self.credibility)
        if self.fallen:
            return
        if self.credibility < params.collapse_threshold:
            self.fallen = True
            model.government_fell_day = model.day
            model.note("Government", "loses its hold: the government falls")
            return
        target = model.most_active_militia()
        success = self.raid_success_prob(target)
        options = [(Rung.TALKS, 0.0)]
        if self.capital >= params.raid_cost:
            pressure = model.us.pressure
            raid_utility = params.raid_value * pressure * success - params.raid_failure_fear * (
                1 - success
            )
            options.append((Rung.COERCION, raid_utility))
        if not self.requested_withdrawal:
            options.append(
                (Rung.DEMANDS, params.demand_value * (self.grievance - params.demand_threshold))
            )
        choice = options[logit_choice(model.rng, [u for _, u in options], params.rationality)][0]
        if choice == Rung.COERCION:
            self.raid(target, success)
        elif choice == Rung.DEMANDS:
            self.requested_withdrawal = True
            model.note("Government", "demands a timetable for US withdrawal")
        self.rung = choice

    def raid_success_prob(self, target: MilitiaGroup) -> float:
        """Chance a raid holds: enforcement against the target's armed resistance."""
        return self.enforcement * (1.0 - self.params.militia_resistance * target.capability)

    def raid(self, target: MilitiaGroup, success_prob: float) -> None:
        """Raid and arrest (as on 25-26 June 2020): weakens the group or backfires."""
        params = self.params
        self.capital -= params.raid_cost
        self.raids += 1
        if self.model.rng.random() < success_prob:
            target.weaken(params.raid_capability_cut)
            self.credibility = min(1.0, self.credibility + params.raid_success_credibility_gain)
            self.model.note("Government", f"raid on {target.name} succeeds")
        else:
            self.model.note("Government", f"raid on {target.name} fails; detainees released")
            self.credibility = max(0.0, self.credibility - params.raid_failure_credibility_loss)
            target.restraint = max(0.0, target.restraint - params.backlash_restraint_loss)

    def on_us_strike(self) -> None:
        """A US strike on Iraqi soil costs sovereignty credibility and feeds grievance."""
        self.credibility = max(0.0, self.credibility - self.params.strike_sovereignty_loss)
        self.grievance += self.params.grievance_per_strike
