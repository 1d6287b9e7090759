"""The repository: upserts report insert/update/noop, keep corrections, store events once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.builders import INTRO, PASS, REFER, REPORT, action, bill
from tracker.models import BillKey
from tracker.records import StateUpdate, Validators
from tracker.storage.repository import BillFilter, EventFilter, Repository

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def upsert(repo: Repository, b, *, baseline: bool = False, now: datetime = NOW):
    with repo.write() as session:
        return repo.upsert_bill(session, b, baseline=baseline, run_id=None, now=now)


def rows(repo: Repository, table: str) -> int:
    with repo.engine.connect() as connection:
        # ``table`` is one of this file's literals, never input.
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_insert_then_noop_then_update(repo: Repository) -> None:
    first = upsert(repo, bill("HB 1", INTRO, REFER))
    assert first.kind == "insert"
    assert [c.kind.value for c in first.changes] == ["new-bill"]
    again = upsert(repo, bill("HB 1", INTRO, REFER))
    assert again.kind == "noop"
    assert again.changes == ()
    later = upsert(repo, bill("HB 1", INTRO, REFER, REPORT), now=NOW + timedelta(hours=1))
    assert later.kind == "update"
    assert [c.kind.value for c in later.changes] == ["new-action", "stage-change"]
    assert later.before is not None and later.before.stage.value == "in-committee"
    assert rows(repo, "events") == 3
    assert rows(repo, "actions") == 3


def test_removed_action_is_kept_in_history(repo: Repository) -> None:
    upsert(repo, bill("HB 1", INTRO, REFER, REPORT))
    result = upsert(repo, bill("HB 1", INTRO, REFER))
    assert [c.kind.value for c in result.changes] == ["action-removed", "stage-change"]
    with repo.read() as session:
        bill_id = repo.bill_id(session, BillKey.parse("va/2020/HB 1"))
        assert bill_id is not None
        actions = repo.actions_of(session, bill_id)
        stored = repo.get_bill(session, BillKey.parse("va/2020/HB 1"))
    assert len(actions) == 3
    assert [a.removed_at is not None for a in actions] == [False, False, True]
    assert stored is not None and len(stored.actions) == 2
    # it comes back upstream: revived, not doubled
    back = upsert(repo, bill("HB 1", INTRO, REFER, REPORT))
    assert [c.kind.value for c in back.changes] == ["new-action", "stage-change"]
    assert rows(repo, "actions") == 3


def test_round_trip_preserves_state(repo: Repository) -> None:
    original = bill("HB 1", INTRO, REFER, REPORT, PASS, title="Driver privilege cards; penalty.")
    upsert(repo, original)
    with repo.read() as session:
        stored = repo.get_bill(session, original.key)
    assert stored == original


def test_events_query_filters(repo: Repository) -> None:
    upsert(repo, bill("HB 1", INTRO), baseline=True)
    upsert(repo, bill("HB 1", INTRO, REFER), now=NOW + timedelta(days=1))
    upsert(repo, bill("SB 2", INTRO, jurisdiction="us", session="117"))
    with repo.read() as session:
        everything = list(repo.events(session, EventFilter()))
        alerts = list(repo.events(session, EventFilter(include_baseline=False)))
        since = list(repo.events(session, EventFilter(since=NOW + timedelta(hours=1))))
        federal = list(repo.events(session, EventFilter(jurisdiction="us")))
        actions = list(repo.events(session, EventFilter(kind="new-action")))
    assert [e.kind for e in everything] == ["new-bill", "new-action", "stage-change", "new-bill"]
    assert everything[0].baseline and not everything[1].baseline
    assert len(alerts) == 3
    assert [e.bill for e in since] == ["va/2020/HB 1", "va/2020/HB 1"]
    assert [e.bill for e in federal] == ["us/117/SB 2"]
    assert len(actions) == 1
    assert since[0].detected_at == NOW + timedelta(days=1)  # aware UTC back from every backend


def test_list_bills_filters(repo: Repository) -> None:
    upsert(repo, bill("HB 565", INTRO, REFER, title="Driver privilege cards; penalty."))
    upsert(repo, bill("HB 1", INTRO, REFER, REPORT, PASS))
    with repo.read() as session:
        assert [b.identifier for b in repo.list_bills(session, BillFilter())] == ["HB 1", "HB 565"]
        found = list(repo.list_bills(session, BillFilter(q="privilege")))
        passed = list(repo.list_bills(session, BillFilter(stage="passed-origin")))
    assert [b.key for b in found] == ["va/2020/HB 565"]
    assert [b.key for b in passed] == ["va/2020/HB 1"]
    assert passed[0].last_action_date is not None


def test_fetch_state_round_trip(repo: Repository) -> None:
    with repo.write() as session:
        repo.save_fetch_state(session, [
            StateUpdate("http://x/a/1.xml", Validators(etag='"e"', sha256="s", lastmod="2025-01")),
            StateUpdate("http://x/a/2.xml", Validators(lastmod="2025-02")),
            StateUpdate("http://x/b/3.xml", Validators(lastmod="2025-03")),
        ], source="test", now=NOW)
    with repo.write() as session:  # an update keeps the lastmod when none is given
        repo.save_fetch_state(session, [StateUpdate("http://x/a/1.xml", Validators(etag='"f"'))],
                              source="test", now=NOW)
    with repo.read() as session:
        assert repo.fetch_state(session, "http://x/a/1.xml") == Validators(
            etag='"f"', lastmod="2025-01")
        assert repo.lastmods(session, prefix="http://x/a/") == {
            "http://x/a/1.xml": "2025-01", "http://x/a/2.xml": "2025-02"}
        assert repo.fetch_state(session, "http://x/none") is None


def test_many_actions_on_one_day_keep_order(repo: Repository) -> None:
    day = [action("2020-02-01", f"step {i}") for i in range(12)]
    original = bill("HB 9", *day)
    upsert(repo, original)
    with repo.read() as session:
        stored = repo.get_bill(session, original.key)
    assert stored is not None
    assert [a.description for a in stored.actions] == [f"step {i}" for i in range(12)]


def test_one_bill_one_key_fill_only_source_leaves_led_bill_alone(repo: Repository) -> None:
    led = bill("HB 1", INTRO, REFER, source="va-lis")
    upsert(repo, led)
    with repo.write() as session:
        result = repo.upsert_bill(session, bill("HB 1", INTRO, source="legiscan"),
                                  baseline=False, run_id=None, now=NOW, fill_only=True)
    assert result.kind == "skipped"
    with repo.read() as session:
        stored = repo.get_bill(session, led.key)
    assert stored is not None and stored.source == "va-lis" and len(stored.actions) == 2


def test_leading_source_takes_over_a_filled_gap_quietly(repo: Repository) -> None:
    upsert(repo, bill("HB 1", INTRO, source="legiscan"))
    result = upsert(repo, bill("HB 1", INTRO, REFER, source="va-lis"))
    assert result.kind == "update"
    with repo.read() as session:
        latest = list(repo.events(session, EventFilter()))[1:]
    assert latest and all(e.baseline for e in latest)  # the switch alerts no one
