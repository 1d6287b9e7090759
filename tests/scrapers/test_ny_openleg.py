"""ny-openleg: the parser on the project-written API responses (tests/fixtures/ny-openleg, in
the documented format), malformed and hostile documents, and discover/fetch/parse through the
real HttpClient against ``responses`` (and, for the sleep a 429 asks for, a loopback socket)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import responses
import sqlalchemy as sa
from responses import matchers, registries
from typer.testing import CliRunner

from scrapers.ny_openleg import (
    NEW_YORK,
    FeedEntry,
    NyOpenleg,
    Page,
    changed_bills,
    local_time,
    parse_document,
    parse_feed,
)
from scrapers.ny_openleg_rules import stage_agrees, status_stage
from tests.conftest import PROJECT_FIXTURES
from tracker.cli import app
from tracker.errors import ParseError, SourceError
from tracker.http import HttpClient
from tracker.models import BillKey, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.pipeline import Pipeline
from tracker.records import BillRecord, BillRef, Checkpoint, Fetched, Validators
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext
from tracker.stages import derive_stage
from tracker.storage.repository import EventFilter, Repository
from tracker.storage.tables import FetchStateRow

FIXTURES = PROJECT_FIXTURES / "ny-openleg"
BASE = "http://ny.test"
API = f"{BASE}/api/3"
KEY = "s3cret-test-key"
ENV = {"NY_OPENLEG_API_KEY": KEY}
NOW = datetime(2025, 5, 6, 18, 0, 0, tzinfo=NEW_YORK)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bill_json(base: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture(f"bills/{base}-2025.json"))
    return data


def load(base: str) -> BillRecord:
    (record,) = parse_document(fixture(f"bills/{base}-2025.json"), document=f"{base}.json")
    return record


def stage_of(record: BillRecord) -> Stage:
    return derive_stage(record.actions, bill_type=record.bill_type)


# ----------------------------------------------------------------------------------------------
# The parser, on every fixture
# ----------------------------------------------------------------------------------------------

# file -> (key, bill type, derived stage, API status, actions, versions, sponsors)
BILLS: dict[str, tuple[str, BillType, Stage, str, int, int, int]] = {
    "S1234": ("ny/2025/S 1234", BillType.BILL, Stage.PASSED_ORIGIN, "IN_ASSEMBLY_COMM", 11, 3, 4),
    "A5678": ("ny/2025/A 5678", BillType.BILL, Stage.ENACTED, "SIGNED_BY_GOV", 15, 2, 4),
    "S2345": ("ny/2025/S 2345", BillType.BILL, Stage.REPORTED, "SUBSTITUTED", 5, 1, 2),
    "S3456": ("ny/2025/S 3456", BillType.BILL, Stage.VETOED, "VETOED", 13, 1, 3),
    "J789": ("ny/2025/J 789", BillType.RESOLUTION, Stage.ADOPTED, "ADOPTED", 2, 1, 3),
    "A910": ("ny/2025/A 910", BillType.BILL, Stage.IN_COMMITTEE, "IN_ASSEMBLY_COMM", 2, 1, 3),
    "S4567": ("ny/2025/S 4567", BillType.BILL, Stage.WITHDRAWN, "STRICKEN", 2, 1, 1),
}  # fmt: skip


def test_the_table_covers_every_bill_fixture() -> None:
    found = {p.name.removesuffix("-2025.json") for p in (FIXTURES / "bills").glob("*.json")}
    assert found == set(BILLS)


@pytest.mark.parametrize("base", sorted(BILLS))
def test_bill(base: str) -> None:
    key, bill_type, stage, status, actions, versions, sponsors = BILLS[base]
    record = load(base)
    bill = normalize(record)
    assert str(bill.key) == key
    assert bill.source == "ny-openleg"
    assert bill.bill_type is bill_type
    assert bill.stage is stage
    assert record.extras["status"] == status
    assert (len(bill.actions), len(bill.versions), len(bill.sponsors)) == (actions, versions,
                                                                          sponsors)
    assert bill.title == bill_json(base)["result"]["title"]
    assert bill.url == f"https://www.nysenate.gov/legislation/bills/2025/{base}"
    assert record.document == f"{base}.json"


@pytest.mark.parametrize("base", sorted(BILLS))
def test_derived_stage_agrees_with_the_api_status(base: str) -> None:
    record = load(base)
    origin = Chamber(record.extras["origin_chamber"])
    expected = status_stage(record.extras["status"], origin=origin)
    assert record.extras["status_stage"] == (expected.value if expected else None)
    assert stage_agrees(stage_of(record), expected), (stage_of(record), expected)


def test_only_the_substituted_bill_has_no_status_stage() -> None:
    without = sorted(b for b in BILLS if load(b).extras["status_stage"] is None)
    assert without == ["S2345"]
    assert load("S2345").extras["substituted_by"] == "A5678"
    assert load("S2345").actions[-1].description == "SUBSTITUTED BY A5678"


def test_every_amendment_is_a_version_and_the_active_one_is_the_text_link() -> None:
    record = load("S1234")
    assert [(v.name, v.date, v.url) for v in record.versions] == [
        ("Original", date(2025, 1, 8), "https://legislation.nysenate.gov/pdf/bills/2025/S1234"),
        ("Amendment A", date(2025, 2, 10),
         "https://legislation.nysenate.gov/pdf/bills/2025/S1234A"),
        ("Amendment B", date(2025, 3, 4),
         "https://legislation.nysenate.gov/pdf/bills/2025/S1234B"),
    ]
    assert record.extras["active_version"] == "B"
    assert record.extras["print_no"] == "S1234B"
    assert record.extras["text_url"] == "https://legislation.nysenate.gov/pdf/bills/2025/S1234B"
    assert record.extras["same_as"] == ["A4321"]
    assert record.summary.startswith("Requires each state agency")


def test_sponsors_are_the_sponsor_then_the_active_versions_cosponsors() -> None:
    record = load("S1234")
    assert [(s.name, s.primary, s.extras["role"]) for s in record.sponsors] == [
        ("Dana M. Rivera", True, "sponsor"),
        ("Chidi Okafor", False, "cosponsor"),
        ("Soo-jin Hwang", False, "cosponsor"),
        ("Thomas Baldwin", False, "cosponsor"),  # only on version B, the active one
    ]
    assert record.sponsors[0].extras["member_id"] == 1401
    assert record.sponsors[0].extras["district"] == 31


def test_assembly_multi_sponsors_and_a_rules_committee_sponsor() -> None:
    assembly = load("A5678")
    assert [(s.name, s.extras["role"]) for s in assembly.sponsors[1:]] == [
        ("Mei Lin", "multi-sponsor"), ("Rosa Navarro", "multi-sponsor"),
        ("Peter Kowalski", "multi-sponsor"),
    ]
    rules = load("S4567")
    assert [(s.name, s.primary, s.extras) for s in rules.sponsors] == [
        ("Rules Committee", True, {"entity": "organization"})
    ]


def test_actions_in_sequence_with_chambers_and_the_governor() -> None:
    record = load("A5678")
    assert [a.extras["sequence_no"] for a in record.actions] == list(range(1, 16))
    delivered, signed = record.actions[-2:]
    assert (delivered.description, delivered.actor) == ("DELIVERED TO GOVERNOR", Chamber.LOWER)
    assert (signed.description, signed.actor) == ("SIGNED CHAP.412", Chamber.EXECUTIVE)
    assert signed.date == date(2025, 9, 26)
    senate = [a for a in record.actions if a.actor is Chamber.UPPER]
    assert [a.description for a in senate][:2] == ["REFERRED TO TRANSPORTATION",
                                                   "SUBSTITUTED FOR S2345"]
    assert record.actions[2].extras["print_no"] == "A5678A"


def test_actions_are_put_in_sequence_order() -> None:
    data = bill_json("J789")
    data["result"]["actions"]["items"].reverse()
    (record,) = parse_document(json.dumps(data).encode(), document="J789.json")
    assert [a.description for a in record.actions] == ["REFERRED TO FINANCE", "ADOPTED"]


def test_hostile_title_is_carried_as_plain_text() -> None:
    data = bill_json("A910")
    data["result"]["title"] = "<script>alert('x')</script>\r\nBcc: victim@example.org\t<b>&amp;</b>"
    (record,) = parse_document(json.dumps(data).encode(), document="A910.json")
    assert record.title == "<script>alert('x')</script> Bcc: victim@example.org <b>&amp;</b>"
    assert "\r" not in record.title and "\n" not in record.title


def test_a_listing_page_gives_one_record_per_bill() -> None:
    for kind in ("bill list", "bill-info list"):
        page = listing(["S1234", "A5678", "J789"], total=7, offset=1, kind=kind)
        records = parse_document(page, document="listing")
        assert [r.identifier for r in records] == ["S 1234", "A 5678", "J 789"]
        assert {r.document for r in records} == {"listing"}


# ----------------------------------------------------------------------------------------------
# Unexpected shapes fail loudly, naming the document and the key
# ----------------------------------------------------------------------------------------------


def broken(base: str, change: Any) -> bytes:
    data = bill_json(base)
    change(data["result"])
    return json.dumps(data).encode()


def _drop(key: str) -> Any:
    return lambda result: result.pop(key)


def _set(path: tuple[str | int, ...], value: object) -> Any:
    def apply(result: dict[str, Any]) -> None:
        target: Any = result
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return apply


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop("amendments"), r"^S1234\.json: result\.amendments: missing$"),
        (_drop("status"), r"^S1234\.json: result\.status: missing$"),
        (_set(("activeVersion",), "C"), r"result\.amendments\.items: no active version 'C'"),
        (_set(("basePrintNo",), "S1234B"), r"result\.basePrintNo: not a base print number"),
        (_set(("basePrintNo",), "X12"), r"result\.basePrintNo: not a base print number"),
        (_set(("session",), "2025"), r"result\.session: expected a whole number, got a string"),
        (_set(("billType", "chamber"), "ASSEMBLY"),
         r"result\.billType\.chamber: ASSEMBLY does not introduce S1234"),
        (_set(("billType", "chamber"), "HOUSE"), r"result\.billType\.chamber: unknown chamber"),
        (_set(("billType", "resolution"), True), r"result\.billType\.resolution: resolution="),
        (_set(("status", "statusType"), "ON_HOLD"), r"result\.status\.statusType: unknown status"),
        (_set(("actions", "items"), {}), r"result\.actions\.items: expected a list, got an obj"),
        (_set(("amendments", "items", "B", "coSponsors", "items"), [{"memberId": 1}]),
         r"result\.amendments\.items\.B\.coSponsors\.items\[0\]\.shortName: missing"),
        (_set(("actions", "items", 0, "date"), "soon"),
         r"result\.actions\.items\[0\]\.date: not a date: 'soon'"),
        (_set(("actions", "items", 2, "chamber"), "GOVERNOR"),
         r"result\.actions\.items\[2\]\.chamber: unknown chamber 'GOVERNOR'"),
    ],
)
def test_unexpected_shape_is_a_parse_error_naming_the_key(change: Any, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_document(broken("S1234", change), document="S1234.json")


def test_no_title_and_no_summary_is_a_parse_error() -> None:
    def blank(result: dict[str, Any]) -> None:
        result["title"] = "  "
        result["summary"] = None

    with pytest.raises(ParseError, match=r"result\.title: S1234 has neither a title"):
        parse_document(broken("S1234", blank), document="S1234.json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Service Unavailable</html>", r"^doc: not JSON"),
        (b"[]", r"^doc: the document: expected an object, got a list"),
        (b'{"success": false, "message": "Bill S99999-2025 not found", "responseType": "x"}',
         r"^doc: the API answered success=false: Bill S99999-2025 not found"),
        (b'{"success": true, "responseType": "agenda"}', r"responseType: expected 'bill'"),
        (b'{"success": true}', r"^doc: responseType: missing$"),
    ],
)
def test_wrong_documents_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_document(body, document="doc")


def test_a_broken_listing_item_names_its_bill() -> None:
    data = json.loads(listing(["S1234", "A5678"], total=2, offset=1))
    del data["result"]["items"][1]["status"]
    with pytest.raises(ParseError, match=r"^page: result\.items\[1\]\(A5678\)\.status: missing$"):
        parse_document(json.dumps(data).encode(), document="page")


def test_tracker_inspect_reads_bill_files_and_folders() -> None:
    result = CliRunner().invoke(app, ["inspect", "ny-openleg",
                                      str(FIXTURES / "bills" / "S3456-2025.json"),
                                      str(FIXTURES / "bills")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["key"] == "ny/2025/S 3456"
    assert rows[0]["actions"][-1] == {"date": "2025-12-05", "actor": "executive",
                                      "description": "VETOED MEMO.88",
                                      "classification": ["executive-veto"]}
    assert {r["key"]: r["stage"] for r in rows[1:]} == {
        key: stage.value for key, _, stage, *_ in BILLS.values()}


# ----------------------------------------------------------------------------------------------
# The change feed and paging
# ----------------------------------------------------------------------------------------------


def test_feed_page_parses_and_dedupes_per_bill_and_session() -> None:
    page, entries = parse_feed(fixture("updates-page.json"), document="feed")
    assert page == Page(empty=False, total=5, offset_start=1, offset_end=5)
    assert page.next_offset() is None
    assert len(entries) == 5
    changed = changed_bills(entries, sessions={"2025"})
    assert [(e.base_print_no, e.processed) for e in changed] == [
        ("S1234", "2025-05-06T15:30:45.000001"),  # the later of its two updates
        ("A5678", "2025-05-06T14:05:00.500000"),
        ("J789", "2025-05-06T16:10:07.010203"),
    ]
    assert [e.base_print_no for e in changed_bills(entries, sessions={"2023"})] == ["S9876"]


def test_feed_items_naming_an_amended_print_number_key_on_the_base() -> None:
    body = feed([("S1234B", 2025, "2025-05-06T12:00:00")], use_print_no=True)
    _, entries = parse_feed(body, document="feed")
    assert entries == [FeedEntry(session="2025", base_print_no="S1234",
                                 processed="2025-05-06T12:00:00")]


def test_empty_feed() -> None:
    page, entries = parse_feed(fixture("updates-empty.json"), document="feed")
    assert (page.empty, entries, page.next_offset()) == (True, [], None)


@pytest.mark.parametrize(
    ("page", "following"),
    [
        (Page(empty=False, total=2500, offset_start=1, offset_end=1000), 1001),
        (Page(empty=False, total=2500, offset_start=1001, offset_end=2000), 2001),
        (Page(empty=False, total=2500, offset_start=2001, offset_end=2500), None),
        (Page(empty=False, total=2500, offset_start=2501, offset_end=2500), None),
        (Page(empty=True, total=0, offset_start=0, offset_end=0), None),
    ],
)
def test_paging_is_one_based_and_stops(page: Page, following: int | None) -> None:
    assert page.next_offset() == following


def test_a_feed_item_without_an_id_is_a_parse_error() -> None:
    data = json.loads(fixture("updates-page.json"))
    del data["result"]["items"][3]["id"]
    with pytest.raises(ParseError, match=r"^feed: result\.items\[3\]\.id: missing$"):
        parse_feed(json.dumps(data).encode(), document="feed")


def test_local_time_is_new_york_to_the_second() -> None:
    utc = datetime.fromisoformat("2025-07-01T16:30:02.999+00:00")
    assert local_time(utc) == "2025-07-01T12:30:02"
    assert local_time(datetime(2025, 1, 2, 3, 4, 5, 6)) == "2025-01-02T03:04:05"


# ----------------------------------------------------------------------------------------------
# discover / fetch / parse through the real HttpClient
# ----------------------------------------------------------------------------------------------


def listing(bases: list[str], *, total: int, offset: int, kind: str = "bill list") -> bytes:
    items = [bill_json(base)["result"] for base in bases]
    return json.dumps({
        "success": True, "message": "", "responseType": kind, "total": total,
        "offsetStart": offset, "offsetEnd": offset + len(items) - 1, "limit": 1000,
        "result": {"items": items, "size": len(items)},
    }).encode()  # fmt: skip


def feed(
    updates: list[tuple[str, int, str]], *, total: int | None = None, offset: int = 1,
    use_print_no: bool = False,
) -> bytes:
    id_key = "printNo" if use_print_no else "basePrintNo"
    items = [{"id": {id_key: base, "session": session}, "contentType": "BILL",
              "processedDateTime": processed} for base, session, processed in updates]
    return json.dumps({
        "success": True, "message": "", "responseType": "update-token list",
        "total": len(items) if total is None else total, "offsetStart": offset,
        "offsetEnd": offset + len(items) - 1, "limit": 1000,
        "result": {"items": items, "size": len(items)},
    }).encode()  # fmt: skip


class DictState:
    """A FetchStateView over a dict."""

    def __init__(self, entries: Mapping[str, Validators] | None = None) -> None:
        self.entries = dict(entries or {})

    def get(self, url: str) -> Validators | None:
        return self.entries.get(url)

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        return {u: v.lastmod for u, v in self.entries.items() if u.startswith(prefix) and v.lastmod}

    def body(self, url: str) -> bytes | None:
        return None


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_source(
    state: DictState, *, environ: Mapping[str, str] = ENV, base: str = BASE,
    http: HttpClient | None = None, sessions: tuple[str, ...] = ("2025",),
) -> NyOpenleg:
    settings = SourceSettings(name="ny-openleg", enabled=True, base_url=base, sessions=sessions,
                              key_env=("NY_OPENLEG_API_KEY",))
    client = http or HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    context = SourceContext(settings=settings, http=client, state=state, environ=environ)
    return NyOpenleg(context, clock=lambda: NOW)


CURSOR = f"{API}/bills/updates#session=2025"
FEED = f"{API}/bills/updates/2025-05-06T11:50:00/2025-05-06T18:00:00"


def feed_params(offset: int = 1) -> Any:
    return matchers.query_param_matcher(
        {"type": "processed", "limit": "1000", "offset": str(offset), "key": KEY}
    )


def bill_params() -> Any:
    return matchers.query_param_matcher({"view": "default", "key": KEY})


def split(items: list[BillRef | Checkpoint]) -> tuple[list[BillRef], list[Checkpoint]]:
    return ([i for i in items if isinstance(i, BillRef)],
            [i for i in items if isinstance(i, Checkpoint)])


def test_no_key_is_one_clear_source_error_before_any_request() -> None:
    source = make_source(DictState(), environ={})
    with responses.RequestsMock(), pytest.raises(SourceError) as caught:
        list(source.discover(since=None))
    assert str(caught.value) == "ny-openleg: disabled: no API key; set NY_OPENLEG_API_KEY"


@pytest.mark.parametrize("session", ["2026", "25", "2025-26"])
def test_a_session_that_is_not_an_odd_year_is_a_source_error(session: str) -> None:
    with responses.RequestsMock(), pytest.raises(SourceError, match="is not a session year"):
        list(make_source(DictState(), sessions=(session,)).discover(since=None))


def test_first_poll_pages_through_the_listing_and_checkpoints_the_cursor() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/bills/2025", body=fixture("listing-probe.json"), match=[
            matchers.query_param_matcher({"limit": "1", "offset": "1", "key": KEY})])
        items = list(make_source(DictState()).discover(since=None))
    refs, checkpoints = split(items)
    assert [r.url for r in refs] == [f"{API}/bills/2025?limit=1000&offset=1&full=true"]
    assert items[-1] == checkpoints[0]
    (update,) = checkpoints[0].updates
    assert (update.url, update.validators.lastmod) == (CURSOR, "2025-05-06T18:00:00")
    assert {r.group for r in refs} == {checkpoints[0].group}


def test_a_big_session_is_listed_in_pages_of_a_thousand() -> None:
    probe = json.loads(fixture("listing-probe.json"))
    probe["total"] = 2001
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/bills/2025", json=probe)
        refs, _ = split(list(make_source(DictState()).discover(since=None)))
    assert [r.url.split("offset=")[1] for r in refs] == ["1&full=true", "1001&full=true",
                                                        "2001&full=true"]


def test_an_empty_session_listing_is_a_source_error() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/bills/2025", body=fixture("updates-empty.json"))
        with pytest.raises(SourceError, match=r"^ny-openleg: session 2025 lists no bills"):
            list(make_source(DictState()).discover(since=None))


def test_fetch_a_listing_page_then_parse_every_bill() -> None:
    url = f"{API}/bills/2025?limit=1000&offset=1&full=true"
    ref = BillRef(source="ny-openleg", url=url, session="2025", group="g")
    body = listing(list(BILLS), total=7, offset=1)
    source = make_source(DictState())
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/bills/2025", body=body, match=[matchers.query_param_matcher(
            {"limit": "1000", "offset": "1", "full": "true", "key": KEY})])
        fetched = source.fetch(ref)
    assert list(fetched.documents) == [url]
    assert KEY not in repr(fetched)
    assert sorted(r.identifier for r in source.parse(fetched)) == sorted(
        b[:1] + " " + b[1:] for b in BILLS)


def test_no_change_is_one_feed_request_and_no_bill_fetch() -> None:
    state = DictState({CURSOR: Validators(lastmod="2025-05-06T12:00:00")})
    with responses.RequestsMock() as rsps:
        rsps.get(FEED, body=fixture("updates-empty.json"), match=[feed_params()])
        items = list(make_source(state).discover(since=None))
        assert len(rsps.calls) == 1
    refs, checkpoints = split(items)
    assert refs == []
    (update,) = checkpoints[0].updates
    assert (update.url, update.validators.lastmod) == (CURSOR, "2025-05-06T18:00:00")


def test_feed_gives_each_changed_bill_once_and_skips_what_is_stored() -> None:
    j789 = f"{API}/bills/2025/J789?view=default"
    state = DictState({
        CURSOR: Validators(lastmod="2025-05-06T12:00:00"),
        j789: Validators(lastmod="2025-05-06T16:10:07.010203"),  # fetched in the overlap
    })  # fmt: skip
    with responses.RequestsMock() as rsps:
        rsps.get(FEED, body=fixture("updates-page.json"), match=[feed_params()])
        items = list(make_source(state).discover(since=None))
    refs, checkpoints = split(items)
    assert [(r.url, r.lastmod, r.hint) for r in refs] == [
        (f"{API}/bills/2025/S1234?view=default", "2025-05-06T15:30:45.000001", "S1234"),
        (f"{API}/bills/2025/A5678?view=default", "2025-05-06T14:05:00.500000", "A5678"),
    ]
    assert {r.group for r in refs} == {checkpoints[0].group}
    assert items[-1] is checkpoints[0]
    assert all(KEY not in r.url for r in refs)


def test_a_clock_that_went_back_asks_for_nothing_and_keeps_the_cursor() -> None:
    # 01:20 EST, half an hour after a poll at 01:50 EDT stored "01:50" (November 2, 2025).
    state = DictState({CURSOR: Validators(lastmod="2025-11-02T01:50:00")})
    source = make_source(state)
    source.clock = lambda: datetime.fromisoformat("2025-11-02T06:20:00+00:00")
    with responses.RequestsMock():  # any request would fail the test
        assert list(source.discover(since=None)) == []


def test_feed_is_paged_with_one_based_offsets() -> None:
    first = feed([("S1234", 2025, "2025-05-06T13:00:00")], total=1001, offset=1)
    # The first page claims 1..1 of 1001 items: the next page starts right after it.
    second = feed([("A910", 2025, "2025-05-06T14:00:00")], total=1001, offset=2)
    third = feed([], total=1001, offset=3)
    state = DictState({CURSOR: Validators(lastmod="2025-05-06T12:00:00")})
    with responses.RequestsMock() as rsps:
        rsps.get(FEED, body=first, match=[feed_params(1)])
        rsps.get(FEED, body=second, match=[feed_params(2)])
        rsps.get(FEED, body=third, match=[feed_params(3)])
        refs, _ = split(list(make_source(state).discover(since=None)))
    assert [r.hint for r in refs] == ["S1234", "A910"]


def test_fetch_sends_the_key_as_a_parameter_and_keeps_it_out_of_state() -> None:
    url = f"{API}/bills/2025/S1234?view=default"
    ref = BillRef(source="ny-openleg", url=url, session="2025", lastmod="2025-05-06T15:30:45",
                  group="g", hint="S1234")
    source = make_source(DictState())
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/bills/2025/S1234", body=fixture("bills/S1234-2025.json"),
                 match=[bill_params()])
        fetched = source.fetch(ref)
        assert str(rsps.calls[0].request.url).endswith(f"view=default&key={KEY}")
    (update,) = fetched.updates
    assert update.url == url
    assert update.validators.lastmod == "2025-05-06T15:30:45"
    (record,) = source.parse(fetched)
    assert record.identifier == "S 1234"


def test_a_bill_ref_must_get_the_bill_it_asked_for() -> None:
    ref = BillRef(source="ny-openleg", url="u", session="2025", hint="S1235")
    fetched = Fetched(ref=ref, documents={"u": fixture("bills/S1234-2025.json")})
    with pytest.raises(ParseError, match=r"^u: asked for 2025/S1235, got 2025/S1234$"):
        make_source(DictState()).parse(fetched)


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_429_with_retry_after_is_retried_through_the_client() -> None:
    state = DictState({CURSOR: Validators(lastmod="2025-05-06T12:00:00")})
    responses.get(FEED, status=429, headers={"Retry-After": "1"}, match=[feed_params()])
    responses.get(FEED, body=fixture("updates-empty.json"), match=[feed_params()])
    items = list(make_source(state).discover(since=None))
    assert [type(i) for i in items] == [Checkpoint]
    assert len(responses.calls) == 2
    assert all(f"key={KEY}" in str(call.request.url) for call in responses.calls)


class _TwoAnswers(BaseHTTPRequestHandler):
    """429 with ``Retry-After: 1``, then an empty feed page; records each request's path."""

    answers: ClassVar[list[tuple[int, bytes, dict[str, str]]]] = []
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        status, body, headers = self.answers.pop(0)
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TwoAnswers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_429_sleeps_the_retry_after_through_the_injected_sleep(loopback: str) -> None:
    _TwoAnswers.paths = []
    _TwoAnswers.answers = [
        (429, b"slow down", {"Retry-After": "1"}),
        (200, fixture("updates-empty.json"), {"Content-Type": "application/json"}),
    ]
    sleeps = Sleeps()
    http = HttpClient(user_agent="test", min_interval=0, sleep=sleeps)
    cursor = f"{loopback}/api/3/bills/updates#session=2025"
    state = DictState({cursor: Validators(lastmod="2025-05-06T12:00:00")})
    items = list(make_source(state, base=loopback, http=http).discover(since=None))
    assert sleeps.calls == [1.0]
    assert [type(i) for i in items] == [Checkpoint]
    assert len(_TwoAnswers.paths) == 2
    assert _TwoAnswers.paths[0] == _TwoAnswers.paths[1]
    http.close()


# ----------------------------------------------------------------------------------------------
# Whole polls into a real repository (SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL)
# ----------------------------------------------------------------------------------------------


class Clocked(NyOpenleg):
    """The source with the test's fixed New York clock, as the registry would build it."""

    now = NOW

    def __init__(self, context: SourceContext) -> None:
        super().__init__(context, clock=lambda: Clocked.now)


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path) -> Pipeline:
    settings = Settings(
        config_dir=tmp_path, database_url="", environ=ENV,
        sources={"ny-openleg": SourceSettings(name="ny-openleg", enabled=True, base_url=BASE,
                                              sessions=("2025",),
                                              key_env=("NY_OPENLEG_API_KEY",))},
    )  # fmt: skip
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None, retries=1)
    Clocked.now = NOW
    return Pipeline(settings=settings, repo=repo, http=http, registry={"ny-openleg": Clocked})


def serve_listing(rsps: responses.RequestsMock, bases: list[str]) -> None:
    probe = json.loads(fixture("listing-probe.json"))
    probe["total"] = len(bases)
    rsps.get(f"{API}/bills/2025", json=probe, match=[
        matchers.query_param_matcher({"limit": "1", "offset": "1", "key": KEY})])
    rsps.get(f"{API}/bills/2025", body=listing(bases, total=len(bases), offset=1), match=[
        matchers.query_param_matcher({"limit": "1000", "offset": "1", "full": "true",
                                      "key": KEY})])


def stored_cursor(repo: Repository) -> str | None:
    with repo.read() as session:
        state = repo.fetch_state(session, CURSOR)
    return state.lastmod if state else None


def test_poll_baseline_then_feed_then_nothing(pipeline: Pipeline, repo: Repository) -> None:
    with responses.RequestsMock() as rsps:
        serve_listing(rsps, list(BILLS))
        first = pipeline.poll("ny-openleg")
    assert (first.status, first.inserted, first.failed) == ("ok", 7, 0), first.error
    assert stored_cursor(repo) == "2025-05-06T18:00:00"

    # S 1234 is reported in the Assembly; the feed says so.
    moved = bill_json("S1234")
    moved["result"]["actions"]["items"].append({
        "billId": {"basePrintNo": "S1234", "session": 2025, "printNo": "S1234B",
                   "version": "B"},
        "date": "2025-05-20", "chamber": "ASSEMBLY", "sequenceNo": 12, "text": "REPORTED"})
    Clocked.now = datetime(2025, 5, 20, 18, 0, tzinfo=NEW_YORK)
    window = f"{API}/bills/updates/2025-05-06T17:50:00/2025-05-20T18:00:00"
    with responses.RequestsMock() as rsps:
        rsps.get(window, body=feed([("S1234", 2025, "2025-05-20T17:00:00")]),
                 match=[feed_params()])
        rsps.get(f"{API}/bills/2025/S1234", json=moved, match=[bill_params()])
        second = pipeline.poll("ny-openleg")
    assert (second.status, second.discovered, second.updated, second.inserted) == (
        "ok", 1, 1, 0)
    assert stored_cursor(repo) == "2025-05-20T18:00:00"
    with repo.read() as session:
        kinds = [e.kind for e in repo.events(session, EventFilter()) if not e.baseline]
    assert kinds == ["new-action"]

    Clocked.now = datetime(2025, 5, 20, 20, 0, tzinfo=NEW_YORK)
    quiet = f"{API}/bills/updates/2025-05-20T17:50:00/2025-05-20T20:00:00"
    with responses.RequestsMock() as rsps:
        rsps.get(quiet, body=fixture("updates-empty.json"), match=[feed_params()])
        third = pipeline.poll("ny-openleg")
        assert len(rsps.calls) == 1
    assert (third.status, third.discovered, third.events) == ("ok", 0, 0)


def test_a_failed_bill_keeps_the_cursor_so_the_window_is_read_again(
    pipeline: Pipeline, repo: Repository
) -> None:
    with responses.RequestsMock() as rsps:
        serve_listing(rsps, ["A910"])
        assert pipeline.poll("ny-openleg").status == "ok"
    Clocked.now = datetime(2025, 5, 7, 9, 0, tzinfo=NEW_YORK)
    window = f"{API}/bills/updates/2025-05-06T17:50:00/2025-05-07T09:00:00"
    updates = feed([("A910", 2025, "2025-05-07T08:00:00"), ("S1234", 2025, "2025-05-07T08:01:00")])
    with responses.RequestsMock() as rsps:
        rsps.get(window, body=updates, match=[feed_params()])
        rsps.get(f"{API}/bills/2025/A910", body=fixture("bills/A910-2025.json"),
                 match=[bill_params()])
        rsps.get(f"{API}/bills/2025/S1234", status=500, match=[bill_params()])
        report = pipeline.poll("ny-openleg")
    assert report.status == "partial"
    (failure,) = report.failures
    assert failure.document == f"{API}/bills/2025/S1234?view=default"
    assert failure.error.startswith(f"500 Internal Server Error from {API}/bills/2025/S1234")
    assert KEY not in failure.error
    assert stored_cursor(repo) == "2025-05-06T18:00:00", "the window stays open"


def test_poll_without_a_key_fails_with_one_line(repo: Repository, tmp_path: Path) -> None:
    settings = Settings(config_dir=tmp_path, database_url="", environ={}, sources={
        "ny-openleg": SourceSettings(name="ny-openleg", enabled=True, sessions=("2025",),
                                     key_env=("NY_OPENLEG_API_KEY",))})
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    pipeline = Pipeline(settings=settings, repo=repo, http=http,
                        registry={"ny-openleg": NyOpenleg})
    with responses.RequestsMock():
        report = pipeline.poll("ny-openleg")
    assert report.status == "failed"
    assert report.error == "ny-openleg: disabled: no API key; set NY_OPENLEG_API_KEY"
    assert report.requests == 0


def test_stored_state_never_holds_the_key(pipeline: Pipeline, repo: Repository) -> None:
    with responses.RequestsMock() as rsps:
        serve_listing(rsps, ["S1234"])
        assert pipeline.poll("ny-openleg").status == "ok"
    with repo.read() as session:
        rows = session.execute(sa.select(FetchStateRow)).scalars().all()
        stored = [(r.url, r.etag, r.last_modified, r.sha256, r.lastmod) for r in rows]
        bill = repo.get_bill(session, BillKey.parse("ny/2025/S 1234"))
    assert {url for url, *_ in stored} == {
        f"{API}/bills/2025?limit=1000&offset=1&full=true", CURSOR}
    assert KEY not in json.dumps(stored)
    assert bill is not None
    assert bill.url == "https://www.nysenate.gov/legislation/bills/2025/S1234"
