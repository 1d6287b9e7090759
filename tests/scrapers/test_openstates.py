"""openstates: the mapping tables, the parser on the project-written /bills page (no real
answer exists; see tests/fixtures/openstates/README.md), hostile answers, ``tracker inspect``."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from scrapers.local import parser_for
from scrapers.openstates import Openstates, parse_bill, parse_page
from scrapers.openstates_rules import ACTION_CLASSES, BILL_TYPES, CHAMBERS, jurisdiction_code
from tests.cli_helpers import run_cli
from tests.conftest import PROJECT_FIXTURES
from tracker.errors import ParseError
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.records import BillRef, Fetched

A = ActionClass
PAGE = PROJECT_FIXTURES / "openstates" / "bills-ny-2025-2026-page-1.json"

#: openstates-core ``openstates/data/common.py`` BILL_ACTION_CLASSIFICATION_CHOICES, as read
#: there (sources.md section 5): the vocabulary the API classifies actions in.
OPENSTATES_ACTION_CLASSES = (
    "filing", "introduction", "enrolled", "reading-1", "reading-2", "reading-3", "passage",
    "failure", "withdrawal", "substitution", "amendment-introduction", "amendment-passage",
    "amendment-withdrawal", "amendment-failure", "amendment-amendment", "amendment-deferral",
    "committee-passage", "committee-passage-favorable", "committee-passage-unfavorable",
    "committee-failure", "executive-receipt", "executive-signature", "executive-veto",
    "executive-veto-line-item", "became-law", "veto-override-passage", "veto-override-failure",
    "deferral", "receipt", "referral", "referral-committee",
)  # fmt: skip


def test_every_open_states_action_class_maps_to_the_same_tracker_class() -> None:
    assert set(ACTION_CLASSES) == set(OPENSTATES_ACTION_CLASSES)
    assert all(ACTION_CLASSES[name].value == name for name in OPENSTATES_ACTION_CLASSES)


@pytest.mark.parametrize(
    ("classification", "chamber"),
    [("lower", Chamber.LOWER), ("upper", Chamber.UPPER), ("legislature", Chamber.LEGISLATURE),
     ("executive", Chamber.EXECUTIVE)],
)  # fmt: skip
def test_organization_classifications(classification: str, chamber: Chamber) -> None:
    assert CHAMBERS[classification] is chamber


@pytest.mark.parametrize(
    ("classification", "bill_type"),
    [("bill", BillType.BILL), ("resolution", BillType.RESOLUTION),
     ("concurrent resolution", BillType.CONCURRENT_RESOLUTION),
     ("joint resolution", BillType.JOINT_RESOLUTION),
     ("constitutional amendment", BillType.CONSTITUTIONAL_AMENDMENT),
     ("memorial", BillType.RESOLUTION), ("joint memorial", BillType.JOINT_RESOLUTION)],
)  # fmt: skip
def test_bill_classifications(classification: str, bill_type: BillType) -> None:
    assert BILL_TYPES[classification] is bill_type


@pytest.mark.parametrize(
    ("ocd_id", "code"),
    [("ocd-jurisdiction/country:us/state:ny/government", "ny"),
     ("ocd-jurisdiction/country:us/district:dc/government", "dc"),
     ("ocd-jurisdiction/country:us/territory:pr/government", "pr"),
     ("ocd-jurisdiction/country:us/government", "us"),
     ("ocd-jurisdiction/country:ca/province:on/government", None),
     ("ocd-jurisdiction/country:us/state:ny/place:new_york/government", None)],
)  # fmt: skip
def test_jurisdiction_codes(ocd_id: str, code: str | None) -> None:
    assert jurisdiction_code(ocd_id) == code


# ----------------------------------------------------------------------------------------------
# The /bills page
# ----------------------------------------------------------------------------------------------


def page() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(PAGE.read_bytes())
    return data


def records() -> dict[str, Any]:
    source = parser_for(Openstates)
    fetched = Fetched(ref=BillRef(source="openstates", url="page", session=""),
                      documents={"page": PAGE.read_bytes()})
    return {r.identifier: r for r in source.parse(fetched)}


def test_the_page_gives_each_bill_its_key_and_stage() -> None:
    bills = {str(b.key): b for b in map(normalize, records().values())}
    assert {key: bill.stage for key, bill in bills.items()} == {
        "ny/2025/S 1234": Stage.PASSED_ORIGIN,
        "ny/2025/A 89": Stage.ENACTED,
        "ny/2025/J 310": Stage.ADOPTED,
    }
    assert bills["ny/2025/J 310"].bill_type is BillType.RESOLUTION


def test_s1234_in_detail() -> None:
    record = records()["S 1234"]
    assert record.source == "openstates"
    assert record.title.startswith("Requires state agencies to translate vital documents")
    assert record.summary.startswith("Requires state agencies to translate vital documents "
                                     "into the twelve most common non-English languages spoken")
    assert record.subjects == ("Language Access", "State Agencies")
    assert [(a.date, a.actor, a.description, a.classification) for a in record.actions] == [
        (date(2025, 1, 8), Chamber.UPPER, "REFERRED TO FINANCE",
         (A.INTRODUCTION, A.REFERRAL_COMMITTEE)),
        (date(2025, 3, 4), Chamber.UPPER, "1ST REPORT CAL.412",
         (A.COMMITTEE_PASSAGE, A.READING_1)),
        (date(2025, 3, 5), Chamber.UPPER, "2ND REPORT CAL.", (A.READING_2,)),
        (date(2025, 3, 11), Chamber.UPPER, "PASSED SENATE", (A.PASSAGE, A.READING_3)),
        # a date-time date; "became-ordinance" is no Open States class and is ignored
        (date(2025, 3, 12), Chamber.LOWER, "DELIVERED TO ASSEMBLY", (A.RECEIPT,)),
    ]  # fmt: skip
    assert [(s.name, s.primary) for s in record.sponsors] == [("PARK", True), ("RIVERA", False)]
    assert record.sponsors[0].extras == {
        "classification": "primary", "entity_type": "person",
        "person_id": "ocd-person/0f6c2c3e-9d1a-4b7e-8c55-1f2e3d4c5b6a", "party": "Democratic"}
    assert [(v.name, v.date, v.url) for v in record.versions] == [
        ("S1234", date(2025, 1, 8), "https://legislation.nysenate.gov/pdf/bills/2025/S1234"),
        ("S1234A", date(2025, 3, 4), "https://legislation.nysenate.gov/pdf/bills/2025/S1234A"),
    ]
    assert record.url == "https://openstates.org/ny/bills/2025-2026/S1234/"
    assert record.upstream_updated_at == datetime(2025, 3, 14, 5, 1, 23, 123456, tzinfo=UTC)
    assert record.extras == {"openstates_id": "ocd-bill/5a8f0c7e-3b1d-4f4e-9a51-2c6d7e8f9a01",
                             "openstates_session": "2025-2026", "classification": ["bill"]}


def test_actions_follow_open_states_order_not_list_order() -> None:
    record = records()["A 89"]
    assert [a.description for a in record.actions] == [
        "referred to governmental operations", "reported", "passed assembly", "PASSED SENATE",
        "delivered to governor", "signed chap.41"]
    assert [a.actor for a in record.actions][-2:] == [Chamber.EXECUTIVE, Chamber.EXECUTIVE]


def test_inspect_a_page(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "openstates", str(PAGE))
    assert outcome.code == 0, outcome.err
    assert [(row["key"], row["stage"]) for row in map(json.loads, outcome.lines())] == [
        ("ny/2025/S 1234", "passed-origin"), ("ny/2025/A 89", "enacted"),
        ("ny/2025/J 310", "adopted")]


def test_a_single_bill_answer_parses_like_a_page_item() -> None:
    bill = page()["results"][0]
    source = parser_for(Openstates)
    fetched = Fetched(ref=BillRef(source="openstates", url="one", session=""),
                      documents={"one": json.dumps(bill).encode()})
    (record,) = source.parse(fetched)
    assert record.identifier == "S 1234"
    assert record.document == "one"


def test_parse_page_reads_the_last_page_number() -> None:
    bills, last_page = parse_page(PAGE.read_bytes(), document="page")
    assert (len(bills), last_page) == (3, 1)


def changed(**changes: Any) -> dict[str, Any]:
    bill = copy.deepcopy(page()["results"][0])
    bill.update(changes)
    return bill


@pytest.mark.parametrize(
    ("bill", "message"),
    [
        (changed(jurisdiction={"id": "ocd-jurisdiction/country:ca/province:on/government"}),
         r"jurisdiction\.id: not a U\.S\. jurisdiction"),
        (changed(identifier="S 1234A"), r"identifier: not a bill identifier: 'S 1234A'"),
        (changed(session=""), r"session: ''"),
        (changed(actions=[{"description": "x", "date": "March 4", "classification": []}]),
         r"actions\.date: not a date: 'March 4'"),
        (changed(actions={"0": {}}), r"actions: expected a list of objects, got dict"),
        (changed(jurisdiction="ny"), r"jurisdiction: expected an object, got str"),
    ],
)
def test_malformed_bills_name_the_document_and_the_bill(bill: dict[str, Any], message: str
                                                        ) -> None:
    with pytest.raises(ParseError, match=r"^doc \[ocd-bill/5a8f0c7e-[^\]]+\]: " + message):
        parse_bill(bill, document="doc")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"results": []}', r"^doc: pagination: expected an object, got null$"),
        (b'{"results": [], "pagination": {"max_page": "1"}}',
         r"^doc: pagination\.max_page: not a number$"),
        (b'{"detail": "Not Found"}', r"^doc: pagination: expected an object, got null$"),
        (b"Internal Server Error", r"^doc: not JSON"),
    ],
)
def test_malformed_pages(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_page(body, document="doc")
