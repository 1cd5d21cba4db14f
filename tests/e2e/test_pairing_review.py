"""The pause-for-approval flow: the committee's answer in the Resume form is recorded."""

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateName
from prefect.flow_runs import resume_flow_run

from domain.pairing_status import PairingSetStatus
from flows.pairing_review import review_pairings
from flows.usecases import audit, cycles
from infra.uow import UnitOfWork
from tests.builders import cycle_with_applications


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
