"""``kill -9`` of ``tracker poll va-lis`` in the middle of storing a whole Virginia session.

The real 2020 files (``../shared/fixtures/va-lis/csv-2020-session``) are served on loopback:
first the 24 January files (the baseline poll), then the 28 January ones, whose poll changes
every one of the session's ~3,100 bills. That second poll runs as a real ``tracker`` process
and is killed with SIGKILL while its write transaction is open; a new ``tracker poll`` then
runs to the end. Everything stored must equal what one clean run of the same two polls
stores: the same bills, actions, events (none lost, none doubled), topic matches and fetch
cursors. Runs on SQLite, and on PostgreSQL with TRACKER_TEST_DATABASE_URL.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import shared
from tests.faults.deployment import (
    Deployment,
    deployment,
    run_statuses,
    snapshot,
    source_table,
)
from tests.loopback_http import LoopbackHttp, Reply, Request
from tracker.storage.repository import Repository
from tracker.wiring import build_pipeline, open_repository

pytestmark = pytest.mark.slow
SESSION_CODE = "201"  # LIS's code for the 2020 session
KILL_TEST_APP = "tracker-kill-test"


class VirginiaUpstream:
    """One day's folder of the real 2020 files, served as LIS serves a session folder."""

    def __init__(self, server: LoopbackHttp) -> None:
        self.day = shared("va-lis", "csv-2020-session", "2020-01-24")
        server.route(rf"/{SESSION_CODE}/[^/]+", self._answer)

    def _answer(self, request: Request) -> bytes | Reply:
        target = self.day / request.path.rsplit("/", 1)[-1]
        return target.read_bytes() if target.is_file() else Reply(404, b"BlobNotFound")

    def move_to(self, day: str) -> None:
        self.day = shared("va-lis", "csv-2020-session", day)


@pytest.fixture
def upstream() -> Iterator[tuple[LoopbackHttp, VirginiaUpstream]]:
    with LoopbackHttp() as server:
        yield server, VirginiaUpstream(server)


def virginia(folder: Path, server: LoopbackHttp, database_url: str) -> Deployment:
    return deployment(folder, database_url=database_url,
                      sources=source_table("va-lis", base_url=server.url, sessions=("2020",)))


def poll_in_process(place: Deployment) -> None:
    """One clean poll through the same wiring as the ``tracker`` command."""
    settings = place.settings()
    repo = open_repository(settings)
    report = build_pipeline(settings=settings, repo=repo).poll("va-lis")
    repo.engine.dispose()
    assert report.status == "ok", report.summary_line()


def writing(database_url: str) -> bool:
    """Whether a write transaction is open on the database right now."""
    if database_url.startswith("sqlite"):
        probe = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0,
                                isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True  # "database is locked": the poller holds the write lock
        finally:
            probe.close()  # closing rolls the probe's own BEGIN back
        return False
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app "
                "AND backend_xid IS NOT NULL"), {"app": KILL_TEST_APP}).scalar())
    finally:
        engine.dispose()


def with_application_name(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        return database_url
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}application_name={KILL_TEST_APP}"


def kill_while_storing(place: Deployment, server: LoopbackHttp, database_url: str) -> None:
    """Start ``tracker poll va-lis`` and SIGKILL it inside its big write transaction."""
    served_before = server.requests()
    process = place.start("poll", "va-lis")
    deadline = time.monotonic() + 60
    seen_writing = 0
    try:
        # Short writes (the lease's renewal) come and go; the session's store holds the write
        # transaction for a second or more: wait until a write outlasts three probes.
        while seen_writing < 3:
            assert process.poll() is None, (
                f"the poll ended before it could be killed: {process.communicate()}")
            assert time.monotonic() < deadline, "the poll never started storing"
            fetched = server.requests() - served_before >= 5  # the session's five files
            seen_writing = seen_writing + 1 if fetched and writing(database_url) else 0
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_poll_killed_while_storing_loses_and_doubles_nothing(
    tmp_path: Path, upstream: tuple[LoopbackHttp, VirginiaUpstream], database_url: str
) -> None:
    server, lis = upstream
    killed_url = with_application_name(database_url)
    place = virginia(tmp_path / "killed", server, killed_url)

    poll_in_process(place)
    lis.move_to("2020-01-28")
    kill_while_storing(place, server, database_url)
    repo = Repository(sa.create_engine(database_url))
    assert run_statuses(repo, "va-lis") == ["ok", "running"], "the kill ended a poll midway"
    with repo.read() as session:
        kept = session.execute(sa.text("SELECT count(*) FROM events")).scalar()
    assert kept == len(snapshot(repo).bills), "killed inside the store: only the baseline kept"

    time.sleep(1.1)  # the dead poller's lease (TRACKER_LEASE_SECONDS=1) expires
    recovered = place.run("poll", "va-lis")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert recovered.stdout.startswith("va-lis: ok;"), recovered.stdout
    assert run_statuses(repo, "va-lis") == ["ok", "abandoned", "ok"]
    after_kill = snapshot(repo)
    repo.engine.dispose()

    # The same two polls, uninterrupted, into a second database.
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean = virginia(tmp_path / "clean", server, clean_url)
    lis.move_to("2020-01-24")
    poll_in_process(clean)
    lis.move_to("2020-01-28")
    poll_in_process(clean)
    clean_repo = Repository(sa.create_engine(clean_url))
    expected = snapshot(clean_repo)
    clean_repo.engine.dispose()

    assert len(expected.bills) > 3000 and sum(expected.events.values()) > 6000
    assert after_kill.bills == expected.bills
    assert after_kill.actions == expected.actions
    assert after_kill.events == expected.events, "an event lost or doubled"
    assert after_kill.topics == expected.topics
    assert after_kill.cursors == expected.cursors
