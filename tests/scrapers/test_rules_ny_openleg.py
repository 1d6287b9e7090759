"""The ny-openleg tables, tested as tables: action texts -> classes, status codes -> stages."""

from __future__ import annotations

import pytest

from scrapers.ny_openleg_rules import RULES, STATUS_TYPES, stage_agrees, status_stage
from tracker.models import ActionClass, Chamber, Stage

A = ActionClass

# Texts in the API's wording (upper case, terse), as in sources.md section 10 and the Open
# States New York categorizer.
TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("REFERRED TO EDUCATION", (A.REFERRAL_COMMITTEE,)),
    ("REFERRED TO INVESTIGATIONS AND GOVERNMENT OPERATIONS", (A.REFERRAL_COMMITTEE,)),
    ("REFERENCE CHANGED TO HIGHER EDUCATION", (A.REFERRAL_COMMITTEE,)),
    ("COMMITTED TO RULES", (A.REFERRAL_COMMITTEE,)),
    ("RECOMMITTED TO RULES", (A.REFERRAL_COMMITTEE,)),
    ("AMEND AND RECOMMIT TO FINANCE", (A.REFERRAL_COMMITTEE, A.AMENDMENT_PASSAGE)),
    ("AMENDED AND RECOMMITTED TO CODES", (A.REFERRAL_COMMITTEE, A.AMENDMENT_PASSAGE)),
    ("AMEND (T) AND RECOMMIT TO FINANCE", (A.REFERRAL_COMMITTEE, A.AMENDMENT_PASSAGE)),
    ("AMENDED ON THIRD READING 1234A", (A.AMENDMENT_PASSAGE,)),
    ("AMENDED ON THIRD READING (T) 5678B", (A.AMENDMENT_PASSAGE,)),
    ("PRINT NUMBER 1234A", (A.AMENDMENT_PASSAGE,)),
    ("REPORTED AND COMMITTED TO FINANCE", (A.REFERRAL_COMMITTEE, A.COMMITTEE_PASSAGE)),
    ("REPORTED REFERRED TO CODES", (A.REFERRAL_COMMITTEE, A.COMMITTEE_PASSAGE)),
    ("REPORTED", (A.COMMITTEE_PASSAGE,)),
    ("1ST REPORT CAL.612", (A.COMMITTEE_PASSAGE,)),
    ("RULES REPORT CAL.45", (A.COMMITTEE_PASSAGE,)),
    ("2ND REPORT CAL.", (A.READING_2,)),
    ("ADVANCED TO THIRD READING", (A.READING_3,)),
    ("ADVANCED TO THIRD READING CAL.310", (A.READING_3,)),
    ("3RD READING CAL.1020", (A.READING_3,)),
    ("ORDERED TO THIRD READING RULES CAL.515", (A.READING_3, A.COMMITTEE_PASSAGE)),
    ("HELD FOR CONSIDERATION IN EDUCATION", (A.DEFERRAL,)),
    ("PASSED SENATE", (A.PASSAGE,)),
    ("PASSED ASSEMBLY", (A.PASSAGE,)),
    ("REPASSED SENATE", (A.PASSAGE,)),
    ("ADOPTED", (A.PASSAGE,)),
    ("LOST", (A.FAILURE,)),
    ("DEFEATED IN EDUCATION", (A.FAILURE,)),
    ("DELIVERED TO ASSEMBLY", (A.RECEIPT,)),
    ("DELIVERED TO SENATE", (A.RECEIPT,)),
    ("RETURNED TO SENATE", ()),
    ("RETURNED TO ASSEMBLY", ()),
    ("RECALLED FROM ASSEMBLY", ()),
    ("VOTE RECONSIDERED - RESTORED TO THIRD READING", ()),
    ("SUBSTITUTED BY A5678", (A.SUBSTITUTION,)),
    ("SUBSTITUTED FOR S2345", ()),
    ("STRICKEN", (A.WITHDRAWAL,)),
    ("ENACTING CLAUSE STRICKEN", (A.WITHDRAWAL,)),
    ("DELIVERED TO GOVERNOR", (A.EXECUTIVE_RECEIPT,)),
    ("SIGNED CHAP.123", (A.EXECUTIVE_SIGNATURE,)),
    ("SIGNED CHAP. 412", (A.EXECUTIVE_SIGNATURE,)),
    ("VETOED MEMO.88", (A.EXECUTIVE_VETO,)),
    ("APPROVAL MEMO.12", ()),
    ("LAID ASIDE", ()),
]


@pytest.mark.parametrize(("text", "classes"), TEXTS, ids=[t for t, _ in TEXTS])
def test_action_text(text: str, classes: tuple[ActionClass, ...]) -> None:
    assert RULES.classify(text) == classes


def test_matching_ignores_case() -> None:
    assert RULES.classify("passed senate") == (A.PASSAGE,)


# status -> (stage for a Senate bill, stage for an Assembly bill)
STATUSES: dict[str, tuple[Stage | None, Stage | None]] = {
    "INTRODUCED": (Stage.INTRODUCED, Stage.INTRODUCED),
    "IN_SENATE_COMM": (Stage.IN_COMMITTEE, Stage.PASSED_ORIGIN),
    "IN_ASSEMBLY_COMM": (Stage.PASSED_ORIGIN, Stage.IN_COMMITTEE),
    "SENATE_FLOOR": (Stage.REPORTED, Stage.PASSED_ORIGIN),
    "ASSEMBLY_FLOOR": (Stage.PASSED_ORIGIN, Stage.REPORTED),
    "PASSED_SENATE": (Stage.PASSED_ORIGIN, Stage.PASSED_BOTH),
    "PASSED_ASSEMBLY": (Stage.PASSED_BOTH, Stage.PASSED_ORIGIN),
    "DELIVERED_TO_GOV": (Stage.TO_EXECUTIVE, Stage.TO_EXECUTIVE),
    "SIGNED_BY_GOV": (Stage.ENACTED, Stage.ENACTED),
    "POCKET_APPROVAL": (Stage.ENACTED, Stage.ENACTED),
    "VETOED": (Stage.VETOED, Stage.VETOED),
    "STRICKEN": (Stage.WITHDRAWN, Stage.WITHDRAWN),
    "LOST": (Stage.FAILED, Stage.FAILED),
    "ADOPTED": (Stage.ADOPTED, Stage.ADOPTED),
    "SUBSTITUTED": (None, None),
}


def test_the_status_table_covers_the_whole_enum() -> None:
    assert set(STATUSES) == set(STATUS_TYPES)
    assert len(STATUS_TYPES) == 15


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_status_stage(status: str) -> None:
    senate, assembly = STATUSES[status]
    assert status_stage(status, origin=Chamber.UPPER) is senate
    assert status_stage(status, origin=Chamber.LOWER) is assembly


def test_an_unknown_status_makes_no_claim() -> None:
    assert status_stage("ON_THE_MOON", origin=Chamber.UPPER) is None


@pytest.mark.parametrize(
    ("derived", "expected", "agrees"),
    [
        (Stage.PASSED_ORIGIN, Stage.PASSED_ORIGIN, True),
        (Stage.REPORTED, Stage.IN_COMMITTEE, True),  # reported on to a second committee
        (Stage.IN_COMMITTEE, Stage.REPORTED, False),
        (Stage.PASSED_ORIGIN, Stage.IN_COMMITTEE, False),
        (Stage.ENACTED, Stage.TO_EXECUTIVE, False),
        (Stage.REPORTED, None, True),
    ],
)
def test_stage_agrees(derived: Stage, expected: Stage | None, agrees: bool) -> None:
    assert stage_agrees(derived, expected) is agrees
