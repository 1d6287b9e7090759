"""pa-palegis: the page parsers on the project-written palegis.us pages (tests/fixtures/
pa-palegis, in the structure sources.md documents), malformed and hostile pages, and
discover/fetch/parse through the real HttpClient against ``responses``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest
import responses
from responses import matchers
from typer.testing import CliRunner

from scrapers.pa_palegis import (
    NAME,
    PaPalegis,
    Session,
    identity_from_file_name,
    identity_from_url,
    parse_bill_page,
    parse_index,
)
from tests.conftest import PROJECT_FIXTURES
from tracker.cli import app
from tracker.errors import ParseError, SourceError
from tracker.http import HttpClient
from tracker.models import BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.pipeline import Pipeline
from tracker.records import BillRecord, BillRef, Checkpoint, Validators
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext
from tracker.storage.repository import BillFilter, EventFilter, Repository

FIXTURES = PROJECT_FIXTURES / "pa-palegis"
BASE = "http://pa.test"
REAL = "https://www.palegis.us"
INDEX_PATH = "/legislation/bills/bill-index?&display=index&sessyr=2025&sessind=0&billbody="
INDEX_H = f"{BASE}{INDEX_PATH}H"
INDEX_S = f"{BASE}{INDEX_PATH}S"


def page(name: str) -> bytes:
    return (FIXTURES / "bills" / f"2025-{name}.html").read_bytes()


def index(body: str) -> bytes:
    return (FIXTURES / f"bill-index-2025-0-{body}.html").read_bytes()


def load(name: str, *, body: bytes | None = None, url: str | None = None) -> BillRecord:
    document = f"2025-{name}.html"
    return parse_bill_page(page(name) if body is None else body, document=document,
                           url=url or f"{BASE}/legislation/bills/2025/{name}")


# ----------------------------------------------------------------------------------------------
# Bill pages, every fixture
# ----------------------------------------------------------------------------------------------

# page -> (key, bill type, stage, title start, actions, versions, sponsors)
PAGES: dict[str, tuple[str, BillType, Stage, str, int, int, int]] = {
    "hb1234": ("pa/2025/HB 1234", BillType.BILL, Stage.PASSED_ORIGIN,
               "An Act amending Title 75 (Vehicles)", 10, 2, 6),
    "sb456": ("pa/2025/SB 456", BillType.BILL, Stage.ENACTED,
              "An Act providing for language access", 22, 2, 3),
    "hb789": ("pa/2025/HB 789", BillType.BILL, Stage.IN_COMMITTEE,
              "An Act amending the act of March 10, 1949", 1, 1, 2),
    "hr12": ("pa/2025/HR 12", BillType.RESOLUTION, Stage.ADOPTED,
             "A Resolution recognizing the month of May 2025", 2, 1, 2),
    "hb321": ("pa/2025/HB 321", BillType.BILL, Stage.VETOED,
              "An Act amending the act of July 14, 1961", 18, 1, 2),
}  # fmt: skip


def test_the_table_covers_every_page_fixture() -> None:
    found = {p.stem.removeprefix("2025-") for p in (FIXTURES / "bills").glob("*.html")}
    assert found == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page(name: str) -> None:
    key, bill_type, stage, title, actions, versions, sponsors = PAGES[name]
    record = load(name)
    bill = normalize(record)
    assert str(bill.key) == key
    assert bill.source == "pa-palegis"
    assert bill.bill_type is bill_type
    assert bill.stage is stage
    assert bill.title.startswith(title)
    assert (len(bill.actions), len(bill.versions), len(bill.sponsors)) == (actions, versions,
                                                                          sponsors)
    assert bill.sponsors[0].primary and not any(s.primary for s in bill.sponsors[1:])
    assert bill.url == f"{REAL}/legislation/bills/2025/{name}"
    assert record.document == f"2025-{name}.html"
    assert all(a.description == " ".join(a.description.split()) for a in bill.actions)


def test_title_is_the_teaser_and_the_folded_rest_without_the_toggles() -> None:
    record = load("hb1234")
    assert record.title == (
        "An Act amending Title 75 (Vehicles) of the Pennsylvania Consolidated Statutes, in "
        "licensing of drivers, further providing for application for driver's license or "
        "learner's permit and for issuance and content of driver's license."
    )
    assert "..." not in record.title and "Read More" not in record.title


def test_history_switches_chambers_and_cuts_dates_and_votes() -> None:
    record = load("hb1234")
    rows = [(a.date, a.actor, a.description, a.extras) for a in record.actions]
    assert rows[0] == (date(2025, 1, 21), Chamber.LOWER, "Referred to TRANSPORTATION",
                       {"printers_number": "1456"})
    assert rows[8] == (date(2025, 3, 18), Chamber.LOWER,
                       "Third consideration and final passage", {"vote": "102-101"})
    assert rows[9] == (date(2025, 3, 26), Chamber.UPPER, "Referred to TRANSPORTATION", {})
    assert not any(a.description.startswith("(Remarks") for a in record.actions)


def test_the_governors_rows_are_the_executives() -> None:
    record = load("sb456")
    tail = [(a.actor, a.description) for a in record.actions[-3:]]
    assert tail == [
        (Chamber.UPPER, "Presented to the Governor"),
        (Chamber.EXECUTIVE, "Approved by the Governor"),
        (Chamber.EXECUTIVE, "Act No. 27 of 2025"),
    ]
    signed = [(a.actor, a.description) for a in record.actions
              if a.description.startswith("Signed")]
    assert signed == [(Chamber.UPPER, "Signed in Senate"), (Chamber.LOWER, "Signed in House")]
    assert record.extras["last_action"] == "Act No. 27 of 2025, July 3, 2025"


def test_abbreviated_months() -> None:
    seconds = [(a.actor, a.date) for a in load("hb321").actions
               if a.description == "Second consideration"]
    assert seconds == [(Chamber.LOWER, date(2025, 3, 25)),
                       (Chamber.UPPER, date(2025, 9, 3))]  # "Sept. 3, 2025"
    assert load("hb321").actions[-1].date == date(2025, 11, 7)  # "Nov. 7, 2025"


def test_sponsors_prime_then_shown_and_folded_cosponsors() -> None:
    record = load("hb1234")
    assert [(s.name, s.primary) for s in record.sponsors] == [
        ("Maria Delgado", True), ("Kevin Tran", False), ("Aisha Bell", False),
        ("Jonah Weiss", False), ("Ruth Amari", False), ("Sean O'Rourke", False),
    ]
    assert record.sponsors[0].extras == {"chamber": "lower", "party": "D", "district": "180"}
    assert load("sb456").sponsors[0].extras["chamber"] == "upper"


def test_printers_numbers_are_versions_with_their_pdf() -> None:
    record = load("sb456")
    assert [(v.name, v.date, v.url) for v in record.versions] == [
        ("Printer's No. 389", date(2025, 2, 4),
         f"{REAL}/legislation/bills/text/PDF/2025/0/SB456/PN389"),
        ("Printer's No. 1120", date(2025, 6, 2),
         f"{REAL}/legislation/bills/text/PDF/2025/0/SB456/PN1120"),
    ]


def test_html_link_is_used_when_there_is_no_pdf_and_accordion_links_are_not_versions() -> None:
    body = re.sub(rb'\s*<a class="btn btn-sm" href="/legislation/bills/text/PDF/[^"]*"[^>]*>'
                  rb'<span class="fa-solid fa-file-pdf"></span></a>', b"", page("hb789"))
    (version,) = load("hb789", body=body).versions
    assert version.url == f"{REAL}/legislation/bills/text/HTM/2025/0/HB789/PN901"
    assert "fiscal" not in (version.url or "")


def test_hostile_title_is_carried_as_plain_text() -> None:
    hostile = ("&lt;script&gt;alert(1)&lt;/script&gt; An Act\r\nBcc: victim@example.org "
               "&lt;img src=x onerror=alert(2)&gt;")
    body = re.sub(rb'(<div id="shortTitle-wrapper">).*?(<span id="shortTitle-dots">)',
                  rb"\g<1>" + hostile.encode() + rb"\g<2>", page("hb789"), flags=re.S)
    record = load("hb789", body=body)
    assert record.title.startswith(
        "<script>alert(1)</script> An Act Bcc: victim@example.org <img src=x onerror=alert(2)> "
        "in terms and courses of study")
    assert "\r" not in record.title and "\n" not in record.title


# ----------------------------------------------------------------------------------------------
# Which bill a page is
# ----------------------------------------------------------------------------------------------


def without_canonical(body: bytes) -> bytes:
    return re.sub(rb'<link rel="canonical"[^>]*>', b"", body)


def test_identity_from_the_canonical_link_the_url_or_the_file_name() -> None:
    bare = without_canonical(page("hb789"))
    by_url = parse_bill_page(bare, document="d", url=f"{BASE}/legislation/bills/2025/hb789")
    by_file = parse_bill_page(bare, document="d", url="/tmp/saved/2025-hb789.html")
    by_canonical = parse_bill_page(page("hb789"), document="d", url="/tmp/whatever.html")
    keys = {(r.session, r.identifier) for r in (by_url, by_file, by_canonical)}
    assert keys == {("2025", "HB 789")}


@pytest.mark.parametrize(
    ("text", "session", "identifier"),
    [
        (f"{REAL}/legislation/bills/2025/hb1234", "2025", "HB 1234"),
        (f"{REAL}/legislation/bills/2025/1/sb5", "2025-1", "SB 5"),
        ("http://pa.test/legislation/bills/2023/HR12/", "2023", "HR 12"),
    ],
)
def test_identity_from_urls(text: str, session: str, identifier: str) -> None:
    identity = identity_from_url(text)
    assert identity is not None
    assert (identity.session, identity.identifier) == (session, identifier)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2025-hb1234.html", ("2025", "HB 1234")), ("2025-1-sb5.htm", ("2025-1", "SB 5")),
     ("C:\\pages\\2025-sr3.html", ("2025", "SR 3")), ("hb1234.html", None),
     ("2025-xb1.html", None)],
)
def test_identity_from_file_names(name: str, expected: tuple[str, str] | None) -> None:
    identity = identity_from_file_name(name)
    found = (identity.session, identity.identifier) if identity else None
    assert found == expected


def test_a_special_session_page_keys_on_its_session() -> None:
    body = without_canonical(page("hb789")).replace(b"House Bill 789", b"House Bill 5")
    record = parse_bill_page(body, document="d", url=f"{BASE}/legislation/bills/2025/1/hb5")
    assert (record.session, record.identifier) == ("2025-1", "HB 5")
    assert record.url == f"{REAL}/legislation/bills/2025/1/hb5"


@pytest.mark.parametrize(
    ("body", "url", "message"),
    [
        (page("hb789"), f"{BASE}/legislation/bills/2025/hb790",
         r"^d: the page is 2025/HB 789 but was asked for as 2025/HB 790$"),
        (without_canonical(page("hb789")), "/tmp/page.html", r"^d: cannot tell which bill"),
        (page("hb789").replace(b"<title>House Bill 789", b"<title>House Bill 788"),
         f"{BASE}/legislation/bills/2025/hb789", r"^d: the page title .* does not name HB 789"),
    ],
)
def test_a_page_that_is_not_the_bill_asked_for_is_a_parse_error(
    body: bytes, url: str, message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        parse_bill_page(body, document="d", url=url)


# ----------------------------------------------------------------------------------------------
# Unexpected shapes fail loudly
# ----------------------------------------------------------------------------------------------


def edited(name: str, pattern: bytes, replacement: bytes) -> bytes:
    body, count = re.subn(pattern, replacement, page(name), flags=re.S)
    assert count, pattern
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (edited("hb789", rb'id="shortTitle-wrapper"', b'id="title"'),
         r"^2025-hb789\.html: no div#shortTitle-wrapper element$"),
        (edited("hb789", rb'<div id="shortTitle-wrapper">.*?</div>',
                b'<div id="shortTitle-wrapper"></div>'),
         r"div#shortTitle-wrapper is empty"),
        (edited("hb789", rb'id="collapseActions"', b'id="actions"'),
         r"no history rows \(div#billActions div#collapseActions table tr\)"),
        (edited("hb789", rb"Referred to EDUCATION, Feb\. 10, 2025", b"Referred to EDUCATION"),
         r"history row without a date: 'Referred to EDUCATION'"),
        (edited("hb789", rb"Feb\. 10, 2025</td>", b"Foo 10, 2025</td>"),
         r"history row with a bad date: 'Referred to EDUCATION, Foo 10, 2025'"),
        (edited("hb789", rb"Feb\. 10, 2025</td>", b"Feb. 30, 2025</td>"),
         r"history row with a bad date"),
        (b"<html><body><p>There is a problem generating the page you requested.</p></body>"
         b"</html>", r"the site answered with its error page"),
        (b"", r"^2025-hb789\.html: empty document$"),
        (b"\x00\x01 not html", r"^2025-hb789\.html: no div#shortTitle-wrapper element$"),
    ],
)
def test_unexpected_page_shapes_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        load("hb789", body=body)


def test_a_printers_number_row_without_a_number_is_a_parse_error() -> None:
    body = edited("hb789", rb"Printer's No\. 901", b"Printer's copy")
    body = body.replace(b"/PN901", b"/current")
    with pytest.raises(ParseError, match=r"div#section-pn row without a printer's number"):
        load("hb789", body=body)


# ----------------------------------------------------------------------------------------------
# The index
# ----------------------------------------------------------------------------------------------


def test_index_lists_each_bill_once_in_page_order() -> None:
    entries = parse_index(index("H"), document="H", page_url=INDEX_H)
    assert [(e.url, e.identity.identifier) for e in entries] == [
        (f"{BASE}/legislation/bills/2025/hb321", "HB 321"),
        (f"{BASE}/legislation/bills/2025/hb789", "HB 789"),
        (f"{BASE}/legislation/bills/2025/hb1234", "HB 1234"),
        (f"{BASE}/legislation/bills/2025/hr12", "HR 12"),  # listed twice upstream
    ]
    assert len({e.lastmod for e in entries}) == 4
    assert all(re.fullmatch(r"row:[0-9a-f]{20}", e.lastmod) for e in entries)


def test_a_changed_last_action_moves_only_that_bills_lastmod() -> None:
    before = {e.url: e.lastmod for e in parse_index(index("H"), document="H", page_url=INDEX_H)}
    moved = index("H").replace(b"Referred to EDUCATION, Feb. 10, 2025",
                               b"Reported as committed, May 12, 2025")
    after = {e.url: e.lastmod for e in parse_index(moved, document="H", page_url=INDEX_H)}
    changed = [url for url in before if before[url] != after[url]]
    assert changed == [f"{BASE}/legislation/bills/2025/hb789"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (index("H")[:-200], r"^H: truncated: the page does not end with </html>$"),
        (index("H").replace(b'href="/legislation/bills/2025/hb789"', b'href="/about"'),
         r"^H: a\.bill link '/about' \('HB 789'\) is not a bill page$"),
    ],
)
def test_broken_index_pages_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_index(body, document="H", page_url=INDEX_H)


# ----------------------------------------------------------------------------------------------
# discover / fetch / parse through the real HttpClient
# ----------------------------------------------------------------------------------------------


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


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_source(
    state: DictState, *, base: str | None = BASE, sessions: tuple[str, ...] = ("2025",),
    http: HttpClient | None = None,
) -> PaPalegis:
    settings = SourceSettings(name="pa-palegis", enabled=True, base_url=base, sessions=sessions)
    client = http or HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return PaPalegis(SourceContext(settings=settings, http=client, state=state))


def serve_indexes(rsps: responses.RequestsMock, *, base: str = BASE,
                  house: bytes | None = None) -> None:
    for body, content in (("H", house or index("H")), ("S", index("S"))):
        rsps.get(f"{base}/legislation/bills/bill-index", body=content, match=[
            matchers.query_string_matcher(f"&display=index&sessyr=2025&sessind=0&billbody={body}")
        ])


def split(items: list[BillRef | Checkpoint]) -> tuple[list[BillRef], list[Checkpoint]]:
    return ([i for i in items if isinstance(i, BillRef)],
            [i for i in items if isinstance(i, Checkpoint)])


def test_first_discover_yields_every_bill_then_each_index_checkpoint() -> None:
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        items = list(make_source(DictState()).discover(since=None))
        assert len(rsps.calls) == 2
    refs, checkpoints = split(items)
    assert [(r.url.removeprefix(f"{BASE}/legislation/bills/"), r.hint, r.group) for r in refs] == [
        ("2025/hb321", "HB 321", INDEX_H), ("2025/hb789", "HB 789", INDEX_H),
        ("2025/hb1234", "HB 1234", INDEX_H), ("2025/hr12", "HR 12", INDEX_H),
        ("2025/sb456", "SB 456", INDEX_S),
    ]
    assert [c.group for c in checkpoints] == [INDEX_H, INDEX_S]
    assert items.index(checkpoints[0]) == 4, "after the House bills, before the Senate's"
    assert [u.url for c in checkpoints for u in c.updates] == [INDEX_H, INDEX_S]
    assert {r.session for r in refs} == {"2025"}


def test_bills_whose_row_did_not_move_are_not_yielded() -> None:
    entries = parse_index(index("H"), document="H", page_url=INDEX_H)
    state = DictState({e.url: Validators(lastmod=e.lastmod) for e in entries})
    moved = index("H").replace(b"Referred to EDUCATION, Feb. 10, 2025",
                               b"Reported as committed, May 12, 2025")
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps, house=moved)
        refs, _ = split(list(make_source(state).discover(since=None)))
    assert [r.hint for r in refs] == ["HB 789", "SB 456"]


def test_an_unchanged_index_yields_nothing_at_all() -> None:
    state = DictState({
        url: Validators(sha256=hashlib.sha256(index(body)).hexdigest())
        for url, body in ((INDEX_H, "H"), (INDEX_S, "S"))
    })  # fmt: skip
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        items = list(make_source(state).discover(since=None))
        assert len(rsps.calls) == 2
    assert items == []


def test_an_index_listing_no_bills_is_a_source_error() -> None:
    empty = re.sub(rb'<div class="bill-index">.*?</main>', b"</main>", index("H"), flags=re.S)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_indexes(rsps, house=empty)
        with pytest.raises(SourceError) as caught:
            list(make_source(DictState()).discover(since=None))
    assert str(caught.value) == (
        f"pa-palegis: the House bill index of session 2025 lists no bills ({INDEX_H})")


def test_an_index_that_keeps_failing_is_one_line_naming_it() -> None:
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None, retries=2)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{BASE}/legislation/bills/bill-index", status=503)
        with pytest.raises(SourceError) as caught:
            list(make_source(DictState(), http=http).discover(since=None))
        assert len(rsps.calls) == 3  # tracker.http retried twice
    message = str(caught.value)
    # (tracker.http writes the URL back without the empty leading query parameter)
    assert message == ("pa-palegis: the House bill index of session 2025 could not be read: "
                       f"503 Service Unavailable from {INDEX_H.replace('?&', '?')} after 2 "
                       "retries")
    assert "\n" not in message


@pytest.mark.parametrize(("session", "year", "special"), [("2025", 2025, 0), ("2025-1", 2025, 1)])
def test_sessions(session: str, year: int, special: int) -> None:
    parsed = Session.parse(session)
    assert (parsed.year, parsed.special) == (year, special)
    source = make_source(DictState())
    assert source.index_url(parsed, "S").endswith(f"sessyr={year}&sessind={special}&billbody=S")


@pytest.mark.parametrize("session", ["2024", "25", "2025-a", "2025/1"])
def test_a_bad_session_is_a_source_error(session: str) -> None:
    with pytest.raises(SourceError, match=rf"session '{re.escape(session)}' is not a session"):
        list(make_source(DictState(), sessions=(session,)).discover(since=None))


def test_fetch_then_parse_one_page() -> None:
    url = f"{BASE}/legislation/bills/2025/hb1234"
    ref = BillRef(source="pa-palegis", url=url, session="2025", lastmod="row:abc", group="g")
    source = make_source(DictState())
    with responses.RequestsMock() as rsps:
        rsps.get(url, body=page("hb1234"), content_type="text/html")
        fetched = source.fetch(ref)
    (update,) = fetched.updates
    assert (update.url, update.validators.lastmod) == (url, "row:abc")
    (record,) = source.parse(fetched)
    assert record.identifier == "HB 1234"
    assert record.document == url


def test_the_real_site_is_polled_three_seconds_apart() -> None:
    fake = FakeTime()
    http = HttpClient(user_agent="test", min_interval=0, sleep=fake.sleep, clock=fake.clock)
    source = make_source(DictState(), base=None, http=http)
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps, base=REAL)
        refs, _ = split(list(source.discover(since=None)))
        for ref in refs[:2]:
            rsps.get(ref.url, body=page(ref.url.rsplit("/", 1)[1]))
            source.fetch(ref)
    assert refs[0].url == f"{REAL}/legislation/bills/2025/hb321"
    assert fake.sleeps == [3.0, 3.0, 3.0]  # four requests, three waits


def test_a_mirror_or_test_server_sets_its_own_pace() -> None:
    fake = FakeTime()
    http = HttpClient(user_agent="test", min_interval=0, sleep=fake.sleep, clock=fake.clock)
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        list(make_source(DictState(), http=http).discover(since=None))
    assert fake.sleeps == []


# ----------------------------------------------------------------------------------------------
# Whole polls into a real repository (SQLite, or PostgreSQL with TRACKER_TEST_DATABASE_URL)
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def pipeline(repo: Repository, tmp_path: Path) -> Pipeline:
    settings = Settings(config_dir=tmp_path, database_url="", sources={
        "pa-palegis": SourceSettings(name="pa-palegis", enabled=True, base_url=BASE,
                                     sessions=("2025",))})
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None, retries=1)
    return Pipeline(settings=settings, repo=repo, http=http, registry={"pa-palegis": PaPalegis})


def serve_pages(rsps: responses.RequestsMock, *, failing: str | None = None) -> None:
    for name in PAGES:
        url = f"{BASE}/legislation/bills/2025/{name}"
        if name == failing:
            rsps.get(url, status=500)
        else:
            rsps.get(url, body=page(name), content_type="text/html")


def test_poll_stores_every_bill_then_only_reads_the_indexes(
    pipeline: Pipeline, repo: Repository
) -> None:
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        serve_pages(rsps)
        first = pipeline.poll("pa-palegis")
    assert (first.status, first.inserted, first.failed) == ("ok", 5, 0), first.error
    with repo.read() as session:
        stored = {b.key: b.stage for b in repo.list_bills(session, BillFilter(source=NAME))}
    assert stored == {key: stage.value for key, _, stage, *_ in PAGES.values()}

    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        second = pipeline.poll("pa-palegis")
        assert len(rsps.calls) == 2, "the two index pages only"
    assert (second.status, second.discovered, second.fetched, second.events) == ("ok", 0, 0, 0)

    moved_index = index("H").replace(b"Referred to EDUCATION, Feb. 10, 2025",
                                     b"Reported as committed, May 12, 2025")
    moved_page = page("hb789").replace(
        b"</tbody>", b"<tr><td></td><td>Reported as committed, May 12, 2025</td></tr></tbody>")
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps, house=moved_index)
        rsps.get(f"{BASE}/legislation/bills/2025/hb789", body=moved_page)
        third = pipeline.poll("pa-palegis")
    assert (third.status, third.discovered, third.updated) == ("ok", 1, 1)
    with repo.read() as session:
        latest = [(e.bill, e.kind) for e in repo.events(session, EventFilter()) if not e.baseline]
    assert latest == [("pa/2025/HB 789", "new-action"), ("pa/2025/HB 789", "stage-change")]


def test_a_bill_page_that_keeps_failing_is_that_bills_failure_and_is_retried(
    pipeline: Pipeline, repo: Repository
) -> None:
    with responses.RequestsMock() as rsps:
        serve_indexes(rsps)
        serve_pages(rsps, failing="hb1234")
        report = pipeline.poll("pa-palegis")
    assert (report.status, report.inserted) == ("partial", 4)
    (failure,) = report.failures
    assert failure.document == f"{BASE}/legislation/bills/2025/hb1234"
    assert failure.error == (f"500 Internal Server Error from {BASE}/legislation/bills/2025/"
                             "hb1234 after 1 retry")

    with responses.RequestsMock() as rsps:  # the same indexes: only the failed bill again
        serve_indexes(rsps)
        rsps.get(f"{BASE}/legislation/bills/2025/hb1234", body=page("hb1234"))
        again = pipeline.poll("pa-palegis")
        assert len(rsps.calls) == 3
    assert (again.status, again.discovered, again.inserted) == ("ok", 1, 1)


# ----------------------------------------------------------------------------------------------
# tracker inspect
# ----------------------------------------------------------------------------------------------


def test_tracker_inspect_reads_saved_pages_and_folders(tmp_path: Path) -> None:
    saved = tmp_path / "2025-hb789.html"
    saved.write_bytes(without_canonical(page("hb789")))
    runner = CliRunner()
    result = runner.invoke(app, ["inspect", "pa-palegis", str(saved), str(FIXTURES / "bills")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["key"], r["stage"]) for r in rows] == [
        ("pa/2025/HB 789", "in-committee"),
        ("pa/2025/HB 1234", "passed-origin"), ("pa/2025/HB 321", "vetoed"),
        ("pa/2025/HB 789", "in-committee"), ("pa/2025/HR 12", "adopted"),
        ("pa/2025/SB 456", "enacted"),
    ]
