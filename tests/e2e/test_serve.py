"""``mentoring serve`` as the committee starts it: a local Prefect server with sign-in, the
deployments of ``prefect.yaml`` with their schedules, a worker, and a clean stop."""

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from flows import prefect_server

EXPECTED = {
    d["name"]
    for d in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "prefect.yaml").read_text(encoding="utf-8")
    )["deployments"]
}


@pytest.fixture(scope="module", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Overrides the e2e harness: serve starts a real server of its own."""
    yield


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = path.read_text(errors="replace") if path.exists() else ""
        if text in seen:
            return seen
        if proc.poll() is not None:
            pytest.fail(f"serve stopped (exit {proc.returncode}):\n{seen[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"serve did not print {text!r} in {timeout} s")


def _workers(api: str, token: str, timeout: float = 60) -> list[dict[str, object]]:
    """The pool's workers, once one has said hello (a new worker takes a few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.post(
            f"{api}/work_pools/mentoring/workers/filter",
            json={},
            headers={"Authorization": f"Basic {token}"},
            timeout=10,
        )
        answer.raise_for_status()
        if answer.json() or time.monotonic() > deadline:
            return list(answer.json())
        time.sleep(1)


def test_serve_brings_up_the_ui_with_sign_in_every_deployment_and_the_site(
    tmp_path: Path,
) -> None:
    port, site_port = prefect_server.free_port(), prefect_server.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORING_"))}
    env.update(
        MENTORING_HOME=str(tmp_path / "home"),
        MENTORING_UI_AUTH="chair:long-secret",
        MENTORING_SECRET_KEY="a-test-secret-key-that-is-long-enough-0123456789",
    )
    script = Path(sys.executable).with_name("mentoring")
    subprocess.run([str(script), "db", "upgrade"], env=env, check=True, capture_output=True)
    output = tmp_path / "serve.out"
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            [str(script), "serve", "--port", str(port), "--portal-port", str(site_port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )
        try:
            said = _wait_for(output, "Prefect UI:", proc, timeout=240)
            assert f"http://127.0.0.1:{port}/" in said
            said = _wait_for(output, "Participants' site:", proc, timeout=60)
            assert f"Participants' site: http://127.0.0.1:{site_port}/" in said
            site = f"http://127.0.0.1:{site_port}"
            assert httpx.get(f"{site}/healthz", timeout=10).text.strip() == "ok"
            assert "Sign in" in httpx.get(f"{site}/sign-in", timeout=10).text
            api = f"http://127.0.0.1:{port}/api"
            assert httpx.get(f"{api}/health", timeout=10).status_code == 200
            anonymous = httpx.post(f"{api}/deployments/filter", json={}, timeout=10)
            assert anonymous.status_code == 401
            token = base64.b64encode(b"chair:long-secret").decode()
            signed_in = httpx.post(
                f"{api}/deployments/filter",
                json={},
                headers={"Authorization": f"Basic {token}"},
                timeout=10,
            )
            assert signed_in.status_code == 200
            deployments = {d["name"]: d for d in signed_in.json()}
            assert set(deployments) >= EXPECTED
            (tick,) = deployments["daily-tick"]["schedules"]
            assert tick["schedule"]["cron"] == "0 6 * * *"
            assert tick["schedule"]["timezone"] == "America/Chicago"
            assert _workers(api, token), "a worker polls the mentoring pool"
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    assert code == 0, output.read_text(errors="replace")[-3000:]
    with pytest.raises(httpx.ConnectError):  # the site stopped with the rest
        httpx.get(f"http://127.0.0.1:{site_port}/healthz", timeout=5)
    said = output.read_text(errors="replace")
    assert "stopping the flow runs, the worker and the server" in said
    assert said.rstrip().endswith("stopped"), said[-3000:]
    assert not (tmp_path / "home" / "prefect" / "serve.pids").exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
