"""Query strings -> validated searches, shared by the pages, the CSV exports and the JSON API.

``/bills``, ``/bills.csv`` and ``/api/bills`` read the same parameters, as do ``/events``,
``/events.csv`` and ``/api/events`` (documented in ``docs/web.md``):

* ``q``: words in the title, summary or identifier, or a bill number (``HR 2471``, ``hr2471``);
* ``topic``: a configured topic id; ``jurisdiction``: a two-letter code (``us``, ``va``);
  ``session``: a session as stored (``117``, ``2020``); ``stage``: ``in-committee``, ``enacted``...
* ``since`` / ``until``: bills: the latest action on or after / on or before a date; events:
  detected on or after / before the end of a date (or before an instant, when a time is given);
* ``sort``: bills ``recent`` ``oldest`` ``key`` ``title`` ``stage``; events ``newest`` ``oldest``;
* events only: ``kind`` (``new-action``, ``stage-change`` ...), ``bill`` (a key such as
  ``us/117/HR 2471``), ``baseline=1`` to include the records of first polls (left out);
* ``page`` (1, 2 ...) and ``per_page`` (at most 200, default 50).

A value that cannot be used raises :class:`BadFilter` naming the parameter and what it accepts
(a 400 for every caller). Pure functions: a mapping in, frozen values out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tracker.changes import ChangeKind
from tracker.errors import InvalidBillKey, TrackerError
from tracker.models import BillKey, Stage
from tracker.storage.web_repo import BillQuery, BillScope, BillSort, EventQuery, EventSort

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 100_000
MAX_Q = 200
_JURISDICTION = re.compile(r"^[a-z]{2}$")
_SESSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class BadFilter(TrackerError, ValueError):
    """A query parameter cannot be used (the message names it and what it accepts)."""


@dataclass(frozen=True, slots=True)
class Paging:
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def pages(self, total: int) -> int:
        """How many pages ``total`` rows fill (at least one: an empty result is a page)."""
        return max(1, -(-total // self.per_page))


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name, "")
    value = value.strip() if isinstance(value, str) else ""
    return value or None


def _choice(args: Mapping[str, str], name: str, choices: Collection[str]) -> str | None:
    value = _text(args, name)
    if value is not None and value not in choices:
        raise BadFilter(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def _whole(args: Mapping[str, str], name: str, *, default: int, low: int, high: int) -> int:
    value = _text(args, name)
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadFilter(f"{name}={value!r} must be a whole number from {low} to {high}")
    return int(value)


def parse_scope(args: Mapping[str, str], *, topics: Collection[str]) -> BillScope:
    """The bill filters ``q``, ``topic``, ``jurisdiction``, ``session`` and ``stage``."""
    q = _text(args, "q")
    if q is not None and len(q) > MAX_Q:
        raise BadFilter(f"q is too long ({len(q)} characters; at most {MAX_Q})")
    topic = _text(args, "topic")
    if topic is not None and topic not in topics:
        known = ", ".join(sorted(topics)) or "none are configured"
        raise BadFilter(f"topic={topic!r} is not a configured topic (topics: {known})")
    jurisdiction = _text(args, "jurisdiction")
    if jurisdiction is not None:
        jurisdiction = jurisdiction.lower()
        if not _JURISDICTION.match(jurisdiction):
            raise BadFilter(f"jurisdiction={jurisdiction!r} must be a two-letter code such as va")
    session = _text(args, "session")
    if session is not None and not _SESSION.match(session):
        raise BadFilter(f"session={session!r} is not a session (e.g. 117, 2020)")
    stage = _choice(args, "stage", [s.value for s in Stage])
    return BillScope(q=q, topic=topic, jurisdiction=jurisdiction, session=session, stage=stage)


def _date(args: Mapping[str, str], name: str) -> date | None:
    value = _text(args, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None


def _moment(args: Mapping[str, str], name: str, *, end_of_day: bool) -> datetime | None:
    """A date (the day's start, or with ``end_of_day`` the next day's) or an ISO instant."""
    value = _text(args, name)
    if value is None:
        return None
    if len(value) == 10:
        day = _date(args, name)
        assert day is not None
        start = datetime.combine(day, time(), tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadFilter(
            f"{name}={value!r} is not a date (YYYY-MM-DD) or time (2026-12-01T09:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ordered(since: date | None, until: date | None) -> None:
    # datetime is a date: one check serves both (both sides are always of one type).
    if since is not None and until is not None and since > until:
        raise BadFilter("since is after until")


def parse_bill_query(args: Mapping[str, str], *, topics: Collection[str]) -> BillQuery:
    since, until = _date(args, "since"), _date(args, "until")
    _ordered(since, until)
    sort = _choice(args, "sort", [s.value for s in BillSort])
    return BillQuery(scope=parse_scope(args, topics=topics), since=since, until=until,
                     sort=BillSort(sort) if sort else BillSort.RECENT)


def parse_event_query(args: Mapping[str, str], *, topics: Collection[str]) -> EventQuery:
    since = _moment(args, "since", end_of_day=False)
    until = _moment(args, "until", end_of_day=True)
    _ordered(since, until)
    bill = _text(args, "bill")
    if bill is not None:
        try:
            bill = str(BillKey.parse(bill))
        except InvalidBillKey as exc:
            raise BadFilter(f"bill={bill!r}: {exc}") from None
    baseline = (_text(args, "baseline") or "").lower()
    if baseline not in _TRUE + _FALSE:
        raise BadFilter(f"baseline={baseline!r} must be 1 or 0")
    sort = _choice(args, "sort", [s.value for s in EventSort])
    return EventQuery(
        scope=parse_scope(args, topics=topics), bill=bill,
        kind=_choice(args, "kind", [k.value for k in ChangeKind]), since=since, until=until,
        include_baseline=baseline in _TRUE, sort=EventSort(sort) if sort else EventSort.NEWEST,
    )


def parse_paging(args: Mapping[str, str]) -> Paging:
    return Paging(page=_whole(args, "page", default=1, low=1, high=MAX_PAGE),
                  per_page=_whole(args, "per_page", default=PER_PAGE, low=1, high=MAX_PER_PAGE))


# --- back to query strings ----------------------------------------------------------------------


def _scope_args(scope: BillScope) -> dict[str, str]:
    values = {"q": scope.q, "topic": scope.topic, "jurisdiction": scope.jurisdiction,
              "session": scope.session, "stage": scope.stage}
    return {name: value for name, value in values.items() if value}


def bill_query_args(query: BillQuery) -> dict[str, str]:
    """The parameters that give ``query`` back (defaults left out), for links."""
    args = _scope_args(query.scope)
    if query.since:
        args["since"] = query.since.isoformat()
    if query.until:
        args["until"] = query.until.isoformat()
    if query.sort is not BillSort.RECENT:
        args["sort"] = query.sort.value
    return args


def _moment_arg(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_query_args(query: EventQuery) -> dict[str, str]:
    args = _scope_args(query.scope)
    for name, value in (("bill", query.bill), ("kind", query.kind)):
        if value:
            args[name] = value
    if query.since:
        args["since"] = _moment_arg(query.since)
    if query.until:
        args["until"] = _moment_arg(query.until)
    if query.include_baseline:
        args["baseline"] = "1"
    if query.sort is not EventSort.NEWEST:
        args["sort"] = query.sort.value
    return args
