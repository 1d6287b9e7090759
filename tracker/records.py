"""What sources produce: plain values between the network and the normalizer.

``Source.discover`` yields :class:`BillRef` (and :class:`Checkpoint`) values, ``Source.fetch``
turns a ref into :class:`Fetched` bytes, and ``Source.parse`` turns those bytes into
:class:`BillRecord` values, with no I/O. ``tracker.normalize`` then makes a ``Bill`` of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tracker.models import ActionClass, BillType, Chamber


@dataclass(frozen=True, slots=True)
class Validators:
    """What the HTTP layer remembers about a URL to make the next fetch cheap."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    lastmod: str | None = None


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """Validators to store for ``url`` once what depends on them has been stored.

    ``body``, when given, is kept too (compressed): a source that builds bills from several
    documents reads an unchanged document (a 304) back from there instead of fetching it.
    """

    url: str
    validators: Validators
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class BillRef:
    """A pointer to one upstream document that may hold changed bills.

    ``lastmod`` is the index's change marker (sitemap ``<lastmod>``, a listing's date and
    size, a change hash); the pipeline stores it for ``url`` only after the bills of the
    document were stored, so the cursor never moves past what was kept. ``group`` ties the ref
    to the :class:`Checkpoint` that follows it.
    """

    source: str
    url: str
    session: str
    lastmod: str | None = None
    group: str | None = None
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Yielded by ``discover`` after every ref of ``group``: store ``updates`` if none failed.

    A group of ``None`` covers the whole run (for example the validators of a sitemap index,
    stored only when every bill of the run was stored).
    """

    group: str | None
    updates: tuple[StateUpdate, ...]


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes behind a ref. ``documents`` maps a document name to its body.

    ``unchanged`` is set when the HTTP layer saw a 304 or an identical body hash: the
    pipeline then skips parsing. ``updates`` are the validators to store once the bills parsed
    from these documents are stored.
    """

    ref: BillRef
    documents: Mapping[str, bytes]
    unchanged: bool = False
    updates: tuple[StateUpdate, ...] = ()

    @property
    def body(self) -> bytes:
        """The single document's bytes (for sources with one document per ref)."""
        if len(self.documents) != 1:
            raise ValueError(f"{self.ref.url}: expected one document, got {len(self.documents)}")
        return next(iter(self.documents.values()))


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One action as the source read it. ``classification`` comes from the source's rule table."""

    date: date
    actor: Chamber
    description: str
    classification: tuple[ActionClass, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SponsorRecord:
    name: str
    primary: bool
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VersionRecord:
    name: str
    date: date | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class BillRecord:
    """One bill as a source read it, before normalization.

    ``identifier`` may be loose (``HB0001``, ``hr1``); ``actions`` may be in any order and may
    hold upstream duplicates; the normalizer sorts, dedupes and derives the stage.
    """

    source: str
    jurisdiction: str
    session: str
    identifier: str
    title: str
    bill_type: BillType
    actions: tuple[ActionRecord, ...]
    sponsors: tuple[SponsorRecord, ...] = ()
    subjects: tuple[str, ...] = ()
    summary: str = ""
    versions: tuple[VersionRecord, ...] = ()
    url: str | None = None
    upstream_updated_at: datetime | None = None
    document: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
