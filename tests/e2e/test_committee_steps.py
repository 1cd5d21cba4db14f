"""The committee's step flows under a real (test) Prefect server: "Start a new year"
creates the cycle, each step moves it, a refusal ends the run at once in one plain
sentence, the year defaults to the next or the current cycle, and prefect.yaml deploys
them with only the form's boxes."""

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.exceptions import FailedRun

from domain.calendar import CycleCalendar
from domain.cycle_states import STEP_NAMES, CycleEvent, Trigger
from flows import committee_new_year
from flows.committee_new_year import start_a_new_year, upcoming_year
from flows.committee_steps import (
    STEP_FLOWS,
    announce_the_pairings,
    begin_mentoring,
    begin_orientation,
    cancel_this_year,
    close_applications,
    end_mentoring,
    open_the_call,
    record_the_assessment,
)
from flows.usecases import audit, cycles, pairings
from flows.usecases.clock import utcnow
from infra.uow import UnitOfWork
from tests.builders import OCT_1, cycle_with_applications
from tests.committee_forms import (
    assert_only_text_boxes,
    assert_refused_at_once,
    deployments,
    flow_of,
)

FUTURE = 2040  # its dates are years ahead, so every step there is early


def _create(uow: UnitOfWork, year: int) -> None:
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")


def _fire(uow: UnitOfWork, year: int, event: CycleEvent) -> None:
    cycles.fire_event(uow, year, event, actor="chair", trigger=Trigger.cli, reason="set-up")


def _state(uow: UnitOfWork, year: int) -> str:
    return str(cycles.describe(uow, year).state)


def test_each_step_flow_moves_the_cycle_and_says_so(uow: UnitOfWork) -> None:
    _create(uow, FUTURE)
    walk: list[tuple[int, Any, str]] = [
        (FUTURE, open_the_call, "call_open"),
        (FUTURE, close_applications, "applications_closed"),
        (FUTURE, cancel_this_year, "cancelled"),
    ]
    cycle_with_applications(uow, 2026)
    pairings.propose(uow, 2026, actor="chair", now=OCT_1)
    pairings.approve(uow, 2026, actor="chair", now=OCT_1)
    walk += [
        (2026, announce_the_pairings, "paired"),
        (2026, begin_orientation, "orientation"),
        (2026, begin_mentoring, "active"),
        (2026, end_mentoring, "ended"),
        (2026, record_the_assessment, "assessed"),
    ]
    for year, step, reached in walk:
        state = step(
            your_name="Pat Chair", year=str(year), reason="testing the form", return_state=True
        )
        assert state.is_completed(), (step.name, state.message)
        assert _state(uow, year) == reached
        assert str(state.message).startswith(f"Cycle {year} is now ")
        assert f"(“{step.name}”, by Pat Chair)" in str(state.message)
        assert state.result()["target"] == reached
        last = audit.history(uow, year).transitions[-1]
        assert (last.target, last.actor, last.trigger, last.reason) == (
            reached,
            "Pat Chair",
            "manual",
            "testing the form",
        )
        assert last.flow_run_id == str(state.state_details.flow_run_id)

    again = record_the_assessment(your_name="Pat Chair", year="2026", return_state=True)
    assert again.is_completed()
    assert again.message == (
        "Cycle 2026 is already finished (its assessment is recorded); nothing was changed."
    )


REFUSALS: list[tuple[str, Any, dict[str, str], str]] = [
    (
        "not allowed from the state",
        begin_mentoring,
        {"your_name": "Pat"},
        "Cycle 2040 is planned (its call for applications has not opened), so “Begin "
        "mentoring” cannot be taken now; the steps open are “Open the call for "
        "applications” or “Cancel this year”.",
    ),
    (
        "cancelling without a reason",
        cancel_this_year,
        {"your_name": "Pat"},
        "Cancelling cycle 2040 needs a reason: write it in the Reason box.",
    ),
    (
        "before the date without a reason",
        open_the_call,
        {"your_name": "Pat"},
        "“Open the call for applications” for cycle 2040 is set for Wed Aug 1, 12:00 AM "
        "Chicago time; to take this step before then, write why in the Reason box.",
    ),
    (
        "no such cycle",
        open_the_call,
        {"your_name": "Pat", "year": "2031"},
        "There is no cycle 2031: check the Year box, or start it with the “Start a new year” form.",
    ),
    (
        "no name",
        open_the_call,
        {"your_name": "  ", "reason": "early"},
        "Write your name in the Your name box: the cycle's history records who took each step.",
    ),
    (
        "a year that is not one",
        open_the_call,
        {"your_name": "Pat", "year": "twenty"},
        "The Year box holds 'twenty': write a year such as 2026, or leave it empty for the "
        "current cycle.",
    ),
    (
        "a name on two lines",
        open_the_call,
        {"your_name": "Pat\nChair", "reason": "early"},
        "The Your name box 'Pat\\nChair' contains a line break (U+000A); it must be a single "
        "line of plain text.",
    ),
]


@pytest.mark.parametrize(
    ("step", "form", "sentence"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_a_refusal_ends_the_run_at_once_in_one_sentence(
    uow: UnitOfWork,
    caplog: pytest.LogCaptureFixture,
    step: Any,
    form: dict[str, str],
    sentence: str,
) -> None:
    _create(uow, FUTURE)
    with caplog.at_level(logging.INFO):
        state = step(**{"year": str(FUTURE), **form}, return_state=True)
    assert_refused_at_once(state, sentence, caplog)
    assert _state(uow, FUTURE) == "planned"
    assert audit.history(uow, FUTURE).transitions == []


def test_announcing_unapproved_pairings_points_at_the_review(uow: UnitOfWork) -> None:
    _create(uow, FUTURE)
    _fire(uow, FUTURE, CycleEvent.open_call)
    _fire(uow, FUTURE, CycleEvent.close_applications)
    state = announce_the_pairings(
        your_name="Pat", year=str(FUTURE), reason="early", return_state=True
    )
    assert state.is_failed()
    assert state.message == (
        "The pairings of cycle 2040 are not approved yet: approve them first with “Review "
        "the pairings” (its paused run, the Resume button)."
    )
    assert _state(uow, FUTURE) == "applications_closed"


def test_the_year_defaults_to_the_current_cycle(uow: UnitOfWork) -> None:
    for year in (FUTURE - 1, FUTURE, FUTURE + 1):
        _create(uow, year)
    _fire(uow, FUTURE + 1, CycleEvent.cancel)
    state = open_the_call(your_name="Pat", reason="early", return_state=True)
    assert state.is_completed(), state.message
    assert str(state.message).startswith(f"Cycle {FUTURE} is now open for applications")
    assert [_state(uow, y) for y in (FUTURE - 1, FUTURE, FUTURE + 1)] == [
        "planned",
        "call_open",
        "cancelled",
    ]


def test_without_a_cycle_in_progress_the_empty_year_is_refused(uow: UnitOfWork) -> None:
    _create(uow, FUTURE)
    _fire(uow, FUTURE, CycleEvent.cancel)
    state = open_the_call(your_name="Pat", reason="early", return_state=True)
    assert state.is_failed()
    assert state.message == (
        "No cycle is in progress: write the year in the Year box, or start one with the "
        "“Start a new year” form."
    )


def _published(state: Any, key: str) -> str:
    """The markdown the run published under ``key`` (its latest version)."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            )
        )
    assert found, f"the run published no {key}"
    return str(found[-1].data)


def test_start_a_new_year_creates_the_cycle_and_names_its_first_dates(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(committee_new_year, "emit_event", lambda **event: emitted.append(event))
    state = start_a_new_year(your_name="Pat Chair", year=str(FUTURE), return_state=True)
    assert state.is_completed(), state.message
    assert state.message == (
        "Cycle 2040 is started (by Pat Chair) and planned: its call for applications opens "
        "Wed Aug 1, 2040, 12:00 AM Chicago time and closes Sun Sep 30, 2040, 11:59 PM Chicago "
        "time; the pairings are announced Mon Nov 5, 2040, 12:00 AM Chicago time."
    )
    view = cycles.describe(uow, FUTURE)
    assert (str(view.state), view.timezone) == ("planned", "America/Chicago")
    assert dict(view.calendar) == CycleCalendar.default(FUTURE).as_iso()
    [created] = [r for r in audit.history(uow, FUTURE).records if r.kind == "cycle_created"]
    assert created.actor == "Pat Chair"
    assert (created.fields["trigger"], created.fields["flow_run_id"]) == (
        "manual",
        str(state.state_details.flow_run_id),
    )
    assert [e["event"] for e in emitted] == ["mentoring.cycle.created", "mentoring.cycle.planned"]
    assert {e["resource"]["prefect.resource.id"] for e in emitted} == {f"mentoring.cycle.{FUTURE}"}
    assert emitted[0]["payload"] == {"year": FUTURE, "event": "created", "target": "planned"}
    status = _published(state, f"cycle-{FUTURE}")
    assert status.startswith(f"# Cycle {FUTURE}\n")
    assert "Next step: **Open the call for applications**" in status


def test_a_past_year_says_its_dates_passed_and_an_empty_year_is_the_next_to_come(
    uow: UnitOfWork,
) -> None:
    past = start_a_new_year(your_name="Pat", year="2001", return_state=True)
    assert past.is_completed(), past.message
    assert str(past.message).count("(passed)") == 3
    upcoming = upcoming_year(utcnow())
    for expected in (upcoming, upcoming + 1):
        state = start_a_new_year(your_name="Pat", return_state=True)
        assert state.is_completed(), state.message
        assert str(state.message).startswith(f"Cycle {expected} is started (by Pat)")
        assert "(passed)" not in str(state.message)
    assert [view.year for view in cycles.list_all(uow)] == [2001, upcoming, upcoming + 1]


@pytest.mark.parametrize(
    ("now", "year"),
    [
        (datetime(2026, 1, 1, tzinfo=UTC), 2026),
        (datetime(2026, 8, 1, 4, 59, tzinfo=UTC), 2026),  # 11:59 PM on Jul 31 in Chicago
        (datetime(2026, 8, 1, 5, 0, tzinfo=UTC), 2027),  # the call opens: midnight, Aug 1
        (datetime(2026, 12, 31, 23, tzinfo=UTC), 2027),
    ],
)
def test_the_upcoming_year_is_the_first_whose_call_is_still_to_come(
    now: datetime, year: int
) -> None:
    assert upcoming_year(now) == year


NEW_YEAR_REFUSALS: list[tuple[str, dict[str, str], str]] = [
    (
        "a year that exists",
        {"your_name": "Pat", "year": str(FUTURE)},
        "Cycle 2040 already exists and is planned (its call for applications has not "
        "opened): nothing was changed; write another year in the Year box, or leave it empty "
        "for the next one.",
    ),
    (
        "a year that is not one",
        {"your_name": "Pat", "year": "twenty"},
        "The Year box holds 'twenty': write a year such as {upcoming}, or leave it empty for "
        "the next year.",
    ),
    (
        "a year out of range",
        {"your_name": "Pat", "year": "1999"},
        "The Year box holds 1999: a cycle's year is between 2000 and 2100.",
    ),
    (
        "no name",
        {"your_name": " ", "year": "2041"},
        "Write your name in the Your name box: the cycle's history records who took each step.",
    ),
]


@pytest.mark.parametrize(
    ("form", "sentence"),
    [case[1:] for case in NEW_YEAR_REFUSALS],
    ids=[case[0] for case in NEW_YEAR_REFUSALS],
)
def test_a_refused_new_year_ends_at_once_in_one_sentence(
    uow: UnitOfWork,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    form: dict[str, str],
    sentence: str,
) -> None:
    emitted: list[dict[str, Any]] = []
    monkeypatch.setattr(committee_new_year, "emit_event", lambda **event: emitted.append(event))
    _create(uow, FUTURE)
    sentence = sentence.format(upcoming=upcoming_year(utcnow()))
    with caplog.at_level(logging.INFO):
        state = start_a_new_year(**form, return_state=True)
    assert_refused_at_once(state, sentence, caplog)
    assert [view.year for view in cycles.list_all(uow)] == [FUTURE]
    assert [r.kind for r in audit.history(uow, FUTURE).records] == ["cycle_created"]
    assert emitted == []


@pytest.mark.parametrize("event", list(CycleEvent))
def test_each_step_is_deployed_by_its_name_with_only_the_forms_boxes(event: CycleEvent) -> None:
    deployment = deployments()[STEP_NAMES[event]]
    step = flow_of(deployment["entrypoint"])
    assert step is STEP_FLOWS[event]
    assert step.name == STEP_NAMES[event]
    assert "triggers" not in deployment and "parameters" not in deployment
    assert_only_text_boxes(step, ["your_name", "year", "reason"], ["your_name"])
    assert step.parameters.properties["year"]["default"] == ""
    assert step.parameters.properties["reason"]["default"] == ""


def test_start_a_new_year_is_deployed_with_only_the_year_and_your_name() -> None:
    deployment = deployments()["Start a new year"]
    form = flow_of(deployment["entrypoint"])
    assert form is start_a_new_year and form.name == "Start a new year"
    assert "committee" in deployment["tags"]
    assert "triggers" not in deployment and "parameters" not in deployment
    assert_only_text_boxes(form, ["your_name", "year"], ["your_name"])
    assert form.parameters.properties["year"]["default"] == ""


def test_the_machine_parameters_stay_on_the_event_driven_deployments() -> None:
    deployed = deployments()
    transition = flow_of(deployed["cycle-transition"]["entrypoint"])
    assert {"event", "trigger", "when_due"} <= set(transition.parameters.properties)
    assert "committee" not in deployed["cycle-transition"]["tags"]
    (trigger,) = deployed["announce-when-approved"]["triggers"]
    assert trigger["parameters"]["when_due"] is True
    committee = [d["name"] for d in deployed.values() if "committee" in d["tags"]]
    assert set(STEP_NAMES.values()) <= set(committee)


def _logged(error: Exception) -> bool:
    """Whether Prefect's flow run logger lets through an error record carrying ``error``."""
    runs = logging.getLogger("prefect.flow_runs")
    record = runs.makeRecord(
        runs.name, logging.ERROR, __file__, 0, "exited", (), (type(error), error, None)
    )
    return bool(runs.filter(record))


def test_the_engines_echo_of_a_returned_failed_state_is_dropped_but_errors_are_not() -> None:
    assert not _logged(FailedRun("Cancelling cycle 2040 needs a reason"))
    assert _logged(ValueError("a real bug"))
