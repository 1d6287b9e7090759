"""The tx-tlo rule table, tested as a table of TLO action texts (sources.md section 7 and the
Open States Texas action rules) and the classes they stand for."""

from __future__ import annotations

import pytest

from scrapers.tx_tlo_rules import RULES
from tracker.models import ActionClass

A = ActionClass

TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("Filed", (A.FILING, A.INTRODUCTION)),
    ("Received by the Secretary of the Senate", (A.FILING, A.INTRODUCTION)),
    ("Read first time", (A.READING_1,)),
    ("Referred to State Affairs", (A.REFERRAL_COMMITTEE,)),
    ("Referred to Public Education", (A.REFERRAL_COMMITTEE,)),
    ("Recommended to be sent to Calendars", (A.REFERRAL_COMMITTEE,)),
    ("Scheduled for public hearing on 03/12/2025", (A.HEARING_SCHEDULED,)),
    ("Considered in public hearing", ()),
    ("Left pending in committee", ()),
    ("Testimony taken/registration(s) recorded in committee", ()),
    ("Reported favorably w/o amendment(s)", (A.COMMITTEE_PASSAGE_FAVORABLE,)),
    ("Reported favorably as substituted", (A.COMMITTEE_PASSAGE_FAVORABLE,)),
    ("Reported unfavorably", (A.COMMITTEE_PASSAGE_UNFAVORABLE,)),
    ("Reported from committee as substituted", (A.COMMITTEE_PASSAGE,)),
    ("Reported from s/c favorably w/o amendment(s)", (A.COMMITTEE_PASSAGE,)),
    ("Failed to receive affirmative vote in comm.", (A.COMMITTEE_FAILURE,)),
    ("Committee substitute considered in committee", (A.SUBSTITUTION,)),
    ("Committee report sent to Calendars", ()),
    ("Read 2nd time", (A.READING_2,)),
    ("Passed to engrossment", ()),
    ("Passed to engrossment as amended", ()),
    ("Passed to 3rd reading", ()),
    ("Passed to third reading", ()),
    ("Read 3rd time", (A.READING_3,)),
    ("Passed", (A.PASSAGE,)),
    ("Passed as amended", (A.PASSAGE,)),
    ("Adopted", (A.PASSAGE,)),
    ("Read & adopted", (A.PASSAGE,)),
    ("House adopts conference committee report", (A.PASSAGE,)),
    ("Failed to pass", (A.FAILURE,)),
    ("Postponed", (A.DEFERRAL,)),
    ("Laid on the table subject to call", (A.DEFERRAL,)),
    ("Amendment(s) offered", (A.AMENDMENT_INTRODUCTION,)),
    ("Amended", (A.AMENDMENT_PASSAGE,)),
    ("Amendment amended", (A.AMENDMENT_AMENDMENT,)),
    ("Amendment withdrawn", (A.AMENDMENT_WITHDRAWAL,)),
    ("Amendment fails of adoption", (A.AMENDMENT_FAILURE,)),
    ("Amendment tabled", (A.AMENDMENT_FAILURE,)),
    ("Amendment No. 1 by Wu adopted", (A.AMENDMENT_PASSAGE,)),
    ("Received from the House", (A.RECEIPT,)),
    ("Received from the Senate", (A.RECEIPT,)),
    ("Reported engrossed", ()),
    ("Reported enrolled", (A.ENROLLED,)),
    ("Signed in the House", ()),
    ("Signed in the Senate", ()),
    ("Sent to the Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Transmitted to the Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Signed by the Governor", (A.EXECUTIVE_SIGNATURE,)),
    ("Vetoed by the Governor", (A.EXECUTIVE_VETO,)),
    ("Filed without the Governor's signature", (A.BECAME_LAW,)),
    ("Effective on 9/1/25", (A.BECAME_LAW,)),
    ("Effective immediately", (A.BECAME_LAW,)),
    ("Filed with the Secretary of State", ()),
    ("Withdrawn from schedule", ()),
]


@pytest.mark.parametrize(("text", "classes"), TEXTS, ids=[text for text, _ in TEXTS])
def test_texts_classify_as_the_table_says(text: str, classes: tuple[ActionClass, ...]) -> None:
    assert RULES.classify(text) == classes


def test_every_rule_is_needed() -> None:
    """Each rule classifies at least one text of the table (no dead rules)."""
    unused = [r.pattern for r in RULES.rules if not any(r.regex.search(t) for t, _ in TEXTS)]
    assert unused == []
