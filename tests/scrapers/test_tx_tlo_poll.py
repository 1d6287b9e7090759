"""tx-tlo end to end: the project-written fixtures served by a real FTP server on loopback
(pyftpdlib answering LIST in the IIS style the TX server is documented to use), polled into
the store by the pipeline. Runs on SQLite, and on PostgreSQL when TRACKER_TEST_DATABASE_URL
is set."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scrapers.tx_tlo import TxTlo
from tests.loopback_ftp import LoopbackFtp, set_mtime
from tracker.http import HttpClient
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, EventFilter, Repository

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tx-tlo"
HISTORY = "bills/89R/billhistory"
HB150 = f"{HISTORY}/house_bills/HB00100_HB00199/HB 150.xml"
SB17 = f"{HISTORY}/senate_bills/SB00001_SB00099/SB 17.xml"
#: Listing times on whole minutes: the IIS listing shows minutes only.
T0 = 1_740_000_000 // 60 * 60
STAGES = {
    "tx/89R/HB 4": "enacted",
    "tx/89R/HB 150": "in-committee",
    "tx/89R/HCR 12": "passed-origin",
    "tx/89R/HJR 3": "adopted",
    "tx/89R/SB 17": "passed-origin",
    "tx/89R/SB 120": "vetoed",
    "tx/89R/SR 45": "adopted",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A folder laid out like ftp.legis.state.tx.us, holding the fixtures and a non-XML file."""
    root = tmp_path / "ftp"
    shutil.copytree(FIXTURES / "bills", root / "bills")
    (root / HISTORY / "readme.txt").write_text("not a bill history")
    for path in root.rglob("*"):
        set_mtime(path, T0)
    return root


@pytest.fixture
def server(upstream: Path) -> Iterator[LoopbackFtp]:
    with LoopbackFtp(upstream, listing="iis") as running:
        yield running


def make_pipeline(
    repo: Repository, tmp_path: Path, server: LoopbackFtp, *, sessions: tuple[str, ...] = ("89R",)
) -> Pipeline:
    source = SourceSettings(name="tx-tlo", enabled=True, base_url=server.url, sessions=sessions)
    settings = Settings(config_dir=tmp_path, database_url="", sources={"tx-tlo": source})
    http = HttpClient(user_agent="test", min_interval=0, retries=1, sleep=lambda s: None)
    return Pipeline(settings=settings, repo=repo, http=http, registry={"tx-tlo": TxTlo},
                    clock=Clock())


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path, server: LoopbackFtp) -> Pipeline:
    return make_pipeline(repo, tmp_path, server)


def stages(repo: Repository) -> dict[str, str]:
    with repo.read() as session:
        return {b.key: b.stage for b in repo.list_bills(session, BillFilter(source="tx-tlo"))}


def events(repo: Repository) -> list[tuple[str, str, bool]]:
    with repo.read() as session:
        return [(e.bill, e.kind, e.baseline) for e in repo.events(session, EventFilter())]


def replace_file(root: Path, relative: str, body: bytes, *, minutes_later: int) -> None:
    path = root / relative
    path.write_bytes(body)
    set_mtime(path, T0 + 60 * minutes_later)


def baseline(pipeline: Pipeline, server: LoopbackFtp) -> RunReport:
    report = pipeline.poll("tx-tlo")
    assert report.status == "ok", report.error or report.failures
    return report


def test_first_poll_stores_every_bill_then_a_no_change_poll_retrieves_nothing(
    pipeline: Pipeline, repo: Repository, server: LoopbackFtp
) -> None:
    first = baseline(pipeline, server)
    # eight XML files (HB 3 is an empty slot), no readme.txt
    assert (first.discovered, first.fetched, first.inserted, first.events) == (8, 8, 7, 7)
    assert server.count("RETR") == 8
    assert not any(path.endswith(".txt") for path in server.retrieved)
    assert stages(repo) == STAGES
    assert {kind for _, kind, _ in events(repo)} == {"new-bill"}
    assert all(is_baseline for *_, is_baseline in events(repo))
    assert first.requests > 8  # FTP logins, listings and retrievals are counted

    again = pipeline.poll("tx-tlo")
    assert (again.status, again.discovered, again.fetched, again.events) == ("ok", 0, 0, 0)
    assert server.count("RETR") == 8  # no file retrieved: the listing said nothing changed
    assert again.requests > 0  # the walk itself


def test_a_changed_file_is_the_only_one_fetched_and_gives_its_events(
    pipeline: Pipeline, repo: Repository, server: LoopbackFtp, upstream: Path
) -> None:
    baseline(pipeline, server)
    retrieved = len(server.retrieved)
    replace_file(upstream, HB150, (FIXTURES / "changed" / "HB 150.xml").read_bytes(),
                 minutes_later=5)
    report = pipeline.poll("tx-tlo")
    assert (report.status, report.discovered, report.fetched, report.updated) == ("ok", 1, 1, 1)
    assert server.retrieved[retrieved:] == [f"/{HB150}"]
    fresh = [(bill, kind) for bill, kind, is_baseline in events(repo) if not is_baseline]
    assert fresh == [
        ("tx/89R/HB 150", "new-action"), ("tx/89R/HB 150", "new-action"),
        ("tx/89R/HB 150", "new-action"), ("tx/89R/HB 150", "new-action"),
        ("tx/89R/HB 150", "new-version"), ("tx/89R/HB 150", "stage-change"),
    ]
    assert stages(repo)["tx/89R/HB 150"] == "reported"
    quiet = pipeline.poll("tx-tlo")
    assert (quiet.discovered, quiet.events) == (0, 0)


def test_a_touched_but_identical_file_is_retrieved_once_and_not_parsed(
    pipeline: Pipeline, server: LoopbackFtp, upstream: Path
) -> None:
    baseline(pipeline, server)
    set_mtime(upstream / SB17, T0 + 600)
    report = pipeline.poll("tx-tlo")
    assert (report.discovered, report.fetched, report.unchanged, report.events) == (1, 0, 1, 0)
    assert server.retrieved[-1] == f"/{SB17}"
    # its new listing marker was stored: the next poll does not fetch it again
    assert pipeline.poll("tx-tlo").discovered == 0


def test_a_refusing_server_fails_the_poll_in_one_line_and_the_next_poll_recovers(
    pipeline: Pipeline, repo: Repository, server: LoopbackFtp, upstream: Path
) -> None:
    baseline(pipeline, server)
    replace_file(upstream, HB150, (FIXTURES / "changed" / "HB 150.xml").read_bytes(),
                 minutes_later=5)
    server.refuse = 100
    refused = pipeline.poll("tx-tlo")
    assert refused.status == "failed"
    assert refused.error == (
        f"cannot list {server.url}/bills/89R/billhistory/: 421 Too many users, try again "
        "later. after 1 retry"
    )
    server.refuse = 0
    recovered = pipeline.poll("tx-tlo")
    assert (recovered.status, recovered.discovered, recovered.updated) == ("ok", 1, 1)
    assert stages(repo)["tx/89R/HB 150"] == "reported"


def test_a_dropped_retrieval_fails_that_file_only_and_is_retried_next_poll(
    pipeline: Pipeline, repo: Repository, server: LoopbackFtp, upstream: Path
) -> None:
    baseline(pipeline, server)
    replace_file(upstream, HB150, (FIXTURES / "changed" / "HB 150.xml").read_bytes(),
                 minutes_later=5)
    body = (upstream / SB17).read_bytes().replace(b"Referred to State Affairs</description>\r\n"
                                                 b"    </action>\r\n  </actions>",
                                                 b"Referred to State Affairs</description>\r\n"
                                                 b"    </action>\r\n    <action>\r\n"
                                                 b"      <actionNumber>H015</actionNumber>\r\n"
                                                 b"      <date>04/20/2025</date>\r\n"
                                                 b"      <description>Left pending in committee"
                                                 b"</description>\r\n    </action>\r\n"
                                                 b"  </actions>")
    assert b"Left pending" in body
    replace_file(upstream, SB17, body, minutes_later=6)
    server.drop["HB 150.xml"] = 100  # every try of this poll
    partial = pipeline.poll("tx-tlo")
    assert (partial.status, partial.discovered, partial.updated, partial.failed) == (
        "partial", 2, 1, 1
    )
    (failure,) = partial.failures
    assert failure.document == f"{server.url}/{HB150.replace(' ', '%20')}"
    assert failure.error == (
        f"cannot retrieve {failure.document}: the server closed the connection after 1 retry"
    )
    server.drop.clear()
    retried = pipeline.poll("tx-tlo")
    assert (retried.status, retried.discovered, retried.updated) == ("ok", 1, 1)
    sb17 = [kind for bill, kind, is_baseline in events(repo)
            if bill == "tx/89R/SB 17" and not is_baseline]
    assert sb17 == ["new-action"]  # stored once, not again when HB 150 was retried
    with repo.read() as session:
        assert repo.count_bills(session, source="tx-tlo") == 7


def test_a_malformed_file_is_reported_by_name_and_fetched_again_once_fixed(
    pipeline: Pipeline, repo: Repository, server: LoopbackFtp, upstream: Path
) -> None:
    good = (upstream / SB17).read_bytes()
    replace_file(upstream, SB17, good.replace(b"<billhistory ", b"<billHistory ", 1)
                 .replace(b"</billhistory>", b"</billHistory>"), minutes_later=0)
    report = pipeline.poll("tx-tlo")
    assert (report.status, report.inserted, report.failed) == ("partial", 6, 1)
    url = f"{server.url}/{SB17.replace(' ', '%20')}"
    assert report.failures[0].error == f"{url}: expected a <billhistory> root, got <billHistory>"
    replace_file(upstream, SB17, good, minutes_later=1)
    fixed = pipeline.poll("tx-tlo")
    assert (fixed.status, fixed.discovered, fixed.inserted) == ("ok", 1, 1)
    assert stages(repo) == STAGES


def test_a_session_without_bill_files_is_an_error(
    repo: Repository, tmp_path: Path, upstream: Path, server: LoopbackFtp
) -> None:
    for path in (upstream / HISTORY).rglob("*.xml"):
        path.unlink()
    report = make_pipeline(repo, tmp_path, server).poll("tx-tlo")
    assert report.status == "failed"
    assert report.error == (
        f"tx-tlo: {server.url}/bills/89R/billhistory/ lists no bill-history files for session 89R"
    )


@pytest.mark.parametrize(
    ("session", "error"),
    [
        ("891", "cannot list {url}/bills/891/billhistory/: 550 "),
        ("2025", "tx-tlo: session '2025' is not a TLO session code such as 89R or 891"),
    ],
)
def test_a_missing_or_malformed_session_is_one_line(
    repo: Repository, tmp_path: Path, server: LoopbackFtp, session: str, error: str
) -> None:
    report = make_pipeline(repo, tmp_path, server, sessions=(session,)).poll("tx-tlo")
    assert report.status == "failed"
    assert report.error is not None and report.error.startswith(error.format(url=server.url))
    assert "\n" not in report.error


def test_the_connection_is_closed_after_the_walk(
    pipeline: Pipeline, server: LoopbackFtp
) -> None:
    baseline(pipeline, server)
    assert server.count("QUIT") == server.count("USER") == 1
