"""Withdrawals, pairs the committee ends, and re-pairing, on SQLite and PostgreSQL, with the
sample roster and applications (a paired cycle of 60 pairs)."""

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import select, update
from typer.testing import CliRunner

from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError, MissingValue
from domain.matching import PairingRules, score_pair
from domain.offers import StoredOffer
from domain.pairing_rules import violations
from flows.cli.applications import applications_withdraw
from flows.cli.hints import hint_for
from flows.cli.rematch import repairing_app
from flows.usecases import audit, cycles, pairings, rematch, withdrawing
from flows.usecases.audit_story import story
from flows.usecases.matching_inputs import matching_inputs
from infra.tables import ApplicationRow, MemberRow, MessageRow, PairRow, RepairingOfferRow, TaskRow
from infra.uow import UnitOfWork
from tests.builders import OCT_1, cycle_with_applications, paired_cycle

YEAR = 2026
NOV_10 = datetime(2026, 11, 10, 12, tzinfo=UTC)
NOV_12 = datetime(2026, 11, 12, 12, tzinfo=UTC)
DEC_10 = datetime(2026, 12, 10, 12, tzinfo=UTC)
COMMITTEE = "mentoring@core.example.org"
# In the sample's approved set: C100156 mentors three mentees; C100050 mentors the two
# senior mentees no other senior mentor has room for; C100000 applied as both and is paired
# in both roles.
THREE_MENTEES = ("C100159", "C100270", "C100318")


@pytest.fixture
def paired(uow: UnitOfWork) -> UnitOfWork:
    return paired_cycle(uow)


def active_pairs(uow: UnitOfWork) -> list[tuple[str, str]]:
    with uow:
        return [p.members for p in uow.pairings.approved_pairs(YEAR)]


def messages_since(uow: UnitOfWork, moment: datetime) -> list[MessageRow]:
    with uow:
        return list(
            uow.session.scalars(
                select(MessageRow).where(MessageRow.queued_at >= moment).order_by(MessageRow.id)
            )
        )


def email_of(uow: UnitOfWork, member_id: str) -> str:
    with uow:
        member = uow.session.get(MemberRow, member_id)
        assert member is not None
        return member.email


def offers_of(uow: UnitOfWork) -> list[StoredOffer]:
    return list(rematch.open_offers(uow, YEAR).offers)


def audit_kinds(uow: UnitOfWork) -> list[str]:
    return [r.kind for r in audit.history(uow, YEAR).records]


def verify_ok(uow: UnitOfWork) -> None:
    assert audit.verify(uow).problems == []


def fire(uow: UnitOfWork, event: CycleEvent, now: datetime) -> None:
    cycles.fire_event(uow, YEAR, event, actor="s", trigger=Trigger.schedule, now=now)


def best_mentors(
    uow: UnitOfWork, mentee_id: str, taken: list[tuple[str, str]], ended: set[tuple[str, str]]
) -> tuple[float, set[str]]:
    """Independently of the code under test: the top score among allowed mentors with room
    (``taken`` = pairs and earlier offers), and every mentor reaching it."""
    with uow:
        given = matching_inputs(uow, YEAR)
    apps, weights, ref = {a.member_id: a for a in given.apps}, given.weights, given.ref
    load = Counter(m for m, _ in taken)
    mentee = apps[mentee_id]
    scores = {
        a.member_id: score_pair(a, mentee, weights, ref).total
        for a in apps.values()
        if a.is_mentor
        and load[a.member_id] < (a.max_mentees or 0)
        and not violations(a, mentee, PairingRules())
        and (a.member_id, mentee_id) not in ended
    }
    top = max(scores.values())
    return top, {m for m, s in scores.items() if s == top}


# --- before pairing ---------------------------------------------------------------------------


def test_withdrawing_before_pairing_leaves_the_applicant_out_of_the_proposal(
    uow: UnitOfWork,
) -> None:
    cycle_with_applications(uow)
    result = withdrawing.withdraw(
        uow, YEAR, "C100270", actor="Pat Chair", reason="new job", now=OCT_1
    )
    assert result.changed is True and result.dissolved == ()
    view = pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    listed = {p.mentee_id for p in view.pairs} | {u.member_id for u in view.unmatched}
    assert "C100270" not in listed
    with uow:
        app = uow.session.scalars(
            select(ApplicationRow).where(ApplicationRow.member_id == "C100270")
        ).one()
        assert (app.status, app.withdrawn_at is not None) == ("withdrawn", True)
    again = withdrawing.withdraw(uow, YEAR, "C100270", actor="Pat Chair", reason="x", now=OCT_1)
    assert again.changed is False and "already withdrew" in again.message
    assert audit_kinds(uow).count("participant_withdrawn") == 1
    verify_ok(uow)


def test_a_withdrawal_sets_aside_the_proposal_it_was_computed_with(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    pairings.propose(uow, YEAR, actor="chair", now=OCT_1)
    withdrawing.withdraw(uow, YEAR, "C100270", actor="Pat Chair", reason="new job", now=OCT_1)
    with pytest.raises(DomainError, match="no proposed pairing set"):
        pairings.approve(uow, YEAR, actor="chair", now=OCT_1)
    (notice,) = [m for m in messages_since(uow, OCT_1) if m.kind == "committee_notice"]
    assert notice.to_address == COMMITTEE
    assert "pairings propose 2026" in notice.text_body


# --- after pairings are announced -------------------------------------------------------------


def test_a_mentee_withdrawing_dissolves_only_that_pair(paired: UnitOfWork) -> None:
    before = active_pairs(paired)
    result = withdrawing.withdraw(
        paired, YEAR, "C100270", actor="Pat Chair", reason="family reasons", now=NOV_10
    )
    assert result.as_dict()["dissolved"] == [{"mentor_id": "C100156", "mentee_id": "C100270"}]
    after = active_pairs(paired)
    assert set(before) - set(after) == {("C100156", "C100270")}
    assert {("C100156", "C100159"), ("C100156", "C100318")} <= set(after)
    with paired:
        ended = paired.session.scalars(
            select(PairRow).where(PairRow.mentee_id == "C100270", PairRow.status != "active")
        ).one()
        assert (ended.status, ended.ended_reason) == ("withdrawn", "family reasons")

    sent = {(m.kind, m.to_address): m for m in messages_since(paired, NOV_10)}
    assert set(sent) == {
        ("committee_notice", COMMITTEE),
        ("partner_left", email_of(paired, "C100156")),
    }
    committee = sent[("committee_notice", COMMITTEE)]
    assert "C100270" in committee.text_body and "family reasons" in committee.text_body
    note = sent[("partner_left", email_of(paired, "C100156"))]
    assert "has withdrawn from the program" in note.text_body
    assert "looking for a new mentee" in note.subject
    assert "Your other pairings in the program continue" in note.text_body

    (offer,) = offers_of(paired)
    assert (offer.member_id, offer.role, offer.mentee_id) == ("C100156", "mentor", None)
    assert offer.reason is not None
    assert offer.reason.startswith("no compatible mentee is waiting")
    assert "participant_withdrawn" in audit_kinds(paired)
    verify_ok(paired)


def test_a_mentor_withdrawing_gets_each_mentee_the_best_allowed_mentor(
    paired: UnitOfWork,
) -> None:
    before = active_pairs(paired)
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    assert set(before) - set(active_pairs(paired)) == {("C100156", e) for e in THREE_MENTEES}
    offers = offers_of(paired)
    assert sorted(o.member_id for o in offers) == sorted(THREE_MENTEES)
    taken = active_pairs(paired)
    for offer in offers:
        top, best = best_mentors(paired, offer.member_id, taken, set())
        assert offer.mentor_id in best and offer.score == top
        taken.append((offer.mentor_id, offer.mentee_id))
    notes = [m for m in messages_since(paired, NOV_10) if m.kind == "partner_left"]
    assert sorted(m.to_address for m in notes) == sorted(email_of(paired, e) for e in THREE_MENTEES)
    verify_ok(paired)


def test_approving_an_offer_makes_the_pair_active_and_tells_both(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    first = offers_of(paired)[0]
    mentor, mentee = first.mentor_id, first.mentee_id
    result = rematch.approve(paired, YEAR, first.id, actor="Pat Chair", now=NOV_12)
    assert result.changed is True
    assert (mentor, mentee) in active_pairs(paired)
    notices = [m for m in messages_since(paired, NOV_12) if m.kind == "pairing_notice"]
    assert sorted(m.to_address for m in notices) == sorted(
        [email_of(paired, mentor), email_of(paired, mentee)]
    )
    again = rematch.approve(paired, YEAR, first.id, actor="Sam", now=NOV_12)
    assert again.changed is False and "already approved by Pat Chair" in again.message
    by_pair = rematch.approve(
        paired, YEAR, mentor_id=mentor, mentee_id=mentee, actor="Sam", now=NOV_12
    )
    assert by_pair.changed is False
    assert len([m for m in messages_since(paired, NOV_12) if m.kind == "pairing_notice"]) == 2
    assert [o.id for o in offers_of(paired)] == [o.id for o in offers_of(paired)[:2]]
    assert first.id not in [o.id for o in offers_of(paired)]
    with paired:
        apps = {a.member_id: a for a in paired.applications.active(YEAR)}
    promised = Counter(m for m, _ in active_pairs(paired)) + Counter(
        o.mentor_id for o in offers_of(paired)
    )
    assert all(n <= (apps[m].max_mentees or 0) for m, n in promised.items())
    assert audit_kinds(paired).count("repairing_approved") == 1
    verify_ok(paired)


def test_ending_a_pair_offers_the_mentor_the_best_waiting_mentee(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100050", actor="Pat Chair", reason="retired", now=NOV_10)
    waiting = {o.member_id: o for o in offers_of(paired)}
    assert set(waiting) == {"C100138", "C100145"}
    assert all(o.mentor_id is None for o in waiting.values())
    assert all("on the waiting list at position" in (o.reason or "") for o in waiting.values())

    result = rematch.end_pair(
        paired, YEAR, "C100136", "C100304", actor="Pat Chair", reason="no chemistry", now=NOV_12
    )
    assert result.changed is True
    assert ("C100136", "C100304") not in active_pairs(paired)
    offers = {(o.member_id, o.role): o for o in offers_of(paired)}
    for_mentor = offers[("C100136", "mentor")]
    with paired:
        given = matching_inputs(paired, YEAR)
    apps, weights, ref = {a.member_id: a for a in given.apps}, given.weights, given.ref
    scores = {
        e: score_pair(apps["C100136"], apps[e], weights, ref).total
        for e in ("C100138", "C100145")
        if not violations(apps["C100136"], apps[e], PairingRules())
    }
    assert for_mentor.mentee_id in scores
    assert for_mentor.score == max(scores.values())
    picked = for_mentor.mentee_id
    assert offers[(picked, "mentee")].reason == (
        "already offered to mentor C100136 in an earlier offer"
    )
    for_mentee = offers[("C100304", "mentee")]
    assert for_mentee.mentor_id not in (None, "C100136")
    taken = [*active_pairs(paired), ("C100136", picked)]
    top, best = best_mentors(paired, "C100304", taken, {("C100136", "C100304")})
    assert for_mentee.mentor_id in best and for_mentee.score == top

    notes = [m for m in messages_since(paired, NOV_12) if m.kind == "partner_left"]
    assert sorted(m.to_address for m in notes) == sorted(
        [email_of(paired, "C100136"), email_of(paired, "C100304")]
    )
    assert all("The committee has ended your pairing" in m.text_body for m in notes)
    (notice,) = [m for m in messages_since(paired, NOV_12) if m.kind == "committee_notice"]
    assert notice.to_address == COMMITTEE and "no chemistry" in notice.text_body

    rematch.approve(paired, YEAR, for_mentor.id, actor="Pat Chair", now=NOV_12)
    assert ("C100136", picked) in active_pairs(paired)
    assert picked not in {o.member_id for o in offers_of(paired)}
    again = rematch.end_pair(
        paired, YEAR, "C100136", "C100304", actor="Pat Chair", reason="x", now=NOV_12
    )
    assert again.changed is False
    kinds = audit_kinds(paired)
    assert kinds.count("pair_ended") == 1 and kinds.count("repairing_approved") == 1
    verify_ok(paired)


def test_an_offer_whose_candidate_withdraws_is_superseded(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    stale = offers_of(paired)[0]
    withdrawing.withdraw(
        paired, YEAR, stale.mentor_id, actor="Pat Chair", reason="moved", now=NOV_12
    )
    fresh = {o.member_id: o for o in offers_of(paired)}[stale.member_id]
    assert fresh.id != stale.id and fresh.mentor_id != stale.mentor_id
    with pytest.raises(
        DomainError, match=rf"^offer {stale.id} was superseded by offer {fresh.id}; "
    ):
        rematch.approve(paired, YEAR, stale.id, actor="Pat Chair", now=NOV_12)
    verify_ok(paired)


def test_an_offer_without_a_candidate_cannot_be_approved(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100270", actor="Pat Chair", reason="x", now=NOV_10)
    (offer,) = offers_of(paired)
    with pytest.raises(DomainError, match=rf"offer {offer.id} has no candidate to approve"):
        rematch.approve(paired, YEAR, offer.id, actor="Pat Chair", now=NOV_12)
    with pytest.raises(DomainError, match="has no re-pairing offer 999"):
        rematch.approve(paired, YEAR, 999, actor="Pat Chair", now=NOV_12)


def test_a_both_participant_can_leave_one_role_and_keep_the_other(paired: UnitOfWork) -> None:
    mine = [p for p in active_pairs(paired) if "C100000" in p]
    as_mentor = [p for p in mine if p[0] == "C100000"]
    as_mentee = [p for p in mine if p[1] == "C100000"]
    assert as_mentor and as_mentee
    withdrawing.withdraw(
        paired, YEAR, "C100000", role="mentor", actor="Pat Chair", reason="busy", now=NOV_10
    )
    left = [p for p in active_pairs(paired) if "C100000" in p]
    assert left == as_mentee
    with paired:
        app = paired.session.scalars(
            select(ApplicationRow).where(ApplicationRow.member_id == "C100000")
        ).one()
        assert (app.status, app.role, app.max_mentees) == ("active", "mentee", None)
    again = withdrawing.withdraw(
        paired, YEAR, "C100000", role="mentor", actor="Pat Chair", reason="busy", now=NOV_10
    )
    assert again.changed is False and "already withdrew as mentor" in again.message
    with pytest.raises(DomainError, match="applied as mentee, not as mentor"):
        withdrawing.withdraw(
            paired, YEAR, "C100270", role="mentor", actor="Pat Chair", reason="x", now=NOV_10
        )
    verify_ok(paired)


def test_during_mentoring_the_pairs_tasks_follow_the_change(paired: UnitOfWork) -> None:
    fire(paired, CycleEvent.start_orientation, datetime(2026, 11, 21, 12, tzinfo=UTC))
    fire(paired, CycleEvent.start_mentoring, datetime(2026, 12, 2, 12, tzinfo=UTC))
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=DEC_10)
    with paired:
        dissolved = paired.session.scalars(
            select(TaskRow).where(TaskRow.key.endswith("/C100156/C100159"))
        ).all()
    assert dissolved and all(t.done_at is not None for t in dissolved)
    offer = {o.member_id: o for o in offers_of(paired)}["C100159"]
    result = rematch.approve(paired, YEAR, offer.id, actor="Pat Chair", now=DEC_10)
    assert result.tasks > 1
    with paired:
        new = paired.session.scalars(
            select(TaskRow).where(TaskRow.key.endswith(f"/{offer.mentor_id}/C100159"))
        ).all()
    assert {t.done_at for t in new} == {None}
    assert all(t.due_at > DEC_10 for t in new)
    assert any("/repairing/first-meeting/" in t.key for t in new)
    verify_ok(paired)


# --- refusals ---------------------------------------------------------------------------------


def test_withdrawing_after_mentoring_ended_is_refused_naming_the_state(
    paired: UnitOfWork,
) -> None:
    fire(paired, CycleEvent.start_orientation, datetime(2026, 11, 21, 12, tzinfo=UTC))
    fire(paired, CycleEvent.start_mentoring, datetime(2026, 12, 2, 12, tzinfo=UTC))
    fire(paired, CycleEvent.end_mentoring, datetime(2027, 7, 2, 12, tzinfo=UTC))
    with pytest.raises(DomainError) as refused:
        withdrawing.withdraw(paired, YEAR, "C100270", actor="Pat Chair", reason="x")
    assert str(refused.value) == (
        "cycle 2026 is in state ended: participants can withdraw only while the cycle is in "
        "call_open, applications_closed, paired, orientation or active"
    )
    with pytest.raises(DomainError, match="state ended: pairs can be ended only while"):
        rematch.end_pair(paired, YEAR, "C100156", "C100270", actor="a", reason="x")


def test_re_pairing_is_refused_before_pairings_are_announced(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    for attempt in (
        lambda: rematch.end_pair(uow, YEAR, "C100156", "C100270", actor="a", reason="x"),
        lambda: rematch.approve(uow, YEAR, 1, actor="a"),
        lambda: rematch.refresh_offers(uow, YEAR, actor="a"),
    ):
        with pytest.raises(DomainError, match=r"state applications_closed: .* paired, orientation"):
            attempt()
    with pytest.raises(DomainError, match="C999999 has no application in cycle 2026"):
        withdrawing.withdraw(uow, YEAR, "C999999", actor="a", reason="x")
    with pytest.raises(MissingValue, match="a reason is required") as missing:
        withdrawing.withdraw(uow, YEAR, "C100270", actor="a", reason=" ")
    assert f"{missing.value}{hint_for(missing.value)}" == (
        "a reason is required: say why the participant withdraws (--reason TEXT)"
    )


def test_audit_verify_catches_an_offer_changed_behind_its_back(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    verify_ok(paired)
    with paired:
        paired.session.execute(update(RepairingOfferRow).values(score=99.0))
        paired.session.commit()
    problems = [str(p) for p in audit.verify(paired).problems]
    seq = audit.history(paired, YEAR).records[-1].seq
    with paired:
        offers = sorted(paired.session.scalars(select(RepairingOfferRow.id)))
    assert offers and problems == [
        f"repairing_offers row [{n}] was changed outside the program "
        f"(differs from audit record {seq})"
        for n in offers
    ]


def test_refreshing_changes_nothing_when_nothing_changed(paired: UnitOfWork) -> None:
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    records = len(audit_kinds(paired))
    result = rematch.refresh_offers(paired, YEAR, actor="flow", now=NOV_12)
    assert result.changed is False and len(result.offers) == 3
    assert len(audit_kinds(paired)) == records


# --- the command line -------------------------------------------------------------------------


def cli() -> typer.Typer:
    """The commands as ``flows/cli/app.py`` mounts them."""
    app = typer.Typer()
    applications = typer.Typer()
    applications.command("withdraw")(applications_withdraw)
    app.add_typer(applications, name="applications")
    app.add_typer(repairing_app, name="repairing")
    return app


def test_the_commands_print_one_json_document_and_refuse_plainly(paired: UnitOfWork) -> None:
    runner = CliRunner()
    withdrawn = runner.invoke(
        cli(),
        [
            "applications",
            "withdraw",
            "2026",
            "C100156",
            "--actor",
            "Pat",
            "--reason",
            "ill",
            "--json",
        ],
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    doc = json.loads(withdrawn.stdout)
    assert doc["changed"] is True and len(doc["offers"]) == 3
    listed = json.loads(runner.invoke(cli(), ["repairing", "list", "2026", "--json"]).stdout)
    assert [o["id"] for o in listed["offers"]] == [o["id"] for o in doc["offers"]]
    offer_id = str(listed["offers"][0]["id"])
    approved = runner.invoke(
        cli(), ["repairing", "approve", "2026", offer_id, "--actor", "Pat", "--json"]
    )
    assert json.loads(approved.stdout)["changed"] is True
    human = runner.invoke(cli(), ["repairing", "list", "2026"])
    assert human.exit_code == 0 and "open re-pairing offers" in human.stdout
    ended = runner.invoke(
        cli(),
        [
            "repairing",
            "end-pair",
            "2026",
            "C100172",
            "C100049",
            "--actor",
            "Pat",
            "--reason",
            "mismatch",
            "--json",
        ],
    )
    assert json.loads(ended.stdout)["changed"] is True
    refused = runner.invoke(
        cli(), ["repairing", "end-pair", "2026", "C100172", "C999", "--actor", "P", "--reason", "x"]
    )
    assert isinstance(refused.exception, DomainError)
    assert str(refused.exception) == "cycle 2026 has no pair C100172 → C999"
    missing = runner.invoke(cli(), ["applications", "withdraw", "2026", "C100172"])
    assert missing.exit_code == 2


def test_the_audit_story_tells_the_withdrawal_and_who_is_paired_after_it(
    paired: UnitOfWork,
) -> None:
    before = active_pairs(paired)
    withdrawing.withdraw(paired, YEAR, "C100156", actor="Pat Chair", reason="ill", now=NOV_10)
    first = offers_of(paired)[0]
    rematch.approve(paired, YEAR, first.id, actor="Sam Chair", now=NOV_12)
    told = story(paired, YEAR).as_dict()
    decisions = [(d["decision"], d["actor"]) for d in told["pairing_decisions"]]
    assert decisions[-2:] == [("withdrawal", "Pat Chair"), ("re-pairing approved", "Sam Chair")]
    assert "C100156 withdrew (ill); 3 pair(s) dissolved" in told["pairing_decisions"][-2]["summary"]
    now_paired = {(p["mentor_id"], p["mentee_id"]) for p in told["paired"]["pair_list"]}
    assert now_paired == set(active_pairs(paired))
    assert len(now_paired) == len(before) - 3 + 1
    as_of = story(paired, YEAR, datetime(2026, 11, 11, tzinfo=UTC)).as_dict()
    assert as_of["paired"]["pairs"] == len(before) - 3
