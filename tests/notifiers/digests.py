"""Hand-built Digest values for the notifier tests (plain values, no storage)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from tracker.changes import ChangeKind
from tracker.digest import (
    ChangeLine,
    Digest,
    DigestGroup,
    DigestItem,
    DigestKind,
    Frequency,
    Freshness,
    Language,
    MatchedTerm,
    Reason,
    Recipient,
    TargetKind,
)
from tracker.models import Stage

END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
START = END - timedelta(days=1)

HOSTILE_TITLES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "Bill\r\nBcc: victim@x.example",
    "Evil \u202egnp.exe\u202c and zero\u200bwidth\ufeff",
)
HOSTILE_TITLE = " ".join(HOSTILE_TITLES)


def recipient(
    subscriber_id: int = 1, *, language: Language = Language.EN, email: str | None = None,
    name: str = "Ana Kim", timezone: str = "America/New_York",
) -> Recipient:
    return Recipient(subscriber_id=subscriber_id, email=email or f"sub{subscriber_id}@example.org",
                     name=name, language=language, timezone=timezone)


def bill_reason(subscription_id: int = 11, key: str = "va/2020/HB 1211") -> Reason:
    return Reason(subscription_id=subscription_id, target_kind=TargetKind.BILL, target=key)


def topic_reason(subscription_id: int = 12, topic: str = "drivers-licenses") -> Reason:
    return Reason(
        subscription_id=subscription_id, target_kind=TargetKind.TOPIC, target=topic, topic=topic,
        matched=(MatchedTerm("driver privilege card", "title"),
                 MatchedTerm("privilege card", "summary")),
    )


def jurisdiction_reason(subscription_id: int = 13, code: str = "va") -> Reason:
    return Reason(subscription_id=subscription_id, target_kind=TargetKind.JURISDICTION,
                  target=code)


def item(
    identifier: str = "HB 1211",
    *,
    jurisdiction: str = "va",
    title: str = "Driver privilege cards; eligibility.",
    stage: Stage = Stage.PASSED_ORIGIN,
    reasons: tuple[Reason, ...] | None = None,
    changes: tuple[ChangeLine, ...] | None = None,
    topics: tuple[str, ...] = ("drivers-licenses",),
    url: str | None = "https://lis.virginia.gov/bill-details/20201/HB1211",
) -> DigestItem:
    if changes is None:
        changes = (
            ChangeLine(event_id=101, kind=ChangeKind.NEW_ACTION, detected_at=END,
                       date=date(2020, 2, 11), text="Read third time and passed House (54-Y 46-N)"),
            ChangeLine(event_id=102, kind=ChangeKind.STAGE_CHANGE, detected_at=END,
                       from_stage=Stage.REPORTED, to_stage=stage),
        )
    return DigestItem(
        bill_key=f"{jurisdiction}/2020/{identifier}", jurisdiction=jurisdiction,
        identifier=identifier, title=title, stage=stage, url=url, changes=changes,
        reasons=reasons if reasons is not None else (bill_reason(), topic_reason()),
        topics=topics,
    )


def freshness() -> tuple[Freshness, ...]:
    return (
        Freshness(source="va-lis", jurisdictions=("va",), last_success=END - timedelta(hours=2),
                  failing_since=None, healthy=True),
        Freshness(source="pa-palegis", jurisdictions=("pa",),
                  last_success=END - timedelta(days=3),
                  failing_since=datetime(2026, 11, 29, 19, 0, tzinfo=UTC), healthy=False),
    )


def digest(
    *items: DigestItem,
    key: str = "daily:1:2026-12-01",
    kind: DigestKind = DigestKind.DIGEST,
    recipient_: Recipient | None = None,
    language: Language = Language.EN,
    frequency: Frequency = Frequency.DAILY,
    subscription_ids: tuple[int, ...] | None = None,
    total: int | None = None,
) -> Digest:
    items = items or (item(),)
    who = recipient_ or recipient(language=language)
    sids = subscription_ids
    if sids is None:
        sids = tuple(dict.fromkeys(r.subscription_id for i in items for r in i.reasons))
    return Digest(
        digest_key=key, kind=kind, recipient=who, frequency=frequency, period_start=START,
        period_end=END,
        groups=(DigestGroup(jurisdiction=items[0].jurisdiction, topic="drivers-licenses",
                            items=items),),
        event_ids=tuple(c.event_id for i in items for c in i.changes),
        freshness=freshness(), total_items=total if total is not None else len(items),
        shown_items=len(items), subscription_ids=sids,
    )


def for_subscriber(subscriber_id: int, *, language: Language = Language.EN,
                   key: str | None = None, email: str | None = None) -> Digest:
    """A daily digest for one subscriber with its own subscription ids."""
    reasons = (bill_reason(subscription_id=subscriber_id * 10 + 1),
               topic_reason(subscription_id=subscriber_id * 10 + 2))
    base = digest(item(reasons=reasons), key=key or f"daily:{subscriber_id}:2026-12-01",
                  recipient_=recipient(subscriber_id, language=language, email=email))
    return replace(base)
