"""``/bills.csv`` and ``/events.csv``: every row the page's filters select, as a download.

The filters are the pages' (:mod:`tracker.web.filters`); the rows are not paginated: the
whole filtered list is streamed, read from the database in batches inside one read
transaction, so a large export never sits in memory. Columns are :data:`rows.BILL_COLUMNS`
and :data:`rows.EVENT_COLUMNS`; UTF-8 with a header row, RFC 4180 quoting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from tracker.storage import web_repo
from tracker.web import rows
from tracker.web.common import bill_url
from tracker.web.filters import parse_bill_query, parse_event_query
from tracker.web.state import web_state

bp = Blueprint("exports", __name__)
_BATCH = 500


def _lines(header: Sequence[str], records: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(header)
    yield flush()
    for record in records:
        writer.writerow([rows.csv_cell(record.get(column)) for column in header])
        yield flush()


def _download(lines: Iterator[str], *, filename: str) -> Response:
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/bills.csv")
def bills_csv() -> Response:
    state = web_state()
    query = parse_bill_query(request.args, topics=state.topic_ids)

    def records() -> Iterator[dict[str, Any]]:
        with state.repo.read() as db:
            listed = web_repo.iter_bills(db, query)
            while batch := list(islice(listed, _BATCH)):
                matches = state.repo.topic_matches(db, bill_ids=[b.id for b in batch])
                for listing in batch:
                    yield rows.bill_row(listing, matches.get(listing.id, []),
                                        page=bill_url(listing.key))

    return _download(_lines(rows.BILL_COLUMNS, records()), filename="bills.csv")


@bp.get("/events.csv")
def events_csv() -> Response:
    state = web_state()
    query = parse_event_query(request.args, topics=state.topic_ids)

    def records() -> Iterator[dict[str, Any]]:
        with state.repo.read() as db:
            for listing in web_repo.iter_events(db, query):
                yield rows.event_row(listing)

    return _download(_lines(rows.EVENT_COLUMNS, records()), filename="events.csv")
