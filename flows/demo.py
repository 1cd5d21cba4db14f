"""``mentoring demo``: a whole cycle, planned → assessed, through the real Prefect flows.

It runs on embedded defaults in a folder of its own (SQLite, .eml mail, an ephemeral
Prefect server), with a simulated clock: each step runs the daily-tick flow as if it
were that day, so a year passes in seconds. The committee's pairing approval is the
real pause-for-input flow, answered by the demo from another thread. Members use the
participants' site over HTTP (:mod:`flows.demo_site`): one applies; once mentoring has
begun three pairs set goals, log meetings and answer check-ins, one pair's check-in needing
the committee; after the formal end their partners answer the survey there (the others'
answers come from a survey export). The ephemeral server is started first, with room to
start on a busy machine (120 s unless PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
says otherwise).
"""

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.demo_site import (
    EngagedPair,
    SiteActivity,
    apply_on_the_site,
    at,
    engaged_pairs,
    mentoring_visits,
    running_site,
    survey_on_the_site,
    visit_pairs,
)
from flows.prefect_server import ephemeral_startup_seconds, start_ephemeral_server


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
    on_the_site: SiteActivity = field(default_factory=SiteActivity)

    def record(self, name: str, state: Any) -> Any:
        self.flow_runs.append(
            {"flow": name, "id": str(state.state_details.flow_run_id), "state": str(state.name)}
        )
        if not state.is_completed():
            raise RuntimeError(f"demo step {name} ended {state.name}: {state.message}")
        return state.result()


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
    from flows.demo_data import write_demo_files
    from flows.usecases import applications, cycles, members
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
    _apply_on_the_site(log, folder, roster, apps, at(year, 9, 2, 10), say)
    tick(at(year, 9, 24), "deadline reminder")
    tick(at(year, 10, 1), "applications close")
    _review(log, year, at(year, 10, 15, 10), say)
    for month, day, label in (
        (11, 5, "pairings announced"),
        (11, 20, "orientation"),
        (12, 1, "formal mentoring begins"),
    ):
        tick(at(year, month, day), label)
    _mentoring_on_the_site(log, folder, roster, tick, say)
    tick(at(year + 1, 7, 1), "formal mentoring ends")
    _survey(log, folder, roster, say)
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
    log: DemoLog,
    folder: Path,
    roster: Path,
    applications: Path,
    when: datetime,
    say: Callable[[str], None],
) -> None:
    """A member not in the imported file applies on the site, as a member does."""
    from flows.demo_data import site_applicant

    applicant = site_applicant(roster, applications, when.date())
    with running_site(when, folder / "mail", log.on_the_site) as site:
        apply_on_the_site(site, applicant, when)
    role = str(applicant.form["role"])
    log.site = {"url": site.url, "member_id": applicant.member_id, "role": role}
    say(
        f"the participants' site at {site.url}: {applicant.member_id} asked for a sign-in "
        f"link, opened it from the mail folder and applied as a {role}, over HTTP"
    )


def _engaged(year: int, roster: Path) -> list[EngagedPair]:
    from flows.demo_data import member_emails
    from infra.uow import UnitOfWork

    with UnitOfWork.from_settings() as uow:
        pairs = uow.pairings.approved_pairs(year)
    return engaged_pairs(pairs, member_emails(roster))


def _mentoring_on_the_site(
    log: DemoLog,
    folder: Path,
    roster: Path,
    tick: Callable[[datetime, str], None],
    say: Callable[[str], None],
) -> None:
    """The monthly ticks of formal mentoring, and between them the engaged pairs' visits
    to the site (one server for the whole of it)."""
    year = log.year
    pairs = _engaged(year, roster)
    visits = mentoring_visits(year)
    ticks = [at(year + 1, month, 2) for month in range(1, 7)]
    with running_site(visits[0].when, folder / "mail", log.on_the_site) as site:
        for when in sorted([*ticks, *(v.when for v in visits)]):
            visit = next((v for v in visits if v.when == when), None)
            if visit is None:
                tick(when, "monthly check-in")
                continue
            done = visit_pairs(site, pairs, visit)
            say(
                f"{when:%Y-%m-%d} on the site: {done.sign_ins} partner(s) signed in from the "
                f"mailed link; {done.goals} pair(s) set goals, {done.meetings} meeting(s) "
                f"logged, {done.check_ins} check-in(s) answered"
            )
            for pair_id in done.flagged_pairs:
                _tell_the_committee(log, pair_id, site.clock(), say)


def _tell_the_committee(
    log: DemoLog, pair_id: int, when: datetime, say: Callable[[str], None]
) -> None:
    """Run the needs-attention trigger's flow on the demo's clock. The site's event is not
    sent in the demo (no Prefect API for it: the site logs a warning, see
    :func:`flows.pair_attention.announce_needs_attention`), so the demo starts the flow
    the trigger would have started."""
    from flows.pair_attention import tell_the_committee_about_a_pair

    told = log.record(
        "tell-the-committee-about-a-pair",
        tell_the_committee_about_a_pair(log.year, pair_id, now=when, return_state=True),
    )
    say(
        f"pair {pair_id} flagged (a check-in scored 2 of 5 and asked the committee to get in "
        "touch): the committee has a task; with no Prefect API here no event was sent (the "
        f"site's warning), so the demo runs the trigger's flow itself: {told['message']}"
    )


def _survey(log: DemoLog, folder: Path, roster: Path, say: Callable[[str], None]) -> None:
    """The engaged pairs' partners answer the survey on the site; the others' answers come
    from the survey export."""
    from flows.demo_data import write_demo_survey
    from flows.usecases import assessment
    from infra.uow import UnitOfWork

    year = log.year
    when = at(year + 1, 7, 8, 10)
    with running_site(when, folder / "mail", log.on_the_site) as site:
        survey = survey_on_the_site(site, _engaged(year, roster), when)
    done = survey.done
    say(
        f"{when:%Y-%m-%d} on the site: {done.sign_ins} participant(s) signed in; "
        f"{done.survey_answers} survey answer(s), {done.continuing_answers} answer(s) on "
        f"going on meeting, {done.meetings} June meeting(s) logged"
    )
    uow = UnitOfWork.from_settings()
    with uow:
        pairs = [p.members for p in uow.pairings.approved_pairs(year)]
    export = write_demo_survey(folder / "inputs", year, pairs, answered=survey.places)
    answered = assessment.import_responses(
        uow, year, export, actor="demo", now=at(year + 1, 7, 20, 12)
    )
    say(f"survey export: {answered.imported} more response(s) imported")


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
    from flows.usecases.engagement_figures import cycle_engagement
    from infra.uow import UnitOfWork

    uow = UnitOfWork.from_settings()
    with uow:
        state = uow.cycles.state_of(log.year)
        pair_count = len(uow.pairings.approved_pairs(log.year))
        task_count = len(uow.tasks.of_cycle(log.year))
    listed = notifications.list_messages(uow, year=log.year)
    check = audit.verify(uow)
    engaged = cycle_engagement(uow, now=at(log.year + 1, 8, 1)).get(log.year)
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
        "on_the_site": log.on_the_site.as_dict(),
        "engagement": engaged.as_dict() if engaged else None,
        "database": os.environ["MENTORING_DATABASE_URL"],
        "mail_folder": str(folder / "mail"),
    }
