"""The il-ilga rule and actor tables, tested as tables of ILGA action texts (sources.md
section 8 and the Open States Illinois scraper) and the classes and actors they stand for."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from scrapers.il_ilga_rules import ACTORS, RULES, actor_of
from tracker.models import ActionClass, BillType, Chamber, Stage
from tracker.records import ActionRecord
from tracker.stages import derive_stage

A = ActionClass

TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("Filed with the Clerk by Rep. Theresa Mah", (A.FILING, A.INTRODUCTION)),
    ("Prefiled with Clerk by Rep. Kam Buckner", (A.FILING, A.INTRODUCTION)),
    ("Filed with Secretary by Sen. Ram Villivalam", (A.FILING, A.INTRODUCTION)),
    ("First Reading", (A.READING_1,)),
    ("Referred to Rules Committee", (A.REFERRAL_COMMITTEE,)),
    ("Referred to Assignments", (A.REFERRAL_COMMITTEE,)),
    ("Assigned to Executive Committee", (A.REFERRAL_COMMITTEE,)),
    ("Re-assigned to Judiciary - Civil Committee", (A.REFERRAL_COMMITTEE,)),
    ("Do Pass / Short Debate Executive Committee; 012-000-000", (A.COMMITTEE_PASSAGE,)),
    ("Do Pass as Amended / Short Debate Executive Committee; 012-000-000",
     (A.COMMITTEE_PASSAGE,)),
    ("Do Pass Transportation; 013-000-000", (A.COMMITTEE_PASSAGE,)),
    ("Recommends Do Pass Subcommittee/ Judiciary - Civil Committee; 005-000-000",
     (A.COMMITTEE_PASSAGE,)),
    ("Motion Do Pass - Lost Judiciary - Criminal Committee; 005-007-000",
     (A.COMMITTEE_FAILURE,)),
    ("Be Adopted Human Services Committee; 009-000-000", (A.COMMITTEE_PASSAGE,)),
    ("Postponed - Executive", (A.DEFERRAL,)),
    # scheduling is not a reading, let alone passage
    ("Placed on Calendar 2nd Reading - Short Debate", ()),
    ("Placed on Calendar Order of 3rd Reading - Short Debate", ()),
    ("Placed on Calendar Order of 3rd Reading May 7, 2025", ()),
    ("Placed on Calendar Order of Concurrence House Amendment(s) 1", ()),
    ("Third Reading Deadline Extended-Rule 9(b) May 31, 2025", ()),
    ("Rule 2-10 Committee Deadline Established As April 11, 2025", ()),
    ("Second Reading - Short Debate", (A.READING_2,)),
    ("Second Reading", (A.READING_2,)),
    ("Third Reading - Short Debate - Passed 108-000-000", (A.READING_3, A.PASSAGE)),
    ("Third Reading - Passed; 056-000-000", (A.READING_3, A.PASSAGE)),
    ("Third Reading - Standard Debate - Lost 050-060-000", (A.READING_3, A.FAILURE)),
    ("Third Reading - Consideration Postponed", (A.READING_3,)),
    ("Arrive in Senate", (A.RECEIPT,)),
    ("Arrived in House", (A.RECEIPT,)),
    ("Passed Both Houses", (A.PASSAGE,)),
    ("Adopted Both Houses", (A.PASSAGE,)),
    ("Resolution Adopted", (A.PASSAGE,)),
    ("Resolution Lost", (A.FAILURE,)),
    ("House Concurs", (A.PASSAGE,)),
    ("Tabled By Sponsor Rep. Kam Buckner", (A.WITHDRAWAL,)),
    ("Tabled", (A.FAILURE,)),
    # a bill that missed a deadline, or outlived its Assembly, is dead
    ("Rule 19(a) / Re-referred to Rules Committee", (A.FAILURE,)),
    ("Rule 19(b) / Re-referred to Rules Committee", (A.FAILURE,)),
    ("Rule 3-9(a) / Re-referred to Assignments", (A.FAILURE,)),
    ("Re-referred to Rules Committee", (A.FAILURE,)),
    ("Re-referred to Assignments", (A.FAILURE,)),
    ("Session Sine Die", (A.FAILURE,)),
    # amendments: about the amendment, never the bill
    ("House Committee Amendment No. 1 Filed with Clerk by Rep. Theresa Mah",
     (A.AMENDMENT_INTRODUCTION,)),
    ("House Committee Amendment No. 1 Adopted in Executive Committee; by Voice Vote",
     (A.AMENDMENT_PASSAGE,)),
    ("Senate Floor Amendment No. 2 Tabled Pursuant to Rule 5-4(a)", (A.AMENDMENT_FAILURE,)),
    ("House Floor Amendment No. 3 Withdrawn by Rep. Kam Buckner", (A.AMENDMENT_WITHDRAWAL,)),
    ("House Floor Amendment No. 2 Rule 19(c) / Re-referred to Rules Committee", ()),
    ("Senate Committee Amendment No. 1 Referred to Assignments", ()),
    ("Senate Committee Amendment No. 1 House Concurs 112-000-000", ()),
    ("House Committee Amendment No. 1 Rules Refers to Executive Committee", ()),
    # the Governor
    ("Sent to the Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Governor Approved", (A.EXECUTIVE_SIGNATURE,)),
    ("Governor Vetoed", (A.EXECUTIVE_VETO,)),
    ("Governor Amendatory Veto", (A.EXECUTIVE_VETO,)),
    ("Governor Item Veto", (A.EXECUTIVE_VETO_LINE_ITEM,)),
    ("Governor Item Reduction", (A.EXECUTIVE_VETO_LINE_ITEM,)),
    ("Override Total Veto - House Passed 073-044-000", (A.VETO_OVERRIDE_PASSAGE,)),
    ("Override Total Veto - Senate Lost 030-025-000", (A.VETO_OVERRIDE_FAILURE,)),
    ("Public Act . . . . . . . . . 104-0012", (A.BECAME_LAW,)),
    ("Public Act . . . 103-0567", (A.BECAME_LAW,)),
    ("Effective Date January 1, 2026", ()),
    ("Added Co-Sponsor Rep. Hoan Huynh", ()),
    ("Chief Senate Sponsor Sen. Ram Villivalam", ()),
    ("Approved for Consideration Rules Committee; 004-000-000", ()),
]


@pytest.mark.parametrize(("text", "classes"), TEXTS, ids=[text for text, _ in TEXTS])
def test_texts_classify_as_the_table_says(text: str, classes: tuple[ActionClass, ...]) -> None:
    assert RULES.classify(text) == classes


def test_every_rule_is_needed() -> None:
    """Each rule classifies at least one text of the table (no dead rules)."""
    unused = [r.pattern for r in RULES.rules if not any(r.regex.search(t) for t, _ in TEXTS)]
    assert unused == []


ACTOR_CASES: list[tuple[str, Chamber, Chamber]] = [
    ("Governor Approved", Chamber.LOWER, Chamber.EXECUTIVE),
    ("Governor Amendatory Veto", Chamber.UPPER, Chamber.EXECUTIVE),
    ("Public Act . . . 104-0012", Chamber.LOWER, Chamber.EXECUTIVE),
    ("Passed Both Houses", Chamber.UPPER, Chamber.LEGISLATURE),
    ("Sent to the Governor", Chamber.UPPER, Chamber.UPPER),
    ("Third Reading - Passed; 056-000-000", Chamber.UPPER, Chamber.UPPER),
]


@pytest.mark.parametrize(("text", "listed", "actor"), ACTOR_CASES)
def test_actor_table(text: str, listed: Chamber, actor: Chamber) -> None:
    assert actor_of(text, chamber=listed) is actor


def test_every_actor_rule_is_needed() -> None:
    unused = [p.pattern for p, _ in ACTORS if not any(p.search(t) for t, _, _ in ACTOR_CASES)]
    assert unused == []


def stage(*rows: tuple[str, Chamber]) -> Stage:
    """The stage after ``rows`` of (text, chamber listed under), one day apart."""
    records = [
        ActionRecord(date=date(2025, 1, 1) + timedelta(days=day), description=text,
                     actor=actor_of(text, chamber=chamber), classification=RULES.classify(text))
        for day, (text, chamber) in enumerate(rows)
    ]
    return derive_stage(records, bill_type=BillType.BILL)


H, S = Chamber.LOWER, Chamber.UPPER


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("Filed with the Clerk by Rep. A", H), ("Referred to Rules Committee", H),
          ("Rule 19(a) / Re-referred to Rules Committee", H)], Stage.FAILED),
        ([("Filed with the Clerk by Rep. A", H), ("Referred to Rules Committee", H),
          ("Rule 19(a) / Re-referred to Rules Committee", H),
          ("Approved for Consideration Rules Committee; 004-000-000", H),
          ("Do Pass / Short Debate Executive Committee; 012-000-000", H)], Stage.REPORTED),
        ([("Do Pass / Short Debate Executive Committee; 012-000-000", H),
          ("Placed on Calendar Order of 3rd Reading - Short Debate", H)], Stage.REPORTED),
        ([("Third Reading - Short Debate - Passed 108-000-000", H), ("Arrive in Senate", S),
          ("Session Sine Die", S)], Stage.FAILED),
        ([("Third Reading - Short Debate - Passed 108-000-000", H),
          ("Third Reading - Passed; 056-000-000", S), ("Passed Both Houses", H),
          ("Sent to the Governor", H), ("Governor Approved", H),
          ("Public Act . . . 104-0012", H)], Stage.ENACTED),
    ],
    ids=["rule-19a", "revived", "calendar-is-not-passage", "sine-die", "enacted"],
)
def test_the_rules_give_the_stage_ladder(rows: list[tuple[str, Chamber]], expected: Stage) -> None:
    assert stage(*rows) is expected
