"""Benchmark of the participants' site at the application deadline, on PostgreSQL, beside a
FastAPI "hello world" measured the same way in the same run (issue 14's load target).

Run ``python benchmarks/bench_portal.py`` from the repository root, with PostgreSQL at
127.0.0.1:5432 (user postgres, trust auth; ``--postgres-url`` names another server).
``--members`` (2,000), ``--clients`` (50), ``--seconds`` (30 per server) and ``--help``
list the rest. Not a test: a full run takes five to six minutes, most of it signing in.

What it does:

- a scratch database ``bench_portal`` (dropped first if it is there, dropped after unless
  ``--keep``), a temporary MENTORING_HOME and .eml mail folder; ``mentoring db upgrade``,
  a roster of N current Core members (``members import``), a cycle (next year's, its
  call moved to open a few seconds later, the rest of its calendar as by default), whose
  call the committee then opens (``cycle advance open_call``): all through the
  ``mentoring`` command, as a committee runs it.
- ``mentoring portal`` in a subprocess (uvicorn, as a member reaches it), and in another
  subprocess a FastAPI app with ``GET /me`` and ``POST /apply`` that answer "Hello World"
  (the request body read, not parsed), served by the same function as ``mentoring
  portal`` (``flows.web.serving.serve``: one uvicorn process, no access log, uvloop and
  httptools only if installed, for both alike): the ceiling on this machine.
- every member signs in through the real path once: ``GET /sign-in`` (CSRF token),
  ``POST /sign-in`` with their address, the link read from the mail the site delivers in
  the background, ``GET`` the link page and press its button (``POST /sign-in/{token}``),
  which sets the session cookie; then ``GET /apply`` for the session's CSRF token. The
  site limits sign-in requests to 20 per client address in 15 minutes, so the sign-in
  requests come from many loopback addresses (127.1.x.y), 10 members each, as members
  at their own machines do. None of this is timed into the results.
- the load: ``--clients`` concurrent clients (async httpx, one keep-alive connection
  each), each with its share of the signed-in members, in turn: ``GET /me`` then ``POST
  /apply`` (a valid application with the session's ``csrf_token``, its goals numbered so
  the last one acknowledged is known), with no pause, for ``--seconds`` after a short
  warm-up; the same loop against the hello world. Latency is from sending the request to
  reading the whole answer. An error is any status but 200, a page other than "Where I
  stand" or "Application received", or a failed connection.
- after the run, the applications in the database: every member with an acknowledged
  application has exactly one stored, from the site, holding the goals of the last
  acknowledged post (a later post replaces an earlier one): none lost, none extra.

It prints both servers side by side, the ratio of the site's requests/s to the ceiling's
(target at least 30 %) and the site's p99 (target under 150 ms), and the CPU seconds each
server process and the client used, since all three share this machine.
"""

import argparse
import asyncio
import email
import email.policy
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "bench_portal"
YEAR = date.today().year + 1
CALL_OPENS_AFTER = timedelta(seconds=5)
PER_SOURCE_ADDRESS = 10
WARM_UP_SECONDS = 3.0
RATIO_TARGET = 0.30
P99_TARGET_MS = 150.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://[^\s\"'<>]+/sign-in/([A-Za-z0-9_-]+)")
SESSION_COOKIE = "mentoring_session"
AREAS = ["Technology", "Assessment", "Leadership & Management", "Preservation"]
ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles"]


def _repository_on_path() -> None:
    """The benchmark uses the program's own code (settings, uvicorn settings, the uow)."""
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))


# --- the hello world, served in its own process --------------------------------------


def serve_hello(port: int) -> None:
    """The ceiling: FastAPI's hello world on the routes the load uses, same uvicorn setup."""
    _repository_on_path()
    from fastapi import FastAPI, Request
    from fastapi.responses import PlainTextResponse

    from flows.web.serving import serve

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/me")
    async def me() -> PlainTextResponse:
        return PlainTextResponse("Hello World")

    @app.post("/apply")
    async def apply(request: Request) -> PlainTextResponse:
        await request.body()
        return PlainTextResponse("Hello World")

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    serve(app, "127.0.0.1", port)  # as ``mentoring portal`` serves the site


# --- the installation ----------------------------------------------------------------


@dataclass(frozen=True)
class Installation:
    """A scratch database, home and mail folder, and the environment naming them."""

    database_url: str
    env: dict[str, str]
    mail_dir: Path
    portal_url: str

    def mentoring(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", *args],
            env=self.env,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"mentoring {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


def free_port() -> int:
    _repository_on_path()
    from flows.prefect_server import free_port as free

    return free()


@contextmanager
def scratch_database(admin_url: str, keep: bool) -> Iterator[str]:
    """A new, empty ``bench_portal`` database; its URL."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    try:
        yield make_url(admin_url).set(database=DATABASE).render_as_string(hide_password=False)
    finally:
        if not keep:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        engine.dispose()


def install(database_url: str, folder: Path, members: int, port: int) -> Installation:
    """Schema, roster and a cycle with its call open, through the ``mentoring`` command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTORING_", "PREFECT_"))}
    portal_url = f"http://127.0.0.1:{port}"
    env.update(
        MENTORING_HOME=str(folder / "home"),
        MENTORING_DATABASE_URL=database_url,
        MENTORING_MAIL_DIR=str(folder / "mail"),
        MENTORING_PORTAL_URL=portal_url,
        MENTORING_SECRET_KEY=secrets.token_urlsafe(48),
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    site = Installation(database_url, env, folder / "mail", portal_url)
    site.mentoring("db", "upgrade")
    roster = folder / "roster.csv"
    expires = date(YEAR + 2, 1, 1).isoformat()
    lines = ["member_id,first_name,last_name,email,institution,membership_expires"]
    lines += [
        f"M{n:05d},Member,Number{n},{address(n)},Library {n % 40},{expires}" for n in range(members)
    ]
    roster.write_text("\n".join(lines) + "\n")
    site.mentoring("members", "import", str(roster), "--actor", "bench")
    opens = (datetime.now(UTC) + CALL_OPENS_AFTER).replace(microsecond=0)
    site.mentoring(
        "cycle", "create", str(YEAR), "--actor", "bench", "--open-call", opens.isoformat()
    )
    time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds() + 0.5))
    site.mentoring("cycle", "advance", str(YEAR), "open_call", "--actor", "bench")
    return site


def address(n: int) -> str:
    return f"member{n:05d}@bench.example.org"


@contextmanager
def served(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """A server subprocess answering ``/healthz`` on ``port``; yields its pid."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=REPOSITORY, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while not _answers(f"http://127.0.0.1:{port}/healthz"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command[-5:]} did not start:\n{log.read_text()[-2000:]}")
                time.sleep(0.2)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- signing in ----------------------------------------------------------------------


@dataclass
class Session:
    """A signed-in member: the session cookie and its CSRF token."""

    member_id: str
    n: int
    cookie: str = ""
    csrf: str = ""


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise SystemExit("a page had no csrf_token field")
    return found.group(1)


def no_cookie_jar() -> CookieJar:
    """A jar that keeps nothing: each request carries its member's cookie explicitly."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def with_session(cookie: str | None) -> dict[str, str]:
    return {"cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}


def client(
    base_url: str, source: str | None = None, limits: httpx.Limits | None = None
) -> httpx.AsyncClient:
    """A client without a cookie jar, with TCP_NODELAY (as browsers): a request's body does
    not wait for the server's delayed acknowledgement of its headers."""
    transport = httpx.AsyncHTTPTransport(
        local_address=source,
        limits=limits or httpx.Limits(),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.AsyncClient(
        base_url=base_url, cookies=no_cookie_jar(), timeout=60, transport=transport
    )


async def ask_for_links(site: Installation, members: int, concurrency: int) -> None:
    """``POST /sign-in`` for every member, ten members per loopback source address."""
    gate = asyncio.Semaphore(concurrency)

    async def group(first: int) -> None:
        source = 1 + first // PER_SOURCE_ADDRESS
        async with gate, client(site.portal_url, f"127.1.{source // 250}.{source % 250}") as web:
            for n in range(first, min(first + PER_SOURCE_ADDRESS, members)):
                form = await web.get("/sign-in")
                sent = await web.post(
                    "/sign-in",
                    data={"email": address(n), "csrf_token": _csrf(form.text)},
                    headers=with_session(form.cookies.get(SESSION_COOKIE, "")),
                )
                if sent.status_code != 200 or "Check your email" not in sent.text:
                    raise SystemExit(f"POST /sign-in for member {n}: {sent.status_code}")

    await asyncio.gather(*(group(f) for f in range(0, members, PER_SOURCE_ADDRESS)))


def mailed_tokens(site: Installation, members: int, timeout: float) -> dict[str, str]:
    """Address → sign-in token, from the .eml files the site delivers in the background."""
    tokens: dict[str, str] = {}
    seen: set[Path] = set()
    deadline = time.monotonic() + timeout
    while len(tokens) < members:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(tokens)} of {members} sign-in mails arrived")
        for path in site.mail_dir.glob("*.eml"):
            if path in seen:
                continue
            seen.add(path)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",))
            found = LINK.search(body.get_content()) if body is not None else None
            if found:
                tokens[str(message["To"].addresses[0].addr_spec)] = found.group(1)
        time.sleep(0.5)
    return tokens


async def redeem(site: Installation, tokens: dict[str, str], members: int) -> list[Session]:
    """Open each link, press "Sign in", then read the session's CSRF token from /apply."""
    gate = asyncio.Semaphore(16)

    async def one(web: httpx.AsyncClient, n: int) -> Session:
        async with gate:
            token = tokens[address(n)]
            page = await web.get(f"/sign-in/{token}")
            done = await web.post(
                f"/sign-in/{token}",
                data={"csrf_token": _csrf(page.text)},
                headers=with_session(page.cookies.get(SESSION_COOKIE, "")),
            )
            if done.status_code != 303 or SESSION_COOKIE not in done.cookies:
                raise SystemExit(f"signing in member {n}: HTTP {done.status_code}")
            session = Session(f"M{n:05d}", n, cookie=done.cookies[SESSION_COOKIE])
            form = await web.get("/apply", headers=with_session(session.cookie))
            session.cookie = form.cookies.get(SESSION_COOKIE) or session.cookie
            session.csrf = _csrf(form.text)
            return session

    async with client(site.portal_url) as web:
        return list(await asyncio.gather(*(one(web, n) for n in range(members))))


# --- the load ------------------------------------------------------------------------


@dataclass
class Route:
    """Latencies (ms) and errors of one route during the measured window."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def quantile(self, q: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1]


@dataclass
class Run:
    """One server's measured window."""

    server: str
    seconds: float
    routes: dict[str, Route]
    server_cpu: float
    client_cpu: float
    load: tuple[float, float]
    acknowledged: dict[str, str] = field(default_factory=dict)

    def requests(self, route: str | None = None) -> int:
        chosen = [self.routes[route]] if route else list(self.routes.values())
        return sum(len(r.latencies) for r in chosen)

    def rate(self, route: str | None = None) -> float:
        return self.requests(route) / self.seconds

    def all_routes(self) -> Route:
        merged = Route()
        for r in self.routes.values():
            merged.latencies += r.latencies
            merged.errors += r.errors
        return merged


def application(session: Session, goals: str) -> dict[str, str | list[str]]:
    """A valid application; members alternate mentee and mentor."""
    n = session.n
    mentor = n % 2 == 1
    return {
        "csrf_token": session.csrf,
        "role": "mentor" if mentor else "mentee",
        "areas": [AREAS[n % 4], AREAS[(n + 1) % 4]],
        "career_stage": "senior" if mentor else "early",
        "library_type": "academic",
        "time_zone": ZONES[n % 4],
        "goals": goals,
        "max_mentees": "2" if mentor else "",
    }


async def client_loop(
    base_url: str,
    sessions: list[Session],
    routes: dict[str, Route],
    acknowledged: dict[str, str],
    measure_from: float,
    stop_at: float,
    site: bool,
) -> None:
    """One client: GET /me then POST /apply for each of its members in turn, no pause."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with client(base_url, limits=limits) as web:
        k = 0
        while time.monotonic() < stop_at:
            session = sessions[k % len(sessions)]
            k += 1
            goals = f"bench goals of {session.member_id}, post {k}"
            for route in ("GET /me", "POST /apply"):
                method, path = route.split()
                data = application(session, goals) if method == "POST" else None
                sent_at, started = time.monotonic(), time.perf_counter()
                try:
                    answer = await web.request(
                        method, path, data=data, headers=with_session(session.cookie)
                    )
                    problem = _problem(answer, method, site)
                except httpx.HTTPError as error:
                    problem = type(error).__name__
                elapsed = (time.perf_counter() - started) * 1000
                if problem is None and method == "POST":
                    acknowledged[session.member_id] = goals
                if sent_at < measure_from:
                    continue
                if problem is None:
                    routes[route].latencies.append(elapsed)
                else:
                    routes[route].errors[problem] += 1


def _problem(answer: httpx.Response, method: str, site: bool) -> str | None:
    """Why an answer is an error, or None."""
    if answer.status_code != 200:
        return f"status {answer.status_code}"
    if site and method == "POST" and "<h1>Application received</h1>" not in answer.text:
        said = re.findall(r"<(?:h1|li|p)>([^<]+)<", answer.text)
        return "not received: " + "; ".join(said[:3])
    if site and method == "GET" and "<h1>Where I stand</h1>" not in answer.text:
        return "not the status page"
    return None


def measure(
    server: str, base_url: str, pid: int, sessions: list[Session], clients: int, seconds: float
) -> Run:
    """``clients`` concurrent clients for a warm-up and then ``seconds``."""
    routes = {"GET /me": Route(), "POST /apply": Route()}
    acknowledged: dict[str, str] = {}
    shares = [sessions[i::clients] for i in range(clients)]
    site = server == "site"

    async def everyone() -> tuple[float, float, float, float, float, float]:
        start = time.monotonic()
        measure_from = start + WARM_UP_SECONDS
        stop_at = measure_from + seconds
        tasks = [
            asyncio.create_task(
                client_loop(base_url, share, routes, acknowledged, measure_from, stop_at, site)
            )
            for share in shares
            if share
        ]
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_from, client_from, load_from = cpu_seconds(pid), time.process_time(), os.getloadavg()
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        cpu_to, client_to, load_to = cpu_seconds(pid), time.process_time(), os.getloadavg()
        await asyncio.gather(*tasks)
        return cpu_from, cpu_to, client_from, client_to, load_from[0], load_to[0]

    cpu_from, cpu_to, client_from, client_to, load_from, load_to = asyncio.run(everyone())
    return Run(
        server,
        seconds,
        routes,
        cpu_to - cpu_from,
        client_to - client_from,
        (load_from, load_to),
        acknowledged,
    )


# --- after the run -------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the database holds after the run, against what the site acknowledged."""

    acknowledged: int
    stored: int
    from_site: int
    missing: int
    stale: int
    extra: int

    @property
    def none_lost(self) -> bool:
        return self.missing == 0 and self.stale == 0 and self.extra == 0


def count_stored(database_url: str, acknowledged: dict[str, str]) -> Stored:
    _repository_on_path()
    from infra import db
    from infra.uow import UnitOfWork

    uow = UnitOfWork(db.session_factory(database_url))
    with uow:
        stored = {a.member_id: a.goals for a in uow.applications.active(YEAR)}
        sources = uow.applications.sources(YEAR)
    return Stored(
        acknowledged=len(acknowledged),
        stored=len(stored),
        from_site=sum(1 for s in sources.values() if s == "site"),
        missing=sum(1 for m in acknowledged if m not in stored),
        stale=sum(1 for m, g in acknowledged.items() if m in stored and stored[m] != g),
        extra=sum(1 for m in stored if m not in acknowledged),
    )


# --- report --------------------------------------------------------------------------


def report(site: Run, hello: Run, stored: Stored, setup: dict[str, float]) -> bool:
    """Print the results; whether every target was met."""
    print()
    head = f"{'server':<12}{'route':<13}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    print(head + f"{'errors':>8}")
    for run in (hello, site):
        for name, route in (*run.routes.items(), ("all", run.all_routes())):
            print(
                f"{run.server:<12}{name:<13}{len(route.latencies):>9}"
                f"{len(route.latencies) / run.seconds:>9.1f}{route.quantile(50):>9.1f}"
                f"{route.quantile(99):>9.1f}{sum(route.errors.values()):>8}"
            )
    print()
    for run in (hello, site):
        served = max(run.requests(), 1)
        print(
            f"{run.server}, during its {run.seconds:.0f} s: server CPU {run.server_cpu:.1f} s "
            f"({1000 * run.server_cpu / served:.1f} ms a request), client CPU "
            f"{run.client_cpu:.1f} s, load average {run.load[0]:.1f} before, "
            f"{run.load[1]:.1f} after"
        )
        for name, route in run.routes.items():
            if route.errors:
                print(f"  {run.server} {name} errors: {dict(route.errors)}")
    ratio = site.rate() / hello.rate() if hello.rate() else 0.0
    p99 = site.all_routes().quantile(99)
    errors = sum(site.all_routes().errors.values())
    print()
    print(f"site / hello world requests/s: {ratio:.1%} (target >= {RATIO_TARGET:.0%})")
    print(f"site p99, all routes: {p99:.1f} ms (target < {P99_TARGET_MS:.0f} ms)")
    print(f"site errors: {errors} (target 0)")
    print(
        f"applications: {stored.acknowledged} members acknowledged, {stored.stored} stored "
        f"({stored.from_site} from the site); missing {stored.missing}, holding an older post "
        f"{stored.stale}, unacknowledged {stored.extra}: "
        + ("none lost" if stored.none_lost else "MISMATCH")
    )
    print("setup: " + ", ".join(f"{k} {v:.1f} s" for k, v in setup.items()))
    met = ratio >= RATIO_TARGET and p99 < P99_TARGET_MS and errors == 0 and stored.none_lost
    print("targets: " + ("all met" if met else "NOT all met"))
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN, help="an admin URL")
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured, per server")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello:
        serve_hello(args.serve_hello)
        return 0
    _repository_on_path()
    started = datetime.now(UTC)
    print(f"# Participants' site benchmark, {started:%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; PostgreSQL database {DATABASE} at "
        f"{args.postgres_url.rpartition('@')[2].rpartition('/')[0]}"
    )
    print(
        f"load: {args.members:,} signed-in members, {args.clients} concurrent clients, "
        f"{args.seconds:.0f} s per server after {WARM_UP_SECONDS:.0f} s of warm-up; "
        "each client: GET /me then POST /apply, no pause"
    )
    from flows.web.serving import server_words

    print(f"both servers: {server_words()}, no access log (flows/web/serving.py)")
    folder = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    setup: dict[str, float] = {}
    try:
        with scratch_database(args.postgres_url, args.keep) as url:
            port, hello_port = free_port(), free_port()
            clock = time.monotonic()
            site = install(url, folder, args.members, port)
            setup["install"] = time.monotonic() - clock
            portal_cmd = [
                sys.executable, "-m", "flows.cli", "portal", "--host", "127.0.0.1",
                "--port", str(port),
            ]  # fmt: skip
            hello_cmd = [sys.executable, __file__, "--serve-hello", str(hello_port)]
            with (
                served(portal_cmd, site.env, port, folder / "portal.log") as portal_pid,
                served(hello_cmd, site.env, hello_port, folder / "hello.log") as hello_pid,
            ):
                clock = time.monotonic()
                asyncio.run(ask_for_links(site, args.members, concurrency=20))
                tokens = mailed_tokens(site, args.members, timeout=300)
                sessions = asyncio.run(redeem(site, tokens, args.members))
                setup["signing in"] = time.monotonic() - clock
                hello = measure(
                    "hello world",
                    f"http://127.0.0.1:{hello_port}",
                    hello_pid,
                    sessions,
                    args.clients,
                    args.seconds,
                )
                measured = measure(
                    "site", site.portal_url, portal_pid, sessions, args.clients, args.seconds
                )
            stored = count_stored(url, measured.acknowledged)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if report(measured, hello, stored, setup) else 1


if __name__ == "__main__":
    sys.exit(main())
