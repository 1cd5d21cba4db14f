"""A cycle's whole story from the audit log and the outbox, as it stands or as it stood.

Fast on a large cycle because it never loads the bulk: messages and tasks are counted in
the database (GROUP BY), and only the audit records that tell the story (transitions,
imports, pairing decisions, calendar and settings changes) are read, through the
``ix_audit_log_cycle_kind`` index; the rest are counted by kind.
"""

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.audit import AuditRecord
from domain.cycle_states import CycleState
from domain.followups import TaskAudience
from flows.usecases.audit import RecordedTransition, transition_of
from flows.usecases.clock import utcnow
from infra.assessment_report import check_format, render_document
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
THROUGH_WORDS = {"manual": " in the Prefect UI"}
"""How an import's headline names the way it came, by its record's ``trigger``; the
command line's (``import``, or none) says nothing more."""
# Left out of a decision's details: the pair list is shown once (who was paired), the
# fixed/blocked lists as counts, and table digests belong to ``audit verify``.
_BULKY_FIELDS = frozenset({"pair_list", "fixed", "blocked", "digests"})
_MASKS = (
    (re.compile(r"'[^']*'"), "'…'"),
    (re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}( [A-Z]{3,4})?)?"), "DATE"),
    (re.compile(r"(member(?: id)?) (?=\S*\d)\S+"), r"\1 …"),
    (re.compile(r"email \S+@\S+"), "email …"),
)


def _fields(record: AuditRecord) -> Mapping[str, Any]:
    """A record's fields as the JSON they were stored as."""
    return record.fields


def reason_pattern(reason: str) -> str:
    """A refusal reason without the applicant's particulars, so like reasons group."""
    for pattern, replacement in _MASKS:
        reason = pattern.sub(replacement, reason)
    return reason


def _applications(records: Sequence[AuditRecord]) -> dict[str, Any]:
    imports = [(r, _fields(r)) for r in records if r.kind == "applications_imported"]
    reasons: Counter[str] = Counter()
    for _, fields in imports:
        reasons.update(reason_pattern(str(x.get("reason", ""))) for x in fields["rejected"])
    imported = sum(int(f["imported"]) for _, f in imports)
    refused = sum(len(f["rejected"]) for _, f in imports)
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
                "file": f.get("file"),
                "through": "site" if f.get("trigger") == "site" else "import",
                "trigger": f.get("trigger"),
                "flow_run_id": f.get("flow_run_id"),
                "imported": f["imported"],
                "replaced": len(f.get("replaced", [])),
                "refused": len(f["rejected"]),
                "late_override": bool(f.get("late_override", False)),
            }
            for r, f in imports
        ],
    }


def _decision(record: AuditRecord) -> dict[str, Any]:
    fields = _fields(record)
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


def _paired(records: Sequence[AuditRecord]) -> dict[str, Any] | None:
    """Who was paired: the last approval's pair list, less the pairs dissolved since
    (withdrawals, ended pairs), plus the re-pairings approved since."""
    approvals = [i for i, r in enumerate(records) if r.kind == "pairings_approved"]
    if not approvals:
        return None
    last = records[approvals[-1]]
    pairs = [(mentor, mentee) for mentor, mentee in _fields(last).get("pair_list", [])]
    for record in records[approvals[-1] + 1 :]:
        f = _fields(record)
        if record.kind == "participant_withdrawn":
            gone = {(mentor, mentee) for mentor, mentee in f.get("dissolved", [])}
            pairs = [p for p in pairs if p not in gone]
        elif record.kind == "pair_ended":
            pairs = [p for p in pairs if p != (f["mentor_id"], f["mentee_id"])]
        elif record.kind == "repairing_approved":
            pairs.append((f["mentor_id"], f["mentee_id"]))
    return {
        "set_id": _fields(last).get("set_id"),
        "approved_by": last.actor,
        "approved_at": last.at.isoformat(),
        "pairs": len(pairs),
        "pair_list": [{"mentor_id": mentor, "mentee_id": mentee} for mentor, mentee in pairs],
    }


def _messages(uow: UnitOfWork, year: int, as_of: datetime | None) -> dict[str, Any]:
    """Counts by kind; at a past moment, what had been queued and sent by then.

    The outbox keeps no time of failure, so ``failed`` is known for the present only;
    at a past moment a message that later failed counts as pending."""
    by_kind: dict[str, dict[str, int | None]] = {}
    for count in uow.outbox.counts_by_kind(year, as_of):
        failed = None if as_of is not None else count.failed
        by_kind[count.kind] = {
            "queued": count.queued,
            "sent": count.sent,
            "failed": failed,
            "pending": count.queued - count.sent - (failed or 0),
        }
    totals: dict[str, int | None] = {
        name: sum(int(v[name] or 0) for v in by_kind.values())
        for name in ("queued", "sent", "failed", "pending")
    }
    if as_of is not None:
        totals["failed"] = None
    return {"by_kind": by_kind, "total": totals}


def _group_label(audience: TaskAudience, title: str, count: int) -> str:
    """Participant task titles name the pair; a group of them keeps the words before."""
    return (
        title.partition(" of ")[0] if audience is TaskAudience.participant and count > 1 else title
    )


def _tasks(uow: UnitOfWork, year: int, at: datetime, as_of: datetime | None) -> dict[str, Any]:
    """Created, done, overdue and open tasks at ``at``, grouped by audience and due date."""
    groups: list[dict[str, Any]] = [
        {
            "audience": str(g.audience),
            "due_at": g.due_at.isoformat(),
            "task": _group_label(g.audience, g.title, g.created),
            "created": g.created,
            "done": g.done,
            "overdue": g.overdue,
            "open": g.created - g.done - g.overdue,
        }
        for g in uow.tasks.counts_by_due_date(year, at, as_of)
    ]
    totals = {name: sum(g[name] for g in groups) for name in ("created", "done", "overdue", "open")}
    return {"at": at.isoformat(), "by_due_date": groups, "total": totals}


def _headline(record: AuditRecord) -> str:
    """One line saying what a narrated record did."""
    f = _fields(record)
    if record.kind == "transition":
        return f"{f['event']}: {f['source']} → {f['target']} ({f['trigger']})"
    if record.kind == "applications_imported" and f.get("trigger") == "site":
        return f"application made on the site by {record.actor}: {f['imported']} accepted"
    through = THROUGH_WORDS.get(str(f.get("trigger")), "")
    if record.kind == "applications_imported":
        return (
            f"applications imported{through} from {f.get('file')}: {f['imported']} accepted, "
            f"{len(f['rejected'])} refused"
        )
    if record.kind == "pairings_proposed":
        return f"pairing set {f.get('set_id')} proposed: {f.get('pairs')} pairs"
    if record.kind == "pairing_edited":
        return f"pairing edit: {f.get('edit')} {f.get('mentor_id')} → {f.get('mentee_id')}"
    if record.kind == "pairings_approved":
        done = "".join(f"; task “{title}” done" for title in f.get("tasks_done", []))
        return f"pairing set {f.get('set_id')} approved: {f.get('pairs')} pairs{done}"
    if record.kind == "participant_withdrawn":
        dissolved = len(f.get("dissolved", []))
        return f"{f['member_id']} withdrew ({f.get('reason')}); {dissolved} pair(s) dissolved"
    if record.kind == "pair_ended":
        return f"pair {f['mentor_id']} → {f['mentee_id']} ended ({f.get('reason')})"
    if record.kind == "repairing_approved":
        return f"offer {f.get('offer_id')}: {f['mentor_id']} now mentors {f['mentee_id']}"
    if record.kind == "assessment_imported":
        return (
            f"survey responses imported{through} from {f.get('file')}: "
            f"{f.get('imported')} accepted, {len(f.get('rejected', []))} refused"
        )
    if record.kind == "calendar_changed":
        return "calendar changed: " + ", ".join(
            f"{event} → {at}" for event, at in f.get("changes", {}).items()
        )
    return record.kind.replace("_", " ")


@dataclass(frozen=True)
class CycleStory:
    """The story ``mentoring audit YEAR`` tells; ``as_dict`` is its JSON, which the md and
    html documents are rendered from."""

    year: int
    as_of: datetime | None
    state: CycleState | None
    state_now: CycleState
    transitions: list[RecordedTransition]
    applications: dict[str, Any]
    pairing_decisions: list[dict[str, Any]]
    paired: dict[str, Any] | None
    messages: dict[str, Any]
    tasks: dict[str, Any]
    audit_records: dict[str, int]
    timeline: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "state": None if self.state is None else str(self.state),
            "state_now": str(self.state_now),
            "transitions": [t.as_dict() for t in self.transitions],
            "applications": self.applications,
            "pairing_decisions": self.pairing_decisions,
            "paired": self.paired,
            "messages": self.messages,
            "tasks": self.tasks,
            "audit_records": self.audit_records,
            "timeline": self.timeline,
        }


def story(
    uow: UnitOfWork, year: int, as_of: datetime | None = None, *, now: datetime | None = None
) -> CycleStory:
    """The cycle in order: transitions, applications, pairing decisions, messages, tasks.

    With ``as_of``, the cycle as it stood then: its state, what had been imported, queued,
    sent, created and done by that moment, and who was paired (the last approval before).
    """
    at = as_of or now or utcnow()
    with uow:
        state_now = uow.cycles.state_of(year)
        records = uow.audit.of_kinds(year, NARRATED_KINDS, as_of)
        transitions = [transition_of(r) for r in records if r.kind == "transition"]
        created = any(r.kind == "cycle_created" for r in records) or as_of is None
        state = (
            CycleState(transitions[-1].target)
            if transitions
            else (CycleState.planned if created else None)
        )
        return CycleStory(
            year=year,
            as_of=as_of,
            state=state,
            state_now=state_now,
            transitions=transitions,
            applications=_applications(records),
            pairing_decisions=[_decision(r) for r in records if r.kind in PAIRING_DECISIONS],
            paired=_paired(records),
            messages=_messages(uow, year, as_of),
            tasks=_tasks(uow, year, at, as_of),
            audit_records=uow.audit.counts_by_kind(year, as_of),
            timeline=[
                {
                    "seq": r.seq,
                    "at": r.at.isoformat(),
                    "kind": r.kind,
                    "actor": r.actor,
                    "what": _headline(r),
                }
                for r in records
            ],
        )


def render_story(told: CycleStory, fmt: str) -> str:
    """The story as a markdown or HTML document, or as JSON."""
    data = told.as_dict()
    if check_format(fmt) == "json":
        return json.dumps(data, indent=2, default=str) + "\n"
    return render_document(f"story.{fmt}.j2", s=data)
