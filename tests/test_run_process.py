"""Real ``tracker run`` processes against a loopback GovInfo (an http.server in this test
serving the project-written fixtures in tests/fixtures/us-govinfo, README there).

* two processes on one database poll a 2-second source about once per interval in total;
  SIGKILL of the leader lets the other take over within one lease period (3 s here);
* SIGTERM mid-poll exits 0 within 10 s and leaves no run ``running``;
* a source whose host is down turns unhealthy in ``tracker sources`` with its last error, and
  the operator gets exactly one alert however many polls fail.

The database is SQLite by default and PostgreSQL with TRACKER_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PROJECT_FIXTURES, REPO
from tracker.leases import Leases
from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import Repository

FIXTURES = PROJECT_FIXTURES / "us-govinfo"
INDEX = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
CHILD = "/sitemap/bulkdata/BILLSTATUS/117hr/sitemap.xml"
BILLS = "/bulkdata/BILLSTATUS/117/hr/"
LEASE_SECONDS = 3.0


# -- the loopback origin -----------------------------------------------------------------------


@dataclass
class Origin:
    """What the server serves (path -> body) and when it was asked for what."""

    documents: dict[str, bytes] = field(default_factory=dict)
    bill_delay: float = 0.0
    hits: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str, *, since: float = 0.0) -> int:
        with self.lock:
            return sum(1 for at, p in self.hits if p == path and at >= since)

    def times(self, path: str) -> list[float]:
        with self.lock:
            return [at for at, p in self.hits if p == path]

    def bill_requests(self) -> int:
        with self.lock:
            return sum(1 for _, p in self.hits if p.startswith(BILLS))


def fixture_origin() -> Origin:
    origin = Origin()
    origin.documents[INDEX] = (FIXTURES / "sitemapindex.xml").read_bytes()
    origin.documents[CHILD] = (FIXTURES / "117hr-sitemap.xml").read_bytes()
    for number in (1, 2):
        name = f"BILLSTATUS-117hr{number}.xml"
        origin.documents[BILLS + name] = (FIXTURES / name).read_bytes()
    return origin


def many_bills_origin(count: int) -> Origin:
    """``count`` bills made from the HR 1 fixture by renumbering it, in one child sitemap."""
    origin = Origin()
    origin.documents[INDEX] = (FIXTURES / "sitemapindex.xml").read_bytes()
    template = (FIXTURES / "BILLSTATUS-117hr1.xml").read_text()
    urls = []
    for number in range(1, count + 1):
        name = f"BILLSTATUS-117hr{number}.xml"
        origin.documents[BILLS + name] = template.replace(
            "<number>1</number>", f"<number>{number}</number>").encode()
        urls.append(f"<url><loc>https://www.govinfo.gov{BILLS}{name}</loc>"
                    f"<lastmod>2024-06-10T09:02:00.100Z</lastmod></url>")
    origin.documents[CHILD] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{"".join(urls)}</urlset>'
    ).encode()
    return origin


@pytest.fixture
def serve() -> Iterator[Callable[[Origin], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(origin: Origin) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with origin.lock:
                    origin.hits.append((time.monotonic(), path))
                if path.startswith(BILLS) and origin.bill_delay:
                    time.sleep(origin.bill_delay)
                body = origin.documents.get(path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the processes -----------------------------------------------------------------------------


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self) -> list[dict[str, object]]:
        lines = [line for line in self.text().splitlines() if line.startswith("{")]
        return [json.loads(line) for line in lines]


@dataclass
class Deployment:
    """A config folder, a database and the environment of every ``tracker`` process."""

    root: Path
    database_url: str
    env: dict[str, str]
    started: list[Service] = field(default_factory=list)

    def tracker(self, *args: str, name: str) -> Service:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-c", "from tracker.cli import main; main()", *args],
                env=self.env, cwd=self.root, stdout=out, stderr=subprocess.STDOUT,
            )
        service = Service(process, log)
        self.started.append(service)
        return service

    def run(self, name: str) -> Service:
        return self.tracker("--log-format", "json", "run", name=name)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(sa.text(sql))]
        finally:
            engine.dispose()

    def live_leases(self) -> list[str]:
        engine = make_engine(self.database_url)
        try:
            leases = Leases(Repository(engine), holder="test")
            return [name for name in ("scheduler", "poll:us-govinfo") if leases.holder_of(name)]
        finally:
            engine.dispose()

    def leader(self) -> str | None:
        rows = self.query("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'")
        return str(rows[0][0]) if rows else None


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Deployment]]:
    made: list[Deployment] = []

    def make(*, base_url: str, interval: str = "2s", max_failures: int = 3,
             digest_every: str = "1m") -> Deployment:
        config = tmp_path / "config"
        config.mkdir()
        (config / "sources.toml").write_text(
            f'[sources.us-govinfo]\nenabled = true\nbase_url = "{base_url}"\n'
            f'sessions = ["117"]\ninterval = "{interval}"\nmax_failures = {max_failures}\n'
        )
        (config / "tracker.toml").write_text(
            "[http]\nmin_interval = 0\nretries = 0\nconnect_timeout = 2\nread_timeout = 5\n"
        )
        engine = make_engine(database_url)
        migrate(engine)  # once here, so the processes' own migrations are no-ops
        engine.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update({
            "TRACKER_CONFIG": str(config), "TRACKER_DATABASE_URL": database_url,
            "TRACKER_LEASE_SECONDS": str(LEASE_SECONDS), "TRACKER_DIGEST_EVERY": digest_every,
            "TRACKER_OUTBOX_DIR": str(tmp_path / "outbox"),
            "TRACKER_OPERATOR_EMAIL": "ops@example.org", "TRACKER_MAIL_FROM": "tracker@example.org",
            "TRACKER_SECRET_KEY": "test-secret-key-for-links",
            "PYTHONPATH": str(REPO),
        })
        made.append(Deployment(tmp_path, database_url, env))
        return made[-1]

    yield make
    for each in made:
        for service in each.started:
            if service.process.poll() is None:
                service.process.kill()
            service.process.wait(10)


def wait_for(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Poll ``condition`` until true; returns the monotonic time it became true."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.05)
    return time.monotonic()


def stop(service: Service, *, within: float = 10.0) -> tuple[int, float]:
    started = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    code = service.process.wait(within)
    return code, time.monotonic() - started


def pid_of(holder: str | None) -> int:
    assert holder is not None
    return int(holder.split(":")[1])


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_instances_poll_once_per_interval_and_fail_over(
    deployment: Callable[..., Deployment], serve: Callable[[Origin], str]
) -> None:
    origin = fixture_origin()
    site = deployment(base_url=serve(origin))
    first = site.run("first")
    wait_for(lambda: origin.count(INDEX) >= 1, within=20, what="the first poll")
    second = site.run("second")
    wait_for(lambda: any(e.get("event") == "standby" for e in second.events()), within=20,
             what="the second instance standing by")
    assert pid_of(site.leader()) == first.process.pid

    window_start = time.monotonic()
    time.sleep(8.0)
    polls = origin.count(INDEX, since=window_start)
    assert 3 <= polls <= 5, f"{polls} polls in 8 s at a 2 s interval (two instances)"
    assert origin.bill_requests() == 2, "each bill fetched once, by the first poll"

    killed_at = time.monotonic()
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(5)
    taken_at = wait_for(lambda: pid_of(site.leader()) == second.process.pid,
                        within=LEASE_SECONDS + 5, what="the take-over")
    assert taken_at - killed_at <= LEASE_SECONDS + 1.0, "within one lease period (+ checking)"
    resumed = wait_for(lambda: origin.count(INDEX, since=taken_at) >= 1, within=5,
                       what="polls resuming under the new leader")
    assert resumed - killed_at <= LEASE_SECONDS + 3.5

    code, took = stop(second)
    assert (code, took < 10) == (0, True), second.text()[-2000:]
    statuses = [status for (status,) in site.query("SELECT status FROM source_runs")]
    assert "running" not in statuses, statuses
    assert set(statuses) <= {"ok", "abandoned", "stopped"}
    assert site.query("SELECT COUNT(*) FROM bills") == [(2,)]
    lease = site.query("SELECT holder FROM leases WHERE name = 'scheduler'")
    assert pid_of(str(lease[0][0])) == second.process.pid
    polls_logged = [e for e in second.events() if e.get("event") == "poll"]
    assert polls_logged and {"source", "run_id", "status", "requests", "bills_seen"} <= set(
        polls_logged[-1])


def test_sigterm_mid_poll_exits_0_and_leaves_nothing_half_done(
    deployment: Callable[..., Deployment], serve: Callable[[Origin], str]
) -> None:
    origin = many_bills_origin(30)
    origin.bill_delay = 0.2
    site = deployment(base_url=serve(origin), interval="1h")
    service = site.run("only")
    wait_for(lambda: origin.bill_requests() >= 3, within=20, what="the poll under way")
    code, took = stop(service)
    assert code == 0, service.text()[-2000:]
    assert took < 10
    [(status, error, discovered, inserted)] = site.query(
        "SELECT status, error, discovered, inserted FROM source_runs")
    assert status == "stopped"
    assert str(error).startswith(f"stopped by a shutdown after {discovered} documents")
    assert 3 <= int(str(discovered)) < 30
    assert site.query("SELECT COUNT(*) FROM bills") == [(inserted,)], \
        "every fetched bill stored, no more"
    assert site.live_leases() == [], "leases released"


@pytest.mark.slow
def test_a_down_host_turns_unhealthy_and_alerts_the_operator_once(
    deployment: Callable[..., Deployment], tmp_path: Path
) -> None:
    site = deployment(base_url=f"http://127.0.0.1:{closed_port()}", interval="1s",
                      max_failures=2, digest_every="1s")
    service = site.run("only")
    wait_for(lambda: site.query("SELECT COUNT(*) FROM source_runs WHERE status = 'failed'")[0][0]
             >= 5, within=30, what="five failed polls")
    code, _ = stop(service)
    assert code == 0, service.text()[-2000:]

    sources = site.tracker("sources", "--format", "json", name="sources")
    assert sources.process.wait(30) == 0, sources.text()
    rows = {row["name"]: row for row in map(json.loads, sources.text().splitlines())
            if row.get("name")}
    govinfo = rows["us-govinfo"]
    assert govinfo["healthy"] is False
    assert "cannot connect (Connection refused)" in govinfo["last_error"]
    assert govinfo["consecutive_failures"] >= 5

    alerts = site.query("SELECT digest_key, recipient, subject FROM outbox WHERE kind = 'operator'")
    second_failure = site.query(
        "SELECT id FROM source_runs WHERE status = 'failed' ORDER BY id LIMIT 1 OFFSET 1")[0][0]
    assert alerts == [(f"operator:us-govinfo:unhealthy:{second_failure}", "ops@example.org",
                       alerts[0][2])]
    assert str(alerts[0][2]).startswith("[tracker] us-govinfo is unhealthy: 2 failed polls")
    logged = [e for e in service.events() if e.get("event") == "operator-alert"]
    assert len(logged) == 1
    # The digest job's outbox sender wrote it as the one .eml file (no SMTP configured).
    sent = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert [path.name.rsplit("-", 1)[0] for path in sent] == [
        f"operator_us-govinfo_unhealthy_{second_failure}"]
    assert site.query("SELECT status FROM outbox") == [("sent",)]
