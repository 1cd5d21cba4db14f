"""Everything the program holds about one member, for their "my data" download.

Nothing about any other member is given beyond a partner's name: messages are listed
without bodies, audit records only where the member is the actor or the subject, and
their fields without other members' ids or lists.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from domain.audit import AuditRecord
from domain.members import Member
from domain.pairing_status import PairingSetStatus
from flows.usecases.standing import NotOnRoster, named
from infra.uow import UnitOfWork

__all__ = ["MemberData", "NotOnRoster", "member_data"]


@dataclass(frozen=True)
class MemberData:
    """The member's data, section by section; :meth:`as_json` is the download."""

    member: dict[str, Any]
    applications: list[dict[str, Any]] = field(default_factory=list)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    assessment_responses: list[dict[str, Any]] = field(default_factory=list)
    sign_in_links: list[dict[str, Any]] = field(default_factory=list)
    audit_records: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=_plain, ensure_ascii=False)


def member_data(uow: UnitOfWork, member_id: str) -> MemberData:
    """What the program holds about ``member_id`` (:class:`NotOnRoster` if nobody)."""
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            raise NotOnRoster(member_id)
        enrolments = uow.applications.of_member(member_id)
        years = [e.cycle_year for e in enrolments]
        all_years = uow.cycles.years()
        pairs, names = _pairs(uow, years, member)
        return MemberData(
            member=asdict(member),
            applications=[
                {
                    "cycle_year": e.cycle_year,
                    "source": uow.applications.source_of(e.cycle_year, member_id),
                    "status": str(e.status),
                    "late": e.late,
                    "stored_at": e.imported_at,
                    "withdrawn_at": e.withdrawn_at,
                    **_application(asdict(e.application)),
                }
                for e in enrolments
            ],
            pairs=pairs,
            tasks=[
                {
                    "cycle_year": t.cycle_year,
                    "title": named(t.title, names),
                    "due_at": t.due_at,
                    "done_at": t.done_at,
                }
                for year in all_years
                for t in uow.tasks.of_cycle(year)
                if t.member_id == member_id
            ],
            messages=[
                {
                    "cycle_year": m.cycle_year,
                    "kind": m.kind,
                    "subject": m.subject,
                    "status": str(m.status),
                    "queued_at": m.queued_at,
                    "sent_at": m.sent_at,
                }
                for m in uow.outbox.listing()
                if _to_member(m.key, m.to_address, member)
            ],
            assessment_responses=[
                {"cycle_year": year, **asdict(r)}
                for year in years
                for r in uow.responses.of_cycle(year)
                if r.member_id == member_id
            ],
            sign_in_links=[
                {
                    "created_at": link.created_at,
                    "expires_at": link.expires_at,
                    "used_at": link.used_at,
                }
                for link in uow.sign_in_links.of_member(member_id)
            ],
            audit_records=[
                _record(r, member_id) for r in uow.audit.records() if _concerns(r, member_id)
            ],
        )


def _application(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out["areas"] = sorted(str(a) for a in out["areas"])
    return {
        k: str(v) if k in ("role", "career_stage", "library_type") else v for k, v in out.items()
    }


def _pairs(
    uow: UnitOfWork, years: list[int], member: Member
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The member's pairs (partner by name only), and the names of everyone in them."""
    member_id = member.member_id
    out = []
    names = {member_id: member.full_name}
    for year in years:
        approved = uow.pairings.latest_set(year, PairingSetStatus.approved)
        if approved is None:
            continue
        for pair in uow.pairings.pairs_of(approved.id):
            if member_id not in pair.members:
                continue
            mentor = pair.mentor_id == member_id
            partner_id = pair.mentee_id if mentor else pair.mentor_id
            partner = uow.members.get(partner_id)
            names[partner_id] = partner.full_name if partner else "a former partner"
            out.append(
                {
                    "cycle_year": year,
                    "role": "mentor" if mentor else "mentee",
                    "partner_name": partner.full_name if partner else "",
                    "status": str(pair.status),
                    "ended_at": pair.ended_at,
                }
            )
    return out, names


def _to_member(key: str, address: str, member: Member) -> bool:
    parts = key.split("/")
    return (len(parts) > 2 and parts[2] == member.member_id) or (
        address.strip().casefold() == member.email.strip().casefold()
    )


def _concerns(record: AuditRecord, member_id: str) -> bool:
    fields = record.fields if isinstance(record.fields, Mapping) else {}
    return record.actor == member_id or fields.get("member_id") == member_id


def _record(record: AuditRecord, member_id: str) -> dict[str, Any]:
    """The record without what names other members: lists, tables, and other ids."""
    fields = record.fields if isinstance(record.fields, Mapping) else {}
    kept = {
        k: v
        for k, v in fields.items()
        if not isinstance(v, (list, dict)) and (not k.endswith("_id") or v == member_id)
    }
    return {
        "seq": record.seq,
        "kind": record.kind,
        "cycle_year": record.cycle_year,
        "at": record.at,
        "actor": record.actor,
        "fields": kept,
    }


def _plain(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
