"""Worker processes that parse, normalize and store fetched documents: a poll's other cores.

Parsing a document (lxml, then the source's Python that reads the tree), normalizing its
bills and storing them is nearly all of a large poll's work, and Python runs one thread of
Python at a time: a thread cannot take that work off the polling process, a process can.
:class:`IngestWorkers` keeps a few worker processes (``spawn``: fresh interpreters, never
forks of a process with threads or open connections). A poll hands them chunks of fetched
documents and keeps a chunk for itself whenever every worker has one queued. A chunk is
parsed and normalized (:func:`tracker.prepare.parse_and_normalize`) and stored with the
worker's own database connection (:func:`tracker.batch_store.store_batch`, one transaction
per chunk, the same code the pipeline runs itself): :func:`ingest_documents`. Only what
the run report needs comes back; sending the bills themselves back would cost the polling
process about as much as parsing them.

* :meth:`IngestWorkers.submit` returns a future of the chunk's :class:`ChunkOutcome`.
* A parser or the database layer raising something unexpected (a bug) comes back as a
  :class:`WorkerCrash` naming the error, raised where the result is read.
* A worker that dies (killed, out of memory) breaks the pool: reading the result raises
  :class:`WorkerDied` (a :class:`~tracker.errors.TrackerError`: the poll fails in one line;
  the chunk's transaction died with the worker, so its documents are fetched again next
  time), and the next submit starts fresh workers.
* :meth:`IngestWorkers.start` starts the workers and waits until each answers, so a service
  pays their start once, at launch; :meth:`IngestWorkers.close` stops them.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from scrapers.local import parser_for
from tracker.batch_store import BatchOutcome, Parsed, StoredHook, StoreOptions, store_batch
from tracker.errors import TrackerError
from tracker.heap import freeze_startup_objects
from tracker.prepare import parse_and_normalize
from tracker.records import BillRef, Fetched
from tracker.source import Source, SourceFactory
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)

#: Builds a worker's ``on_stored`` hook from its repository; must pickle (a module-level
#: function, or a functools.partial of one).
HookFactory = Callable[..., Callable[..., None]]


class WorkerDied(TrackerError):
    """An ingest worker process ended while it held a chunk."""


class WorkerCrash(RuntimeError):
    """Something unexpected (a bug, not bad input) was raised in a worker."""


def default_workers() -> int:
    """One worker per core beyond the first (the polling process does its share of the
    chunks on the first); none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, (cores or 1) - 1)


@dataclass(frozen=True, slots=True)
class Chunk:
    """What a worker needs for one chunk: the source's parser, where to store, and how."""

    factory: SourceFactory
    database_url: str
    options: StoreOptions
    documents: list[Fetched]
    hook: HookFactory | None = None


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    """How one document of a chunk parsed (before storing)."""

    ref: BillRef
    unchanged: bool = False
    error: str | None = None  # the whole document failed to parse
    bill_failures: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    documents: list[DocumentOutcome] = field(default_factory=list)
    stored: BatchOutcome = field(default_factory=BatchOutcome)
    crash: str | None = None


class IngestWorkers:
    """A lazily started pool of ingest workers; see the module docstring."""

    def __init__(self, *, workers: int, preload: Sequence[str] = ()) -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workers = workers
        self._preload = ["tracker.ingest_workers", *preload]
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the workers now and wait until every one of them answers."""
        executor = self._running()
        for future in [executor.submit(os.getpid) for _ in range(self.workers)]:
            future.result()

    def submit(self, chunk: Chunk) -> Future[ChunkOutcome]:
        return self._running().submit(_ingest, chunk)

    @staticmethod
    def outcome(future: Future[ChunkOutcome]) -> ChunkOutcome:
        """The result of a :meth:`submit`; :class:`WorkerDied` or :class:`WorkerCrash`."""
        try:
            outcome = future.result()
        except BrokenProcessPool:
            raise WorkerDied(
                "an ingest worker process died; the documents it held are polled again "
                "next time"
            ) from None
        if outcome.crash is not None:
            raise WorkerCrash(f"an ingest worker failed unexpectedly: {outcome.crash}")
        return outcome

    @property
    def running(self) -> bool:
        """Whether the workers are up (started, and none has died since)."""
        with self._lock:
            executor = self._executor
        return executor is not None and not getattr(executor, "_broken", False)

    def worker_pids(self) -> list[int]:
        """The process ids of the running workers (for memory figures)."""
        with self._lock:
            executor = self._executor
        processes: dict[int, Any] = getattr(executor, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> IngestWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            executor = self._executor
            if executor is not None and getattr(executor, "_broken", False):
                log.warning("ingest workers: a worker died; starting new ones")
                executor.shutdown(wait=False, cancel_futures=True)
                executor = None
            if executor is None:
                # spawn: each worker is a fresh interpreter (never a fork of a process with
                # threads and open connections), and no idle forkserver holds memory.
                executor = ProcessPoolExecutor(
                    max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_preload, initargs=(tuple(self._preload),),
                )
                self._executor = executor
            return executor


# -- in the worker processes -----------------------------------------------------------------

_PARSERS: dict[Any, Source] = {}
_REPOSITORIES: dict[str, Repository] = {}


def _preload(modules: tuple[str, ...]) -> None:
    """Import the modules a worker will need at its start, not inside its first chunk."""
    for module in modules:
        importlib.import_module(module)
    freeze_startup_objects()


def _ingest(chunk: Chunk) -> ChunkOutcome:
    try:
        return _ingest_chunk(chunk)
    except Exception as exc:  # a bug: reported in one line where the result is read
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{os.path.basename(last.filename)}:{last.lineno}"
        return ChunkOutcome(crash=f"{type(exc).__name__}: {exc} ({where})")


def _ingest_chunk(chunk: Chunk) -> ChunkOutcome:
    source = _PARSERS.get(chunk.factory)
    if source is None:
        source = _PARSERS[chunk.factory] = parser_for(chunk.factory)
    repo = _repository(chunk.database_url)
    hook = chunk.hook(repo=repo) if chunk.hook is not None else None
    return ingest_documents(source, repo, chunk.documents, options=chunk.options,
                            on_stored=hook)


def ingest_documents(
    source: Source, repo: Repository, documents: list[Fetched], *, options: StoreOptions,
    on_stored: StoredHook | None,
) -> ChunkOutcome:
    """Parse, normalize and store ``documents`` (what a worker does with a chunk; the
    polling process runs it too, for the chunks it keeps)."""
    outcomes: list[DocumentOutcome] = []
    parsed: list[Parsed] = []
    for fetched in documents:
        if fetched.unchanged:
            outcomes.append(DocumentOutcome(fetched.ref, unchanged=True))
            parsed.append(Parsed(fetched, [], keep_cursor=True))
            continue
        outcome = parse_and_normalize(source, fetched)
        outcomes.append(DocumentOutcome(fetched.ref, error=outcome.error,
                                        bill_failures=outcome.bill_failures))
        if outcome.error is None:
            parsed.append(Parsed(fetched, outcome.bills,
                                 keep_cursor=not outcome.bill_failures))
    stored = store_batch(repo, parsed, options=options, on_stored=on_stored)
    return ChunkOutcome(outcomes, stored)


def _repository(url: str) -> Repository:
    from tracker.storage.engine import make_engine  # the worker's own engine and pool

    repo = _REPOSITORIES.get(url)
    if repo is None:
        repo = _REPOSITORIES[url] = Repository(make_engine(url))
    return repo
