"""The lifecycles the database keeps as text: the values are the stored ones."""

from enum import StrEnum

import pytest

from domain.applications import ApplicationStatus
from domain.followups import COMMITTEE, PARTICIPANT, TaskAudience
from domain.notifications import MessageStatus
from domain.offers import OfferStatus
from domain.pairing_status import PairingSetStatus, PairStatus


@pytest.mark.parametrize(
    ("lifecycle", "stored"),
    [
        (ApplicationStatus, ["active", "withdrawn"]),
        (PairStatus, ["active", "withdrawn", "ended"]),
        (PairingSetStatus, ["proposed", "approved", "superseded"]),
        (OfferStatus, ["open", "closed", "superseded", "approved"]),
        (MessageStatus, ["pending", "sent", "failed"]),
        (TaskAudience, ["committee", "participant"]),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_values_are_what_is_stored(lifecycle: type[StrEnum], stored: list[str]) -> None:
    assert [str(v) for v in lifecycle] == stored
    assert [v.name for v in lifecycle] == stored
    assert all(lifecycle(text) == text for text in stored)


def test_the_audience_constants_are_the_enum() -> None:
    assert COMMITTEE is TaskAudience.committee and COMMITTEE == "committee"
    assert PARTICIPANT is TaskAudience.participant and PARTICIPANT == "participant"
