"""Taking in applications: validate every line, load the valid ones atomically, withdraw."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.applications import (
    Application,
    InvalidApplication,
    check_eligibility,
    parse_application_row,
)
from domain.cycle_states import CycleEvent, CycleState
from domain.errors import DomainError
from domain.intake import combine_forms
from domain.members import Member
from flows.usecases.clock import utcnow
from flows.usecases.effects import applicant_messages
from flows.usecases.members import member_of
from infra import audit_log, cycles
from infra.applications import application_of
from infra.form_mapping import FormMapping, read_rows
from infra.tables import ApplicationRow, MemberRow
from infra.uow import UnitOfWork


@dataclass
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
    result = ApplicationImport(dry_run=dry_run)
    with uow:
        session = uow.session
        row = cycles.load_row(session, year, for_update=True)
        _check_intake_open(year, CycleState(row.state), allow_late)
        calendar = cycles.calendar_of(session, row)
        opens, closes = (
            calendar.due_at(CycleEvent.open_call),
            calendar.due_at(CycleEvent.close_applications),
        )
        ends = calendar.due_at(CycleEvent.end_mentoring)
        assert opens is not None and closes is not None and ends is not None
        members = {m.member_id: member_of(m) for m in session.scalars(select(MemberRow))}
        chosen: dict[str, tuple[int, Application]] = {}
        refused: list[tuple[str, str, str, str]] = []
        for line, raw in read_rows(path, mapping):
            try:
                app = parse_application_row(raw, default_tz=calendar.timezone)
            except InvalidApplication as bad:
                result.rejected.append({"line": line, "reason": bad.reason})
                refused.append(
                    (raw.get("email", ""), raw.get("member_id", ""), "incomplete", bad.reason)
                )
                continue
            verdict = check_eligibility(
                app,
                members.get(app.member_id),
                call_opens=opens,
                call_closes=closes,
                program_ends=ends.date(),
                allow_late=allow_late,
            )
            if not verdict.ok:
                result.rejected.append(
                    {"line": line, "member_id": app.member_id, "reason": verdict.reason}
                )
                refused.append(
                    (
                        app.email,
                        app.member_id,
                        refusal_kind(app, members.get(app.member_id), closes),
                        verdict.reason or "",
                    )
                )
                continue
            result.warnings.extend(
                {"line": line, "member_id": app.member_id, "warning": w} for w in verdict.warnings
            )
            if app.member_id in chosen:
                result.replaced.append(app.member_id)
            chosen[app.member_id] = (line, app)
        result.accepted = [app for _, app in chosen.values()]
        result.imported = len(result.accepted)
        if dry_run:
            return result
        if mapping is not None:
            result.accepted = _combine_with_stored(session, year, result.accepted)
        result.replaced += _store(session, year, result.accepted, closes, now)
        result.messages = applicant_messages(
            session,
            cycles.to_domain(session, row),
            [a.member_id for a in result.accepted],
            refused,
            now,
        )
        audit_log.append(
            session,
            kind="applications_imported",
            cycle_year=year,
            at=now,
            actor=actor,
            fields={
                "file": path.name,
                "imported": result.imported,
                "replaced": sorted(set(result.replaced)),
                "rejected": result.rejected,
                "late_override": allow_late,
            },
            touched=("applications", "messages"),
        )
        uow.commit()
    return result


def refusal_kind(app: Application, member: Member | None, closes: datetime) -> str:
    """Which of the committee's three reasons a refusal gives the applicant."""
    if member is None or not member.is_core_member(app.submitted_at.date()):
        return "not_core_member"
    return "late" if app.submitted_at > closes else "incomplete"


def _check_intake_open(year: int, state: CycleState, allow_late: bool) -> None:
    if state is CycleState.call_open:
        return
    if state is CycleState.applications_closed and allow_late:
        return
    hint = (
        " (the committee can accept late applications with --allow-late)"
        if state is CycleState.applications_closed
        else ""
    )
    raise DomainError(
        f"cycle {year} is in state {state}: applications are accepted only while the call "
        f"is open{hint}"
    )


def _combine_with_stored(session: Session, year: int, apps: list[Application]) -> list[Application]:
    """Role-specific form exports add a role to a member's application rather than
    replace it (see ``domain.intake``)."""
    stored = {
        r.member_id: application_of(r)
        for r in session.scalars(
            select(ApplicationRow).where(
                ApplicationRow.cycle_year == year, ApplicationRow.status == "active"
            )
        )
    }
    return [combine_forms(stored[a.member_id], a) if a.member_id in stored else a for a in apps]


def _store(
    session: Session, year: int, apps: list[Application], closes: datetime, now: datetime
) -> list[str]:
    """Insert or replace each application; returns the members whose earlier one was replaced."""
    existing = {
        r.member_id: r
        for r in session.scalars(select(ApplicationRow).where(ApplicationRow.cycle_year == year))
    }
    replaced = []
    for app in apps:
        values = {
            "submitted_at": app.submitted_at,
            "email": app.email,
            "role": str(app.role),
            "areas": ";".join(sorted(str(a) for a in app.areas)),
            "career_stage": str(app.career_stage),
            "institution": app.institution,
            "library_type": str(app.library_type),
            "time_zone": app.time_zone,
            "goals": app.goals,
            "max_mentees": app.max_mentees,
            "status": "active",
            "late": app.submitted_at > closes,
            "imported_at": now,
            "withdrawn_at": None,
        }
        row = existing.get(app.member_id)
        if row is None:
            session.add(ApplicationRow(cycle_year=year, member_id=app.member_id, **values))
        else:
            replaced.append(app.member_id)
            for name, value in values.items():
                setattr(row, name, value)
    session.flush()
    return replaced
