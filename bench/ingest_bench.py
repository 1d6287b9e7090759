"""``ingest_bills_per_s``, ``ingest_vs_parse_ratio`` and ``peak_rss_mb``: one whole poll of a
synthetic full Congress (``bench/synthetic.py``) through the real pipeline.

The documents are written to a folder first and each is read from disk when the pipeline
fetches it, as bytes off the wire would arrive: peak memory is the pipeline's, not the
benchmark's. Only discovery and transport are replaced (the ref list is the folder, and a
fetch reads a file and hashes it as ``tracker.http`` hashes every body); parsing,
normalizing, classifying, storing and diffing are the real us-govinfo source and pipeline.

The floor it is compared with is a bare ``lxml.etree.fromstring`` of the same bytes, timed in
the same process just before the poll (file reads not counted).

Run in a fresh process so that ``ru_maxrss`` is this ingest's own::

    python bench/ingest_bench.py N DATABASE_URL FOLDER
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lxml import etree  # noqa: E402

from bench import synthetic  # noqa: E402
from scrapers.us_govinfo import UsGovinfo  # noqa: E402
from tracker.http import HttpClient  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.records import BillRef, Checkpoint, Fetched, StateUpdate, Validators  # noqa: E402
from tracker.settings import Settings, SourceSettings  # noqa: E402
from tracker.storage.engine import make_engine, migrate  # noqa: E402
from tracker.storage.repository import Repository  # noqa: E402

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


def bare_parse_seconds(root: Path, paths: tuple[str, ...]) -> float:
    """The physical floor: lxml parsing every document, nothing else."""
    spent = 0.0
    for path in paths:
        body = (root / path.lstrip("/")).read_bytes()
        started = time.perf_counter()
        etree.fromstring(body)
        spent += time.perf_counter() - started
    return spent


def ingest(n: int, url: str, folder: Path) -> dict[str, Any]:
    written = synthetic.write_congress(folder, n)
    FolderGovinfo.root, FolderGovinfo.paths = written.root, written.paths
    parse_seconds = bare_parse_seconds(written.root, written.paths)

    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    settings = Settings(config_dir=Path("."), database_url=url, sources={
        "us-govinfo": SourceSettings(name="us-govinfo", enabled=True, sessions=("118",))})
    pipeline = Pipeline(settings=settings, repo=repo,
                        http=HttpClient(user_agent="bench", min_interval=0),
                        registry={"us-govinfo": FolderGovinfo})
    started = time.perf_counter()
    report = pipeline.poll("us-govinfo")
    seconds = time.perf_counter() - started
    if report.status != "ok" or report.inserted != n:
        raise SystemExit(f"ingest did not store every bill: {report.summary_line()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return {"bills": n, "seconds": seconds, "parse_seconds": parse_seconds,
            "bytes": written.bytes, "peak_rss_mb": peak, "events": report.events}


if __name__ == "__main__":
    count, database, where = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    print(json.dumps(ingest(count, database, where)))
