"""The one plugin point every bill source implements.

A source is built with a :class:`SourceContext` (its settings, the shared HTTP client, a
read-only view of what was stored about earlier fetches and, for APIs with a quota, a
:class:`QueryLedger`) and answers three calls:

* ``discover(since=...)`` walks the cheap index and yields a :class:`~tracker.records.BillRef`
  for each document that may hold changed bills, plus :class:`~tracker.records.Checkpoint`
  markers for index state to keep once a group of refs is stored;
* ``fetch(ref)`` fetches the bytes (network only through ``tracker.http``);
* ``parse(fetched)`` turns bytes into records, with no I/O; it raises
  :class:`~tracker.errors.ParseError` naming the document.

The registry of sources lives in ``scrapers/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from tracker.records import BillRecord, BillRef, Checkpoint, Fetched, Validators

if TYPE_CHECKING:
    from tracker.http import HttpClient
    from tracker.settings import SourceSettings


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is: its name, the jurisdictions it covers and how politely to poll it."""

    name: str
    title: str
    jurisdictions: tuple[str, ...]
    homepage: str
    default_origin: str
    min_interval: timedelta
    needs_key: bool = False
    key_env: tuple[str, ...] = ()


class FetchStateView(Protocol):
    """Read access to the validators stored for earlier fetches (written by the pipeline)."""

    def get(self, url: str) -> Validators | None: ...

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        """Every stored ``lastmod`` for URLs starting with ``prefix``, in one query."""
        ...

    def body(self, url: str) -> bytes | None:
        """The body kept with the last stored validators of ``url`` (see ``StateUpdate.body``)."""
        ...


@dataclass(frozen=True, slots=True)
class QueryUsage:
    """Requests a source spent in one calendar month (UTC) as of ``as_of``; ``month`` is the
    month's first day."""

    month: date
    used: int
    as_of: datetime

    @property
    def next_month(self) -> date:
        return date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)


class QueryLedger(Protocol):
    """A source's requests per calendar month (UTC), counted in the database so every
    process polling with the same key sees one count (LegiScan's monthly quota)."""

    def usage(self) -> QueryUsage: ...

    def spend(self, requests: int) -> QueryUsage:
        """Add ``requests`` to this month's count and return the new count."""
        ...


@dataclass(frozen=True)
class SourceContext:
    """What a source is given: its settings, the HTTP client and the stored fetch state."""

    settings: SourceSettings
    http: HttpClient
    state: FetchStateView
    environ: Mapping[str, str] = field(default_factory=dict)
    ledger: QueryLedger | None = None

    def rebase(self, url: str, *, default_origin: str) -> str:
        """Point an upstream URL at the configured ``base_url`` (mirrors, tests, replays)."""
        base = self.settings.base_url
        if base and url.startswith(default_origin):
            return base.rstrip("/") + url[len(default_origin.rstrip("/")) :]
        return url

    @property
    def origin(self) -> str | None:
        return self.settings.base_url


class Source(Protocol):
    """The three-call contract; see the module docstring."""

    info: ClassVar[SourceInfo]

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]: ...

    def fetch(self, ref: BillRef) -> Fetched: ...

    def parse(self, fetched: Fetched) -> list[BillRecord]: ...


class SourceFactory(Protocol):
    """A source class: it has ``info`` and builds an instance from a context."""

    @property
    def info(self) -> SourceInfo: ...

    def __call__(self, context: SourceContext) -> Source: ...
