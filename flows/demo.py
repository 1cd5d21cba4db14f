"""``mentoring demo``: a whole cycle, planned → assessed, through the real Prefect flows.

It runs on embedded defaults in a folder of its own (SQLite, .eml mail, an ephemeral
Prefect server), with a simulated clock: each step runs the daily-tick flow as if it
were that day, so a year passes in seconds. The committee's pairing approval is the
real pause-for-input flow, answered by the demo from another thread. One member applies
through the participants' site over HTTP (the site served in this process on a free
port, on the simulated clock): sign-in link read from the mail folder, form posted. The
ephemeral server is started first, with room to start on a busy machine (120 s unless
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS says otherwise).
"""

import email
import email.policy
import os
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from flows.prefect_server import ephemeral_startup_seconds, start_ephemeral_server

CHICAGO = ZoneInfo("America/Chicago")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HEADING = re.compile(r"<h1>([^<]+)</h1>")
SUMMARY = re.compile(r'class="error-summary-list">(.*?)</ul>', re.DOTALL)
SIGN_IN_LINK = re.compile(r"https?://[^\s\"'<>]+/sign-in/[A-Za-z0-9_-]+")


def prepare_environment(folder: Path) -> int:
    """Point everything at ``folder`` before Prefect is imported (it reads settings once);
    returns how long to wait for the ephemeral server to start, in seconds."""
    for sub in ("mentoring.db", "mail", "prefect"):
        path = folder / sub
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "MENTORING_HOME": str(folder),
            "MENTORING_DATABASE_URL": f"sqlite:///{folder / 'mentoring.db'}",
            "MENTORING_MAIL_DIR": str(folder / "mail"),
            "PREFECT_HOME": str(folder / "prefect"),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        }
    )
    for name in ("PREFECT_API_URL", "MENTORING_SMTP_HOST"):
        os.environ.pop(name, None)
    return ephemeral_startup_seconds(os.environ)


@dataclass
class DemoLog:
    """What the demo did, for the closing summary and ``--json``."""

    year: int
    flow_runs: list[dict[str, str]] = field(default_factory=list)
    site: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, state: Any) -> Any:
        self.flow_runs.append(
            {"flow": name, "id": str(state.state_details.flow_run_id), "state": str(state.name)}
        )
        if not state.is_completed():
            raise RuntimeError(f"demo step {name} ended {state.name}: {state.message}")
        return state.result()


def at(year: int, month: int, day: int, hour: int = 7) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CHICAGO)


def run_demo(folder: Path, year: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Walk cycle ``year`` from planned to assessed; returns the summary."""
    startup_timeout = prepare_environment(folder)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    started = time.monotonic()
    say("starting a local Prefect server (this can take a minute on a busy machine)…")
    say(f"Prefect server ready after {start_ephemeral_server(startup_timeout):.0f} s")
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        log = _walk(folder, year, say)
    summary = _summary(folder, log)
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary


def _walk(folder: Path, year: int, say: Callable[[str], None]) -> DemoLog:
    from flows.assessment_report import publish_assessment_report
    from flows.daily_tick import daily_tick
    from flows.deliver_notifications import deliver_notifications
    from flows.demo_data import write_demo_files, write_demo_survey
    from flows.usecases import applications, assessment, cycles, members
    from infra import db
    from infra.settings import Settings
    from infra.uow import UnitOfWork

    log = DemoLog(year)
    db.upgrade(Settings.from_env().database_url)
    uow = UnitOfWork.from_settings()
    cycles.create_cycle(
        uow, year, timezone="America/Chicago", milestones={}, actor="demo", now=at(year, 7, 1)
    )
    say(f"created cycle {year} (planned) in {folder}")
    roster, apps = write_demo_files(folder / "inputs", year)
    loaded = members.import_roster(uow, roster, actor="demo", now=at(year, 7, 15))
    say(f"roster: {loaded.added} Core members")

    def tick(when: datetime, label: str) -> None:
        result = log.record("daily-tick", daily_tick(now=when, return_state=True))
        moved = ", ".join(f"{t['source']} → {t['target']}" for t in result["transitions"])
        delivered = log.record("deliver-notifications", deliver_notifications(return_state=True))
        say(
            f"{when:%Y-%m-%d} {label}: {moved or 'no transition'}; "
            f"{delivered['sent']} message(s) delivered"
        )

    tick(at(year, 8, 1), "call for applications")
    imported = applications.import_applications(
        uow, year, apps, actor="demo", now=at(year, 9, 1, 12)
    )
    say(f"applications: {imported.imported} accepted, {len(imported.rejected)} refused")
    log.site = _apply_on_the_site(folder, roster, apps, at(year, 9, 2, 10))
    say(
        f"the participants' site at {log.site['url']}: {log.site['member_id']} asked for a "
        "sign-in link, opened it from the mail folder and applied as a mentee, over HTTP"
    )
    tick(at(year, 9, 24), "deadline reminder")
    tick(at(year, 10, 1), "applications close")
    _review(log, year, at(year, 10, 15, 10), say)
    for month, day, label in (
        (11, 5, "pairings announced"),
        (11, 20, "orientation"),
        (12, 1, "formal mentoring begins"),
    ):
        tick(at(year, month, day), label)
    for month in range(1, 7):
        tick(at(year + 1, month, 2), "monthly check-in")
    tick(at(year + 1, 7, 1), "formal mentoring ends")
    with uow:
        pairs = [p.members for p in uow.pairings.approved_pairs(year)]
    survey = write_demo_survey(folder / "inputs", year, pairs)
    answered = assessment.import_responses(
        uow, year, survey, actor="demo", now=at(year + 1, 7, 20, 12)
    )
    say(f"survey: {answered.imported} response(s) imported")
    tick(at(year + 1, 7, 25), "assessment reminder")
    tick(at(year + 1, 8, 1), "assessment closes")
    report = log.record(
        "publish-assessment-report", publish_assessment_report(year, return_state=True)
    )
    say(
        f"assessment report published as artifact {report['artifact_key']} "
        f"(response rate {report['response_rate']:.0%}), as the assessed trigger does"
    )
    return log


def _apply_on_the_site(
    folder: Path, roster: Path, applications: Path, when: datetime
) -> dict[str, str]:
    """A member not in the imported file applies on the site, as a member does."""
    from flows.demo_data import site_applicant

    applicant = site_applicant(roster, applications, when.date())
    with _site(when) as url, httpx.Client(base_url=url, timeout=30) as web:
        page = web.get("/sign-in")
        web.post("/sign-in", data={"email": applicant.email, "csrf_token": _csrf(page.text)})
        link = _mailed_link(folder / "mail", applicant.email)
        page = web.get(link)
        _expect(web.post(link, data={"csrf_token": _csrf(page.text)}), 303, "", "sign-in")
        page = web.get("/apply")
        form = {**applicant.form, "csrf_token": _csrf(page.text)}
        _expect(web.post("/apply", data=form), 200, "Application received", "application")
    return {"url": url, "member_id": applicant.member_id, "role": str(applicant.form["role"])}


@contextmanager
def _site(start: datetime) -> Iterator[str]:
    """The participants' site on a free port in a thread, its clock running from ``start``."""
    import uvicorn

    from flows.prefect_server import free_port
    from flows.web import PortalSettings, create_app
    from infra.settings import Settings

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = PortalSettings(url, secrets.token_urlsafe(48), Settings.from_env().database_url)
    began = time.monotonic()
    app = create_app(
        settings,
        clock=lambda: start.astimezone(UTC) + timedelta(seconds=time.monotonic() - began),
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="demo-site", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the participants' site did not start on {url}")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError("a page of the participants' site had no csrf_token field")
    return found.group(1)


def _expect(answer: httpx.Response, status: int, heading: str, what: str) -> None:
    """The page a form accepted answers with; anything else ends the demo, saying what
    the page said (its heading and the problems in its error summary)."""
    said = [h.strip() for h in HEADING.findall(answer.text)]
    if answer.status_code == status and (not heading or said[:1] == [heading]):
        return
    summary = SUMMARY.search(answer.text)
    said += [p.strip() for p in re.findall(r">([^<>]+)<", summary.group(1))] if summary else []
    raise RuntimeError(
        f"the site refused the demo's {what} (HTTP {answer.status_code}): {'; '.join(said)}"
    )


def _mailed_link(mail: Path, address: str, timeout: float = 30) -> str:
    """The sign-in link in the mail to ``address`` the site delivered to the folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))
            found = SIGN_IN_LINK.search(body.get_content()) if body is not None else None
            if found and address in str(message["To"]):
                return found.group(0)
        time.sleep(0.2)
    raise RuntimeError(f"no sign-in mail to {address} arrived in {mail}")


def _review(log: DemoLog, year: int, when: datetime, say: Callable[[str], None]) -> None:
    """Run the pause-for-approval flow and answer it as the committee would."""
    from flows.pairing_review import review_pairings

    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(
            state=review_pairings(year, max_rounds=2, poll_seconds=1, now=when, return_state=True)
        ),
        daemon=True,
    )
    runner.start()
    run_id = _wait_for_pause(runner)
    say("pairing proposal posted; the committee approves it in the run's resume form")
    from prefect.flow_runs import resume_flow_run

    resume_flow_run(run_id, run_input={"reviewer": "Demo Committee", "approve": True})
    runner.join(timeout=120)
    result = log.record("review-pairings", outcome["state"])
    say(f"{result['message']}")


def _wait_for_pause(runner: threading.Thread, timeout: float = 60) -> Any:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline and runner.is_alive():
            for run in client.read_flow_runs(flow_run_filter=paused):
                if run.state and run.state.state_details.run_input_keyset:
                    return run.id
            time.sleep(0.2)
    raise RuntimeError("the pairing review flow did not pause for input")


def _summary(folder: Path, log: DemoLog) -> dict[str, Any]:
    from domain.notifications import MessageStatus
    from flows.usecases import audit, notifications
    from infra.uow import UnitOfWork

    uow = UnitOfWork.from_settings()
    with uow:
        state = uow.cycles.state_of(log.year)
        pair_count = len(uow.pairings.approved_pairs(log.year))
        task_count = len(uow.tasks.of_cycle(log.year))
    listed = notifications.list_messages(uow, year=log.year)
    check = audit.verify(uow)
    return {
        "year": log.year,
        "state": str(state),
        "flow_runs": log.flow_runs,
        "pairs": pair_count,
        "messages": sum(m.status is MessageStatus.sent for m in listed),
        "messages_by_kind": dict(Counter(m.kind for m in listed)),
        "tasks": task_count,
        "transitions": len(audit.history(uow, log.year).transitions),
        "audit_records": check.records,
        "audit_intact": check.ok,
        "site": log.site,
        "database": os.environ["MENTORING_DATABASE_URL"],
        "mail_folder": str(folder / "mail"),
    }
