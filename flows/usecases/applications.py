"""Taking in applications: validate every line, load the valid ones atomically, tell each
applicant whether they are in."""

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.activities import Activity, require
from domain.applications import (
    Application,
    InvalidApplication,
    check_eligibility,
    parse_application_row,
)
from domain.calendar import CycleCalendar
from domain.cycle_states import CycleEvent
from domain.intake import combine_forms
from domain.members import Member
from domain.values import MEMBER_ID_MAX, InvalidValue, actor_name, email_address, single_line
from flows.usecases.clock import utcnow
from flows.usecases.effects import RefusedApplicant, applicant_messages
from infra.form_mapping import FormMapping, read_records
from infra.uow import UnitOfWork

_KEY_SAFE = re.compile(r"[^/\s]+")


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
) -> ApplicationImport:
    """Validate each line against the roster and the call window; the valid ones go in
    together (a member's repeat replaces their earlier application), or none do."""
    now = now or utcnow()
    actor = actor_name(actor)
    with uow:
        cycle = uow.cycles.get(year, for_update=True)
        require(Activity.late_intake if allow_late else Activity.intake, cycle.state, year)
        screening = _screen(path, mapping, cycle.calendar, uow.members.by_id(), allow_late)
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
        closes = cycle.calendar.milestone(CycleEvent.close_applications)
        replaced += uow.applications.store(year, accepted, closes, now)
        messages = applicant_messages(
            uow, cycle, [a.member_id for a in accepted], screening.refused, now
        )
        uow.audit.append(
            kind="applications_imported",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "imported": len(accepted),
                "replaced": sorted(set(replaced)),
                "rejected": screening.rejected,
                "late_override": allow_late,
            },
        )
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


def _screen(
    path: Path,
    mapping: FormMapping | None,
    calendar: CycleCalendar,
    members: dict[str, Member],
    allow_late: bool,
) -> _Screening:
    """Read and check every line against the roster and the call window."""
    opens = calendar.milestone(CycleEvent.open_call)
    closes = calendar.milestone(CycleEvent.close_applications)
    ends = calendar.milestone(CycleEvent.end_mentoring)
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
        verdict = check_eligibility(
            app,
            member,
            call_opens=opens,
            call_closes=closes,
            program_ends=ends.date(),
            allow_late=allow_late,
        )
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
