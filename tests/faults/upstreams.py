"""Loopback copies of two real upstreams, for polls that meet faults over real sockets.

* :class:`Govinfo`: GovInfo's real BILLSTATUS sitemap index (``../shared/fixtures``) and
  child sitemaps for the 117th Congress listing the real BILLSTATUS samples of that
  Congress, each served with its own bytes.
* :class:`Virginia`: a LIS session folder (the project-written ``session-2026`` files),
  served at ``/20261/`` as LIS's blob storage serves it.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import PROJECT_FIXTURES, shared
from tests.loopback_http import LoopbackHttp, Reply, Request

CONGRESS = "117"
#: The 117th Congress's real samples: (type, number) -> path under govinfo-billstatus.
SAMPLES = {
    ("hr", 2471): "v3/BILLSTATUS-117hr2471.xml",
    ("hr", 6658): "v3/BILLSTATUS-117hr6658.xml",
    ("hr", 1593): "immigration/117/bills/hr/hr1593/fdsys_billstatus.xml",
    ("hr", 1177): "immigration/117/bills/hr/hr1177/fdsys_billstatus.xml",
    ("hr", 6): "immigration/117/bills/hr/hr6/fdsys_billstatus.xml",
    ("s", 35): "v3/BILLSTATUS-117s35.xml",
    ("s", 3157): "immigration/117/bills/s/s3157/fdsys_billstatus.xml",
    ("s", 967): "immigration/117/bills/s/s967/fdsys_billstatus.xml",
    ("sconres", 7): "v3/BILLSTATUS-117sconres7.xml",
}
LASTMOD = "2024-06-11T13:16:02.464Z"
INDEX = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"


def bill_path(kind: str, number: int) -> str:
    return f"/bulkdata/BILLSTATUS/{CONGRESS}/{kind}/BILLSTATUS-{CONGRESS}{kind}{number}.xml"


def bill_key(kind: str, number: int) -> str:
    letters = {"hr": "HR", "s": "S", "sconres": "SCONRES"}[kind]
    return f"us/{CONGRESS}/{letters} {number}"


class Govinfo:
    def __init__(self, server: LoopbackHttp) -> None:
        self.server = server
        root = shared("govinfo-billstatus")
        self.bodies = {bill_path(*key): (root / path).read_bytes()
                       for key, path in SAMPLES.items()}
        server.route(r"/bulkdata/BILLSTATUS/.+", self._bill)
        server.route(r"/sitemap/bulkdata/BILLSTATUS/[0-9a-z]+/sitemap\.xml", self._child)
        server.route(
            INDEX.replace(".", r"\."),
            shared("govinfo-sitemap", "BILLSTATUS-bulkdata", "sitemap.xml").read_bytes(),
        )

    def _bill(self, request: Request) -> bytes | Reply:
        body = self.bodies.get(request.path)
        return body if body is not None else Reply(404, b"not found")

    def _child(self, request: Request) -> bytes:
        child = request.path.split("/")[-2]  # "117hr"
        entries = "".join(
            f"<url><loc>https://www.govinfo.gov{bill_path(kind, number)}</loc>"
            f"<lastmod>{LASTMOD}</lastmod></url>"
            for kind, number in SAMPLES if f"{CONGRESS}{kind}" == child
        )
        return (b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset '
                b'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + entries.encode() + b"</urlset>")

    def keys(self) -> set[str]:
        return {bill_key(*key) for key in SAMPLES}


VIRGINIA_FOLDER = "/20261/"  # LIS's code for the 2026 session


class Virginia:
    """``session-2026``'s files, each replaceable (``files[name] = bytes``) between polls."""

    def __init__(self, server: LoopbackHttp) -> None:
        folder: Path = PROJECT_FIXTURES / "va-lis" / "session-2026"
        self.files = {path.name: path.read_bytes() for path in folder.iterdir()}
        server.route(VIRGINIA_FOLDER + r"[^/]+", self._file)

    def _file(self, request: Request) -> bytes | Reply:
        body = self.files.get(request.path.rsplit("/", 1)[-1])
        return body if body is not None else Reply(404, b"<Error>BlobNotFound</Error>")
