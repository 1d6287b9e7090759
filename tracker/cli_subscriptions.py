"""The ``tracker`` commands for subscribers: subscribe, unsubscribe, subscriptions, route.

``register(app)`` adds them to the ``tracker`` Typer app. ``tracker.cli`` imports this module
to register them, so its output helpers (``emit``, ``fail``, ``Format``) are imported here at
call time. A malformed address, an unknown topic, bill or jurisdiction, a bad timezone: one
line on stderr and exit 1, as every expected failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from scrapers import REGISTRY
from tracker.digest import TargetKind
from tracker.routing import route_new_events
from tracker.storage import subscriptions_repo as store
from tracker.storage.subscriptions_repo import SubscriberView, SubscriptionView
from tracker.subscriber_config import sync_subscribers
from tracker.subscriptions import (
    WEEKDAYS,
    SubscriberProfile,
    SubscriptionSpec,
    Target,
    catalog_from,
    check_spec,
    make_target,
    parse_email,
    parse_frequency,
    parse_hour,
    parse_jurisdiction,
    parse_kinds,
    parse_language,
    parse_stages,
    parse_timezone,
    parse_weekday,
)
from tracker.wiring import open_repository, settings_from_env

ORIGIN = "cli"

BillOption = Annotated[
    str | None, typer.Option("--bill", help='a bill key, e.g. "va/2020/HB 565"')
]
TopicOption = Annotated[
    str | None, typer.Option("--topic", help="a topic id, e.g. drivers-licenses")
]
JurisdictionOption = Annotated[
    str | None, typer.Option("--jurisdiction", help="a whole jurisdiction, e.g. va or us")
]
FormatChoice = Annotated[
    Literal["table", "csv", "json"],
    typer.Option("--format", "-f", help="table for people; csv, or json (JSON lines)"),
]


def fail(message: str) -> typer.Exit:
    """``tracker.cli.fail``: the message on stderr, and the exit to raise."""
    from tracker import cli

    return cli.fail(message)


def _target(bill: str | None, topic: str | None, jurisdiction: str | None) -> Target | None:
    given = [(kind, value) for kind, value in (
        (TargetKind.BILL, bill), (TargetKind.TOPIC, topic),
        (TargetKind.JURISDICTION, jurisdiction),
    ) if value is not None]
    if len(given) > 1:
        raise fail("name one of --bill, --topic or --jurisdiction, not several")
    return make_target(*given[0]) if given else None


def _profile(
    address: str, existing: SubscriberView | None, changes: dict[str, Any]
) -> SubscriberProfile:
    """The stored profile (or the defaults) with the options given on the command line."""
    base = SubscriberProfile(email=address)
    if existing is not None:
        base = SubscriberProfile(
            email=address, name=existing.name, affiliate=existing.affiliate,
            language=parse_language(existing.language), timezone=existing.timezone,
            frequency=parse_frequency(existing.frequency), digest_hour=existing.digest_hour,
            digest_weekday=existing.digest_weekday,
        )
    return replace(base, **{k: v for k, v in changes.items() if v is not None})


def _given(value: str | None, parse: Callable[[str], Any]) -> Any:
    return parse(value) if value is not None else None


def subscribe(
    email: Annotated[str, typer.Argument(help="the subscriber's email address")],
    bill: BillOption = None,
    topic: TopicOption = None,
    jurisdiction: JurisdictionOption = None,
    within: Annotated[
        list[str] | None, typer.Option("--within", help="with --topic: only in jurisdiction J")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="only these changes: new-action, stage-change, ..."),
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="only changes leaving a bill at stage S")
    ] = None,
    name: Annotated[str | None, typer.Option(help="the subscriber's name")] = None,
    affiliate: Annotated[str | None, typer.Option(help="e.g. va, tx, national")] = None,
    language: Annotated[str | None, typer.Option(help="en, ko or es")] = None,
    frequency: Annotated[str | None, typer.Option(help="instant, daily or weekly")] = None,
    timezone: Annotated[str | None, typer.Option(help="e.g. America/Chicago")] = None,
    hour: Annotated[int | None, typer.Option(help="local hour of the digest, 0-23")] = None,
    weekday: Annotated[
        str | None, typer.Option(help="weekly digests: mon .. sun")
    ] = None,
) -> None:
    """Follow a bill, a topic (optionally --within jurisdictions) or a whole jurisdiction.

    Creates the subscriber on first use; profile options given update it. Following the
    same target again updates its filters (or resumes it after an unsubscribe).
    """
    address = parse_email(email)
    target = _target(bill, topic, jurisdiction)
    if target is None:
        raise fail("name what to follow: --bill KEY, --topic ID or --jurisdiction J")
    settings = settings_from_env()
    spec = check_spec(
        SubscriptionSpec(target, within=tuple(parse_jurisdiction(j) for j in within or ()),
                         kinds=parse_kinds(kind or ()), stages=parse_stages(stage or ())),
        catalog=catalog_from(settings, REGISTRY),
    )
    changes = {
        "name": name.strip() if name is not None else None,
        "affiliate": affiliate.strip() if affiliate is not None else None,
        "language": _given(language, parse_language),
        "frequency": _given(frequency, parse_frequency),
        "timezone": _given(timezone, parse_timezone),
        "digest_hour": parse_hour(hour) if hour is not None else None,
        "digest_weekday": _given(weekday, parse_weekday),
    }
    repo = open_repository(settings)
    now = datetime.now(UTC)
    with repo.write() as session:
        if target.kind is TargetKind.BILL and not store.bill_is_stored(session, target.value):
            raise fail(f"no bill {target.value} is stored (see: tracker bills --q ...)")
        profile = _profile(address, store.get_subscriber(session, address), changes)
        subscriber = store.upsert_subscriber(session, profile, origin=ORIGIN, now=now)
        _, outcome = store.add_subscription(
            session, subscriber_id=subscriber.id, target_kind=target.kind.value,
            target=target.value, jurisdictions=spec.within, kinds=[k.value for k in spec.kinds],
            stages=[s.value for s in spec.stages], origin=ORIGIN, now=now,
        )
    when = f"{profile.digest_hour:02d}:00 {profile.timezone}"
    if profile.frequency == "weekly":
        when = f"{WEEKDAYS[profile.digest_weekday]} {when}"
    typer.echo(f"{address}: following {target} ({outcome}); {profile.frequency.value}, "
               f"digests at {when}, in {profile.language.value}")


def unsubscribe(
    email: Annotated[str, typer.Argument(help="the subscriber's email address")],
    bill: BillOption = None,
    topic: TopicOption = None,
    jurisdiction: JurisdictionOption = None,
    everything: Annotated[bool, typer.Option("--all", help="stop every subscription")] = False,
) -> None:
    """Stop following one target, or --all. History is kept; following again resumes."""
    address = parse_email(email)
    target = _target(bill, topic, jurisdiction)
    if (target is None) == (not everything):
        raise fail("name what to stop: --bill KEY, --topic ID, --jurisdiction J, or --all")
    repo = open_repository(settings_from_env())
    with repo.write() as session:
        subscriber = store.get_subscriber(session, address)
        if subscriber is None:
            raise fail(f"no subscriber {address} (see: tracker subscriptions)")
        active = [s for s in store.subscriptions_of(session, subscriber.id) if s.active]
        if target is not None:
            active = [s for s in active
                      if (s.target_kind, s.target) == (target.kind.value, target.value)]
            if not active:
                raise fail(f"{address} does not follow {target} (see: tracker subscriptions)")
        ended = store.end_subscriptions(session, subscriber_id=subscriber.id,
                                        ended_by="subscriber", now=datetime.now(UTC),
                                        ids=[s.id for s in active])
    what = str(target) if target is not None else f"all {ended} subscriptions"
    typer.echo(f"{address}: stopped following {what}")


def _row(subscriber: SubscriberView, subscription: SubscriptionView) -> dict[str, Any]:
    return {
        "email": subscriber.email, "name": subscriber.name, "affiliate": subscriber.affiliate,
        "target": subscription.label, "within": list(subscription.jurisdictions),
        "kinds": list(subscription.kinds), "stages": list(subscription.stages),
        "frequency": subscriber.frequency, "language": subscriber.language,
        "timezone": subscriber.timezone, "hour": subscriber.digest_hour,
        "weekday": WEEKDAYS[subscriber.digest_weekday], "active": subscription.active,
        "origin": subscription.origin, "since": subscription.active_since,
        "welcomed_at": subscription.welcomed_at, "ended_at": subscription.unsubscribed_at,
        "ended_by": subscription.ended_by,
    }


def subscriptions(fmt: FormatChoice = "table") -> None:
    """Every subscription, active or ended, with its subscriber (JSON lines with --format json)."""
    from tracker.cli import Format, emit

    repo = open_repository(settings_from_env())
    with repo.read() as session:
        rows = [_row(a, b) for a, b in store.list_subscriptions(session)]
    columns = ["email", "target", "within", "frequency", "language", "active", "origin"]
    if fmt != "table":
        columns = list(rows[0]) if rows else columns
    emit(iter(rows), fmt=Format(fmt), columns=columns)


def route() -> None:
    """Sync subscribers.toml, then route every new change to its subscribers now."""
    settings = settings_from_env()
    repo = open_repository(settings)
    now = datetime.now(UTC)
    typer.echo(sync_subscribers(repo, settings, now=now).summary_line())
    typer.echo(route_new_events(repo, settings=settings, now=now).summary_line())


def register(app: typer.Typer) -> None:
    """Add ``subscribe``, ``unsubscribe``, ``subscriptions`` and ``route`` to ``app``."""
    for command in (subscribe, unsubscribe, subscriptions, route):
        app.command(name=command.__name__)(command)
