"""Digests are built a page of subscribers at a time: the same digests whatever the page size,
with the queries per page, not per subscriber."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

import tracker.digest
from tests.builders import INTRO, PASS, REFER, bill
from tests.subscription_builders import (
    REGISTRY,
    T0,
    add_subscriber,
    follow,
    set_topics,
    settings,
    store_bill,
)
from tracker.digest import Digest, DigestKind, Frequency, due_digests, mark_queued
from tracker.routing import route_new_events
from tracker.settings import Settings
from tracker.storage.repository import Repository

EARLY = T0 - timedelta(days=30)
NEXT_DAY = T0 + timedelta(days=1)
FOLLOWS = (
    ("jurisdiction:va",),
    ("bill:va/2020/HB 2", "topic:drivers-licenses"),
    ("jurisdiction:us", "bill:va/2020/HB 1"),
)
SUBSCRIBERS = 9


def due(repo: Repository, config: Settings) -> list[Digest]:
    return due_digests(repo, settings=config, now=NEXT_DAY, registry=REGISTRY)


def people_with_changes(repo: Repository, config: Settings) -> None:
    """Nine subscribers (one instant) following bills, a topic and jurisdictions, welcomed;
    then three of those bills changed."""
    for identifier in ("HB 1", "HB 2", "HB 3"):
        store_bill(repo, bill(identifier, INTRO), at=EARLY - timedelta(days=7), baseline=True)
    store_bill(repo, bill("HR 1", INTRO, jurisdiction="us", session="116"),
               at=EARLY - timedelta(days=7), baseline=True)
    hb1 = store_bill(repo, bill("HB 1", INTRO), at=EARLY - timedelta(days=7), baseline=True)
    set_topics(repo, hb1, {"drivers-licenses": [("driver privilege card", "title")]})
    for n in range(SUBSCRIBERS):
        frequency = Frequency.INSTANT if n == 4 else Frequency.DAILY
        person = add_subscriber(repo, f"p{n}@example.org", frequency=frequency, at=EARLY)
        for target in FOLLOWS[n % len(FOLLOWS)]:
            follow(repo, person, target, at=EARLY)
    welcomes = due_digests(repo, settings=config, now=EARLY, registry=REGISTRY)
    for digest in welcomes:
        with repo.write() as session:
            mark_queued(session, digest, now=EARLY)
    store_bill(repo, bill("HB 1", INTRO, REFER, PASS), at=T0)
    store_bill(repo, bill("HB 2", INTRO, REFER), at=T0)
    store_bill(repo, bill("HR 1", INTRO, REFER, jurisdiction="us", session="116"), at=T0)
    route_new_events(repo, settings=config, now=T0 + timedelta(minutes=5))


@contextmanager
def counted(repo: Repository) -> Iterator[list[str]]:
    """The SQL statements run meanwhile."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(repo.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(repo.engine, "before_cursor_execute", record)


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    return settings(tmp_path)


def test_the_page_size_changes_no_digest(repo: Repository, config: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    people_with_changes(repo, config)
    whole = due(repo, config)
    assert len(whole) >= SUBSCRIBERS, "everyone has news"
    assert {d.kind for d in whole} == {DigestKind.DIGEST, DigestKind.ALERT}
    for size in (1, 2, 4):
        monkeypatch.setattr(tracker.digest, "PAGE_SIZE", size)
        assert due(repo, config) == whole, f"page size {size}"


def test_queries_grow_with_pages_not_with_subscribers(repo: Repository, config: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    people_with_changes(repo, config)

    def statements(page_size: int) -> int:
        monkeypatch.setattr(tracker.digest, "PAGE_SIZE", page_size)
        with counted(repo) as seen:
            due(repo, config)
        return len(seen)

    one_page, three_pages, nine_pages = statements(9), statements(3), statements(1)
    per_page = (three_pages - one_page) / 2
    assert per_page > 0
    assert nine_pages - one_page == 8 * per_page, "the same few statements per page"
    # Pending deliveries; the bills' latest actions, their summaries, their topic matches.
    assert per_page == 4
