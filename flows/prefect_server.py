"""A local Prefect stack as subprocesses: server, work pool, deployments, process workers.

Used by ``mentoring serve``, ``mentoring demo`` (its ephemeral server) and the e2e tests.
Every command runs with this interpreter (``python -m prefect``), so the workers run flows
in this project's venv. The server keeps its own database in SQLite under PREFECT_HOME
unless given a PostgreSQL one (``postgresql+asyncpg://…``).
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
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import IO

POOL = "mentoring"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
EPHEMERAL_STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_SECONDS = 120
"""Prefect waits 20 s by default for its ephemeral server; a busy machine needs more."""


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
    base: Mapping[str, str],
    host: str,
    port: int,
    home: Path,
    auth: str | None,
    database_url: str | None = None,
) -> dict[str, str]:
    """Environment for ``prefect server start``: bind address by env vars, not ``--port``;
    ``database_url`` (``postgresql+asyncpg://…``) replaces the SQLite file in ``home``."""
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
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
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


def deploy_all(
    env: Mapping[str, str], project: Path = PROJECT_ROOT, names: Sequence[str] = ()
) -> str:
    """``prefect deploy --all`` with the project's prefect.yaml (or only the deployments
    ``names``, each as declared there); returns its output."""
    if not (project / "prefect.yaml").is_file():
        raise PrefectStackError(f"no prefect.yaml in {project}")
    chosen = [option for name in names for option in ("--name", name)] or ["--all"]
    return _run(prefect_command("--no-prompt", "deploy", *chosen), env, cwd=project)


def start_worker(
    env: Mapping[str, str],
    pool: str = POOL,
    log: IO[bytes] | None = None,
    *,
    name: str | None = None,
    limit: int | None = None,
) -> subprocess.Popen[bytes]:
    """A process worker for ``pool``, running flows with this interpreter; ``name`` is what
    it writes on the runs it takes (label ``prefect.worker.name``), ``limit`` caps how many
    it runs at once (default: no cap)."""
    options = [*(("--name", name) if name else ()), *(("--limit", str(limit)) if limit else ())]
    return subprocess.Popen(
        prefect_command("worker", "start", "--pool", pool, "--type", "process", *options),
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


def ephemeral_startup_seconds(environ: MutableMapping[str, str]) -> int:
    """How long to wait for the ephemeral server: the operator's own value, else 120 s,
    written back to ``environ`` so Prefect (which reads it once) waits as long."""
    given = environ.get(EPHEMERAL_STARTUP_SETTING, "").strip()
    if not given:
        seconds = EPHEMERAL_STARTUP_SECONDS
    elif given.isdigit() and int(given) > 0:
        seconds = int(given)
    else:
        raise PrefectStackError(
            f"{EPHEMERAL_STARTUP_SETTING}={given!r}: give a whole number of seconds"
        )
    environ[EPHEMERAL_STARTUP_SETTING] = str(seconds)
    return seconds


def start_ephemeral_server(timeout: int) -> float:
    """Start the in-process run's temporary Prefect server now, waiting up to ``timeout``
    seconds, so that a slow start is said once instead of failing the first flow run;
    returns the seconds it took. Later clients reuse it."""
    from httpx import HTTPStatusError
    from prefect.server.api.server import SubprocessASGIServer

    started = time.monotonic()
    server = SubprocessASGIServer()
    try:
        server.start(timeout=timeout)
    except (RuntimeError, HTTPStatusError):
        server.stop()
        raise PrefectStackError(
            f"the local Prefect server did not start within {timeout} s (the machine may be "
            f"busy); try again, or give it longer: {EPHEMERAL_STARTUP_SETTING}="
            f"{max(timeout * 2, EPHEMERAL_STARTUP_SECONDS * 2)}"
        ) from None
    return time.monotonic() - started
