"""derive_stage as a table: sequences of classified actions -> stage."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.models import Action, ActionClass, BillType, Chamber, Stage
from tracker.records import ActionRecord
from tracker.stages import derive_stage

A = ActionClass
LOWER, UPPER, LEG, EXEC, UNKNOWN = (
    Chamber.LOWER, Chamber.UPPER, Chamber.LEGISLATURE, Chamber.EXECUTIVE, Chamber.UNKNOWN,
)  # fmt: skip
Step = tuple[Chamber, tuple[ActionClass, ...]]


def steps(*items: Step) -> list[ActionRecord]:
    return [
        ActionRecord(date=date(2021, 1, 1), actor=actor, description=f"step {i}",
                     classification=classes)
        for i, (actor, classes) in enumerate(items)
    ]  # fmt: skip


INTRO_H: Step = (LOWER, (A.INTRODUCTION,))
REFER_H: Step = (LOWER, (A.REFERRAL_COMMITTEE,))
REPORT_H: Step = (LOWER, (A.COMMITTEE_PASSAGE,))
PASS_H: Step = (LOWER, (A.PASSAGE,))
FAIL_H: Step = (LOWER, (A.FAILURE,))
RECEIVE_S: Step = (UPPER, (A.RECEIPT, A.REFERRAL_COMMITTEE))
INTRO_S: Step = (UPPER, (A.INTRODUCTION,))
REFER_S: Step = (UPPER, (A.REFERRAL_COMMITTEE,))
PASS_S: Step = (UPPER, (A.PASSAGE,))
CLOTURE: Step = (UPPER, ())  # cloture votes arrive unclassified
PRESENT: Step = (EXEC, (A.EXECUTIVE_RECEIPT,))
SIGN: Step = (EXEC, (A.EXECUTIVE_SIGNATURE,))
LAW: Step = (EXEC, (A.BECAME_LAW,))
VETO: Step = (EXEC, (A.EXECUTIVE_VETO,))
OVERRIDE_H: Step = (LOWER, (A.VETO_OVERRIDE_PASSAGE,))
OVERRIDE_S: Step = (UPPER, (A.VETO_OVERRIDE_PASSAGE,))
BILL = BillType.BILL

CASES: list[tuple[str, BillType, list[Step], Stage]] = [
    ("no actions", BILL, [], Stage.INTRODUCED),
    ("introduced only", BILL, [INTRO_H], Stage.INTRODUCED),
    ("an unclassified action still means introduced", BILL, [(LOWER, ())], Stage.INTRODUCED),
    ("referred", BILL, [INTRO_H, REFER_H], Stage.IN_COMMITTEE),
    ("referred to several committees", BILL, [INTRO_H, REFER_H, REFER_H, REFER_H],
     Stage.IN_COMMITTEE),
    ("intro and referral in one action", BILL, [(LOWER, (A.REFERRAL_COMMITTEE, A.INTRODUCTION))],
     Stage.IN_COMMITTEE),
    ("reported", BILL, [INTRO_H, REFER_H, REPORT_H], Stage.REPORTED),
    ("reported favorably", BILL, [INTRO_H, REFER_H, (LOWER, (A.COMMITTEE_PASSAGE_FAVORABLE,))],
     Stage.REPORTED),
    ("referral after a report does not go back", BILL, [INTRO_H, REPORT_H, REFER_H],
     Stage.REPORTED),
    ("passed origin", BILL, [INTRO_H, REFER_H, PASS_H], Stage.PASSED_ORIGIN),
    ("referral in the second chamber keeps passed-origin", BILL, [INTRO_H, PASS_H, RECEIVE_S],
     Stage.PASSED_ORIGIN),
    ("report in the second chamber keeps passed-origin", BILL,
     [INTRO_H, PASS_H, RECEIVE_S, (UPPER, (A.COMMITTEE_PASSAGE,))], Stage.PASSED_ORIGIN),
    ("a second passage by the same chamber is not both", BILL, [INTRO_H, PASS_H, PASS_H],
     Stage.PASSED_ORIGIN),
    ("passed both", BILL, [INTRO_H, PASS_H, RECEIVE_S, PASS_S], Stage.PASSED_BOTH),
    ("legislature passage counts as both", BILL, [INTRO_H, (LEG, (A.PASSAGE,))],
     Stage.PASSED_BOTH),
    ("unknown actor proves one passage", BILL, [INTRO_H, (UNKNOWN, (A.PASSAGE,))],
     Stage.PASSED_ORIGIN),
    ("unknown actor never a second chamber", BILL,
     [INTRO_H, PASS_H, (UNKNOWN, (A.PASSAGE,))], Stage.PASSED_ORIGIN),
    ("cloture changes nothing", BILL, [INTRO_S, REFER_S, CLOTURE, CLOTURE], Stage.IN_COMMITTEE),
    ("cloture then passage", BILL, [INTRO_S, CLOTURE, PASS_S], Stage.PASSED_ORIGIN),
    ("conference report adopted by both keeps passed-both", BILL,
     [INTRO_H, PASS_H, PASS_S, PASS_H, PASS_S], Stage.PASSED_BOTH),
    ("to the executive", BILL, [INTRO_H, PASS_H, PASS_S, PRESENT], Stage.TO_EXECUTIVE),
    ("enacted by signature", BILL, [INTRO_H, PASS_H, PASS_S, PRESENT, SIGN], Stage.ENACTED),
    ("enacted by became-law", BILL, [INTRO_H, PASS_H, PASS_S, PRESENT, LAW], Stage.ENACTED),
    ("enacted is final", BILL, [INTRO_H, PASS_H, PASS_S, SIGN, FAIL_H, REFER_H], Stage.ENACTED),
    ("vetoed", BILL, [INTRO_S, PASS_S, PASS_H, PRESENT, VETO], Stage.VETOED),
    ("motion to table the veto message changes nothing", BILL,
     [INTRO_S, PASS_S, PASS_H, PRESENT, VETO, (UPPER, ())], Stage.VETOED),
    ("override in one chamber only", BILL, [INTRO_H, PASS_H, PASS_S, VETO, OVERRIDE_H],
     Stage.VETOED),
    ("override failure keeps vetoed", BILL,
     [INTRO_H, PASS_H, PASS_S, VETO, (LOWER, (A.VETO_OVERRIDE_FAILURE,))], Stage.VETOED),
    ("override in both chambers", BILL, [INTRO_H, PASS_H, PASS_S, VETO, OVERRIDE_H, OVERRIDE_S],
     Stage.ENACTED),
    ("override twice in one chamber is not both", BILL,
     [INTRO_H, PASS_H, PASS_S, VETO, OVERRIDE_H, OVERRIDE_H], Stage.VETOED),
    ("override by the legislature", BILL,
     [INTRO_H, PASS_H, PASS_S, VETO, (LEG, (A.VETO_OVERRIDE_PASSAGE,))], Stage.ENACTED),
    ("a failure after a veto keeps vetoed", BILL, [INTRO_H, PASS_H, PASS_S, VETO, FAIL_H],
     Stage.VETOED),
    ("floor failure", BILL, [INTRO_H, REFER_H, FAIL_H], Stage.FAILED),
    ("committee failure", BILL, [INTRO_H, REFER_H, (LOWER, (A.COMMITTEE_FAILURE,))],
     Stage.FAILED),
    ("committee failure then report revives", BILL,
     [INTRO_H, REFER_H, (LOWER, (A.COMMITTEE_FAILURE,)), REPORT_H], Stage.REPORTED),
    ("failed suspension vote then passage", BILL, [INTRO_H, REFER_H, FAIL_H, PASS_H],
     Stage.PASSED_ORIGIN),
    ("failure in the second chamber", BILL, [INTRO_H, PASS_H, RECEIVE_S, (UPPER, (A.FAILURE,))],
     Stage.FAILED),
    ("second chamber failure then passage", BILL,
     [INTRO_H, PASS_H, (UPPER, (A.FAILURE,)), PASS_S], Stage.PASSED_BOTH),
    ("revival returns to the highest stage reached", BILL,
     [INTRO_H, PASS_H, (UPPER, (A.FAILURE,)), (UPPER, (A.COMMITTEE_PASSAGE,))],
     Stage.PASSED_ORIGIN),
    ("a referral does not revive a failed bill", BILL, [INTRO_H, FAIL_H, REFER_H], Stage.FAILED),
    ("withdrawn", BILL, [INTRO_H, REFER_H, (LOWER, (A.WITHDRAWAL,))], Stage.WITHDRAWN),
    ("amendments change nothing", BILL,
     [INTRO_H, REFER_H, (LOWER, (A.AMENDMENT_PASSAGE,)), (LOWER, (A.AMENDMENT_FAILURE,))],
     Stage.IN_COMMITTEE),
    ("simple resolution adopted by its chamber", BillType.RESOLUTION, [INTRO_S, REFER_S, PASS_S],
     Stage.ADOPTED),
    ("simple resolution in committee", BillType.RESOLUTION, [INTRO_S, REFER_S],
     Stage.IN_COMMITTEE),
    ("simple resolution adopted is final", BillType.RESOLUTION, [INTRO_H, PASS_H, FAIL_H],
     Stage.ADOPTED),
    ("concurrent resolution passed one chamber", BillType.CONCURRENT_RESOLUTION,
     [INTRO_S, PASS_S], Stage.PASSED_ORIGIN),
    ("concurrent resolution adopted by both", BillType.CONCURRENT_RESOLUTION,
     [INTRO_S, PASS_S, PASS_H], Stage.ADOPTED),
    ("constitutional amendment adopted by both", BillType.CONSTITUTIONAL_AMENDMENT,
     [INTRO_H, PASS_H, PASS_S], Stage.ADOPTED),
    ("joint resolution goes to the President like a bill", BillType.JOINT_RESOLUTION,
     [INTRO_S, PASS_S, PASS_H], Stage.PASSED_BOTH),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bill_type", "sequence", "expected"),
    [pytest.param(bill_type, seq, expected, id=name) for name, bill_type, seq, expected in CASES],
)
def test_derive_stage(bill_type: BillType, sequence: list[Step], expected: Stage) -> None:
    assert derive_stage(steps(*sequence), bill_type=bill_type) is expected


def test_accepts_normalized_actions_too() -> None:
    actions = [
        Action(uid="1", date=date(2021, 1, 1), actor=LOWER, description="Introduced",
               classification=(A.INTRODUCTION,)),
        Action(uid="2", date=date(2021, 2, 1), actor=LOWER, description="Passed",
               classification=(A.PASSAGE,)),
    ]  # fmt: skip
    assert derive_stage(actions, bill_type=BILL) is Stage.PASSED_ORIGIN


def test_order_of_classes_within_one_action_does_not_matter() -> None:
    forwards = steps((LOWER, (A.INTRODUCTION, A.REFERRAL_COMMITTEE)))
    backwards = steps((LOWER, (A.REFERRAL_COMMITTEE, A.INTRODUCTION)))
    assert derive_stage(forwards, bill_type=BILL) is derive_stage(backwards, bill_type=BILL)


def test_accepts_a_generator() -> None:
    assert derive_stage(iter(steps(INTRO_H, PASS_H)), bill_type=BILL) is Stage.PASSED_ORIGIN
