"""Routing's promises on a real store: each change reaches each subscriber at most once, with
every reason; baseline changes reach no one; re-runs add nothing; filters hold; a change
committed late below the cursor is still routed."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.builders import INTRO, PASS, REFER, REPORT, action, bill
from tests.subscription_builders import (
    T0,
    add_subscriber,
    deliveries,
    follow,
    set_topics,
    settings,
    store_bill,
)
from tracker.changes import ChangeKind
from tracker.digest import MatchedTerm, Reason, TargetKind, reason_from_json
from tracker.models import ActionClass, BillKey, Stage
from tracker.routing import (
    BATCH_SIZE,
    LATE_COMMIT_WINDOW,
    RoutingInput,
    RoutingReport,
    SubscriptionIndex,
    plan_deliveries,
    route_new_events,
)
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import EventFilter, Repository
from tracker.subscriptions import (
    BillFacts,
    EventFacts,
    Subscription,
    SubscriptionSpec,
    parse_target,
)

LATER = T0 + timedelta(hours=4)
HEARING = action("2020-01-30", "Assigned Courts sub: Civil Law", ActionClass.HEARING_SCHEDULED)


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    return settings(tmp_path)


def route(
    repo: Repository, config: Settings, *, at: datetime = LATER, batch_size: int = BATCH_SIZE,
    late_window: timedelta = LATE_COMMIT_WINDOW,
) -> RoutingReport:
    return route_new_events(repo, settings=config, now=at, batch_size=batch_size,
                            late_window=late_window)


def baseline_then_change(repo: Repository, identifier: str = "HB 1") -> int:
    """A bill stored by a baseline poll, then changed by a later poll (new action + stage)."""
    store_bill(repo, bill(identifier, INTRO, REFER), at=T0 - timedelta(days=1), baseline=True)
    return store_bill(repo, bill(identifier, INTRO, REFER, REPORT), at=T0 + timedelta(hours=1))


def test_overlapping_subscriptions_give_one_delivery_per_change_with_every_reason(
    repo: Repository, config: Settings
) -> None:
    bill_id = baseline_then_change(repo)
    set_topics(repo, bill_id, {"drivers-licenses": [("driver privilege card", "title")]})
    kim = add_subscriber(repo, "kim@example.org")
    by_bill = follow(repo, kim, "bill:va/2020/HB 1")
    by_topic = follow(repo, kim, "topic:drivers-licenses")
    by_state = follow(repo, kim, "jurisdiction:va")
    lee = add_subscriber(repo, "lee@example.org")
    lee_state = follow(repo, lee, "jurisdiction:va")
    follow(repo, add_subscriber(repo, "federal@example.org"), "jurisdiction:us")

    report = route(repo, config)

    with repo.read() as session:
        changes = [e for e in repo.events(session, EventFilter()) if not e.baseline]
    assert [e.kind for e in changes] == ["new-action", "stage-change"]
    rows = deliveries(repo)
    assert [(d.event_id, d.subscriber_id) for d in rows] == [
        (changes[0].id, kim), (changes[0].id, lee), (changes[1].id, kim), (changes[1].id, lee)
    ]
    mine = rows[0]
    assert mine.subscription_ids == [by_bill, by_topic, by_state]
    assert [reason_from_json(r) for r in mine.reasons] == [
        Reason(by_bill, TargetKind.BILL, "va/2020/HB 1"),
        Reason(by_topic, TargetKind.TOPIC, "drivers-licenses", topic="drivers-licenses",
               matched=(MatchedTerm("driver privilege card", "title"),)),
        Reason(by_state, TargetKind.JURISDICTION, "va"),
    ]
    assert rows[1].subscription_ids == [lee_state]
    assert all(d.status == "pending" and d.digest_key is None for d in rows)
    assert (report.events, report.deliveries, report.subscribers) == (2, 4, 2)


def test_baseline_changes_reach_no_one(repo: Repository, config: Settings) -> None:
    follow(repo, add_subscriber(repo, "kim@example.org", at=T0 - timedelta(days=9)),
           "jurisdiction:va", at=T0 - timedelta(days=9))
    for number in range(1, 6):
        store_bill(repo, bill(f"HB {number}", INTRO), at=T0, baseline=True)

    report = route(repo, config)

    assert deliveries(repo) == []
    assert report.deliveries == 0
    with repo.read() as session:
        # the cursor moved past the baseline tail, so the next run does not scan it again
        assert report.cursor == max(e.id for e in repo.events(session, EventFilter()))


def test_a_second_run_routes_nothing_new(repo: Repository, config: Settings) -> None:
    baseline_then_change(repo)
    follow(repo, add_subscriber(repo, "kim@example.org"), "jurisdiction:va")
    first = route(repo, config)
    before = deliveries(repo)

    again = route(repo, config)
    # even with the cursor set back, the unique key keeps every change once per subscriber
    with repo.write() as session:
        store.advance_cursor(session, last_event_id=0, now=LATER)
    rewound = route(repo, config, late_window=timedelta(days=30))

    assert first.deliveries == 2
    assert again.deliveries == 0
    assert rewound.deliveries == 0
    assert deliveries(repo) == before


def test_kinds_and_stages_filters(repo: Repository, config: Settings) -> None:
    store_bill(repo, bill("HB 1", INTRO, REFER), at=T0 - timedelta(days=1), baseline=True)
    store_bill(repo, bill("HB 1", INTRO, REFER, REPORT, PASS), at=T0 + timedelta(hours=1))
    stage_only = add_subscriber(repo, "stages@example.org")
    follow(repo, stage_only, "jurisdiction:va", kinds=["stage-change"])
    floor = add_subscriber(repo, "floor@example.org")
    follow(repo, floor, "jurisdiction:va", stages=["passed-origin"])
    hearings = add_subscriber(repo, "hearings@example.org")
    follow(repo, hearings, "jurisdiction:va", kinds=["new-version"])

    route(repo, config)

    with repo.read() as session:
        kinds = {e.id: (e.kind, e.details) for e in repo.events(session, EventFilter())}
    got: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for d in deliveries(repo):
        got.setdefault(d.subscriber_id, []).append(kinds[d.event_id])
    assert got[stage_only] == [("stage-change", {"from": "in-committee", "to": "passed-origin"})]
    # the stage filter reads the stage a change left the bill at (here: every change of
    # this poll leaves it passed-origin)
    assert [k for k, _ in got[floor]] == ["new-action", "new-action", "stage-change"]
    assert hearings not in got


def test_changes_before_a_subscription_began_are_not_routed_to_it(
    repo: Repository, config: Settings
) -> None:
    baseline_then_change(repo)  # changed at T0 + 1h
    early = add_subscriber(repo, "early@example.org")
    follow(repo, early, "bill:va/2020/HB 1", at=T0)
    late = add_subscriber(repo, "late@example.org", at=T0 + timedelta(hours=2))
    follow(repo, late, "bill:va/2020/HB 1", at=T0 + timedelta(hours=2))

    route(repo, config)

    assert {d.subscriber_id for d in deliveries(repo)} == {early}


def test_ended_subscriptions_receive_nothing(repo: Repository, config: Settings) -> None:
    baseline_then_change(repo)
    kim = add_subscriber(repo, "kim@example.org")
    subscription_id = follow(repo, kim, "jurisdiction:va")
    with repo.write() as session:
        assert store.end_subscriptions(session, subscriber_id=kim, ended_by="subscriber",
                                       now=T0, ids=[subscription_id]) == 1

    route(repo, config)

    assert deliveries(repo) == []


def test_an_unsubscribe_withdraws_what_was_routed_for_it_only(
    repo: Repository, config: Settings
) -> None:
    bill_id = baseline_then_change(repo)
    set_topics(repo, bill_id, {"hate-crimes": [("hate crime", "title")]})
    kim = add_subscriber(repo, "kim@example.org")
    state = follow(repo, kim, "jurisdiction:va")
    lee = add_subscriber(repo, "lee@example.org")
    follow(repo, lee, "jurisdiction:va")
    follow(repo, lee, "topic:hate-crimes")
    route(repo, config)

    with repo.write() as session:
        store.end_subscriptions(session, subscriber_id=kim, ended_by="subscriber", now=LATER,
                                ids=[state])
        lee_state = next(s.id for s in store.subscriptions_of(session, lee)
                         if s.target_kind == "jurisdiction")
        store.end_subscriptions(session, subscriber_id=lee, ended_by="subscriber", now=LATER,
                                ids=[lee_state])

    status = {(d.subscriber_id, d.status) for d in deliveries(repo)}
    assert status == {(kim, "withdrawn"), (lee, "pending")}  # lee still follows the topic


def test_batches_route_everything_and_leave_the_cursor_at_the_last_event(
    repo: Repository, config: Settings
) -> None:
    for number in range(1, 4):
        baseline_then_change(repo, f"HB {number}")
    follow(repo, add_subscriber(repo, "kim@example.org"), "jurisdiction:va")

    report = route(repo, config, batch_size=2)

    with repo.read() as session:
        last = max(e.id for e in repo.events(session, EventFilter()))
    assert report.deliveries == 6 and report.cursor == last
    assert len({d.event_id for d in deliveries(repo)}) == 6


def test_a_change_committed_late_below_the_cursor_is_still_routed(
    repo: Repository, config: Settings
) -> None:
    kim = add_subscriber(repo, "kim@example.org")
    follow(repo, kim, "jurisdiction:va")
    store_bill(repo, bill("HB 1", INTRO), at=T0 - timedelta(days=1), baseline=True)
    # Another router already moved the cursor past ids a slower transaction still holds.
    with repo.write() as session:
        store.lock_cursor(session, now=T0)
        store.advance_cursor(session, last_event_id=store.max_event_id(session) + 10, now=T0)
    store_bill(repo, bill("HB 1", INTRO, REFER), at=LATER - timedelta(minutes=5))
    store_bill(repo, bill("HB 2", INTRO), at=T0 - timedelta(days=1), baseline=True)
    store_bill(repo, bill("HB 2", INTRO, HEARING), at=LATER - timedelta(hours=2))

    report = route(repo, config)

    with repo.read() as session:
        late = [e for e in repo.events(session, EventFilter(bill="va/2020/HB 1"))
                if not e.baseline]
    # HB 1's change is within the window; HB 2's, two hours old, is beyond it (the window's
    # documented limit) and stays unrouted.
    assert {d.event_id for d in deliveries(repo)} == {e.id for e in late}
    assert report.late == len(late) == 2  # new-action, stage-change


def test_no_subscriptions_still_moves_the_cursor(repo: Repository, config: Settings) -> None:
    baseline_then_change(repo)

    report = route(repo, config)

    assert report.deliveries == 0 and report.cursor > 0
    with repo.read() as session:
        assert store.lock_cursor(session, now=LATER) == report.cursor


def test_plan_deliveries_compares_each_change_only_with_candidate_subscriptions() -> None:
    def sub(id_: int, subscriber: int, target: str) -> Subscription:
        return Subscription(id_, subscriber, SubscriptionSpec(parse_target(target)), True, T0)

    index = SubscriptionIndex([sub(1, 10, "bill:va/2020/HB 1"), sub(2, 10, "topic:hate-crimes"),
                               sub(3, 11, "jurisdiction:tx"), sub(4, 12, "topic:hate-crimes")])
    va = BillFacts(BillKey.parse("va/2020/HB 1"), Stage.INTRODUCED)
    change = RoutingInput(
        EventFacts(5, ChangeKind.NEW_ACTION, T0, False, {}), va,
        {"hate-crimes": (MatchedTerm("hate crime", "title"),)},
    )

    assert [s.id for s in index.candidates(va, ["hate-crimes"])] == [1, 2, 4]
    planned = plan_deliveries([change], index)
    assert [(d.subscriber_id, d.subscription_ids) for d in planned] == [(10, (1, 2)), (12, (4,))]
