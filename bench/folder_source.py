"""us-govinfo reading a folder: the ingest benchmark's source (a module of its own, so that
parse workers can import it by name)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from scrapers.us_govinfo import UsGovinfo
from tracker.records import BillRef, Checkpoint, Fetched, StateUpdate, Validators

ORIGIN = "https://www.govinfo.gov"
LASTMOD = "2026-11-30T00:00:00.000Z"


class FolderGovinfo(UsGovinfo):
    """us-govinfo whose index is a list of paths and whose transport is a folder."""

    root: ClassVar[Path]
    paths: ClassVar[tuple[str, ...]] = ()

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        for path in self.paths:
            yield BillRef(source="us-govinfo", url=ORIGIN + path, session="118",
                          lastmod=LASTMOD, group=None)

    def fetch(self, ref: BillRef) -> Fetched:
        body = (self.root / ref.url[len(ORIGIN) + 1:]).read_bytes()
        # tracker.http hashes every body it receives (the "unchanged" check); so does this.
        validators = Validators(sha256=hashlib.sha256(body).hexdigest(), lastmod=ref.lastmod)
        return Fetched(ref=ref, documents={ref.url: body},
                       updates=(StateUpdate(ref.url, validators),))
