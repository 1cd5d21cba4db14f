"""A local Prefect stack as subprocesses: server, work pool, deployments, process workers.

Used by ``mentoring serve``, ``mentoring demo`` (its ephemeral server) and the e2e tests.
Every command runs with this interpreter (``python -m prefect``), so the workers run flows
in this project's venv. The server keeps its own database in SQLite under PREFECT_HOME
unless given a PostgreSQL one (``postgresql+asyncpg://…``).

Every process a stack starts can carry a mark in its environment (:data:`MARK`); the flow
runs a worker starts inherit it, although Prefect starts each in a session of its own. On
Linux the mark finds them all in ``/proc``, even after the program that started them died.
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
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

POOL = "mentoring"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
EPHEMERAL_STARTUP_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_STARTUP_SECONDS = 120
"""Prefect waits 20 s by default for its ephemeral server; a busy machine needs more."""


class PrefectStackError(RuntimeError):
    """A part of the local Prefect stack could not be started or set up."""


MARK = "MENTORING_STACK_MARK"
"""Environment variable naming the stack a process belongs to (set by ``marked``)."""
FLOW_RUN_VARIABLE = "PREFECT__FLOW_RUN_ID"
"""Set by Prefect in the environment of each flow-run process it starts."""
PROC = Path("/proc")


def marked(env: Mapping[str, str], mark: str) -> dict[str, str]:
    """``env`` with the stack's mark, for every process the stack starts."""
    return {**env, MARK: mark}


def can_track_processes() -> bool:
    """Whether this system shows processes under /proc (Linux)."""
    return (PROC / "self" / "stat").is_file()


@dataclass(frozen=True)
class StackProcess:
    """One running process, known by pid and start time, so a recycled pid is not taken
    for it; ``group`` is its process group (a flow run leads its own)."""

    role: str
    pid: int
    group: int
    started: int
    command: str
    flow_run: str | None = None

    def alive(self) -> bool:
        """Still the same process (same start time) and not a zombie."""
        current = _stat(self.pid)
        return current is not None and current[1] == self.started

    def signal(self, signum: signal.Signals) -> bool:
        """Send ``signum`` to its process group when it leads one, else to it alone; False
        if it is gone. Raises PermissionError for another user's process."""
        if not self.alive():
            return False
        try:
            if self.group == self.pid:
                os.killpg(self.group, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def describe(self) -> str:
        run = f", flow run {self.flow_run}" if self.flow_run else ""
        command = self.command if len(self.command) <= 90 else self.command[:87] + "..."
        return f"{self.role} (pid {self.pid}{run}: {command})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of_dict(cls, data: Mapping[str, Any]) -> "StackProcess":
        return cls(
            role=str(data["role"]),
            pid=int(data["pid"]),
            group=int(data["group"]),
            started=int(data["started"]),
            command=str(data["command"]),
            flow_run=None if data.get("flow_run") is None else str(data["flow_run"]),
        )


def _stat(pid: int) -> tuple[int, int] | None:
    """(process group, start time) of a live, non-zombie process; None otherwise."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the name in parentheses may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[2]), int(fields[19])


def _environment(pid: int) -> dict[str, str]:
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or another user's
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def _role(command: str, env: Mapping[str, str]) -> str:
    if FLOW_RUN_VARIABLE in env:
        return "flow run"
    if " worker start" in command:
        return "worker"
    if " server start" in command:
        return "Prefect server"
    return "process"


def read_process(pid: int, role: str | None = None) -> StackProcess | None:
    """The process ``pid`` as it is now (None if gone or not visible)."""
    stat = _stat(pid)
    if stat is None:
        return None
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    command = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    env = _environment(pid)
    return StackProcess(
        role=role or _role(command, env),
        pid=pid,
        group=stat[0],
        started=stat[1],
        command=command,
        flow_run=env.get(FLOW_RUN_VARIABLE),
    )


def marked_processes(mark: str) -> list[StackProcess]:
    """Every live process carrying ``mark`` (this one excepted), by pid."""
    if not can_track_processes():
        return []
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        if _environment(int(entry.name)).get(MARK) == mark:
            process = read_process(int(entry.name))
            if process is not None:
                found.append(process)
    return sorted(found, key=lambda process: process.pid)


def flow_runs(mark: str) -> list[StackProcess]:
    return [process for process in marked_processes(mark) if process.role == "flow run"]


def signal_all(processes: Iterable[StackProcess], signum: signal.Signals) -> list[StackProcess]:
    """Send ``signum`` to each; returns those it could not reach for want of permission."""
    refused = []
    for process in processes:
        try:
            process.signal(signum)
        except PermissionError:
            refused.append(process)
    return refused


def wait_gone(processes: Iterable[StackProcess], timeout: float) -> list[StackProcess]:
    """Wait up to ``timeout`` seconds for the processes to end; returns those still alive."""
    deadline = time.monotonic() + timeout
    left = [process for process in processes if process.alive()]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [process for process in left if process.alive()]
    return left


def finish_flow_runs(mark: str, grace: float) -> tuple[list[StackProcess], list[StackProcess]]:
    """SIGTERM every flow run of the stack (one that starts meanwhile too) and give them
    ``grace`` seconds to end, then SIGKILL their process groups; returns the runs asked
    to stop and those that had to be killed."""
    deadline = time.monotonic() + grace
    asked: dict[tuple[int, int], StackProcess] = {}
    running = flow_runs(mark)
    while running:
        fresh = [run for run in running if (run.pid, run.started) not in asked]
        signal_all(fresh, signal.SIGTERM)
        asked.update(((run.pid, run.started), run) for run in fresh)
        if time.monotonic() >= deadline:
            signal_all(running, signal.SIGKILL)
            wait_gone(running, 5.0)
            return list(asked.values()), running
        time.sleep(0.2)
        running = flow_runs(mark)
    return list(asked.values()), []


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
