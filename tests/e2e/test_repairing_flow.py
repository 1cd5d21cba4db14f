"""The withdrawal and re-pairing flows under the test Prefect server: the event the
deployment trigger listens to, and the offers' table artifact."""

import json
from typing import Any, cast

import pytest
from prefect.artifacts import Artifact

from flows import rematch
from flows.rematch import propose_rematch, withdraw_participant
from flows.usecases import audit
from infra.uow import UnitOfWork
from tests.builders import cycle_with_applications, paired_cycle


@pytest.mark.prefect
def test_withdrawing_emits_the_event_once_and_the_offers_are_published(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    paired_cycle(uow)
    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(rematch, "emit_event", lambda **event: emitted.append(event))
    first = withdraw_participant(2026, "C100156", "Pat Chair", "moved abroad")
    again = withdraw_participant(2026, "C100156", "Pat Chair", "moved abroad")
    assert (first["changed"], again["changed"]) == (True, False)
    (event,) = emitted
    assert event["event"] == "mentoring.participant.withdrawn"
    assert event["resource"]["prefect.resource.id"] == "mentoring.cycle.2026"
    assert event["payload"] == {"year": 2026, "member_id": "C100156"}

    result = propose_rematch(2026)
    assert result["artifact_key"] == "cycle-2026-repairing"
    assert len(result["offers"]) == 3 and result["changed"] is False
    artifact = cast(Artifact | None, Artifact.get("cycle-2026-repairing"))
    assert artifact is not None and artifact.type == "table"
    rows = json.loads(str(artifact.data))
    assert sorted(r["left short"] for r in rows) == ["C100159", "C100270", "C100318"]
    assert all(r["new mentor"] and r["score"] for r in rows)
    assert audit.verify(uow).problems == []


@pytest.mark.prefect
def test_re_pairing_before_the_announcement_is_a_quiet_no_op(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)
    result = propose_rematch(2026)
    assert result["changed"] is False and result["offers"] == []
    assert "state applications_closed" in result["message"]
