"""Parse and normalize one fetched document: the pure middle of a poll.

:func:`parse_and_normalize` is what the pipeline runs for every fetched document, in its
read-ahead thread or in a worker process of :mod:`tracker.parse_pool`. It never raises for a
bad document: a document the source cannot parse comes back as ``error``, and a bill that
cannot be normalized as one of ``bill_failures`` (the document's other bills are kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.errors import FetchError, ParseError, TrackerError
from tracker.models import Bill
from tracker.normalize import normalize
from tracker.records import Fetched
from tracker.source import Source


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """The normalized bills of one document, the bills that failed (``(identifier, error)``),
    or the error that failed the whole document."""

    bills: list[Bill] = field(default_factory=list)
    bill_failures: tuple[tuple[str, str], ...] = ()
    error: str | None = None


def parse_and_normalize(source: Source, fetched: Fetched) -> ParseOutcome:
    """``source.parse(fetched)``, each record normalized; see the module docstring."""
    try:
        records = source.parse(fetched)
    except (FetchError, ParseError) as exc:
        return ParseOutcome(error=str(exc))
    bills: list[Bill] = []
    failures: list[tuple[str, str]] = []
    for record in records:
        try:
            bills.append(normalize(record))
        except (TrackerError, ValueError) as exc:
            document = record.document or fetched.ref.url
            failures.append((record.identifier, f"{document}: {record.identifier}: {exc}"))
    return ParseOutcome(bills, tuple(failures))
