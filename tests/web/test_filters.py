"""Query strings -> searches: what is accepted, what is refused (naming the parameter), and
the way back to query strings for links."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.storage.web_repo import BillSort, EventSort
from tracker.web.filters import (
    BadFilter,
    Paging,
    bill_query_args,
    event_query_args,
    parse_bill_query,
    parse_event_query,
    parse_paging,
)

TOPICS = frozenset({"language-access", "drivers-licenses"})


def test_bill_filters_are_read_and_normalized() -> None:
    query = parse_bill_query({
        "q": "  appropriations ", "topic": "language-access", "jurisdiction": "US",
        "session": "117", "stage": "enacted", "since": "2022-01-01", "until": "2022-12-31",
        "sort": "title",
    }, topics=TOPICS)
    assert (query.scope.q, query.scope.topic, query.scope.jurisdiction) == (
        "appropriations", "language-access", "us")
    assert (query.scope.session, query.scope.stage) == ("117", "enacted")
    assert (query.since, query.until, query.sort) == (date(2022, 1, 1), date(2022, 12, 31),
                                                      BillSort.TITLE)
    assert parse_bill_query(bill_query_args(query), topics=TOPICS) == query


def test_empty_values_are_no_filter() -> None:
    query = parse_bill_query({"q": "", "topic": " ", "stage": ""}, topics=TOPICS)
    assert query == parse_bill_query({}, topics=TOPICS)
    assert bill_query_args(query) == {}


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ({"topic": "nope"}, "topic='nope'"),
        ({"jurisdiction": "usa"}, "jurisdiction='usa'"),
        ({"session": "../etc"}, "session='../etc'"),
        ({"stage": "law"}, "stage='law'"),
        ({"since": "yesterday"}, "since='yesterday'"),
        ({"since": "2022-02-01", "until": "2022-01-01"}, "since is after until"),
        ({"sort": "random"}, "sort='random'"),
        ({"q": "x" * 201}, "q is too long"),
    ],
)
def test_bad_bill_filters_are_refused_by_name(args: dict[str, str], names: str) -> None:
    with pytest.raises(BadFilter, match=names.replace("(", r"\(").replace(".", r"\.")):
        parse_bill_query(args, topics=TOPICS)


def test_event_filters_take_dates_and_instants() -> None:
    query = parse_event_query({"since": "2026-12-01", "until": "2026-12-02", "kind": "new-action",
                               "bill": "us/117/hr2471", "baseline": "1", "sort": "oldest"},
                              topics=TOPICS)
    assert query.since == datetime(2026, 12, 1, tzinfo=UTC)
    assert query.until == datetime(2026, 12, 3, tzinfo=UTC)  # the end of the 2nd, exclusive
    assert (query.bill, query.kind, query.include_baseline, query.sort) == (
        "us/117/HR 2471", "new-action", True, EventSort.OLDEST)
    assert parse_event_query(event_query_args(query), topics=TOPICS) == query
    instant = parse_event_query({"since": "2026-12-01T09:30:00Z"}, topics=TOPICS)
    assert instant.since == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "names"),
    [({"kind": "deleted"}, "kind"), ({"bill": "HR 2471"}, "bill"), ({"baseline": "maybe"},
     "baseline"), ({"until": "2026-13-01"}, "until")],
)
def test_bad_event_filters_are_refused_by_name(args: dict[str, str], names: str) -> None:
    with pytest.raises(BadFilter, match=names):
        parse_event_query(args, topics=TOPICS)


def test_paging() -> None:
    assert parse_paging({}) == Paging(1, 50)
    paging = parse_paging({"page": "3", "per_page": "20"})
    assert (paging.offset, paging.pages(41), paging.pages(0)) == (40, 3, 1)
    for bad in ({"page": "0"}, {"page": "-1"}, {"per_page": "201"}, {"page": "two"}):
        with pytest.raises(BadFilter):
            parse_paging(bad)
