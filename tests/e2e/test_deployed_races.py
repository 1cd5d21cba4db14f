"""Transitions stay exactly-once as deployed beyond one machine.

The production shape of docs/prefect.md ("Running on more than one machine"): a Prefect
server on PostgreSQL, two process workers (each with a Prefect home of its own, as on two
machines) on the ``mentoring`` pool, the project's deployments, and the program's database
on PostgreSQL. Daily ticks and hand-triggered ``open_call`` transitions for three due
cycles are started at once through the API; each cycle must move exactly once.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings

from domain.cycle_states import CycleEvent
from flows import prefect_server as stack
from flows.usecases import audit, cycles
from flows.usecases.clock import utcnow
from infra import db
from infra.uow import UnitOfWork

# About two minutes on two idle cores; more room than the suite's 300 s for a busy machine.
pytestmark = [pytest.mark.postgres, pytest.mark.prefect, pytest.mark.timeout(480)]

WORKERS = ("worker-a", "worker-b")
TICK, TRANSITION = "daily-tick", "cycle-transition"
RUNS_PER_WORKER = 6  # neither worker can take every run
TRANSITIONS_PER_CYCLE = 3
TICKS = 2
FINISH_WITHIN = 150.0
FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: this test deploys to a real server of its own."""
    yield


@dataclass(frozen=True)
class Deployed:
    """The running stack: where its API is, the CLI's environment, and its logs."""

    api_url: str
    env: dict[str, str]
    program_url: str
    years: tuple[int, ...]
    logs: Path

    def log_tails(self, lines: int = 25) -> str:
        tails = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(tails)


def _due_cycles(url: str) -> tuple[int, ...]:
    """Three cycles in ``planned`` whose call for applications opened yesterday (and whose
    later milestones are months away), so the tick and a hand-fired open_call both may."""
    uow = UnitOfWork(db.session_factory(url))
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    years = tuple(utcnow().year + n for n in (1, 2, 3))
    for year in years:
        cycles.create_cycle(
            uow,
            year,
            timezone="America/Chicago",
            milestones={CycleEvent.open_call: yesterday},
            actor="test",
        )
    return years


@pytest.fixture
def deployed(
    new_postgres_database: Callable[[str, str], str], tmp_path: Path
) -> Iterator[Deployed]:
    """Server on PostgreSQL, pool, deployments, two workers; the program on PostgreSQL."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    base.update(
        PREFECT_WORKER_QUERY_SECONDS="1",
        PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="2",
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
    )
    port = stack.free_port()
    api_url = stack.api_url_for("127.0.0.1", port)
    logs = tmp_path / "logs"
    logs.mkdir()
    with ExitStack() as resources:
        server_log = resources.enter_context((logs / "server.log").open("wb"))
        server_env = stack.server_env(
            base,
            "127.0.0.1",
            port,
            tmp_path / "server-home",
            None,
            database_url=new_postgres_database("prefect", "asyncpg"),
        )
        server = stack.start_server(server_env, server_log)
        resources.callback(stack.stop, server, 1, 15.0)
        program_url = new_postgres_database("program", "psycopg")  # while the server starts
        db.upgrade(program_url)
        years = _due_cycles(program_url)
        db.engine_for(program_url).dispose()
        base.update(MENTORING_DATABASE_URL=program_url, MENTORING_HOME=str(tmp_path / "home"))
        stack.wait_until_healthy(api_url, server, timeout=120)
        with _api(api_url) as client:  # what `ensure_work_pool` does, without a subprocess
            client.create_work_pool(WorkPoolCreate(name=stack.POOL, type="process"))
        for name in WORKERS:  # they start while the deployments are made
            log = resources.enter_context((logs / f"{name}.log").open("wb"))
            worker_env = stack.client_env(base, api_url, tmp_path / name, None)
            worker = stack.start_worker(worker_env, log=log, name=name, limit=RUNS_PER_WORKER)
            resources.callback(stack.stop_worker, worker)
        env = stack.client_env(base, api_url, tmp_path / "client-home", None)
        stack.deploy_all(env, names=(TICK, TRANSITION))
        yield Deployed(api_url, env, program_url, years, logs)


@contextmanager
def _api(api_url: str) -> Iterator[SyncPrefectClient]:
    """A client of this stack's server (not the session's test harness)."""
    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        yield client


def _wait_for_workers(client: SyncPrefectClient, timeout: float = 90.0) -> None:
    """Both workers have said hello to the pool, so both can take the runs to come."""
    deadline = time.monotonic() + timeout
    while {w.name for w in client.read_workers_for_work_pool(stack.POOL)} < set(WORKERS):
        assert time.monotonic() < deadline, "the workers never joined the pool"
        time.sleep(1)


def _start_racing_runs(client: SyncPrefectClient, years: tuple[int, ...]) -> list[UUID]:
    """Ticks and hand-fired open_call runs for every year, interleaved, all at once."""
    tick = client.read_deployment_by_name(f"{TICK}/{TICK}")
    transition = client.read_deployment_by_name(f"{TRANSITION}/{TRANSITION}")
    runs = []
    for round_ in range(TRANSITIONS_PER_CYCLE):
        if round_ < TICKS:
            runs.append(client.create_flow_run_from_deployment(tick.id, parameters={}))
        for year in years:
            parameters = {"year": year, "event": "open_call", "actor": f"chair {round_}"}
            runs.append(
                client.create_flow_run_from_deployment(transition.id, parameters=parameters)
            )
    return [run.id for run in runs]


def _finished(client: SyncPrefectClient, ids: list[UUID], deployed: Deployed) -> list[FlowRun]:
    """The runs once all have ended (bounded: a run still going fails the test)."""
    deadline = time.monotonic() + FINISH_WITHIN
    while True:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
        if len(runs) == len(ids) and all(r.state and r.state.type in FINAL for r in runs):
            return runs
        if time.monotonic() > deadline:
            states = sorted(str(r.state.name if r.state else None) for r in runs)
            pytest.fail(
                f"runs still going after {FINISH_WITHIN:.0f} s: {states}\n" + deployed.log_tails()
            )
        time.sleep(1)


def _worker_of(run: FlowRun) -> str | None:
    """The worker that took the run (it labels the runs it submits)."""
    name = run.labels.get("prefect.worker.name")
    return None if name is None else str(name)


def _overlapping(runs: list[FlowRun]) -> bool:
    """Whether two runs on different workers were running at the same moment."""
    spans = [(r.start_time, r.end_time, _worker_of(r)) for r in runs if r.start_time and r.end_time]
    return any(
        a[2] != b[2] and a[0] < b[1] and b[0] < a[1]
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
    )


def test_ticks_and_hand_fired_transitions_on_two_workers_move_each_cycle_once(
    deployed: Deployed,
) -> None:
    with _api(deployed.api_url) as client:
        _wait_for_workers(client)
        runs = _finished(client, _start_racing_runs(client, deployed.years), deployed)

    ended = {str(r.id): r.state.name if r.state else None for r in runs}
    assert set(ended.values()) == {"Completed"}, f"{ended}\n{deployed.log_tails()}"
    taken_by = {_worker_of(r) for r in runs}
    assert taken_by == set(WORKERS), f"every run by a named worker, both busy: {taken_by}"
    assert _overlapping(runs), "runs on the two workers ran at the same time"

    uow = UnitOfWork(db.session_factory(deployed.program_url))
    for year in deployed.years:
        moves = [t for t in audit.history(uow, year).transitions if t.event == "open_call"]
        assert len(moves) == 1, f"cycle {year}: {[m.as_dict() for m in moves]}"
        assert moves[0].flow_run_id in ended, "made by one of the racing runs"
        assert cycles.describe(uow, year).state == "call_open"
    db.engine_for(deployed.program_url).dispose()

    verify = subprocess.run(
        [sys.executable, "-m", "flows.cli", "audit", "verify", "--json"],
        env={**deployed.env, "MENTORING_DATABASE_URL": deployed.program_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr[-2000:]
    check = json.loads(verify.stdout)
    assert check["ok"] is True and check["problems"] == []
