"""The va-lis rule table, session codes and derived stages, tested as tables.

Action texts are copied from the real LIS files in ../shared/fixtures/va-lis (the 2020
HISTORY.CSV files and the last-action columns of the 2020 and 2025 BILLS.CSV), except where a
comment says the wording comes from sources.md section 9 (LIS vocabulary the samples lack).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scrapers.va_lis.parse import split_actor
from scrapers.va_lis.rules import ACTION_RULES, classify
from scrapers.va_lis.sessions import lis_session_code, session_from_dates
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.records import ActionRecord
from tracker.stages import derive_stage

A = ActionClass

TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    # Introduction
    ("Prefiled and ordered printed; offered 01/08/20 20101095D", (A.INTRODUCTION,)),
    ("Prefiled and ordered printed with emergency clause; offered 01/08/20 20104359D",
     (A.INTRODUCTION,)),
    ("Prefiled and laid on Speaker's table; offered 01/08/20 20102470D", (A.INTRODUCTION,)),
    ("Presented and ordered printed 20105011D", (A.INTRODUCTION,)),
    ("Presented and laid on Speaker's table 20105337D", (A.INTRODUCTION,)),
    ("Unanimous consent to introduce", ()),
    # Committees and subcommittees
    ("Referred to Committee on Privileges and Elections", (A.REFERRAL_COMMITTEE,)),
    ("Referred to Committee for Courts of Justice", (A.REFERRAL_COMMITTEE,)),
    ("Rereferred to Finance and Appropriations", (A.REFERRAL_COMMITTEE,)),
    ("Assigned P & E sub: Elections", (A.REFERRAL_COMMITTEE,)),
    ("Assigned Transportation sub: Transportation Innovations and General Topics",
     (A.REFERRAL_COMMITTEE,)),
    ("Referred from Labor and Commerce", ()),
    ("Rereferred from Commerce and Labor (15-Y 0-N)", ()),
    ("Discharged from Judiciary", ()),
    ("Moved from Courts of Justice to Judiciary due to a change of the committee name", ()),
    ("Subcommittee recommends reporting (8-Y 0-N)", ()),
    ("Subcommittee recommends reporting with substitute (6-Y 2-N)", ()),
    ("Subcommittee recommends laying on the table (5-Y 3-N)", ()),
    ("Subcommittee recommends passing by indefinitely (6-Y 0-N)", ()),
    ("Subcommittee recommends continuing to 2021", ()),
    ("Subcommittee recommends referring to Committee on Appropriations", ()),
    ("Subcommittee recommends incorporating (HB1663-Sickles)", ()),
    ("Subcommittee failed to recommend reporting (3-Y 5-N)", ()),
    ("Reported from Health, Welfare and Institutions (22-Y 0-N)", (A.COMMITTEE_PASSAGE,)),
    ("Reported from Judiciary with substitute (9-Y 5-N)",
     (A.COMMITTEE_PASSAGE, A.SUBSTITUTION)),
    ("Failed to report (defeated) in Labor and Commerce (10-Y 10-N)", (A.COMMITTEE_FAILURE,)),
    ("Failed to report from Transportation with substitute (6-Y 9-N)", (A.COMMITTEE_FAILURE,)),
    ("Passed by indefinitely in Judiciary (9-Y 6-N)", (A.COMMITTEE_FAILURE, A.DEFERRAL)),
    ("Passed by indefinitely in Local Government with letter (14-Y 0-N)",
     (A.COMMITTEE_FAILURE, A.DEFERRAL)),
    ("Tabled in Labor and Commerce (20-Y 0-N)", (A.COMMITTEE_FAILURE, A.DEFERRAL)),
    ("Left in Appropriations", (A.COMMITTEE_FAILURE,)),
    ("Incorporated by Labor and Commerce (HB783-Askew)", (A.COMMITTEE_FAILURE,)),
    ("Incorporated by Judiciary (SB35-Surovell) (13-Y 0-N)", (A.COMMITTEE_FAILURE,)),
    ("Incorporates SB615 (Deeds)", ()),
    ("Continued to 2021 in Privileges and Elections (15-Y 0-N)", (A.CARRIED_OVER,)),
    ("Continued to 2021 in Education", (A.CARRIED_OVER,)),
    ("Stricken at request of Patron in Transportation (15-Y 0-N)", (A.WITHDRAWAL,)),
    ("Stricken at the request of Patron in Judiciary (13-Y 0-N)", (A.WITHDRAWAL,)),
    ("Stricken from docket by Courts of Justice (22-Y 0-N)", (A.WITHDRAWAL,)),
    ("Stricken from House calendar", ()),
    ("Reconsidered by Privileges and Elections - removed from table (19-Y 3-N)", ()),
    ("Impact statement from DPB (HB1)", ()),
    ("Fiscal Impact Statement from Department of Planning and Budget (HB2321)", ()),
    ("House subcommittee amendments and substitutes offered", ()),
    # The floor
    ("Read first time", (A.READING_1,)),
    ("Constitutional reading dispensed (39-Y 0-N)", (A.READING_1,)),
    ("Read second time and engrossed", (A.READING_2,)),
    ("Read third time", (A.READING_3,)),
    ("Read third time and passed House (56-Y 43-N)", (A.READING_3, A.PASSAGE)),
    ("Read third time and passed House BLOCK VOTE (99-Y 0-N)", (A.READING_3, A.PASSAGE)),
    ("Read third time and passed Senate (21-Y 19-N)", (A.READING_3, A.PASSAGE)),
    ("Read third time and agreed to by Senate (40-Y 0-N)", (A.READING_3, A.PASSAGE)),
    ("Read third time and defeated by Senate (19-Y 21-N)", (A.READING_3, A.FAILURE)),
    ("Passed Senate (40-Y 0-N)", (A.PASSAGE,)),
    ("Passed Senate with amendments (39-Y 0-N)", (A.PASSAGE,)),
    ("Agreed to by House by voice vote", (A.PASSAGE,)),
    ("Agreed to by Senate with amendments (40-Y 0-N)", (A.PASSAGE,)),
    ("Defeated by Senate (18-Y 22-N)", (A.FAILURE,)),
    ("Failed to pass", (A.FAILURE,)),
    ("Failed to Pass from conference", (A.FAILURE,)),
    ("Engrossment refused by House (43-Y 54-N)", (A.FAILURE,)),
    ("Passed by for the day", ()),
    ("Passed by temporarily", ()),
    ("VOTE: Passage (56-Y 43-N)", ()),
    ("VOTE: Adoption (99-Y 0-N)", ()),
    ("Motion to pass by amendment #2 by Delegate Bell agreed to (54-Y 45-N)", ()),
    ("Reconsideration of passage agreed to by Senate (40-Y 0-N)", ()),
    ("Engrossment reconsidered by Senate (39-Y 0-N)", ()),
    ("Received", (A.RECEIPT,)),
    # Amendments and substitutes
    ("Committee amendments agreed to", (A.AMENDMENT_PASSAGE,)),
    ("Amendment by Senator Surovell agreed to", (A.AMENDMENT_PASSAGE,)),
    ("Senate amendments agreed to by House (99-Y 0-N)", (A.AMENDMENT_PASSAGE,)),
    ("Senate amendment rejected by House", (A.AMENDMENT_FAILURE,)),
    ("Committee substitute agreed to 20105646D-S1", (A.SUBSTITUTION,)),
    ("Committee substitute printed 20105646D-S1", ()),
    ("Engrossed by Senate - committee substitute SB35S1", ()),
    ("Conference report agreed to by Senate", (A.PASSAGE,)),
    ("Amended by conference committee", ()),
    # Enrolment and the Governor
    ("Bill text as passed House and Senate (HJ1ER)", ()),
    ("Signed by Speaker", ()),
    ("Signed by President", ()),
    ("Enrolled", (A.ENROLLED,)),  # sources.md section 9 vocabulary
    ("Enrolled Bill communicated to Governor on March 11, 2025", (A.EXECUTIVE_RECEIPT,)),
    ("Enrolled Bill Communicated to Governor on February 28, 2025", (A.EXECUTIVE_RECEIPT,)),
    ("Communicated to Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Governor's Action Deadline 11:59 p.m., May 8, 2024", (A.EXECUTIVE_RECEIPT,)),
    ("Approved by Governor-Chapter 12 (effective 7/1/20)", (A.EXECUTIVE_SIGNATURE,)),  # §9
    ("Vetoed by Governor", (A.EXECUTIVE_VETO,)),
    ("House sustained Governor's veto", (A.VETO_OVERRIDE_FAILURE,)),
    ("Senate sustained Governor's veto", (A.VETO_OVERRIDE_FAILURE,)),
    ("Requires 67 affirmative votes to override Governor's veto", ()),
    ("Senate concurred in Governor's recommendation (38-Y 1-N)", ()),
    ("Senate rejected Governor's recommendation (21-Y 19-N)", ()),
    ("Governor's Recommendation #1 Passed by for the day (40-Y 0-N)", ()),
    ("Enacted, Chapter 2 (Effective 7/1/25)", (A.BECAME_LAW,)),
    ("Assigned Chapter 761 (Effective 7/1/25)", (A.BECAME_LAW,)),
    ("Acts of Assembly Chapter text (CHAP0169)", ()),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), TEXTS, ids=[t[:60] for t, _ in TEXTS])
def test_action_rules(text: str, expected: tuple[ActionClass, ...]) -> None:
    assert classify(text) == expected


def test_every_rule_is_used_by_a_real_text() -> None:
    """No rule is dead weight: each one matches at least one real text of the table."""
    unused = [
        rule.pattern for rule in ACTION_RULES.rules
        if not any(rule.regex.search(text) for text, _ in TEXTS)
    ]  # fmt: skip
    assert unused == []


# -- stages of typical sequences ----------------------------------------------------------------


def stage_of(rows: list[str], *, bill_type: BillType = BillType.BILL) -> Stage:
    """The stage after raw HISTORY.CSV descriptions (chamber prefix included), one per day."""
    start = date(2020, 1, 8)
    actions = []
    for day, description in enumerate(rows):
        actor, text = split_actor(description)
        actions.append(
            ActionRecord(
                date=start + timedelta(days=day),
                actor=actor,
                description=text,
                classification=classify(text),
            )
        )
    return derive_stage(actions, bill_type=bill_type)


INTRODUCED = ["H Prefiled and ordered printed; offered 01/08/20 20102137D"]
REFERRED = [
    *INTRODUCED,
    "H Referred to Committee on Transportation",
    "H Assigned Transportation sub: Transportation Innovations and General Topics",
]
PASSED_HOUSE = [
    *REFERRED,
    "H Subcommittee recommends reporting (6-Y 2-N)",
    "H Reported from Transportation (14-Y 8-N)",
    "H Read first time",
    "H Read second time and engrossed",
    "H Passed by for the day",
    "H Read third time and passed House (56-Y 43-N)",
    "H VOTE: Passage (56-Y 43-N)",
]
PASSED_BOTH = [
    *PASSED_HOUSE,
    "S Constitutional reading dispensed (40-Y 0-N)",
    "S Referred to Committee on Transportation",
    "S Reported from Transportation (9-Y 6-N)",
    "S Read third time and passed Senate (21-Y 19-N)",
    "H Enrolled",
    "H Signed by Speaker",
    "S Signed by President",
]
TO_GOVERNOR = [*PASSED_BOTH, "H Enrolled Bill communicated to Governor on March 11, 2020"]

SEQUENCES: list[tuple[str, list[str], BillType, Stage]] = [
    ("prefiled", INTRODUCED, BillType.BILL, Stage.INTRODUCED),
    ("referred to a subcommittee", REFERRED, BillType.BILL, Stage.IN_COMMITTEE),
    ("a subcommittee only recommends",
     [*REFERRED, "H Subcommittee recommends reporting (6-Y 2-N)"], BillType.BILL,
     Stage.IN_COMMITTEE),
    ("reported", [*REFERRED, "H Reported from Transportation (14-Y 8-N)"], BillType.BILL,
     Stage.REPORTED),
    ("passed by for the day is not passage", PASSED_HOUSE[:-2], BillType.BILL, Stage.REPORTED),
    ("passed the House", PASSED_HOUSE, BillType.BILL, Stage.PASSED_ORIGIN),
    ("signed by Speaker and President is not passage", PASSED_BOTH, BillType.BILL,
     Stage.PASSED_BOTH),
    ("communicated to the Governor", TO_GOVERNOR, BillType.BILL, Stage.TO_EXECUTIVE),
    ("approved by the Governor",
     [*TO_GOVERNOR, " Approved by Governor-Chapter 12 (effective 7/1/20)"], BillType.BILL,
     Stage.ENACTED),
    ("governor's recommendation, then enacted",
     [*TO_GOVERNOR, "S Senate concurred in Governor's recommendation (38-Y 1-N)",
      "H Enacted, Chapter 2 (Effective 7/1/20)"], BillType.BILL, Stage.ENACTED),
    ("vetoed and sustained",
     [*TO_GOVERNOR, " Vetoed by Governor", "H Requires 67 affirmative votes to override "
      "Governor's veto", "H House sustained Governor's veto"], BillType.BILL, Stage.VETOED),
    ("passed by indefinitely in committee",
     [*REFERRED, "S Passed by indefinitely in Judiciary (9-Y 6-N)"], BillType.BILL,
     Stage.FAILED),
    ("left in committee at the session's end", [*REFERRED, "H Left in Transportation"],
     BillType.BILL, Stage.FAILED),
    ("incorporated into another bill",
     [*REFERRED, "H Incorporated by Labor and Commerce (HB783-Askew)"], BillType.BILL,
     Stage.FAILED),
    ("defeated on the floor",
     [*PASSED_HOUSE, "S Read third time and defeated by Senate (19-Y 21-N)"], BillType.BILL,
     Stage.FAILED),
    ("tabled, taken from the table, reported",
     [*REFERRED, "H Tabled in Privileges and Elections (17-Y 4-N)",
      "H Reconsidered by Privileges and Elections - removed from table (19-Y 3-N)",
      "H Reported from Privileges and Elections (19-Y 3-N)"], BillType.BILL, Stage.REPORTED),
    ("continued to next year", [*REFERRED, "H Continued to 2021 in Education"], BillType.BILL,
     Stage.IN_COMMITTEE),
    ("stricken at the patron's request",
     [*REFERRED, "S Stricken at request of Patron in Transportation (15-Y 0-N)"],
     BillType.BILL, Stage.WITHDRAWN),
    ("simple resolution agreed to",
     ["H Presented 20105337D", "H Agreed to by House by voice vote"], BillType.RESOLUTION,
     Stage.ADOPTED),
    ("constitutional amendment agreed to by both chambers",
     ["H Presented and ordered printed 20105011D", "H Agreed to by House (55-Y 44-N)",
      "S Agreed to by Senate (21-Y 19-N)"], BillType.CONSTITUTIONAL_AMENDMENT, Stage.ADOPTED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "bill_type", "expected"), [s[1:] for s in SEQUENCES], ids=[s[0] for s in SEQUENCES]
)
def test_stage_of_typical_sequences(rows: list[str], bill_type: BillType, expected: Stage) -> None:
    assert stage_of(rows, bill_type=bill_type) == expected


ACTORS: list[tuple[str, Chamber, str]] = [
    ("H Referred to Committee on Transportation", Chamber.LOWER,
     "Referred to Committee on Transportation"),
    ("S Read third time and passed Senate (21-Y 19-N)", Chamber.UPPER,
     "Read third time and passed Senate (21-Y 19-N)"),
    (" Approved by Governor-Chapter 12 (effective 7/1/20)", Chamber.EXECUTIVE,
     "Approved by Governor-Chapter 12 (effective 7/1/20)"),
    (" Conference report agreed to by Senate", Chamber.LEGISLATURE,
     "Conference report agreed to by Senate"),
    ("Heard in committee", Chamber.UNKNOWN, "Heard in committee"),
]  # fmt: skip


@pytest.mark.parametrize(("description", "actor", "text"), ACTORS, ids=[a[0] for a in ACTORS])
def test_actor_from_the_prefix(description: str, actor: Chamber, text: str) -> None:
    assert split_actor(description) == (actor, text)


# -- session codes ------------------------------------------------------------------------------

CODES = [
    ("2010", "101"), ("2020", "201"), ("2020S1", "202"), ("2021S2", "213"), ("2024", "241"),
    ("2023", "231"), ("2025", "20251"), ("2026", "20261"), ("2026S1", "20262"),
]  # fmt: skip


@pytest.mark.parametrize(("session", "code"), CODES)
def test_session_codes(session: str, code: str) -> None:
    assert lis_session_code(session) == code


@pytest.mark.parametrize(
    ("session", "problem"),
    [("20201", "not a Virginia session name"), ("2020s1", "not a Virginia session name"),
     ("2020S", "not a Virginia session name"), ("1999", "before 2000"),
     ("2020S9", "up to S8"), ("", "not a Virginia session name")],
)  # fmt: skip
def test_bad_session_names(session: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        lis_session_code(session)


def test_session_from_introduction_dates() -> None:
    prefiled_in_2019 = [date(2019, 11, 18), date(2020, 1, 8), date(2019, 12, 2)]
    assert session_from_dates(prefiled_in_2019) == "2020"
    assert session_from_dates([]) is None
