"""How ``tx-tlo`` classifies Texas bill-history action texts (Open States classes), as data.

The texts are those of Texas Legislature Online's bill histories, as listed in
``sources.md`` section 7 and in the Open States Texas scraper (``scrapers/tx/actions.py``).
Differences from Open States, on purpose:

* "Passed to engrossment" / "Passed to third reading" are second-reading steps, not passage
  (stop rules before the passage rules).
* "Signed in the House/Senate" is the presiding officer signing the enrolled bill, not a
  vote: no class (Open States calls it passage).
* "Transmitted to the Governor" is receipt, not signature.
* "Received from the House/Senate" is the second chamber's receipt (``receipt``), and the
  first reading there is a reading, not a second introduction.

Rules are tried in order; see :mod:`scrapers._actions`.
"""

from __future__ import annotations

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass

A = ActionClass

RULES = RuleTable([
    # Amendments: whatever they say, they are about the amendment, not the bill.
    Rule(r"^amendment\(s\) offered\b", (A.AMENDMENT_INTRODUCTION,), stop=True),
    Rule(r"^amendment amended\b", (A.AMENDMENT_AMENDMENT,), stop=True),
    Rule(r"^amendment withdrawn\b", (A.AMENDMENT_WITHDRAWAL,), stop=True),
    Rule(r"^amendment (?:fails of adoption|tabled)\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(r"^amended\b", (A.AMENDMENT_PASSAGE,), stop=True),
    Rule(r"^amendment.*\badopted\b", (A.AMENDMENT_PASSAGE,), stop=True),
    # Steps whose words would match a later rule.
    Rule(r"^passed to (?:engrossment|third reading|3rd reading)\b", (), stop=True),
    Rule(r"^signed in the (?:house|senate)\b", (), stop=True),
    Rule(r"^withdrawn from (?:schedule|calendar)\b", (), stop=True),
    # Filing and introduction.
    Rule(r"^filed$", (A.FILING, A.INTRODUCTION)),
    Rule(r"^received by the secretary of the senate\b", (A.FILING, A.INTRODUCTION)),
    Rule(r"^received from the (?:house|senate)\b", (A.RECEIPT,)),
    Rule(r"^read first time\b", (A.READING_1,)),
    # Committees.
    Rule(r"^referred to\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^recommended to be sent to\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^scheduled for public hearing on \d", (A.HEARING_SCHEDULED,)),
    Rule(r"^reported favorably\b", (A.COMMITTEE_PASSAGE_FAVORABLE,)),
    Rule(r"^reported unfavorably\b", (A.COMMITTEE_PASSAGE_UNFAVORABLE,)),
    Rule(r"^reported from (?:s/c|committee)\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"^failed to receive affirmative vote in comm", (A.COMMITTEE_FAILURE,)),
    Rule(r"^committee substitute\b", (A.SUBSTITUTION,)),
    # The floor.
    Rule(r"^read 2nd time\b", (A.READING_2,)),
    Rule(r"^read 3rd time\b", (A.READING_3,)),
    Rule(r"^(?:passed|adopted)(?: as amended| as substituted)?$", (A.PASSAGE,)),
    Rule(r"^read & adopted\b", (A.PASSAGE,)),
    Rule(r"^(?:house|senate) adopts conference committee report\b", (A.PASSAGE,)),
    Rule(r"^failed to (?:pass|adopt)\b", (A.FAILURE,)),
    Rule(r"^(?:postponed|laid on the table)\b", (A.DEFERRAL,)),
    Rule(r"^reported enrolled\b", (A.ENROLLED,)),
    # The Governor.
    Rule(r"^(?:sent|transmitted) to the governor\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"^signed by the governor\b", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"^vetoed by the governor\b", (A.EXECUTIVE_VETO,)),
    Rule(r"^filed without the governor'?s signature\b", (A.BECAME_LAW,)),
    Rule(r"^effective (?:on|immediately)\b", (A.BECAME_LAW,)),
])  # fmt: skip
