"""va-lis parsing: the real LIS files (2020 on two dates, the 2025 BILLS.CSV and a Sponsors.csv)
and the project's small session folder (tests/fixtures/va-lis, see its README)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from scrapers.local import local_fetched, parser_for
from scrapers.va_lis import VaLis
from scrapers.va_lis.csvfiles import read_table
from scrapers.va_lis.parse import SPONSOR_COLUMNS, html_text, parse_bundle, sponsors_by_bill
from tests.conftest import PROJECT_FIXTURES, shared
from tracker.errors import ParseError, SourceError
from tracker.models import Bill, BillType, Chamber, Stage, normalize_identifier
from tracker.normalize import normalize
from tracker.records import BillRecord

MINI = PROJECT_FIXTURES / "va-lis" / "session-2026"
BILLS_HEADER = (MINI / "BILLS.CSV").read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\r\n")[0]
HISTORY_HEADER = b'"Bill_id","History_date","History_description","History_refid"'


def folder(path: Path, *, session: str = "") -> list[BillRecord]:
    documents = {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    return parse_bundle(documents, session=session, folder=str(path))


def by_key(records: list[BillRecord]) -> dict[str, Bill]:
    bills = [normalize(record) for record in records]
    return {bill.key.identifier: bill for bill in bills}


def actions(bill: Bill) -> list[tuple[str, Chamber, str]]:
    return [(a.date.isoformat(), a.actor, a.description) for a in bill.actions]


# -- the real 2020 files ------------------------------------------------------------------------

HB565_ACTIONS = [
    ("2020-01-06", Chamber.LOWER, "Prefiled and ordered printed; offered 01/08/20 20102137D"),
    ("2020-01-06", Chamber.LOWER, "Referred to Committee on Transportation"),
    ("2020-01-08", Chamber.LOWER, "Impact statement from VCSC (HB565)"),
    (
        "2020-01-15",
        Chamber.LOWER,
        "Assigned Transportation sub: Transportation Innovations and General Topics",
    ),
]
SB34_ACTIONS = [
    ("2019-11-18", Chamber.UPPER, "Prefiled and ordered printed; offered 01/08/20 20100564D"),
    ("2019-11-18", Chamber.UPPER, "Referred to Committee on Transportation"),
    ("2019-12-02", Chamber.UPPER, "Impact statement from VCSC (SB34)"),
]


def test_2020_01_24_bills_and_the_driver_privilege_card_bills() -> None:
    path = shared("va-lis", "csv-2020-session", "2020-01-24")
    records = folder(path, session="2020")
    assert len(records) == 3126
    bills = by_key(records)
    assert len(bills) == 3126
    # Counted here from the raw rows: HJ/SJ titled "Constitutional amendment" are amendments.
    raw = read_table(
        (path / "BILLS.CSV").read_bytes(),
        document="BILLS.CSV",
        columns=("Bill_id", "Bill_description"),
    )
    joint = [r["Bill_description"] for r in raw.rows if r["Bill_id"][:2] in ("HJ", "SJ")]
    amendments = sum(title.startswith("Constitutional amendment") for title in joint)
    assert Counter(b.bill_type for b in bills.values()) == {
        BillType.BILL: 1733 + 1094,
        BillType.JOINT_RESOLUTION: 165 + 84 - amendments,
        BillType.CONSTITUTIONAL_AMENDMENT: amendments,
        BillType.RESOLUTION: 37 + 13,
    }
    hb565, sb34 = bills["HB 565"], bills["SB 34"]
    assert hb565.title == sb34.title == "Driver privilege cards; penalty."
    assert actions(hb565) == HB565_ACTIONS
    assert actions(sb34) == SB34_ACTIONS
    assert [a.classification for a in sb34.actions] == [
        ("introduction",),
        ("referral-committee",),
        (),
    ]
    assert hb565.stage is sb34.stage is Stage.IN_COMMITTEE
    assert hb565.key.session == "2020"
    assert hb565.url == "https://lis.virginia.gov/bill-details/201/HB565"
    assert [(v.name, v.date, v.url) for v in sb34.versions] == [
        ("SB34", date(2019, 11, 18), "https://lis.virginia.gov/bill-details/201/SB34/text/SB34"),
    ]
    # 2020-01-24 has no Sponsors.csv: the chief patron comes from BILLS.CSV.
    assert [(s.name, s.primary) for s in sb34.sponsors] == [("Surovell", True)]


@pytest.fixture(scope="module")
def jan28() -> dict[str, Bill]:
    return by_key(folder(shared("va-lis", "csv-2020-session", "2020-01-28"), session="2020"))


def test_2020_01_28_with_the_optional_files(jan28: dict[str, Bill]) -> None:
    bills = jan28
    assert len(bills) == 3141
    hb565, sb34 = bills["HB 565"], bills["SB 34"]
    # BILLS.CSV already names a subcommittee recommendation of 01/28/20 for HB 565, but
    # HISTORY.CSV does not have that row yet: the actions are still the four.
    assert actions(hb565) == HB565_ACTIONS
    assert actions(sb34) == SB34_ACTIONS
    assert hb565.stage is sb34.stage is Stage.IN_COMMITTEE
    assert [(s.name, s.primary) for s in hb565.sponsors] == [
        ("Robert S. Bloxom, Jr.", True),
        ("Glenn R. Davis", False),
    ]
    assert [(s.name, s.primary, s.extras["patron_type"]) for s in sb34.sponsors] == [
        ("Scott A. Surovell", True, "Chief Patron"),
        ("Kaye Kory", False, "Co-Patron"),
    ]
    assert sb34.subjects == (
        "Administration of Government",
        "Appropriations",
        "Elections",
        "Insurance",
        "Motor Vehicles",
        "Taxation",
    )
    assert sb34.summary.startswith(
        "Driver privilege cards; penalty. Authorizes the issuance of new driver privilege "
        "cards by the Department of Motor Vehicles to an applicant who (i) has reported"
    )
    assert '"driver\'s license"' in sb34.summary  # &quot; decoded
    # SB 35 has two summaries; the later one ("Passed House of Origin") is used.
    assert "in (i) any building, or part thereof" in bills["SB 35"].summary
    assert "during a permitted event" not in bills["SB 35"].summary


def test_identical_history_rows_stay_distinct_actions(jan28: dict[str, Bill]) -> None:
    path = shared("va-lis", "csv-2020-session", "2020-01-28")
    rows = read_table(
        (path / "HISTORY.CSV").read_bytes(),
        document="HISTORY.CSV",
        columns=("Bill_id", "History_date", "History_description"),
    )
    repeated = Counter(
        (r["Bill_id"], r["History_date"], r["History_description"]) for r in rows.rows
    )
    doubled = {key: n for key, n in repeated.items() if n > 1}
    assert sum(n - 1 for n in doubled.values()) == 10  # same date and text (refids may differ)
    for (bill_id, day, description), count in doubled.items():
        bill = jan28[normalize_identifier(bill_id)]
        when = datetime.strptime(day, "%m/%d/%y").date()
        same = [a for a in bill.actions if (a.date, a.description) == (when, description[2:])]
        assert len(same) == count
        assert len({a.uid for a in same}) == count


def test_inspect_a_real_folder_derives_the_session() -> None:
    path = shared("va-lis", "csv-2020-session", "2020-01-28")
    (fetched,) = local_fetched(VaLis, path)
    records = parser_for(VaLis).parse(fetched)
    assert len(records) == 3141
    assert {record.session for record in records} == {"2020"}


# -- the real 2025 BILLS.CSV and the 2024 Sponsors.csv ---------------------------------------------


def test_the_2025_bills_file() -> None:
    """The "csv-2024-session/bills.csv" sample is the 2025 session's file: 2966 of its 3512 bills
    were introduced in 2025 (the rest are 2024 bills continued), so its session is 2025."""
    path = shared("va-lis", "csv-2024-session")
    documents = {"bills.csv": (path / "bills.csv").read_bytes()}
    records = parse_bundle(documents, session="", folder=str(path))
    assert len(records) == 3512
    bills = by_key(records)
    hb9 = bills["HB 9"]
    assert hb9.key.session == "2025"
    assert hb9.title == "Animal control officers; additional training."  # padding stripped
    assert [(v.name, v.date, v.url) for v in hb9.versions] == [
        ("HB9", date(2024, 1, 17), "https://lis.virginia.gov/bill-details/20251/HB9/text/HB9"),
    ]
    assert [(s.name, s.primary, s.extras) for s in hb9.sponsors] == [
        ("Ennis", True, {"member_id": "H0359"}),
    ]
    hb2321 = bills["HB 2321"]
    assert [v.name for v in hb2321.versions] == ["HB2321", "HB2321S1", "HB2321ER", "CHAP0169"]
    assert hb2321.extras == {"lis_session": "20251", "chapter": "CHAP0169"}


def test_the_2024_sponsors_quirk() -> None:
    """PATRON_TYPE is ``"1" - Chief Patron``: a quoted number, then an unquoted label."""
    path = shared("va-lis", "csv-2024-session", "sponsors.csv")
    sponsors = sponsors_by_bill(
        read_table(path.read_bytes(), document=str(path), columns=SPONSOR_COLUMNS)
    )
    assert [(s.name, s.primary, s.extras["patron_type"]) for s in sponsors["HB 1"][:3]] == [
        ("Jeion A. Ward", True, "Chief Patron"),
        ("Elizabeth R. Guzman", False, "Chief Co-Patron"),
        ("Phil M. Hernandez", False, "Chief Co-Patron"),
    ]
    labels = Counter(s.extras["patron_type"] for bill in sponsors.values() for s in bill)
    assert sum(s.primary for bill in sponsors.values() for s in bill) == labels["Chief Patron"]
    assert labels["Chief Patron"] == path.read_text().count("- Chief Patron\n") == 2709


# -- the project's session folder -----------------------------------------------------------------


@pytest.fixture(scope="module")
def mini() -> dict[str, Bill]:
    return by_key(folder(MINI))


def test_bom_and_ragged_rows(mini: dict[str, Bill]) -> None:
    assert sorted(mini) == ["HB 1", "HB 2", "HJ 3", "SR 4"]
    hb2 = mini["HB 2"]
    assert hb2.title == "Language access; state agencies, translation of vital documents."
    assert hb2.versions == ()
    assert hb2.extras == {"lis_session": "20261"}
    assert [(s.name, s.primary) for s in hb2.sponsors] == [("Reid", True)]


def test_a_bill_to_the_governors_signature(mini: dict[str, Bill]) -> None:
    hb1 = mini["HB 1"]
    assert hb1.key.session == "2026"  # the latest Introduction_date is in 2026
    assert hb1.stage is Stage.ENACTED
    assert len(hb1.actions) == 17
    governor = [(a.actor, a.description, a.classification) for a in hb1.actions[-3:]]
    assert governor == [
        (
            Chamber.EXECUTIVE,
            "Governor's Action Deadline 11:59 p.m., April 13, 2026",
            ("executive-receipt",),
        ),
        (
            Chamber.EXECUTIVE,
            "Approved by Governor-Chapter 12 (effective 7/1/26)",
            ("executive-signature",),
        ),
        (Chamber.LEGISLATURE, "Acts of Assembly Chapter text (CHAP0012)", ()),
    ]
    assert hb1.actions[2].extras == {"refid": "H19V0012"}
    assert hb1.actions[1].extras == {}
    assert [(s.name, s.primary) for s in hb1.sponsors] == [
        ("Alfonso H. Lopez", True),
        ("Kathy K.L. Tran", False),
        ("Irene Shin", False),
    ]
    assert hb1.subjects == ("Motor Vehicles", "Driver's Licenses")
    assert [(v.name, v.date) for v in hb1.versions] == [
        ("HB1", date(2025, 11, 17)),
        ("HB1H1", date(2026, 1, 20)),
        ("HB1ER", date(2026, 2, 27)),
        ("CHAP0012", date(2026, 3, 20)),
    ]
    assert hb1.versions[1].url == "https://lis.virginia.gov/bill-details/20261/HB1/text/HB1H1"
    assert hb1.extras == {"lis_session": "20261", "chapter": "CHAP0012"}


def test_summaries_newest_html_and_a_stray_byte(mini: dict[str, Bill]) -> None:
    assert mini["HB 1"].summary == (
        "Driver privilege cards; renewal by mail. Permits the renewal of a driver privilege "
        'card by mail or online.\n\nThe bill defines "vital document".'
    )
    assert mini["HB 2"].summary == (
        "Language access. Requires each agency\u2019s vital documents to be translated."
    )


def test_duplicate_rows_carried_over_and_resolutions(mini: dict[str, Bill]) -> None:
    hb2 = mini["HB 2"]
    impact = [a for a in hb2.actions if a.description == "Impact statement from DPB (HB2)"]
    assert len(impact) == 2 and impact[0].uid != impact[1].uid
    assert hb2.stage is Stage.IN_COMMITTEE  # continued to 2027
    assert mini["HJ 3"].bill_type is BillType.CONSTITUTIONAL_AMENDMENT
    assert mini["HJ 3"].stage is Stage.PASSED_ORIGIN  # one chamber of two so far
    assert mini["SR 4"].bill_type is BillType.RESOLUTION
    assert mini["SR 4"].stage is Stage.ADOPTED


# -- bad input: one line naming the file ----------------------------------------------------------


def bills_csv(*rows: bytes) -> bytes:
    return b"\r\n".join([BILLS_HEADER, *rows]) + b"\r\n"


def test_a_missing_column_names_the_file_and_the_column() -> None:
    body = b'"Bill_id","Patron_name"\r\n"HB1","Reid"\r\n'
    with pytest.raises(ParseError) as caught:
        parse_bundle({"BILLS.CSV": body}, session="2026", folder="http://lis.test/20261/")
    assert str(caught.value).startswith(
        "http://lis.test/20261/BILLS.CSV: no 'Bill_description' column (header: Bill_id, "
        "Patron_name)"
    )


@pytest.mark.parametrize(
    ("history_row", "message"),
    [
        (
            b'"HB1","13/45/20","H Read first time",""',
            "HISTORY.CSV: line 2: '13/45/20' is not a date (MM/DD/YY or M/D/YYYY)",
        ),
        (
            b'"HB1","2020-01-08","H Read first time",""',
            "HISTORY.CSV: line 2: '2020-01-08' is not a date",
        ),
        (
            b'"HB","01/08/20","H Read first time",""',
            "HISTORY.CSV: line 2: bill number 'HB' cannot be read",
        ),
        (
            b'"HB1","01/08/20","H ' + b"x" * 200_000 + b'",""',
            "HISTORY.CSV: line 2: field larger than field limit",
        ),
    ],
)
def test_bad_history_rows(history_row: bytes, message: str) -> None:
    documents = {
        "BILLS.CSV": bills_csv(b'"HB1","A bill.","H0001","Reid"'),
        "HISTORY.CSV": HISTORY_HEADER + b"\r\n" + history_row + b"\r\n",
    }
    with pytest.raises(ParseError) as caught:
        parse_bundle(documents, session="2026", folder="lis")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_bill_listed_twice_is_refused() -> None:
    documents = {
        "BILLS.CSV": bills_csv(b'"HB1","A bill.","H1","Reid"', b'"HB0001","Again","H1","X"')
    }
    with pytest.raises(
        ParseError, match=r"BILLS.CSV: line 3: HB 1 is listed twice \(first on line 2\)"
    ):
        parse_bundle(documents, session="2026", folder="lis")


def test_an_unknown_bill_type_is_refused() -> None:
    documents = {"BILLS.CSV": bills_csv(b'"HB1","A bill.","H1","Reid"', b'"HX2","?","H1","X"')}
    with pytest.raises(ParseError, match=r"BILLS.CSV: line 3: HX 2: unknown bill type 'HX'"):
        parse_bundle(documents, session="2026", folder="lis")


@pytest.mark.parametrize("body", [b"", b"\r\n", bills_csv()], ids=["empty", "blank", "header"])
def test_an_empty_bills_file_is_an_error(body: bytes) -> None:
    with pytest.raises(SourceError, match=r"^va-lis: lis/BILLS.CSV: no bills"):
        parse_bundle({"BILLS.CSV": body}, session="2026", folder="lis")


def test_a_folder_without_bills() -> None:
    with pytest.raises(ParseError, match=r"^lis: no BILLS.CSV among the files \(HISTORY.CSV\)"):
        parse_bundle({"HISTORY.CSV": HISTORY_HEADER}, session="2026", folder="lis")


def test_a_bad_session_name() -> None:
    documents = {"BILLS.CSV": bills_csv(b'"HB1","A bill.","H1","Reid"')}
    with pytest.raises(ParseError, match=r"^lis: '2026 special' is not a Virginia session"):
        parse_bundle(documents, session="2026 special", folder="lis")


def test_file_names_in_any_case() -> None:
    documents = {
        "bills.csv": bills_csv(b'"HB1","A bill.","H1","Reid"'),
        "history.csv": HISTORY_HEADER + b'\r\n"HB1","1/8/2026","H Read first time",""\r\n',
    }
    (record,) = parse_bundle(documents, session="2026", folder="lis")
    assert [a.description for a in record.actions] == ["Read first time"]


def test_html_text() -> None:
    assert html_text("") == ""
    assert html_text("plain &amp; simple") == "plain & simple"
    assert html_text("<p>one\r\ntwo</p>\r\n<p>three</p>") == "one two\n\nthree"
