"""What every Prefect flow does around a use case: events, the committee's pages (artifacts),
the flow run id."""

from collections.abc import Mapping
from datetime import datetime

from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run

from domain.calendar import DEFAULT_TIMEZONE
from domain.notifications import MessageStatus
from flows.cockpit_health import SHOWN_IN as HEALTH_SHOWN_IN
from flows.cockpit_health import health_section
from flows.cockpit_pages import (
    MAIL_KEY,
    MailRun,
    history_key,
    history_page,
    mail_page,
    status_key,
    status_page,
    transition_headline,
)
from flows.usecases.audit_story import story
from flows.usecases.clock import utcnow
from flows.usecases.cycles import TransitionResult, describe
from flows.usecases.followups import list_tasks
from flows.usecases.notifications import DeliveryCounts, ListedMessage, list_messages
from flows.usecases.pair_health import program_health
from flows.usecases.tick import CYCLE_FAILURES
from infra.uow import UnitOfWork


def current_flow_run_id() -> str | None:
    """The running flow's id for the audit log (None outside a flow run)."""
    run_id = flow_run.id
    return str(run_id) if run_id else None


def cycle_resource(year: int) -> dict[str, str]:
    return {
        "prefect.resource.id": f"mentoring.cycle.{year}",
        "prefect.resource.name": f"Mentoring cycle {year}",
    }


def announce_transition(result: TransitionResult) -> None:
    """Emit the step taken and the state reached so deployment triggers can react.

    ``mentoring.cycle.<event>`` (``mentoring.cycle.open_call``) says what happened;
    ``mentoring.cycle.<state>`` (``mentoring.cycle.assessed``) says where the cycle now
    stands. Event and state names never coincide, so a trigger can listen to either.
    """
    payload = {"year": result.year, "source": result.source, "target": result.target}
    for name in (result.event, result.target):
        emit_event(
            event=f"mentoring.cycle.{name}",
            resource=cycle_resource(result.year),
            payload={**payload, "event": result.event},
        )


def publish_cycle_summary(uow: UnitOfWork, year: int, headline: str) -> None:
    """Refresh the cycle's status page and history after a step (kept for its callers)."""
    publish_cycle_pages(uow, year, headline)


def publish_transition_pages(uow: UnitOfWork, result: TransitionResult) -> None:
    """Refresh the cycle's pages after a transition, saying what it did in words."""
    publish_cycle_pages(uow, result.year, transition_headline(result))


def publish_cycle_pages(
    uow: UnitOfWork, year: int, headline: str | None = None, *, now: datetime | None = None
) -> None:
    """The "Cycle YEAR" status page (with the pairs' health once mentoring has begun) and
    the cycle's history, as they stand now, each a markdown artifact under a stable key
    (``cycle-YEAR``, ``cycle-YEAR-history``) so the UI shows the latest and keeps the
    earlier versions."""
    now = now or utcnow()
    view = describe(uow, year)
    told = story(uow, year, now=now)
    page = status_page(view, list_tasks(uow, year, now=now), told, now, headline)
    if view.state in HEALTH_SHOWN_IN:
        page += "\n" + "\n".join(health_section(program_health(uow, year, now=now)))
    create_markdown_artifact(
        key=status_key(year),
        description=f"Cycle {year}: where it stands, what comes next",
        markdown=page,
    )
    create_markdown_artifact(
        key=history_key(year),
        description=f"Cycle {year}: everything that happened, from the audit log",
        markdown=history_page(told, view.timezone, now),
    )


def refresh_cycle_pages(
    uow: UnitOfWork, headlines: Mapping[int, str | None], *, now: datetime | None = None
) -> list[str]:
    """Publish the pages of several cycles; a cycle whose stored values cannot be read does
    not stop the others (nor the run that touched them): the sentences saying which page
    was left as it was are returned for the run's log."""
    problems: list[str] = []
    for year, headline in sorted(headlines.items()):
        try:
            publish_cycle_pages(uow, year, headline, now=now)
        except CYCLE_FAILURES as error:
            problems.append(f"the page of cycle {year} was not updated: {error}")
    return problems


def open_cycle_years(uow: UnitOfWork) -> list[int]:
    """The cycles not in a final state: those the daily tick looks at."""
    with uow:
        return uow.cycles.open_years()


def failed_message_ids(uow: UnitOfWork) -> set[int]:
    """The messages that have failed so far: a delivery run's failures are those not
    among them before it began (the outbox keeps no time of failure)."""
    return {m.id for m in list_messages(uow, failed_only=True)}


def publish_delivery(
    uow: UnitOfWork,
    counts: DeliveryCounts,
    *,
    started: datetime,
    failed_before: set[int],
    now: datetime | None = None,
) -> list[str]:
    """The ``mail-delivery`` page for one run (sent by kind with recipients, failed with
    the server's answer), and the status page of each cycle the run sent mail for; returns
    the sentences naming any cycle page left as it was.

    A run that found nothing to send publishes nothing, so the page keeps showing the last
    run that did something rather than the "nothing to do" of a run five minutes later.
    Messages another delivery sent meanwhile count as sent here too (the outbox does not
    say which run sent a message)."""
    if not (counts.sent or counts.failed or counts.blocked):
        return []
    now = now or utcnow()
    sent: list[ListedMessage] = []
    failed: list[ListedMessage] = []
    if counts.sent or counts.failed:
        for message in list_messages(uow):
            if message.sent_at is not None and message.sent_at >= started:
                sent.append(message)
            elif message.status is MessageStatus.failed and message.id not in failed_before:
                failed.append(message)
    years = sorted({m.cycle_year for m in [*sent, *failed]})
    zones: set[str] = set()
    for year in years:
        try:
            zones.add(describe(uow, year).timezone)
        except CYCLE_FAILURES:
            zones.add(DEFAULT_TIMEZONE)
    zone = zones.pop() if len(zones) == 1 else DEFAULT_TIMEZONE
    run = MailRun(started, now, counts, sent, failed, zone)
    create_markdown_artifact(
        key=MAIL_KEY,
        description="What the latest delivery run sent, and what the mail server refused",
        markdown=mail_page(run),
    )
    return refresh_cycle_pages(uow, {year: None for year in years}, now=now)
