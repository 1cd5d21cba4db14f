"""The committee's look back: a cycle's history as it stood at a moment, from the UI.

The story is the one ``mentoring audit YEAR --as-of MOMENT`` tells (the audit log and the
outbox up to that moment, :func:`flows.usecases.audit_story.story`), written as the
committee reads it: steps and states in words, every time on the cycle's clock naming its
zone. It is published as the artifact ``cycle-YEAR-history-as-of``; the live history,
``cycle-YEAR-history``, is refreshed by every step.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

from domain.calendar import wall_clock
from domain.errors import CalendarError, DomainError
from domain.time_words import moment_words, zone_words
from flows.cockpit_pages import (
    STATE_WORDS,
    TRIGGER_WORDS,
    kind_words,
    md,
    state_words,
    step_words,
)
from flows.committee_steps import STATE_WORDS as CYCLE_STATE_WORDS
from flows.committee_steps import chosen_year, refusal_sentence
from flows.usecases.audit_story import CycleStory, story
from flows.usecases.clock import utcnow
from flows.usecases.cycles import describe
from infra.uow import UnitOfWork

FORMS = "such as 2026-10-01 (the start of that day) or 2026-10-01 09:00"


class UnreadableMoment(DomainError):
    """The As of box holds no moment the program can read; the message says which forms
    it takes."""


def history_as_of_key(year: int) -> str:
    return f"cycle-{year}-history-as-of"


def moment_of(text: str, zone: str, now: datetime) -> datetime:
    """The moment typed in the As of box, on the cycle's clock; empty means now. A date
    alone is the start of that day; a moment still to come is refused."""
    typed = " ".join(text.split())
    if not typed:
        return now
    try:
        parsed = (
            datetime.combine(date.fromisoformat(typed), datetime.min.time())
            if len(typed) == 10
            else datetime.fromisoformat(typed)
        )
        moment = wall_clock(parsed, ZoneInfo(zone))
    except ValueError:
        raise UnreadableMoment(
            f"The As of box holds {typed!r}: write a date, or a date and a time, in "
            f"{zone_words(zone)}, {FORMS}; leave it empty for now."
        ) from None
    except CalendarError as gap:
        raise UnreadableMoment(f"The As of box: {gap}.") from None
    if moment > now:
        raise UnreadableMoment(
            f"The As of box holds {moment_words(moment, zone, with_year=True)}, which has not "
            "come yet: give a moment that has passed, or leave it empty for now."
        )
    return moment


def history_as_of_page(told: CycleStory, zone: str, moment: datetime) -> str:
    """The cycle as it stood at ``moment``: its state then and now, the steps taken, the
    applications, pairing decisions, mail and tasks by then, and everything in order."""
    when = moment_words(moment, zone, with_year=True)
    then = (
        STATE_WORDS[told.state] if told.state is not None else "The cycle had not been created yet."
    )
    lines = [
        f"# Cycle {told.year}: the history as it stood on {when}",
        "",
        f"**Then:** {then}",
        "",
        f"**Now:** {STATE_WORDS[told.state_now]}",
        "",
        f"_Times are {zone_words(zone)} ({zone}). The history as it stands now is the "
        f"page cycle-{told.year}-history._",
        "",
        "## Steps taken by then",
        "",
    ]
    lines += _steps(told, zone) or ["No step taken by then."]
    lines += ["", "## Applications by then", "", *_applications(told)]
    lines += ["", "## Pairing decisions by then", "", *_decisions(told, zone)]
    lines += ["", "## Mail by then", "", *_mail(told)]
    lines += ["", "## Tasks then", "", *_tasks(told, zone)]
    lines += ["", "## Everything that happened by then", ""]
    lines += _timeline(told, zone) or ["Nothing recorded by then."]
    return "\n".join(lines) + "\n"


def _timeline(told: CycleStory, zone: str) -> list[str]:
    """Every narrated record in order; a step in words, the others as the log tells them."""
    steps = {t.seq: t for t in told.transitions}
    lines = []
    for entry in told.timeline:
        step = steps.get(entry["seq"])
        what = (
            md(entry["what"])
            if step is None
            else f"{step_words(step.event)}: {state_words(step.source)} → "
            f"{state_words(step.target)}, {TRIGGER_WORDS.get(step.trigger, step.trigger)}"
        )
        at = moment_words(datetime.fromisoformat(entry["at"]), zone, with_year=True)
        lines.append(f"- {at}: {what} ({md(entry['actor'])})")
    return lines


def _steps(told: CycleStory, zone: str) -> list[str]:
    if not told.transitions:
        return []
    return [
        "| when | step | from → to | by | how | reason |",
        "|---|---|---|---|---|---|",
        *(
            f"| {moment_words(t.at, zone, with_year=True)} | {step_words(t.event)} | "
            f"{state_words(t.source)} → {state_words(t.target)} | {md(t.actor)} | "
            f"{TRIGGER_WORDS.get(t.trigger, t.trigger)} | {md(t.reason or '')} |"
            for t in told.transitions
        ),
    ]


def _applications(told: CycleStory) -> list[str]:
    apps = told.applications
    lines = [
        f"{apps['received']} received, {apps['imported']} accepted, {apps['refused']} "
        f"refused, in {len(apps['imports'])} import(s)."
    ]
    if apps["refusal_reasons"]:
        lines += ["", "| why refused | applications |", "|---|---:|"]
        lines += [f"| {md(r['reason'])} | {r['count']} |" for r in apps["refusal_reasons"]]
    return lines


def _decisions(told: CycleStory, zone: str) -> list[str]:
    lines = [
        f"- {moment_words(datetime.fromisoformat(d['at']), zone, with_year=True)}: "
        f"**{d['decision']}** by {md(d['actor'])}: {md(d['summary'])}"
        for d in told.pairing_decisions
    ] or ["No pairing decision by then."]
    if told.paired is not None:
        lines += ["", f"Paired then: {told.paired['pairs']} pair(s)."]
    return lines


def _mail(told: CycleStory) -> list[str]:
    by_kind = told.messages["by_kind"]
    if not by_kind:
        return ["No mail queued by then."]
    total = told.messages["total"]
    return [
        "| mail | queued | sent by then | not sent by then |",
        "|---|---:|---:|---:|",
        *(
            f"| {kind_words(kind)} | {n['queued']} | {n['sent']} | {n['pending']} |"
            for kind, n in by_kind.items()
        ),
        f"| **all mail** | {total['queued']} | {total['sent']} | {total['pending']} |",
        "",
        "The outbox does not record when a message failed, so a message that failed later "
        "counts here as not sent by then.",
    ]


def _tasks(told: CycleStory, zone: str) -> list[str]:
    groups = told.tasks["by_due_date"]
    if not groups:
        return ["No task by then."]
    total = told.tasks["total"]
    return [
        "| due | for | task | created | done | overdue | open |",
        "|---|---|---|---:|---:|---:|---:|",
        *(
            f"| {moment_words(datetime.fromisoformat(g['due_at']), zone, with_year=True)} | "
            f"{g['audience']} | {md(g['task'])} | {g['created']} | {g['done']} | "
            f"{g['overdue']} | {g['open']} |"
            for g in groups
        ),
        f"| | | **all tasks** | {total['created']} | {total['done']} | {total['overdue']} | "
        f"{total['open']} |",
    ]


@flow(name="Show the history as it stood")
def show_the_history_as_it_stood(year: str = "", as_of: str = "") -> State[Any]:
    """Publish a cycle's history as it stood at a moment: its state then, the steps taken,
    the applications, pairing decisions, mail and tasks by then. Read it in the run's
    artifact cycle-YEAR-history-as-of.

    Args:
        year: The cycle's year, the year its call opens. Leave it empty for the current
            cycle.
        as_of: The moment, on the cycle's clock (Chicago time unless the cycle has another
            zone): a date such as 2026-10-01 (the start of that day) or a date and time
            such as 2026-10-01 09:00. Leave it empty for now.
    """
    logger = get_run_logger()
    uow = UnitOfWork.from_settings()
    now = utcnow()
    try:
        chosen = chosen_year(uow, year)
        zone = describe(uow, chosen).timezone
        moment = moment_of(as_of, zone, now)
        told = story(uow, chosen, None if moment == now else moment, now=now)
    except DomainError as refusal:
        sentence = refusal_sentence(refusal)
        logger.error(sentence)
        return Failed(message=sentence)
    state = "not yet created" if told.state is None else CYCLE_STATE_WORDS[told.state]
    steps = f"{len(told.transitions)} step(s) taken"
    if told.as_of is None:
        said = f"as it stands now (the cycle is {state}, {steps})"
    else:
        said = f"as it stood on {moment_words(moment, zone, with_year=True)} (the cycle was " + (
            f"{state}, {steps})"
        )
    sentence = (
        f"The history of cycle {chosen} {said} is in the artifact {history_as_of_key(chosen)}."
    )
    logger.info(sentence)
    create_markdown_artifact(
        key=history_as_of_key(chosen),
        markdown=history_as_of_page(told, zone, moment),
        description=f"Cycle {chosen}: the history as it stood at a chosen moment",
    )
    return Completed(message=sentence)
