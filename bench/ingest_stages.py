"""Where the ingest's time goes: the ingest benchmark with each stage of the poll timed.

    python bench/ingest_stages.py [N] [DATABASE_URL]     (default 2000 bills, a temp SQLite)

Prints milliseconds per bill for fetching (a file read and its hash), parsing (the source's
``parse``: lxml plus the record building), normalizing, and storing (of which the content hash
and the inserts), beside the bare lxml parse the ratio is measured against. The timers wrap the
real functions for the run; nothing else changes. It runs without ingest workers (their time
would not be seen here), and fetching and parsing run in the poll's read-ahead thread, so
their timers include waits for the interpreter lock while the store runs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import tracker.pipeline as pipeline_module  # noqa: E402
import tracker.prepare as prepare_module  # noqa: E402
import tracker.storage.repository as repository_module  # noqa: E402
from bench import ingest_bench  # noqa: E402
from bench.folder_source import FolderGovinfo  # noqa: E402

STAGES = (
    ("fetch", FolderGovinfo, "fetch"),
    ("parse", FolderGovinfo, "parse"),
    ("normalize", prepare_module, "normalize"),
    ("store", pipeline_module.Pipeline, "_store_batch"),
    ("  content hash", repository_module, "_digest"),
    ("  inserts", repository_module.Repository, "_insert_new"),
)


def timed(spent: dict[str, float], label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - started

    return wrapper


def main(n: int, url: str | None) -> None:
    spent: dict[str, float] = dict.fromkeys((label for label, _, _ in STAGES), 0.0)
    for label, owner, name in STAGES:
        setattr(owner, name, timed(spent, label, getattr(owner, name)))
    with tempfile.TemporaryDirectory(prefix="tracker-stages-") as folder:
        got = ingest_bench.ingest(n, url or f"sqlite:///{folder}/stages.db", Path(folder) / "docs",
                                 workers=0)
    per_bill = {label: spent[label] * 1000 / n for label, _, _ in STAGES}
    print(f"{n} bills, {got['seconds'] * 1000 / n:.2f} ms/bill in all "
          f"(bare lxml parse {got['parse_seconds'] * 1000 / n:.2f} ms/bill, "
          f"ratio {got['seconds'] / got['parse_seconds']:.1f})")
    for label, ms in per_bill.items():
        print(f"  {label:<16} {ms:6.2f} ms/bill")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(int(arguments[0]) if arguments else 2000, arguments[1] if len(arguments) > 1 else None)
