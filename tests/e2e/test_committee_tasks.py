"""The committee's "Mark a task done" form under a real (test) Prefect server: the number
the status page shows marks the task done (audited, once), a number that names no task is
refused in one sentence, and prefect.yaml deploys it with only its two boxes."""

import pytest

from domain.cycle_states import CycleEvent, Trigger
from flows.committee_tasks import mark_a_task_done
from flows.usecases import audit, cycles
from infra.uow import UnitOfWork
from tests.committee_forms import assert_only_text_boxes, deployments

YEAR = 2040


def _review_task(uow: UnitOfWork) -> int:
    cycles.create_cycle(uow, YEAR, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, YEAR, CycleEvent.open_call, actor="chair", trigger=Trigger.cli, reason="set-up"
    )
    with uow:
        (task,) = uow.tasks.open_of_cycle(YEAR)
        return task.id


def test_the_number_on_the_status_page_marks_the_task_done_once(uow: UnitOfWork) -> None:
    number = _review_task(uow)
    state = mark_a_task_done(your_name="Pat Chair", task=f"no. {number}", return_state=True)
    assert state.is_completed(), state.message
    assert state.message == (
        f"Task {number} done: Review applications as they arrive (cycle {YEAR}, by Pat Chair)."
    )
    with uow:
        assert uow.tasks.open_of_cycle(YEAR) == []
    again = mark_a_task_done(your_name="Sam Second", task=str(number), return_state=True)
    assert again.is_completed()
    assert again.message == (
        f"Task {number} of cycle {YEAR} was already done by Pat Chair; nothing was changed."
    )
    done = [r for r in audit.history(uow, YEAR).records if r.kind == "task_done"]
    assert [(r.actor, r.fields["title"]) for r in done] == [
        ("Pat Chair", "Review applications as they arrive")
    ]


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("twelve", "The Task number box holds 'twelve': write the number the cycle's status"),
        ("987654", "There is no task number 987654: the cycle's status page (its Tasks table)"),
    ],
    ids=["not a number", "no such task"],
)
def test_a_number_that_names_no_task_is_one_sentence(
    uow: UnitOfWork, typed: str, sentence: str
) -> None:
    _review_task(uow)
    state = mark_a_task_done(your_name="Pat Chair", task=typed, return_state=True)
    assert state.is_failed()
    assert str(state.message).startswith(sentence), state.message
    with uow:
        assert len(uow.tasks.open_of_cycle(YEAR)) == 1


def test_it_is_deployed_with_only_your_name_and_the_number() -> None:
    deployment = deployments()["Mark a task done"]
    assert deployment["entrypoint"].endswith(":mark_a_task_done")
    assert "committee" in deployment["tags"] and "parameters" not in deployment
    assert_only_text_boxes(mark_a_task_done, ["your_name", "task"], ["your_name", "task"])
