"""What the matching rules read for one cycle, gathered once for the proposal, the candidate
list and the re-pairing offers alike."""

from dataclasses import dataclass
from datetime import datetime

from domain.applications import Application
from domain.cycle_states import CycleEvent
from domain.matching import MatchWeights, PairingRules
from infra.uow import UnitOfWork


@dataclass(frozen=True)
class MatchingInputs:
    """The active applications, the cycle's weights and rules (the committee's fixed and
    blocked pairs), and ``ref``: when mentoring begins, the moment time-zone distances are
    measured at (daylight saving time as it will be then)."""

    apps: tuple[Application, ...]
    weights: MatchWeights
    rules: PairingRules
    ref: datetime


def matching_inputs(uow: UnitOfWork, year: int) -> MatchingInputs:
    """Read inside an entered unit of work."""
    return MatchingInputs(
        tuple(uow.applications.active(year)),
        uow.settings.weights(year),
        uow.pairings.rules(year),
        uow.cycles.calendar(year).milestone(CycleEvent.start_mentoring),
    )
