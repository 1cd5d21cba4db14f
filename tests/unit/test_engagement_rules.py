"""The rules of a pair's records: what a goal, a meeting and a check-in may hold, and when a
pair needs the committee's attention."""

from datetime import date

import pytest

from domain.cycle_states import CycleState
from domain.engagement import (
    AnsweredCheckIn,
    CheckIn,
    EngagementStep,
    InvalidEntry,
    MeetingMode,
    attention_reasons,
    checked_check_in,
    checked_goals,
    checked_meeting,
    goals_task_key,
    mentoring_months,
    met_months,
    pair_reasons,
    require_step,
)
from domain.errors import DomainError

TODAY = date(2027, 2, 10)
EARLIEST = date(2026, 11, 5)


def answered(month: str, *, met: bool = True, score: int = 4, contact: bool = False,
             day: int = 28, member: str = "C1") -> AnsweredCheckIn:  # fmt: skip
    return AnsweredCheckIn(
        member, month, date.fromisoformat(f"{month}-{day:02d}"), CheckIn(met, score, contact)
    )


def test_a_check_in_asking_for_contact_flags_the_pair() -> None:
    latest = answered("2027-01", contact=True)
    assert attention_reasons(latest, [latest], []) == [
        "a partner asked the committee to get in touch"
    ]


@pytest.mark.parametrize(("score", "flagged"), [(1, True), (2, True), (3, False), (5, False)])
def test_a_score_of_one_or_two_flags_the_pair(score: int, flagged: bool) -> None:
    latest = answered("2027-01", score=score)
    assert bool(attention_reasons(latest, [latest], [])) is flagged


def test_two_check_ins_in_a_row_without_a_meeting_flag_the_pair() -> None:
    december, january = answered("2026-12", met=False), answered("2027-01", met=False)
    assert attention_reasons(january, [december, january], []) == [
        "no meeting in two check-ins in a row (December 2026 and January 2027)"
    ]


def test_a_meeting_logged_between_two_no_meeting_check_ins_keeps_the_pair_unflagged() -> None:
    december, january = answered("2026-12", met=False), answered("2027-01", met=False)
    assert attention_reasons(january, [december, january], [date(2027, 1, 3)]) == []
    assert attention_reasons(january, [december, january], [date(2026, 11, 20)]) != []


def test_one_no_meeting_check_in_after_a_meeting_month_does_not_flag() -> None:
    december, january = answered("2026-12", met=True), answered("2027-01", met=False)
    assert attention_reasons(january, [december, january], []) == []
    assert attention_reasons(january, [january], []) == []


def test_both_partners_answering_no_in_one_month_is_one_check_in_not_two() -> None:
    mentor, mentee = answered("2027-01", met=False, member="M"), answered("2027-01", met=False)
    assert pair_reasons([mentor, mentee], []) == []


def test_the_pair_s_reasons_come_from_every_answer_of_its_latest_month() -> None:
    low = answered("2027-01", score=2, member="M", day=3)
    fine = answered("2027-01", score=5, day=9)
    assert pair_reasons([low, fine], []) == ["a partner scored how it is going 2 of 5"]
    assert pair_reasons([low, fine, answered("2027-02", day=1)], []) == []


@pytest.mark.parametrize(
    ("goals", "refusal"),
    [
        ([], "write 1 to 3 goals for the pair, not 0"),
        (["  ", ""], "write 1 to 3 goals for the pair, not 0"),
        (["a", "b", "c", "d"], "write 1 to 3 goals for the pair, not 4"),
        (["x" * 501], "goals is 501 characters long; keep it to 500"),
        (["bad\x00goal"], "goals 'bad\\x00goal' contains a NUL character"),
    ],
)
def test_goals_are_one_to_three_lines_named_in_the_refusal(goals: list[str], refusal: str) -> None:
    with pytest.raises(InvalidEntry, match=r"^goals") as refused:
        checked_goals(goals)
    assert refusal in str(refused.value)
    assert refused.value.field_name == "goals"


def test_goals_are_kept_on_one_line_each() -> None:
    assert checked_goals(["  Learn   budgeting\n", "Publish"]) == ("Learn budgeting", "Publish")


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (("2027-02-11", 60, "call", ""), "met_on", "is in the future"),
        (("2026-10-01", 60, "call", ""), "met_on", "is before the pairs were announced"),
        (("14/01/2027", 60, "call", ""), "met_on", "is not a date"),
        (("2027-01-14", 4, "call", ""), "minutes", "use a whole number from 5 to 600"),
        (("2027-01-14", 601, "call", ""), "minutes", "out of range"),
        (("2027-01-14", "an hour", "call", ""), "minutes", "is not a whole number"),
        (("2027-01-14", 60, "email", ""), "mode", "use in_person, call or video"),
        (("2027-01-14", 60, "video", "n" * 2001), "note", "keep it to 2,000"),
    ],
)
def test_a_meeting_is_refused_naming_its_field(
    fields: tuple[str, int | str, str, str], field: str, words: str
) -> None:
    with pytest.raises(InvalidEntry) as refused:
        checked_meeting(*fields, today=TODAY, earliest=EARLIEST)
    assert refused.value.field_name == field
    assert str(refused.value).startswith(field) and words in str(refused.value)


def test_a_meeting_is_refused_naming_every_field_found_wrong_in_the_form_s_order() -> None:
    with pytest.raises(InvalidEntry) as refused:
        checked_meeting(
            "2027-02-11", "an hour", "email", "n" * 2001, today=TODAY, earliest=EARLIEST
        )
    assert [r.field_name for r in refused.value.every] == ["met_on", "minutes", "mode", "note"]
    assert refused.value.field_name == "met_on"
    assert "is in the future" in refused.value.every[0].reason
    assert "is not a whole number" in refused.value.every[1].reason
    assert str(refused.value).count("; ") >= 3, "its sentence gives every reason"


def test_a_meeting_may_span_lines_in_its_note() -> None:
    meeting = checked_meeting(
        "2027-01-14", "45", "in_person", " agenda\nnext steps ", today=TODAY, earliest=EARLIEST
    )
    assert (meeting.minutes, meeting.mode, meeting.note) == (
        45,
        MeetingMode.in_person,
        "agenda\nnext steps",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (("maybe", 3, "no"), "met"),
        (("yes", 0, "no"), "score"),
        (("yes", 6, "no"), "score"),
        (("yes", 3, "please"), "contact_committee"),
    ],
)
def test_a_check_in_is_refused_naming_its_field(fields: tuple[str, int, str], field: str) -> None:
    with pytest.raises(InvalidEntry) as refused:
        checked_check_in(*fields)
    assert refused.value.field_name == field and str(refused.value).startswith(field)


def test_a_check_in_reads_the_form_s_yes_and_no() -> None:
    assert checked_check_in("yes", "4", "no") == CheckIn(True, 4, False)
    assert checked_check_in(False, 1, True) == CheckIn(False, 1, True)


def test_check_ins_are_answered_only_while_mentoring_runs() -> None:
    require_step(EngagementStep.check_in, CycleState.active, 2026)
    with pytest.raises(DomainError, match="cycle 2026 is in state ended: check-ins are answered"):
        require_step(EngagementStep.check_in, CycleState.ended, 2026)
    with pytest.raises(DomainError, match="once formal mentoring has ended"):
        require_step(EngagementStep.continuing, CycleState.active, 2026)


def test_months_met_count_meetings_and_check_ins_saying_so() -> None:
    assert met_months(
        [date(2027, 1, 3)], [answered("2026-12"), answered("2027-02", met=False)]
    ) == {
        "2027-01",
        "2026-12",
    }
    assert mentoring_months(date(2026, 12, 1), date(2027, 6, 30)) == [
        "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06",
    ]  # fmt: skip


def test_a_goals_task_ends_with_its_pair_so_a_dissolved_pair_closes_it() -> None:
    assert goals_task_key(2026, "mentor", "C1", "C2").endswith("/C1/C2")
