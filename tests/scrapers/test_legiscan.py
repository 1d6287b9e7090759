"""legiscan: the parser on every recorded bill object, milestones made into actions, hostile
documents, and ``tracker inspect`` on the recorded dataset folder."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from scrapers.legiscan import Legiscan, parse_document, parse_masterlist
from scrapers.local import local_fetched, parser_for
from tests.cli_helpers import run_cli
from tests.conftest import PROJECT_FIXTURES, shared
from tracker.errors import ParseError
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.normalize import normalize
from tracker.records import BillRecord

A = ActionClass
BILLS = ("legiscan-api", "bill")


def load(name: str) -> BillRecord:
    path = shared(*BILLS, name)
    record = parse_document(path.read_bytes(), document=name)
    assert record is not None
    return record


# file -> (key, title, stage, actions). The recorded files are a 2011-2012 bulk dataset:
# HB1-HB3 are Alaska's (27th Legislature), HB1044-HB1046 Arkansas' (88th General Assembly,
# 2012 fiscal session) appropriation bills, which became Acts 36 to 38.
SAMPLES: dict[str, tuple[str, str, Stage, int]] = {
    "HB1.json": ("ak/2011/HB 1", "Policy For Securing Health Care Services",
                 Stage.PASSED_ORIGIN, 27),
    "HB2.json": ("ak/2011/HB 2", "Divest Investments In Iran", Stage.REPORTED, 11),
    "HB3.json": ("ak/2011/HB 3", "Requirements For Driver's License", Stage.PASSED_ORIGIN, 36),
    "HB1044.json": ("ar/2012/HB 1044", "An Act For The Veterinary Medical Examining Board "
                    "Appropriation For The 2012-2013 Fiscal Year.", Stage.ENACTED, 18),
    "HB1045.json": ("ar/2012/HB 1045", "An Act For The Martin Luther King, Jr. Commission "
                    "Appropriation For The 2012-2013 Fiscal Year.", Stage.ENACTED, 18),
    "HB1046.json": ("ar/2012/HB 1046", "An Act For The Arkansas State Board Of Registration Of "
                    "Foresters Appropriation For The 2012-2013 Fiscal Year.", Stage.ENACTED, 18),
}  # fmt: skip


def test_the_table_covers_every_recorded_bill() -> None:
    assert {p.name for p in shared(*BILLS).glob("*.json")} == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample(name: str) -> None:
    key, title, stage, action_count = SAMPLES[name]
    record = load(name)
    bill = normalize(record)
    assert str(bill.key) == key
    assert bill.title == title
    assert bill.stage is stage
    assert len(bill.actions) == action_count
    assert record.source == "legiscan"
    assert record.bill_type is BillType.BILL
    assert record.document == name
    # The rules alone cover every milestone LegiScan recorded for these bills.
    assert not [a for a in record.actions if "legiscan_event" in a.extras]


def test_alaska_hb3_passed_the_house_and_was_referred_in_the_senate() -> None:
    record = load("HB3.json")
    passed = [a for a in record.actions if A.PASSAGE in a.classification]
    assert [(a.date, a.actor, a.description) for a in passed] == [
        (date(2011, 2, 28), Chamber.LOWER, "PASSED Y32 N2 E5 A1"),
        (date(2011, 2, 28), Chamber.LOWER, "PASSED ON RECONSIDERATION Y33 N2 E5"),
    ]
    amendment = next(a for a in record.actions if a.description.startswith("AM NO 1"))
    assert amendment.classification == (A.AMENDMENT_FAILURE,)
    last = record.actions[-1]
    # No chamber codes in this data: "TRANSMITTED TO (S)" moved the bill to the Senate.
    assert (last.description, last.actor) == ("REFERRED TO STATE AFFAIRS", Chamber.UPPER)
    assert record.summary == "An Act relating to issuance of driver's licenses."
    assert record.url == "http://www.legis.state.ak.us/basis/get_bill.asp?session=27&bill=HB3"
    assert record.extras["status"] == "Engrossed"
    assert record.extras["legiscan_bill_id"] == 230086
    assert record.extras["change_hash"] == "f29fef5ddcea1b65cee12357ac828383"
    assert record.extras["session_name"] == "27th Legislature"
    assert record.sponsors[0].name == "Carl Gatto"
    assert record.sponsors[0].primary
    assert not any(s.primary for s in record.sponsors[1:])
    assert record.sponsors[0].extras == {"people_id": "6033", "party": "R", "role": "Rep",
                                         "district": "HD-013"}


def test_arkansas_hb1044_became_act_36() -> None:
    record = load("HB1044.json")
    last = record.actions[-1]
    assert last.description == "House Notification that HB1044 is now Act 36"
    assert last.classification == (A.BECAME_LAW,)
    senate = [a for a in record.actions if a.description.startswith("Senate ")]
    assert senate and all(a.actor is Chamber.UPPER for a in senate)
    assert record.summary == ""  # the description repeats the title
    assert record.sponsors[0].name == "Joint Budget Committee"
    assert record.sponsors[0].extras["committee"] == "true"
    # Two drafts share the state's link; LegiScan's own text URLs tell them apart.
    assert [(v.name, v.date, v.url) for v in record.versions] == [
        ("Draft", date(2012, 2, 7), "https://legiscan.com/AR/text/HB1044/id/573635"),
        ("Draft", date(2012, 2, 14), "https://legiscan.com/AR/text/HB1044/id/575293"),
    ]


def test_other_dataset_objects_are_not_bills() -> None:
    for folder in ("people", "text", "vote"):
        for path in shared("legiscan-api", folder).glob("*.json"):
            assert parse_document(path.read_bytes(), document=path.name) is None


def test_inspect_reads_the_recorded_dataset_folder(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "legiscan", str(shared("legiscan-api")))
    assert outcome.code == 0, outcome.err
    stages = {row["key"]: row["stage"] for row in map(json.loads, outcome.lines())}
    assert stages == {key: stage.value for key, _, stage, _ in SAMPLES.values()}


def test_local_folder_parse_matches_the_file_parse() -> None:
    parser = parser_for(Legiscan)
    records = [r for f in local_fetched(Legiscan, shared(*BILLS)) for r in parser.parse(f)]
    assert sorted(r.identifier for r in records) == sorted(
        v[0].rsplit("/", 1)[1] for v in SAMPLES.values()
    )


# ----------------------------------------------------------------------------------------------
# Milestones LegiScan recorded that no history row shows
# ----------------------------------------------------------------------------------------------


def bill_json(
    *,
    history: list[dict[str, Any]] | None = None,
    progress: list[dict[str, Any]] | None = None,
    status: int = 1,
    status_date: str = "2025-01-10",
    bill_type: str = "B",
    body: str = "H",
) -> bytes:
    bill = {
        "bill_id": 1, "change_hash": "h", "state": "VA", "bill_number": "HB12",
        "bill_type": bill_type, "body": body, "title": "A bill", "description": "A bill",
        "session": {"session_id": 2100, "year_start": 2025, "year_end": 2025, "special": 0,
                    "session_name": "2025 Regular Session"},
        "status": status, "status_date": status_date,
        "progress": progress or [], "history": history or [],
    }  # fmt: skip
    return json.dumps({"status": "OK", "bill": bill}).encode()


def row(day: str, action: str, chamber: str = "") -> dict[str, Any]:
    return {"date": day, "action": action, "chamber": chamber, "chamber_id": 0, "importance": 0}


def parsed(body: bytes) -> BillRecord:
    record = parse_document(body, document="getBill")
    assert record is not None
    return record


def made(record: BillRecord) -> list[tuple[str, Chamber, tuple[ActionClass, ...]]]:
    return [(a.description, a.actor, a.classification) for a in record.actions
            if "legiscan_event" in a.extras]


def test_milestones_without_history_rows_become_actions_in_order() -> None:
    record = parsed(bill_json(
        history=[row("2025-01-10", "Committee meeting held", "H")],
        progress=[{"date": "2025-01-10", "event": 1}, {"date": "2025-02-01", "event": 2},
                  {"date": "2025-02-20", "event": 3}, {"date": "2025-03-30", "event": 8}],
        status=4, status_date="2025-03-30",
    ))  # fmt: skip
    assert made(record) == [
        ("Introduced (LegiScan progress)", Chamber.LOWER, (A.INTRODUCTION,)),
        ("Engrossed (LegiScan progress)", Chamber.LOWER, (A.PASSAGE,)),
        ("Enrolled (LegiScan progress)", Chamber.UPPER, (A.PASSAGE,)),
        ("Chaptered (LegiScan progress)", Chamber.EXECUTIVE, (A.BECAME_LAW,)),
    ]  # the status (4, Passed) is covered by the Chaptered action of the same day
    assert [a.description for a in record.actions][:2] == [
        "Committee meeting held", "Introduced (LegiScan progress)"]
    assert normalize(record).stage is Stage.ENACTED


def test_enrolled_makes_both_chambers_pass_a_senate_bill() -> None:
    record = parsed(bill_json(
        body="S",
        history=[row("2025-02-01", "Passed Senate", "S")],
        progress=[{"date": "2025-02-01", "event": 2}, {"date": "2025-02-20", "event": 3}],
        status=3, status_date="2025-02-20",
    ))  # fmt: skip
    assert made(record) == [("Enrolled (LegiScan progress)", Chamber.LOWER, (A.PASSAGE,))]
    assert normalize(record).stage is Stage.PASSED_BOTH


def test_a_status_without_progress_is_a_milestone_too() -> None:
    record = parsed(bill_json(history=[row("2025-01-10", "Filed", "H")], status=6,
                              status_date="2025-04-01"))
    assert made(record) == [("Failed (LegiScan status)", Chamber.LOWER, (A.FAILURE,))]
    assert normalize(record).stage is Stage.FAILED


def test_veto_then_override_is_enacted() -> None:
    record = parsed(bill_json(
        history=[row("2025-02-01", "Passed House", "H"), row("2025-02-10", "Passed Senate", "S")],
        progress=[{"date": "2025-03-01", "event": 5}, {"date": "2025-04-01", "event": 7}],
        status=4, status_date="2025-04-01",
    ))  # fmt: skip
    assert [d for d, _, _ in made(record)] == [
        "Vetoed (LegiScan progress)", "Override (LegiScan progress)", "Passed (LegiScan status)"]
    assert normalize(record).stage is Stage.ENACTED


@pytest.mark.parametrize(
    ("bill_type", "stage"),
    [("R", Stage.ADOPTED), ("CR", Stage.ADOPTED), ("JR", Stage.PASSED_BOTH)],
)
def test_a_passed_resolution_is_adopted_not_signed(bill_type: str, stage: Stage) -> None:
    record = parsed(bill_json(bill_type=bill_type, history=[row("2025-01-10", "Filed", "H")],
                              status=4, status_date="2025-02-01"))
    assert made(record) == [("Passed (LegiScan status)", Chamber.LEGISLATURE, (A.PASSAGE,))]
    assert normalize(record).stage is stage


def test_covered_milestones_add_nothing_and_unknown_events_are_ignored() -> None:
    record = parsed(bill_json(
        history=[row("2025-01-10", "Introduced", "H"),
                 row("2025-01-11", "Referred to Committee on Courts", "H"),
                 row("2025-01-20", "Reported favorably", "H")],
        progress=[{"date": "2025-01-10", "event": 1}, {"date": "2025-01-11", "event": 9},
                  {"date": "2025-01-20", "event": 10}, {"date": "2025-01-20", "event": 99}],
        status=1, status_date="2025-01-10",
    ))  # fmt: skip
    assert made(record) == []
    assert normalize(record).stage is Stage.REPORTED


def test_a_passage_in_the_wrong_chamber_does_not_cover_engrossment() -> None:
    record = parsed(bill_json(
        history=[row("2025-01-10", "Introduced", "H"), row("2025-02-01", "Passed", "S")],
        progress=[{"date": "2025-02-02", "event": 2}],
    ))  # fmt: skip
    assert made(record) == [("Engrossed (LegiScan progress)", Chamber.LOWER, (A.PASSAGE,))]


# ----------------------------------------------------------------------------------------------
# Masterlist, and hostile or malformed documents
# ----------------------------------------------------------------------------------------------


def test_masterlist_fixture() -> None:
    body = (PROJECT_FIXTURES / "legiscan" / "getMasterListRaw-122.json").read_bytes()
    session, entries = parse_masterlist(body, document="masterlist")
    assert session == "122"
    assert [(e.bill_id, e.number, e.change_hash) for e in entries] == [
        (230084, "HB1", "38558907f12c02a238b1cd43d2a37393"),
        (230085, "HB2", "9623e9d81c72849726968199b15f7894"),
        (230086, "HB3", "f29fef5ddcea1b65cee12357ac828383"),
    ]
    # the project fixture carries the real hashes of the recorded bills
    for entry, name in zip(entries, ("HB1.json", "HB2.json", "HB3.json"), strict=True):
        assert load(name).extras["change_hash"] == entry.change_hash


MALFORMED = [
    (b"<html>busy</html>", r"^doc: not JSON \(Expecting value at line 1 column 1\)$"),
    (b"[1, 2]", r"^doc: expected a JSON object, got list$"),
    ((PROJECT_FIXTURES / "legiscan" / "error-unknown-session.json").read_bytes(),
     r"^doc: LegiScan answered ERROR: Unknown session id$"),
    (b'{"status": "OK", "masterlist": []}', r"^doc: masterlist: expected an object, got list$"),
    (b'{"status": "OK", "masterlist": {"session": {"session_id": 1}, "0": {"bill_id": "x"}}}',
     r"^doc: masterlist\[0\]: no bill_id/change_hash$"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "message"), MALFORMED)
def test_malformed_masterlist(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_masterlist(body, document="doc")


def broken(**changes: Any) -> bytes:
    data = json.loads(bill_json())
    data["bill"].update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (broken(state="Virginia"), r"^doc: bill\.state: not a state code: 'VIRGINIA'$"),
        (broken(bill_number="HB12B"), r"^doc: bill\.bill_number: not a bill identifier"),
        (broken(session={"session_id": 1}), r"^doc: bill\.session has no usable year_start$"),
        (broken(history=[row("yesterday", "Filed")]),
         r"^doc: history\.date: not a date: 'yesterday'$"),
        (broken(history={"0": "x"}), r"^doc: bill\.history: expected a list of objects"),
        (b'{"status": "OK"}', r"^doc: bill: expected an object, got null$"),
    ],
)
def test_malformed_bill(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_document(body, document="doc")
