"""The benchmarks: figures of speed and memory at real scale, printed, never asserted as tests.

    python bench/run.py            the full set (15,000 bills, 1,000,000 events, 10,000 readers)
    python bench/run.py --quick    a smaller set for a minute or two
    python bench/run.py --json     one JSON object per figure: name, value, unit, bar, inputs
    python bench/run.py --only ingest,queries --pg postgresql+psycopg://postgres@127.0.0.1/test
    python bench/run.py --results bench/RESULTS.md   also write the run there

Figures and their bars on a 2-core machine (how each is measured: the module named):

    ingest_bills_per_s     the whole poll of a synthetic full Congress: >= 200 (ingest_bench;
                           the median of three polls, each into a fresh database)
    ingest_vs_parse_ratio  that poll's time / a bare lxml parse of its bytes: <= 4 (the
                           median of the three polls' ratios, each against its own parse)
    peak_rss_mb            peak memory of that poll's processes (their peak RSS added up; the
                           highest of the three polls): <= 300
    noop_poll_requests     requests of a poll with nothing changed, per index, per source: <= 1
                           (noop_bench)
    digest_msgs_per_s      route, build, render, queue, send to loopback SMTP: >= 100
                           (digest_bench)
    history_query_p95_ms   the analysts' history and event queries over 1M events: <= 50
                           (query_bench)

The ingest and query figures are measured on PostgreSQL too when ``--pg URL`` is given (or
``TRACKER_BENCH_PG_URL`` is set), each in a schema of its own that is dropped afterwards.
The exit status is 1 when a figure misses its bar.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
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

from bench import digest_bench, noop_bench, query_bench  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    bar: str  # ">= 200" or "<= 4"
    inputs: dict[str, Any] = field(default_factory=dict)
    backend: str = "sqlite"

    def ok(self) -> bool:
        op, limit = self.bar.split(" ", 1)
        return self.value >= float(limit) if op == ">=" else self.value <= float(limit)

    def as_json(self) -> str:
        return json.dumps({"name": self.name, "value": round(self.value, 3), "unit": self.unit,
                           "bar": self.bar, "within_bar": self.ok(), "backend": self.backend,
                           **self.inputs})

    def line(self) -> str:
        mark = "ok  " if self.ok() else "MISS"
        inputs = ", ".join(f"{k}={v}" for k, v in self.inputs.items())
        return (f"{mark} {self.name:<24} {self.value:>10.2f} {self.unit:<9} (bar {self.bar}; "
                f"{self.backend}; {inputs})")


@dataclass(frozen=True)
class Sizes:
    bills: int
    events: int
    subscribers: int

    @classmethod
    def of(cls, *, quick: bool) -> Sizes:
        return cls(2000, 200_000, 1000) if quick else cls(15_000, 1_000_000, 10_000)


def child_ingest(n: int, url: str, folder: Path) -> dict[str, Any]:
    """Run one ingest in a fresh process, so that its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, str(HERE / "ingest_bench.py"), str(n), url, str(folder)],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


#: Polls per backend; the ingest figures are their median (memory: their maximum). One
#: poll's ratio moved by a third between runs of the same code on a shared 2-core host.
INGEST_ROUNDS = 3


def ingest_figures(sizes: Sizes, backends: list[tuple[str, str]], tmp: Path) -> list[Figure]:
    figures = []
    for backend, url in backends:
        documents = tmp / f"ingest-{backend}"
        rounds = []
        for _ in range(INGEST_ROUNDS):
            with scratch_database(url) as scratch:
                rounds.append(child_ingest(sizes.bills, scratch, documents))
            # Up to a gigabyte of synthetic documents: gone before the next figure is
            # measured (their write-back to disk would otherwise run under it).
            shutil.rmtree(documents, ignore_errors=True)
        ratios = [got["seconds"] / got["parse_seconds"] for got in rounds]
        median = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
        got = rounds[median]
        inputs = {"bills": got["bills"], "megabytes": round(got["bytes"] / 1e6, 1),
                  "workers": got["workers"], "rounds": len(rounds)}
        speeds = sorted(r["bills"] / r["seconds"] for r in rounds)
        figures += [
            Figure("ingest_bills_per_s", speeds[len(speeds) // 2], "bills/s", ">= 200",
                   inputs | {"each": " ".join(f"{v:.0f}" for v in speeds)}, backend),
            Figure("ingest_vs_parse_ratio", ratios[median], "x", "<= 4",
                   inputs | {"each": " ".join(f"{v:.2f}" for v in ratios),
                             "seconds": round(got["seconds"], 1),
                             "parse_s": round(got["parse_seconds"], 2),
                             "parse_before_s": round(got["parse_before_seconds"], 2),
                             "parse_after_s": round(got["parse_after_seconds"], 2)}, backend),
            Figure("peak_rss_mb", max(r["peak_rss_mb"] for r in rounds), "MB", "<= 300",
                   inputs | {"main_peak_mb": round(max(r["main_peak_mb"] for r in rounds))},
                   backend),
        ]
    return figures


def noop_figures(tmp: Path) -> list[Figure]:
    return [
        Figure("noop_poll_requests", r.requests / r.indexes, "req/index", "<= 1",
               {"source": r.source, "requests": r.requests, "indexes": r.indexes, **r.extra})
        for r in noop_bench.noop_poll_requests(tmp)
    ]


def digest_figures(sizes: Sizes, tmp: Path) -> list[Figure]:
    got = digest_bench.measure(tmp, subscribers=sizes.subscribers)
    return [Figure("digest_msgs_per_s", got["messages"] / got["seconds"], "msg/s", ">= 100",
                   {"subscribers": sizes.subscribers, "messages": got["messages"],
                    "seconds": round(got["seconds"], 1)})]


def query_figures(sizes: Sizes, backends: list[tuple[str, str]], tmp: Path) -> list[Figure]:
    figures = []
    for backend, url in backends:
        target = f"sqlite:///{tmp}/events.db" if backend == "sqlite" else url
        with scratch_database(target) as scratch:
            got = query_bench.history_queries(scratch, events=sizes.events)
        figures.append(Figure(
            "history_query_p95_ms", got["p95_ms"], "ms", "<= 50",
            {"events": sizes.events, "bills": got["bills"], "queries": got["queries"],
             "median_ms": round(got["median_ms"], 2)}, backend))
    return figures


GROUPS = ("ingest", "noop", "digest", "queries")


def run(*, quick: bool, only: set[str], pg_url: str | None,
        emit: Callable[[Figure], None]) -> list[Figure]:
    sizes = Sizes.of(quick=quick)
    results: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as folder:
        tmp = Path(folder)
        backends = [("sqlite", f"sqlite:///{tmp}/ingest.db")]
        if pg_url:
            backends.append(("postgresql", pg_url))
        steps: dict[str, Callable[[], list[Figure]]] = {
            "ingest": lambda: ingest_figures(sizes, backends, tmp),
            "noop": lambda: noop_figures(tmp),
            "digest": lambda: digest_figures(sizes, tmp),
            "queries": lambda: query_figures(sizes, backends, tmp),
        }
        for group in GROUPS:
            if group in only:
                for figure in steps[group]():
                    results.append(figure)
                    emit(figure)
    return results


def machine() -> str:
    import sqlite3

    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if "model name" in line),
               platform.processor() or platform.machine())
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def write_results(path: Path, results: list[Figure], *, command: str, seconds: float,
                  load: str) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {seconds:.0f} s in all.",
        "",
        f"Machine: {machine()}. Load average when the run started: {load}.",
        "",
        "| figure | backend | value | unit | bar | within | inputs |",
        "| --- | --- | ---: | --- | --- | --- | --- |",
    ]
    for f in results:
        inputs = ", ".join(f"{k}={v}" for k, v in f.inputs.items())
        lines.append(f"| {f.name} | {f.backend} | {f.value:.2f} | {f.unit} | {f.bar} | "
                     f"{'yes' if f.ok() else 'NO'} | {inputs} |")
    # The hand-written notes below the table (from NOTES_HEADING on) survive a new run.
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = previous[previous.find(NOTES_HEADING):] if NOTES_HEADING in previous else ""
    path.write_text("\n".join(lines) + "\n" + (f"\n{notes}" if notes else ""), encoding="utf-8")


NOTES_HEADING = "## Notes"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller set, a minute or two")
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(GROUPS)}")
    parser.add_argument("--pg", default=os.environ.get("TRACKER_BENCH_PG_URL"),
                        help="also measure ingest and queries on this PostgreSQL URL")
    parser.add_argument("--results", type=Path, help="write the run into this Markdown file")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else set(GROUPS)
    if only - set(GROUPS):
        parser.error(f"--only: unknown {', '.join(sorted(only - set(GROUPS)))}; "
                     f"choose from {', '.join(GROUPS)}")
    # Warnings only: the loopback FTP server (pyftpdlib) logs every command unless logging
    # is configured, and its lines would drown the figures.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.perf_counter()

    def emit(figure: Figure) -> None:
        print(figure.as_json() if args.json else figure.line(), flush=True)

    results = run(quick=args.quick, only=only, pg_url=args.pg, emit=emit)
    if args.results:
        command = "python bench/run.py " + " ".join(
            a if not a.startswith("postgresql") else "<pg url>" for a in sys.argv[1:])
        write_results(args.results, results, command=command.strip(),
                      seconds=time.perf_counter() - started, load=load)
    return 0 if all(f.ok() for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
