"""The committee names pairs by name or id when reviewing, and approving closes its task."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.errors import DomainError
from domain.members import ROSTER_FIELDS
from domain.pairing_status import PairingSetStatus
from flows.usecases import audit, followups, members, pairing_names, pairings
from flows.usecases.pairing_names import Person
from infra.uow import UnitOfWork
from tests.builders import OCT_1, cycle_with_applications

YEAR = 2026
OCT_3 = datetime(2026, 10, 3, 15, tzinfo=UTC)


def _proposed(uow: UnitOfWork) -> tuple[dict[str, Person], list[tuple[str, str]]]:
    """The applicants by id and the proposed pairs of people with names of their own,
    mentees who apply only as mentees first (each is in exactly one pair)."""
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    people = pairing_names.people(uow, YEAR)
    with uow:
        latest = uow.pairings.latest_set(YEAR, PairingSetStatus.proposed)
        assert latest is not None
        pairs = [p.members for p in uow.pairings.pairs_of(latest.id)]
    names = [p.name for p in people.values()]
    pairs = [p for p in pairs if all(names.count(people[m].name) == 1 for m in p)]
    pairs.sort(key=lambda p: people[p[1]].applied_as != "mentee")
    return people, pairs


def _edits(uow: UnitOfWork) -> list[tuple[str, str, str, str]]:
    records = audit.history(uow, YEAR).as_dict()["records"]
    return [
        (r["actor"], r["fields"]["edit"], r["fields"]["mentor_id"], r["fields"]["mentee_id"])
        for r in records
        if r["kind"] == "pairing_edited"
    ]


def test_pairs_named_by_name_or_id_are_edited_and_said(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    people, pairs = _proposed(uow)
    (m1, e1), (m2, e2), (m3, e3) = pairs[:3]
    done = pairing_names.edit_by_name(
        uow,
        YEAR,
        remove=[f"{people[m1].name.upper()} :  {people[e1].name}", people[e3].name],
        keep=[f"{m2} → {people[e2].name}"],
        actor="Pat Chair",
        now=OCT_3,
    )
    assert [d.said for d in done] == [
        f"Removed {people[m1].name} ({m1}) → {people[e1].name} ({e1})",
        f"Removed {people[m3].name} ({m3}) → {people[e3].name} ({e3})",
        f"Kept {people[m2].name} ({m2}) → {people[e2].name} ({e2})",
    ]
    assert _edits(uow) == [
        ("Pat Chair", "block", m1, e1),
        ("Pat Chair", "block", m3, e3),
        ("Pat Chair", "fix", m2, e2),
    ]
    with uow:
        assert uow.pairings.edit_kind(YEAR, m1, e1) == "block"
        assert uow.pairings.edit_kind(YEAR, m2, e2) == "fix"


def _rename(uow: UnitOfWork, folder: Path, member_id: str, first: str, last: str) -> None:
    """The roster now names ``member_id`` as ``first last``."""
    with uow:
        member = uow.members.get(member_id)
    assert member is not None
    roster = folder / "renamed.csv"
    roster.write_text(
        ",".join(ROSTER_FIELDS)
        + f"\n{member_id},{first},{last},{member.email},{member.institution},"
        + f"{member.membership_expires.isoformat()}\n"
    )
    members.import_roster(uow, roster, actor="chair", now=OCT_1)


@pytest.mark.parametrize(
    ("named", "refusal"),
    [
        ("Ada  Lovelace", "'Ada Lovelace' is the name of 2 applicants in cycle 2026 ("),
        (
            "Grace Hopper",
            "no applicant in cycle 2026 is named 'Grace Hopper'; write the name as the "
            "pairing list shows it, or the member id",
        ),
    ],
)
def test_an_ambiguous_or_unknown_name_is_refused_and_nothing_changes(
    uow: UnitOfWork, tmp_path: Path, named: str, refusal: str
) -> None:
    cycle_with_applications(uow)
    people, pairs = _proposed(uow)
    mentor_id, mentee_id = pairs[0]
    first, second = sorted(set(people) - {mentor_id, mentee_id})[:2]
    _rename(uow, tmp_path, first, "Ada", "Lovelace")
    _rename(uow, tmp_path, second, "Ada", "Lovelace")
    with pytest.raises(DomainError) as refused:
        pairing_names.edit_by_name(
            uow,
            YEAR,
            remove=[f"{mentor_id}:{mentee_id}", f"{named} : {people[mentee_id].name}"],
            actor="Pat Chair",
            now=OCT_3,
        )
    assert str(refused.value).startswith(refusal)
    assert "\n" not in str(refused.value)
    assert _edits(uow) == []


def test_a_mentor_of_two_named_alone_is_refused_naming_them(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    people, pairs = _proposed(uow)
    mentors = [m for m, _ in pairs]
    busy = next(m for m in mentors if mentors.count(m) > 1)
    with pytest.raises(DomainError, match="name both people, as Mentor : Mentee") as refused:
        pairing_names.edit_by_name(uow, YEAR, keep=[busy], actor="Pat Chair", now=OCT_3)
    assert str(refused.value).startswith(f"{people[busy].name} ({busy}) is in ")
    assert _edits(uow) == []


def test_approving_the_set_closes_the_review_tasks(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    review = ("Approve the pairing set", "Review applications as they arrive")

    def review_tasks() -> list[followups.TaskView]:
        tasks = followups.list_tasks(uow, YEAR, now=OCT_3)
        return sorted((t for t in tasks if t.title in review), key=lambda t: t.title)

    assert [t.done_at for t in review_tasks()] == [None, None]
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    approved = pairings.approve(uow, YEAR, actor="Pat Chair", now=OCT_3)
    assert approved.tasks_done == review
    assert approved.message.endswith(
        "approved by Pat Chair; task “Approve the pairing set” done; task “Review "
        "applications as they arrive” done"
    )
    tasks = review_tasks()
    assert [(t.done_at, t.done_by) for t in tasks] == [(OCT_3, "Pat Chair")] * 2
    records = audit.history(uow, YEAR).as_dict()["records"]
    closing = [r for r in records if r["kind"] == "task_done"]
    assert sorted((r["actor"], r["fields"]["task"]) for r in closing) == [
        ("Pat Chair", t.key) for t in sorted(tasks, key=lambda t: t.key)
    ]
    [approval] = [r for r in records if r["kind"] == "pairings_approved"]
    assert approval["fields"]["tasks_done"] == list(review)
    assert approval["seq"] == 1 + max(r["seq"] for r in closing)
    assert audit.verify(uow).problems == []
