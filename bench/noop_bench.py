"""``noop_poll_requests``: what a poll costs when nothing changed upstream, for every source.

Each source polls a real loopback server (``tests/loopback_http.py``: strong ETags and
``304``s, as the real origins answer; ``tests/loopback_ftp.py`` for Texas) twice through the
real pipeline: the first poll stores the session, the second finds nothing new. The figure is
the second poll's document requests divided by the source's index documents, the documents
that must be read to learn whether anything changed:

* us-govinfo: the BILLSTATUS sitemap index (one; a 304 ends the poll);
* va-lis: the five CSV files of a session (each asked for conditionally);
* tx-tlo: the bill-history folders (one listing each; the FTP login is not a document
  request and is reported beside the figure as ``logins``);
* il-ilga: the General Assembly's listing; pa-palegis: the House and Senate bill indexes;
* ny-openleg: the session's change feed; us-congress: the Congress's bill list sorted by
  update; openstates: the session's bill list sorted by update; legiscan: the session's
  ``getMasterListRaw``. The keyed sources run with a fake key.

Upstream content: the real recorded samples (``../shared/fixtures``: GovInfo's sitemap index
and BILLSTATUS files, Virginia's 2020 CSV files, congress.gov and LegiScan answers) and the
project-written fixtures of ``tests/fixtures`` where no real sample exists.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import synthetic
from scrapers import REGISTRY
from tests.loopback_ftp import LoopbackFtp
from tests.loopback_http import LoopbackHttp, Reply, Request
from tracker.http import HttpClient
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, SourceSettings
from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import Repository

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SHARED = synthetic.SHARED
FAKE_KEY = "bench-fake-key-0123456789"
FTP_DOCUMENT_COMMANDS = ("LIST", "MLSD", "NLST", "RETR")


@dataclass(frozen=True, slots=True)
class NoopResult:
    source: str
    requests: int
    indexes: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Upstream:
    """A running server for one source: its base URL, the settings to poll it with, and
    how to read the second poll's costs from what the server saw."""

    base_url: str
    sessions: tuple[str, ...]
    indexes: Callable[[], int]
    document_requests: Callable[[RunReport], int]
    extra: Callable[[], dict[str, Any]] = dict
    #: Called between the two polls, for upstreams that count at the server.
    start_counting: Callable[[], None] = lambda: None


Scenario = Callable[[Path], AbstractContextManager[Upstream]]


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


# --- the sources ---------------------------------------------------------------------------------


@contextmanager
def us_govinfo(tmp: Path) -> Iterator[Upstream]:
    root = tmp / "govinfo"
    entries = []
    for _, path, body in synthetic.bills(200, congress=119):
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        entries.append(f"<url><loc>https://www.govinfo.gov{path}</loc>"
                       "<lastmod>2025-01-14T19:05:01.046Z</lastmod></url>")
    urlset = ('<?xml version="1.0" encoding="UTF-8"?><urlset '
              'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>')
    index = SHARED / "govinfo-sitemap" / "BILLSTATUS-bulkdata" / "sitemap.xml"
    with LoopbackHttp() as server:
        server.folder("/bulkdata", root / "bulkdata")
        server.route(r"/sitemap/bulkdata/BILLSTATUS/sitemapindex\.xml", index.read_bytes())
        # One child lists every bill, the others none: discovery follows each <loc> as given.
        server.route(r"/sitemap/bulkdata/BILLSTATUS/119[a-z]+/sitemap\.xml",
                     urlset.format("").encode())
        server.route(r"/sitemap/bulkdata/BILLSTATUS/119hr/sitemap\.xml",
                     urlset.format("".join(entries)).encode())
        yield Upstream(server.url, ("119",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


@contextmanager
def va_lis(tmp: Path) -> Iterator[Upstream]:
    folder = SHARED / "va-lis" / "csv-2020-session" / "2020-01-28"
    with LoopbackHttp() as server:
        server.folder("/201", folder)  # 201: LIS's code for the 2020 session
        yield Upstream(server.url, ("2020",), indexes=lambda: 5,
                       document_requests=lambda report: report.requests)


@contextmanager
def tx_tlo(tmp: Path) -> Iterator[Upstream]:
    root = tmp / "tx-ftp"
    shutil.copytree(FIXTURES / "tx-tlo" / "bills", root / "bills")
    with LoopbackFtp(root, listing="iis") as server:
        before: dict[str, int] = {}

        def delta(command: str) -> int:
            return server.count(command) - before.get(command, 0)

        def start_counting() -> None:
            for command in (*FTP_DOCUMENT_COMMANDS, "USER"):
                before[command] = server.count(command)

        yield Upstream(
            server.url, ("89R",),
            indexes=lambda: delta("LIST") + delta("MLSD"),
            document_requests=lambda report: sum(delta(c) for c in FTP_DOCUMENT_COMMANDS),
            extra=lambda: {"logins": delta("USER")},
            start_counting=start_counting,
        )


@contextmanager
def il_ilga(tmp: Path) -> Iterator[Upstream]:
    folder = "/ftp/legislation/104/BillStatus/XML/"
    with LoopbackHttp() as server:
        server.folder(folder, FIXTURES / "il-ilga" / "xml")
        server.route(re.escape(folder), (FIXTURES / "il-ilga" / "listing.html").read_bytes())
        yield Upstream(server.url, ("104",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


@contextmanager
def pa_palegis(tmp: Path) -> Iterator[Upstream]:
    def index(request: Request) -> bytes:
        body = request.query.get("billbody", "")
        return (FIXTURES / "pa-palegis" / f"bill-index-2025-0-{body}.html").read_bytes()

    def page(request: Request) -> bytes | Reply:
        name = request.path.rsplit("/", 1)[-1]
        target = FIXTURES / "pa-palegis" / "bills" / f"2025-{name}.html"
        return target.read_bytes() if target.is_file() else Reply(404, b"not found")

    with LoopbackHttp() as server:
        server.route(r"/legislation/bills/2025/[a-z]+\d+", page)
        server.route(r"/legislation/bills/bill-index", index)
        yield Upstream(server.url, ("2025",), indexes=lambda: 2,
                       document_requests=lambda report: report.requests)


@contextmanager
def ny_openleg(tmp: Path) -> Iterator[Upstream]:
    bills = {p.name.split("-")[0]: json.loads(p.read_bytes())
             for p in sorted((FIXTURES / "ny-openleg" / "bills").glob("*.json"))}

    def listing(request: Request) -> bytes:
        items = [bill["result"] for bill in bills.values()]
        if request.query.get("limit") == "1":
            items = items[:1]
        return _json({"success": True, "message": "", "responseType": "bill list",
                      "total": len(bills), "offsetStart": 1, "offsetEnd": len(items),
                      "limit": int(request.query.get("limit", "1000")),
                      "result": {"items": items, "size": len(items)}})

    def bill(request: Request) -> bytes | Reply:
        found = bills.get(request.path.rsplit("/", 1)[-1])
        return _json(found) if found else Reply(404, b"{}")

    empty = (FIXTURES / "ny-openleg" / "updates-empty.json").read_bytes()
    with LoopbackHttp() as server:
        server.route(r"/api/3/bills/2025", listing)
        server.route(r"/api/3/bills/2025/[A-Z]+\d+", bill)
        server.route(r"/api/3/bills/updates/.+", Reply(200, empty, conditional=False))
        yield Upstream(server.url, ("2025",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


@contextmanager
def us_congress(tmp: Path) -> Iterator[Upstream]:
    recorded = SHARED / "congress-gov-api"
    bill = json.loads((recorded / "bill_117_hr_21.txt").read_bytes())["bill"]
    item = {"congress": 117, "type": "HR", "number": "21", "title": bill["title"],
            "originChamber": "House", "updateDate": bill["updateDate"],
            "updateDateIncludingText": bill["updateDate"],
            "latestAction": bill["latestAction"],
            "url": "https://api.congress.gov/v3/bill/117/hr/21?format=json"}
    listed = _json({"bills": [item], "pagination": {"count": 1}})
    with LoopbackHttp() as server:
        server.route(r"/v3/bill/117", Reply(200, listed, conditional=False))
        server.route(r"/v3/bill/117/hr/21", (recorded / "bill_117_hr_21.txt").read_bytes())
        server.route(r"/v3/bill/117/hr/21/([a-z]+)",
                     lambda request: _congress_part(recorded, request))
        yield Upstream(server.url + "/v3", ("117",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


def _congress_part(recorded: Path, request: Request) -> bytes | Reply:
    target = recorded / f"bill_117_hr_21_{request.path.rsplit('/', 1)[-1]}.txt"
    return target.read_bytes() if target.is_file() else Reply(404, b'{"error": "not here"}')


@contextmanager
def openstates(tmp: Path) -> Iterator[Upstream]:
    page = json.loads((FIXTURES / "openstates" / "bills-ny-2025-2026-page-1.json").read_bytes())
    results = page["results"]
    answer = _json({"results": results,
                    "pagination": {"per_page": 20, "page": 1, "max_page": 1,
                                   "total_items": len(results)}})
    with LoopbackHttp() as server:
        server.route(r"/bills", Reply(200, answer, conditional=False))
        yield Upstream(server.url, ("ny:2025-2026",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


@contextmanager
def legiscan(tmp: Path) -> Iterator[Upstream]:
    masterlist = (FIXTURES / "legiscan" / "getMasterListRaw-122.json").read_bytes()
    bills = {"230084": "HB1.json", "230085": "HB2.json", "230086": "HB3.json"}

    def endpoint(request: Request) -> bytes | Reply:
        if request.query.get("op") == "getMasterListRaw":
            return Reply(200, masterlist, conditional=False)
        name = bills.get(request.query.get("id", ""))
        if name is None:
            return Reply(404, b"{}")
        data = json.loads((SHARED / "legiscan-api" / "bill" / name).read_bytes())
        return Reply(200, _json({"status": "OK", **data}), conditional=False)

    with LoopbackHttp() as server:
        server.route(r"/", endpoint)
        yield Upstream(server.url, ("122",), indexes=lambda: 1,
                       document_requests=lambda report: report.requests)


SCENARIOS: dict[str, Scenario] = {
    "us-govinfo": us_govinfo, "va-lis": va_lis, "tx-tlo": tx_tlo, "il-ilga": il_ilga,
    "pa-palegis": pa_palegis, "ny-openleg": ny_openleg, "us-congress": us_congress,
    "openstates": openstates, "legiscan": legiscan,
}


# --- measuring -----------------------------------------------------------------------------------


def measure(name: str, tmp: Path) -> NoopResult:
    """Poll ``name`` twice against its loopback upstream; the second poll's cost."""
    factory = REGISTRY[name]
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    with SCENARIOS[name](folder) as upstream:
        engine = make_engine(f"sqlite:///{folder / 'noop.db'}")
        migrate(engine)
        info = factory.info
        source = SourceSettings(name=name, enabled=True, base_url=upstream.base_url,
                                sessions=upstream.sessions, key_env=info.key_env,
                                lead=name not in ("openstates", "legiscan"))
        settings = Settings(config_dir=folder, database_url="", sources={name: source},
                            environ={env: FAKE_KEY for env in info.key_env})
        http = HttpClient(user_agent="bench", min_interval=0, retries=0)
        pipeline = Pipeline(settings=settings, repo=Repository(engine), http=http,
                            registry={name: factory})
        first = pipeline.poll(name)
        if first.status != "ok" or not first.inserted:
            raise SystemExit(f"noop bench: the first poll did not store: {first.summary_line()}")
        upstream.start_counting()
        second = pipeline.poll(name)
        if second.status != "ok" or second.fetched or second.events:
            raise SystemExit(f"noop bench: the second poll was not a no-change poll: "
                             f"{second.summary_line()}")
        result = NoopResult(name, upstream.document_requests(second), upstream.indexes(),
                            upstream.extra())
        http.close()
        engine.dispose()
    return result


def noop_poll_requests(tmp: Path) -> list[NoopResult]:
    return [measure(name, tmp) for name in SCENARIOS]
