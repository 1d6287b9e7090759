"""The benchmarks: figures of speed and memory, printed, never asserted as timed tests.

    python bench/run.py            the full set (a synthetic full Congress, 1,000,000 events)
    python bench/run.py --quick    a smaller set for a minute or two
    python bench/run.py --json     one JSON object per figure: name, value, unit, inputs
    python bench/run.py --only ingest,queries --pg postgresql+psycopg://postgres@127.0.0.1/test

Figures and their bars on a 2-core machine (see bench/RESULTS.md for measured runs):

    ingest_bills_per_s        parse, normalize, classify, store, diff: >= 200
    ingest_vs_parse_ratio     that pipeline's time / a bare lxml parse of the same bytes: <= 4
    noop_poll_requests        requests of a poll with nothing changed, per source index: <= 1
    digest_msgs_per_s         render and send digests to a loopback SMTP server: >= 100
    history_query_p95_ms      the analysts' history and event queries over 1M events: <= 50
    peak_rss_mb               peak memory of the full-Congress ingest: <= 300

The ingest and query figures are also measured on PostgreSQL when ``--pg URL`` is given (or
``TRACKER_BENCH_PG_URL`` is set), each in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import figures  # noqa: E402  (bench/figures.py, beside this file)


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    bar: str
    inputs: dict[str, Any] = field(default_factory=dict)
    backend: str = "sqlite"

    def ok(self) -> bool:
        op, limit = self.bar.split(" ", 1)
        return self.value >= float(limit) if op == ">=" else self.value <= float(limit)

    def as_json(self) -> str:
        return json.dumps(
            {"name": self.name, "value": round(self.value, 3), "unit": self.unit,
             "bar": self.bar, "within_bar": self.ok(), "backend": self.backend, **self.inputs}
        )

    def line(self) -> str:
        mark = "ok " if self.ok() else "MISS"
        inputs = ", ".join(f"{k}={v}" for k, v in self.inputs.items())
        return (f"{mark} {self.name:<24} {self.value:>10.2f} {self.unit:<8} (bar {self.bar}; "
                f"{self.backend}; {inputs})")


def child_ingest(n: int, url: str) -> dict[str, Any]:
    """Run one ingest in a fresh process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, str(HERE / "figures.py"), "ingest", str(n), url],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool, only: set[str] | None, pg_url: str | None, emit: Callable[[Figure], None]
        ) -> list[Figure]:
    results: list[Figure] = []

    def add(figure: Figure) -> None:
        results.append(figure)
        emit(figure)

    bills = 2000 if quick else 15000
    events = 200_000 if quick else 1_000_000
    subscribers = 1000 if quick else 10_000
    wanted = (lambda name: only is None or name in only)
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        backends = [("sqlite", f"sqlite:///{tmp}/ingest.db")]
        if pg_url:
            backends.append(("postgresql", pg_url))
        if wanted("ingest"):
            for backend, url in backends:
                with figures.scratch_database(url) as scratch:
                    got = child_ingest(bills, scratch)
                inputs = {"bills": got["bills"], "megabytes": round(got["bytes"] / 1e6, 1)}
                add(Figure("ingest_bills_per_s", got["bills"] / got["seconds"], "bills/s",
                           ">= 200", inputs, backend))
                add(Figure("ingest_vs_parse_ratio", got["seconds"] / got["parse_seconds"], "x",
                           "<= 4", inputs | {"parse_s": round(got["parse_seconds"], 2)}, backend))
                add(Figure("peak_rss_mb", got["peak_rss_mb"], "MB", "<= 300", inputs, backend))
        if wanted("noop"):
            for source, requests, indexes in figures.noop_poll_requests(Path(tmp)):
                add(Figure("noop_poll_requests", requests / indexes, "req/index", "<= 1",
                           {"source": source, "requests": requests, "indexes": indexes}))
        if wanted("digest"):
            got = figures.digest_throughput(Path(tmp), subscribers=subscribers)
            if got is not None:
                add(Figure("digest_msgs_per_s", got["messages"] / got["seconds"], "msg/s",
                           ">= 100", {"subscribers": subscribers, "messages": got["messages"]}))
        if wanted("queries"):
            for backend, url in [("sqlite", f"sqlite:///{tmp}/events.db"), *backends[1:]]:
                with figures.scratch_database(url) as scratch:
                    got = figures.history_queries(scratch, events=events)
                add(Figure("history_query_p95_ms", got["p95_ms"], "ms", "<= 50",
                           {"events": events, "bills": got["bills"], "queries": got["queries"],
                            "median_ms": round(got["median_ms"], 2)}, backend))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller set, a minute or two")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--only", help="comma-separated: ingest, noop, digest, queries")
    parser.add_argument("--pg", default=os.environ.get("TRACKER_BENCH_PG_URL"),
                        help="also measure on this PostgreSQL URL")
    parser.add_argument("--results", type=Path, help="write the run into this Markdown file")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    started = time.perf_counter()

    def emit(figure: Figure) -> None:
        print(figure.as_json() if args.json else figure.line(), flush=True)

    results = run(args.quick, only, args.pg, emit)
    if args.results:
        write_results(args.results, results, quick=args.quick,
                      seconds=time.perf_counter() - started)


def write_results(path: Path, results: list[Figure], *, quick: bool, seconds: float) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    try:
        import sqlite3

        machine += f", SQLite {sqlite3.sqlite_version}"
    except ImportError:
        pass
    lines = [
        "# Benchmark results",
        "",
        f"Run: `python bench/run.py{' --quick' if quick else ''} --pg ...` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine}; {seconds:.0f} s in all.",
        "",
        "| figure | backend | value | unit | bar | within | inputs |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
    ]
    for f in results:
        inputs = ", ".join(f"{k}={v}" for k, v in f.inputs.items())
        lines.append(f"| {f.name} | {f.backend} | {f.value:.2f} | {f.unit} | {f.bar} | "
                     f"{'yes' if f.ok() else 'NO'} | {inputs} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
