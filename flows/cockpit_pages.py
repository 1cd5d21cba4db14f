"""The committee's pages in the Prefect UI, as markdown: a cycle's status, its history, and
what a delivery run sent.

Only rendering lives here (the flows gather the use cases' answers and publish them, see
``flows.orchestration``), so each page can be checked word for word without a server.
The committee are librarians, not programmers: steps and states are said in words, every
time names its zone, and moments already past are marked.
"""

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.cycle_states import FORWARD_EVENTS, STEP_NAMES, CycleEvent, CycleState
from domain.followups import TaskAudience
from domain.time_words import marked_moment, moment_words, zone_words
from flows.usecases.audit import RecordedTransition
from flows.usecases.audit_story import CycleStory
from flows.usecases.cycles import CycleView, TransitionResult
from flows.usecases.followups import TaskView
from flows.usecases.notifications import DeliveryCounts, ListedMessage

MAIL_KEY = "mail-delivery"
NAMES_SHOWN = 20  # recipients named per kind on the mail page; the rest are counted
FAILURES_SHOWN = 200  # refused messages listed one by one on the mail page


STATE_WORDS: dict[CycleState, str] = {
    CycleState.planned: "Planned: the call for applications has not opened yet.",
    CycleState.call_open: "The call for applications is open.",
    CycleState.applications_closed: "Applications are closed: the committee reviews them "
    "and pairs mentors with mentees.",
    CycleState.paired: "The pairings are announced; orientation comes next.",
    CycleState.orientation: "Orientation has begun.",
    CycleState.active: "Mentoring is under way.",
    CycleState.ended: "Formal mentoring has ended; the assessment survey is open.",
    CycleState.assessed: "The year is complete: the assessment is recorded.",
    CycleState.cancelled: "This year was cancelled.",
}

TRIGGER_WORDS = {
    "manual": "from the UI",
    "schedule": "on its date",
    "cli": "on the server",
    "event": "automatically",
}


def status_key(year: int) -> str:
    """The status page's artifact key: one page per cycle, replaced at every update."""
    return f"cycle-{year}"


def history_key(year: int) -> str:
    return f"cycle-{year}-history"


def md(value: object) -> str:
    """Free text safe inside a markdown table cell or list item."""
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def kind_words(kind: str) -> str:
    """A message kind as a person says it: ``pairing_notice`` → "Pairing notice"."""
    return kind.replace("_", " ").capitalize()


def state_words(state: str) -> str:
    """A state name as a person says it: ``applications_closed`` → "applications closed"."""
    return state.replace("_", " ")


def step_words(event: str) -> str:
    try:
        return STEP_NAMES[CycleEvent(event)]
    except ValueError:
        return event.replace("_", " ")


def transition_headline(result: TransitionResult) -> str:
    """What a transition did, in words (the history page says who did it)."""
    if not result.changed:
        return f"{step_words(result.event)}: already done, nothing changed."
    return (
        f"{step_words(result.event)}: {state_words(result.source)} → "
        f"{state_words(result.target)}; {result.messages} message(s) queued, "
        f"{result.tasks} task(s) created."
    )


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


# --- the status page -------------------------------------------------------------------


def status_page(
    view: CycleView,
    tasks: Sequence[TaskView],
    told: CycleStory,
    now: datetime,
    headline: str | None = None,
) -> str:
    """The "Cycle YEAR" page: where the cycle stands, what comes next, the milestones,
    the tasks, the mail and the people."""
    zone = view.timezone
    lines = [f"# Cycle {view.year}", "", f"**{STATE_WORDS[view.state]}**"]
    if view.state is CycleState.cancelled and view.cancel_reason:
        lines[-1] += f" Reason given: {md(view.cancel_reason)}"
    lines += ["", _next_step(view, now), ""]
    if told.transitions:
        lines += [_last_step(told.transitions[-1], zone), ""]
    updated = f"_Updated {moment_words(now, zone)}"
    lines += [updated + (f": {md(headline)}_" if headline else "._"), ""]
    lines += _milestones(view, now)
    lines += _task_section(tasks, zone, now)
    lines += _mail_section(told)
    lines += _people_section(told, zone)
    return "\n".join(lines) + "\n"


def _next_step(view: CycleView, now: datetime) -> str:
    """The next step in words, when it is due and what it waits for."""
    if view.state.is_final:
        return "Next step: none. This year's cycle is over."
    ahead = [e for e in view.allowed_events if e is not CycleEvent.cancel]
    if not ahead:
        return "Next step: none."
    event = ahead[0]
    due = view.calendar.get(str(event))
    text = f"Next step: **{STEP_NAMES[event]}**"
    if due is not None:
        at = _when(due)
        if at <= now:
            text += (
                f", due since {moment_words(at, view.timezone, with_year=True)}: the daily "
                "check takes it at its next run"
            )
        else:
            text += (
                f", on {moment_words(at, view.timezone, with_year=True)} (the daily check "
                "takes it then; the committee may take it earlier, giving a reason)"
            )
    if event is CycleEvent.announce_pairings and not view.has_approved_pairings:
        text += ". It waits for the committee to approve the pairing set"
    return text + "."


def _last_step(step: RecordedTransition, zone: str) -> str:
    how = TRIGGER_WORDS.get(step.trigger, step.trigger)
    return (
        f"Last step: **{step_words(step.event)}**, "
        f"{moment_words(step.at, zone, with_year=True)}, by {md(step.actor)} ({how})."
    )


def _milestones(view: CycleView, now: datetime) -> list[str]:
    lines = [
        "## Milestones",
        "",
        f"Times are {zone_words(view.timezone)} ({view.timezone}).",
        "",
        "| step | when |",
        "|---|---|",
    ]
    for event in FORWARD_EVENTS:
        due = view.calendar.get(str(event))
        if due is not None:
            when = marked_moment(_when(due), view.timezone, now, with_year=True)
            lines.append(f"| {STEP_NAMES[event]} | {when} |")
    return [*lines, ""]


@dataclass
class _TaskGroup:
    """Open tasks with one title and due date: one line on the page."""

    title: str
    audience: TaskAudience
    due_at: datetime
    overdue: bool
    members: list[str] = field(default_factory=list)
    count: int = 0


def _group_title(task: TaskView) -> str:
    """Participant task titles name the pair ("First meeting of C1 and C2"); the group
    keeps the words before. A committee task is its own line, with the number the "Mark
    a task done" form asks for."""
    if task.audience is TaskAudience.participant:
        return task.title.partition(" of ")[0]
    return f"{task.title} (no. {task.id})"


def _task_groups(tasks: Sequence[TaskView]) -> list[_TaskGroup]:
    groups: dict[tuple[str, str, datetime, bool], _TaskGroup] = {}
    for task in tasks:
        if task.done_at is not None:
            continue
        title = _group_title(task)
        key = (title, str(task.audience), task.due_at, task.overdue)
        group = groups.setdefault(key, _TaskGroup(title, task.audience, task.due_at, task.overdue))
        group.count += 1
        if task.member_id is not None:
            group.members.append(task.member_id)
    return sorted(groups.values(), key=lambda g: (g.due_at, g.title))


def _for_whom(group: _TaskGroup) -> str:
    """Each participant once, though a mentor of three has three "Set the goals" tasks."""
    if group.audience is TaskAudience.committee:
        return "the committee"
    people = sorted(set(group.members))
    many = len(people) or group.count
    shown = ", ".join(people[:NAMES_SHOWN])
    more = many - min(len(people), NAMES_SHOWN)
    who = f"{many} participant(s)" + (f": {shown}" if shown else "")
    return who + (f" and {more} more" if more > 0 else "")


def _task_section(tasks: Sequence[TaskView], zone: str, now: datetime) -> list[str]:
    """Overdue, then open tasks, grouped; every due date with its year, since tasks run
    from one year into the next (the survey of a 2026 cycle is due in 2027)."""
    groups = _task_groups(tasks)
    overdue = [g for g in groups if g.overdue]
    open_ = [g for g in groups if not g.overdue]
    lines = ["## Tasks", ""]
    if not groups:
        return [*lines, "No open task.", ""]
    for heading, chosen in (("Overdue", overdue), ("Open", open_)):
        if not chosen:
            continue
        lines += [f"**{heading}** ({sum(g.count for g in chosen)})", ""]
        lines += ["| task | for | due |", "|---|---|---|"]
        lines += [
            f"| {md(g.title)} | {md(_for_whom(g))} | "
            f"{marked_moment(g.due_at, zone, now, with_year=True)} |"
            for g in chosen
        ]
        lines.append("")
    return lines


def _mail_section(told: CycleStory) -> list[str]:
    by_kind: Mapping[str, Mapping[str, Any]] = told.messages["by_kind"]
    lines = ["## Mail", ""]
    if not by_kind:
        return [*lines, "No mail queued yet.", ""]
    lines += ["| mail | sent | waiting to go | failed |", "|---|---:|---:|---:|"]
    for kind, n in by_kind.items():
        lines.append(f"| {kind_words(kind)} | {n['sent']} | {n['pending']} | {n['failed']} |")
    total = told.messages["total"]
    lines.append(f"| **all mail** | {total['sent']} | {total['pending']} | {total['failed']} |")
    if total["failed"]:
        lines += ["", "Failed mail, with the mail server's answers: the `mail-failures` page."]
    return [*lines, ""]


def withdrawals(told: CycleStory) -> int:
    return sum(1 for d in told.pairing_decisions if d["decision"] == "withdrawal")


def waiting_list(told: CycleStory) -> int | None:
    """Mentees told they are on the waiting list (once the pairings are approved)."""
    notices = told.messages["by_kind"].get("not_paired_notice")
    return None if notices is None else int(notices["queued"])


def _people_section(told: CycleStory, zone: str) -> list[str]:
    apps = told.applications
    lines = [
        "## People",
        "",
        f"- Applicants: {apps['imported']} accepted, {apps['refused']} refused "
        f"({apps['received']} received).",
    ]
    paired = told.paired
    if paired is None:
        proposed = [d for d in told.pairing_decisions if d["decision"] == "proposed"]
        if proposed:
            last = proposed[-1]
            lines.append(
                f"- Pairs: none approved yet; the latest proposal has {last.get('pairs')} "
                f"pair(s) and leaves {last.get('unmatched')} applicant(s) out."
            )
        else:
            lines.append("- Pairs: none proposed yet.")
    else:
        approved = moment_words(_when(paired["approved_at"]), zone, with_year=True)
        lines.append(
            f"- Pairs: {paired['pairs']} (approved by {md(paired['approved_by'])} on {approved})."
        )
    waiting = waiting_list(told)
    if waiting is not None:
        lines.append(f"- Waiting list: {waiting} mentee(s) told they are waiting.")
    lines.append(f"- Withdrawals: {withdrawals(told)}.")
    return [*lines, ""]


# --- the history page ------------------------------------------------------------------


def history_page(told: CycleStory, zone: str, now: datetime) -> str:
    """The cycle's story from the audit log (what ``audit YEAR --format md`` tells), with
    every time on the committee's clock."""
    lines = [
        f"# Cycle {told.year}: history",
        "",
        f"_As it stands on {moment_words(now, zone)}; times are {zone_words(zone)}._",
        "",
        "## Steps taken",
        "",
    ]
    if told.transitions:
        lines += ["| when | step | from → to | by | how | reason |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {moment_words(t.at, zone, with_year=True)} | {step_words(t.event)} | "
            f"{state_words(t.source)} → {state_words(t.target)} | {md(t.actor)} | "
            f"{TRIGGER_WORDS.get(t.trigger, t.trigger)} | {md(t.reason or '')} |"
            for t in told.transitions
        ]
    else:
        lines.append("No step taken yet.")
    apps = told.applications
    lines += [
        "",
        "## Applications",
        "",
        f"{apps['received']} received, {apps['imported']} accepted, {apps['refused']} "
        f"refused, in {len(apps['imports'])} import(s).",
    ]
    if apps["refusal_reasons"]:
        lines += ["", "| why refused | applications |", "|---|---:|"]
        lines += [f"| {md(r['reason'])} | {r['count']} |" for r in apps["refusal_reasons"]]
    lines += ["", "## Pairing decisions", ""]
    lines += [
        f"- {moment_words(_when(d['at']), zone, with_year=True)}: **{d['decision']}** by "
        f"{md(d['actor'])}: {md(d['summary'])}"
        for d in told.pairing_decisions
    ] or ["No pairing decision yet."]
    if told.paired is not None:
        lines += ["", f"Paired now: {told.paired['pairs']} pair(s)."]
    lines += ["", *_mail_section(told)]
    steps = {t.seq: t for t in told.transitions}
    lines += ["## Everything that happened", ""]
    lines += [
        f"- {moment_words(_when(e['at']), zone, with_year=True)}: "
        f"{_step_line(steps[e['seq']]) if e['seq'] in steps else md(e['what'])} "
        f"({md(e['actor'])})"
        for e in told.timeline
    ] or ["Nothing recorded yet."]
    return "\n".join(lines) + "\n"


def _step_line(step: RecordedTransition) -> str:
    return (
        f"{step_words(step.event)}: {state_words(step.source)} → {state_words(step.target)}, "
        f"{TRIGGER_WORDS.get(step.trigger, step.trigger)}"
    )


# --- the mail page ---------------------------------------------------------------------


@dataclass(frozen=True)
class MailRun:
    """What one delivery run did: its counts, the messages it sent and those refused."""

    started: datetime
    finished: datetime
    counts: DeliveryCounts
    sent: Sequence[ListedMessage]
    failed: Sequence[ListedMessage]
    zone: str  # the cycles' zone (the default one when they differ)


def mail_page(run: MailRun) -> str:
    """What went out, by cycle and kind, with recipients; what failed, with the server's
    answer; what stays queued."""
    zone, counts = run.zone, run.counts
    lines = [
        "# Mail delivery",
        "",
        f"Run from {moment_words(run.started, zone)} to {moment_words(run.finished, zone)}: "
        f"{counts.sent} sent, {counts.failed} failed, {counts.pending} still waiting to go.",
    ]
    if counts.blocked:
        lines += ["", f"**Nothing could be sent:** {md(counts.blocked)}."]
    if counts.halted:
        lines += ["", f"The run stopped early: {md(counts.halted)}; the next run sends the rest."]
    lines += ["", "## Sent", ""]
    lines += _sent_lines(run) or ["Nothing was sent by this run."]
    lines += ["", "## Failed", ""]
    lines += _failed_lines(run) or ["No message was refused by this run."]
    return "\n".join(lines) + "\n"


def _sent_lines(run: MailRun) -> list[str]:
    by_kind: dict[tuple[int, str], list[ListedMessage]] = defaultdict(list)
    for message in run.sent:
        by_kind[(message.cycle_year, message.kind)].append(message)
    lines: list[str] = []
    if by_kind:
        lines += ["| cycle | mail | sent | to |", "|---|---|---:|---|"]
    for (year, kind), messages in sorted(by_kind.items()):
        addresses = sorted({m.to_address for m in messages})
        shown = ", ".join(md(a) for a in addresses[:NAMES_SHOWN])
        more = len(addresses) - NAMES_SHOWN
        to = f"{len(addresses)} address(es): {shown}" + (f" and {more} more" if more > 0 else "")
        lines.append(f"| {year} | {kind_words(kind)} | {len(messages)} | {to} |")
    return lines


def _failed_lines(run: MailRun) -> list[str]:
    if not run.failed:
        return []
    kinds = Counter((m.cycle_year, m.kind) for m in run.failed)
    lines = ["| cycle | mail | failed |", "|---|---|---:|"]
    lines += [f"| {y} | {kind_words(k)} | {n} |" for (y, k), n in sorted(kinds.items())]
    lines += ["", "| to | mail | subject | the mail server's answer |", "|---|---|---|---|"]
    lines += [
        f"| {md(m.to_address)} | {kind_words(m.kind)} | {md(m.subject)} | "
        f"{md(m.last_error or 'no answer recorded')} |"
        for m in run.failed[:FAILURES_SHOWN]
    ]
    if len(run.failed) > FAILURES_SHOWN:
        lines += ["", f"… and {len(run.failed) - FAILURES_SHOWN} more (see `mail-failures`)."]
    return lines
