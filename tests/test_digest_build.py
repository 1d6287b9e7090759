"""Digest building on a real store: when digests are due (timezones, DST, catch-up after
downtime), instant alerts for advocacy moments, welcome digests, grouping, reasons, change
lines, source freshness, stable keys and marking each digest queued exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import tracker.digest
from tests.builders import INTRO, PASS, REFER, REPORT, action, bill
from tests.subscription_builders import (
    REGISTRY,
    T0,
    add_subscriber,
    deliveries,
    follow,
    set_topics,
    settings,
    store_bill,
)
from tracker.changes import ChangeKind
from tracker.digest import (
    Digest,
    DigestKind,
    Frequency,
    Freshness,
    MatchedTerm,
    Reason,
    TargetKind,
    due_digests,
    failing_since,
    latest_slot,
    mark_queued,
    preview_digest,
)
from tracker.errors import DigestConflict, InvalidSubscription
from tracker.models import ActionClass, Chamber, Stage
from tracker.records import ActionRecord, VersionRecord
from tracker.routing import route_new_events
from tracker.settings import Settings
from tracker.storage.repository import Repository


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- when ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "zone", "hour", "weekday", "slot"), [
    # New York in winter: 7:00 EST is 12:00 UTC
    ("2020-02-03 13:00", "America/New_York", 7, None, "2020-02-03 12:00"),
    ("2020-02-03 11:59", "America/New_York", 7, None, "2020-02-02 12:00"),
    # ... and in summer 7:00 EDT is 11:00 UTC
    ("2020-07-06 12:00", "America/New_York", 7, None, "2020-07-06 11:00"),
    # Seoul has no DST; its 7:00 is the evening before in UTC
    ("2020-02-02 22:30", "Asia/Seoul", 7, None, "2020-02-02 22:00"),
    # exactly at the slot counts
    ("2020-02-03 15:00", "America/Los_Angeles", 7, None, "2020-02-03 15:00"),
    # spring forward (2020-03-08): 7:00 is already EDT; 2:00 does not exist -> 3:00 EDT
    ("2020-03-08 12:00", "America/New_York", 7, None, "2020-03-08 11:00"),
    ("2020-03-07 12:30", "America/New_York", 7, None, "2020-03-07 12:00"),
    ("2020-03-08 12:00", "America/New_York", 2, None, "2020-03-08 07:00"),
    # fall back (2020-11-01): 1:00 happens twice; the first (EDT) counts
    ("2020-11-01 12:00", "America/New_York", 1, None, "2020-11-01 05:00"),
    # weekly: Friday 16:00 in Chicago, asked on Monday
    ("2020-02-03 14:00", "America/Chicago", 16, 4, "2020-01-31 22:00"),
    ("2020-02-07 22:00", "America/Chicago", 16, 4, "2020-02-07 22:00"),
])  # fmt: skip
def test_latest_slot(now: str, zone: str, hour: int, weekday: int | None, slot: str) -> None:
    assert latest_slot(now=at(now), timezone=zone, hour=hour, weekday=weekday) == at(slot)


def test_latest_slot_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        latest_slot(now=datetime(2020, 2, 3, 12), timezone="UTC", hour=7)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    return settings(tmp_path)


def due(repo: Repository, config: Settings, now: datetime) -> list[Digest]:
    return due_digests(repo, settings=config, now=now, registry=REGISTRY)


def changes(repo: Repository, config: Settings, now: datetime) -> list[Digest]:
    """Route, then the alerts and scheduled digests due (welcomes are queued out of the way)."""
    route_new_events(repo, settings=config, now=now)
    found = due(repo, config, now)
    queue(repo, [d for d in found if d.kind is DigestKind.WELCOME], now)
    return [d for d in found if d.kind is not DigestKind.WELCOME]


def queue(repo: Repository, digests: list[Digest], now: datetime) -> None:
    """What the sender does: mark each digest queued, one transaction each."""
    for digest in digests:
        with repo.write() as session:
            mark_queued(session, digest, now=now)


def keys(digests: list[Digest]) -> list[str]:
    return [d.digest_key for d in digests]


def items(digest: Digest) -> list[str]:
    return [item.bill_key for group in digest.groups for item in group.items]


def changed(repo: Repository, identifier: str, *actions: ActionRecord, when: datetime,
            versions: tuple[VersionRecord, ...] = (), jurisdiction: str = "va",
            session: str = "2020") -> int:
    """``identifier`` baselined a week before ``when`` (just introduced), then changed at
    ``when`` (``actions`` and ``versions`` new)."""
    store_bill(repo, bill(identifier, INTRO, jurisdiction=jurisdiction, session=session),
               at=when - timedelta(days=7), baseline=True)
    return store_bill(repo, bill(identifier, INTRO, *actions, jurisdiction=jurisdiction,
                                 session=session, versions=versions), at=when)


EARLY = T0 - timedelta(days=30)


# --- daily and weekly digests ----------------------------------------------------------------


def test_daily_digests_come_at_each_subscribers_local_hour_across_dst(
    repo: Repository, config: Settings
) -> None:
    new_york = add_subscriber(repo, "ny@example.org", timezone="America/New_York", at=EARLY)
    seoul = add_subscriber(repo, "seoul@example.org", timezone="Asia/Seoul", at=EARLY)
    for subscriber in (new_york, seoul):
        follow(repo, subscriber, "jurisdiction:va", at=EARLY)
    changed(repo, "HB 1", REFER, when=at("2020-03-07 20:00"))  # after Saturday's 7:00 EST

    assert changes(repo, config, at("2020-03-07 21:59")) == []  # 6:59 in Seoul
    in_seoul = changes(repo, config, at("2020-03-07 22:00"))
    assert keys(in_seoul) == [f"daily:{seoul}:2020-03-08T07"]
    queue(repo, in_seoul, at("2020-03-07 22:00"))
    # New York sprang forward at 2:00: Sunday's 7:00 is 11:00 UTC, not 12:00
    assert changes(repo, config, at("2020-03-08 10:59")) == []
    in_new_york = changes(repo, config, at("2020-03-08 11:00"))
    assert keys(in_new_york) == [f"daily:{new_york}:2020-03-08T07"]
    digest = in_new_york[0]
    assert digest.kind is DigestKind.DIGEST and digest.frequency is Frequency.DAILY
    assert digest.period_end == at("2020-03-08 11:00") and digest.period_start is None
    assert items(digest) == ["va/2020/HB 1"]


def test_a_digest_missed_while_down_is_sent_once_on_the_next_call(
    repo: Repository, config: Settings
) -> None:
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    follow(repo, kim, "jurisdiction:va", at=EARLY)
    changed(repo, "HB 1", REFER, when=at("2020-02-03 15:00"))  # Monday 10:00 EST
    route_new_events(repo, settings=config, now=at("2020-02-03 15:00"))
    queue(repo, due(repo, config, at("2020-02-03 15:00")), at("2020-02-03 15:00"))  # welcome

    # down from Monday afternoon to Wednesday afternoon: two 7:00 slots missed
    back = at("2020-02-05 16:00")
    first = changes(repo, config, back)
    assert keys(first) == [f"daily:{kim}:2020-02-05T07"]
    queue(repo, first, back)
    assert changes(repo, config, back + timedelta(minutes=5)) == []

    # a change after the slot waits for the next one
    changed(repo, "HB 2", REFER, when=back + timedelta(minutes=10))
    assert changes(repo, config, back + timedelta(minutes=20)) == []
    thursday = changes(repo, config, at("2020-02-06 12:00"))
    assert keys(thursday) == [f"daily:{kim}:2020-02-06T07"]
    assert items(thursday[0]) == ["va/2020/HB 2"]
    assert thursday[0].period_start == back


def test_weekly_digests_come_on_their_weekday(repo: Repository, config: Settings) -> None:
    ana = add_subscriber(repo, "ana@example.org", frequency=Frequency.WEEKLY,
                         timezone="America/Chicago", hour=16, weekday=4, at=EARLY)
    follow(repo, ana, "jurisdiction:va", at=EARLY)
    changed(repo, "HB 1", REFER, when=at("2020-02-03 15:00"))  # Monday

    assert changes(repo, config, at("2020-02-06 23:00")) == []  # Thursday evening
    assert changes(repo, config, at("2020-02-07 21:59")) == []  # Friday 15:59 in Chicago
    friday = changes(repo, config, at("2020-02-07 22:00"))
    assert keys(friday) == [f"weekly:{ana}:2020-02-07T16"]
    assert friday[0].frequency is Frequency.WEEKLY


def test_nothing_pending_means_no_digest(repo: Repository, config: Settings) -> None:
    follow(repo, add_subscriber(repo, "kim@example.org", at=EARLY), "jurisdiction:va", at=EARLY)
    assert changes(repo, config, at("2020-02-04 12:00")) == []


# --- instant alerts ----------------------------------------------------------------------------

HEARING = action("2020-02-04", "Assigned to Courts sub: Civil Law (public hearing Feb 6)",
                 ActionClass.HEARING_SCHEDULED)
SIGNED = action("2020-03-10", "Approved by Governor-Chapter 12", ActionClass.EXECUTIVE_SIGNATURE,
                actor=Chamber.EXECUTIVE)


def test_instant_subscribers_get_an_alert_per_advocacy_moment_and_a_roundup_of_the_rest(
    repo: Repository, config: Settings
) -> None:
    sun = add_subscriber(repo, "sun@example.org", frequency=Frequency.INSTANT, hour=8, at=EARLY)
    follow(repo, sun, "jurisdiction:va", at=EARLY)
    when = at("2020-02-04 15:00")
    changed(repo, "HB 1", REFER, when=when)  # referral only: no moment
    engrossed = (VersionRecord("Engrossed", date(2020, 2, 4), "https://lis.test/hb2e"),)
    changed(repo, "HB 2", REFER, REPORT, PASS, when=when, versions=engrossed)
    changed(repo, "HB 3", REFER, HEARING, when=when)

    alerts = changes(repo, config, when + timedelta(minutes=1))

    assert [d.kind for d in alerts] == [DigestKind.ALERT]
    alert = alerts[0]
    assert items(alert) == ["va/2020/HB 2", "va/2020/HB 3"]
    hb2 = alert.groups[0].items[0]
    # the moment comes with the bill's other changes of the poll, the new version included
    assert [c.kind for c in hb2.changes] == [
        ChangeKind.NEW_ACTION, ChangeKind.NEW_ACTION, ChangeKind.NEW_ACTION,
        ChangeKind.NEW_VERSION, ChangeKind.STAGE_CHANGE,
    ]
    assert alert.digest_key == f"alert:{sun}:{alert.event_ids[0]}-{alert.event_ids[-1]}"
    queue(repo, alerts, when + timedelta(minutes=1))
    assert changes(repo, config, when + timedelta(minutes=2)) == []

    # a signature later the same day is its own alert
    store_bill(repo, bill("HB 2", INTRO, REFER, REPORT, PASS, SIGNED, versions=engrossed),
               at=when + timedelta(hours=2))
    signed = changes(repo, config, when + timedelta(hours=2, minutes=1))
    assert [d.kind for d in signed] == [DigestKind.ALERT]
    assert [c.to_stage for c in signed[0].groups[0].items[0].changes if c.to_stage] == [
        Stage.ENACTED]
    queue(repo, signed, when + timedelta(hours=2, minutes=1))

    # HB 1's referral waits for the next 8:00 roundup
    roundup = changes(repo, config, at("2020-02-05 13:00"))
    assert keys(roundup) == [f"daily:{sun}:2020-02-05T08"]
    assert items(roundup[0]) == ["va/2020/HB 1"]


# --- welcome digests ---------------------------------------------------------------------------


def test_a_new_subscription_is_welcomed_with_the_current_state_capped_with_the_total(
    repo: Repository, config: Settings
) -> None:
    for number in range(1, 31):
        day = (date(2020, 1, 8) + timedelta(days=number)).isoformat()
        store_bill(repo, bill(f"HB {number}", action(day, f"Step {number}",
                                                     ActionClass.INTRODUCTION)),
                   at=T0 - timedelta(days=1), baseline=True)
    kim = add_subscriber(repo, "kim@example.org")
    subscription = follow(repo, kim, "jurisdiction:va")

    found = due(repo, config, T0)

    assert [d.kind for d in found] == [DigestKind.WELCOME]
    welcome = found[0]
    assert (welcome.total_items, welcome.shown_items) == (30, 25)
    # the 25 most recently active, shown in bill order
    assert items(welcome) == [f"va/2020/HB {n}" for n in range(6, 31)]
    first = welcome.groups[0].items[0]
    assert (first.changes, first.stage, first.last_action) == ((), Stage.INTRODUCED, "Step 6")
    assert first.last_action_date == date(2020, 1, 14)
    assert first.reasons == (Reason(subscription, TargetKind.JURISDICTION, "va"),)
    assert welcome.subscription_ids == (subscription,) and welcome.event_ids == ()
    assert welcome.digest_key == due(repo, config, T0 + timedelta(hours=1))[0].digest_key

    queue(repo, found, T0)
    assert due(repo, config, T0 + timedelta(hours=1)) == []


def test_one_welcome_covers_every_new_subscription_counting_each_bill_once(
    repo: Repository, config: Settings
) -> None:
    hb1 = store_bill(repo, bill("HB 1", INTRO, title="Driver privilege cards"), at=T0,
                     baseline=True)
    store_bill(repo, bill("HB 2", INTRO, REFER), at=T0, baseline=True)
    store_bill(repo, bill("HR 1", INTRO, jurisdiction="us", session="116"), at=T0,
               baseline=True)
    set_topics(repo, hb1, {"drivers-licenses": [("driver privilege card", "title")]})
    kim = add_subscriber(repo, "kim@example.org")
    by_topic = follow(repo, kim, "topic:drivers-licenses", within=["va"])
    by_bill = follow(repo, kim, "bill:va/2020/HB 1")
    follow(repo, kim, "jurisdiction:va", stages=["in-committee"])

    (welcome,) = due(repo, config, T0 + timedelta(minutes=1))

    assert welcome.total_items == welcome.shown_items == 2  # HB 1 twice, HB 2 once
    assert [(g.jurisdiction, g.topic) for g in welcome.groups] == [
        ("va", "drivers-licenses"), ("va", None)]
    hb1_item = welcome.groups[0].items[0]
    assert hb1_item.reasons == (
        Reason(by_topic, TargetKind.TOPIC, "drivers-licenses", topic="drivers-licenses",
               matched=(MatchedTerm("driver privilege card", "title"),)),
        Reason(by_bill, TargetKind.BILL, "va/2020/HB 1"),
    )
    assert items(welcome) == ["va/2020/HB 1", "va/2020/HB 2"]

    # a re-subscription after an unsubscribe is welcomed again, under a new key
    queue(repo, [welcome], T0 + timedelta(minutes=1))
    from tracker.storage import subscriptions_repo as store

    with repo.write() as session:
        store.end_subscriptions(session, subscriber_id=kim, ended_by="subscriber",
                                now=T0 + timedelta(hours=1), ids=[by_bill])
    follow(repo, kim, "bill:va/2020/HB 1", at=T0 + timedelta(hours=2))
    (again,) = due(repo, config, T0 + timedelta(hours=2))
    assert again.kind is DigestKind.WELCOME and again.digest_key != welcome.digest_key
    assert again.subscription_ids == (by_bill,)


# --- content -----------------------------------------------------------------------------------


def test_items_are_grouped_by_jurisdiction_and_topic_each_bill_once(
    repo: Repository, config: Settings
) -> None:
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    language = follow(repo, kim, "topic:language-access", at=EARLY)
    hate = follow(repo, kim, "topic:hate-crimes", at=EARLY)
    state = follow(repo, kim, "jurisdiction:va", at=EARLY)
    follow(repo, kim, "bill:us/116/HR 1", at=EARLY)
    when = at("2020-02-03 15:00")
    both = changed(repo, "HB 1", REFER, when=when)
    set_topics(repo, both, {"hate-crimes": [("hate crime", "title")],
                            "language-access": [("language assistance", "summary")]})
    only_hate = changed(repo, "HB 2", REFER, when=when)
    set_topics(repo, only_hate, {"hate-crimes": [("bias crime", "title")]})
    changed(repo, "HB 10", REFER, when=when)
    changed(repo, "HR 1", REFER, when=when, jurisdiction="us", session="116")

    (digest,) = changes(repo, config, at("2020-02-04 12:00"))

    assert [(g.jurisdiction, g.topic, [i.identifier for i in g.items]) for g in digest.groups] == [
        ("us", None, ["HR 1"]),
        ("va", "language-access", ["HB 1"]),
        ("va", "hate-crimes", ["HB 2"]),
        ("va", None, ["HB 10"]),
    ]
    hb1 = digest.groups[1].items[0]
    assert hb1.topics == ("language-access", "hate-crimes")
    assert [(r.subscription_id, r.topic) for r in hb1.reasons] == [
        (language, "language-access"), (hate, "hate-crimes"), (state, None)]
    assert hb1.reasons[0].matched == (MatchedTerm("language assistance", "summary"),)
    assert (digest.total_items, digest.shown_items) == (4, 4)
    assert hb1.title == "A bill" and hb1.stage is Stage.IN_COMMITTEE


def test_change_lines_say_what_changed(repo: Repository, config: Settings) -> None:
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    follow(repo, kim, "jurisdiction:va", at=EARLY)
    typo = action("2020-01-21", "Reported from Trasnportation", ActionClass.COMMITTEE_PASSAGE)
    introduced = (VersionRecord("Introduced", date(2020, 1, 8), "https://lis.test/hb1"),)
    store_bill(repo, bill("HB 1", INTRO, REFER, typo, title="Driver privilege card",
                          versions=introduced), at=T0 - timedelta(days=3), baseline=True)
    substitute = (
        *introduced,
        VersionRecord("Committee Substitute", date(2020, 1, 21), "https://lis.test/hb1s"),
    )
    store_bill(repo, bill("HB 1", INTRO, REFER, REPORT, title="Driver privilege cards; fees",
                          versions=substitute), at=T0)

    (digest,) = changes(repo, config, at("2020-02-04 12:00"))

    lines = {c.kind: c for c in digest.groups[0].items[0].changes}
    assert (lines[ChangeKind.TITLE_CHANGE].text,
            lines[ChangeKind.TITLE_CHANGE].previous_text) == (
        "Driver privilege cards; fees", "Driver privilege card")
    assert (lines[ChangeKind.ACTION_REMOVED].date,
            lines[ChangeKind.ACTION_REMOVED].text) == (date(2020, 1, 21),
                                                       "Reported from Trasnportation")
    assert (lines[ChangeKind.NEW_ACTION].date, lines[ChangeKind.NEW_ACTION].text) == (
        date(2020, 1, 21), "Reported from Transportation (14-Y 8-N)")
    assert (lines[ChangeKind.NEW_VERSION].text, lines[ChangeKind.NEW_VERSION].url) == (
        "Committee Substitute", "https://lis.test/hb1s")
    assert ChangeKind.STAGE_CHANGE not in lines  # the corrected row kept the stage


def test_a_capped_digest_keeps_the_moments_and_counts_the_rest(
    repo: Repository, config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker.digest, "DIGEST_CAP", 2)
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    follow(repo, kim, "jurisdiction:va", at=EARLY)
    when = at("2020-02-03 15:00")
    changed(repo, "HB 1", REFER, REPORT, PASS, when=when)
    for number in range(2, 6):
        changed(repo, f"HB {number}", REFER, when=when + timedelta(minutes=number))

    (digest,) = changes(repo, config, at("2020-02-04 12:00"))

    assert (digest.total_items, digest.shown_items) == (5, 2)
    assert items(digest) == ["va/2020/HB 1", "va/2020/HB 5"]  # the passage, the latest
    assert len(digest.event_ids) == 4 + 4 * 2  # every change of the five bills, shown or not
    queue(repo, [digest], at("2020-02-04 12:00"))
    assert {d.status for d in deliveries(repo)} == {"queued"}


# --- freshness ---------------------------------------------------------------------------------


def record_run(repo: Repository, source: str, started: datetime, status: str) -> None:
    with repo.write() as session:
        run_id = repo.start_run(session, source=source, now=started)
        repo.finish_run(session, run_id, status=status, counts={}, failures=[],
                        error="HTTP 503" if status == "failed" else None,
                        now=started + timedelta(minutes=1))


@pytest.mark.parametrize(("max_failures", "healthy"), [(3, True), (2, False)])
def test_freshness_lines_come_from_the_recorded_polls(
    repo: Repository, tmp_path: Path, max_failures: int, healthy: bool
) -> None:
    config = settings(tmp_path, max_failures=max_failures)
    record_run(repo, "test-va", T0 - timedelta(days=3), "ok")
    record_run(repo, "test-va", T0 - timedelta(days=2), "failed")
    record_run(repo, "test-va", T0 - timedelta(days=1, hours=12), "running")  # killed: skipped
    record_run(repo, "test-va", T0 - timedelta(days=1), "failed")
    record_run(repo, "test-us", T0 - timedelta(hours=1), "ok")
    virginia = add_subscriber(repo, "va@example.org")
    follow(repo, virginia, "topic:hate-crimes", within=["va"])
    everywhere = add_subscriber(repo, "all@example.org")
    follow(repo, everywhere, "topic:hate-crimes")

    by_recipient = {d.recipient.email: d.freshness for d in due(repo, config, T0)}

    va_line = Freshness(source="test-va", jurisdictions=("va",),
                        last_success=T0 - timedelta(days=3),
                        failing_since=T0 - timedelta(days=2), healthy=healthy)
    us_line = Freshness(source="test-us", jurisdictions=("us",),
                        last_success=T0 - timedelta(hours=1), failing_since=None, healthy=True)
    assert by_recipient["va@example.org"] == (va_line,)
    assert by_recipient["all@example.org"] == (us_line, va_line)  # by source name


def test_failing_since_is_the_start_of_the_current_streak() -> None:
    from tracker.storage.repository import RunView

    def run(hours: int, status: str) -> RunView:
        return RunView(id=hours, source="s", started_at=T0 - timedelta(hours=hours),
                       finished_at=None, status=status, error=None, counts={})

    assert failing_since([run(1, "failed"), run(2, "stopped"), run(3, "failed"),
                          run(4, "ok"), run(5, "failed")]) == T0 - timedelta(hours=3)
    assert failing_since([run(1, "partial"), run(2, "failed")]) is None
    assert failing_since([]) is None


# --- keys and marking --------------------------------------------------------------------------


def test_digest_keys_are_stable_and_each_digest_is_queued_exactly_once(
    repo: Repository, config: Settings
) -> None:
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    follow(repo, kim, "jurisdiction:va", at=EARLY)
    changed(repo, "HB 1", REFER, when=at("2020-02-03 15:00"))
    now = at("2020-02-04 12:30")
    built = changes(repo, config, now)
    rebuilt = changes(repo, config, now + timedelta(minutes=5))
    assert keys(built) == keys(rebuilt) == [f"daily:{kim}:2020-02-04T07"]
    assert built[0].event_ids == rebuilt[0].event_ids

    queue(repo, built, now)
    assert {(d.status, d.digest_key) for d in deliveries(repo)} == {
        ("queued", f"daily:{kim}:2020-02-04T07")}
    with pytest.raises(DigestConflict, match="2 of 2 deliveries were queued already"), \
            repo.write() as session:
        mark_queued(session, rebuilt[0], now=now)
    assert changes(repo, config, now + timedelta(minutes=10)) == []


def test_preview_shows_what_is_pending_and_marks_nothing(
    repo: Repository, config: Settings
) -> None:
    kim = add_subscriber(repo, "kim@example.org", at=EARLY)
    follow(repo, kim, "jurisdiction:va", at=EARLY)
    queue(repo, due(repo, config, EARLY), EARLY)  # the welcome
    assert preview_digest(repo, settings=config, email="Kim@Example.org", now=T0,
                          registry=REGISTRY) is None
    changed(repo, "HB 1", REFER, when=at("2020-02-03 15:00"))
    route_new_events(repo, settings=config, now=at("2020-02-03 15:00"))

    before_slot = at("2020-02-03 16:00")
    preview = preview_digest(repo, settings=config, email="kim@example.org", now=before_slot,
                             registry=REGISTRY)

    assert preview is not None and items(preview) == ["va/2020/HB 1"]
    assert preview.digest_key.startswith(f"preview:{kim}:")
    assert {d.status for d in deliveries(repo)} == {"pending"}
    assert due(repo, config, before_slot) == []  # not due yet: preview only
    with pytest.raises(InvalidSubscription, match=r"no active subscriber nobody@example\.org"):
        preview_digest(repo, settings=config, email="nobody@example.org", now=T0,
                       registry=REGISTRY)


def test_aware_times_only(repo: Repository, config: Settings) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        due(repo, config, datetime(2020, 2, 3, 12))
