"""The committee's pages as rendered: steps and states in words, every time with its zone,
past milestones marked, tasks with who they are for, mail by kind with the server's answer."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.calendar import CycleCalendar
from domain.cycle import events_from
from domain.cycle_states import STEP_NAMES, CycleEvent, CycleState
from domain.followups import TaskAudience
from domain.notifications import MessageStatus
from flows.cockpit_pages import (
    FAILURES_SHOWN,
    NAMES_SHOWN,
    STATE_WORDS,
    MailRun,
    history_page,
    mail_page,
    status_page,
    transition_headline,
)
from flows.usecases.audit import RecordedTransition
from flows.usecases.audit_story import CycleStory
from flows.usecases.cycles import CycleView, TransitionResult
from flows.usecases.followups import TaskView
from flows.usecases.notifications import DeliveryCounts, ListedMessage

NOW = datetime(2026, 10, 2, 17, 0, tzinfo=UTC)  # after the close of applications
ZONE = "America/Chicago"
# A time as the pages write it: weekday, month, day[, year], 12-hour clock, then the zone.
MOMENT = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2}(, \d{4})?, \d{1,2}:\d\d [AP]M"
)


def view(
    state: CycleState = CycleState.applications_closed, *, approved: bool = False
) -> CycleView:
    calendar = CycleCalendar.default(2026, ZONE)
    return CycleView(
        2026, state, ZONE, calendar.as_iso(), tuple(events_from(state)), approved, None
    )


def story(**changes: Any) -> CycleStory:
    empty_mail = {"queued": 0, "sent": 0, "failed": 0, "pending": 0}
    given: dict[str, Any] = {
        "year": 2026,
        "as_of": None,
        "state": CycleState.applications_closed,
        "state_now": CycleState.applications_closed,
        "transitions": [],
        "applications": {
            "received": 12,
            "imported": 10,
            "refused": 2,
            "refusal_reasons": [{"reason": "not a Core member", "count": 2}],
            "imports": [{}],
        },
        "pairing_decisions": [],
        "paired": None,
        "messages": {"by_kind": {}, "total": empty_mail},
        "tasks": {},
        "audit_records": {},
        "timeline": [],
    }
    given.update(changes)
    return CycleStory(**given)


def task(title: str, audience: TaskAudience, due: datetime, member: str | None = None) -> TaskView:
    return TaskView(1, title, audience, member, title, due, None, None, due < NOW)


def times_without_zone(page: str) -> list[str]:
    """Every time on the page that is not followed by the zone's name."""
    return [
        m.group(0)
        for m in MOMENT.finditer(page)
        if not page[m.end() :].startswith((" Chicago time", " UTC"))
    ]


def test_the_status_page_says_the_state_and_the_next_step_in_words() -> None:
    page = status_page(view(), [], story(), NOW, "Close applications: done.")
    assert page.startswith("# Cycle 2026\n")
    assert "Applications are closed: the committee reviews them" in page
    assert "Next step: **Announce the pairings**, on Thu Nov 5, 2026, 12:00 AM Chicago time" in page
    assert "It waits for the committee to approve the pairing set." in page
    assert "_Updated Fri Oct 2, 12:00 PM Chicago time: Close applications: done._" in page
    assert "applications_closed" not in page and "announce_pairings" not in page


def test_an_approved_set_lifts_the_wait_and_a_final_state_has_no_next_step() -> None:
    assert "waits for" not in status_page(view(approved=True), [], story(), NOW)
    done = status_page(view(CycleState.assessed), [], story(), NOW)
    assert "Next step: none. This year's cycle is over." in done


def test_every_milestone_names_its_zone_and_the_past_ones_are_marked() -> None:
    page = status_page(view(), [], story(), NOW)
    assert (
        "| Open the call for applications | Sat Aug 1, 2026, 12:00 AM Chicago time (passed) |"
        in page
    )
    assert "| Close applications | Wed Sep 30, 2026, 11:59 PM Chicago time (passed) |" in page
    assert "| Announce the pairings | Thu Nov 5, 2026, 12:00 AM Chicago time |" in page
    assert "| Record the assessment | Sun Aug 1, 2027, 12:00 AM Chicago time |" in page
    assert page.count("(passed)") == 2
    assert times_without_zone(page) == []


def test_open_and_overdue_tasks_say_who_they_are_for() -> None:
    due = datetime(2026, 10, 1, 4, 59, 59, tzinfo=UTC)  # Sep 30, 11:59 PM in Chicago
    later = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)
    tasks = [
        task("Review applications as they arrive", TaskAudience.committee, due),
        *(
            task(f"First meeting of M{n} and C{n}", TaskAudience.participant, later, f"C{n}")
            for n in range(NAMES_SHOWN + 3)
        ),
    ]
    page = status_page(view(), tasks, story(), NOW)
    overdue, open_ = page.split("**Overdue** (1)")[1].split("**Open**")
    assert (
        "| Review applications as they arrive (no. 1) | the committee "
        "| Wed Sep 30, 2026, 11:59 PM Chicago time (passed) |" in overdue
    )
    assert f"({NAMES_SHOWN + 3})" in open_
    assert f"| First meeting | {NAMES_SHOWN + 3} participant(s): C0, C1" in open_
    assert "and 3 more | Tue Dec 15, 2026, 12:00 AM Chicago time |" in open_


def test_a_participant_with_several_tasks_of_a_kind_is_named_once() -> None:
    due = datetime(2026, 12, 22, 6, 0, tzinfo=UTC)
    tasks = [
        task(f"Set the goals of M1 and {mentee}", TaskAudience.participant, due, "M1")
        for mentee in ("C1", "C2", "C3")
    ] + [task("Set the goals of M1 and C1", TaskAudience.participant, due, "C1")]
    page = status_page(view(), tasks, story(), NOW)
    assert "| Set the goals | 2 participant(s): C1, M1 |" in page
    assert "M1, M1" not in page


def test_done_tasks_are_left_out() -> None:
    finished = TaskView(
        1, "k", TaskAudience.committee, None, "Approve the pairing set", NOW, NOW, "chair", False
    )
    page = status_page(view(), [finished], story(), NOW)
    assert "No open task." in page and "Approve the pairing set" not in page


def test_mail_is_counted_by_kind_and_people_are_counted() -> None:
    by_kind = {
        "application_received": {"queued": 10, "sent": 9, "failed": 1, "pending": 0},
        "not_paired_notice": {"queued": 4, "sent": 0, "failed": 0, "pending": 4},
    }
    told = story(
        messages={
            "by_kind": by_kind,
            "total": {"queued": 14, "sent": 9, "failed": 1, "pending": 4},
        },
        paired={"pairs": 7, "approved_by": "Pat Chair", "approved_at": "2026-10-01T15:00:00+00:00"},
        pairing_decisions=[
            {
                "decision": "withdrawal",
                "at": "2026-10-02T10:00:00+00:00",
                "actor": "a",
                "summary": "s",
            }
        ],
    )
    page = status_page(view(), [], told, NOW)
    assert "| Application received | 9 | 0 | 1 |" in page
    assert "| Not paired notice | 0 | 4 | 0 |" in page
    assert "| **all mail** | 9 | 4 | 1 |" in page
    assert "the `mail-failures` page" in page
    assert "- Applicants: 10 accepted, 2 refused (12 received)." in page
    assert "- Pairs: 7 (approved by Pat Chair on Thu Oct 1, 2026, 10:00 AM Chicago time)." in page
    assert "- Waiting list: 4 mentee(s) told they are waiting." in page
    assert "- Withdrawals: 1." in page


def test_before_approval_the_page_gives_the_latest_proposal() -> None:
    proposed = {
        "decision": "proposed",
        "at": "2026-10-01T15:00:00+00:00",
        "actor": "chair",
        "summary": "pairing set 1 proposed: 5 pairs",
        "pairs": 5,
        "unmatched": 3,
    }
    page = status_page(view(), [], story(pairing_decisions=[proposed]), NOW)
    assert "- Pairs: none approved yet; the latest proposal has 5 pair(s) and leaves 3" in page


def test_the_history_tells_each_step_with_who_how_and_when() -> None:
    opened = RecordedTransition(
        1,
        "open_call",
        "planned",
        "call_open",
        "scheduler",
        "schedule",
        None,
        None,
        datetime(2026, 8, 1, 5, 0, tzinfo=UTC),
        40,
        1,
    )
    cancelled = RecordedTransition(
        2,
        "cancel",
        "call_open",
        "cancelled",
        "Pat | Chair",
        "manual",
        "no funding",
        "abc",
        datetime(2026, 8, 20, 14, 30, tzinfo=UTC),
        0,
        0,
    )
    timeline = [
        {
            "seq": 1,
            "at": "2026-08-01T05:00:00+00:00",
            "kind": "transition",
            "actor": "scheduler",
            "what": "open_call: planned → call_open (schedule)",
        }
    ]
    told = story(transitions=[opened, cancelled], timeline=timeline)
    page = history_page(told, ZONE, NOW)
    assert page.startswith("# Cycle 2026: history\n")
    assert (
        "| Sat Aug 1, 2026, 12:00 AM Chicago time | Open the call for applications | "
        "planned → call open | scheduler | on its date |  |" in page
    )
    assert (
        "| Thu Aug 20, 2026, 9:30 AM Chicago time | Cancel this year | call open → cancelled "
        "| Pat \\| Chair | from the UI | no funding |" in page
    )
    assert "| not a Core member | 2 |" in page
    assert (
        "- Sat Aug 1, 2026, 12:00 AM Chicago time: Open the call for applications: "
        "planned → call open, on its date (scheduler)" in page
    )
    assert times_without_zone(page) == []
    status = status_page(view(CycleState.cancelled), [], told, NOW)
    assert (
        "Last step: **Cancel this year**, Thu Aug 20, 2026, 9:30 AM Chicago time, "
        "by Pat \\| Chair (from the UI)." in status
    )


def listed(n: int, kind: str, status: MessageStatus, error: str | None = None) -> ListedMessage:
    return ListedMessage(
        n,
        f"2026/{kind}/C{n}",
        2026,
        kind,
        f"member{n}@example.org",
        f"Subject {n}",
        status,
        1,
        error,
        NOW,
        NOW if status is MessageStatus.sent else None,
    )


def test_the_mail_page_gives_what_went_out_by_kind_and_the_servers_answers() -> None:
    sent = [listed(n, "pairing_notice", MessageStatus.sent) for n in range(NAMES_SHOWN + 2)]
    sent.append(listed(0, "pairing_notice", MessageStatus.sent))  # a mentor's second mentee
    sent.append(listed(99, "not_paired_notice", MessageStatus.sent))
    failed = [listed(100, "pairing_notice", MessageStatus.failed, "550 5.1.1 User unknown")]
    run = MailRun(NOW, NOW + timedelta(minutes=2), DeliveryCounts(24, 1, 0), sent, failed, ZONE)
    page = mail_page(run)
    assert (
        "Run from Fri Oct 2, 12:00 PM Chicago time to Fri Oct 2, 12:02 PM Chicago time: "
        "24 sent, 1 failed, 0 still waiting to go." in page
    )
    assert (
        f"| 2026 | Pairing notice | {NAMES_SHOWN + 3} | {NAMES_SHOWN + 2} address(es): "
        "member0@example.org, member10@example.org, member11@example.org" in page
    )
    assert "and 2 more |" in page
    assert "| 2026 | Not paired notice | 1 | 1 address(es): member99@example.org |" in page
    assert (
        "| member100@example.org | Pairing notice | Subject 100 | 550 5.1.1 User unknown |" in page
    )
    assert times_without_zone(page) == []


def test_a_blocked_run_says_so_and_long_failure_lists_are_cut() -> None:
    failed = [
        listed(n, "checkin_reminder", MessageStatus.failed, "550 no")
        for n in range(FAILURES_SHOWN + 5)
    ]
    counts = DeliveryCounts(0, len(failed), 3, blocked="mail server 127.0.0.1:25 is unreachable")
    page = mail_page(MailRun(NOW, NOW, counts, [], failed, "UTC"))
    assert "**Nothing could be sent:** mail server 127.0.0.1:25 is unreachable." in page
    assert "Nothing was sent by this run." in page
    assert f"| 2026 | Checkin reminder | {FAILURES_SHOWN + 5} |" in page
    assert page.count("| 550 no |") == FAILURES_SHOWN
    assert "… and 5 more" in page
    assert "Fri Oct 2, 5:00 PM UTC" in page


def test_a_transition_is_headlined_in_words() -> None:
    moved = TransitionResult(
        2026, "close_applications", "call_open", "applications_closed", True, "m", 7, 3, 1
    )
    assert transition_headline(moved) == (
        "Close applications: call open → applications closed; 3 message(s) queued, "
        "1 task(s) created."
    )
    same = TransitionResult(2026, "open_call", "call_open", "call_open", False, "m")
    assert (
        transition_headline(same)
        == "Open the call for applications: already done, nothing changed."
    )


def test_every_step_and_state_has_words() -> None:
    assert set(STEP_NAMES) == set(CycleEvent)
    assert set(STATE_WORDS) == set(CycleState)
