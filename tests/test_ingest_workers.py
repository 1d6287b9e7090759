"""Polls whose documents are parsed and stored by ingest worker processes.

The same loopback govinfo as tests/test_govinfo_poll.py (real BILLSTATUS samples), with the
pipeline told to hand documents to a real worker process after the first two, three per
chunk (the polling process keeps a chunk for itself when the worker has two queued): the
stored bills, events and topic matches must be exactly those of a poll without workers (the
golden snapshot), a broken document stays isolated, and a worker that dies or hits a bug
fails the poll in one line without storing half a chunk; the next poll recovers. Runs on
SQLite, and on PostgreSQL when TRACKER_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

import tracker.pipeline as pipeline_module
from scrapers.us_govinfo import UsGovinfo
from tests.govinfo_mirror import BASE, EXPECTED_STAGES, SESSIONS, Mirror, serving
from tests.test_govinfo_poll import GOLDEN, Clock, amend_golden_bill, snapshot
from tracker.http import HttpClient
from tracker.ingest_workers import IngestWorkers, WorkerCrash
from tracker.matching import topic_hook
from tracker.pipeline import Pipeline, chunk_documents
from tracker.records import BillRecord, Fetched
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, Repository
from tracker.topic_config import read_topics

REPO_ROOT = Path(__file__).resolve().parent.parent
TOPICS = read_topics(REPO_ROOT / "config" / "topics.toml")
HR6 = "/bulkdata/BILLSTATUS/117/hr/BILLSTATUS-117hr6.xml"


class DyingGovinfo(UsGovinfo):
    """us-govinfo whose parser takes its process down on HR 6 (a worker killed mid-chunk)."""

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        if fetched.ref.url.endswith("BILLSTATUS-117hr6.xml") and (
            multiprocessing.parent_process() is not None  # never the test process itself
        ):
            os._exit(9)
        return super().parse(fetched)


class BuggyGovinfo(UsGovinfo):
    """us-govinfo whose parser has a bug on HR 6."""

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        if fetched.ref.url.endswith("BILLSTATUS-117hr6.xml"):
            raise KeyError("a field the parser forgot")
        return super().parse(fetched)


@pytest.fixture(scope="module")
def workers() -> Iterator[IngestWorkers]:
    with IngestWorkers(workers=1, preload=("tests.test_ingest_workers",)) as pool:
        pool.start()
        yield pool


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_module, "WORKERS_AFTER", 2)
    monkeypatch.setattr(pipeline_module, "CHUNK_DOCUMENTS", 3)


@pytest.fixture
def chunk_per_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each sitemap group one chunk, handed to the worker (a checkpoint waits for it)."""
    monkeypatch.setattr(pipeline_module, "WORKERS_AFTER", 0)
    monkeypatch.setattr(pipeline_module, "CHUNK_DOCUMENTS", 20)


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serving() as served:
        yield served


def pipeline_for(
    repo: Repository, tmp_path: Path, workers: IngestWorkers | None, *,
    factory: type[UsGovinfo] = UsGovinfo, topics: bool = False,
) -> Pipeline:
    settings = Settings(config_dir=tmp_path, database_url="", sources={
        "us-govinfo": SourceSettings(name="us-govinfo", enabled=True, sessions=SESSIONS,
                                     base_url=BASE)})
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return Pipeline(
        settings=settings, repo=repo, http=http, registry={"us-govinfo": factory},
        clock=Clock(), workers=workers,
        on_stored=topic_hook(repo=repo, topics=TOPICS) if topics else None,
        worker_hook=partial(topic_hook, topics=TOPICS) if topics else None,
    )


def test_workers_store_the_same_history_as_a_poll_without_them(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers
) -> None:
    pipeline = pipeline_for(repo, tmp_path, workers)
    first = pipeline.poll("us-govinfo")
    assert (first.status, first.inserted, first.fetched, first.failed) == ("ok", 13, 13, 0)
    amend_golden_bill(mirror)
    second = pipeline.poll("us-govinfo")
    assert (second.status, second.updated) == ("ok", 1)
    got, golden = snapshot(repo), json.loads(GOLDEN.read_text())
    assert got["bills"] == golden["bills"]
    # Chunks are stored side by side, so events of different bills may interleave in another
    # order; each bill's own events keep theirs.
    assert _by_bill(got["events"]) == _by_bill(golden["events"])
    mirror.hits.clear()
    third = pipeline.poll("us-govinfo")
    assert (third.status, third.events, mirror.requests()) == ("ok", 0, 1)


def _by_bill(events: object) -> dict[str, list[object]]:
    grouped: dict[str, list[object]] = {}
    assert isinstance(events, list)
    for event in events:
        grouped.setdefault(event[0], []).append(event[1:])
    return grouped


def test_topic_matches_made_in_workers_equal_those_made_here(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers,
    database_url: str,
) -> None:
    report = pipeline_for(repo, tmp_path, workers, topics=True).poll("us-govinfo")
    assert report.status == "ok"
    with repo.read() as session:
        by_worker = {bill.key: sorted(m.topic for m in matches)
                     for bill in repo.list_bills(session, BillFilter())
                     for bid, matches in repo.topic_matches(session).items()
                     if bid == bill.bill_id}
    here = tmp_path / "here"
    here.mkdir()
    from tracker.storage.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{here / 'here.db'}")
    migrate(engine)
    other = Repository(engine)
    with serving():
        assert pipeline_for(other, here, None, topics=True).poll("us-govinfo").status == "ok"
    with other.read() as session:
        by_pipeline = {bill.key: sorted(m.topic for m in matches)
                       for bill in other.list_bills(session, BillFilter())
                       for bid, matches in other.topic_matches(session).items()
                       if bid == bill.bill_id}
    engine.dispose()
    assert by_worker == by_pipeline
    assert by_worker["us/117/HR 1593"] == ["citizenship-immigration"]


def test_a_broken_document_in_a_worker_chunk_is_isolated_and_retried(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers
) -> None:
    good = mirror.documents[HR6]
    mirror.documents[HR6] = good[:5000]
    pipeline = pipeline_for(repo, tmp_path, workers)
    report = pipeline.poll("us-govinfo")
    assert (report.status, report.inserted, report.failed) == ("partial", 12, 1)
    assert "BILLSTATUS-117hr6.xml" in report.failures[0].error
    mirror.documents[HR6] = good
    mirror.hits.clear()
    retry = pipeline.poll("us-govinfo")
    assert (retry.status, retry.inserted) == ("ok", 1)
    assert mirror.bill_fetches() == 1


def test_a_worker_that_dies_fails_the_poll_in_one_line_and_the_next_poll_recovers(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers,
    chunk_per_group: None,
) -> None:
    report = pipeline_for(repo, tmp_path, workers, factory=DyingGovinfo).poll("us-govinfo")
    assert report.status == "failed"
    assert report.error is not None and "\n" not in report.error
    assert "ingest worker process died" in report.error
    with repo.read() as session:
        stored = {b.key for b in repo.list_bills(session, BillFilter())}
    # The chunk holding HR 6 died with the worker, none of it stored (the other sitemap
    # groups, checkpointed apart, were stored).
    assert "us/117/HR 6" not in stored and "us/117/HR 1593" not in stored, stored
    healed = pipeline_for(repo, tmp_path, workers).poll("us-govinfo")
    assert healed.status == "ok", healed.error
    with repo.read() as session:
        stages = {b.key: b.stage for b in repo.list_bills(session, BillFilter())}
    assert stages == EXPECTED_STAGES
    with repo.read() as session:
        assert repo.count_bills(session, source="us-govinfo") == 13


def test_a_parser_bug_in_a_worker_is_raised_with_its_cause(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers,
    chunk_per_group: None,
) -> None:
    with pytest.raises(WorkerCrash, match="KeyError: 'a field the parser forgot'"):
        pipeline_for(repo, tmp_path, workers, factory=BuggyGovinfo).poll("us-govinfo")


def test_a_small_poll_never_starts_the_workers(
    repo: Repository, tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "WORKERS_AFTER", 100)
    idle = IngestWorkers(workers=1)
    report = pipeline_for(repo, tmp_path, idle).poll("us-govinfo")
    assert (report.status, report.inserted) == ("ok", 13)
    assert idle.worker_pids() == []


def test_running_workers_get_chunks_from_the_first_document(
    repo: Repository, tmp_path: Path, mirror: Mirror, workers: IngestWorkers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With the workers up, the first documents are not parsed here first (the other cores
    # would wait for them); WORKERS_AFTER only spares a small poll from starting them.
    monkeypatch.setattr(pipeline_module, "WORKERS_AFTER", 100)
    parsed_here: list[str] = []
    real = pipeline_module.parse_and_normalize

    def spy(source: UsGovinfo, fetched: Fetched) -> object:
        parsed_here.append(fetched.ref.url)
        return real(source, fetched)

    monkeypatch.setattr(pipeline_module, "parse_and_normalize", spy)
    idle = IngestWorkers(workers=1)
    first = pipeline_for(repo, tmp_path, idle).poll("us-govinfo")
    assert (first.status, first.inserted, len(parsed_here)) == ("ok", 13, 13)
    assert not idle.running and idle.worker_pids() == []
    amend_golden_bill(mirror)
    parsed_here.clear()
    assert workers.running
    second = pipeline_for(repo, tmp_path, workers).poll("us-govinfo")
    assert (second.status, second.updated) == ("ok", 1)
    assert parsed_here == []


def test_the_end_of_a_poll_is_shared_out_in_smaller_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline_module, "CHUNK_DOCUMENTS", 50)
    monkeypatch.setattr(pipeline_module, "LAST_CHUNK_DOCUMENTS", 5)
    assert chunk_documents(left=None, workers=1) == 50  # still fetching
    assert chunk_documents(left=10_000, workers=1) == 50
    # One worker and this process: each of the two gets two pieces of what is left.
    assert chunk_documents(left=196, workers=1) == 49
    assert chunk_documents(left=40, workers=1) == 10
    assert chunk_documents(left=40, workers=3) == 5
    assert chunk_documents(left=3, workers=1) == 5  # never below the smallest chunk
    assert chunk_documents(left=40, workers=0) == 50  # no workers: nothing to share
    monkeypatch.setattr(pipeline_module, "CHUNK_DOCUMENTS", 3)
    assert chunk_documents(left=0, workers=1) == 3  # nor above the usual one
