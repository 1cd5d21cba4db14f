"""``mentoring demo`` walks a whole cycle through the real flows, as a newcomer runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from flows.usecases import audit as audit_cases
from infra.db import session_factory
from infra.uow import UnitOfWork

SITE_KINDS = ("goals_set", "meeting_logged", "checked_in", "survey_answered", "continuing_said")


def test_the_demo_walks_a_cycle_from_planned_to_assessed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo", "--json", "--folder", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["state"] == "assessed"
    assert summary["transitions"] == 7 and summary["audit_intact"] is True
    assert summary["pairs"] > 0 and summary["messages"] > 0
    flows = {run["flow"] for run in summary["flow_runs"]}
    assert flows == {
        "daily-tick",
        "deliver-notifications",
        "review-pairings",
        "tell-the-committee-about-a-pair",
        "publish-assessment-report",
    }
    assert all(run["state"] == "Completed" for run in summary["flow_runs"])
    mail = list((tmp_path / "d" / "mail").glob("*.eml"))
    assert len(mail) == summary["messages"]
    kinds = summary["messages_by_kind"]
    assert kinds["pairing_notice"] == 2 * summary["pairs"]
    assert kinds["orientation_invitation"] > 0 and kinds["assessment_invitation"] > 0
    invited = kinds["assessment_invitation"]
    assert 0 < kinds["assessment_reminder"] < invited, "only those who did not answer"

    audit = subprocess.run(
        [sys.executable, "-m", "flows.cli", "audit", "2026", "--json"],
        capture_output=True,
        text=True,
        env={**env, "MENTORING_DATABASE_URL": summary["database"]},
        timeout=120,
        check=True,
    )
    story = json.loads(audit.stdout)
    assert [t["target"] for t in story["transitions"]] == [
        "call_open",
        "applications_closed",
        "paired",
        "orientation",
        "active",
        "ended",
        "assessed",
    ]
    assert all(t["flow_run_id"] for t in story["transitions"]), "each came through a flow"
    decisions = [(d["decision"], d["actor"]) for d in story["pairing_decisions"]]
    assert decisions == [("proposed", "review-pairings flow"), ("approved", "Demo Committee")]
    assert story["paired"]["pairs"] == summary["pairs"]
    sent = {kind: m["sent"] for kind, m in story["messages"]["by_kind"].items()}
    assert sent == kinds
    assert story["applications"]["imported"] > 0

    site = summary["site"]
    assert site["url"].startswith("http://127.0.0.1:") and site["role"] == "mentee"
    listed = subprocess.run(
        [sys.executable, "-m", "flows.cli", "applications", "list", "2026", "--json"],
        capture_output=True,
        text=True,
        env={**env, "MENTORING_DATABASE_URL": summary["database"]},
        timeout=120,
        check=True,
    )
    sources = {a["member_id"]: a["source"] for a in json.loads(listed.stdout)}
    assert sources[site["member_id"]] == "site", "applied over HTTP on the site"
    assert sorted(set(sources.values())) == ["import", "site"]

    done = summary["on_the_site"]
    assert done["sign_ins"] == kinds["sign_in_link"], "each visit signed in from a mailed link"
    assert done["applications"] == 1 and done["goals"] == 3 and len(done["flagged_pairs"]) == 1
    assert done["meetings"] > done["goals"] and done["check_ins"] > done["goals"]
    assert done["survey_answers"] == done["continuing_answers"] == 2 * done["goals"]
    engaged = summary["engagement"]
    assert engaged["pairs_met"] == done["goals"] == engaged["goals_set"]
    assert engaged["meetings"] == done["meetings"] and engaged["flagged"] == 1
    assert 0 < engaged["met_every_month"] < done["goals"], "the flagged pair missed months"
    told = [p for p in mail if "attention" in p.name]
    assert len(told) == 1 and "Get in touch with" in told[0].read_text()

    history = audit_cases.history(UnitOfWork(session_factory(summary["database"])), 2026)
    by_kind = {kind: [r for r in history.records if r.kind == kind] for kind in SITE_KINDS}
    assert [len(by_kind[k]) for k in SITE_KINDS] == [
        done["goals"],
        done["meetings"],
        done["check_ins"],
        done["survey_answers"],
        done["continuing_answers"],
    ]
    for record in (r for records in by_kind.values() for r in records):
        assert record.fields["trigger"] == "site"
        partners = {record.fields.get(k) for k in ("mentor_id", "mentee_id", "member_id")}
        assert record.actor in partners, "the member who used the site is the actor"
    flagged = [r for r in by_kind["checked_in"] if r.fields["flagged"]]
    assert [r.fields["pair_id"] for r in flagged] == done["flagged_pairs"]

    listed_cycles = subprocess.run(
        [sys.executable, "-m", "flows.cli", "cycle", "list", "--json"],
        capture_output=True,
        text=True,
        env={**env, "MENTORING_DATABASE_URL": summary["database"]},
        timeout=120,
        check=True,
    )
    (cycle,) = json.loads(listed_cycles.stdout)["cycles"]
    assert cycle["engagement"] == engaged, "`cycle list` shows the figures the demo reports"
