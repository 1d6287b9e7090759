"""tx-tlo: the bill-history parser on every project-written fixture (tests/fixtures/tx-tlo,
written from sources.md section 7: no real sample exists), documents of the wrong shape, and
``tracker inspect`` on local files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scrapers.local import parser_for
from scrapers.tx_tlo import TxTlo, parse_billhistory
from tests.cli_helpers import run_cli
from tracker.errors import ParseError
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.records import BillRecord, BillRef, Fetched

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tx-tlo"
TREE = FIXTURES / "bills" / "89R" / "billhistory"


def load(relative: str) -> BillRecord:
    path = TREE / relative
    record = parse_billhistory(path.read_bytes(), document=relative)
    assert record is not None
    return record


# file -> (key, bill type, stage, actions kept)
EXPECTED: dict[str, tuple[str, BillType, Stage, int]] = {
    "house_bills/HB00001_HB00099/HB 4.xml": ("tx/89R/HB 4", BillType.BILL, Stage.ENACTED, 28),
    "house_bills/HB00100_HB00199/HB 150.xml":
        ("tx/89R/HB 150", BillType.BILL, Stage.IN_COMMITTEE, 3),
    "senate_bills/SB00001_SB00099/SB 17.xml":
        ("tx/89R/SB 17", BillType.BILL, Stage.PASSED_ORIGIN, 13),
    "senate_bills/SB00100_SB00199/SB 120.xml": ("tx/89R/SB 120", BillType.BILL, Stage.VETOED, 17),
    "house_joint_resolutions/HJ00001_HJ00099/HJ 3.xml":
        ("tx/89R/HJR 3", BillType.CONSTITUTIONAL_AMENDMENT, Stage.ADOPTED, 17),
    "house_concurrent_resolutions/HC00001_HC00099/HC 12.xml":
        ("tx/89R/HCR 12", BillType.CONCURRENT_RESOLUTION, Stage.PASSED_ORIGIN, 6),
    "senate_resolutions/SR00001_SR00099/SR 45.xml":
        ("tx/89R/SR 45", BillType.RESOLUTION, Stage.ADOPTED, 2),
}


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_every_fixture_parses_to_its_key_type_and_stage(relative: str) -> None:
    key, bill_type, stage, actions = EXPECTED[relative]
    bill = normalize(load(relative))
    assert (str(bill.key), bill.bill_type, bill.stage, len(bill.actions)) == (
        key, bill_type, stage, actions
    )
    assert bill.title and bill.source == "tx-tlo"
    identifier = bill.key.identifier.replace(" ", "")
    assert bill.url == (
        f"https://capitol.texas.gov/BillLookup/History.aspx?LegSess=89R&Bill={identifier}"
    )


def test_hb4_reads_every_part_of_the_history() -> None:
    record = load("house_bills/HB00001_HB00099/HB 4.xml")
    assert record.title.startswith("Relating to the provision of language access services")
    assert [(s.name, s.primary, s.extras["role"]) for s in record.sponsors] == [
        ("Wu", True, "author"), ("Hernández", True, "author"),
        ("Bucy", False, "coauthor"), ("Gámez", False, "coauthor"),
        ("Talarico", False, "coauthor"), ("Menéndez", True, "sponsor"),
        ("Alvarado", False, "cosponsor"), ("Zaffirini", False, "cosponsor"),
    ]  # fmt: skip
    assert record.subjects == (
        "State Agencies, Boards & Commissions (I0765)", "Languages (I0482)",
        "Civil Rights (I0125)",
    )  # fmt: skip
    assert [v.name for v in record.versions] == [
        "Introduced", "House Committee Report", "Engrossed", "Enrolled"
    ]
    assert record.versions[0].url == (
        "https://capitol.texas.gov/tlodocs/89R/billtext/html/HB00004I.htm"
    )
    assert [(d["kind"], d["version"]) for d in record.extras["documents"]] == [
        ("Analysis", "House Committee Report"), ("Analysis", "Enrolled"),
        ("Fiscal note", "Introduced"),
    ]  # fmt: skip
    assert record.extras["companions"] == ["SB 1420 by Menéndez, Identical"]
    assert record.extras["committees"] == [
        {"chamber": "lower", "name": "State Affairs", "status": "Out of committee"},
        {"chamber": "upper", "name": "State Affairs", "status": "Out of committee"},
    ]
    assert record.extras["last_update"] == "2025-06-20"
    assert record.extras["caption_version"] == "Enrolled"


def test_action_numbers_give_the_actor_and_dates_are_read() -> None:
    actions = load("house_bills/HB00001_HB00099/HB 4.xml").actions
    first, last = actions[0], actions[-1]
    assert (first.date, first.actor, first.description) == (
        date(2024, 11, 12), Chamber.LOWER, "Filed"
    )
    assert first.classification == (ActionClass.FILING, ActionClass.INTRODUCTION)
    assert first.extras == {"action_number": "H001"}
    assert (last.actor, last.description, last.classification) == (
        Chamber.EXECUTIVE, "Effective on 9/1/25", (ActionClass.BECAME_LAW,)
    )
    received = next(a for a in actions if a.description == "Received from the House")
    assert received.actor is Chamber.UPPER


def test_undated_hearing_placeholder_is_skipped() -> None:
    descriptions = [a.description for a in load("house_bills/HB00001_HB00099/HB 4.xml").actions]
    assert "Scheduled for public hearing on . . ." not in descriptions
    assert "Considered in public hearing" in descriptions


def test_passed_to_engrossment_is_not_passage() -> None:
    actions = load("house_bills/HB00001_HB00099/HB 4.xml").actions
    step = next(a for a in actions if a.description.startswith("Passed to engrossment"))
    assert step.classification == ()
    passages = [a for a in actions if ActionClass.PASSAGE in a.classification]
    assert [(a.actor, a.date) for a in passages] == [
        (Chamber.LOWER, date(2025, 4, 16)), (Chamber.UPPER, date(2025, 5, 20))
    ]


def test_empty_slot_yields_no_bill() -> None:
    path = TREE / "house_bills/HB00001_HB00099/HB 3.xml"
    assert parse_billhistory(path.read_bytes(), document=path.name) is None
    source = parser_for(TxTlo)
    ref = BillRef(source="tx-tlo", url="ftp://x/HB%203.xml", session="89R")
    assert source.parse(Fetched(ref=ref, documents={ref.url: path.read_bytes()})) == []


def test_resolution_letters_from_file_names_become_full_identifiers() -> None:
    body = (TREE / "house_joint_resolutions/HJ00001_HJ00099/HJ 3.xml").read_bytes()
    short = body.replace(b'bill="89(R) HJR 3"', b'bill="89(R) HJ 3"')
    record = parse_billhistory(short, document="HJ 3.xml")
    assert record is not None
    assert (record.identifier, record.bill_type) == ("HJR 3", BillType.CONSTITUTIONAL_AMENDMENT)


def test_called_session_codes() -> None:
    body = (TREE / "senate_resolutions/SR00001_SR00099/SR 45.xml").read_bytes()
    record = parse_billhistory(body.replace(b"89(R)", b"89(2)"), document="SR 45.xml")
    assert record is not None and record.session == "892"


def test_a_bill_of_another_session_is_refused_where_it_does_not_belong() -> None:
    body = (TREE / "senate_resolutions/SR00001_SR00099/SR 45.xml").read_bytes()
    ref = BillRef(source="tx-tlo", url="ftp://x/bills/891/SR%2045.xml", session="891")
    with pytest.raises(ParseError, match="is a 89R bill, found under session 891"):
        parser_for(TxTlo).parse(Fetched(ref=ref, documents={ref.url: body}))


# ----------------------------------------------------------------------------------------------
# Documents of the wrong shape: one line naming the file and the element
# ----------------------------------------------------------------------------------------------

GOOD_ACTION = (
    b"<action><actionNumber>H001</actionNumber><date>11/12/2024</date>"
    b"<description>Filed</description></action>"
)


def history(*, bill: bytes = b"89(R) HB 9", caption: bytes = b"<caption>A bill.</caption>",
            actions: bytes = b"<actions>" + GOOD_ACTION + b"</actions>") -> bytes:
    return b'<billhistory bill="' + bill + b'">' + caption + actions + b"</billhistory>"


def test_the_minimal_document_parses() -> None:
    record = parse_billhistory(history(), document="doc.xml")
    assert record is not None and (record.identifier, len(record.actions)) == ("HB 9", 1)
    assert record.sponsors == () and record.versions == () and record.extras["companions"] == []


WRONG_SHAPES: list[tuple[bytes, str]] = [
    (b"<html><body>Service unavailable</body></html>", "expected a <billhistory> root, got <html>"),
    (history(caption=b""), "<billhistory> has no <caption>"),
    (history(caption=b"<caption> </caption>"), "<caption> is empty"),
    (history(actions=b""), "<billhistory> has no <actions>"),
    (history(bill=b"HB 9"), "<billhistory bill='HB 9'> is not a bill such as '89(R) HB 1'"),
    (history(bill=b"89(R) XB 9"), "<billhistory bill='89(R) XB 9'> is not a bill"),
    (history(bill=b"89(R) HB 0"), "has bill number 0"),
    (history(actions=b"<actions><action><actionNumber>H001</actionNumber><date>2024-11-12</date>"
                     b"<description>Filed</description></action></actions>"),
     "<action> H001 <date>: '2024-11-12' is not a MM/DD/YYYY date"),
    (history(actions=b"<actions><action><actionNumber>X001</actionNumber><date>11/12/2024</date>"
                     b"<description>Filed</description></action></actions>"),
     "<action> X001: <actionNumber> 'X001' does not start with H, S or E"),
    (history(actions=b"<actions><action><date>11/12/2024</date>"
                     b"<description>Filed</description></action></actions>"),
     "<action> #1: <actionNumber> '' does not start with H, S or E"),
    (history(actions=b"<actions><action><actionNumber>H002</actionNumber>"
                     b"<description>Read first time</description></action></actions>"),
     "<action> H002: no <date>"),
    (history(actions=b"<actions><action><actionNumber>H002</actionNumber><date>11/12/2024</date>"
                     b"</action></actions>"),
     "<action> H002: empty <description>"),
    (b'<billhistory bill="89(R) HB 9" lastUpdate="soon"><caption>A bill.</caption><actions/>'
     b"</billhistory>", "<billhistory lastUpdate>: 'soon' is not a MM/DD/YYYY date"),
    (b"<billhistory", "not well-formed XML"),
    (b"", "not well-formed XML"),
]


@pytest.mark.parametrize(("body", "message"), WRONG_SHAPES, ids=[m for _, m in WRONG_SHAPES])
def test_wrong_shape_is_a_one_line_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_billhistory(body, document="HB 9.xml")
    text = str(caught.value)
    assert text.startswith("HB 9.xml: ") and message in text, text
    assert "\n" not in text


ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE billhistory [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<billhistory bill="89(R) HB 9"><caption>&xxe;</caption><actions/></billhistory>"""


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(ParseError, match="DOCTYPE and entity declarations are refused"):
        parse_billhistory(ENTITIES, document="HB 9.xml")


# ----------------------------------------------------------------------------------------------
# tracker inspect
# ----------------------------------------------------------------------------------------------


def test_inspect_a_folder_reads_only_its_xml_files(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "tx-tlo", str(FIXTURES))
    assert outcome.code == 0, outcome.err
    rows = [json.loads(line) for line in outcome.lines()]
    # seven bills, HB 150 twice (it and its changed version); README.md and HB 3 give nothing
    assert sorted(row["key"] for row in rows) == sorted(
        [key for key, *_ in EXPECTED.values()] + ["tx/89R/HB 150"]
    )
    stages = {row["key"]: row["stage"] for row in rows if row["key"] != "tx/89R/HB 150"}
    assert stages == {key: stage.value for key, _, stage, _ in EXPECTED.values()
                      if key != "tx/89R/HB 150"}


def test_inspect_names_a_malformed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "HB 9.xml"
    bad.write_bytes(history(actions=b""))
    outcome = run_cli(capsys, "inspect", "tx-tlo", str(bad))
    assert outcome.code == 1
    assert outcome.err.strip() == f"error: {bad}: <billhistory> has no <actions>"
