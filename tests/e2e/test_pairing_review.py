"""The pause-for-approval flow: the committee reads the proposal by name, and its answer in
the Resume form (names or ids) is recorded; approving closes the approval task. The
committee's form, "Review the pairings", asks only the year and a name, and ends a refusal
at once in one sentence."""

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateName,
)
from prefect.client.schemas.sorting import ArtifactSort
from prefect.flow_runs import resume_flow_run

from domain.pairing_status import PairingSetStatus
from flows.pairing_review import (
    HOW_TO_ANSWER,
    UnansweredReview,
    review_pairings,
    review_refusal,
    review_the_pairings,
)
from flows.usecases import audit, cycles, followups, pairing_names
from infra.uow import UnitOfWork
from tests.builders import cycle_with_applications
from tests.committee_forms import (
    assert_only_text_boxes,
    assert_refused_at_once,
    deployments,
    flow_of,
)

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def wait_for_paused_run(timeout: float = 60) -> UUID:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Paused"]))
                )
            )
            if runs:
                return runs[0].id
            time.sleep(0.3)
    raise AssertionError("the review flow never paused")


def test_the_committee_removes_a_pair_then_approves(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(review_pairings, 2026, 3, 1)
        first = wait_for_paused_run()
        removed = _first_proposed_pair(uow)
        resume_flow_run(first, run_input={"reviewer": "Pat Chair", "remove_pairs": [removed]})
        time.sleep(0.5)
        second = wait_for_paused_run()
        resume_flow_run(second, run_input={"reviewer": "Pat Chair", "approve": True})
        result: dict[str, Any] = running.result(timeout=120)
    assert result["changed"] is True
    assert cycles.describe(uow, 2026).has_approved_pairings is True
    records = audit.history(uow, 2026).as_dict()["records"]
    edits = [r for r in records if r["kind"] == "pairing_edited"]
    assert [(e["actor"], e["fields"]["edit"]) for e in edits] == [("Pat Chair", "block")]
    approval = [r for r in records if r["kind"] == "pairings_approved"][-1]
    assert approval["actor"] == "Pat Chair"
    assert removed.split(":") not in approval["fields"]["pair_list"]


def _first_proposed_pair(uow: UnitOfWork) -> str:
    with uow:
        latest = uow.pairings.latest_set(2026, PairingSetStatus.proposed)
        assert latest is not None
        pair = uow.pairings.pairs_of(latest.id)[0]
        return f"{pair.mentor_id}:{pair.mentee_id}"


def latest_page(run_id: UUID, year: int = 2026) -> str:
    """The newest version of the run's pairings artifact, as Markdown."""
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"cycle-{year}-pairings"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
            ),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert artifact.type == "markdown"
    return str(artifact.data)


def test_the_review_page_reads_by_name_and_edits_take_names(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(review_pairings, 2026, 5, 1)
        run_id = wait_for_paused_run()
        first = latest_page(run_id)
        proposed, left_out = _proposal(uow)
        people = pairing_names.people(uow, 2026)
        headings = [line for line in first.splitlines() if line.startswith("**")]
        assert sorted(headings) == sorted(
            f"**{n}. {people[m].name} → {people[e].name}**"
            for n, (m, e) in enumerate(_by_name(proposed, people), 1)
        )
        assert len(headings) == len(proposed) > 40
        assert "## Not paired" in first and "choose **Resume**" in first
        for member_id in left_out:
            assert f"- **{people[member_id].name}** (" in first
        mentions = re.findall(r"C1\d{5}", first.replace(HOW_TO_ANSWER, ""))
        asides = re.findall(r"\*Member ids? (C1\d{5})(?: : (C1\d{5}))?\*", first)
        assert len(asides) == len(proposed) + len(left_out)
        assert len(mentions) == 2 * len(proposed) + len(left_out)

        mentor_id, mentee_id = next(p for p in proposed if people[p[1]].applied_as == "mentee")
        resume_flow_run(
            run_id,
            run_input={"reviewer": "Pat Chair", "remove_pairs": [people[mentee_id].name]},
        )
        time.sleep(0.5)
        assert wait_for_paused_run() == run_id
        assert (
            f"- Removed {people[mentor_id].name} ({mentor_id}) → "
            f"{people[mentee_id].name} ({mentee_id})"
        ) in latest_page(run_id)

        resume_flow_run(run_id, run_input={"reviewer": "Pat Chair", "keep_pairs": ["Ada Lovelace"]})
        time.sleep(0.5)
        assert wait_for_paused_run() == run_id
        assert (
            "- Nothing was changed or approved: no applicant in cycle 2026 is named "
            "'Ada Lovelace'; write the name as the pairing list shows it, or the member id."
        ) in latest_page(run_id)

        resume_flow_run(run_id, run_input={"reviewer": "Pat Chair", "approve": True})
        result: dict[str, Any] = running.result(timeout=120)
    assert "Approve the pairing set" in result["tasks_done"]
    [task] = [t for t in followups.list_tasks(uow, 2026) if t.title == "Approve the pairing set"]
    assert task.done_by == "Pat Chair"


def _proposal(uow: UnitOfWork) -> tuple[list[tuple[str, str]], list[str]]:
    with uow:
        latest = uow.pairings.latest_set(2026, PairingSetStatus.proposed)
        assert latest is not None
        pairs = [p.members for p in uow.pairings.pairs_of(latest.id)]
        return pairs, [u.member_id for u in uow.pairings.waiting(latest.id)]


def _by_name(
    pairs: list[tuple[str, str]], people: dict[str, pairing_names.Person]
) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda p: (people[p[0]].name.casefold(), people[p[1]].name.casefold()))


def test_the_committees_form_reviews_the_current_cycle_and_records_who_did_what(
    uow: UnitOfWork,
) -> None:
    cycle_with_applications(uow)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(review_the_pairings, your_name="Pat Chair", return_state=True)
        run_id = wait_for_paused_run()
        assert latest_page(run_id).startswith("# Proposed pairings, cycle 2026")
        resume_flow_run(run_id, run_input={"reviewer": "Sam Reviewer", "approve": True})
        state = running.result(timeout=120)
    assert state.is_completed(), state.message
    approved = state.result()
    assert isinstance(approved, dict)
    pairs = approved["pairs"]
    assert str(state.message).startswith(
        f"The pairings of cycle 2026 are approved ({pairs} pairs, by Sam Reviewer); "
    )
    assert "Thu Nov 5, 2026, 12:00 AM Chicago time" in str(state.message)
    records = audit.history(uow, 2026).as_dict()["records"]
    decisions = [(r["kind"], r["actor"]) for r in records if r["kind"].startswith("pairings_")]
    assert decisions == [("pairings_proposed", "Pat Chair"), ("pairings_approved", "Sam Reviewer")]
    assert cycles.describe(uow, 2026).has_approved_pairings is True


REVIEW_REFUSALS: list[tuple[str, dict[str, str], str]] = [
    (
        "a cycle whose applications are not closed",
        {"your_name": "Pat", "year": "2040"},
        "Cycle 2040 is planned (its call for applications has not opened): the pairings are "
        "reviewed after applications close and before they are announced.",
    ),
    (
        "no such cycle",
        {"your_name": "Pat", "year": "2031"},
        "There is no cycle 2031: check the Year box, or start it with the “Start a new year” form.",
    ),
    (
        "no name",
        {"your_name": "", "year": "2040"},
        "Write your name in the Your name box: the cycle's history records who took each step.",
    ),
]


@pytest.mark.parametrize(
    ("form", "sentence"),
    [case[1:] for case in REVIEW_REFUSALS],
    ids=[case[0] for case in REVIEW_REFUSALS],
)
def test_a_refused_review_ends_at_once_in_one_sentence(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture, form: dict[str, str], sentence: str
) -> None:
    cycles.create_cycle(uow, 2040, timezone="America/Chicago", milestones={}, actor="chair")
    with caplog.at_level(logging.INFO):
        state = review_the_pairings(**form, return_state=True)
    assert_refused_at_once(state, sentence, caplog)
    assert [r["kind"] for r in audit.history(uow, 2040).as_dict()["records"]] == ["cycle_created"]


def test_a_review_that_runs_out_of_rounds_says_to_start_it_again() -> None:
    assert review_refusal(UnansweredReview(5)) == (
        "The pairings were not approved after 5 rounds: run “Review the pairings” again to go on."
    )


def test_the_review_is_deployed_with_only_the_year_and_your_name() -> None:
    deployed = deployments()
    assert "review-pairings" not in deployed
    deployment = deployed["Review the pairings"]
    form = flow_of(deployment["entrypoint"])
    assert form is review_the_pairings and form.name == "Review the pairings"
    assert "committee" in deployment["tags"] and "parameters" not in deployment
    assert_only_text_boxes(form, ["your_name", "year"], ["your_name"])
    assert form.parameters.properties["year"]["default"] == ""
