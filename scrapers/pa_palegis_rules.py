"""How ``pa-palegis`` classifies Pennsylvania bill-history texts (Open States classes), as data.

The texts are those of the bill pages on ``www.palegis.us`` (the "View Full History" table),
with the date already cut off: "Referred to TRANSPORTATION", "Reported as amended", "Third
consideration and final passage", "Presented to the Governor", "Approved by the Governor",
"Act No. 12". The table follows the Open States Pennsylvania categorizer
(``scrapers/pa/actions.py``), anchored at the start of the text, with these additions and
differences on purpose:

* "Reported as amended" is committee passage *and* an amendment; "Reported with request to
  re-refer to ..." is committee passage and a referral.
* "Third consideration and final passage" is both the third reading and passage; plain
  "Third consideration" is only the reading.
* "Adopted" counts only at the start (a resolution adopted), not inside other texts.
* "Act No. 12" is the number of an enacted law: ``became-law`` (the signature row usually
  precedes it; either alone makes the bill enacted).
* "Laid on the table" is a deferral; "Removed from table" and "Signed in the House/Senate"
  (the presiding officers signing the enrolled bill) change nothing.
* A final passage vote that failed is a failure (checked before the passage rules).

Rules are tried in order; see :mod:`scrapers._actions`.
"""

from __future__ import annotations

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass

A = ActionClass

RULES = RuleTable([
    # Votes that failed, before the passage rules would read them as passage.
    Rule(r"^(?:third consideration and )?final passage\b.*\b(?:failed|defeated)\b",
         (A.FAILURE,), stop=True),
    # Steps that change nothing, whatever words they contain.
    Rule(r"^removed from (?:the )?table\b", (), stop=True),
    Rule(r"^signed in (?:the )?(?:house|senate)\b", (), stop=True),
    Rule(r"^\(remarks see\b", (), stop=True),
    # Introduction and committees.
    Rule(r"^introduced\b", (A.INTRODUCTION,)),
    Rule(r"^referred to\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^re-?(?:referred|committed) to\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^(?:re-)?reported with request to re-refer to\b",
         (A.COMMITTEE_PASSAGE, A.REFERRAL_COMMITTEE)),
    Rule(r"^(?:re-)?reported\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"\bas amended\b", (A.AMENDMENT_PASSAGE,)),
    Rule(r"^amended on\b", (A.AMENDMENT_PASSAGE,)),
    Rule(r"^laid on the table\b", (A.DEFERRAL,)),
    # The floor.
    Rule(r"^first consideration\b", (A.READING_1,)),
    Rule(r"^second consideration\b", (A.READING_2,)),
    Rule(r"^third consideration\b", (A.READING_3,)),
    Rule(r"^(?:third consideration and )?final passage\b", (A.PASSAGE,)),
    Rule(r"^(?:re-)?adopted\b", (A.PASSAGE,)),
    Rule(r"\bconcurred in (?:house|senate) amendments\b", (A.PASSAGE,)),
    # The Governor.
    Rule(r"^presented to the governor\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"^approved by the governor\b", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"^vetoed by the governor\b", (A.EXECUTIVE_VETO,)),
    Rule(r"^became law without the governor'?s signature\b", (A.BECAME_LAW,)),
    Rule(r"^act no\.?\s*\d+", (A.BECAME_LAW,)),
])  # fmt: skip

#: Classes that are the Governor's own acts, whichever chamber's rows list them.
EXECUTIVE_CLASSES = frozenset({A.EXECUTIVE_SIGNATURE, A.EXECUTIVE_VETO, A.BECAME_LAW})
