"""``mentoring serve``: everything one machine needs to run the deployments.

A Prefect server (unless ``PREFECT_API_URL`` answers), the ``mentoring`` work pool, the
deployments of ``prefect.yaml`` and a process worker, in the foreground until Ctrl-C.
"""

import os
import re
import signal
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from flows import prefect_server as stack
from infra.db import redacted
from infra.settings import Settings

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


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _check_auth(auth: str | None) -> None:
    if auth is not None and (":" not in auth or auth.startswith(":")):
        raise typer.BadParameter("give USER:PASSWORD", param_hint="--auth")


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((stack.client_host(host), port)) == 0


def _start_local_server(
    resources: ExitStack, host: str, port: int, home: Path, auth: str | None
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
    server = stack.start_server(stack.server_env(os.environ, host, port, home, auth), log)
    resources.callback(stack.stop, server, 1, 15.0)
    _say(f"starting the Prefect server on {host}:{port} (log: {log_path})")
    ui_api = os.environ.get("PREFECT_SERVER_UI_API_URL") or os.environ.get("PREFECT_UI_API_URL")
    if host not in ("127.0.0.1", "localhost", "::1") and not ui_api:
        _say("note: set PREFECT_SERVER_UI_API_URL to the API address browsers use")
    api_url = stack.api_url_for(host, port)
    stack.wait_until_healthy(api_url, server, timeout=120)
    return api_url, server


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


def _watch(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Block until Ctrl-C or SIGTERM; a child that dies on its own is an error."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    raise stack.PrefectStackError(f"the {name} stopped (exit {child.returncode})")
            time.sleep(1)
    except KeyboardInterrupt:
        _say("stopping the worker and the server…")
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_command(
    host: Host = "127.0.0.1",
    port: Port = 4200,
    auth: Auth = None,
    no_server: NoServer = False,
) -> None:
    """Run the deployments (schedules, manual runs, triggers) on this machine until Ctrl-C."""
    _check_auth(auth)
    home = Settings.from_env().home.resolve()
    settings = Settings.from_env({**os.environ, "MENTORING_HOME": str(home)})
    prefect_home = Path(os.environ.get("PREFECT_HOME") or home / "prefect").resolve()
    children: dict[str, subprocess.Popen[bytes]] = {}
    with ExitStack() as resources:
        try:
            api_url = _existing_server(no_server)
            if api_url is None:
                api_url, children["Prefect server"] = _start_local_server(
                    resources, host, port, prefect_home, auth
                )
            env = stack.client_env(
                {**os.environ, "MENTORING_HOME": str(home)}, api_url, prefect_home, auth
            )
            stack.ensure_work_pool(env)
            deployed = re.findall(r"Deployment '([^']+)' successfully", stack.deploy_all(env))
            _say(f"deployed: {', '.join(deployed)}")
            children["worker"] = worker = stack.start_worker(env)
            resources.callback(stack.stop_worker, worker)
            typer.echo(f"Prefect UI: {api_url.removesuffix('/api')}/")
            _say(f"database: {redacted(settings.database_url)}; Ctrl-C stops everything")
            _watch(children)
        except stack.PrefectStackError as error:
            _say(f"error: {error}")
            raise typer.Exit(1) from None
