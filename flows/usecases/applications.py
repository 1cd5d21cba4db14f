"""Taking in applications: validate every line, load the valid ones atomically, tell each
applicant whether they are in."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.activities import Activity, require
from domain.applications import (
    Application,
    Eligibility,
    InvalidApplication,
    check_eligibility,
    parse_application_row,
)
from domain.calendar import CycleCalendar
from domain.cycle import Cycle
from domain.cycle_states import CycleEvent, Trigger
from domain.intake import combine_forms
from domain.members import Member
from domain.pairing_status import PairingSetStatus
from domain.standing import outcome
from domain.values import MEMBER_ID_MAX, InvalidValue, actor_name, email_address, single_line
from flows.usecases.audit import way_in
from flows.usecases.clock import utcnow
from flows.usecases.effects import RefusedApplicant, applicant_messages
from infra.form_mapping import FormMapping, read_records
from infra.uow import UnitOfWork

_KEY_SAFE = re.compile(r"[^/\s]+")
IMPORT = "import"
SITE = "site"
"""Through what an application came: its audit record's ``trigger``, its row's ``source``."""


@dataclass(frozen=True)
class ApplicationImport:
    """The result the committee sees: counts, and each refused line with its reason."""

    imported: int = 0
    replaced: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False
    messages: int = 0
    accepted: list[Application] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("accepted")
        return data


@dataclass
class _Screening:
    """What reading the file found: the applications chosen (a repeat replaces the line
    before it), the refused lines and the warnings."""

    chosen: dict[str, Application] = field(default_factory=dict)
    repeated: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    refused: list[RefusedApplicant] = field(default_factory=list)


def import_applications(
    uow: UnitOfWork,
    year: int,
    path: Path,
    *,
    actor: str,
    mapping: FormMapping | None = None,
    dry_run: bool = False,
    allow_late: bool = False,
    now: datetime | None = None,
    trigger: Trigger | None = None,
    flow_run_id: str | None = None,
) -> ApplicationImport:
    """Validate each line against the roster and the call window; the valid ones go in
    together (a member's repeat replaces their earlier application), or none do.
    ``trigger`` and ``flow_run_id``, when given, say through what the import came (a run
    started from a form) as a transition's record does; otherwise the record's trigger is
    ``import``, as the command line's."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.late_intake if allow_late else Activity.intake, cycle.state, year)
        opened = call_opened(uow, year, cycle.calendar)
        screening = _screen(path, mapping, cycle.calendar, opened, uow.members.by_id(), allow_late)
        accepted = list(screening.chosen.values())
        replaced = list(screening.repeated)
        if dry_run:
            return ApplicationImport(
                len(accepted),
                replaced,
                screening.rejected,
                screening.warnings,
                dry_run,
                accepted=accepted,
            )
        if mapping is not None:
            stored = {a.member_id: a for a in uow.applications.active(year)}
            accepted = [
                combine_forms(stored[a.member_id], a) if a.member_id in stored else a
                for a in accepted
            ]
        taken = take_in(
            uow,
            cycle,
            accepted,
            screening.refused,
            actor=actor,
            now=now,
            source=IMPORT,
            file=path.name,
            rejected=screening.rejected,
            late_override=allow_late,
            replaced_before=replaced,
            way=way_in(trigger, flow_run_id),
        )
        replaced, messages = taken.replaced, taken.messages
        uow.commit()
    return ApplicationImport(
        len(accepted),
        replaced,
        screening.rejected,
        screening.warnings,
        dry_run,
        messages,
        accepted,
    )


@dataclass(frozen=True)
class TakenIn:
    """What storing accepted applications did: whose earlier one was replaced, how many
    messages were queued, and the audit record's sequence number."""

    replaced: list[str]
    messages: int
    audit_seq: int


def take_in(
    uow: UnitOfWork,
    cycle: Cycle,
    accepted: Sequence[Application],
    refused: Sequence[RefusedApplicant],
    *,
    actor: str,
    now: datetime,
    source: str,
    file: str | None,
    rejected: Sequence[dict[str, Any]] = (),
    late_override: bool = False,
    replaced_before: Sequence[str] = (),
    people: Mapping[str, Member] | None = None,
    way: Mapping[str, str | None] | None = None,
) -> TakenIn:
    """Store checked applications (a member's repeat replaces their earlier one), queue
    each applicant's message and append the one audit record, ``trigger`` naming the way
    in (``import`` or ``site``), or ``way`` the trigger and flow run of a run started from
    a form; the caller commits. Imports and the site both call it.
    ``people``: the roster rows the messages need, when the caller has them (the site's one
    applicant), so one application does not read the whole roster."""
    closes = cycle.calendar.milestone(CycleEvent.close_applications)
    replaced = [
        *replaced_before,
        *uow.applications.store(cycle.year, accepted, closes, now, source),
    ]
    messages = applicant_messages(
        uow,
        cycle,
        [a.member_id for a in accepted],
        refused,
        now,
        people=people,
        roles={a.member_id: str(a.role) for a in accepted},
    )
    record = uow.audit.append(
        kind="applications_imported",
        cycle_year=cycle.year,
        at=now,
        actor=actor,
        fields={
            "file": file,
            "imported": len(accepted),
            "replaced": sorted(set(replaced)),
            "rejected": list(rejected),
            "late_override": late_override,
            "trigger": source,
            **(way or {}),
        },
    )
    return TakenIn(replaced, messages, record.seq)


def call_opened(uow: UnitOfWork, year: int, calendar: CycleCalendar) -> datetime:
    """When the call for applications opened: its date on the calendar, or, when the
    committee opened it early, the moment it did (the transition's audit record)."""
    planned = calendar.milestone(CycleEvent.open_call)
    fired = [
        record.at.astimezone(calendar.tz)
        for record in uow.audit.of_kinds(year, ["transition"])
        if record.fields.get("event") == str(CycleEvent.open_call)
    ]
    return min([planned, *fired])


def intake_eligibility(
    app: Application,
    member: Member | None,
    calendar: CycleCalendar,
    opened: datetime,
    *,
    allow_late: bool = False,
) -> Eligibility:
    """One application against the roster and the cycle's call window (from ``opened``,
    see :func:`call_opened`), as every way in checks it."""
    return check_eligibility(
        app,
        member,
        call_opens=opened,
        call_closes=calendar.milestone(CycleEvent.close_applications),
        program_ends=calendar.milestone(CycleEvent.end_mentoring).date(),
        allow_late=allow_late,
    )


def _screen(
    path: Path,
    mapping: FormMapping | None,
    calendar: CycleCalendar,
    opened: datetime,
    members: dict[str, Member],
    allow_late: bool,
) -> _Screening:
    """Read and check every line against the roster and the call window."""
    closes = calendar.milestone(CycleEvent.close_applications)
    read = read_records(path, mapping)
    found = _Screening(rejected=[problem.as_rejection() for problem in read.problems])
    for line, raw in read.rows:
        try:
            app = parse_application_row(raw, default_tz=calendar.timezone)
        except InvalidApplication as bad:
            found.rejected.append({"line": line, "reason": bad.reason})
            found.refused += _reachable(
                raw.get("email", ""), raw.get("member_id", ""), "incomplete", bad.reason
            )
            continue
        member = members.get(app.member_id)
        verdict = intake_eligibility(app, member, calendar, opened, allow_late=allow_late)
        if not verdict.ok:
            found.rejected.append(
                {"line": line, "member_id": app.member_id, "reason": verdict.reason}
            )
            found.refused += _reachable(
                app.email, app.member_id, refusal_kind(app, member, closes), verdict.reason or ""
            )
            continue
        found.warnings.extend(
            {"line": line, "member_id": app.member_id, "warning": w} for w in verdict.warnings
        )
        if app.member_id in found.chosen:
            found.repeated.append(app.member_id)
        found.chosen[app.member_id] = app
    found.rejected.sort(key=lambda r: r["line"])
    return found


def _reachable(address: str, member_id: str, kind: str, detail: str) -> list[RefusedApplicant]:
    """The applicant of a refused line, if it gives an address mail can go to; the member
    id only if it can name the message (one token of at most 64 characters)."""
    try:
        checked = email_address(address, "email")
    except InvalidValue:
        return []
    try:
        named = single_line(member_id, "member_id", MEMBER_ID_MAX)
    except InvalidValue:
        named = ""
    return [RefusedApplicant(checked, named if _KEY_SAFE.fullmatch(named) else "", kind, detail)]


def refusal_kind(app: Application, member: Member | None, closes: datetime) -> str:
    """Which of the committee's three reasons a refusal gives the applicant."""
    if member is None or not member.is_core_member(app.submitted_at.date()):
        return "not_core_member"
    return "late" if app.submitted_at > closes else "incomplete"


@dataclass(frozen=True)
class ListedApplication:
    """One application as the committee's list shows it."""

    member_id: str
    name: str
    role: str
    state: str
    state_words: str
    submitted_at: datetime
    source: str


@dataclass(frozen=True)
class ApplicationList:
    """Every application to a cycle, with the cycle's zone for showing the times."""

    year: int
    time_zone: str
    applications: list[ListedApplication]

    def as_list(self) -> list[dict[str, Any]]:
        """The ``--json`` form: one object per application, times in ISO 8601."""
        return [
            {
                "member_id": a.member_id,
                "name": a.name,
                "role": a.role,
                "state": a.state,
                "submitted_at": a.submitted_at.isoformat(),
                "source": a.source,
            }
            for a in self.applications
        ]


def list_applications(uow: UnitOfWork, year: int) -> ApplicationList:
    """Every application to cycle ``year``: the member, role, what became of it (paired
    once a set is approved), when it was submitted and through what (site or import)."""
    with uow:
        cycle = uow.cycles.get(year)
        enrolments = uow.applications.all(year)
        sources = uow.applications.sources(year)
        people = uow.members.by_id()
        approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
        paired = {m for p in uow.pairings.approved_pairs(year) for m in p.members}
        left_out = {u.member_id: u for u in uow.pairings.waiting(approved.id)} if approved else {}
    listed = []
    for e in sorted(enrolments, key=lambda e: (e.application.submitted_at, e.member_id)):
        result = outcome(e, paired, left_out)
        member = people.get(e.member_id)
        listed.append(
            ListedApplication(
                member_id=e.member_id,
                name=member.full_name if member else "",
                role=e.role,
                state=str(result.state),
                state_words=result.words,
                submitted_at=e.application.submitted_at.astimezone(UTC),
                source=sources.get(e.member_id, IMPORT),
            )
        )
    return ApplicationList(year, cycle.calendar.timezone, listed)
