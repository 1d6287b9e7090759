"""us-govinfo: the BILLSTATUS parser on every recorded sample, hostile documents, and discover
against the recorded sitemaps served by ``responses`` through the real HttpClient."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import responses
from responses import matchers

import scrapers.us_govinfo
from scrapers.us_govinfo import UsGovinfo, parse_billstatus, parse_sitemap
from tests.conftest import shared
from tracker.errors import ParseError, SourceError
from tracker.http import HttpClient
from tracker.models import BillType, Chamber, Stage
from tracker.records import BillRecord, BillRef, Checkpoint, Fetched, Validators
from tracker.settings import SourceSettings
from tracker.source import SourceContext
from tracker.stages import derive_stage

BILLSTATUS = ("govinfo-billstatus",)
SITEMAPS = ("govinfo-sitemap", "BILLSTATUS-bulkdata")
BASE = "http://govinfo.test"


def load(relative: str) -> BillRecord:
    path = shared(*BILLSTATUS, *relative.split("/"))
    return parse_billstatus(path.read_bytes(), document=relative)


def stage_of(record: BillRecord) -> Stage:
    return derive_stage(record.actions, bill_type=record.bill_type)


# ----------------------------------------------------------------------------------------------
# Parser, on every recorded sample
# ----------------------------------------------------------------------------------------------

# file -> (key, title, bill type, stage, actions after folding)
SAMPLES: dict[str, tuple[str, str, BillType, Stage, int]] = {
    "immigration/117/bills/hr/hr1177/fdsys_billstatus.xml":
        ("us/117/HR 1177", "U.S. Citizenship Act", BillType.BILL, Stage.IN_COMMITTEE, 6),
    "immigration/117/bills/hr/hr1593/fdsys_billstatus.xml":
        ("us/117/HR 1593", "Adoptee Citizenship Act of 2021", BillType.BILL, Stage.IN_COMMITTEE,
         3),
    "immigration/117/bills/hr/hr6/fdsys_billstatus.xml":
        ("us/117/HR 6", "American Dream and Promise Act of 2021", BillType.BILL,
         Stage.PASSED_ORIGIN, 18),
    "immigration/117/bills/s/s3157/fdsys_billstatus.xml":
        ("us/117/S 3157", "Bridging the Gap for New Americans Act", BillType.BILL, Stage.ENACTED,
         17),
    "immigration/117/bills/s/s967/fdsys_billstatus.xml":
        ("us/117/S 967", "Adoptee Citizenship Act of 2021", BillType.BILL, Stage.IN_COMMITTEE,
         2),
    "legacy/BILLSTATUS-114s1300.xml":
        ("us/114/S 1300", "Adoptive Family Relief Act", BillType.BILL, Stage.ENACTED, 18),
    "legacy/BILLSTATUS-114sjres8.xml":
        ("us/114/SJRES 8", "A joint resolution providing for congressional disapproval under "
         "chapter 8 of title 5, United States Code, of the rule submitted by the National Labor "
         "Relations Board relating to representation case procedures.",
         BillType.JOINT_RESOLUTION, Stage.VETOED, 27),
    "v1/BILLSTATUS-116hr5053.xml":
        ("us/116/HR 5053", "Justice for Juveniles Act", BillType.BILL, Stage.IN_COMMITTEE, 2),
    "v1/BILLSTATUS-117s35.xml":
        ("us/117/S 35", "Officer Eugene Goodman Congressional Gold Medal Act", BillType.BILL,
         Stage.PASSED_ORIGIN, 8),
    "v3/BILLSTATUS-114hr5278.xml":
        ("us/114/HR 5278", "PROMESA", BillType.BILL, Stage.PASSED_ORIGIN, 33),
    "v3/BILLSTATUS-117hr2471.xml":
        ("us/117/HR 2471", "Consolidated Appropriations Act, 2022", BillType.BILL, Stage.ENACTED,
         45),
    "v3/BILLSTATUS-117hr6658.xml":
        ("us/117/HR 6658", "Protecting Family and Small Business Tax Cuts Act of 2022",
         BillType.BILL, Stage.IN_COMMITTEE, 2),
    "v3/BILLSTATUS-117s35.xml":
        ("us/117/S 35", "Officer Eugene Goodman Congressional Gold Medal Act", BillType.BILL,
         Stage.PASSED_ORIGIN, 8),
    "v3/BILLSTATUS-117sconres7.xml":
        ("us/117/SCONRES 7", "A concurrent resolution recognizing the heroism of the United "
         "States Capitol personnel and journalists during the insurrectionist attack on the "
         "United States Capitol on January 6, 2021.", BillType.CONCURRENT_RESOLUTION,
         Stage.IN_COMMITTEE, 2),
}  # fmt: skip


def test_the_table_covers_every_recorded_sample() -> None:
    folder = shared(*BILLSTATUS)
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*.xml")}
    assert found == set(SAMPLES)


@pytest.mark.parametrize("relative", sorted(SAMPLES))
def test_sample(relative: str) -> None:
    key, title, bill_type, stage, action_count = SAMPLES[relative]
    record = load(relative)
    assert f"{record.jurisdiction}/{record.session}/{record.identifier}" == key
    assert record.source == "us-govinfo"
    assert record.title == title
    assert record.bill_type is bill_type
    assert stage_of(record) is stage
    assert len(record.actions) == action_count
    assert record.document == relative


@pytest.mark.parametrize("relative", sorted(SAMPLES))
def test_white_space_between_elements_carries_nothing(
    relative: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # parse_billstatus drops it while parsing (xml_root's data_only); the record must be
    # the one read from the whole tree.
    dropped = load(relative)
    whole = scrapers.us_govinfo.xml_root

    def keeping(body: bytes, *, document: str, data_only: bool = False) -> object:
        return whole(body, document=document)

    monkeypatch.setattr(scrapers.us_govinfo, "xml_root", keeping)
    assert load(relative) == dropped


@pytest.mark.parametrize("relative", sorted(SAMPLES))
def test_sample_invariants(relative: str) -> None:
    record = load(relative)
    dates = [action.date for action in record.actions]
    assert dates == sorted(dates), "oldest first"
    described = [(a.date, a.description) for a in record.actions]
    introduced = [d for _, d in described if d.startswith("Introduced in")]
    assert len(introduced) == 1, "the LoC Intro-H/1000 pair is one action"
    assert record.actions[0].description.startswith("Introduced in")
    assert all(a.description == " ".join(a.description.split()) for a in record.actions)
    assert record.sponsors[0].primary
    assert record.sponsors[0].name
    cosponsors = [s for s in record.sponsors if not s.primary]
    assert record.extras["cosponsor_count"] == len(cosponsors)
    assert record.upstream_updated_at is not None
    assert record.upstream_updated_at.tzinfo is not None
    assert record.upstream_updated_at.utcoffset() == UTC.utcoffset(None)
    assert record.url is not None
    assert record.url.startswith("https://www.congress.gov/bill/")
    assert "<" not in record.summary


def test_sponsors_subjects_summary_versions_of_hr1593() -> None:
    record = load("immigration/117/bills/hr/hr1593/fdsys_billstatus.xml")
    assert record.sponsors[0].name == "Rep. Smith, Adam [D-WA-9]"
    assert record.sponsors[0].extras["bioguide_id"] == "S000510"
    assert record.extras["cosponsor_count"] == 63
    assert record.subjects[0] == "Immigration"  # the policy area first
    assert len(record.subjects) == len(set(record.subjects)) > 1
    assert record.summary.startswith("Adoptee Citizenship Act of 2021 This bill provides")
    assert record.versions[0].name == "Introduced in House"
    assert record.versions[0].date == date(2021, 3, 3)
    assert record.url == "https://www.congress.gov/bill/117th-congress/house-bill/1593"
    assert record.upstream_updated_at == datetime(2022, 12, 16, 14, 11, 8, tzinfo=UTC)


def test_legacy_subjects_and_policy_area() -> None:
    record = load("legacy/BILLSTATUS-114s1300.xml")
    assert record.subjects[0] == "Immigration"
    assert "Adoption and foster care" in record.subjects
    assert record.extras["laws"] == ["Public Law 114-70"]
    assert record.extras["schema_version"] == "legacy"


def test_hr2471_enacted_with_its_law() -> None:
    record = load("v3/BILLSTATUS-117hr2471.xml")
    assert record.actions[-1].description == "Became Public Law No: 117-103."
    assert record.actions[-1].actor is Chamber.EXECUTIVE
    assert record.extras["laws"] == ["Public Law 117-103"]
    assert len(record.versions) == 7
    assert len(record.subjects) > 200
    assert record.url == "https://www.congress.gov/bill/117th-congress/house-bill/2471"


def test_referral_repeated_per_committee_is_one_action_with_all_committees() -> None:
    record = load("immigration/117/bills/hr/hr1177/fdsys_billstatus.xml")
    referrals = [a for a in record.actions if a.description.startswith("Referred to the Committee")]
    assert len(referrals) == 1
    assert len(referrals[0].extras["committees"]) == 12
    assert referrals[0].extras["codes"] == ["H11100"]


def test_loc_restatements_fold_into_the_chamber_action() -> None:
    record = load("v3/BILLSTATUS-117s35.xml")
    passed = [a for a in record.actions if "Passed" in a.description]
    assert len(passed) == 1
    # the Senate's own wording wins over the LoC label
    assert passed[0].description.startswith("Passed Senate with an amendment")
    assert passed[0].extras["codes"] == ["17000"]
    assert passed[0].actor is Chamber.UPPER
    discharged = [a for a in record.actions if "discharged" in a.description]
    assert len(discharged) == 1


def test_loc_restatement_without_the_chamber_citation_folds() -> None:
    record = load("legacy/BILLSTATUS-114s1300.xml")
    house = [a for a in record.actions if "suspend the rules and pass" in a.description]
    assert [a.description for a in house] == [
        "Mr. Franks (AZ) moved to suspend the rules and pass the bill.",
        "On motion to suspend the rules and pass the bill Agreed to by voice vote. "
        "(text: CR H6815-6816)",
    ]
    assert house[1].extras["codes"] == ["H37300", "8000"]


def test_v1_and_v3_give_the_same_title_and_actions() -> None:
    old, new = load("v1/BILLSTATUS-117s35.xml"), load("v3/BILLSTATUS-117s35.xml")
    assert old.title == new.title
    assert old.identifier == new.identifier
    as_tuples = [
        [(a.date, a.actor, a.description, a.classification) for a in r.actions] for r in (old, new)
    ]
    assert as_tuples[0] == as_tuples[1]
    assert old.subjects == new.subjects


def test_veto_is_the_presidents_even_when_recorded_by_the_house_system() -> None:
    record = load("legacy/BILLSTATUS-114sjres8.xml")
    veto = next(a for a in record.actions if a.description.startswith("Vetoed"))
    assert veto.actor is Chamber.EXECUTIVE
    assert veto.date == date(2015, 3, 31)


# ----------------------------------------------------------------------------------------------
# Hostile and malformed documents
# ----------------------------------------------------------------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<billStatus><bill><title>&lol9;</title></bill></billStatus>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE billStatus [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<billStatus><bill><title>&xxe;</title></bill></billStatus>"""


@pytest.mark.parametrize("body", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entity_declarations_are_refused_quickly(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_billstatus(body, document="evil.xml")
    assert time.perf_counter() - started < 0.5


def test_doctype_after_a_comment_is_refused_too() -> None:
    body = b'<?xml version="1.0"?>\n<!-- hi -->\n' + EXTERNAL.split(b"\n", 1)[1]
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_billstatus(body, document="evil.xml")


def test_truncated_document_names_the_document() -> None:
    body = shared(*BILLSTATUS, "v3", "BILLSTATUS-117s35.xml").read_bytes()
    with pytest.raises(ParseError, match=r"^BILLSTATUS-117s35\.xml: not well-formed"):
        parse_billstatus(body[: len(body) // 2], document="BILLSTATUS-117s35.xml")


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Service unavailable</body></html>",
        b"<billStatus><version>3.0.0</version></billStatus>",
        b"<billStatus><bill><congress>117</congress><type>XX</type><number>1</number></bill>"
        b"</billStatus>",
        b"<billStatus><bill><congress>117</congress><type>HR</type></bill></billStatus>",
        b"",
    ],
    ids=["html", "no-bill", "unknown-type", "no-number", "empty"],
)
def test_wrong_shape_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^doc\.xml: "):
        parse_billstatus(body, document="doc.xml")


def test_bad_action_date_is_a_parse_error() -> None:
    body = (
        b"<billStatus><bill><congress>117</congress><type>HR</type><number>1</number>"
        b"<title>T</title><actions><item><actionDate>yesterday</actionDate><text>Introduced in "
        b"House</text></item></actions></bill></billStatus>"
    )
    with pytest.raises(ParseError, match="actionDate"):
        parse_billstatus(body, document="doc.xml")


def test_sitemap_of_the_wrong_kind_is_a_parse_error() -> None:
    body = shared(*SITEMAPS, "sitemap.xml").read_bytes()
    with pytest.raises(ParseError, match=r"^http://x/sitemap\.xml: expected a sitemaps\.org"):
        parse_sitemap(body, document="http://x/sitemap.xml", kind="urlset")


# ----------------------------------------------------------------------------------------------
# discover / fetch / parse through the real HttpClient
# ----------------------------------------------------------------------------------------------

INDEX_URL = f"{BASE}/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
CHILD_URL = f"{BASE}/sitemap/bulkdata/BILLSTATUS/119sconres/sitemap.xml"
CHILD_LASTMOD = "2025-01-31T19:21:00.629Z"
BILL_PREFIX = f"{BASE}/bulkdata/BILLSTATUS/119/sconres/BILLSTATUS-119sconres"
BILL_LASTMODS = {
    1: "2025-01-14T19:05:01.046Z",
    3: "2025-01-21T15:07:00.197Z",
    2: "2025-01-30T19:17:00.451Z",
    4: "2025-01-22T23:06:00.448Z",
    5: "2025-01-27T23:04:21.973Z",
    6: "2025-01-31T19:21:00.608Z",
}
EMPTY_URLSET = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
)


class DictState:
    """A FetchStateView over a dict, counting ``lastmods`` queries."""

    def __init__(self, entries: Mapping[str, Validators] | None = None) -> None:
        self.entries = dict(entries or {})
        self.prefixes: list[str] = []

    def get(self, url: str) -> Validators | None:
        return self.entries.get(url)

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        self.prefixes.append(prefix)
        return {u: v.lastmod for u, v in self.entries.items() if u.startswith(prefix) and v.lastmod}

    def body(self, url: str) -> bytes | None:
        return None  # us-govinfo never reads stored bodies


def index_children() -> dict[str, str]:
    """Rebased child sitemap URL -> lastmod for Congress 119, read from the recorded index."""
    body = shared(*SITEMAPS, "sitemap.xml").read_bytes()
    pairs = parse_sitemap(body, document="index", kind="sitemapindex")
    return {
        loc.replace("https://www.govinfo.gov", BASE): mod or ""
        for loc, mod in pairs
        if "/BILLSTATUS/119" in loc
    }


def make_source(state: DictState, *, sessions: tuple[str, ...] = ("119",)) -> UsGovinfo:
    settings = SourceSettings(name="us-govinfo", enabled=True, base_url=BASE, sessions=sessions)
    http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
    return UsGovinfo(SourceContext(settings=settings, http=http, state=state))


def serve_index(rsps: responses.RequestsMock, *, etag: str = '"idx-1"') -> bytes:
    body = shared(*SITEMAPS, "sitemap.xml").read_bytes()
    rsps.get(INDEX_URL, body=body, headers={"ETag": etag}, content_type="application/xml")
    return body


def serve_child(rsps: responses.RequestsMock) -> bytes:
    body = shared(*SITEMAPS, "119sconres", "sitemap.xml").read_bytes()
    rsps.get(CHILD_URL, body=body, content_type="application/xml")
    return body


def settled(children: Mapping[str, str], *, but: str | None = None) -> dict[str, Validators]:
    """State in which every child sitemap (except ``but``) was stored at its current lastmod."""
    return {url: Validators(lastmod=mod) for url, mod in children.items() if url != but}


def refs_and_checkpoints(
    items: list[BillRef | Checkpoint],
) -> tuple[list[BillRef], list[Checkpoint]]:
    refs = [i for i in items if isinstance(i, BillRef)]
    return refs, [i for i in items if isinstance(i, Checkpoint)]


def test_first_discover_yields_every_bill_rebased_and_checkpoints() -> None:
    children = index_children()
    assert len(children) == 8
    state = DictState()
    with responses.RequestsMock() as rsps:
        index_body = serve_index(rsps)
        child_body = serve_child(rsps)
        for url in children:
            if url != CHILD_URL:
                rsps.get(url, body=EMPTY_URLSET, content_type="application/xml")
        items = list(make_source(state).discover(since=None))
        assert len(rsps.calls) == 9
    refs, checkpoints = refs_and_checkpoints(items)
    assert [(r.url, r.lastmod) for r in refs] == [
        (f"{BILL_PREFIX}{n}.xml", mod) for n, mod in BILL_LASTMODS.items()
    ]
    assert {r.session for r in refs} == {"119"}
    assert {r.group for r in refs} == {CHILD_URL}
    assert {r.source for r in refs} == {"us-govinfo"}
    # one checkpoint per child, after its refs, then the index's at the very end
    assert [c.group for c in checkpoints] == [*children, None]
    child_cp = next(c for c in checkpoints if c.group == CHILD_URL)
    assert items.index(child_cp) > max(items.index(r) for r in refs)
    (update,) = child_cp.updates
    assert update.url == CHILD_URL
    assert update.validators.lastmod == CHILD_LASTMOD
    assert update.validators.sha256 == hashlib.sha256(child_body).hexdigest()
    (final,) = checkpoints[-1].updates
    assert final.url == INDEX_URL
    assert final.validators.etag == '"idx-1"'
    assert final.validators.sha256 == hashlib.sha256(index_body).hexdigest()
    assert items[-1] is checkpoints[-1]


def test_unchanged_index_answers_304_and_nothing_else_is_fetched() -> None:
    children = index_children()
    index_sha = hashlib.sha256(shared(*SITEMAPS, "sitemap.xml").read_bytes()).hexdigest()
    state = DictState({
        INDEX_URL: Validators(etag='"idx-1"', sha256=index_sha),
        **settled(children),
    })  # fmt: skip
    with responses.RequestsMock() as rsps:
        rsps.get(
            INDEX_URL, status=304, match=[matchers.header_matcher({"If-None-Match": '"idx-1"'})]
        )
        items = list(make_source(state).discover(since=None))
        assert len(rsps.calls) == 1
    assert items == []


def test_child_whose_lastmod_did_not_move_is_not_fetched() -> None:
    children = index_children()
    state = DictState(settled(children))
    with responses.RequestsMock() as rsps:  # any other request fails the test
        serve_index(rsps, etag='"idx-2"')
        items = list(make_source(state).discover(since=None))
        assert len(rsps.calls) == 1
    assert [(type(i), getattr(i, "group", None)) for i in items] == [(Checkpoint, None)]


def test_only_the_moved_child_is_fetched_and_only_newer_bills_yielded() -> None:
    children = index_children()
    state = DictState({
        **settled(children, but=CHILD_URL),
        CHILD_URL: Validators(lastmod="2025-01-20T00:00:00.000Z"),
        f"{BILL_PREFIX}1.xml": Validators(lastmod=BILL_LASTMODS[1]),  # unchanged
        f"{BILL_PREFIX}2.xml": Validators(lastmod="2025-01-29T00:00:00.000Z"),  # older
        f"{BILL_PREFIX}3.xml": Validators(lastmod="2025-02-01T00:00:00.000Z"),  # newer stored
    })  # fmt: skip
    with responses.RequestsMock() as rsps:
        serve_index(rsps)
        serve_child(rsps)
        items = list(make_source(state).discover(since=None))
        assert [c.request.url for c in rsps.calls] == [INDEX_URL, CHILD_URL]
    refs, checkpoints = refs_and_checkpoints(items)
    assert [r.url.rsplit("sconres", 1)[1] for r in refs] == ["2.xml", "4.xml", "5.xml", "6.xml"]
    assert [c.group for c in checkpoints] == [CHILD_URL, None]
    assert state.prefixes == [f"{BASE}/bulkdata/BILLSTATUS/119/sconres/"], "one query per child"


def test_a_configured_session_missing_from_the_index_is_a_source_error() -> None:
    with responses.RequestsMock() as rsps:
        serve_index(rsps)
        with pytest.raises(SourceError, match="999"):
            list(make_source(DictState(), sessions=("119", "999")).discover(since=None))


def test_a_broken_child_sitemap_is_a_parse_error_naming_it() -> None:
    children = index_children()
    state = DictState(settled(children, but=CHILD_URL))
    with responses.RequestsMock() as rsps:
        serve_index(rsps)
        rsps.get(CHILD_URL, body=b"<urlset><url><loc>trunc", content_type="application/xml")
        with pytest.raises(ParseError, match=f"^{CHILD_URL}: "):
            list(make_source(state).discover(since=None))


def test_fetch_then_parse() -> None:
    body = shared(*BILLSTATUS, "v3", "BILLSTATUS-117sconres7.xml").read_bytes()
    url = f"{BASE}/bulkdata/BILLSTATUS/117/sconres/BILLSTATUS-117sconres7.xml"
    ref = BillRef(source="us-govinfo", url=url, session="117", lastmod="2024-01-01T00:00:00Z")
    source = make_source(DictState(), sessions=("117",))
    with responses.RequestsMock() as rsps:
        rsps.get(url, body=body, content_type="application/xml")
        fetched = source.fetch(ref)
    assert fetched.documents == {url: body}
    (update,) = fetched.updates
    assert update.url == url
    assert update.validators == Validators(
        sha256=hashlib.sha256(body).hexdigest(), lastmod="2024-01-01T00:00:00Z"
    )
    (record,) = source.parse(fetched)
    assert record.identifier == "SCONRES 7"
    assert record.document == url


def test_parse_is_one_record_per_document() -> None:
    paths: list[Path] = [
        shared(*BILLSTATUS, "v3", "BILLSTATUS-117s35.xml"),
        shared(*BILLSTATUS, "v1", "BILLSTATUS-116hr5053.xml"),
    ]
    ref = BillRef(source="us-govinfo", url="bulk.zip", session="117")
    fetched = Fetched(ref=ref, documents={p.name: p.read_bytes() for p in paths})
    records = make_source(DictState()).parse(fetched)
    assert [r.identifier for r in records] == ["S 35", "HR 5053"]
