"""The escalation ladder shared by every actor.

Each rung maps onto three scales used in conflict research, so model output can be compared with
event data: the CAMEO root code and its Goldstein weight, and the Correlates of War MID hostility
level (1 no militarized action, 2 threat, 3 display, 4 use of force, 5 war).
"""

from dataclasses import dataclass
from enum import IntEnum


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

#: Rungs that cross an actor's red line: Americans killed (US), Iranians struck (Iran).
US_RED_LINE = Rung.US_CASUALTIES
IRAN_RED_LINE = Rung.STRIKES_ON_IRANIANS
