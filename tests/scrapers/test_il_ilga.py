"""il-ilga: the directory-listing parser and the bill status parser on every project-written
fixture (tests/fixtures/il-ilga, written from sources.md section 8: no real sample exists),
documents of the wrong shape, and ``tracker inspect`` on local files."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from scrapers.il_ilga import DirectoryEntry, parse_billstatus, parse_listing
from tests.cli_helpers import run_cli
from tracker.errors import ParseError
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.records import BillRecord

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "il-ilga"
LISTING = "http://ilga.test/ftp/legislation/104/BillStatus/XML/"


def load(name: str, *, folder: str = "xml") -> BillRecord:
    return parse_billstatus((FIXTURES / folder / name).read_bytes(), document=name)


# ----------------------------------------------------------------------------------------------
# The listing
# ----------------------------------------------------------------------------------------------


def test_listing_fixture_lists_every_file_with_date_and_size() -> None:
    entries = parse_listing((FIXTURES / "listing.html").read_bytes(), document=LISTING)
    files = sorted(p.name for p in (FIXTURES / "xml").iterdir())
    assert [e.name for e in entries] == files
    sizes = {p.name: p.stat().st_size for p in (FIXTURES / "xml").iterdir()}
    assert {e.name: e.size for e in entries} == sizes
    first = entries[0]
    assert first == DirectoryEntry(
        name="10400HB0875.xml",
        href="/ftp/legislation/104/BillStatus/XML/10400HB0875.xml",
        is_dir=False,
        size=sizes["10400HB0875.xml"],
        modified=datetime(2025, 4, 11, 17, 15),
    )
    assert first.marker == f"2025-04-11T17:15|{sizes['10400HB0875.xml']}"


def page(pre: str) -> bytes:
    return f"<html><body><H1>x</H1><hr><pre>{pre}</pre><hr></body></html>".encode()


def test_listing_forms_directories_noon_midnight_and_long_dates() -> None:
    body = page(
        '<A HREF="/ftp/">[To Parent Directory]</A><br><br>'
        ' 1/5/2025 12:05 AM        &lt;dir&gt; <A HREF="/ftp/x/Old/">Old</A><br>'
        ' 1/5/2025 12:40 PM          17 <A HREF="/ftp/x/10400HB0001.xml">10400HB0001.xml</A><br>'
        'Sunday, January 5, 2025  3:07 PM   9 <A HREF="/ftp/x/10400SB0002.xml">10400SB0002.xml</A>'
    )
    entries = parse_listing(body, document=LISTING)
    assert [(e.name, e.is_dir, e.size, e.modified) for e in entries] == [
        ("Old", True, None, datetime(2025, 1, 5, 0, 5)),
        ("10400HB0001.xml", False, 17, datetime(2025, 1, 5, 12, 40)),
        ("10400SB0002.xml", False, 9, datetime(2025, 1, 5, 15, 7)),
    ]


def test_an_empty_page_has_no_entries() -> None:
    assert parse_listing(b"  \r\n", document=LISTING) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body><h1>Service Unavailable</h1></body></html>", "no entries in the directory"),
        (page('<A HREF="/ftp/">[To Parent Directory]</A>'), "no entries in the directory"),
        (page('yesterday <A HREF="/ftp/x/10400HB0001.xml">10400HB0001.xml</A>'),
         "listing entry '10400HB0001.xml': no date, time and size before it (found 'yesterday')"),
        (page(' 2/30/2025 12:40 PM 17 <A HREF="/ftp/x/10400HB0001.xml">10400HB0001.xml</A>'),
         "listing entry '10400HB0001.xml': impossible date"),
    ],
    ids=["error-page", "parent-only", "no-date", "impossible-date"],
)
def test_a_listing_in_another_format_is_a_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing(body, document=LISTING)
    text = str(caught.value)
    assert text.startswith(f"{LISTING}: ") and message in text, text


# ----------------------------------------------------------------------------------------------
# Bill status documents
# ----------------------------------------------------------------------------------------------

# file -> (key, title, type, stage, actions)
EXPECTED: dict[str, tuple[str, str, BillType, Stage, int]] = {
    "10400HB3466.xml": ("il/104/HB 3466", "INSURANCE-TECH", BillType.BILL, Stage.IN_COMMITTEE, 4),
    "10400HB1596.xml":
        ("il/104/HB 1596", "VEH CD-DRIVER EXAM-LANGUAGES", BillType.BILL, Stage.ENACTED, 25),
    "10400HB0875.xml":
        ("il/104/HB 875", "IMMIGRANT SERVICES-NAVIGATORS", BillType.BILL, Stage.REPORTED, 11),
    "10400HB2100.xml":
        ("il/104/HB 2100", "CRIM CD-IMMIGRATION DETAINERS", BillType.BILL, Stage.FAILED, 5),
    "10400SB0034.xml":
        ("il/104/SB 34", "SCH CD-ASIAN AMERICAN HISTORY", BillType.BILL, Stage.FAILED, 5),
    "10400SB1220.xml":
        ("il/104/SB 1220", "ELECTION CD-LANGUAGE ASSISTANCE", BillType.BILL, Stage.VETOED, 20),
    "10400HR0123.xml":
        ("il/104/HR 123", "KOREAN AMERICAN DAY", BillType.RESOLUTION, Stage.ADOPTED, 3),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_parses_to_its_key_title_type_and_stage(name: str) -> None:
    bill = normalize(load(name))
    assert (str(bill.key), bill.title, bill.bill_type, bill.stage, len(bill.actions)) == (
        EXPECTED[name]
    )
    assert bill.url == f"https://www.ilga.gov/ftp/legislation/104/BillStatus/XML/{name}"
    assert bill.summary


def test_flat_actions_take_the_date_and_chamber_seen_last() -> None:
    actions = load("10400HB1596.xml").actions
    assert (actions[0].date, actions[0].actor, actions[0].description) == (
        date(2025, 2, 4), Chamber.LOWER, "Filed with the Clerk by Rep. Hoan Huynh"
    )
    arrive = next(a for a in actions if a.description == "Arrive in Senate")
    assert (arrive.date, arrive.actor, arrive.classification) == (
        date(2025, 4, 3), Chamber.UPPER, (ActionClass.RECEIPT,)
    )
    governor = [a for a in actions if a.actor is Chamber.EXECUTIVE]
    assert [a.description for a in governor] == [
        "Governor Approved", "Public Act . . . . . . . . . 104-0012"
    ]
    assert governor[0].extras == {"chamber": "lower"}  # listed under the House
    both = next(a for a in actions if a.description == "Passed Both Houses")
    assert both.actor is Chamber.LEGISLATURE


def test_calendar_order_of_third_reading_is_not_passage() -> None:
    bill = normalize(load("10400HB0875.xml"))
    placed = [a for a in bill.actions if a.description.startswith("Placed on Calendar Order")]
    assert placed and all(a.classification == () for a in placed)
    assert bill.stage is Stage.REPORTED  # and the amendment's Rule 19(c) did not kill the bill
    assert bill.extras["next_action"] == {"date": "2025-05-31", "action": "Third Reading Deadline"}


def test_sponsors_first_of_each_chamber_is_chief() -> None:
    sponsors = load("10400HB1596.xml").sponsors
    assert [(s.name, s.primary, s.extras["chamber"]) for s in sponsors] == [
        ("Hoan Huynh", True, "lower"), ("Theresa Mah", False, "lower"),
        ("Lilian Jiménez", False, "lower"), ("Kam Buckner", False, "lower"),
        ("Ram Villivalam", True, "upper"), ("Celina Villanueva", False, "upper"),
    ]  # fmt: skip


def test_shell_bill_amendment_replaces_the_content() -> None:
    before, after = load("10400HB3466.xml"), load("10400HB3466.xml", folder="changed")
    assert before.extras["shell_bill"] is False
    assert before.summary.startswith("Amends the Illinois Insurance Code. Makes a technical")
    assert after.extras["shell_bill"] is True
    assert after.title == "LANGUAGE ACCESS-STATE AGENCIES"
    assert after.summary.startswith("Replaces everything after the enacting clause. Creates the "
                                    "State Agency Language Access Act.")
    assert [s["title"] for s in after.extras["synopses"]] == [
        "Synopsis As Introduced", "House Committee Amendment No. 1"
    ]
    amendment = [a for a in after.actions if a.description.startswith("House Committee Amendment")]
    assert [a.classification for a in amendment] == [
        (ActionClass.AMENDMENT_INTRODUCTION,), (), (), (ActionClass.AMENDMENT_PASSAGE,)
    ]


def test_identifier_and_session_come_from_the_file_name() -> None:
    body = (FIXTURES / "xml" / "10400HR0123.xml").read_bytes()
    record = parse_billstatus(body, document="http://ilga.test/ftp/x/10300SJRCA0004.xml")
    assert (record.session, record.identifier, record.bill_type) == (
        "103", "SJRCA 4", BillType.CONSTITUTIONAL_AMENDMENT
    )
    joint = parse_billstatus(body, document="/tmp/files/10400HJR0015.xml")
    assert (joint.identifier, joint.bill_type) == ("HJR 15", BillType.JOINT_RESOLUTION)


# ----------------------------------------------------------------------------------------------
# Documents of the wrong shape: one line naming the file and the element
# ----------------------------------------------------------------------------------------------


def status(inner: bytes, *, title: bytes = b"<shortdescription>A BILL</shortdescription>") -> bytes:
    return b"<billstatus>" + title + inner + b"</billstatus>"


GOOD_ACTIONS = (
    b"<actions><statusdate>1/13/2025</statusdate><chamber>Senate</chamber>"
    b"<action>First Reading</action></actions>"
)

WRONG_SHAPES: list[tuple[str, bytes, str]] = [
    ("10400HB0001.xml", b"<html><body>Not found</body></html>",
     "expected a <billstatus> root, got <html>"),
    ("10400HB0001.xml", status(GOOD_ACTIONS, title=b""),
     "<billstatus> has no <shortdescription> (the title)"),
    ("10400HB0001.xml", status(b""), "<billstatus> has no <actions>"),
    ("10400HB0001.xml", status(b"<actions><action>First Reading</action></actions>"),
     "<actions> child 1 <action>: an action before any statusdate and chamber"),
    ("10400HB0001.xml", status(b"<actions><statusdate>Jan 13</statusdate></actions>"),
     "<actions> child 1 <statusdate>: 'Jan 13' is not a M/D/YYYY date"),
    ("10400HB0001.xml", status(b"<actions><chamber>Governor</chamber></actions>"),
     "<actions> child 1 <chamber>: 'Governor' is not House or Senate"),
    ("10400HB0001.xml", status(b"<actions><item>First Reading</item></actions>"),
     "<actions> child 1 <item>: expected statusdate, chamber or action"),
    ("10400HB0001.xml", status(GOOD_ACTIONS + b"<synopsis><p>x</p></synopsis>"),
     "<synopsis> holds an unexpected <p>"),
    ("10400HB0001.xml", status(GOOD_ACTIONS + b"<nextaction><statusdate>soon</statusdate>"
                               b"</nextaction>"), "<nextaction> <statusdate>: 'soon' is not"),
    ("HB0001.xml", status(GOOD_ACTIONS),
     "file name 'HB0001.xml' is not a regular-session bill such as 10400HB3466.xml"),
    ("10401HB0001.xml", status(GOOD_ACTIONS), "file name '10401HB0001.xml' is not a regular"),
    ("10400HB0000.xml", status(GOOD_ACTIONS), "file name '10400HB0000.xml' has bill number 0"),
    ("10400HB0001.xml", b"<billstatus><shortdescription>", "not well-formed XML"),
    ("10400HB0001.xml",
     b'<!DOCTYPE billstatus [<!ENTITY x SYSTEM "file:///etc/passwd">]><billstatus/>',
     "DOCTYPE and entity declarations are refused"),
]


@pytest.mark.parametrize(("name", "body", "message"), WRONG_SHAPES,
                         ids=[m for _, _, m in WRONG_SHAPES])
def test_wrong_shape_is_a_one_line_parse_error(name: str, body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_billstatus(body, document=name)
    text = str(caught.value)
    assert text.startswith(f"{name}: ") and message in text, text
    assert "\n" not in text


def test_the_minimal_document_parses() -> None:
    record = parse_billstatus(status(GOOD_ACTIONS), document="10400SB0007.xml")
    assert (record.identifier, record.title, len(record.actions)) == ("SB 7", "A BILL", 1)
    assert (record.summary, record.sponsors, record.extras) == (
        "", (), {"synopses": [], "shell_bill": False}
    )


# ----------------------------------------------------------------------------------------------
# tracker inspect
# ----------------------------------------------------------------------------------------------


def test_inspect_a_folder_reads_only_its_xml_files(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "il-ilga", str(FIXTURES))
    assert outcome.code == 0, outcome.err
    rows = [json.loads(line) for line in outcome.lines()]
    # seven bills and the changed HB 3466; the listings and README.md are not bill files
    assert len(rows) == 8
    assert {row["key"]: row["stage"] for row in rows if row["title"] != "INSURANCE-TECH"} == {
        key: stage.value for key, _, _, stage, _ in EXPECTED.values() if key != "il/104/HB 3466"
    } | {"il/104/HB 3466": "reported"}


@pytest.mark.parametrize(
    "declaration",
    [b"", b'<?xml version="1.0" encoding="utf-8"?>\r\n'],
    ids=["undeclared", "declared-utf-8"],
)
def test_windows_1252_bytes_in_a_utf8_document_are_read(declaration: bytes) -> None:
    sponsor = "<sponsor><sponsors>Sen. Lilian Jiménez</sponsors></sponsor>".encode("cp1252")
    body = declaration + status(GOOD_ACTIONS + sponsor)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # the premise: not UTF-8
    record = parse_billstatus(body, document="10400SB0007.xml")
    assert [s.name for s in record.sponsors] == ["Lilian Jiménez"]


def test_a_declared_legacy_encoding_is_honoured() -> None:
    body = b'<?xml version="1.0" encoding="iso-8859-1"?>' + status(
        GOOD_ACTIONS + "<sponsor><sponsors>Rep. Jaime Andrade Señor</sponsors></sponsor>"
        .encode("latin-1")
    )
    record = parse_billstatus(body, document="10400SB0007.xml")
    assert [s.name for s in record.sponsors] == ["Jaime Andrade Señor"]
