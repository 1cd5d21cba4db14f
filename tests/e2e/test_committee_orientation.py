"""The committee's "Set the orientation session" form under a real (test) Prefect server:
it sets the session in the cycle's zone, sends the invitations held back after a late
start and closes the task about them, refuses in one sentence that names its boxes, and
prefect.yaml deploys it with only those boxes."""

import pytest
from sqlalchemy import select

from domain.cycle_states import CycleEvent, Trigger
from domain.followups import orientation_held_key
from flows.committee_orientation import set_the_orientation_session
from flows.usecases import cycles, program
from flows.usecases.clock import utcnow
from infra.tables import MessageRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.committee_forms import assert_only_text_boxes, deployments


def _invitations(uow: UnitOfWork) -> int:
    with uow:
        kinds = uow.session.scalars(select(MessageRow.kind)).all()
    return kinds.count("orientation_invitation")


def _held_task(uow: UnitOfWork) -> TaskRow | None:
    with uow:
        return uow.session.scalars(
            select(TaskRow).where(TaskRow.key == orientation_held_key(2026))
        ).one_or_none()


def test_the_session_is_set_on_the_cycles_clock(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    state = set_the_orientation_session(
        your_name="Pat Chair",
        starts="2026-11-19 14:30",
        minutes="75",
        video_link="https://meet.example.org/core",
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert state.message == (
        "The orientation of cycle 2026 is set for Thu Nov 19, 2026, 2:30 PM Chicago time, "
        "75 minutes, https://meet.example.org/core (by Pat Chair)."
    )
    details = program.details(uow, 2026)
    assert (details.orientation_at, details.orientation_minutes) == ("2026-11-19 14:30", 75)


def test_a_new_session_sends_the_invitations_held_back_and_closes_their_task(
    uow: UnitOfWork,
) -> None:
    paired_cycle(uow)
    # the default session (Nov 20, 2026) has begun by now: the invitations are held back
    cycles.fire_event(uow, 2026, CycleEvent.start_orientation, actor="s", trigger=Trigger.schedule)
    held = _held_task(uow)
    assert held is not None and held.done_at is None
    assert "“Set the orientation session” form" in held.title
    assert _invitations(uow) == 0

    later = utcnow().replace(microsecond=0).year + 1
    state = set_the_orientation_session(
        your_name="Pat Chair", year="2026", starts=f"{later}-01-15 13:00", return_state=True
    )
    assert state.is_completed(), state.message
    assert str(state.message).endswith(
        "(by Pat Chair). The invitations held back are queued for it, and the task about "
        "them is closed."
    )
    assert _invitations(uow) > 0
    closed = _held_task(uow)
    assert closed is not None and closed.done_at is not None


REFUSALS = [
    ("nothing filled in", {"starts": " "}, "Write when the session starts in the Starts box"),
    (
        "minutes in words",
        {"starts": "2026-11-19 14:30", "minutes": "ninety"},
        "The Minutes box holds 'ninety': write how long the session lasts in minutes",
    ),
    ("too short", {"starts": "2026-11-19 14:30", "minutes": "5"}, "The Minutes box must be"),
    ("not a time", {"starts": "tomorrow"}, "The Starts box 'tomorrow' is not a date and time"),
    (
        "not a link",
        {"starts": "2026-11-19 14:30", "video_link": "ftp://x"},
        "The Video link box 'ftp://x' is not a web link",
    ),
]


@pytest.mark.parametrize(
    ("boxes", "begins"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_a_refusal_is_one_sentence_in_the_forms_words(
    uow: UnitOfWork, boxes: dict[str, str], begins: str
) -> None:
    paired_cycle(uow)
    state = set_the_orientation_session(your_name="Pat Chair", **boxes, return_state=True)
    assert state.is_failed()
    message = str(state.message)
    assert message.startswith(begins), message
    assert "orientation_" not in message and "\n" not in message
    assert program.details(uow, 2026).orientation_at is None


def test_it_is_deployed_with_only_the_forms_boxes() -> None:
    deployment = deployments()["Set the orientation session"]
    assert deployment["entrypoint"].endswith(":set_the_orientation_session")
    assert "committee" in deployment["tags"] and "parameters" not in deployment
    assert_only_text_boxes(
        set_the_orientation_session,
        ["your_name", "starts", "year", "minutes", "video_link"],
        ["your_name", "starts"],
    )
