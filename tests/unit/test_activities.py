"""What each cycle state allows: every activity in every state, allowed or refused by name."""

import itertools
from dataclasses import fields

import pytest

from domain.activities import (
    ALLOWED,
    PROGRAM_DETAILS,
    Activity,
    ActivityRefused,
    details_activity,
    is_allowed,
    refusal,
    require,
)
from domain.cycle_states import CycleState
from domain.errors import DomainError
from domain.program import ProgramDetails

S = CycleState
ANNOUNCED = {S.paired, S.orientation, S.active}

# Transcribed from the use cases' checks before issue 9, state by state.
EXPECTED: dict[Activity, set[CycleState]] = {
    Activity.intake: {S.call_open},
    Activity.late_intake: {S.call_open, S.applications_closed},
    Activity.pairing_review: {S.applications_closed},
    Activity.survey_answers: {S.ended},
    Activity.withdrawal: {S.call_open, S.applications_closed} | ANNOUNCED,
    Activity.ending_pairs: ANNOUNCED,
    Activity.repairing_offers: ANNOUNCED,
    Activity.repairing_approval: ANNOUNCED,
    Activity.call_list_details: {S.planned},
    Activity.orientation_details: {S.planned, S.call_open, S.applications_closed, S.paired},
    Activity.rescheduling: set(S) - {S.assessed, S.cancelled},
}

# What today's refusals say, and the tests of the use cases match on.
SAYS: dict[Activity, str] = {
    Activity.intake: "applications are accepted only while the call is open",
    Activity.late_intake: "applications are accepted only while the call is open",
    Activity.pairing_review: "pairings are proposed and approved after applications close and "
    "before they are announced (state applications_closed)",
    Activity.survey_answers: "survey responses are imported only while it is ended",
    Activity.withdrawal: "participants can withdraw only while the cycle is in call_open, "
    "applications_closed, paired, orientation or active",
    Activity.ending_pairs: "pairs can be ended only while the cycle is in paired, "
    "orientation or active",
    Activity.repairing_offers: "re-pairing offers are made only while the cycle is in paired, "
    "orientation or active",
    Activity.repairing_approval: "re-pairings can be approved only while the cycle is in "
    "paired, orientation or active",
    Activity.call_list_details: "the message using call_list_address has gone out; write to "
    "the participants instead",
    Activity.orientation_details: "the message using orientation_at, orientation_minutes and "
    "orientation_join_url has gone out; write to the participants instead",
    Activity.rescheduling: "its calendar is closed",
}


def test_the_table_covers_every_activity() -> None:
    assert set(ALLOWED) == set(Activity) == set(EXPECTED)


@pytest.mark.parametrize(
    ("activity", "state"), list(itertools.product(Activity, CycleState)), ids=str
)
def test_each_activity_is_allowed_or_refused_naming_the_state(
    activity: Activity, state: CycleState
) -> None:
    if state in EXPECTED[activity]:
        assert is_allowed(activity, state)
        assert refusal(activity, state, 2026) is None
        require(activity, state, 2026)
        return
    assert not is_allowed(activity, state)
    with pytest.raises(ActivityRefused) as refused:
        require(activity, state, 2026)
    said = str(refused.value)
    assert said.startswith(f"cycle 2026 is in state {state}: {SAYS[activity]}")
    assert said == refusal(activity, state, 2026)
    assert "--" not in said and "`" not in said
    assert (refused.value.activity, refused.value.state, refused.value.year) == (
        activity,
        state,
        2026,
    )
    assert isinstance(refused.value, DomainError)


def test_intake_after_the_call_closed_says_the_committee_can_accept_late_applications() -> None:
    with pytest.raises(ActivityRefused) as refused:
        require(Activity.intake, S.applications_closed, 2026)
    assert str(refused.value) == (
        "cycle 2026 is in state applications_closed: applications are accepted only while "
        "the call is open (call_open); the committee can accept late applications"
    )
    assert refused.value.override is Activity.late_intake


@pytest.mark.parametrize("state", [s for s in S if s is not S.applications_closed], ids=str)
def test_late_intake_is_no_way_out_in_other_states(state: CycleState) -> None:
    message = refusal(Activity.intake, state, 2026)
    if state is S.call_open:
        assert message is None
        return
    assert message is not None and "late" not in message
    with pytest.raises(ActivityRefused) as refused:
        require(Activity.intake, state, 2026)
    assert refused.value.override is None


def test_late_intake_refusal_says_when_late_applications_are_taken() -> None:
    assert refusal(Activity.late_intake, S.paired, 2026) == (
        "cycle 2026 is in state paired: applications are accepted only while the call is "
        "open (call_open), and late ones until the pairings are announced "
        "(applications_closed)"
    )


def test_survey_refusal_keeps_its_wording() -> None:
    assert refusal(Activity.survey_answers, S.active, 2026) == (
        "cycle 2026 is in state active: survey responses are imported only while it is ended "
        "(the July survey window, before complete_assessment)"
    )


def test_a_final_cycle_refuses_rescheduling() -> None:
    assert refusal(Activity.rescheduling, S.cancelled, 2026) == (
        "cycle 2026 is in state cancelled: its calendar is closed (milestones can be moved "
        "only before a cycle is assessed or cancelled)"
    )


def test_program_details_a_message_carries_are_known_by_name() -> None:
    settable = {f.name for f in fields(ProgramDetails)}
    for activity, names in PROGRAM_DETAILS.items():
        assert set(names) <= settable
        assert all(details_activity(name) is activity for name in names)
    assert details_activity("survey_url") is None
    assert details_activity("committee_email") is None
