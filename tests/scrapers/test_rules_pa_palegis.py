"""The pa-palegis classification table, tested as a table of palegis.us history texts."""

from __future__ import annotations

import pytest

from scrapers.pa_palegis_rules import RULES
from tracker.models import ActionClass

A = ActionClass

# History texts with the date cut off, in the site's wording (sources.md section 11 and the
# Open States Pennsylvania categorizer).
TEXTS: list[tuple[str, tuple[ActionClass, ...]]] = [
    ("Introduced as noncontroversial resolution under Rule 35", (A.INTRODUCTION,)),
    ("Referred to TRANSPORTATION", (A.REFERRAL_COMMITTEE,)),
    ("Re-referred to APPROPRIATIONS", (A.REFERRAL_COMMITTEE,)),
    ("Re-committed to APPROPRIATIONS", (A.REFERRAL_COMMITTEE,)),
    ("Rereferred to RULES", (A.REFERRAL_COMMITTEE,)),
    ("Reported as committed", (A.COMMITTEE_PASSAGE,)),
    ("Reported as amended", (A.COMMITTEE_PASSAGE, A.AMENDMENT_PASSAGE)),
    ("Re-reported as committed", (A.COMMITTEE_PASSAGE,)),
    ("Re-reported as amended", (A.COMMITTEE_PASSAGE, A.AMENDMENT_PASSAGE)),
    ("Re-reported on concurrence, as committed", (A.COMMITTEE_PASSAGE,)),
    ("Reported with request to re-refer to APPROPRIATIONS",
     (A.REFERRAL_COMMITTEE, A.COMMITTEE_PASSAGE)),
    ("Amended on third consideration", (A.AMENDMENT_PASSAGE,)),
    ("First consideration", (A.READING_1,)),
    ("Second consideration", (A.READING_2,)),
    ("Second consideration, with amendments", (A.READING_2,)),
    ("Third consideration", (A.READING_3,)),
    ("Third consideration and final passage", (A.READING_3, A.PASSAGE)),
    ("Final passage", (A.PASSAGE,)),
    ("Final passage failed", (A.FAILURE,)),
    ("Third consideration and final passage (defeated)", (A.FAILURE,)),
    ("Adopted", (A.PASSAGE,)),
    ("Senate concurred in House amendments", (A.PASSAGE,)),
    ("House concurred in Senate amendments", (A.PASSAGE,)),
    ("Laid on the table", (A.DEFERRAL,)),
    ("Removed from table", ()),
    ("Signed in Senate", ()),
    ("Signed in the House", ()),
    ("Presented to the Governor", (A.EXECUTIVE_RECEIPT,)),
    ("Approved by the Governor", (A.EXECUTIVE_SIGNATURE,)),
    ("Vetoed by the Governor", (A.EXECUTIVE_VETO,)),
    ("Became law without the Governor's signature", (A.BECAME_LAW,)),
    ("Act No. 27 of 2025", (A.BECAME_LAW,)),
    ("Act No.5", (A.BECAME_LAW,)),
    ("(Remarks see House Journal Page 412)", ()),
    ("Filed in the Office of the Secretary of the Commonwealth", ()),
    ("Amendment adopted to the title", ()),
]


@pytest.mark.parametrize(("text", "classes"), TEXTS, ids=[t for t, _ in TEXTS])
def test_history_text(text: str, classes: tuple[ActionClass, ...]) -> None:
    assert RULES.classify(text) == classes
