"""route_new_events: turn new changes into pending deliveries, each change once per subscriber.

For every change in the event log not routed yet, and every active subscriber, the subscriber
gets ONE delivery row (event, subscriber) when any of their active subscriptions matches
(:func:`tracker.subscriptions.matches`), carrying every matching subscription and its reason;
however many subscriptions cover a change, it reaches each subscriber at most once. Baseline
changes (a session's first poll) reach no one.

How it stays exactly-once and misses nothing:

* a cursor (``routing_cursor``: the highest event id routed) is read under a row lock and
  advanced in the same transaction as the deliveries it produced, one batch of events at a
  time: a crash loses no delivery and routes no batch twice;
* the unique key (event, subscriber) makes any re-run a no-op (inserts ignore pairs that exist);
* event ids come from a sequence, and on PostgreSQL a slow transaction can commit an event
  with a lower id after higher ones were routed. So each run also re-examines the changes
  detected in the last :data:`LATE_COMMIT_WINDOW` at or below the cursor; the unique key makes
  that free of duplicates. The same re-check covers a subscription committed while a run was
  routing changes it should see.

Efficiency: active subscriptions are loaded once per run and indexed by target (bill key,
topic, jurisdiction), so each change is compared with the few subscriptions that can match
it; topic matches are read once per batch (``Repository.topic_matches``); deliveries are
inserted in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tracker.changes import ChangeKind
from tracker.digest import Reason, TargetKind, reason_to_json
from tracker.models import BillKey, Stage
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.storage.subscriptions_repo import NewDelivery, RoutableEvent, SubscriptionView
from tracker.subscriptions import (
    BillFacts,
    EventFacts,
    Subscription,
    SubscriptionSpec,
    Target,
    TopicMatches,
    matches,
)
from tracker.topics import TopicMatch

#: How far back each run re-checks changes at or below the cursor (see the module docstring).
LATE_COMMIT_WINDOW = timedelta(hours=1)
#: Events routed per transaction.
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class RoutingReport:
    """What one routing run did."""

    events: int  # changes examined (new ones, plus recent ones re-checked)
    deliveries: int  # deliveries created
    subscribers: int  # distinct subscribers who got at least one
    cursor: int  # the highest event id routed, after the run
    late: int = 0  # of the deliveries, those for changes found below the cursor

    def summary_line(self) -> str:
        text = (f"routed {self.events} changes: {self.deliveries} deliveries to "
                f"{self.subscribers} subscribers; cursor at event {self.cursor}")
        if self.late:
            text += f" ({self.late} for changes committed late)"
        return text


def subscription_from_view(view: SubscriptionView) -> Subscription:
    """The routing value of a stored subscription (stored values are canonical already)."""
    return Subscription(
        id=view.id,
        subscriber_id=view.subscriber_id,
        spec=SubscriptionSpec(
            target=Target(TargetKind(view.target_kind), view.target),
            within=view.jurisdictions,
            kinds=tuple(ChangeKind(k) for k in view.kinds),
            stages=tuple(Stage(s) for s in view.stages),
        ),
        active=view.active,
        active_since=view.active_since,
    )


class SubscriptionIndex:
    """Active subscriptions by target, so a change is compared only with those that may match."""

    def __init__(self, subscriptions: Iterable[Subscription]) -> None:
        self._by_target: dict[tuple[TargetKind, str], list[Subscription]] = {}
        for subscription in subscriptions:
            target = subscription.spec.target
            self._by_target.setdefault((target.kind, target.value), []).append(subscription)

    def __len__(self) -> int:
        return sum(len(s) for s in self._by_target.values())

    def candidates(self, bill: BillFacts, topics: Iterable[str]) -> list[Subscription]:
        """Subscriptions that follow this bill, its jurisdiction, or one of its topics."""
        keys = [(TargetKind.BILL, str(bill.key)), (TargetKind.JURISDICTION, bill.key.jurisdiction)]
        keys += [(TargetKind.TOPIC, topic) for topic in topics]
        return [s for key in keys for s in self._by_target.get(key, ())]


@dataclass(frozen=True, slots=True)
class RoutingInput:
    """One change with what matching needs: the bill's facts and its topic matches."""

    event: EventFacts
    bill: BillFacts
    topics: TopicMatches


def plan_deliveries(
    changes: Iterable[RoutingInput], index: SubscriptionIndex
) -> list[NewDelivery]:
    """One delivery per (change, subscriber) with a matching subscription, with all the
    subscriber's matching subscriptions and reasons, in subscription order. Pure."""
    planned = []
    for change in changes:
        reasons: dict[int, list[Reason]] = {}
        for subscription in index.candidates(change.bill, change.topics):
            reason = matches(subscription, change.event, change.bill, change.topics)
            if reason is not None:
                reasons.setdefault(subscription.subscriber_id, []).append(reason)
        for subscriber_id in sorted(reasons):
            found = sorted(reasons[subscriber_id], key=lambda r: r.subscription_id)
            planned.append(NewDelivery(
                event_id=change.event.id, subscriber_id=subscriber_id,
                subscription_ids=tuple(r.subscription_id for r in found),
                reasons=tuple(reason_to_json(r) for r in found),
            ))
    return planned


def _inputs(
    events: Sequence[RoutableEvent], topics: Mapping[int, Sequence[TopicMatch]]
) -> list[RoutingInput]:
    return [
        RoutingInput(
            event=EventFacts(id=e.id, kind=ChangeKind(e.kind), detected_at=e.detected_at,
                             baseline=e.baseline, details=e.details),
            bill=BillFacts(key=BillKey.parse(e.bill_key), stage=Stage(e.bill_stage)),
            topics={m.topic: m.matched for m in topics.get(e.bill_id, ())},
        )
        for e in events
    ]


def _route(
    repo: Repository, session: Session, events: Sequence[RoutableEvent],
    index: SubscriptionIndex, *, now: datetime,
) -> list[NewDelivery]:
    """Plan and insert the deliveries of ``events``; returns the ones that were new."""
    if not events or not len(index):
        return []
    topics = repo.topic_matches(session, bill_ids={e.bill_id for e in events})
    planned = plan_deliveries(_inputs(events, topics), index)
    if not planned:
        return []
    existing = store.existing_deliveries(session, {d.event_id for d in planned})
    new = [d for d in planned if (d.event_id, d.subscriber_id) not in existing]
    store.insert_deliveries(session, new, now=now)
    return new


def route_new_events(
    repo: Repository, *, settings: Settings, now: datetime, batch_size: int = BATCH_SIZE,
    late_window: timedelta = LATE_COMMIT_WINDOW,
) -> RoutingReport:
    """Route every change not routed yet (see the module docstring); safe to run any time,
    from several processes at once, and again after a crash.

    ``settings`` is taken like every service step takes it (the scheduler and ``tracker
    digest --send`` call them alike); routing reads only the database.
    """
    examined = 0
    created: list[NewDelivery] = []
    with repo.write() as session:
        cursor = store.lock_cursor(session, now=now)
        index = SubscriptionIndex(
            subscription_from_view(v) for v in store.active_subscriptions(session)
        )
        late = store.late_events(session, up_to_id=cursor, detected_since=now - late_window)
        examined += len(late)
        created += _route(repo, session, late, index, now=now)
    late_count = len(created)
    while True:
        with repo.write() as session:
            cursor = store.lock_cursor(session, now=now)
            newest = store.max_event_id(session)
            events = store.events_after(session, after_id=cursor, up_to_id=newest,
                                        limit=batch_size)
            examined += len(events)
            created += _route(repo, session, events, index, now=now)
            full = len(events) == batch_size
            # A short batch saw every event up to ``newest``: the cursor moves past trailing
            # baseline events too, so the next run does not scan them again.
            routed_to = events[-1].id if full else newest
            if routed_to > cursor:
                store.advance_cursor(session, last_event_id=routed_to, now=now)
                cursor = routed_to
        if not full:
            break
    return RoutingReport(
        events=examined, deliveries=len(created),
        subscribers=len({d.subscriber_id for d in created}), cursor=cursor, late=late_count,
    )
