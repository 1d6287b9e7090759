"""A loopback copy of GovInfo's BILLSTATUS bulk data, built from the real samples.

The real sitemap index (../shared/fixtures/govinfo-sitemap) is served as recorded; the child
sitemaps it points to are written here (sitemaps.org format, as in the recorded 119sconres
child) to list the real BILLSTATUS samples of each Congress and type, with their lastmods.
Everything is served by ``responses`` with ETag / If-None-Match support, so the poller's
conditional GET can answer 304 as the real origin does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import responses

from tests.conftest import shared

BASE = "http://govinfo.test"
INDEX = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"

#: The distinct real bills: (congress, type, number) -> sample path under govinfo-billstatus.
SAMPLES = {
    ("117", "sconres", 7): "v3/BILLSTATUS-117sconres7.xml",
    ("117", "hr", 6658): "v3/BILLSTATUS-117hr6658.xml",
    ("117", "s", 35): "v3/BILLSTATUS-117s35.xml",
    ("114", "hr", 5278): "v3/BILLSTATUS-114hr5278.xml",
    ("117", "hr", 2471): "v3/BILLSTATUS-117hr2471.xml",
    ("116", "hr", 5053): "v1/BILLSTATUS-116hr5053.xml",
    ("114", "s", 1300): "legacy/BILLSTATUS-114s1300.xml",
    ("114", "sjres", 8): "legacy/BILLSTATUS-114sjres8.xml",
    ("117", "hr", 1593): "immigration/117/bills/hr/hr1593/fdsys_billstatus.xml",
    ("117", "hr", 1177): "immigration/117/bills/hr/hr1177/fdsys_billstatus.xml",
    ("117", "hr", 6): "immigration/117/bills/hr/hr6/fdsys_billstatus.xml",
    ("117", "s", 3157): "immigration/117/bills/s/s3157/fdsys_billstatus.xml",
    ("117", "s", 967): "immigration/117/bills/s/s967/fdsys_billstatus.xml",
}

EXPECTED_STAGES = {
    "us/117/SCONRES 7": "in-committee",
    "us/117/HR 6658": "in-committee",
    "us/117/S 35": "passed-origin",
    "us/114/HR 5278": "passed-origin",
    "us/117/HR 2471": "enacted",
    "us/116/HR 5053": "in-committee",
    "us/114/S 1300": "enacted",
    "us/114/SJRES 8": "vetoed",
    "us/117/HR 1593": "in-committee",
    "us/117/HR 1177": "in-committee",
    "us/117/HR 6": "passed-origin",
    "us/117/S 3157": "enacted",
    "us/117/S 967": "in-committee",
}

SESSIONS = ("114", "116", "117")
TYPES = ("hr", "s", "hjres", "sjres", "hconres", "sconres", "hres", "sres")


def bill_path(congress: str, kind: str, number: int) -> str:
    return f"/bulkdata/BILLSTATUS/{congress}/{kind}/BILLSTATUS-{congress}{kind}{number}.xml"


def urlset(entries: list[tuple[str, str]]) -> bytes:
    urls = "".join(
        f"<url><loc>https://www.govinfo.gov{path}</loc><lastmod>{lastmod}</lastmod>"
        "<changefreq>monthly</changefreq><priority>1.0</priority></url>"
        for path, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    ).encode()


@dataclass
class Mirror:
    """The documents served, by path; change one and bump its lastmods to simulate upstream."""

    documents: dict[str, bytes] = field(default_factory=dict)
    bill_lastmods: dict[tuple[str, str, int], str] = field(default_factory=dict)
    child_lastmods: dict[str, str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_samples(cls) -> Mirror:
        mirror = cls()
        root = shared("govinfo-billstatus")
        for key, relative in SAMPLES.items():
            mirror.documents[bill_path(*key)] = (root / relative).read_bytes()
            mirror.bill_lastmods[key] = "2024-06-11T13:16:02.464Z"
        for congress in SESSIONS:
            for kind in TYPES:
                mirror.child_lastmods[f"{congress}{kind}"] = "2024-06-11T13:16:02.464Z"
        mirror.rebuild()
        return mirror

    def rebuild(self) -> None:
        """Write the index and every child sitemap from the current lastmods."""
        index = shared("govinfo-sitemap", "BILLSTATUS-bulkdata", "sitemap.xml").read_text()
        for child, lastmod in self.child_lastmods.items():
            index = re.sub(
                rf"(BILLSTATUS/{child}/sitemap\.xml</loc>\s*<lastmod>)[^<]+",
                rf"\g<1>{lastmod}",
                index,
            )
            congress, kind = re.match(r"(\d+)([a-z]+)", child).groups()  # type: ignore[union-attr]
            entries = [
                (bill_path(c, k, n), self.bill_lastmods[(c, k, n)])
                for (c, k, n) in sorted(self.bill_lastmods)
                if c == congress and k == kind
            ]
            self.documents[f"/sitemap/bulkdata/BILLSTATUS/{child}/sitemap.xml"] = urlset(entries)
        self.documents[INDEX] = index.encode()

    def change_bill(self, key: tuple[str, str, int], body: bytes, lastmod: str) -> None:
        self.documents[bill_path(*key)] = body
        self.bill_lastmods[key] = lastmod
        self.child_lastmods[f"{key[0]}{key[1]}"] = lastmod
        self.rebuild()

    def serve(self, rsps: responses.RequestsMock) -> None:
        """Register a callback answering every path of the mirror, conditionally."""

        def answer(request):  # type: ignore[no-untyped-def]
            path = request.path_url.split("?", 1)[0]
            self.hits[path] = self.hits.get(path, 0) + 1
            body = self.documents.get(path)
            if body is None:
                return (404, {}, b"not found")
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if request.headers.get("If-None-Match") == etag:
                return (304, {"ETag": etag}, b"")
            return (200, {"ETag": etag, "Content-Type": "application/xml"}, body)

        rsps.add_callback(responses.GET, re.compile(re.escape(BASE) + r"/.*"), callback=answer)

    def requests(self) -> int:
        return sum(self.hits.values())

    def bill_fetches(self) -> int:
        return sum(n for path, n in self.hits.items() if path.startswith("/bulkdata/"))


def sample(relative: str) -> Path:
    return shared("govinfo-billstatus", relative)


@contextmanager
def serving() -> Iterator[Mirror]:
    """The real samples' mirror, served through ``responses`` for the block (no network)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        served = Mirror.from_samples()
        served.serve(rsps)
        yield served
