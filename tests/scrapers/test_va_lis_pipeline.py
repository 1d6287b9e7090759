"""va-lis through the pipeline: LIS served over ``responses`` at http://lis.test (base_url),
with ETags and If-None-Match honoured as Azure Blob Storage does, into a real database
(SQLite, or PostgreSQL when TRACKER_TEST_DATABASE_URL is set).

The expected events of the two real 2020 dates are computed here from the two HISTORY.CSV
files directly (csv module, per bill multisets of date and text), not by the source's code.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
import sqlalchemy as sa
from requests import PreparedRequest

from scrapers.va_lis import VaLis
from tests.conftest import PROJECT_FIXTURES, shared
from tracker.http import HttpClient
from tracker.models import BillKey, Stage
from tracker.pipeline import Pipeline, RunReport
from tracker.records import BillRef, Validators
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext
from tracker.storage.repository import EventFilter, EventView, Repository

ORIGIN = "http://lis.test"
MINI = PROJECT_FIXTURES / "va-lis" / "session-2026"


class FakeLis:
    """Serves ``files`` ({"/201/BILLS.CSV": body}) with strong ETags; 404 for anything else."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.etags = True
        self.failures: dict[str, int] = {}  # path -> status to answer instead
        self.requests: list[tuple[str, int]] = []

    def serve_folder(
        self,
        folder: Path,
        *,
        code: str,
        names: Mapping[str, str] | None = None,
        only: tuple[str, ...] | None = None,
    ) -> None:
        """Serve ``folder``'s files as ``/{code}/{name}`` (renamed by ``names``), replacing
        whatever was served before."""
        self.files = {
            f"/{code}/{(names or {}).get(p.name, p.name)}": p.read_bytes()
            for p in sorted(folder.iterdir())
            if p.is_file() and (only is None or p.name in only)
        }

    def __call__(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        path = re.sub(r"^https?://[^/]+", "", request.url or "")
        body = self.files.get(path)
        if path in self.failures:
            self.requests.append((path, self.failures[path]))
            return self.failures[path], {}, b""
        if body is None:
            self.requests.append((path, 404))
            return 404, {}, b"<Error><Code>BlobNotFound</Code></Error>"
        headers = {}
        if self.etags:
            etag = '"0x8D' + hashlib.sha256(body).hexdigest()[:12].upper() + '"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                self.requests.append((path, 304))
                return 304, headers, b""
        self.requests.append((path, 200))
        return 200, headers, body


@pytest.fixture
def lis() -> Iterator[FakeLis]:
    server = FakeLis()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(ORIGIN) + r"/.*"), callback=server)
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_pipeline(repo: Repository, tmp_path: Path, *, sessions: tuple[str, ...]) -> Pipeline:
    settings = Settings(config_dir=tmp_path, database_url="", sources={
        "va-lis": SourceSettings(name="va-lis", enabled=True, base_url=ORIGIN, sessions=sessions),
    })  # fmt: skip
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return Pipeline(
        settings=settings, repo=repo, http=http, registry={"va-lis": VaLis}, clock=Clock()
    )


def all_events(repo: Repository) -> list[EventView]:
    with repo.read() as session:
        return list(repo.events(session, EventFilter(include_baseline=True)))


def bill_count(repo: Repository) -> int:
    with repo.read() as session:
        return repo.count_bills(session, source="va-lis")


# -- the expected changes, from the raw files ------------------------------------------------------


def history(path: Path) -> dict[str, Counter[tuple[str, str]]]:
    """Per bill ("HB 565"), the multiset of (ISO date, text without the chamber prefix)."""
    per_bill: dict[str, Counter[tuple[str, str]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            bill = re.sub(r"^([A-Z]+)(\d+)$", r"\1 \2", row["Bill_id"])
            day = datetime.strptime(row["History_date"], "%m/%d/%y").date().isoformat()
            text = " ".join(row["History_description"][2:].split())
            per_bill.setdefault(bill, Counter())[(day, text)] += 1
    return per_bill


def bill_ids(path: Path) -> set[str]:
    with path.open(newline="") as handle:
        return {re.sub(r"^([A-Z]+)(\d+)$", r"\1 \2", r["Bill_id"]) for r in csv.DictReader(handle)}


def changed_actions(events: list[EventView], kind: str) -> Counter[tuple[str, str, str]]:
    return Counter(
        (e.bill.split("/", 2)[2], e.details["date"], e.details["description"])
        for e in events if e.kind == kind
    )  # fmt: skip


def expected_difference(
    later: dict[str, Counter[tuple[str, str]]],
    earlier: dict[str, Counter[tuple[str, str]]],
    *,
    bills: set[str],
) -> Counter[tuple[str, str, str]]:
    """Rows of ``later`` missing from ``earlier``, for ``bills`` (those stored both times)."""
    found: Counter[tuple[str, str, str]] = Counter()
    empty: Counter[tuple[str, str]] = Counter()
    for bill in bills:
        for (day, text), count in (later.get(bill, empty) - earlier.get(bill, empty)).items():
            found[(bill, day, text)] += count
    return found


# -- the two real 2020 dates --------------------------------------------------------------------


@pytest.mark.slow  # two whole-session polls: about 10 s on SQLite, 15 s on PostgreSQL
def test_two_real_dates_give_exactly_the_upstream_changes(
    lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    first_day = shared("va-lis", "csv-2020-session", "2020-01-24")
    second_day = shared("va-lis", "csv-2020-session", "2020-01-28")
    pipeline = make_pipeline(repo, tmp_path, sessions=("2020",))

    # 2020-01-24: BILLS.CSV and HISTORY.CSV only; the optional files answer 404 (both cases).
    lis.serve_folder(first_day, code="201")
    first = pipeline.poll("va-lis")
    assert (first.status, first.error, first.inserted) == ("ok", None, 3126)
    assert first.requests == 2 + 3 * 2
    assert bill_count(repo) == 3126
    baseline = all_events(repo)
    assert len(baseline) == 3126
    assert {(e.kind, e.baseline) for e in baseline} == {("new-bill", True)}

    # 2020-01-28, with Summaries.csv, Sponsors.csv and CIBillSubjects.csv now there.
    lis.serve_folder(second_day, code="201")
    lis.requests.clear()
    second = pipeline.poll("va-lis")
    assert (second.status, second.error, second.discovered, second.fetched) == ("ok", None, 1, 1)
    assert second.requests == 5
    assert all(status == 200 for _, status in lis.requests)
    assert bill_count(repo) == 3141
    changes = all_events(repo)[len(baseline) :]
    assert not any(e.baseline for e in changes)
    known = bill_ids(first_day / "BILLS.CSV")
    new_bills = {e.bill.split("/", 2)[2] for e in changes if e.kind == "new-bill"}
    assert new_bills == bill_ids(second_day / "BILLS.CSV") - known
    assert len(new_bills) == 15
    before, after = history(first_day / "HISTORY.CSV"), history(second_day / "HISTORY.CSV")
    added = expected_difference(after, before, bills=known)
    removed = expected_difference(before, after, bills=known)
    assert changed_actions(changes, "new-action") == added
    assert changed_actions(changes, "action-removed") == removed
    assert (sum(added.values()), sum(removed.values())) == (3068, 57)
    with repo.read() as session:
        sb34 = repo.get_bill(session, BillKey.parse("va/2020/SB 34"))
    assert sb34 is not None and sb34.sponsors[0].name == "Scott A. Surovell"

    # The same files again: every file answers 304, nothing is parsed or stored.
    lis.requests.clear()
    third = pipeline.poll("va-lis")
    assert (third.status, third.discovered, third.fetched, third.events) == ("ok", 0, 0, 0)
    assert third.requests == 5
    assert [status for _, status in lis.requests] == [304] * 5
    assert len(all_events(repo)) == len(baseline) + len(changes)


# -- the project's session folder: edge cases of fetching ------------------------------------------


def poll(pipeline: Pipeline) -> RunReport:
    return pipeline.poll("va-lis")


def test_a_missing_optional_file_is_skipped(
    lis: FakeLis, repo: Repository, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lis.serve_folder(
        MINI, code="20261", only=("BILLS.CSV", "HISTORY.CSV", "Sponsors.csv", "CIBillSubjects.csv")
    )
    caplog.set_level(logging.INFO, logger="scrapers.va_lis.source")
    report = poll(make_pipeline(repo, tmp_path, sessions=("2026",)))
    assert (report.status, report.inserted) == ("ok", 4)
    assert ("/20261/Summaries.csv", 404) in lis.requests
    assert ("/20261/SUMMARIES.CSV", 404) in lis.requests
    assert (
        "session 2026: http://lis.test/20261/Summaries.csv (or SUMMARIES.CSV) not found; "
        "skipped" in caplog.text
    )
    with repo.read() as session:
        hb1 = repo.get_bill(session, BillKey.parse("va/2026/HB 1"))
    assert hb1 is not None and hb1.summary == "" and hb1.stage is Stage.ENACTED


@pytest.mark.parametrize("missing", ["BILLS.CSV", "HISTORY.CSV"])
def test_a_missing_required_file_fails_the_run(
    missing: str, lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    lis.serve_folder(MINI, code="20261")
    del lis.files[f"/20261/{missing}"]
    report = poll(make_pipeline(repo, tmp_path, sessions=("2026",)))
    assert report.status == "failed"
    assert report.error == (
        f"va-lis: session 2026: http://lis.test/20261/{missing} (or {missing.lower()}) not found"
    )
    assert bill_count(repo) == 0


def test_an_empty_bills_file_fails_the_run(lis: FakeLis, repo: Repository, tmp_path: Path) -> None:
    lis.serve_folder(MINI, code="20261")
    header = lis.files["/20261/BILLS.CSV"].split(b"\r\n")[0]
    lis.files["/20261/BILLS.CSV"] = header + b"\r\n"
    report = poll(make_pipeline(repo, tmp_path, sessions=("2026",)))
    assert report.status == "failed"
    assert report.error == (
        "va-lis: http://lis.test/20261/BILLS.CSV: no bills (an active session always has some)"
    )


def test_file_names_in_the_other_case_are_found_and_remembered(
    lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    lower = {
        "BILLS.CSV": "bills.csv",
        "HISTORY.CSV": "history.csv",
        "Summaries.csv": "SUMMARIES.CSV",
        "Sponsors.csv": "SPONSORS.CSV",
        "CIBillSubjects.csv": "CIBILLSUBJECTS.CSV",
    }
    lis.serve_folder(MINI, code="20261", names=lower)
    pipeline = make_pipeline(repo, tmp_path, sessions=("2026",))
    first = poll(pipeline)
    assert (first.status, first.inserted, first.requests) == ("ok", 4, 10)  # 404, then 200
    with repo.read() as session:
        hb1 = repo.get_bill(session, BillKey.parse("va/2026/HB 1"))
    assert hb1 is not None and hb1.summary.startswith("Driver privilege cards")
    lis.requests.clear()
    again = poll(pipeline)
    assert (again.status, again.discovered, again.requests) == ("ok", 0, 5)
    assert sorted(lis.requests) == sorted((f"/20261/{name}", 304) for name in lower.values())


def test_a_304_without_a_stored_body_is_fetched_again(
    lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    lis.serve_folder(MINI, code="20261")
    pipeline = make_pipeline(repo, tmp_path, sessions=("2026",))
    assert poll(pipeline).inserted == 4
    with repo.engine.begin() as connection:  # as if the kept bodies were lost
        connection.execute(sa.text("UPDATE fetch_state SET body = NULL"))
    history = lis.files["/20261/HISTORY.CSV"]
    lis.files["/20261/HISTORY.CSV"] = history + b'"HB2","2/11/2026","H Left in General Laws",""\r\n'
    lis.requests.clear()
    report = poll(pipeline)
    assert (report.status, report.updated, report.noop) == ("ok", 1, 3)
    assert lis.requests.count(("/20261/BILLS.CSV", 304)) == 1
    assert lis.requests.count(("/20261/BILLS.CSV", 200)) == 1  # fetched again, unconditionally
    kinds = Counter(e.kind for e in all_events(repo) if not e.baseline)
    assert kinds == {"new-action": 1, "stage-change": 1}
    # The refetched bodies were kept again: the next unchanged poll costs one request a file.
    lis.requests.clear()
    assert poll(pipeline).requests == 5


def test_without_validators_an_identical_body_is_unchanged(
    lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    lis.etags = False
    lis.serve_folder(MINI, code="20261")
    pipeline = make_pipeline(repo, tmp_path, sessions=("2026",))
    assert poll(pipeline).inserted == 4
    again = poll(pipeline)
    assert (again.status, again.discovered, again.fetched, again.requests) == ("ok", 0, 0, 5)


def test_a_bad_session_name_fails_the_run(lis: FakeLis, repo: Repository, tmp_path: Path) -> None:
    report = poll(make_pipeline(repo, tmp_path, sessions=("2026 special",)))
    assert report.status == "failed"
    assert report.error is not None
    assert report.error.startswith(
        "va-lis: sources.va-lis.sessions: '2026 special' is not a Virginia session name"
    )
    assert lis.requests == []


def test_a_server_error_fails_the_run_with_one_line(
    lis: FakeLis, repo: Repository, tmp_path: Path
) -> None:
    lis.serve_folder(MINI, code="20261")
    pipeline = make_pipeline(repo, tmp_path, sessions=("2026",))
    lis.failures["/20261/HISTORY.CSV"] = 500
    report = poll(pipeline)
    assert report.status == "failed"
    assert report.error == (
        "500 Internal Server Error from http://lis.test/20261/HISTORY.CSV after 4 retries"
    )
    assert bill_count(repo) == 0


class NoState:
    """Nothing stored yet (a FetchStateView for a source used outside the pipeline)."""

    def get(self, url: str) -> Validators | None:
        return None

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        return {}

    def body(self, url: str) -> bytes | None:
        return None


def test_fetch_of_a_ref_that_was_not_just_discovered(lis: FakeLis) -> None:
    lis.serve_folder(MINI, code="20261")
    settings = SourceSettings(name="va-lis", base_url=ORIGIN, sessions=("2026",))
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    source = VaLis(SourceContext(settings=settings, http=http, state=NoState()))
    ref = BillRef(source="va-lis", url=f"{ORIGIN}/20261/", session="2026", group="2026")
    fetched = source.fetch(ref)
    assert sorted(fetched.documents) == sorted(p.name for p in MINI.iterdir())
    assert [u.url for u in fetched.updates] == [
        f"{ORIGIN}/20261/{n}"
        for n in ("BILLS.CSV", "HISTORY.CSV", "Summaries.csv", "Sponsors.csv", "CIBillSubjects.csv")
    ]
    assert all(u.body == fetched.documents[u.url.rsplit("/", 1)[1]] for u in fetched.updates)
    assert len(source.parse(fetched)) == 4
