"""``mentoring demo`` walks a whole cycle through the real flows, as a newcomer runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path


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
