"""A cycle's whole story from the audit log and the outbox, as it stands or as it stood.

Fast on a large cycle because it never loads the bulk: messages and tasks are counted in
the database (GROUP BY), and only the audit records that tell the story (transitions,
imports, pairing decisions, calendar and settings changes) are read, through the
``ix_audit_log_cycle_kind`` index; the rest are counted by kind.
"""

import json
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from domain.audit import AuditRecord
from flows.usecases.clock import utcnow
from infra import cycles
from infra.assessment_report import check_format, render_document
from infra.tables import AuditRow, MessageRow, TaskRow
from infra.uow import UnitOfWork

PAIRING_DECISIONS = {
    "pairings_proposed": "proposed",
    "pairing_edited": "edited",
    "pairings_approved": "approved",
    "participant_withdrawn": "withdrawal",
    "pair_ended": "pair ended",
    "repairing_approved": "re-pairing approved",
}
NARRATED_KINDS: tuple[str, ...] = (
    "cycle_created",
    "calendar_changed",
    "transition",
    "applications_imported",
    "matching_settings",
    *PAIRING_DECISIONS,
    "assessment_imported",
)
# Left out of a decision's details: the pair list is shown once (who was paired), the
# fixed/blocked lists as counts, and table digests belong to ``audit verify``.
_BULKY_FIELDS = frozenset({"pair_list", "fixed", "blocked", "digests"})
_MASKS = (
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}( [A-Z]{3,4})?)?"), "DATE"),
    (re.compile(r"(member(?: id)?) (?=\S*\d)\S+"), r"\1 …"),
    (re.compile(r"email \S+@\S+"), "email …"),
)


def _ones(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0: a portable conditional count inside ``sum``."""
    return case((condition, 1), else_=0)


def _narrated_records(session: Session, year: int, as_of: datetime | None) -> list[AuditRow]:
    query = (
        select(AuditRow)
        .where(AuditRow.cycle_year == year, AuditRow.kind.in_(NARRATED_KINDS))
        .order_by(AuditRow.seq)
    )
    if as_of is not None:
        query = query.where(AuditRow.at <= as_of)
    return list(session.scalars(query))


def _record_counts(session: Session, year: int, as_of: datetime | None) -> dict[str, int]:
    query = (
        select(AuditRow.kind, func.count())
        .where(AuditRow.cycle_year == year)
        .group_by(AuditRow.kind)
        .order_by(AuditRow.kind)
    )
    if as_of is not None:
        query = query.where(AuditRow.at <= as_of)
    return {kind: int(n) for kind, n in session.execute(query).all()}


def transition_of(record: AuditRow | AuditRecord) -> dict[str, Any]:
    """One transition record as the audit shows it (``audit YEAR --json``'s ``transitions``)."""
    fields = record.fields
    return {
        "seq": record.seq,
        "event": fields["event"],
        "source": fields["source"],
        "target": fields["target"],
        "actor": record.actor,
        "trigger": fields["trigger"],
        "reason": fields.get("reason"),
        "flow_run_id": fields.get("flow_run_id"),
        "at": record.at.isoformat(),
        "messages": fields.get("messages"),
        "tasks": fields.get("tasks"),
    }


def reason_pattern(reason: str) -> str:
    """A refusal reason without the applicant's particulars, so like reasons group."""
    for pattern, replacement in _MASKS:
        reason = pattern.sub(replacement, reason)
    return reason


def _applications(records: Sequence[AuditRow]) -> dict[str, Any]:
    imports = [r for r in records if r.kind == "applications_imported"]
    reasons: Counter[str] = Counter()
    for record in imports:
        reasons.update(reason_pattern(str(x.get("reason", ""))) for x in record.fields["rejected"])
    imported = sum(int(r.fields["imported"]) for r in imports)
    refused = sum(len(r.fields["rejected"]) for r in imports)
    return {
        "received": imported + refused,
        "imported": imported,
        "refused": refused,
        "refusal_reasons": [{"reason": k, "count": n} for k, n in reasons.most_common()],
        "imports": [
            {
                "seq": r.seq,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "file": r.fields.get("file"),
                "imported": r.fields["imported"],
                "replaced": len(r.fields.get("replaced", [])),
                "refused": len(r.fields["rejected"]),
                "late_override": bool(r.fields.get("late_override", False)),
            }
            for r in imports
        ],
    }


def _decision(record: AuditRow) -> dict[str, Any]:
    fields = record.fields
    details = {k: v for k, v in fields.items() if k not in _BULKY_FIELDS}
    if record.kind == "pairings_proposed":
        details["fixed"] = len(fields.get("fixed", []))
        details["blocked"] = len(fields.get("blocked", []))
    return {
        "seq": record.seq,
        "at": record.at.isoformat(),
        "decision": PAIRING_DECISIONS[record.kind],
        "actor": record.actor,
        "summary": _headline(record),
        **details,
    }


def _paired(records: Sequence[AuditRow]) -> dict[str, Any] | None:
    """Who was paired: the last approval's pair list, less the pairs dissolved since
    (withdrawals, ended pairs), plus the re-pairings approved since."""
    approvals = [i for i, r in enumerate(records) if r.kind == "pairings_approved"]
    if not approvals:
        return None
    last = records[approvals[-1]]
    pairs = [(mentor, mentee) for mentor, mentee in last.fields.get("pair_list", [])]
    for record in records[approvals[-1] + 1 :]:
        f = record.fields
        if record.kind == "participant_withdrawn":
            gone = {(mentor, mentee) for mentor, mentee in f.get("dissolved", [])}
            pairs = [p for p in pairs if p not in gone]
        elif record.kind == "pair_ended":
            pairs = [p for p in pairs if p != (f["mentor_id"], f["mentee_id"])]
        elif record.kind == "repairing_approved":
            pairs.append((f["mentor_id"], f["mentee_id"]))
    return {
        "set_id": last.fields.get("set_id"),
        "approved_by": last.actor,
        "approved_at": last.at.isoformat(),
        "pairs": len(pairs),
        "pair_list": [{"mentor_id": mentor, "mentee_id": mentee} for mentor, mentee in pairs],
    }


def _messages(session: Session, year: int, as_of: datetime | None) -> dict[str, Any]:
    """Counts by kind; at a past moment, what had been queued and sent by then.

    The outbox keeps no time of failure, so ``failed`` is known for the present only;
    at a past moment a message that later failed counts as pending."""
    sent = MessageRow.status == "sent" if as_of is None else MessageRow.sent_at <= as_of
    query = (
        select(
            MessageRow.kind,
            func.count(),
            func.sum(_ones(sent)),
            func.sum(_ones(MessageRow.status == "failed")),
        )
        .where(MessageRow.cycle_year == year)
        .group_by(MessageRow.kind)
        .order_by(MessageRow.kind)
    )
    if as_of is not None:
        query = query.where(MessageRow.queued_at <= as_of)
    by_kind: dict[str, dict[str, int | None]] = {}
    for kind, queued, n_sent, n_failed in session.execute(query).all():
        failed = None if as_of is not None else int(n_failed or 0)
        by_kind[kind] = {
            "queued": int(queued),
            "sent": int(n_sent or 0),
            "failed": failed,
            "pending": int(queued) - int(n_sent or 0) - (failed or 0),
        }
    totals: dict[str, int | None] = {
        name: sum(int(v[name] or 0) for v in by_kind.values())
        for name in ("queued", "sent", "failed", "pending")
    }
    if as_of is not None:
        totals["failed"] = None
    return {"by_kind": by_kind, "total": totals}


def _group_label(audience: str, title: str, count: int) -> str:
    """Participant task titles name the pair; a group of them keeps the words before."""
    return title.partition(" of ")[0] if audience == "participant" and count > 1 else title


def _tasks(session: Session, year: int, at: datetime, as_of: datetime | None) -> dict[str, Any]:
    """Created, done, overdue and open tasks at ``at``, grouped by audience and due date."""
    done = (
        and_(TaskRow.done_at.is_not(None), TaskRow.done_at <= at)
        if as_of is not None
        else TaskRow.done_at.is_not(None)
    )
    not_done = (
        or_(TaskRow.done_at.is_(None), TaskRow.done_at > at)
        if as_of is not None
        else TaskRow.done_at.is_(None)
    )
    query = (
        select(
            TaskRow.audience,
            TaskRow.due_at,
            func.min(TaskRow.title),
            func.count(),
            func.sum(_ones(done)),
            func.sum(_ones(and_(not_done, TaskRow.due_at < at))),
        )
        .where(TaskRow.cycle_year == year)
        .group_by(TaskRow.audience, TaskRow.due_at)
        .order_by(TaskRow.due_at, TaskRow.audience)
    )
    if as_of is not None:
        query = query.where(TaskRow.created_at <= as_of)
    groups: list[dict[str, Any]] = []
    for audience, due_at, title, created, n_done, overdue in session.execute(query).all():
        n_done, overdue = int(n_done or 0), int(overdue or 0)
        groups.append(
            {
                "audience": audience,
                "due_at": due_at.isoformat(),
                "task": _group_label(audience, title, int(created)),
                "created": int(created),
                "done": n_done,
                "overdue": overdue,
                "open": int(created) - n_done - overdue,
            }
        )
    totals = {name: sum(g[name] for g in groups) for name in ("created", "done", "overdue", "open")}
    return {"at": at.isoformat(), "by_due_date": groups, "total": totals}


def _headline(record: AuditRow) -> str:
    """One line saying what a narrated record did."""
    f = record.fields
    if record.kind == "transition":
        return f"{f['event']}: {f['source']} → {f['target']} ({f['trigger']})"
    if record.kind == "applications_imported":
        return (
            f"applications imported from {f.get('file')}: {f['imported']} accepted, "
            f"{len(f['rejected'])} refused"
        )
    if record.kind == "pairings_proposed":
        return f"pairing set {f.get('set_id')} proposed: {f.get('pairs')} pairs"
    if record.kind == "pairing_edited":
        return f"pairing edit: {f.get('edit')} {f.get('mentor_id')} → {f.get('mentee_id')}"
    if record.kind == "pairings_approved":
        return f"pairing set {f.get('set_id')} approved: {f.get('pairs')} pairs"
    if record.kind == "participant_withdrawn":
        dissolved = len(f.get("dissolved", []))
        return f"{f['member_id']} withdrew ({f.get('reason')}); {dissolved} pair(s) dissolved"
    if record.kind == "pair_ended":
        return f"pair {f['mentor_id']} → {f['mentee_id']} ended ({f.get('reason')})"
    if record.kind == "repairing_approved":
        return f"offer {f.get('offer_id')}: {f['mentor_id']} now mentors {f['mentee_id']}"
    if record.kind == "assessment_imported":
        return (
            f"survey responses imported from {f.get('file')}: {f.get('imported')} accepted, "
            f"{len(f.get('rejected', []))} refused"
        )
    if record.kind == "calendar_changed":
        return "calendar changed: " + ", ".join(
            f"{event} → {at}" for event, at in f.get("changes", {}).items()
        )
    return record.kind.replace("_", " ")


def story(
    uow: UnitOfWork, year: int, as_of: datetime | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The cycle in order: transitions, applications, pairing decisions, messages, tasks.

    With ``as_of``, the cycle as it stood then: its state, what had been imported, queued,
    sent, created and done by that moment, and who was paired (the last approval before).
    """
    at = as_of or now or utcnow()
    with uow:
        session = uow.session
        row = cycles.load_row(session, year)
        records = _narrated_records(session, year, as_of)
        transitions = [transition_of(r) for r in records if r.kind == "transition"]
        created = any(r.kind == "cycle_created" for r in records) or as_of is None
        state = transitions[-1]["target"] if transitions else ("planned" if created else None)
        return {
            "year": year,
            "as_of": as_of.isoformat() if as_of else None,
            "state": state,
            "state_now": row.state,
            "transitions": transitions,
            "applications": _applications(records),
            "pairing_decisions": [_decision(r) for r in records if r.kind in PAIRING_DECISIONS],
            "paired": _paired(records),
            "messages": _messages(session, year, as_of),
            "tasks": _tasks(session, year, at, as_of),
            "audit_records": _record_counts(session, year, as_of),
            "timeline": [
                {
                    "seq": r.seq,
                    "at": r.at.isoformat(),
                    "kind": r.kind,
                    "actor": r.actor,
                    "what": _headline(r),
                }
                for r in records
            ],
        }


def render_story(data: dict[str, Any], fmt: str) -> str:
    """The story as a markdown or HTML document, or the dict as JSON."""
    if check_format(fmt) == "json":
        return json.dumps(data, indent=2, default=str) + "\n"
    return render_document(f"story.{fmt}.j2", s=data)
