"""The pipeline's promises, on a small in-memory source (no network).

A document here is JSON: {"bills": [{"id": "HB 1", "title": ..., "actions": [[date, text,
class...]...]}]}. The source is written for these tests only; real sources have their own
tests with recorded documents.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

import pytest

from tracker.errors import ConfigError, FetchError, ParseError
from tracker.http import HttpClient
from tracker.models import ActionClass, BillType, Chamber
from tracker.pipeline import Pipeline
from tracker.records import (
    ActionRecord,
    BillRecord,
    BillRef,
    Checkpoint,
    Fetched,
    StateUpdate,
    Validators,
)
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext, SourceInfo
from tracker.storage.repository import EventFilter, Repository

UPSTREAM: dict[str, object] = {}


class MemorySource:
    """Serves UPSTREAM: {url: document dict | Exception}; change markers are content hashes."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name="memory",
        title="Memory",
        jurisdictions=("va",),
        homepage="http://memory",
        default_origin="http://memory",
        min_interval=timedelta(0),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        for url, doc in sorted(UPSTREAM.items()):
            marker = hashlib.sha256(
                json.dumps(doc, sort_keys=True, default=str).encode()
            ).hexdigest()
            stored = self.context.state.get(url)
            if stored is None or stored.lastmod != marker:
                yield BillRef(source="memory", url=url, session="2020", lastmod=marker, group="all")
        yield Checkpoint(
            group="all",
            updates=(StateUpdate("memory:index", Validators(lastmod=str(len(UPSTREAM)))),),
        )

    def fetch(self, ref: BillRef) -> Fetched:
        doc = UPSTREAM[ref.url]
        if isinstance(doc, Exception):
            raise doc
        return Fetched(
            ref=ref,
            documents={ref.url: json.dumps(doc).encode()},
            updates=(StateUpdate(ref.url, Validators(lastmod=ref.lastmod)),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        data = json.loads(fetched.body)
        if "bills" not in data:
            raise ParseError("no bills element", document=fetched.ref.url)
        return [
            BillRecord(
                source="memory",
                jurisdiction="va",
                session="2020",
                identifier=b["id"],
                title=b["title"],
                bill_type=BillType.BILL,
                document=fetched.ref.url,
                actions=tuple(
                    ActionRecord(
                        date=date.fromisoformat(a[0]),
                        actor=Chamber.LOWER,
                        description=a[1],
                        classification=tuple(ActionClass(c) for c in a[2:]),
                    )
                    for a in b["actions"]
                ),
            )
            for b in data["bills"]
        ]


INTRO = ["2020-01-08", "Prefiled and ordered printed", "introduction"]
REFER = ["2020-01-08", "Referred to Committee on Transportation", "referral-committee"]
REPORT = ["2020-01-21", "Reported from Transportation", "committee-passage"]


def doc(*bills: tuple[str, list[list[str]]]) -> dict[str, object]:
    return {"bills": [{"id": i, "title": f"Bill {i}", "actions": a} for i, a in bills]}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def pipeline(repo: Repository, tmp_path) -> Iterator[Pipeline]:
    UPSTREAM.clear()
    settings = Settings(
        config_dir=tmp_path,
        database_url="",
        sources={"memory": SourceSettings(name="memory", enabled=True, sessions=("2020",))},
    )
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    yield Pipeline(
        settings=settings, repo=repo, http=http, registry={"memory": MemorySource}, clock=Clock()
    )
    UPSTREAM.clear()


def events(repo: Repository) -> list[tuple[str, str, bool]]:
    with repo.read() as session:
        return [(e.bill, e.kind, e.baseline) for e in repo.events(session, EventFilter())]


def test_first_poll_is_baseline_then_changes_alert(pipeline: Pipeline, repo: Repository) -> None:
    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO, REFER]), ("HB 2", [INTRO]))
    first = pipeline.poll("memory")
    assert (first.status, first.inserted, first.events) == ("ok", 2, 2)
    assert all(baseline for _, _, baseline in events(repo))

    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO, REFER, REPORT]), ("HB 2", [INTRO]))
    second = pipeline.poll("memory")
    assert (second.updated, second.noop, second.events) == (1, 1, 2)
    assert events(repo)[2:] == [
        ("va/2020/HB 1", "new-action", False),
        ("va/2020/HB 1", "stage-change", False),
    ]


def test_unchanged_upstream_polls_nothing(pipeline: Pipeline, repo: Repository) -> None:
    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO]))
    pipeline.poll("memory")
    again = pipeline.poll("memory")
    assert (again.status, again.discovered, again.fetched, again.events) == ("ok", 0, 0, 0)


def test_one_bad_document_does_not_stop_the_others(pipeline: Pipeline, repo: Repository) -> None:
    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO]))
    UPSTREAM["memory:b"] = {"wrong": "shape"}
    UPSTREAM["memory:c"] = FetchError("connection refused", url="memory:c")
    UPSTREAM["memory:d"] = doc(("HB 4", [INTRO]))
    report = pipeline.poll("memory")
    assert report.status == "partial"
    assert report.inserted == 2
    assert [f.document for f in report.failures] == ["memory:b", "memory:c"]
    assert "no bills element" in report.failures[0].error
    # the cursor did not move past the failures: they are retried, the stored ones are not
    UPSTREAM["memory:b"] = doc(("HB 2", [INTRO]))
    UPSTREAM["memory:c"] = doc(("HB 3", [INTRO]))
    retry = pipeline.poll("memory")
    assert (retry.status, retry.discovered, retry.inserted) == ("ok", 2, 2)
    with repo.read() as session:
        assert repo.count_bills(session) == 4


def test_bad_bill_is_isolated(pipeline: Pipeline, repo: Repository) -> None:
    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO]), ("not an id", [INTRO]), ("HB 3", [INTRO]))
    report = pipeline.poll("memory")
    assert report.inserted == 2
    assert report.failures[0].bill == "not an id"


def test_empty_active_session_is_an_error(pipeline: Pipeline) -> None:
    report = pipeline.poll("memory")
    assert report.status == "failed"
    assert report.error == "memory: no bills found for sessions 2020"


def test_unknown_source_is_refused_and_not_recorded(pipeline: Pipeline, repo: Repository) -> None:
    with pytest.raises(ConfigError, match="unknown source 'nowhere'"):
        pipeline.poll("nowhere")
    with repo.read() as session:
        assert repo.runs(session) == []


def test_run_is_recorded(pipeline: Pipeline, repo: Repository) -> None:
    UPSTREAM["memory:a"] = doc(("HB 1", [INTRO]))
    pipeline.poll("memory")
    with repo.read() as session:
        (run,) = repo.runs(session, source="memory")
    assert run.status == "ok"
    assert run.counts["inserted"] == 1
    assert run.finished_at is not None and run.finished_at > run.started_at
