"""``ingest_bills_per_s``, ``ingest_vs_parse_ratio`` and ``peak_rss_mb``: one whole poll of a
synthetic full Congress (``bench/synthetic.py``) through the real pipeline.

The documents are written to a folder first and each is read from disk when the pipeline
fetches it, as bytes off the wire would arrive: peak memory is the pipeline's, not the
benchmark's. Only discovery and transport are replaced (the ref list is the folder, and a
fetch reads a file and hashes it as ``tracker.http`` hashes every body); parsing,
normalizing, classifying, storing and diffing are the real us-govinfo source and pipeline.

The floor it is compared with is a bare ``lxml.etree.fromstring`` of the same bytes, timed in
the same process just before the poll (file reads not counted).

The poll runs as the service runs it, with its ingest workers (``[pipeline] workers =
"auto"``: one per core beyond the first; this process takes its share of the chunks),
started before the clock. Its peak memory is sampled every 50 ms as the sum of the
proportional set sizes of this process and the workers (shared pages counted once).

Run in a fresh process::

    python bench/ingest_bench.py N DATABASE_URL FOLDER [WORKERS]
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lxml import etree  # noqa: E402

from bench import synthetic  # noqa: E402
from bench.folder_source import FolderGovinfo  # noqa: E402
from tracker.http import HttpClient  # noqa: E402
from tracker.ingest_workers import IngestWorkers, default_workers  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.settings import Settings, SourceSettings  # noqa: E402
from tracker.storage.engine import make_engine, migrate  # noqa: E402
from tracker.storage.repository import Repository  # noqa: E402


def bare_parse_seconds(root: Path, paths: tuple[str, ...]) -> float:
    """The physical floor: lxml parsing every document, nothing else."""
    spent = 0.0
    for path in paths:
        body = (root / path.lstrip("/")).read_bytes()
        started = time.perf_counter()
        etree.fromstring(body)
        spent += time.perf_counter() - started
    return spent


def _pss_mb(pid: int) -> float:
    """A process's proportional set size (shared pages divided among their sharers), MB."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:  # the process ended
        pass
    return 0.0


class MemorySampler:
    """The peak, over samples every 50 ms, of the memory of this process and the ingest
    workers, added up as PSS (shared pages counted once)."""

    def __init__(self, pool: IngestWorkers | None) -> None:
        self._pool, self.peak_mb = pool, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._done.wait(0.05):
            self._sample()

    def _sample(self) -> None:
        pids = {os.getpid()}
        if self._pool is not None:
            pids |= set(self._pool.worker_pids())
        self.peak_mb = max(self.peak_mb, sum(_pss_mb(pid) for pid in pids))


def ingest(n: int, url: str, folder: Path, *, workers: int | None = None) -> dict[str, Any]:
    """One timed poll of ``n`` bills with ``workers`` ingest workers (None: the product's
    default, :func:`tracker.ingest_workers.default_workers`; 0: none, the poll does it all).
    The workers are started before the clock starts, as the service starts them at launch."""
    written = synthetic.write_congress(folder, n)
    FolderGovinfo.root, FolderGovinfo.paths = written.root, written.paths
    parse_seconds = bare_parse_seconds(written.root, written.paths)

    engine = make_engine(url)
    migrate(engine)
    repo = Repository(engine)
    settings = Settings(config_dir=Path("."), database_url=url, sources={
        "us-govinfo": SourceSettings(name="us-govinfo", enabled=True, sessions=("118",))})
    count = default_workers() if workers is None else workers
    pool = IngestWorkers(workers=count, preload=("bench.folder_source",)) if count else None
    if pool is not None:
        pool.start()
    pipeline = Pipeline(settings=settings, repo=repo,
                        http=HttpClient(user_agent="bench", min_interval=0),
                        registry={"us-govinfo": FolderGovinfo}, workers=pool)
    with MemorySampler(pool) as memory:
        started = time.perf_counter()
        report = pipeline.poll("us-govinfo")
        seconds = time.perf_counter() - started
    if report.status != "ok" or report.inserted != n:
        raise SystemExit(f"ingest did not store every bill: {report.summary_line()}")
    if pool is not None:
        pool.close()
    engine.dispose()
    return {"bills": n, "seconds": seconds, "parse_seconds": parse_seconds,
            "bytes": written.bytes, "peak_rss_mb": memory.peak_mb, "events": report.events,
            "workers": count,
            # This process's own peak (setup included), for comparison.
            "main_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    count, database, where = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    chosen = int(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(ingest(count, database, where, workers=chosen)))
