"""The escalation ladder shared by every actor.

Each rung maps onto three scales used in conflict research, so model output can be compared with
event data: the CAMEO root code and its Goldstein weight, and the Correlates of War MID hostility
level (1 no militarized action, 2 threat, 3 display, 4 use of force, 5 war). Each move an actor
makes (`Move`) carries its CAMEO event code and Goldstein weight and sits on one rung; an attack's
rung follows its outcome (harassing fire, Iraqi casualties, Americans killed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Rung(IntEnum):
    """Rungs of the ladder, from cooperation to open war."""

    TALKS = 0
    DEMANDS = 1
    THREATS = 2
    COERCION = 3
    SHOW_OF_FORCE = 4
    HARASSING_FIRE = 5
    IRAQI_CASUALTIES = 6
    US_CASUALTIES = 7
    STRIKES_ON_MILITIAS = 8
    STRIKES_ON_IRANIANS = 9
    STATE_ON_STATE = 10
    OPEN_WAR = 11

    @property
    def label(self) -> str:
        """Human-readable name of the rung."""
        return RUNG_INFO[self].label


@dataclass(frozen=True)
class RungInfo:
    """How a rung reads and where it sits on the event-data scales."""

    label: str
    cameo: str
    goldstein: float
    mid_hostility: int


RUNG_INFO: dict[Rung, RungInfo] = {
    Rung.TALKS: RungInfo("Talks, cooperation or no hostile act", "04 Consult", 1.0, 1),
    Rung.DEMANDS: RungInfo("Demands (e.g. a withdrawal timetable)", "10 Demand", -5.0, 1),
    Rung.THREATS: RungInfo("Threats", "13 Threaten", -6.0, 2),
    Rung.COERCION: RungInfo("Raids and arrests", "17 Coerce", -7.0, 3),
    Rung.SHOW_OF_FORCE: RungInfo("Show of force", "15 Exhibit force posture", -7.2, 3),
    Rung.HARASSING_FIRE: RungInfo("Harassing fire, no casualties", "18 Assault", -9.0, 4),
    Rung.IRAQI_CASUALTIES: RungInfo("Attack with Iraqi casualties", "18 Assault", -9.0, 4),
    Rung.US_CASUALTIES: RungInfo("Attack killing Americans (US red line)", "19 Fight", -10.0, 4),
    Rung.STRIKES_ON_MILITIAS: RungInfo("US strikes on militias", "19 Fight", -10.0, 4),
    Rung.STRIKES_ON_IRANIANS: RungInfo(
        "Strikes on Iranian personnel or leaders", "19 Fight", -10.0, 4
    ),
    Rung.STATE_ON_STATE: RungInfo("Direct state-on-state exchange", "19 Fight", -10.0, 4),
    Rung.OPEN_WAR: RungInfo("Open war", "20 Unconventional mass violence", -10.0, 5),
}


class Move(StrEnum):
    """The moves actors make, each an event-data code on its rung of the ladder."""

    CONSULT = "consult"
    OFFER_TRUCE = "offer_truce"
    DECLARE_TRUCE = "declare_truce"
    ANNOUNCE_WITHDRAWAL = "announce_withdrawal"
    DRAW_DOWN = "draw_down"
    DEMAND_WITHDRAWAL = "demand_withdrawal"
    REJECT_TRUCE = "reject_truce"
    THREATEN_FORCE = "threaten_force"
    THREATEN_AID = "threaten_aid"
    RAID = "raid"
    SHOW_OF_FORCE = "show_of_force"
    REINFORCE = "reinforce"
    ROCKET_ATTACK = "rocket"
    ROADSIDE_BOMB = "ied"
    DRONE_ATTACK = "drone"
    VIOLATE_TRUCE = "violate_truce"
    AIR_STRIKE = "air_strike"
    MISSILE_STRIKE = "missile_strike"

    @property
    def info(self) -> MoveInfo:
        """The move's rung and CAMEO code."""
        return MOVE_INFO[self]


@dataclass(frozen=True)
class MoveInfo:
    """Where a move sits on the ladder and how CAMEO (Gerner et al. 2002) codes it, with the
    Goldstein (1992) weight of that code."""

    rung: Rung
    cameo: str
    goldstein: float


MOVE_INFO: dict[Move, MoveInfo] = {
    Move.CONSULT: MoveInfo(Rung.TALKS, "04 Consult", 1.0),
    Move.OFFER_TRUCE: MoveInfo(
        Rung.TALKS, "0356 Express intent to de-escalate military engagement", 7.0
    ),
    Move.DECLARE_TRUCE: MoveInfo(Rung.TALKS, "0871 Declare truce, ceasefire", 9.0),
    Move.ANNOUNCE_WITHDRAWAL: MoveInfo(
        Rung.TALKS, "0356 Express intent to de-escalate military engagement", 7.0
    ),
    Move.DRAW_DOWN: MoveInfo(Rung.TALKS, "0874 Retreat or surrender militarily", 10.0),
    Move.DEMAND_WITHDRAWAL: MoveInfo(
        Rung.DEMANDS, "1056 Demand de-escalation of military engagement", -5.0
    ),
    Move.REJECT_TRUCE: MoveInfo(
        Rung.DEMANDS, "1246 Refuse to de-escalate military engagement", -5.0
    ),
    Move.THREATEN_FORCE: MoveInfo(Rung.THREATS, "138 Threaten with military force", -7.0),
    Move.THREATEN_AID: MoveInfo(Rung.THREATS, "1311 Threaten to reduce or stop aid", -5.8),
    Move.RAID: MoveInfo(Rung.COERCION, "173 Arrest, detain", -5.0),
    Move.SHOW_OF_FORCE: MoveInfo(Rung.SHOW_OF_FORCE, "152 Increase military alert status", -7.2),
    Move.REINFORCE: MoveInfo(Rung.SHOW_OF_FORCE, "154 Mobilize or increase armed forces", -7.2),
    Move.ROCKET_ATTACK: MoveInfo(Rung.HARASSING_FIRE, "194 Fight with artillery and tanks", -10.0),
    Move.ROADSIDE_BOMB: MoveInfo(Rung.HARASSING_FIRE, "1833 Carry out roadside bombing", -10.0),
    Move.DRONE_ATTACK: MoveInfo(Rung.HARASSING_FIRE, "195 Employ aerial weapons", -10.0),
    Move.VIOLATE_TRUCE: MoveInfo(Rung.HARASSING_FIRE, "196 Violate ceasefire", -9.5),
    Move.AIR_STRIKE: MoveInfo(Rung.STRIKES_ON_MILITIAS, "195 Employ aerial weapons", -10.0),
    Move.MISSILE_STRIKE: MoveInfo(
        Rung.STATE_ON_STATE, "190 Use conventional military force", -10.0
    ),
}

#: Rungs that cross an actor's red line: Americans killed (US), Iranians struck (Iran).
US_RED_LINE = Rung.US_CASUALTIES
IRAN_RED_LINE = Rung.STRIKES_ON_IRANIANS
