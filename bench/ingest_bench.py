"""``ingest_bills_per_s``, ``ingest_vs_parse_ratio`` and ``peak_rss_mb``: one whole poll of a
synthetic full Congress (``bench/synthetic.py``) through the real pipeline.

The documents are written to a folder first and each is read from disk when the pipeline
fetches it, as bytes off the wire would arrive: peak memory is the pipeline's, not the
benchmark's. Only discovery and transport are replaced (the ref list is the folder, and a
fetch reads a file and hashes it as ``tracker.http`` hashes every body); parsing,
normalizing, classifying, storing and diffing are the real us-govinfo source and pipeline.

The floor it is compared with is a bare ``lxml.etree.fromstring`` of the same bytes, timed in
the same process just before the poll and again just after it (file reads not counted), and
taken as the mean of the two: a shared host's speed drifts by a third between seconds, and a
floor timed once, in a fast moment or a slow one, moved the ratio as much as any change to
the code did.

The poll runs as the service runs it, with its ingest workers (``[pipeline] workers =
"auto"``: one per core beyond the first; this process takes its share of the chunks),
started before the clock. Its peak memory is the sum of each process's peak resident set
size during the poll (the kernel's high-water mark, reset before the clock): no sampling
that would take CPU from the poll, and pages the processes share are counted in each (an
upper bound of their peak together).

Run in a fresh process::

    python bench/ingest_bench.py N DATABASE_URL FOLDER [WORKERS]
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lxml import etree  # noqa: E402

from bench import synthetic  # noqa: E402
from bench.folder_source import FolderGovinfo  # noqa: E402
from tracker.heap import freeze_startup_objects  # noqa: E402
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


def reset_peak(pid: int) -> None:
    """Reset a process's peak resident set size (VmHWM) to what it holds now (Linux)."""
    # Not Linux, or not ours: its peak then counts from its start.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid: int) -> float:
    """A process's peak resident set size since its start or :func:`reset_peak`, MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == os.getpid():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return 0.0


def ingest(n: int, url: str, folder: Path, *, workers: int | None = None) -> dict[str, Any]:
    """One timed poll of ``n`` bills with ``workers`` ingest workers (None: the product's
    default, :func:`tracker.ingest_workers.default_workers`; 0: none, the poll does it all).
    The workers are started before the clock starts, as the service starts them at launch."""
    written = synthetic.write_congress(folder, n)
    FolderGovinfo.root, FolderGovinfo.paths = written.root, written.paths
    parse_before = bare_parse_seconds(written.root, written.paths)

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
    freeze_startup_objects()  # as tracker.wiring.build_pipeline does
    processes = [os.getpid(), *(pool.worker_pids() if pool is not None else [])]
    for pid in processes:
        reset_peak(pid)
    started = time.perf_counter()
    report = pipeline.poll("us-govinfo")
    seconds = time.perf_counter() - started
    peaks = [peak_mb(pid) for pid in processes]  # before the workers exit
    parse_after = bare_parse_seconds(written.root, written.paths)
    if report.status != "ok" or report.inserted != n:
        raise SystemExit(f"ingest did not store every bill: {report.summary_line()}")
    if pool is not None:
        pool.close()
    engine.dispose()
    return {"bills": n, "seconds": seconds, "parse_seconds": (parse_before + parse_after) / 2,
            "parse_before_seconds": parse_before, "parse_after_seconds": parse_after,
            "bytes": written.bytes, "peak_rss_mb": sum(peaks), "events": report.events,
            "workers": count, "main_peak_mb": peaks[0]}


if __name__ == "__main__":
    count, database, where = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    chosen = int(sys.argv[4]) if len(sys.argv) > 4 else None
    print(json.dumps(ingest(count, database, where, workers=chosen)))
