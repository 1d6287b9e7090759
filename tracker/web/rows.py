"""Stored values -> the rows of the exports: JSON objects for the API, cells for the CSV files.

One shape per record, shared by ``/api/*`` and ``*.csv`` so both say the same (documented in
``docs/web.md``). Times are UTC ISO 8601 with ``Z``, dates ``YYYY-MM-DD``. Upstream text is
passed as stored (JSON escapes what it must); in CSV cells, a value that a spreadsheet would
read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
prefixed with ``'`` (OWASP's advice against CSV injection), since bill titles come from
legislatures' sites and analysts open the files in spreadsheets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from tracker.models import Bill
from tracker.storage.repository import ActionView, EventView
from tracker.storage.web_repo import BillListing, EventListing
from tracker.topics import TopicMatch

BILL_COLUMNS = ("key", "jurisdiction", "session", "identifier", "title", "stage",
                "last_action_date", "topics", "url", "page")
EVENT_COLUMNS = ("id", "bill", "jurisdiction", "kind", "detected_at", "baseline", "date",
                 "description", "from", "to", "details")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def bill_row(listing: BillListing, matches: Sequence[TopicMatch], *, page: str) -> dict[str, Any]:
    return {
        "key": listing.key, "jurisdiction": listing.jurisdiction, "session": listing.session,
        "identifier": listing.identifier, "title": listing.title, "stage": listing.stage,
        "last_action_date": day(listing.last_action_date),
        "topics": [m.topic for m in matches], "url": listing.url, "page": page,
    }


def _event_fields(kind: str, details: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "date": details.get("date"),
        "description": details.get("description") or details.get("name") or details.get("title"),
        "from": details.get("from"),
        "to": details.get("to") or (details.get("stage") if kind == "new-bill" else None),
    }


def event_row(listing: EventListing) -> dict[str, Any]:
    return {
        "id": listing.id, "bill": listing.bill_key, "jurisdiction": listing.jurisdiction,
        "kind": listing.kind, "detected_at": instant(listing.detected_at),
        "baseline": listing.baseline, **_event_fields(listing.kind, listing.details),
        "details": listing.details,
    }


def topic_json(match: TopicMatch) -> dict[str, Any]:
    return {"topic": match.topic,
            "matched": [{"term": m.term, "field": m.field} for m in match.matched]}


def bill_detail(
    bill: Bill, *, actions: Sequence[ActionView], events: Sequence[EventView],
    matches: Sequence[TopicMatch], page: str,
) -> dict[str, Any]:
    """One bill with its whole history, for ``/api/bills/<key>``."""
    return {
        "key": str(bill.key), "jurisdiction": bill.key.jurisdiction, "session": bill.key.session,
        "identifier": bill.key.identifier, "title": bill.title, "stage": bill.stage.value,
        "bill_type": bill.bill_type.value, "source": bill.source, "url": bill.url,
        "page": page, "summary": bill.summary, "subjects": list(bill.subjects),
        "sponsors": [{"name": s.name, "primary": s.primary} for s in bill.sponsors],
        "versions": [{"name": v.name, "date": day(v.date), "url": v.url} for v in bill.versions],
        "last_action_date": day(bill.last_action_date),
        "topics": [topic_json(m) for m in matches],
        "actions": [
            {"date": day(a.date), "actor": a.actor, "description": a.description,
             "classification": list(a.classification), "first_seen_at": instant(a.first_seen_at),
             "removed_at": instant(a.removed_at)}
            for a in actions
        ],
        "events": [
            {"id": e.id, "kind": e.kind, "detected_at": instant(e.detected_at),
             "baseline": e.baseline, "details": e.details}
            for e in events
        ],
    }


def csv_cell(value: Any) -> str:
    """One CSV cell: lists joined with ``; ``, mappings as JSON, formulas neutralized."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
