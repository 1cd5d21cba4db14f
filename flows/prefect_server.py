"""A local Prefect stack as subprocesses: server, work pool, deployments, process worker.

Used by ``mentoring serve`` and by the browser test. Every command runs with this
interpreter (``python -m prefect``), so the worker runs flows in this project's venv.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

POOL = "mentoring"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class PrefectStackError(RuntimeError):
    """A part of the local Prefect stack could not be started or set up."""


def prefect_command(*args: str) -> list[str]:
    """The ``prefect`` CLI of this interpreter."""
    return [sys.executable, "-m", "prefect", *args]


def client_host(host: str) -> str:
    """Where a local client reaches a server bound to ``host`` (any-address → loopback)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def api_url_for(host: str, port: int) -> str:
    return f"http://{client_host(host)}:{port}/api"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def api_answers(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its (unauthenticated) health check."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return bool(reply.status == 200)
    except (OSError, http.client.HTTPException, ValueError):
        return False


def server_env(
    base: Mapping[str, str], host: str, port: int, home: Path, auth: str | None
) -> dict[str, str]:
    """Environment for ``prefect server start``: bind address by env vars, not ``--port``."""
    env = {k: v for k, v in base.items() if k not in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_API_HOST=host,
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT="false",
    )
    if auth:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth
    return env


def client_env(
    base: Mapping[str, str], api_url: str, home: Path, auth: str | None
) -> dict[str, str]:
    """Environment for the CLI, the worker and the flow runs it starts."""
    env = dict(base)
    env.update(PREFECT_API_URL=api_url, PREFECT_HOME=str(home))
    if auth:
        env["PREFECT_API_AUTH_STRING"] = auth
    return env


def start_server(env: Mapping[str, str], log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """``prefect server start`` in its own session (Ctrl-C goes to us, not to it)."""
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        prefect_command("server", "start"),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_healthy(
    api_url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 90.0
) -> float:
    """Wait for ``/api/health``; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if api_answers(api_url, timeout=1.0):
            return time.monotonic() - start
        if process is not None and process.poll() is not None:
            raise PrefectStackError(f"the Prefect server exited with code {process.returncode}")
        time.sleep(0.2)
    raise PrefectStackError(f"the Prefect server at {api_url} did not answer in {timeout:.0f} s")


def _run(args: list[str], env: Mapping[str, str], cwd: Path | None = None) -> str:
    done = subprocess.run(
        args, env=dict(env), cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and "already exists" not in output:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise PrefectStackError(f"`{' '.join(args[2:])}` failed ({done.returncode}):\n{tail}")
    return output


def ensure_work_pool(env: Mapping[str, str], name: str = POOL) -> None:
    """Create the process work pool unless it exists (its settings are left alone)."""
    _run(prefect_command("work-pool", "create", name, "--type", "process"), env)


def deploy_all(env: Mapping[str, str], project: Path = PROJECT_ROOT) -> str:
    """``prefect deploy --all`` with the project's prefect.yaml; returns its output."""
    if not (project / "prefect.yaml").is_file():
        raise PrefectStackError(f"no prefect.yaml in {project}")
    return _run(prefect_command("--no-prompt", "deploy", "--all"), env, cwd=project)


def start_worker(
    env: Mapping[str, str], pool: str = POOL, log: IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """A process worker for ``pool``, running flows with this interpreter."""
    return subprocess.Popen(
        prefect_command("worker", "start", "--pool", pool, "--type", "process"),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes], sigterms: int = 1, grace: float = 5.0) -> int:
    """SIGTERM (``sigterms`` times, ``grace`` s apart), then SIGKILL its process group."""
    for _ in range(sigterms):
        if process.poll() is not None:
            return process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            process.kill()
    return process.wait()


def stop_worker(process: subprocess.Popen[bytes]) -> int:
    """A worker only asks itself to stop on the first SIGTERM; the second one ends it."""
    return stop(process, sigterms=2, grace=4.0)
