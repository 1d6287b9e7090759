"""``history_query_p95_ms``: the analysts' history and event queries over a large events log.

The log is written directly (its shape, not the pipeline's speed, matters here): ``bills``
bills spread over six jurisdictions and ``events`` events of the real kinds, a third of them
baseline, then ``ANALYZE``. The queries are the repository's own, as ``tracker history``,
``tracker events`` and the web pages run them:

* one bill's whole history (``bill_id`` then ``events(bill=...)``, ``tracker history``);
* the latest page (100) of one jurisdiction's stage changes since a date;
* the latest page (100) of non-baseline events since a date (what changed lately).

Pages are read newest first with a ``LIMIT``, as an analyst reads recent changes; a
whole-log stream oldest first (``tracker events`` with no filter) is output-bound and not a
query latency.

Each query runs in its own read transaction; the figure is the 95th percentile in ms.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.models import BillKey
from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import EventFilter, Repository

JURISDICTIONS = ("va", "tx", "il", "ny", "pa", "us")
KINDS = ["new-action"] * 6 + ["stage-change", "new-version", "title-change", "action-removed"]
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ROUNDS = 60
PAGE = 100
_CHUNK = 20_000


def _fill(engine: sa.Engine, *, events: int, bills: int) -> None:
    rng = random.Random(7)
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO bills (key, jurisdiction, session, identifier, source, "
                    "bill_type, title, stage, summary, subjects, sponsors, versions, extras, "
                    "content_hash, first_seen_at, updated_at, last_action_date) VALUES "
                    "(:key, :j, '2026', :i, 'bench', 'bill', :t, 'in-committee', '', '[]', "
                    "'[]', '[]', '{}', '', :now, :now, :d)"),
            [{"key": f"{JURISDICTIONS[n % 6]}/2026/HB {n}", "j": JURISDICTIONS[n % 6],
              "i": f"HB {n}", "t": f"A bill {n}", "now": NOW, "d": date(2026, 1, 1)}
             for n in range(1, bills + 1)],
        )
        ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM bills"))]
        insert = sa.text("INSERT INTO events (bill_id, kind, detected_at, baseline, details) "
                         "VALUES (:b, :k, :at, :base, :d)")
        for start in range(0, events, _CHUNK):
            connection.execute(insert, [
                {"b": rng.choice(ids), "k": rng.choice(KINDS),
                 "at": NOW - timedelta(minutes=events - k), "base": k < events // 3,
                 "d": '{"description": "Referred to Committee"}'}
                for k in range(start, min(events, start + _CHUNK))
            ])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def history_queries(url: str, *, events: int) -> dict[str, Any]:
    """``p95_ms``, ``median_ms``, ``queries`` and ``bills`` over a log of ``events``."""
    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    bills = max(1000, events // 50)
    _fill(engine, events=events, bills=bills)
    rng = random.Random(11)
    since = NOW - timedelta(minutes=events // 10)

    def history(key: BillKey) -> Callable[[Session], object]:
        return lambda s: (repo.bill_id(s, key), list(repo.events(s, EventFilter(bill=str(key)))))

    def stage_changes(jurisdiction: str) -> Callable[[Session], object]:
        wanted = EventFilter(kind="stage-change", jurisdiction=jurisdiction, since=since)
        return lambda s: list(repo.events(s, wanted, newest_first=True, limit=PAGE))

    def recent(s: Session) -> object:
        wanted = EventFilter(since=since, include_baseline=False)
        return list(repo.events(s, wanted, newest_first=True, limit=PAGE))

    timings: list[float] = []
    for _ in range(ROUNDS):
        number = rng.randrange(1, bills)
        key = BillKey.parse(f"{JURISDICTIONS[number % 6]}/2026/HB {number}")
        for query in (history(key), stage_changes(JURISDICTIONS[number % 6]), recent):
            started = time.perf_counter()
            with repo.read() as session:
                query(session)
            timings.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    timings.sort()
    return {"p95_ms": timings[int(len(timings) * 0.95) - 1],
            "median_ms": statistics.median(timings), "queries": len(timings), "bills": bills}
