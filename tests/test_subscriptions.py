"""The subscription rules as tables: what is accepted from people, and which change matches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.subscription_builders import REGISTRY
from tracker.changes import ChangeKind
from tracker.digest import Frequency, Language, MatchedTerm, Reason, TargetKind
from tracker.errors import InvalidSubscription
from tracker.models import BillKey, Stage
from tracker.settings import load_settings
from tracker.subscriptions import (
    BillFacts,
    Catalog,
    EventFacts,
    SubscriberProfile,
    Subscription,
    SubscriptionSpec,
    Target,
    catalog_from,
    check_spec,
    make_target,
    matches,
    parse_email,
    parse_frequency,
    parse_hour,
    parse_kinds,
    parse_language,
    parse_stages,
    parse_target,
    parse_timezone,
    parse_weekday,
    stage_after,
)

# --- subscriber fields ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("mi-young.kim@example.org", "mi-young.kim@example.org"),
    ("  Mi-Young.Kim@Example.ORG ", "mi-young.kim@example.org"),
    ("policy+va@sub.example.co.kr", "policy+va@sub.example.co.kr"),
    ("o'brien@example.org", "o'brien@example.org"),
    ("info@xn--9n2bp8q.xn--3e0b707e", "info@xn--9n2bp8q.xn--3e0b707e"),
])  # fmt: skip
def test_email_addresses_are_accepted_lower_cased(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize("text", [
    "", "policy", "policy@", "@example.org", "policy@example", "policy@@example.org",
    "two words@example.org", "policy@example.org\r\nBcc: all@example.org",
    "<policy@example.org>", "Policy Desk <policy@example.org>", ".policy@example.org",
    "po..licy@example.org", "policy.@example.org", "policy@-example.org",
    "policy@example.org.", "policy@exa_mple.org", "a,b@example.org",
    "x" * 250 + "@example.org",
])  # fmt: skip
def test_malformed_addresses_are_refused_naming_them(text: str) -> None:
    with pytest.raises(InvalidSubscription, match="not an email address") as raised:
        parse_email(text)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message  # one line, even for CR/LF input


@pytest.mark.parametrize(("parse", "text", "expected"), [
    (parse_language, "ko", Language.KO),
    (parse_language, " ES ", Language.ES),
    (parse_frequency, "Instant", Frequency.INSTANT),
    (parse_frequency, "weekly", Frequency.WEEKLY),
    (parse_timezone, "America/Chicago", "America/Chicago"),
    (parse_timezone, "Asia/Seoul", "Asia/Seoul"),
    (parse_timezone, "UTC", "UTC"),
    (parse_weekday, "mon", 0),
    (parse_weekday, "Friday", 4),
    (parse_weekday, "SUN", 6),
    (parse_weekday, "thur", 3),
])  # fmt: skip
def test_profile_values_accepted(parse: Any, text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(("parse", "text", "message"), [
    (parse_language, "fr", "language 'fr' is not offered (one of: en, ko, es)"),
    (parse_frequency, "hourly", "one of: instant, daily, weekly"),
    (parse_timezone, "Mars/Olympus_Mons", "unknown timezone 'Mars/Olympus_Mons'"),
    (parse_timezone, "../../etc/passwd", "unknown timezone"),
    (parse_timezone, "/usr/share/zoneinfo/UTC", "unknown timezone"),
    (parse_timezone, "", "unknown timezone"),
    (parse_weekday, "mo", "weekday 'mo' is not one of mon, tue"),
    (parse_weekday, "fryday", "is not one of"),
])  # fmt: skip
def test_profile_values_refused(parse: Any, text: str, message: str) -> None:
    with pytest.raises(InvalidSubscription, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


@pytest.mark.parametrize("hour", [-1, 24, 7.5, True, "7"])
def test_digest_hour_must_be_a_whole_hour(hour: Any) -> None:
    with pytest.raises(InvalidSubscription, match="from 0 to 23"):
        parse_hour(hour)


def test_hours_at_both_ends_are_fine() -> None:
    assert (parse_hour(0), parse_hour(23)) == (0, 23)


def test_kinds_and_stages_are_read_once_each_in_order() -> None:
    assert parse_kinds(["stage-change", "new-action", "stage-change"]) == (
        ChangeKind.STAGE_CHANGE, ChangeKind.NEW_ACTION)
    assert parse_stages(["enacted", "vetoed"]) == (Stage.ENACTED, Stage.VETOED)
    with pytest.raises(InvalidSubscription, match="change kind 'hearing' is not offered"):
        parse_kinds(["hearing"])
    with pytest.raises(InvalidSubscription, match="stage 'signed' is not offered"):
        parse_stages(["signed"])


@pytest.mark.parametrize(("field", "value"), [("name", "Kim\r\nBcc: x@y.org"),
                                              ("affiliate", "x" * 101)])
def test_names_in_headers_must_be_one_bounded_line(field: str, value: str) -> None:
    given: dict[str, Any] = {field: value}
    with pytest.raises(InvalidSubscription, match=f"{field} .* one line"):
        SubscriberProfile(email="a@example.org", **given)


# --- targets --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("topic:drivers-licenses", TargetKind.TOPIC, "drivers-licenses"),
    ("topic: Hate-Crimes ", TargetKind.TOPIC, "hate-crimes"),
    ("bill:va/2020/HB 565", TargetKind.BILL, "va/2020/HB 565"),
    ("bill:VA/2020/hb0565", TargetKind.BILL, "va/2020/HB 565"),
    ("BILL:us/117/H.R. 2471", TargetKind.BILL, "us/117/HR 2471"),
    ("jurisdiction:TX", TargetKind.JURISDICTION, "tx"),
])  # fmt: skip
def test_targets_are_read_in_canonical_form(text: str, kind: TargetKind, value: str) -> None:
    target = parse_target(text)
    assert target == Target(kind, value)
    assert str(target) == f"{kind.value}:{value}"


@pytest.mark.parametrize(("text", "message"), [
    ("drivers-licenses", "must be written kind:value"),
    ("senator:kim", "must be written kind:value"),
    ("bill:va/HB 565", "bill 'va/HB 565': a bill key looks like"),
    ("bill:va/2020/HB565B", "not a bill identifier"),
    ("jurisdiction:virginia", "must be a two-letter code"),
    ("topic:Drivers Licenses", "is not a topic id"),
])  # fmt: skip
def test_malformed_targets_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidSubscription, match=message):
        parse_target(text)


CATALOG = Catalog(topics=frozenset({"drivers-licenses", "hate-crimes"}),
                  jurisdictions=frozenset({"us", "va", "tx"}))


@pytest.mark.parametrize("spec", [
    SubscriptionSpec(make_target(TargetKind.TOPIC, "hate-crimes"), within=("va", "tx")),
    SubscriptionSpec(make_target(TargetKind.JURISDICTION, "us")),
    SubscriptionSpec(make_target(TargetKind.BILL, "tx/87R/SB 4")),
])  # fmt: skip
def test_known_targets_pass(spec: SubscriptionSpec) -> None:
    assert check_spec(spec, catalog=CATALOG) is spec


@pytest.mark.parametrize(("spec", "message"), [
    (SubscriptionSpec(make_target(TargetKind.TOPIC, "language-access")),
     "unknown topic 'language-access' (topics: drivers-licenses, hate-crimes)"),
    (SubscriptionSpec(make_target(TargetKind.JURISDICTION, "ca")),
     "jurisdiction:ca: no source covers jurisdiction 'ca' (covered: tx, us, va)"),
    (SubscriptionSpec(make_target(TargetKind.TOPIC, "hate-crimes"), within=("va", "ca")),
     "topic:hate-crimes within ca: no source covers"),
    (SubscriptionSpec(make_target(TargetKind.BILL, "ca/2023/AB 5")),
     "bill:ca/2023/AB 5: no source covers jurisdiction 'ca'"),
])  # fmt: skip
def test_unknown_targets_are_refused_with_what_is_known(
    spec: SubscriptionSpec, message: str
) -> None:
    with pytest.raises(InvalidSubscription) as raised:
        check_spec(spec, catalog=CATALOG)
    assert message in str(raised.value)


def test_no_topics_configured_says_so() -> None:
    empty = Catalog(topics=frozenset(), jurisdictions=frozenset({"us"}))
    with pytest.raises(InvalidSubscription, match="none are configured"):
        check_spec(SubscriptionSpec(make_target(TargetKind.TOPIC, "hate-crimes")), catalog=empty)


def test_within_narrows_only_topics() -> None:
    with pytest.raises(InvalidSubscription, match="'within' narrows a topic"):
        SubscriptionSpec(make_target(TargetKind.JURISDICTION, "va"), within=("va",))


def test_catalog_holds_the_configured_topics_and_covered_jurisdictions(tmp_path: Path) -> None:
    settings = load_settings({"TRACKER_CONFIG": str(tmp_path)})  # packaged defaults
    catalog = catalog_from(settings, REGISTRY)
    assert catalog.jurisdictions == {"us", "va"}
    assert {"drivers-licenses", "language-access", "hate-crimes"} <= catalog.topics
    assert catalog.topics == {topic.id for topic in settings.topics}


# --- matching -------------------------------------------------------------------------------

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
SEEN = datetime(2020, 2, 3, 14, tzinfo=UTC)
HB1 = BillFacts(BillKey.parse("va/2020/HB 1"), Stage.IN_COMMITTEE)
US1 = BillFacts(BillKey.parse("us/116/HR 1"), Stage.IN_COMMITTEE)
TERMS = (MatchedTerm("driver privilege card", "title"),)


def event(kind: ChangeKind = ChangeKind.NEW_ACTION, details: dict[str, str] | None = None, *,
          baseline: bool = False, seen: datetime = SEEN) -> EventFacts:
    return EventFacts(id=7, kind=kind, detected_at=seen, baseline=baseline,
                      details=details or {})


def subscription(target: str, *, within: tuple[str, ...] = (), kinds: tuple[str, ...] = (),
                 stages: tuple[str, ...] = (), active: bool = True,
                 since: datetime = SINCE) -> Subscription:
    spec = SubscriptionSpec(parse_target(target), within=within, kinds=parse_kinds(kinds),
                            stages=parse_stages(stages))
    return Subscription(id=3, subscriber_id=1, spec=spec, active=active, active_since=since)


BILL_REASON = Reason(3, TargetKind.BILL, "va/2020/HB 1")
TOPIC_REASON = Reason(3, TargetKind.TOPIC, "drivers-licenses", topic="drivers-licenses",
                      matched=TERMS)
VA_REASON = Reason(3, TargetKind.JURISDICTION, "va")

MATCH_TABLE: list[tuple[str, Subscription, EventFacts, BillFacts, Reason | None]] = [
    ("bill key equal", subscription("bill:va/2020/HB 1"), event(), HB1, BILL_REASON),
    ("another bill", subscription("bill:va/2020/HB 2"), event(), HB1, None),
    ("topic matched", subscription("topic:drivers-licenses"), event(), HB1, TOPIC_REASON),
    ("topic not matched", subscription("topic:hate-crimes"), event(), HB1, None),
    ("topic within its jurisdiction", subscription("topic:drivers-licenses", within=("tx", "va")),
     event(), HB1, TOPIC_REASON),
    ("topic outside its jurisdictions", subscription("topic:drivers-licenses", within=("tx",)),
     event(), HB1, None),
    ("jurisdiction equal", subscription("jurisdiction:va"), event(), HB1, VA_REASON),
    ("another jurisdiction", subscription("jurisdiction:va"), event(), US1, None),
    ("baseline change", subscription("jurisdiction:va"), event(baseline=True), HB1, None),
    ("inactive subscription", subscription("jurisdiction:va", active=False), event(), HB1, None),
    ("seen before the subscription", subscription("jurisdiction:va", since=SEEN),
     event(seen=SEEN - timedelta(seconds=1)), HB1, None),
    ("seen the moment it began", subscription("jurisdiction:va", since=SEEN), event(), HB1,
     VA_REASON),
    ("kind wanted", subscription("jurisdiction:va", kinds=("new-action", "stage-change")),
     event(ChangeKind.STAGE_CHANGE, {"to": "reported"}), HB1, VA_REASON),
    ("kind not wanted", subscription("jurisdiction:va", kinds=("stage-change",)),
     event(ChangeKind.NEW_VERSION), HB1, None),
    ("stage change to a wanted stage", subscription("jurisdiction:va", stages=("passed-origin",)),
     event(ChangeKind.STAGE_CHANGE, {"from": "reported", "to": "passed-origin"}), HB1,
     VA_REASON),
    ("stage change away from it", subscription("jurisdiction:va", stages=("in-committee",)),
     event(ChangeKind.STAGE_CHANGE, {"from": "in-committee", "to": "reported"}), HB1, None),
    ("other change at a wanted stage", subscription("jurisdiction:va", stages=("in-committee",)),
     event(ChangeKind.NEW_VERSION), HB1, VA_REASON),
    ("new bill at a wanted stage", subscription("jurisdiction:va", stages=("introduced",)),
     event(ChangeKind.NEW_BILL, {"stage": "introduced"}), HB1, VA_REASON),
    ("both filters must pass", subscription("topic:drivers-licenses", kinds=("new-action",),
                                            stages=("enacted",)), event(), HB1, None),
]


@pytest.mark.parametrize(("subscription_", "event_", "bill", "expected"),
                         [row[1:] for row in MATCH_TABLE], ids=[row[0] for row in MATCH_TABLE])
def test_matches(subscription_: Subscription, event_: EventFacts, bill: BillFacts,
                 expected: Reason | None) -> None:
    topics = {"drivers-licenses": TERMS}
    assert matches(subscription_, event_, bill, topics) == expected


@pytest.mark.parametrize(("event_", "expected"), [
    (event(ChangeKind.STAGE_CHANGE, {"to": "enacted"}), Stage.ENACTED),
    (event(ChangeKind.NEW_BILL, {"stage": "introduced"}), Stage.INTRODUCED),
    (event(ChangeKind.NEW_ACTION), Stage.IN_COMMITTEE),
    (event(ChangeKind.STAGE_CHANGE, {"to": "no-such-stage"}), Stage.IN_COMMITTEE),
])  # fmt: skip
def test_stage_after_a_change(event_: EventFacts, expected: Stage) -> None:
    assert stage_after(event_, HB1) is expected
