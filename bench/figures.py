"""How each benchmark figure is measured (called by bench/run.py; ``ingest`` runs as a child
process so that its peak memory is its own: ``python bench/figures.py ingest N URL``)."""

from __future__ import annotations

import contextlib
import json
import random
import resource
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import sqlalchemy as sa  # noqa: E402
from lxml import etree  # noqa: E402

import synthetic  # noqa: E402
from scrapers.us_govinfo import UsGovinfo  # noqa: E402
from tracker.http import HttpClient  # noqa: E402
from tracker.models import BillKey  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.records import BillRef, Checkpoint, Fetched, StateUpdate, Validators  # noqa: E402
from tracker.settings import Settings, SourceSettings  # noqa: E402
from tracker.storage.engine import make_engine, migrate  # noqa: E402
from tracker.storage.repository import EventFilter, Repository  # noqa: E402


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """``url`` itself for SQLite (a file in a temp folder); a fresh schema for PostgreSQL."""
    if url.startswith("sqlite"):
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- ingest -------------------------------------------------------------------------------------


class _MemoryGovinfo(UsGovinfo):
    """us-govinfo with discovery and fetching from memory: the pipeline's own work only."""

    documents: ClassVar[list[tuple[str, bytes]]] = []

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        for path, _ in self.documents:
            yield BillRef(source="us-govinfo", url="http://bench" + path, session="118",
                          lastmod="2026-11-30T00:00:00.000Z", group=None)

    def fetch(self, ref: BillRef) -> Fetched:
        body = self._bodies[ref.url]
        return Fetched(ref=ref, documents={ref.url: body},
                       updates=(StateUpdate(ref.url, Validators(lastmod=ref.lastmod)),))

    @property
    def _bodies(self) -> dict[str, bytes]:
        return {"http://bench" + path: body for path, body in self.documents}


def ingest(n: int, url: str) -> dict[str, Any]:
    docs = [(path, body) for _, path, body in synthetic.congress(n)]
    bodies = {"http://bench" + path: body for path, body in docs}
    _MemoryGovinfo.documents = docs
    _MemoryGovinfo._bodies = bodies  # type: ignore[assignment]  # one dict, not one per fetch

    started = time.perf_counter()
    for _, body in docs:
        etree.fromstring(body)
    parse_seconds = time.perf_counter() - started

    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    settings = Settings(config_dir=Path("."), database_url=url, sources={
        "us-govinfo": SourceSettings(name="us-govinfo", enabled=True, sessions=("118",))})
    pipeline = Pipeline(settings=settings, repo=repo,
                        http=HttpClient(user_agent="bench", min_interval=0),
                        registry={"us-govinfo": _MemoryGovinfo})
    started = time.perf_counter()
    report = pipeline.poll("us-govinfo")
    seconds = time.perf_counter() - started
    if report.status != "ok" or report.inserted != n:
        raise SystemExit(f"ingest did not store every bill: {report.summary_line()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return {"bills": n, "seconds": seconds, "parse_seconds": parse_seconds,
            "bytes": sum(len(b) for _, b in docs), "peak_rss_mb": peak}


# --- a no-change poll -------------------------------------------------------------------------


class _Quiet(SimpleHTTPRequestHandler):
    counts: ClassVar[dict[str, int]] = {}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def send_head(self) -> Any:
        _Quiet.counts[self.path] = _Quiet.counts.get(self.path, 0) + 1
        return super().send_head()


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A real loopback HTTP server over ``folder`` (Last-Modified, If-Modified-Since: 304)."""
    handler = partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _govinfo_tree(root: Path) -> None:
    """The real sitemap index plus a child sitemap listing renumbered real bill files."""
    docs = list(synthetic.congress(200, congress=119))
    entries = []
    for _, path, body in docs:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        entries.append(f"<url><loc>https://www.govinfo.gov{path}</loc>"
                       "<lastmod>2025-01-14T19:05:01.046Z</lastmod></url>")
    index = (synthetic.SHARED / "govinfo-sitemap" / "BILLSTATUS-bulkdata" / "sitemap.xml")
    target = root / "sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(index.read_bytes())
    urlset = ('<?xml version="1.0" encoding="UTF-8"?><urlset '
              'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(entries)
              + "</urlset>")
    empty = ('<?xml version="1.0" encoding="UTF-8"?><urlset '
             'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>')
    # One child lists every bill and the others are empty: discovery follows each <loc> as
    # given, so which child lists a file does not matter to the poller.
    for kind in ("hr", "s", "hjres", "sjres", "hconres", "sconres", "hres", "sres"):
        child = root / f"sitemap/bulkdata/BILLSTATUS/119{kind}/sitemap.xml"
        child.parent.mkdir(parents=True, exist_ok=True)
        child.write_text(urlset if kind == "hr" else empty)


def noop_poll_requests(tmp: Path) -> list[tuple[str, int, int]]:
    """(source, requests of the second poll, index documents) for each keyless source."""
    root = tmp / "govinfo"
    _govinfo_tree(root)
    results = []
    with serve_folder(root) as base:
        engine = make_engine(f"sqlite:///{tmp}/noop.db")
        migrate(engine)
        repo = Repository(engine)
        settings = Settings(config_dir=tmp, database_url="", sources={
            "us-govinfo": SourceSettings(name="us-govinfo", enabled=True, sessions=("119",),
                                         base_url=base)})
        pipeline = Pipeline(settings=settings, repo=repo,
                            http=HttpClient(user_agent="bench", min_interval=0),
                            registry={"us-govinfo": UsGovinfo})
        first = pipeline.poll("us-govinfo")
        if first.status != "ok":
            raise SystemExit(f"noop bench: first poll failed: {first.summary_line()}")
        second = pipeline.poll("us-govinfo")
        results.append(("us-govinfo", second.requests, 1))
        engine.dispose()
    return results


# --- digests ----------------------------------------------------------------------------------


def digest_throughput(tmp: Path, *, subscribers: int) -> dict[str, Any] | None:
    """Render and send digests to a loopback aiosmtpd server (None until delivery exists)."""
    try:
        import digest_bench  # bench/digest_bench.py
    except ImportError:
        return None
    return digest_bench.measure(tmp, subscribers=subscribers)


# --- history queries --------------------------------------------------------------------------


def _fill(engine: sa.Engine, *, events: int, bills: int) -> None:
    """Bills and an events log written directly (the log's shape, not the pipeline's speed)."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    kinds = ["new-action"] * 6 + ["stage-change", "new-version", "title-change", "action-removed"]
    rng = random.Random(7)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events"))
        connection.execute(
            sa.text("INSERT INTO bills (key, jurisdiction, session, identifier, source, "
                    "bill_type, title, stage, summary, subjects, sponsors, versions, extras, "
                    "content_hash, first_seen_at, updated_at, last_action_date) VALUES "
                    "(:key, :j, :s, :i, 'bench', 'bill', :t, 'in-committee', '', '[]', '[]', "
                    "'[]', '{}', '', :now, :now, :d)"),
            [{"key": f"{j}/2026/HB {n}", "j": j, "s": "2026", "i": f"HB {n}",
              "t": f"A bill {n}", "now": now, "d": date(2026, 1, 1)}
             for n, j in ((n, ("va", "tx", "il", "ny", "pa", "us")[n % 6])
                          for n in range(1, bills + 1))],
        )
        ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM bills"))]
        batch = []
        for k in range(events):
            batch.append({"b": rng.choice(ids), "k": rng.choice(kinds),
                          "at": now - timedelta(minutes=events - k), "base": k < events // 3,
                          "d": '{"description": "Referred to Committee"}'})
            if len(batch) == 20000:
                connection.execute(sa.text(
                    "INSERT INTO events (bill_id, kind, detected_at, baseline, details) "
                    "VALUES (:b, :k, :at, :base, :d)"), batch)
                batch = []
        if batch:
            connection.execute(sa.text(
                "INSERT INTO events (bill_id, kind, detected_at, baseline, details) "
                "VALUES (:b, :k, :at, :base, :d)"), batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def history_queries(url: str, *, events: int) -> dict[str, Any]:
    """p95 over the analysts' queries: one bill's history; a page of recent events by kind
    and jurisdiction; a page of non-baseline events since a date."""
    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    bills = max(1000, events // 50)
    _fill(engine, events=events, bills=bills)
    rng = random.Random(11)
    since = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(minutes=events // 10)
    timings: list[float] = []
    queries = 0
    for round_ in range(60):
        key = BillKey.parse(f"{('va', 'tx', 'il', 'ny', 'pa', 'us')[round_ % 6]}/2026/HB "
                            f"{rng.randrange(1, bills)}")
        for query in (
            lambda s, key=key: (repo.bill_id(s, key), list(repo.events(s, EventFilter(bill=str(key))))),
            lambda s: list(islice(repo.events(s, EventFilter(kind="stage-change", jurisdiction="va",
                                                             since=since)), 100)),
            lambda s: list(islice(repo.events(s, EventFilter(since=since, include_baseline=False)),
                                  100)),
        ):
            started = time.perf_counter()
            with repo.read() as session:
                query(session)
            timings.append((time.perf_counter() - started) * 1000)
            queries += 1
    engine.dispose()
    timings.sort()
    return {"p95_ms": timings[int(len(timings) * 0.95) - 1], "median_ms": statistics.median(timings),
            "queries": queries, "bills": bills}


if __name__ == "__main__":
    if sys.argv[1:2] == ["ingest"]:
        print(json.dumps(ingest(int(sys.argv[2]), sys.argv[3])))
