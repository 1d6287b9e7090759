"""The database failing under a poll: unreachable, locked by another process (SQLite), or its
connections cut mid-transaction (PostgreSQL, as a server restart does). Each is one line
from the ``tracker`` command or the poll's report, never a traceback; nothing half-written
stays; the next poll stores exactly what a clean run stores.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

from scrapers.us_govinfo import UsGovinfo
from tests.cli_helpers import run_cli
from tests.conftest import PG_URL
from tests.faults.deployment import deployment, snapshot, source_table
from tests.faults.upstreams import Govinfo
from tests.loopback_http import LoopbackHttp
from tracker.http import HttpClient
from tracker.pipeline import Pipeline
from tracker.records import BillRef, Fetched
from tracker.settings import Settings, SourceSettings
from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import EventFilter, Repository, UpsertResult

HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


class LockHolder:
    """Another process holding SQLite's write lock (an open BEGIN IMMEDIATE) for a while."""

    def __init__(self, path: Path, *, seconds: float = 30) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def server() -> Iterator[LoopbackHttp]:
    with LoopbackHttp() as running:
        yield running


def pipeline(repo: Repository, server: LoopbackHttp, *, factory: type[UsGovinfo] = UsGovinfo,
             on_stored: object = None) -> Pipeline:
    source = SourceSettings(name="us-govinfo", enabled=True, base_url=server.url,
                            sessions=("117",))
    settings = Settings(config_dir=Path("."), database_url="", sources={"us-govinfo": source})
    return Pipeline(settings=settings, repo=repo, registry={"us-govinfo": factory},
                    http=HttpClient(user_agent="faults", min_interval=0, retries=0),
                    on_stored=on_stored)  # type: ignore[arg-type]


def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's file lock; PostgreSQL has row locks and no such failure")


def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for url in ("postgresql+psycopg://tracker:hunter2@127.0.0.1:1/tracker",
                f"sqlite:///{tmp_path}/no/such/folder/tracker.db"):
        place = deployment(tmp_path, database_url=url, sources=source_table(
            "us-govinfo", base_url="http://127.0.0.1:1", sessions=("117",)))
        for name, value in place.environ.items():
            monkeypatch.setenv(name, value)
        outcome = run_cli(capsys, "poll", "us-govinfo")
        assert outcome.code == 1
        (line,) = outcome.err.strip().splitlines()
        assert line.startswith("error: database ") and "cannot be opened" in line, line
        assert "hunter2" not in outcome.err + outcome.out


def test_a_locked_sqlite_file_is_one_line_and_the_next_poll_recovers(
    tmp_path: Path, server: LoopbackHttp, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, database_url: str,
) -> None:
    sqlite_only(database_url)
    Govinfo(server)
    path = tmp_path / "locked.db"
    migrate(make_engine(f"sqlite:///{path}"))
    place = deployment(tmp_path, database_url=f"sqlite:///{path}?timeout=0.3",
                       sources=source_table("us-govinfo", base_url=server.url, sessions=("117",)))
    for name, value in place.environ.items():
        monkeypatch.setenv(name, value)
    holder = LockHolder(path)
    try:
        started = time.monotonic()
        locked = run_cli(capsys, "poll", "us-govinfo")
        assert time.monotonic() - started < 5, "the short busy timeout, not the holder, ended it"
    finally:
        holder.release()
    assert locked.code == 1
    (line,) = locked.err.strip().splitlines()
    assert "database is locked" in line, line
    recovered = run_cli(capsys, "poll", "us-govinfo")
    assert recovered.code == 0, recovered.err
    assert recovered.out.startswith("us-govinfo: ok; 9 discovered, 9 fetched")


class LocksOnFirstFetch(UsGovinfo):
    """us-govinfo whose first fetch has another process take the database's write lock,
    so that the poll's store meets it mid-run."""

    lock_path: ClassVar[Path]
    holders: ClassVar[list[LockHolder]] = []

    def fetch(self, ref: BillRef) -> Fetched:
        if not self.holders:
            self.holders.append(LockHolder(self.lock_path))
        return super().fetch(ref)


def test_a_lock_taken_mid_run_fails_the_poll_in_one_line_and_loses_nothing(
    tmp_path: Path, server: LoopbackHttp, database_url: str
) -> None:
    sqlite_only(database_url)
    govinfo = Govinfo(server)
    path = tmp_path / "midrun.db"
    repo = Repository(make_engine(f"sqlite:///{path}?timeout=0.3"))
    migrate(repo.engine)
    LocksOnFirstFetch.lock_path, LocksOnFirstFetch.holders = path, []
    try:
        report = pipeline(repo, server, factory=LocksOnFirstFetch).poll("us-govinfo")
    finally:
        for holder in LocksOnFirstFetch.holders:
            holder.release()
    assert len(LocksOnFirstFetch.holders) == 1, "the lock was taken mid-run"
    assert report.status == "failed"
    assert report.error is not None and "database is locked" in report.error
    assert "\n" not in report.summary_line()

    again = pipeline(repo, server).poll("us-govinfo")
    assert again.status == "ok", again.summary_line()
    with repo.read() as session:
        stored = [e.bill for e in repo.events(session, EventFilter())]
    assert sorted(stored) == sorted(govinfo.keys()), "every bill, each event once"


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: TRACKER_TEST_DATABASE_URL is not set")
def test_connections_cut_mid_transaction_lose_and_double_nothing(
    server: LoopbackHttp, database_url: str, tmp_path: Path
) -> None:
    govinfo = Govinfo(server)
    app = "tracker-faults-cut"
    separator = "&" if "?" in database_url else "?"
    engine = make_engine(f"{database_url}{separator}application_name={app}")
    migrate(engine)
    repo = Repository(engine)
    admin = sa.create_engine(PG_URL)
    cut: list[int] = []

    def cut_connections(session: object, result: UpsertResult) -> None:
        # Inside the batch's transaction: every connection of this repository is
        # terminated by the server, as a restart would (the test's own connections only).
        if not cut:
            with admin.begin() as connection:
                cut.extend(connection.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :app"), {"app": app}).scalars())

    try:
        report = pipeline(repo, server, on_stored=cut_connections).poll("us-govinfo")
        assert cut and all(cut), "the connections were cut"
        assert "\n" not in report.summary_line()
        # The batch that lost its connection is stored again, document by document, over a
        # new one (the pool checks connections before handing them out).
        assert report.status == "ok", report.summary_line()
        again = pipeline(repo, server).poll("us-govinfo")
        assert again.status == "ok", again.summary_line()
        after = snapshot(repo)
    finally:
        engine.dispose()
        admin.dispose()

    clean = Repository(make_engine(f"sqlite:///{tmp_path / 'clean.db'}"))
    migrate(clean.engine)
    assert pipeline(clean, server).poll("us-govinfo").status == "ok"
    expected = snapshot(clean)
    assert set(after.bills) == govinfo.keys()
    assert after.bills == expected.bills
    assert after.events == expected.events, "an event lost or doubled"
    assert after.actions == expected.actions
