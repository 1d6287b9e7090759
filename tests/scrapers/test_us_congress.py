"""us-congress: the parser on the recorded congress.gov answers for H.R. 21 (117th), the list
reader, bundles of documents, hostile answers, and ``tracker inspect`` on the sample folder."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from scrapers.local import local_fetched, parser_for
from scrapers.us_congress import UsCongress, ordinal, parse_bundle, parse_listing
from tests.cli_helpers import run_cli
from tests.conftest import shared
from tracker.errors import ParseError
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.records import BillRecord

A = ActionClass
FOLDER = ("congress-gov-api",)
#: The answers one changed bill costs: the item and five sub-resources.
HR21 = ("bill_117_hr_21.txt", "bill_117_hr_21_actions.txt", "bill_117_hr_21_subjects.txt",
        "bill_117_hr_21_summaries.txt", "bill_117_hr_21_text.txt", "bill_117_hr_21_titles.txt")


def documents(*names: str) -> dict[str, bytes]:
    return {name: shared(*FOLDER, name).read_bytes() for name in names}


def hr21() -> BillRecord:
    (record,) = parse_bundle(documents(*HR21))
    return record


def test_hr21_passed_the_house_with_its_actions() -> None:
    record = hr21()
    bill = normalize(record)
    assert str(bill.key) == "us/117/HR 21"
    assert bill.stage is Stage.PASSED_ORIGIN
    assert bill.bill_type is BillType.BILL
    assert bill.title == "FedRAMP Authorization Act"
    # Ten rows upstream: the LoC's "Introduced in House" pair and its restatement of the
    # House's passage fold into one action each, as in BILLSTATUS.
    assert [(a.date.isoformat(), a.actor, a.description, a.classification)
            for a in record.actions] == [
        ("2021-01-04", Chamber.LOWER, "Introduced in House", (A.INTRODUCTION,)),
        ("2021-01-04", Chamber.LOWER, "Referred to the House Committee on Oversight and Reform.",
         (A.REFERRAL_COMMITTEE,)),
        ("2021-01-05", Chamber.LOWER,
         "Mrs. Maloney, Carolyn B. moved to suspend the rules and pass the bill.", ()),
        ("2021-01-05", Chamber.LOWER,
         "Considered under suspension of the rules. (consideration: CR H58-62)", ()),
        ("2021-01-05", Chamber.LOWER,
         "DEBATE - The House proceeded with forty minutes of debate on H.R. 21.", ()),
        ("2021-01-05", Chamber.LOWER, "On motion to suspend the rules and pass the bill Agreed to "
         "by voice vote. (text: CR H58-60)", (A.PASSAGE,)),
        ("2021-01-05", Chamber.LOWER,
         "Motion to reconsider laid on the table Agreed to without objection.", ()),
        ("2021-01-06", Chamber.UPPER, "Received in the Senate and Read twice and referred to the "
         "Committee on Homeland Security and Governmental Affairs.",
         (A.REFERRAL_COMMITTEE, A.RECEIPT)),
    ]  # fmt: skip
    passage = record.actions[5]
    assert passage.extras["codes"] == ["H37300", "8000"]
    assert passage.extras["time"] == "12:17:14"
    assert record.actions[-1].extras["committees"] == [
        "Homeland Security and Governmental Affairs Committee"]


def test_hr21_details() -> None:
    record = hr21()
    assert record.url == "https://www.congress.gov/bill/117th-congress/house-bill/21"
    assert record.upstream_updated_at == datetime(2022, 3, 25, 1, 16, 59, tzinfo=UTC)
    assert record.sponsors[0].name == "Rep. Connolly, Gerald E. [D-VA-11]"
    assert record.sponsors[0].extras == {"bioguide_id": "C001078", "party": "D", "state": "VA",
                                         "district": "11"}
    assert record.subjects[0] == "Government Operations and Politics"
    assert len(record.subjects) == 14
    assert "Computer security and identity theft" in record.subjects
    # The latest summary (as passed by the House), as text.
    assert record.summary.startswith(
        "Federal Risk and Authorization Management Program Authorization Act of 2021 or the "
        "FedRAMP Authorization Act This bill provides statutory authority")
    assert "<" not in record.summary
    assert [(v.name, v.date) for v in record.versions] == [
        ("Referred in Senate", date(2021, 1, 6)),
        ("Engrossed in House", date(2021, 1, 5)),
        ("Introduced in House", date(2021, 1, 4)),
    ]
    assert record.versions[0].url == (
        "https://www.congress.gov/117/bills/hr21/generated/BILLS-117hr21rfs.html")
    assert record.extras["titles"][0] == "FedRAMP Authorization Act"
    assert len(record.extras["titles"]) == 3  # eight title rows, three distinct titles
    assert record.extras["cosponsor_count"] == 2
    assert record.extras["laws"] == []


def test_the_whole_sample_folder_is_one_bill_and_its_other_answers_are_skipped() -> None:
    parser = parser_for(UsCongress)
    (fetched,) = local_fetched(UsCongress, shared(*FOLDER))
    assert len(fetched.documents) == 13
    (record,) = parser.parse(fetched)
    assert record.identifier == "HR 21"
    assert len(record.actions) == 8


def test_inspect_the_sample_folder(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "us-congress", str(shared(*FOLDER)))
    assert outcome.code == 0, outcome.err
    (line,) = outcome.lines()
    bill = json.loads(line)
    assert (bill["key"], bill["stage"]) == ("us/117/HR 21", "passed-origin")
    assert [a["classification"] for a in bill["actions"]][-3:] == [
        ["passage"], [], ["referral-committee", "receipt"]]


def test_a_bill_without_sub_resources_still_parses() -> None:
    (record,) = parse_bundle(documents("bill_117_hr_21.txt"))
    assert record.actions == ()
    assert record.subjects == ("Government Operations and Politics",)
    assert normalize(record).stage is Stage.INTRODUCED


# ----------------------------------------------------------------------------------------------
# Lists
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bill.txt", "bill_117.txt", "bill_117_hr.txt"])
def test_recorded_lists(name: str) -> None:
    listed, more = parse_listing(shared(*FOLDER, name).read_bytes(), document=name)
    assert len(listed) == 20
    assert more  # pagination.next is there
    first = listed[0]
    assert (first.type, first.number) == ("HR", "3617")
    # An old answer: updateDate is a date, read as its midnight UTC.
    assert first.updated == datetime(2022, 4, 3, tzinfo=UTC)
    assert first.marker.startswith("2022-04-03|2022-04-01|")
    assert len({b.marker for b in listed}) > 1


def test_the_marker_moves_with_the_latest_action() -> None:
    body = json.loads(shared(*FOLDER, "bill_117.txt").read_bytes())
    before, _ = parse_listing(json.dumps(body).encode(), document="list")
    body["bills"][0]["latestAction"]["text"] = "Became Public Law No: 117-999."
    after, _ = parse_listing(json.dumps(body).encode(), document="list")
    assert before[0].marker != after[0].marker
    assert before[1:] == after[1:]


def listing(*bills: dict[str, Any]) -> bytes:
    return json.dumps({"bills": list(bills), "pagination": {"count": len(bills)}}).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (listing({"type": "XR", "number": "1", "updateDate": "2022-01-01"}),
         r"^list: bills\[0\]: no type/number \(type='XR', number='1'\)$"),
        (listing({"type": "HR", "number": "1", "updateDate": "soon"}),
         r"^list: bills\[0\]\.updateDate: not a date-time: 'soon'$"),
        (b'{"bills": {"0": {}}}', r"^list: bills: expected a list of objects, got dict$"),
        (b"<html>Service unavailable</html>", r"^list: not JSON"),
    ],
)
def test_malformed_lists(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_listing(body, document="list")


# ----------------------------------------------------------------------------------------------
# Bundles
# ----------------------------------------------------------------------------------------------


def edited(name: str, change: Any) -> bytes:
    data = json.loads(shared(*FOLDER, name).read_bytes())
    change(data)
    return json.dumps(data).encode()


def test_sub_resources_without_a_request_block_join_the_only_bill() -> None:
    docs = documents(*HR21)
    docs["bill_117_hr_21_actions.txt"] = edited("bill_117_hr_21_actions.txt",
                                                lambda d: d.pop("request"))
    (record,) = parse_bundle(docs)
    assert len(record.actions) == 8


def test_answers_for_a_bill_that_is_not_there_are_refused() -> None:
    docs = documents(*HR21)
    docs["other"] = edited("bill_117_hr_21_actions.txt",
                           lambda d: d["request"].update(billNumber="22"))
    with pytest.raises(ParseError, match=r"^other: answers for 117 hr 22 but no bill document$"):
        parse_bundle(docs)


def test_a_bad_action_date_names_the_answer() -> None:
    docs = documents(*HR21)
    docs["bill_117_hr_21_actions.txt"] = edited(
        "bill_117_hr_21_actions.txt", lambda d: d["actions"][0].update(actionDate="2021-13-45"))
    with pytest.raises(ParseError, match=r"^bill_117_hr_21_actions\.txt: actions\.actionDate: "
                                         r"not a date: '2021-13-45'$"):
        parse_bundle(docs)


def test_an_item_of_unknown_type_is_refused() -> None:
    body = edited("bill_117_hr_21.txt", lambda d: d["bill"].update(type="XR"))
    with pytest.raises(ParseError, match=r"^item: bill: no congress/type/number"):
        parse_bundle({"item": body})


def test_control_characters_in_upstream_text_do_not_break_the_action_reader() -> None:
    docs = documents(*HR21)
    docs["bill_117_hr_21_actions.txt"] = edited(
        "bill_117_hr_21_actions.txt",
        lambda d: d["actions"][0].update(text="Received in the Senate\x0b and read twice."))
    (record,) = parse_bundle(docs)
    assert record.actions[-1].description == "Received in the Senate and read twice."


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (11, "11th"),
                                         (101, "101st"), (112, "112th"), (117, "117th")])
def test_ordinal(n: int, text: str) -> None:
    assert ordinal(n) == text
