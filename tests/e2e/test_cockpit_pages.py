"""The committee's pages under a real (test) Prefect server: a transition publishes the
cycle's status page and history, the daily tick refreshes the page of every cycle it looked
at, and a delivery run publishes what it sent and what the mail server refused; each read
back by its key, as the UI reads it."""

import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.client.schemas.objects import Artifact

from domain.cycle_states import CycleEvent
from flows.cycle_transition import advance_cycle
from flows.daily_tick import daily_tick
from flows.deliver_notifications import deliver_notifications
from flows.usecases import cycles
from flows.usecases.notifications import list_messages
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.smtp_server import SmtpTestServer


@pytest.fixture
def cycle_2026(uow: UnitOfWork) -> UnitOfWork:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    return uow


def published(state: Any, key: str) -> list[Artifact]:
    """The artifacts the run published under ``key``."""
    run_id: UUID = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
            )
        )


def page(state: Any, key: str) -> str:
    """The markdown the run published under ``key`` (exactly one version per run)."""
    found = published(state, key)
    assert len(found) == 1, f"{key}: {len(found)} artifact(s) from the run"
    assert found[0].type == "markdown"
    return str(found[0].data)


def test_a_transition_publishes_the_status_page_and_the_history(cycle_2026: UnitOfWork) -> None:
    state = advance_cycle(2026, CycleEvent.open_call, "Pat Chair", return_state=True)
    assert state.is_completed()

    status = page(state, "cycle-2026")
    assert status.startswith("# Cycle 2026\n")
    assert "**The call for applications is open.**" in status
    assert "Next step: **Close applications**" in status
    assert (
        "| Open the call for applications | Sat Aug 1, 2026, 12:00 AM Chicago time (passed) |"
        in (status)
    )
    assert "| Record the assessment | Sun Aug 1, 2027, 12:00 AM Chicago time" in status
    assert "Last step: **Open the call for applications**, " in status
    assert "Chicago time, by Pat Chair (from the UI)." in status

    history = page(state, "cycle-2026-history")
    assert history.startswith("# Cycle 2026: history\n")
    assert "| Open the call for applications | planned → call open | Pat Chair | from the UI |" in (
        history
    )
    assert "Chicago time" in history


def test_the_daily_tick_refreshes_the_page_of_each_cycle_it_looked_at(
    cycle_2026: UnitOfWork,
) -> None:
    cycles.create_cycle(cycle_2026, 2027, timezone="UTC", milestones={}, actor="chair")
    state = daily_tick(now=datetime(2026, 8, 2, tzinfo=UTC), return_state=True)
    assert state.is_completed()

    moved = page(state, "cycle-2026")
    assert "**The call for applications is open.**" in moved
    assert "Open the call for applications: planned → call open; 0 message(s) queued" in moved
    untouched = page(state, "cycle-2027")
    assert "**Planned: the call for applications has not opened yet.**" in untouched
    assert "The daily check found nothing due." in untouched
    assert "| Open the call for applications | Sun Aug 1, 2027, 12:00 AM UTC" in untouched


def test_a_delivery_run_publishes_what_went_out_and_the_servers_answers(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    paired_cycle(uow)
    queued = list_messages(uow)
    refused = queued[0].to_address
    n_refused = sum(1 for m in queued if m.to_address == refused)
    n_sent = len(queued) - n_refused
    with SmtpTestServer(reject={refused}) as server:
        monkeypatch.setenv("MENTORING_SMTP_HOST", server.host)
        monkeypatch.setenv("MENTORING_SMTP_PORT", str(server.port))
        state = deliver_notifications(return_state=True)
    assert state.is_completed()
    assert state.result() == {"sent": n_sent, "failed": n_refused, "pending": 0}

    mail = page(state, "mail-delivery")
    assert f"{n_sent} sent, {n_refused} failed, 0 still waiting to go." in mail
    assert "Chicago time" in mail
    went_out, failed = mail.split("## Failed")
    for kind in {m.kind for m in queued if m.to_address != refused}:
        assert f"| 2026 | {kind.replace('_', ' ').capitalize()} |" in went_out
    shown = refused.replace("_", "\\_")
    assert shown not in went_out
    assert failed.count(f"| {shown} |") == n_refused
    assert failed.count("| 550 ") == n_refused

    status = page(state, "cycle-2026")
    assert f"| **all mail** | {n_sent} | 0 | {n_refused} |" in status

    idle = deliver_notifications(return_state=True)
    assert idle.result() == {"sent": 0, "failed": 0, "pending": 0}
    assert published(idle, "mail-delivery") == [], "a run with nothing to send keeps the page"


def test_every_task_date_names_its_year(uow: UnitOfWork) -> None:
    """Mentoring's tasks run into the next year: a date without its year would mislead."""
    paired_cycle(uow)
    state = daily_tick(now=datetime(2026, 12, 2, 12, tzinfo=UTC), return_state=True)
    assert state.is_completed()
    status = page(state, "cycle-2026")
    assert "**Mentoring is under way.**" in status
    overdue, open_ = status.split("## Tasks")[1].split("## Mail")[0].split("**Open**")
    assert re.search(
        r"\| Hold the training/orientation session \(no\. \d+\) \| the committee \| "
        r"Fri Nov 27, 2026, 12:00 AM Chicago time \(passed\) \|",
        overdue,
    ), overdue
    assert "and 40 more | Sun Jan 31, 2027, 11:59 PM Chicago time |" in open_
    rows = [line for line in (overdue + open_).splitlines() if line.startswith("| ")]
    due = [row.rstrip(" |").rsplit(" | ", 1)[1] for row in rows if row != "| task | for | due |"]
    assert len(due) > 8 and all(re.search(r", 202[67], ", d) for d in due), due
