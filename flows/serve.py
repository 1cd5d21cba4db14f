"""``mentoring serve``: everything one machine needs to run the deployments.

A Prefect server (unless ``PREFECT_API_URL`` answers), the ``mentoring`` work pool, the
deployments of ``prefect.yaml``, a process worker and the participants' site (``mentoring
portal``, unless it has no secret key or ``--no-portal``), in the foreground until Ctrl-C.

Prefect starts each flow run in a session of its own, out of reach of a signal to the
worker's group, and its worker gives up on them when killed; so serve stops them itself:
on Ctrl-C or SIGTERM it lets the flow runs finish (a delivery completes the messages in
flight), then stops the worker, then the server. ``PREFECT_HOME/serve.pids`` records what
it started; a serve that was killed leaves it behind, and the next one stops what is left.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import httpx
import typer

from flows import prefect_server as stack
from flows.web.secret_key import SecretKeyMissing, portal_secret_key
from infra.db import redacted
from infra.settings import Settings, mail_settings_from_env

Host = Annotated[
    str,
    typer.Option(help="Address the Prefect server listens on; keep 127.0.0.1 behind a proxy."),
]
Port = Annotated[int, typer.Option(help="Port of the Prefect server and its UI.")]
Auth = Annotated[
    str | None,
    typer.Option(
        "--auth",
        envvar="MENTORING_UI_AUTH",
        metavar="USER:PASSWORD",
        help="Basic auth for the UI and API (the server asks for it, the worker sends it).",
        show_default=False,
    ),
]
NoServer = Annotated[
    bool, typer.Option("--no-server", help="Use the Prefect server at PREFECT_API_URL.")
]
PortalHost = Annotated[str, typer.Option(help="Address the participants' site listens on.")]
PortalPort = Annotated[int, typer.Option(help="Port of the participants' site.")]
NoPortal = Annotated[bool, typer.Option("--no-portal", help="Do not start the participants' site.")]
PORTAL_START_SECONDS = 30


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _check_auth(auth: str | None) -> None:
    if auth is not None and (":" not in auth or auth.startswith(":")):
        raise typer.BadParameter("give USER:PASSWORD", param_hint="--auth")


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((stack.client_host(host), port)) == 0


def _start_local_server(
    resources: ExitStack, host: str, port: int, home: Path, auth: str | None, mark: str
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``prefect server start`` and wait until it answers; returns its API URL."""
    if _port_taken(host, port):
        raise stack.PrefectStackError(
            f"port {port} is already in use; choose another with --port, or point "
            "PREFECT_API_URL at the server listening there and use --no-server"
        )
    log_path = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    log = resources.enter_context(log_path.open("ab"))
    server_env = stack.marked(stack.server_env(os.environ, host, port, home, auth), mark)
    server = stack.start_server(server_env, log)
    resources.callback(_stop_server, server)
    _say(f"starting the Prefect server on {host}:{port} (log: {log_path})")
    ui_api = os.environ.get("PREFECT_SERVER_UI_API_URL") or os.environ.get("PREFECT_UI_API_URL")
    if host not in ("127.0.0.1", "localhost", "::1") and not ui_api:
        _say("note: set PREFECT_SERVER_UI_API_URL to the API address browsers use")
    api_url = stack.api_url_for(host, port)
    stack.wait_until_healthy(api_url, server, timeout=120)
    return api_url, server


def _start_portal(
    resources: ExitStack, host: str, port: int, home: Path, env: Mapping[str, str]
) -> subprocess.Popen[bytes] | None:
    """``mentoring portal`` beside the deployments, once it answers ``/healthz``; None (and
    a note) when it has no secret key, for the deployments do not need the site. ``env``
    is the worker's (marked, with PREFECT_API_URL), so the site's events reach the server
    the automations listen on."""
    try:
        portal_secret_key()  # generated here first, where the embedded home allows it
    except SecretKeyMissing as missing:
        _say(f"note: the participants' site is not started: {missing}")
        return None
    if _port_taken(host, port):
        raise stack.PrefectStackError(
            f"port {port} of the participants' site is already in use; choose another with "
            "--portal-port, or --no-portal"
        )
    log_path = home / "portal.log"
    log = resources.enter_context(log_path.open("ab"))
    portal = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "portal", "--host", host, "--port", str(port)],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    resources.callback(_stop_portal, portal)
    address = f"http://{stack.client_host(host)}:{port}"
    deadline = time.monotonic() + PORTAL_START_SECONDS
    while not _answers(f"{address}/healthz"):
        if portal.poll() is not None:
            raise stack.PrefectStackError(
                f"the participants' site exited with code {portal.returncode} (log: {log_path})"
            )
        if time.monotonic() > deadline:
            raise stack.PrefectStackError(
                f"the participants' site did not answer in {PORTAL_START_SECONDS} s "
                f"(log: {log_path})"
            )
        time.sleep(0.2)
    return portal


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _stop_portal(portal: subprocess.Popen[bytes]) -> None:
    _say("stopping the participants' site…")
    stack.stop(portal, 1, 10.0)


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    _say("stopping the Prefect server…")
    stack.stop(server, 1, 15.0)


def _existing_server(required: bool) -> str | None:
    """PREFECT_API_URL if it answers; None means: start a local server."""
    existing = os.environ.get("PREFECT_API_URL", "").rstrip("/")
    if existing and stack.api_answers(existing):
        _say(f"using the Prefect server at {existing}")
        return existing
    if required:
        problem = f"{existing} does not answer" if existing else "is not set"
        raise stack.PrefectStackError(f"--no-server, but PREFECT_API_URL {problem}")
    if existing:
        _say(f"PREFECT_API_URL={existing} does not answer; starting a local server")
    return None


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _already_stopping(_signum: int, _frame: FrameType | None) -> None:
    _say("already stopping; it ends by itself within the time said above")


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM acts as Ctrl-C while serve starts and runs; once it stops, a second Ctrl-C
    or SIGTERM cannot cut the stop short (its every step is bounded in time)."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, _already_stopping)
        signal.signal(signal.SIGINT, _already_stopping)


def _flow_run_grace() -> float:
    """Seconds a flow run gets to finish once asked to stop: a message in flight may wait
    ``MENTORING_SMTP_TIMEOUT`` for the server's answer, then it is recorded and the run
    ends, which takes Prefect a few seconds more."""
    try:
        smtp_timeout = mail_settings_from_env().timeout
    except ValueError as error:
        _say(f"note: {error}; flow runs get 10 s to finish when serve stops")
        smtp_timeout = 10
    return smtp_timeout + FLOW_RUN_END_SECONDS


FLOW_RUN_END_SECONDS = 10
"""What a flow run needs after its last message: record it, report its state, exit."""


class ProcessRecord:
    """``PREFECT_HOME/serve.pids``: this serve and what it started, each by pid, process
    group, start time and command line, rewritten when that changes, removed on a clean
    stop. The mark finds the flow runs started after the last rewrite too."""

    def __init__(self, path: Path, mark: str) -> None:
        self.path = path
        self.mark = mark
        self.serve = stack.read_process(os.getpid(), role="mentoring serve")
        self.written: list[stack.StackProcess] | None = None

    def refresh(self) -> None:
        if self.serve is None:  # no /proc: nothing to record
            return
        processes = stack.marked_processes(self.mark)
        if processes == self.written:
            return
        record = {
            "mark": self.mark,
            "serve": self.serve.as_dict(),
            "processes": [process.as_dict() for process in processes],
        }
        partial = self.path.with_suffix(".pids.new")
        partial.write_text(json.dumps(record, indent=1) + "\n")
        partial.replace(self.path)
        self.written = processes

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _previous_record(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise stack.PrefectStackError(
            f"{path} cannot be read ({error}); check that no `mentoring serve` runs with this "
            f"Prefect home (ps -ef | grep prefect), then delete the file"
        ) from None
    if not isinstance(record, dict):
        raise stack.PrefectStackError(f"{path} is not a serve record; delete it")
    return record


def _left_behind(record: dict[str, Any], path: Path) -> list[stack.StackProcess]:
    """What a previous serve started and left running; an error if it still runs."""
    try:
        owner = stack.StackProcess.of_dict(record["serve"])
        recorded = [stack.StackProcess.of_dict(item) for item in record["processes"]]
        mark = str(record["mark"])
    except (KeyError, TypeError, ValueError):
        raise stack.PrefectStackError(f"{path} is not a serve record; delete it") from None
    if owner.alive():
        raise stack.PrefectStackError(
            f"another `mentoring serve` (pid {owner.pid}) runs with this Prefect home; "
            f"stop it first (kill {owner.pid}), or give this one another MENTORING_HOME"
        )
    found = {(process.pid, process.started): process for process in stack.marked_processes(mark)}
    for process in recorded:
        if process.alive():
            found.setdefault((process.pid, process.started), process)
    if found:
        _say(f"a previous `mentoring serve` (pid {owner.pid}) was killed; it left running:")
    return sorted(found.values(), key=lambda process: process.pid)


def _clear_leftovers(path: Path, grace: float) -> None:
    """Stop what a killed serve left running, flow runs first (they still have their
    server to report to), or say exactly what to run."""
    record = _previous_record(path)
    if record is None:
        return
    left = _left_behind(record, path)
    runs = [process for process in left if process.role == "flow run"]
    others = [process for process in left if process.role != "flow run"]
    for process in left:
        _say(f"  {process.describe()}")
    refused = stack.signal_all(runs, signal.SIGTERM)
    if runs:
        _say(f"asking the {len(runs)} flow run(s) to finish (up to {grace:.0f} s)…")
    stubborn = _kill_after(runs, grace)
    refused += stack.signal_all(others, signal.SIGTERM)
    if others:
        _say("stopping the worker and server it left…")
    stubborn += _kill_after(others, 15.0)
    if refused or stubborn:
        pids = " ".join(str(process.pid) for process in refused + stubborn)
        raise stack.PrefectStackError(
            f"could not stop pid(s) {pids}; run `sudo kill -9 {pids}` (or as the user who "
            f"started them), then `rm {path}` and start serve again"
        )
    if left:
        _say("cleared what the previous serve left")
    path.unlink(missing_ok=True)


def _kill_after(processes: list[stack.StackProcess], grace: float) -> list[stack.StackProcess]:
    """Wait ``grace`` s for them to end, SIGKILL the rest; returns any that outlive it."""
    late = stack.wait_gone(processes, grace)
    for process in late:
        _say(f"killing {process.describe()}: still running after {grace:.0f} s")
    stack.signal_all(late, signal.SIGKILL)
    return stack.wait_gone(late, 5.0)


def _stop_runs_and_worker(worker: subprocess.Popen[bytes], mark: str, grace: float) -> None:
    """Every flow run is asked to finish and killed after ``grace`` s; then the worker.

    The worker stays up meanwhile: it relays the runs' logs, and a worker told to stop
    cuts its runs short (their output pipe closes, and a delivery dies before giving back
    the messages it holds). A run it starts meanwhile is asked to stop too.
    """
    going = stack.flow_runs(mark)
    if going:
        pids = ", ".join(str(run.pid) for run in going)
        _say(f"asking {len(going)} flow run(s) to finish, up to {grace:.0f} s (pid {pids})…")
    asked, killed = stack.finish_flow_runs(mark, grace)
    for run in killed:
        _say(f"killed {run.describe()}: still running after {grace:.0f} s")
    if asked:
        _say(f"{len(asked) - len(killed)} of {len(asked)} flow run(s) finished")
    if worker.poll() is None:
        _say("stopping the worker…")
        stack.stop_worker(worker)


def _sweep(mark: str, record: ProcessRecord) -> None:
    """Last: kill anything of this serve still running, then drop the record."""
    left = stack.marked_processes(mark)
    for process in left:
        _say(f"killing {process.describe()}: still running after the stop")
    stack.signal_all(left, signal.SIGKILL)
    if stack.wait_gone(left, 5.0):
        pids = " ".join(str(process.pid) for process in left)
        _say(f"could not stop pid(s) {pids}: run `kill -9 {pids}`")
        return
    record.remove()
    _say("stopped")


def _watch(children: dict[str, subprocess.Popen[bytes]], record: ProcessRecord) -> None:
    """Block until Ctrl-C or SIGTERM, keeping the record current; a child that dies on its
    own is an error."""
    try:
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    raise stack.PrefectStackError(f"the {name} stopped (exit {child.returncode})")
            record.refresh()
            time.sleep(1)
    except KeyboardInterrupt:
        _say("stopping the flow runs, the worker and the server…")


def serve_command(
    host: Host = "127.0.0.1",
    port: Port = 4200,
    auth: Auth = None,
    no_server: NoServer = False,
    portal_host: PortalHost = "127.0.0.1",
    portal_port: PortalPort = 8050,
    no_portal: NoPortal = False,
) -> None:
    """Run the deployments (schedules, manual runs, triggers) and the participants' site
    on this machine until Ctrl-C."""
    _check_auth(auth)
    home = Settings.from_env().home.resolve()
    settings = Settings.from_env({**os.environ, "MENTORING_HOME": str(home)})
    prefect_home = Path(os.environ.get("PREFECT_HOME") or home / "prefect").resolve()
    prefect_home.mkdir(parents=True, exist_ok=True)
    grace = _flow_run_grace()
    mark = uuid.uuid4().hex
    record = ProcessRecord(prefect_home / "serve.pids", mark)
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        with ExitStack() as resources, _interruptible():
            _clear_leftovers(record.path, grace)
            if record.serve is None:
                _say("note: no /proc here; if serve is killed, stop its children by hand")
            record.refresh()
            resources.callback(_sweep, mark, record)
            api_url = _existing_server(no_server)
            if api_url is None:
                api_url, children["Prefect server"] = _start_local_server(
                    resources, host, port, prefect_home, auth, mark
                )
            env = stack.marked(
                stack.client_env(
                    {**os.environ, "MENTORING_HOME": str(home)}, api_url, prefect_home, auth
                ),
                mark,
            )
            stack.ensure_work_pool(env)
            deployed = re.findall(r"Deployment '([^']+)' successfully", stack.deploy_all(env))
            _say(f"deployed: {', '.join(deployed)}")
            children["worker"] = worker = stack.start_worker(env)
            resources.callback(_stop_runs_and_worker, worker, mark, grace)
            portal = None
            if not no_portal:
                portal = _start_portal(resources, portal_host, portal_port, home, env)
            if portal is not None:
                children["participants' site"] = portal
            record.refresh()
            typer.echo(f"Prefect UI: {api_url.removesuffix('/api')}/")
            if portal is not None:
                host = stack.client_host(portal_host)
                typer.echo(f"Participants' site: http://{host}:{portal_port}/")
            _say(f"database: {redacted(settings.database_url)}; Ctrl-C stops everything")
            _watch(children, record)
    except KeyboardInterrupt:
        _say("stopped while starting")
    except stack.PrefectStackError as error:
        _say(f"error: {error}")
        raise typer.Exit(1) from None
