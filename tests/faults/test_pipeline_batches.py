"""The pipeline stores parsed documents in batches, one transaction each, and falls back to
bill-by-bill savepoints when the database refuses something in a batch. The guarantees stay
those of ``tracker/pipeline.py``'s docstring: one bad bill costs only itself, a document's
cursor moves with its bills only, and the next poll stores what was refused, once.

The refusal here is a real database error (a statement on a table that does not exist),
raised from the ``on_stored`` hook inside the batch's transaction for one chosen bill.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from scrapers.us_govinfo import UsGovinfo
from tests.faults.upstreams import Govinfo, bill_key, bill_path
from tests.loopback_http import LoopbackHttp
from tracker.http import HttpClient
from tracker.pipeline import Pipeline
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import BillFilter, EventFilter, Repository, UpsertResult

REFUSED = bill_key("hr", 6658)


@pytest.fixture
def server() -> Iterator[LoopbackHttp]:
    with LoopbackHttp() as running:
        yield running


class Refuser:
    """An on_stored hook that makes the database refuse ``REFUSED`` while ``armed``."""

    def __init__(self) -> None:
        self.armed = True

    def __call__(self, session: Session, result: UpsertResult) -> None:
        if self.armed and str(result.after.key) == REFUSED:
            session.execute(sa.text("INSERT INTO no_such_table (x) VALUES (1)"))


def make_pipeline(repo: Repository, server: LoopbackHttp, hook: Refuser | None = None
                  ) -> Pipeline:
    source = SourceSettings(name="us-govinfo", enabled=True, base_url=server.url,
                            sessions=("117",))
    settings = Settings(config_dir=Path("."), database_url="", sources={"us-govinfo": source})
    return Pipeline(settings=settings, repo=repo, registry={"us-govinfo": UsGovinfo},
                    http=HttpClient(user_agent="faults", min_interval=0, retries=0),
                    on_stored=hook)


def stored(repo: Repository) -> set[str]:
    with repo.read() as session:
        return {b.key for b in repo.list_bills(session, BillFilter(source="us-govinfo"))}


def test_a_bill_the_database_refuses_costs_only_itself(
    repo: Repository, server: LoopbackHttp
) -> None:
    govinfo = Govinfo(server)
    hook = Refuser()
    first = make_pipeline(repo, server, hook).poll("us-govinfo")
    assert first.status == "partial"
    (failure,) = first.failures
    assert failure.bill == REFUSED and failure.document == server.url + bill_path("hr", 6658)
    assert failure.error.startswith(f"{REFUSED}: not stored: ") and "no_such_table" in failure.error
    assert "\n" not in failure.error
    assert stored(repo) == govinfo.keys() - {REFUSED}
    with repo.read() as session:
        assert repo.fetch_state(session, server.url + bill_path("hr", 6658)) is None, (
            "the refused bill's cursor did not move")
        assert repo.fetch_state(session, server.url + bill_path("hr", 2471)) is not None

    hook.armed = False
    second = make_pipeline(repo, server, hook).poll("us-govinfo")
    assert (second.status, second.fetched, second.inserted) == ("ok", 1, 1)
    with repo.read() as session:
        keys = sorted(e.bill for e in repo.events(session, EventFilter()))
    assert keys == sorted(govinfo.keys()), "each bill's new-bill event once"


def test_documents_are_stored_several_to_a_statement(
    repo: Repository, server: LoopbackHttp
) -> None:
    Govinfo(server)
    bill_inserts: list[str] = []

    def seen(connection: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO BILLS"):
            bill_inserts.append(statement)

    event.listen(repo.engine, "before_cursor_execute", seen)
    report = make_pipeline(repo, server).poll("us-govinfo")
    assert (report.status, report.fetched) == ("ok", 9)
    # Three batches, one per child sitemap (a checkpoint closes each): the House bills, the
    # Senate bills and the concurrent resolution; never one transaction per document.
    assert len(bill_inserts) == 3, bill_inserts
