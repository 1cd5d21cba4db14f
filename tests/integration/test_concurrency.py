"""Sixteen committee members press the button at once: exactly one transition happens."""

import os
import subprocess
import sys

from domain.cycle_states import CycleEvent
from flows.usecases import audit, cycles
from infra.uow import UnitOfWork

RACERS = 16


def test_concurrent_advances_give_exactly_one_transition(uow: UnitOfWork) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flows.cli",
                "cycle",
                "advance",
                "2026",
                str(CycleEvent.open_call),
                "--actor",
                f"member-{i}",
                "--reason",
                "race",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for i in range(RACERS)
    ]
    outcomes = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [code for _, _, code in outcomes] == [0] * RACERS, [e for _, e, _ in outcomes]
    assert all("Traceback" not in err for _, err, _ in outcomes)
    changed = [out for out, _, _ in outcomes if '"changed": true' in out]
    assert len(changed) == 1
    assert sum("already in state call_open" in out for out, _, _ in outcomes) == RACERS - 1
    transitions = audit.history(uow, 2026).transitions
    assert len(transitions) == 1 and transitions[0].target == "call_open"
    assert audit.verify(uow).problems == []
