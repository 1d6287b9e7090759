"""The JSON API: ``/api/bills``, ``/api/bills/<key>``, ``/api/events``, ``/healthz``.

The list endpoints take the pages' filters (:mod:`tracker.web.filters`) and answer one page::

    {"bills": [...], "page": 1, "per_page": 50, "total": 123, "pages": 3,
     "next": "/api/bills?...&page=2", "previous": null}

``/api/bills/<jurisdiction>/<session>/<identifier>`` gives one bill with its actions (removed
ones with ``removed_at``), events and topic matches. Errors are JSON too: ``{"error": "..."}``
with a 400 (a filter that cannot be used) or 404. The row shapes are in :mod:`tracker.web.rows`.
``/healthz`` answers ``{"status": "ok"}`` when the database answers (for load balancers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from tracker.errors import InvalidBillKey
from tracker.models import BillKey
from tracker.storage import web_repo
from tracker.storage.repository import EventFilter
from tracker.web import rows
from tracker.web.common import bill_url, url_with
from tracker.web.filters import (
    Paging,
    bill_query_args,
    event_query_args,
    parse_bill_query,
    parse_event_query,
    parse_paging,
)
from tracker.web.state import web_state

bp = Blueprint("api", __name__, url_prefix="/api")
health = Blueprint("health", __name__)


def _page(name: str, items: list[dict[str, Any]], *, endpoint: str, args: Mapping[str, str],
          paging: Paging, total: int) -> dict[str, Any]:
    pages = paging.pages(total)

    def link(page: int) -> str:
        return url_with(endpoint, args, page=page, per_page=paging.per_page)

    return {
        name: items, "page": paging.page, "per_page": paging.per_page, "total": total,
        "pages": pages,
        "next": link(paging.page + 1) if paging.page < pages else None,
        "previous": link(paging.page - 1) if paging.page > 1 else None,
    }


@bp.get("/bills")
def bills() -> ResponseReturnValue:
    state = web_state()
    query = parse_bill_query(request.args, topics=state.topic_ids)
    paging = parse_paging(request.args)
    with state.repo.read() as db:
        found, total = web_repo.search_bills(db, query, offset=paging.offset,
                                             limit=paging.per_page)
        matches = state.repo.topic_matches(db, bill_ids=[b.id for b in found])
    items = [rows.bill_row(b, matches.get(b.id, []), page=bill_url(b.key)) for b in found]
    return jsonify(_page("bills", items, endpoint="api.bills", args=bill_query_args(query),
                         paging=paging, total=total))


@bp.get("/bills/<jurisdiction>/<session>/<identifier>")
def bill(jurisdiction: str, session: str, identifier: str) -> ResponseReturnValue:
    state = web_state()
    try:
        key = BillKey.parse(f"{jurisdiction}/{session}/{identifier}")
    except InvalidBillKey:
        abort(404)
    with state.repo.read() as db:
        found = state.repo.get_bill(db, key)
        bill_id = state.repo.bill_id(db, key)
        if found is None or bill_id is None:
            abort(404)
        detail = rows.bill_detail(
            found, actions=state.repo.actions_of(db, bill_id),
            events=list(state.repo.events(db, EventFilter(bill=str(key)))),
            matches=state.repo.topic_matches(db, bill_ids=[bill_id]).get(bill_id, []),
            page=bill_url(str(key)),
        )
    return jsonify({"bill": detail})


@bp.get("/events")
def events() -> ResponseReturnValue:
    state = web_state()
    query = parse_event_query(request.args, topics=state.topic_ids)
    paging = parse_paging(request.args)
    with state.repo.read() as db:
        found, total = web_repo.search_events(db, query, offset=paging.offset,
                                              limit=paging.per_page)
    items = [rows.event_row(e) for e in found]
    return jsonify(_page("events", items, endpoint="api.events", args=event_query_args(query),
                         paging=paging, total=total))


@health.get("/healthz")
def healthz() -> ResponseReturnValue:
    with web_state().repo.read() as db:
        db.execute(sa.text("SELECT 1"))
    return jsonify({"status": "ok"})
