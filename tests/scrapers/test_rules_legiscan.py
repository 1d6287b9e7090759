"""legiscan: the history-text rules, the milestone table, the codes and the session keys of
both aggregators, as tables."""

from __future__ import annotations

import pytest

from scrapers.aggregator_sessions import (
    congress_of,
    legiscan_session,
    openstates_session,
    special_number,
)
from scrapers.legiscan_rules import (
    BILL_TYPES,
    CHAMBERS,
    HISTORY_RULES,
    MILESTONES,
    RESOLUTION_PASSED,
    STATUS_NAMES,
    Acting,
    milestone,
)
from tracker.models import ActionClass, BillType, Chamber

A = ActionClass

# Texts as the rules see them: a leading House/Senate/Assembly is read off as the actor first.
# Most are real LegiScan history rows (the Alaska and Arkansas samples); the rest are the
# wording of other states' rows that the rules must not misread.
HISTORY_CASES: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("PREFILE RELEASED 1/7/11", (A.FILING,)),
    ("Prefiled", (A.FILING,)),
    ("Filed", (A.FILING,)),
    ("Introduced and read first time", (A.INTRODUCTION, A.READING_1)),
    ("READ THE FIRST TIME - REFERRALS", (A.READING_1, A.REFERRAL_COMMITTEE)),
    ("Read the first time, rules suspended, read the second time and referred to the "
     "Committee on JOINT BUDGET COMMITTEE", (A.READING_1, A.READING_2, A.REFERRAL_COMMITTEE)),
    ("REFERRED TO HEALTH & SOCIAL SERVICES", (A.REFERRAL_COMMITTEE,)),
    ("Re-referred to Committee on Appropriations", (A.REFERRAL_COMMITTEE,)),
    ("Referred to Calendar", ()),
    ("HSS RPT CS(HSS) 2DP 3NR", (A.COMMITTEE_PASSAGE,)),
    ("Reported out of committee", (A.COMMITTEE_PASSAGE,)),
    ("Returned by the Committee Do Pass", (A.COMMITTEE_PASSAGE_FAVORABLE,)),
    ("Reported favorably", (A.COMMITTEE_PASSAGE_FAVORABLE,)),
    ("Reported with a do not pass recommendation", (A.COMMITTEE_PASSAGE_UNFAVORABLE,)),
    ("Failed in committee", (A.COMMITTEE_FAILURE,)),
    ("Considered in the Committee of the Whole, and recommended do pass.", ()),
    ("RULES SUSPENDED", ()),
    ("READ THE SECOND TIME", (A.READING_2,)),
    ("Read 2nd time and passed to engrossment", (A.READING_2,)),
    ("Passed to third reading", ()),
    ("ADVANCED TO THIRD READING 2/28 CALENDAR", ()),
    ("READ THE THIRD TIME CSHB 3(STA)", (A.READING_3,)),
    ("Read the third time and passed and ordered transmitted to the Senate.",
     (A.READING_3, A.PASSAGE)),
    ("PASSED Y24 N16", (A.PASSAGE,)),
    ("PASSED ON RECONSIDERATION Y23 N16 A1", (A.PASSAGE,)),
    ("Bill passed the Senate", (A.PASSAGE,)),
    ("Resolution adopted", (A.PASSAGE,)),
    ("Failed third reading", (A.READING_3, A.FAILURE)),
    ("Failed to pass", (A.FAILURE,)),
    ("Defeated", (A.FAILURE,)),
    ("RETURN TO SECOND FOR AM 1 UNAN CONSENT", ()),
    ("AM NO 1 FAILED Y10 N24 E5 A1", (A.AMENDMENT_FAILURE,)),
    ("Amendment No. 2 adopted", (A.AMENDMENT_PASSAGE,)),
    ("Floor amendment 3 offered", (A.AMENDMENT_INTRODUCTION,)),
    ("Committee amendment 1 withdrawn", (A.AMENDMENT_WITHDRAWAL,)),
    ("Amended in committee", ()),
    ("JUD CS ADOPTED UNAN CONSENT", (A.SUBSTITUTION,)),
    ("KAWASAKI NOTICE OF RECONSIDERATION", ()),
    ("RECON TAKEN UP SAME DAY Y35 N4 A1", ()),
    ("Motion to reconsider failed", ()),
    ("Returned to the House as Passed.", ()),
    ("Returned From the Senate as passed.", ()),
    ("EMERGENCY CLAUSE ADOPTED", ()),
    ("COSPONSOR(S): JOHNSON", ()),
    ("DP: DICK, KELLER", ()),
    ("Received from the House.", (A.RECEIPT,)),
    ("TO BE ENROLLED", (A.ENROLLED,)),
    ("Correctly enrolled and ordered transmitted to the Governor's Office.",
     (A.EXECUTIVE_RECEIPT, A.ENROLLED)),
    ("Sent to Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Signed by Governor", (A.EXECUTIVE_SIGNATURE,)),
    ("Approved by the Governor", (A.EXECUTIVE_SIGNATURE,)),
    ("Notification that HB1044 is now Act 36", (A.BECAME_LAW,)),
    ("Chaptered by Secretary of State - Chapter 123, Statutes of 2025", (A.BECAME_LAW,)),
    ("Became law without signature", (A.BECAME_LAW,)),
    ("Assigned Chapter No. 55", (A.BECAME_LAW,)),
    ("Vetoed by Governor", (A.EXECUTIVE_VETO,)),
    ("Pocket vetoed", (A.EXECUTIVE_VETO,)),
    ("Line item veto", (A.EXECUTIVE_VETO_LINE_ITEM,)),
    ("Veto overridden", (A.VETO_OVERRIDE_PASSAGE,)),
    ("Passed over Governor's veto", (A.VETO_OVERRIDE_PASSAGE,)),
    ("Veto sustained", (A.VETO_OVERRIDE_FAILURE,)),
    ("Withdrawn by sponsor", (A.WITHDRAWAL,)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), HISTORY_CASES, ids=[t for t, _ in HISTORY_CASES])
def test_history_rules(text: str, expected: tuple[ActionClass, ...]) -> None:
    assert HISTORY_RULES.classify(text) == expected


def test_every_rule_is_exercised_by_a_case() -> None:
    unused = [
        rule.pattern for rule in HISTORY_RULES.rules
        if not any(rule.regex.search(text) for text, _ in HISTORY_CASES)
    ]  # fmt: skip
    assert unused == []


def test_milestones_cover_every_progress_event_and_status() -> None:
    assert sorted(MILESTONES) == list(range(1, 13))
    assert {code: MILESTONES[code].name for code in STATUS_NAMES} == dict(STATUS_NAMES)


MILESTONE_CASES = [
    (1, BillType.BILL, "Introduced", (A.INTRODUCTION,), Acting.ORIGIN),
    (2, BillType.BILL, "Engrossed", (A.PASSAGE,), Acting.ORIGIN),
    (3, BillType.BILL, "Enrolled", (A.PASSAGE,), Acting.SECOND),
    (4, BillType.BILL, "Passed", (A.BECAME_LAW,), Acting.EXECUTIVE),
    (4, BillType.RESOLUTION, "Passed", (A.PASSAGE,), Acting.LEGISLATURE),
    (4, BillType.CONCURRENT_RESOLUTION, "Passed", (A.PASSAGE,), Acting.LEGISLATURE),
    (5, BillType.BILL, "Vetoed", (A.EXECUTIVE_VETO,), Acting.EXECUTIVE),
    (6, BillType.BILL, "Failed", (A.FAILURE,), Acting.UNKNOWN),
    (7, BillType.BILL, "Override", (A.VETO_OVERRIDE_PASSAGE,), Acting.LEGISLATURE),
    (8, BillType.BILL, "Chaptered", (A.BECAME_LAW,), Acting.EXECUTIVE),
    (9, BillType.BILL, "Refer", (A.REFERRAL_COMMITTEE,), Acting.UNKNOWN),
    (10, BillType.BILL, "Report Pass", (A.COMMITTEE_PASSAGE_FAVORABLE,), Acting.UNKNOWN),
    (11, BillType.BILL, "Report DNP", (A.COMMITTEE_PASSAGE_UNFAVORABLE,), Acting.UNKNOWN),
    (12, BillType.BILL, "Draft", (A.FILING,), Acting.ORIGIN),
]


@pytest.mark.parametrize(("event", "bill_type", "name", "classes", "acting"), MILESTONE_CASES)
def test_milestone_table(
    event: int, bill_type: BillType, name: str, classes: tuple[ActionClass, ...], acting: Acting
) -> None:
    found = milestone(event, bill_type=bill_type)
    assert found is not None
    assert (found.name, found.classes, found.acting) == (name, classes, acting)
    assert set(found.classes) <= found.covered_by, "a milestone action covers itself"


def test_unknown_event_has_no_milestone() -> None:
    assert milestone(13, bill_type=BillType.BILL) is None
    assert milestone(4, bill_type=BillType.JOINT_RESOLUTION) is RESOLUTION_PASSED


@pytest.mark.parametrize(
    ("code", "bill_type"),
    [("B", BillType.BILL), ("R", BillType.RESOLUTION), ("CR", BillType.CONCURRENT_RESOLUTION),
     ("JR", BillType.JOINT_RESOLUTION), ("JRCA", BillType.CONSTITUTIONAL_AMENDMENT),
     ("CA", BillType.CONSTITUTIONAL_AMENDMENT), ("M", BillType.RESOLUTION),
     ("JM", BillType.JOINT_RESOLUTION), ("CM", BillType.CONCURRENT_RESOLUTION),
     ("RB", BillType.BILL)],
)  # fmt: skip
def test_bill_types(code: str, bill_type: BillType) -> None:
    assert BILL_TYPES[code] is bill_type


def test_all_23_legiscan_bill_types_are_mapped() -> None:
    assert len(BILL_TYPES) == 23


@pytest.mark.parametrize(
    ("code", "chamber"),
    [("H", Chamber.LOWER), ("A", Chamber.LOWER), ("S", Chamber.UPPER), ("J", Chamber.LEGISLATURE)],
)
def test_chamber_codes(code: str, chamber: Chamber) -> None:
    assert CHAMBERS[code] is chamber


# ----------------------------------------------------------------------------------------------
# Session keys of the aggregators
# ----------------------------------------------------------------------------------------------


def session(year: int, name: str, *, special: int = 0, session_id: int = 2000) -> dict[str, object]:
    return {"session_id": session_id, "year_start": year, "year_end": year + 1,
            "special": special, "session_name": name, "session_title": name}


LEGISCAN_SESSIONS = [
    ("AK", session(2011, "27th Legislature"), "2011"),
    ("AR", session(2012, "88th General Assembly (2012 Fiscal)"), "2012"),
    ("US", session(2025, "119th Congress"), "119"),
    ("US", session(2021, "117th Congress"), "117"),
    ("TX", session(2025, "89th Legislature Regular Session"), "89R"),
    ("TX", session(2025, "89th Legislature 1st Called Session", special=1), "891"),
    ("TX", session(2023, "Regular Session"), "88R"),
    ("TX", session(2025, "89th Legislature Called Session", special=1, session_id=2101),
     "89S-2101"),
    ("IL", session(2025, "104th General Assembly"), "104"),
    ("IL", session(2023, "2023-2024 Regular Session"), "103"),
    ("VA", session(2025, "2025 Regular Session"), "2025"),
    ("VA", session(2024, "2024 Special Session I", special=1), "2024S1"),
    ("PA", session(2025, "2025-2026 Regular Session"), "2025"),
    ("PA", session(2025, "2025-2026 Special Session #1", special=1), "2025-1"),
    ("NY", session(2025, "2025-2026 General Assembly"), "2025"),
    ("CA", session(2025, "2025-2026 1st Extraordinary Session", special=1), "2025S1"),
    ("GA", session(2023, "2023 Special Session", special=1, session_id=2020), "2023S-2020"),
]  # fmt: skip


@pytest.mark.parametrize(("state", "data", "expected"), LEGISCAN_SESSIONS)
def test_legiscan_session_keys(state: str, data: dict[str, object], expected: str) -> None:
    assert legiscan_session(state=state, session=data) == expected


OPENSTATES_SESSIONS = [
    ("ny", "2025-2026", "2025"),
    ("pa", "2025-2026", "2025"),
    ("tx", "89", "89R"),
    ("tx", "891", "891"),
    ("il", "104th", "104"),
    ("va", "2025", "2025"),
    ("va", "2024S1", "2024S1"),
    ("ca", "20252026", "20252026"),
]


@pytest.mark.parametrize(("jurisdiction", "identifier", "expected"), OPENSTATES_SESSIONS)
def test_openstates_session_keys(jurisdiction: str, identifier: str, expected: str) -> None:
    assert openstates_session(jurisdiction=jurisdiction, identifier=identifier) == expected


@pytest.mark.parametrize(
    ("name", "number"),
    [("2024 1st Special Session", 1), ("Special Session II", 2), ("Special Session #3", 3),
     ("2021 Extraordinary Session 2", 2), ("89th Legislature 2nd Called Session", 2),
     ("Regular Session", None)],
)  # fmt: skip
def test_special_session_numbers(name: str, number: int | None) -> None:
    assert special_number(name) == number


@pytest.mark.parametrize(("year", "congress"), [(1789, 1), (2021, 117), (2022, 117), (2025, 119)])
def test_congress_of(year: int, congress: int) -> None:
    assert congress_of(year) == congress
