"""What a digest says, as plain values: built from routed events, rendered by ``notifiers``.

A :class:`Digest` is everything one subscriber is told in one message: the changes since their
last digest, grouped by jurisdiction and topic, each bill with its stage, what changed, and
the reasons it reached them ("you are seeing this because ..."), plus a freshness line per
source. Every text from upstream (titles, action descriptions) is carried raw here and escaped
by the renderer; nothing here is markup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tracker.changes import ChangeKind
from tracker.errors import DigestConflict, InvalidSubscription
from tracker.models import ActionClass, Stage
from tracker.storage import subscriptions_repo as store
from tracker.storage.subscriptions_repo import (
    BillSummary,
    Coverage,
    PendingDelivery,
    SubscriberView,
    SubscriptionView,
)

if TYPE_CHECKING:
    # Modules low in the stack (tracker.topics, and through it the repository) import the
    # values below; the builders' heavier imports (health, the source registry) are made at
    # call time so that importing the values never runs into an import cycle.
    from sqlalchemy.orm import Session

    from tracker.settings import Settings
    from tracker.source import SourceFactory
    from tracker.storage.repository import Repository, RunView


class Language(StrEnum):
    EN = "en"
    KO = "ko"
    ES = "es"


class Frequency(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class TargetKind(StrEnum):
    BILL = "bill"
    TOPIC = "topic"
    JURISDICTION = "jurisdiction"


class DigestKind(StrEnum):
    DIGEST = "digest"  # a daily or weekly digest of changes
    ALERT = "alert"  # an instant alert for an advocacy moment
    WELCOME = "welcome"  # a new subscription's first message: the current state
    OPERATOR = "operator"  # a source-health alert for operators


@dataclass(frozen=True, slots=True)
class Recipient:
    subscriber_id: int
    email: str
    name: str
    language: Language
    timezone: str


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    term: str
    field: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an item reached the subscriber: which subscription, and for topics which terms."""

    subscription_id: int
    target_kind: TargetKind
    target: str
    topic: str | None = None
    matched: tuple[MatchedTerm, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """One change of one bill, as the digest tells it."""

    event_id: int
    kind: ChangeKind
    detected_at: datetime
    date: date | None = None
    text: str = ""
    from_stage: Stage | None = None
    to_stage: Stage | None = None
    url: str | None = None
    previous_text: str = ""  # a title change: the title before (``text`` is the new one)


@dataclass(frozen=True, slots=True)
class DigestItem:
    bill_key: str
    jurisdiction: str
    identifier: str
    title: str
    stage: Stage
    url: str | None
    changes: tuple[ChangeLine, ...]
    reasons: tuple[Reason, ...]
    topics: tuple[str, ...] = ()
    last_action_date: date | None = None  # the bill's latest action, for context (and
    last_action: str = ""  # the whole story in a welcome digest, whose items have no changes)


@dataclass(frozen=True, slots=True)
class DigestGroup:
    jurisdiction: str
    topic: str | None
    items: tuple[DigestItem, ...]


@dataclass(frozen=True, slots=True)
class Freshness:
    """One source's health as the digest footer states it."""

    source: str
    jurisdictions: tuple[str, ...]
    last_success: datetime | None
    failing_since: datetime | None
    healthy: bool


@dataclass(frozen=True, slots=True)
class Digest:
    """One message to one subscriber. ``digest_key`` is stable: it makes sending idempotent."""

    digest_key: str
    kind: DigestKind
    recipient: Recipient
    frequency: Frequency
    period_start: datetime | None
    period_end: datetime
    groups: tuple[DigestGroup, ...]
    event_ids: tuple[int, ...]
    freshness: tuple[Freshness, ...]
    total_items: int
    shown_items: int
    subscription_ids: tuple[int, ...]


# ================================================================================================
# Building digests from pending deliveries. Above: the shared values; below: the builders.
#
# due_digests(repo, settings=, now=) -> [Digest], for every active subscriber:
#
# * WELCOME: one per subscriber with subscriptions never welcomed (new, or reactivated): the
#   current state of what they follow, WELCOME_CAP most recently active bills per
#   subscription, ``total_items`` counting every distinct bill. Key welcome:{subscriber}:{hash of
#   the subscriptions and their active_since}, so a re-subscription is welcomed again.
# * ALERT (instant subscribers): as soon as an advocacy moment is pending (a hearing scheduled,
#   a floor passage, the executive's desk, signed or vetoed; see is_advocacy_moment), every
#   pending change of the bills that had one. Key alert:{subscriber}:{first}-{last event id}.
# * DIGEST: at the subscriber's local digest hour (daily; weekly on their weekday; instant
#   subscribers get a daily roundup of their changes that were no moment), the changes
#   detected up to that moment, once: a slot passed while the service was down is caught up
#   on the next call. Key daily|weekly:{subscriber}:{local slot, to the hour}. No change, no
#   digest.
#
# Items: one per bill, grouped by jurisdiction, then under the first topic (in the
# subscriber's subscription order) among the reasons it reached them; at most DIGEST_CAP
# shown (advocacy moments first), the rest counted. Nothing is marked until the sender calls
# mark_queued in the transaction that puts the message in the outbox.
# ================================================================================================

#: Stage changes an advocate acts on at once (an instant subscriber's alert).
ADVOCACY_STAGES: frozenset[Stage] = frozenset({
    Stage.PASSED_ORIGIN, Stage.PASSED_BOTH, Stage.TO_EXECUTIVE, Stage.ENACTED, Stage.VETOED,
    Stage.ADOPTED,
})  # fmt: skip
#: Action classes an advocate acts on at once: a hearing to testify at, a floor vote, the
#: governor's or president's desk.
ADVOCACY_ACTIONS: frozenset[ActionClass] = frozenset({
    ActionClass.HEARING_SCHEDULED, ActionClass.PASSAGE, ActionClass.EXECUTIVE_RECEIPT,
    ActionClass.EXECUTIVE_SIGNATURE, ActionClass.EXECUTIVE_VETO,
    ActionClass.EXECUTIVE_VETO_LINE_ITEM, ActionClass.BECAME_LAW,
})  # fmt: skip
#: Bills listed per subscription in a welcome digest (the most recently active ones).
WELCOME_CAP = 25
#: Bills shown in one digest or alert; the rest are counted in ``total_items``.
DIGEST_CAP = 100

_STAGE_VALUES = frozenset(s.value for s in ADVOCACY_STAGES)
_ACTION_VALUES = frozenset(a.value for a in ADVOCACY_ACTIONS)


def is_advocacy_moment(kind: str, details: Mapping[str, Any]) -> bool:
    """A change worth an instant alert: a stage change to one of :data:`ADVOCACY_STAGES`, or a
    new action classified as one of :data:`ADVOCACY_ACTIONS`."""
    if kind == ChangeKind.STAGE_CHANGE:
        return details.get("to") in _STAGE_VALUES
    if kind == ChangeKind.NEW_ACTION:
        return not _ACTION_VALUES.isdisjoint(details.get("classification") or ())
    return False


# --- stored JSON <-> values ----------------------------------------------------------------------


def reason_to_json(reason: Reason) -> dict[str, Any]:
    return {
        "subscription_id": reason.subscription_id,
        "target_kind": reason.target_kind.value,
        "target": reason.target,
        "topic": reason.topic,
        "matched": [{"term": m.term, "field": m.field} for m in reason.matched],
    }


def reason_from_json(data: Mapping[str, Any]) -> Reason:
    return Reason(
        subscription_id=int(data["subscription_id"]),
        target_kind=TargetKind(data["target_kind"]),
        target=str(data["target"]),
        topic=data.get("topic"),
        matched=tuple(MatchedTerm(m["term"], m["field"]) for m in data.get("matched") or ()),
    )


# --- when digests are due ------------------------------------------------------------------------


def latest_slot(
    *, now: datetime, timezone: str, hour: int, weekday: int | None = None
) -> datetime:
    """The most recent moment at or before ``now`` when the local clock in ``timezone`` showed
    ``hour``:00 (on ``weekday``, Monday being 0, when given), in UTC.

    Across DST the local hour is kept (7:00 is 12:00 UTC in winter and 11:00 in summer in New
    York). An hour the clock skips (2:00 on a spring-forward night) falls on the first instant
    after the gap; an hour it repeats counts once, at its first occurrence.
    """
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware UTC time")
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    for days_back in range(8):
        day = today - timedelta(days=days_back)
        if weekday is not None and day.weekday() != weekday:
            continue
        slot = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)
        if slot <= now:
            return slot
    raise AssertionError("unreachable: some day of the last eight had the slot")


def _scheduled_slot(subscriber: SubscriberView, *, now: datetime) -> datetime | None:
    """The slot of the scheduled digest due now, or None when the last one covered it.

    Weekly subscribers have one slot a week; daily and instant ones (whose changes that are
    not advocacy moments wait for this roundup) one a day. A slot missed while the service was
    down is still the latest slot on the next call, so its digest goes out once, then.
    """
    weekly = subscriber.frequency == Frequency.WEEKLY
    slot = latest_slot(now=now, timezone=subscriber.timezone, hour=subscriber.digest_hour,
                       weekday=subscriber.digest_weekday if weekly else None)
    if subscriber.last_digest_at is not None and subscriber.last_digest_at >= slot:
        return None
    return slot


def _slot_key(subscriber: SubscriberView, slot: datetime) -> str:
    period = "weekly" if subscriber.frequency == Frequency.WEEKLY else "daily"
    local = slot.astimezone(ZoneInfo(subscriber.timezone))
    return f"{period}:{subscriber.id}:{local:%Y-%m-%dT%H}"


# --- what each subscriber gets -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Routed:
    """A pending delivery and those of its subscriptions that still hold."""

    delivery: PendingDelivery
    live: frozenset[int]

    def reasons(self) -> Iterator[Reason]:
        # Decoded only for the items a digest shows: a digest may count thousands of changes.
        return (reason_from_json(r) for r in self.delivery.reasons
                if r["subscription_id"] in self.live)


@dataclass(frozen=True, slots=True)
class _Batch:
    """Deliveries that go out together, before they are turned into a Digest."""

    kind: DigestKind
    digest_key: str
    routed: tuple[_Routed, ...]
    period_start: datetime | None
    period_end: datetime


def _live(
    pending: Iterable[PendingDelivery], subscriptions: Mapping[int, SubscriptionView]
) -> list[_Routed]:
    """Keep the deliveries with a subscription that is active and was active when the change
    was seen (an unsubscribe, or a later re-subscription, drops what was routed before it)."""
    kept = []
    for delivery in pending:
        live = frozenset(
            i for i in delivery.subscription_ids
            if i in subscriptions and delivery.detected_at >= subscriptions[i].active_since
        )
        if live:
            kept.append(_Routed(delivery, live))
    return kept


def _plan(
    subscriber: SubscriberView, routed: Sequence[_Routed], *, now: datetime, preview: bool
) -> list[_Batch]:
    """The alert and scheduled digest due for one subscriber now.

    Instant subscribers get an alert as soon as an advocacy moment is pending; it carries every
    pending change of the bills that had one, so the moment comes with its context and nothing
    of those bills is told twice. Their other changes wait for the daily roundup at their
    digest hour, like a daily subscriber's. A scheduled digest covers the changes detected up to
    its slot; later ones wait for the next slot. With ``preview`` everything pending is shown
    as one digest when nothing is due.
    """
    batches: list[_Batch] = []
    rest = list(routed)
    if subscriber.frequency == Frequency.INSTANT:
        moments = {r.delivery.bill_id for r in rest
                   if is_advocacy_moment(r.delivery.kind, r.delivery.details)}
        alert = tuple(r for r in rest if r.delivery.bill_id in moments)
        if alert:
            first, last = alert[0].delivery.event_id, alert[-1].delivery.event_id
            batches.append(_Batch(
                DigestKind.ALERT, f"alert:{subscriber.id}:{first}-{last}", alert,
                period_start=min(r.delivery.detected_at for r in alert), period_end=now,
            ))
            rest = [r for r in rest if r.delivery.bill_id not in moments]
    slot = _scheduled_slot(subscriber, now=now)
    due = tuple(r for r in rest if slot is not None and r.delivery.detected_at <= slot)
    if slot is not None and due:
        batches.append(_Batch(DigestKind.DIGEST, _slot_key(subscriber, slot), due,
                              period_start=subscriber.last_digest_at, period_end=slot))
    elif preview and not batches and rest:
        local = now.astimezone(ZoneInfo(subscriber.timezone))
        batches.append(_Batch(DigestKind.DIGEST, f"preview:{subscriber.id}:{local:%Y-%m-%dT%H%M}",
                              tuple(rest), period_start=subscriber.last_digest_at,
                              period_end=now))
    return batches


# --- items and groups ----------------------------------------------------------------------------


def change_line(delivery: PendingDelivery) -> ChangeLine:
    """One stored change as the digest tells it (details as ``tracker.changes`` wrote them)."""
    details = delivery.details
    kind = ChangeKind(delivery.kind)
    line = ChangeLine(event_id=delivery.event_id, kind=kind, detected_at=delivery.detected_at)
    day = _date(details.get("date"))
    if kind in (ChangeKind.NEW_ACTION, ChangeKind.ACTION_REMOVED):
        return replace(line, date=day, text=str(details.get("description", "")))
    if kind is ChangeKind.STAGE_CHANGE:
        return replace(line, from_stage=_stage(details.get("from")),
                       to_stage=_stage(details.get("to")))
    if kind is ChangeKind.NEW_VERSION:
        return replace(line, date=day, text=str(details.get("name", "")), url=details.get("url"))
    if kind is ChangeKind.TITLE_CHANGE:
        return replace(line, text=str(details.get("to", "")),
                       previous_text=str(details.get("from", "")))
    return replace(line, date=_date(details.get("last_action_date")),
                   text=str(details.get("title", "")), to_stage=_stage(details.get("stage")))


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _stage(value: Any) -> Stage | None:
    return Stage(value) if value in {s.value for s in Stage} else None


def _bill_order(key: str) -> tuple[str, str, str, int]:
    """``va/2020/HB 10`` after ``va/2020/HB 9``: by jurisdiction, session, type, number."""
    jurisdiction, session, identifier = key.split("/", 2)
    letters, _, number = identifier.partition(" ")
    return (jurisdiction, session, letters, int(number) if number.isdigit() else 0)


def _merge_reasons(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """One reason per subscription, with every term that matched across the item's changes."""
    merged: dict[int, Reason] = {}
    for reason in reasons:
        seen = merged.get(reason.subscription_id)
        if seen is None:
            merged[reason.subscription_id] = reason
        else:
            terms = tuple(dict.fromkeys(seen.matched + reason.matched))
            merged[reason.subscription_id] = replace(seen, matched=terms)
    return tuple(merged[k] for k in sorted(merged))


def _ordered_topics(topics: Iterable[str], topic_order: Sequence[str]) -> tuple[str, ...]:
    rank = {topic: i for i, topic in enumerate(topic_order)}
    return tuple(sorted(set(topics), key=lambda t: (rank.get(t, len(rank)), t)))


#: Topic id -> the terms (with their fields) that made a bill match it.
BillTopics = Mapping[str, tuple[MatchedTerm, ...]]


def _topics_of(
    repo: Repository, session: Session, bill_ids: Iterable[int]
) -> dict[int, BillTopics]:
    found = repo.topic_matches(session, bill_ids=bill_ids)
    return {bill_id: {m.topic: m.matched for m in matches} for bill_id, matches in found.items()}


def _item(
    bill: BillSummary, topics: BillTopics, reasons: Iterable[Reason],
    changes: Sequence[ChangeLine], topic_order: Sequence[str],
) -> DigestItem:
    return DigestItem(
        bill_key=bill.key, jurisdiction=bill.jurisdiction, identifier=bill.identifier,
        title=bill.title, stage=Stage(bill.stage), url=bill.url,
        # Dated changes in date order (upstream order within a day), then stage and title.
        changes=tuple(sorted(changes, key=lambda c: (c.date is None, c.date or date.min))),
        reasons=_merge_reasons(reasons), topics=_ordered_topics(topics, topic_order),
        last_action_date=bill.last_action_date, last_action=bill.last_action,
    )


def group_items(items: Iterable[DigestItem], topic_order: Sequence[str]) -> tuple[DigestGroup, ...]:
    """Group by jurisdiction, then by topic: each item once, under the first of its reasons'
    topics in the subscriber's subscription order (items that came through a bill or a
    jurisdiction subscription only go in a group without a topic, after the topic groups)."""
    rank = {topic: i for i, topic in enumerate(topic_order)}
    groups: dict[tuple[str, str | None], list[DigestItem]] = {}
    for item in items:
        topics = sorted({r.topic for r in item.reasons if r.topic is not None},
                        key=lambda t: (rank.get(t, len(rank)), t))
        groups.setdefault((item.jurisdiction, topics[0] if topics else None), []).append(item)

    def order(key: tuple[str, str | None]) -> tuple[str, int, str]:
        jurisdiction, topic = key
        if topic is None:
            return (jurisdiction, len(rank) + 1, "")
        return (jurisdiction, rank.get(topic, len(rank)), topic)

    return tuple(
        DigestGroup(jurisdiction=key[0], topic=key[1],
                    items=tuple(sorted(groups[key], key=lambda i: _bill_order(i.bill_key))))
        for key in sorted(groups, key=order)
    )


def _by_bill(routed: Sequence[_Routed], *, cap: int) -> tuple[dict[int, list[_Routed]], list[int]]:
    """The deliveries per bill, and the (at most ``cap``) bills shown: those with an advocacy
    moment first, then the most recently changed."""
    by_bill: dict[int, list[_Routed]] = {}
    for r in routed:
        by_bill.setdefault(r.delivery.bill_id, []).append(r)

    def priority(bill_id: int) -> tuple[bool, int]:
        entries = by_bill[bill_id]
        moment = any(is_advocacy_moment(r.delivery.kind, r.delivery.details) for r in entries)
        return (moment, max(r.delivery.event_id for r in entries))

    return by_bill, sorted(by_bill, key=priority, reverse=True)[:cap]


def _coverage(subscription: SubscriptionView) -> Coverage:
    return Coverage(target_kind=subscription.target_kind, target=subscription.target,
                    within=subscription.jurisdictions, stages=subscription.stages)


def _welcome_reason(subscription: SubscriptionView, topics: BillTopics) -> Reason:
    kind = TargetKind(subscription.target_kind)
    if kind is TargetKind.TOPIC:
        return Reason(subscription.id, kind, subscription.target, topic=subscription.target,
                      matched=topics.get(subscription.target, ()))
    return Reason(subscription.id, kind, subscription.target)


def _welcome_key(subscriber: SubscriberView, subscriptions: Sequence[SubscriptionView]) -> str:
    # Stable for the same subscriptions, new when one is re-activated (its active_since moves).
    marks = ",".join(f"{s.id}@{s.active_since.isoformat()}" for s in subscriptions)
    return f"welcome:{subscriber.id}:{hashlib.sha256(marks.encode()).hexdigest()[:16]}"


# --- source freshness ----------------------------------------------------------------------------


def failing_since(runs: Sequence[RunView]) -> datetime | None:
    """When the current streak of failed polls began (runs newest first), None if the last
    finished poll succeeded. Polls that did not finish on their own are skipped."""
    from tracker.health import UNFINISHED

    since = None
    for run in runs:
        if run.status in UNFINISHED:
            continue
        if run.status != "failed":
            break
        since = run.started_at
    return since


def _freshness_pool(
    repo: Repository, session: Session, *, settings: Settings,
    registry: Mapping[str, SourceFactory], now: datetime,
) -> list[Freshness]:
    """A Freshness for every source that is enabled or was ever polled."""
    from tracker.health import source_statuses

    pool = []
    statuses = source_statuses(repo, session, settings=settings, registry=registry, now=now)
    for status in statuses:
        if not status.enabled and status.last_poll is None:
            continue
        runs = repo.runs(session, source=status.name, limit=200)
        pool.append(Freshness(
            source=status.name, jurisdictions=tuple(registry[status.name].info.jurisdictions),
            last_success=status.last_success, failing_since=failing_since(runs),
            healthy=status.healthy and status.enabled,
        ))
    return pool


def _jurisdictions(
    items: Iterable[DigestItem], subscriptions: Iterable[SubscriptionView]
) -> frozenset[str] | None:
    """The jurisdictions a digest speaks for (None: all, for a topic followed everywhere)."""
    codes = {item.jurisdiction for item in items}
    for s in subscriptions:
        if s.target_kind == TargetKind.TOPIC and not s.jurisdictions:
            return None
        codes.update(s.jurisdictions)
        codes.add(s.target.split("/", 1)[0] if s.target_kind == TargetKind.BILL else s.target)
    return frozenset(codes)


def _freshness_for(
    pool: Sequence[Freshness], jurisdictions: frozenset[str] | None
) -> tuple[Freshness, ...]:
    return tuple(f for f in pool if jurisdictions is None or jurisdictions & set(f.jurisdictions))


# --- the builders --------------------------------------------------------------------------------


def _recipient(subscriber: SubscriberView) -> Recipient:
    return Recipient(subscriber_id=subscriber.id, email=subscriber.email, name=subscriber.name,
                     language=Language(subscriber.language), timezone=subscriber.timezone)


#: Subscribers whose digests are built together: their pending deliveries, and the summaries
#: and topic matches of the bills their digests show, are read once per page.
PAGE_SIZE = 500

#: A digest built but for its freshness footer, with the jurisdictions that footer covers.
_Draft = tuple[Digest, frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class _Facts:
    """The bills of one page of digests, read together: summaries and topic matches."""

    bills: Mapping[int, BillSummary]
    topics: Mapping[int, BillTopics]


@dataclass(frozen=True, slots=True)
class _Follows:
    """One subscriber's active subscriptions, by id and in the order made (topic order)."""

    subscriber: SubscriberView
    subscriptions: tuple[SubscriptionView, ...]

    @property
    def by_id(self) -> dict[int, SubscriptionView]:
        return {s.id: s for s in self.subscriptions}

    @property
    def topic_order(self) -> list[str]:
        return [s.target for s in self.subscriptions if s.target_kind == TargetKind.TOPIC]


@dataclass(frozen=True, slots=True)
class _WelcomePlan:
    """A welcome digest before its bills are read: which bills each subscription lists."""

    follows: _Follows
    subscriptions: tuple[SubscriptionView, ...]  # the ones not welcomed yet
    listed: Mapping[int, list[int]]  # subscription id -> its bill ids shown
    total: int

    def bill_ids(self) -> set[int]:
        return {i for found in self.listed.values() for i in found}


@dataclass(frozen=True, slots=True)
class _BatchPlan:
    """An alert or scheduled digest before its bills are read."""

    follows: _Follows
    batch: _Batch
    by_bill: Mapping[int, list[_Routed]]
    shown: list[int]

    def bill_ids(self) -> set[int]:
        return set(self.shown)


_Plan = _WelcomePlan | _BatchPlan


def _pages(items: Sequence[SubscriberView], size: int) -> Iterator[Sequence[SubscriberView]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _build(
    repo: Repository, *, settings: Settings, now: datetime,
    registry: Mapping[str, SourceFactory] | None, email: str | None,
) -> list[Digest]:
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r}: pass an aware UTC time")
    from scrapers import REGISTRY

    sources = REGISTRY if registry is None else registry
    digests: list[Digest] = []
    with repo.read() as session:
        subscribers = [s for s in store.active_subscribers(session)
                       if email is None or s.email == email]
        followed: dict[int, list[SubscriptionView]] = {}
        for subscription in store.active_subscriptions(session):
            followed.setdefault(subscription.subscriber_id, []).append(subscription)
        pool: list[Freshness] | None = None
        for page in _pages(subscribers, PAGE_SIZE):
            follows = [_Follows(s, tuple(followed.get(s.id, ()))) for s in page]
            drafts = _page_drafts(repo, session, follows, now=now, preview=email is not None)
            if drafts and pool is None:
                pool = _freshness_pool(repo, session, settings=settings, registry=sources,
                                       now=now)
            digests.extend(replace(d, freshness=_freshness_for(pool or [], scope))
                           for d, scope in drafts)
    return digests


def _page_drafts(
    repo: Repository, session: Session, follows: Sequence[_Follows], *, now: datetime,
    preview: bool,
) -> list[_Draft]:
    """The digests due for one page of subscribers, in subscriber order (each one's welcome
    first), with a few queries for the whole page."""
    pending: dict[int, list[PendingDelivery]] = {}
    ids = [f.subscriber.id for f in follows]
    for delivery in store.pending_deliveries(session, subscriber_ids=ids):
        pending.setdefault(delivery.subscriber_id, []).append(delivery)
    plans = [plan for f in follows
             for plan in _plans(session, f, pending.get(f.subscriber.id, []), now=now,
                                preview=preview)]
    bill_ids = {i for plan in plans for i in plan.bill_ids()}
    facts = _Facts(bills=store.bill_summaries(session, bill_ids),
                   topics=_topics_of(repo, session, bill_ids))
    return [_welcome_draft(plan, facts, now=now) if isinstance(plan, _WelcomePlan)
            else _batch_draft(plan, facts) for plan in plans]


def _plans(
    session: Session, follows: _Follows, pending: Sequence[PendingDelivery], *, now: datetime,
    preview: bool,
) -> list[_Plan]:
    """What one subscriber gets now: a welcome for new subscriptions, then the batches."""
    plans: list[_Plan] = []
    unwelcomed = tuple(s for s in follows.subscriptions if s.welcomed_at is None)
    if unwelcomed:
        plans.append(_welcome_plan(session, follows, unwelcomed))
    routed = _live(pending, follows.by_id)
    for batch in _plan(follows.subscriber, routed, now=now, preview=preview):
        by_bill, shown = _by_bill(batch.routed, cap=DIGEST_CAP)
        plans.append(_BatchPlan(follows, batch, by_bill, shown))
    return plans


def _welcome_plan(
    session: Session, follows: _Follows, subscriptions: tuple[SubscriptionView, ...]
) -> _WelcomePlan:
    """Per new subscription its :data:`WELCOME_CAP` most recently active bills; ``total``
    counts every bill they cover together."""
    listed = {s.id: store.bills_under(session, _coverage(s), limit=WELCOME_CAP)
              for s in subscriptions}
    total = store.count_bills_under(session, [_coverage(s) for s in subscriptions])
    return _WelcomePlan(follows, subscriptions, listed, total)


def _welcome_draft(plan: _WelcomePlan, facts: _Facts, *, now: datetime) -> _Draft:
    """The current state of what these new subscriptions follow."""
    subscriber, topic_order = plan.follows.subscriber, plan.follows.topic_order
    reasons: dict[int, list[Reason]] = {}
    for subscription in plan.subscriptions:
        for bill_id in plan.listed[subscription.id]:
            reasons.setdefault(bill_id, []).append(
                _welcome_reason(subscription, facts.topics.get(bill_id, {}))
            )
    items = [_item(facts.bills[i], facts.topics.get(i, {}), reasons[i], (), topic_order)
             for i in reasons]
    digest = Digest(
        digest_key=_welcome_key(subscriber, plan.subscriptions), kind=DigestKind.WELCOME,
        recipient=_recipient(subscriber), frequency=Frequency(subscriber.frequency),
        period_start=None, period_end=now, groups=group_items(items, topic_order), event_ids=(),
        freshness=(), total_items=plan.total, shown_items=len(items),
        subscription_ids=tuple(s.id for s in plan.subscriptions),
    )
    return digest, _jurisdictions(items, plan.subscriptions)


def _batch_draft(plan: _BatchPlan, facts: _Facts) -> _Draft:
    subscriber, topic_order = plan.follows.subscriber, plan.follows.topic_order
    batch, by_bill = plan.batch, plan.by_bill
    items = [
        _item(facts.bills[bill_id], facts.topics.get(bill_id, {}),
              (reason for r in by_bill[bill_id] for reason in r.reasons()),
              [change_line(r.delivery) for r in by_bill[bill_id]], topic_order)
        for bill_id in plan.shown
    ]
    used = sorted({i for r in batch.routed for i in r.live})
    subscriptions = plan.follows.by_id
    digest = Digest(
        digest_key=batch.digest_key, kind=batch.kind, recipient=_recipient(subscriber),
        frequency=Frequency(subscriber.frequency), period_start=batch.period_start,
        period_end=batch.period_end, groups=group_items(items, topic_order),
        event_ids=tuple(sorted(r.delivery.event_id for r in batch.routed)), freshness=(),
        total_items=len(by_bill), shown_items=len(items), subscription_ids=tuple(used),
    )
    return digest, _jurisdictions(items, (subscriptions[i] for i in used))


def due_digests(
    repo: Repository, *, settings: Settings, now: datetime,
    registry: Mapping[str, SourceFactory] | None = None,
) -> list[Digest]:
    """Every digest due now, for every active subscriber: a welcome for new subscriptions, an
    instant subscriber's alert, a scheduled digest whose slot passed. Marks nothing: the
    sender calls :func:`mark_queued` for each digest it puts in the outbox. ``registry``
    (default: every registered source) says which sources' freshness the footers tell."""
    return _build(repo, settings=settings, now=now, registry=registry, email=None)


def preview_digest(
    repo: Repository, *, settings: Settings, email: str, now: datetime,
    registry: Mapping[str, SourceFactory] | None = None,
) -> Digest | None:
    """What would be sent to ``email`` now, marking nothing: the first digest due (welcome,
    alert, scheduled digest), else everything pending as one digest; None when nothing is
    pending. An address with no active subscriber is refused."""
    address = email.strip().lower()
    with repo.read() as session:
        subscriber = store.get_subscriber(session, address)
    if subscriber is None or not subscriber.active:
        raise InvalidSubscription(f"no active subscriber {address} (see: tracker subscriptions)")
    digests = _build(repo, settings=settings, now=now, registry=registry, email=address)
    return digests[0] if digests else None


def mark_queued(session: Session, digest: Digest, *, now: datetime) -> None:
    """Mark exactly this digest's deliveries queued under its key (and a welcome's subscriptions
    welcomed, a scheduled digest's subscriber digested at ``now``), in the caller's transaction.

    Call it in the transaction that puts the rendered message in the outbox. Raises
    :class:`~tracker.errors.DigestConflict` when some of it was queued meanwhile by another
    process; rolling back then leaves that other process's work as the one copy.
    """
    subscriber_id = digest.recipient.subscriber_id
    if digest.kind is DigestKind.WELCOME:
        wanted = len(set(digest.subscription_ids))
        done = store.mark_welcomed(session, subscription_ids=digest.subscription_ids, now=now)
        if done != wanted:
            raise DigestConflict(f"digest {digest.digest_key}: {wanted - done} of {wanted} "
                                 "subscriptions were welcomed already")
    wanted = len(set(digest.event_ids))
    done = store.mark_deliveries_queued(session, subscriber_id=subscriber_id,
                                        event_ids=digest.event_ids, digest_key=digest.digest_key)
    if done != wanted:
        raise DigestConflict(f"digest {digest.digest_key}: {wanted - done} of {wanted} "
                             "deliveries were queued already")
    if digest.kind is DigestKind.DIGEST:
        store.record_digest_sent(session, subscriber_id=subscriber_id, now=now)
