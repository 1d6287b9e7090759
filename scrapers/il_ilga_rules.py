"""How ``il-ilga`` classifies Illinois bill-status action texts (Open States classes), as data.

The texts are the Illinois General Assembly's (``sources.md`` section 8; the Open States
Illinois scraper ``scrapers/il/bills.py``). What matters most, and differs from a naive
reading:

* "Placed on Calendar Order of 2nd/3rd Reading" is scheduling, not a reading or a passage
  (Open States warns of it); it has no class.
* "Rule 19(a) / Re-referred to Rules Committee" (House) and "Rule 3-9(a) / Re-referred to
  Assignments" (Senate) send a bill that missed a deadline back to the gatekeeping
  committee, where it dies; so does a plain "Re-referred to Rules Committee", and "Session
  Sine Die" ends every bill still pending. They are ``failure``, so the stage becomes
  ``failed`` (a later "Approved for Consideration" and committee passage revive it).
* Amendment lines ("House Floor Amendment No. 1 Rule 19(c) / Re-referred to Rules
  Committee") are about the amendment: the amendment rules stop first.
* "Public Act . . . 104-0012" is the bill becoming law (``became-law``).

:data:`ACTORS` says who acted when the action's ``<chamber>`` (House or Senate, where the
bill was) is not the actor: the Governor, or the whole legislature.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass, Chamber

A = ActionClass

_AMENDMENT = r"^(?:house|senate) (?:floor |committee )?amendment no\. ?\d+\b"

RULES = RuleTable([
    # Amendments first: their texts repeat bill-level words ("Re-referred", "Adopted").
    Rule(_AMENDMENT + r".*\bfiled with\b", (A.AMENDMENT_INTRODUCTION,), stop=True),
    Rule(_AMENDMENT + r".*\badopted\b", (A.AMENDMENT_PASSAGE,), stop=True),
    Rule(_AMENDMENT + r".*\b(?:tabled|lost)\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(_AMENDMENT + r".*\bwithdrawn\b", (A.AMENDMENT_WITHDRAWAL,), stop=True),
    Rule(_AMENDMENT, (), stop=True),
    # Scheduling and bookkeeping that later rules would misread.
    Rule(r"^placed on calendar\b", (), stop=True),
    Rule(r"\bdeadline (?:extended|established)\b", (), stop=True),
    # Death: deadlines, re-referral to the gatekeeping committee, the end of the Assembly.
    Rule(r"^rule \d+(?:-\d+)?\([a-z]\)\s*/\s*re-referred to\b", (A.FAILURE,), stop=True),
    Rule(r"^re-referred to (?:rules committee|assignments)\b", (A.FAILURE,), stop=True),
    Rule(r"^session sine die\b", (A.FAILURE,), stop=True),
    # Introduction and committees.
    Rule(r"^(?:pre)?filed with (?:the )?(?:clerk|secretary)\b", (A.FILING, A.INTRODUCTION)),
    Rule(r"^arrived? in (?:the )?(?:house|senate)\b", (A.RECEIPT,)),
    Rule(r"^first reading\b", (A.READING_1,)),
    Rule(r"^referred to (?:rules committee|assignments)\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^(?:re-)?assigned to\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^motion do pass\b.*\blost\b", (A.COMMITTEE_FAILURE,)),
    Rule(r"^(?:recommends )?do pass\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"\bbe adopted\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"^postponed\b", (A.DEFERRAL,)),
    # The floor.
    Rule(r"^(?:second|2nd) reading\b", (A.READING_2,)),
    Rule(r"^(?:third|3rd) reading\b.*\bpassed\b", (A.READING_3, A.PASSAGE)),
    Rule(r"^(?:third|3rd) reading\b.*\blost\b", (A.READING_3, A.FAILURE)),
    Rule(r"^(?:third|3rd) reading\b", (A.READING_3,)),
    Rule(r"^(?:passed|adopted) both houses\b", (A.PASSAGE,)),
    Rule(r"^resolution adopted\b", (A.PASSAGE,)),
    Rule(r"^resolution lost\b", (A.FAILURE,)),
    Rule(r"^(?:house|senate) concurs\b", (A.PASSAGE,)),
    Rule(r"^tabled by sponsor\b", (A.WITHDRAWAL,), stop=True),
    Rule(r"^tabled\b", (A.FAILURE,)),
    # The Governor, and what the legislature does about a veto.
    Rule(r"^sent to the governor\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"^governor approved\b", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"^governor (?:item veto|item reduction)\b", (A.EXECUTIVE_VETO_LINE_ITEM,)),
    Rule(r"^governor (?:amendatory )?veto(?:ed)?\b", (A.EXECUTIVE_VETO,)),
    Rule(r"^override (?:total |item )?veto\b.*\bpassed\b", (A.VETO_OVERRIDE_PASSAGE,)),
    Rule(r"^override (?:total |item )?veto\b.*\blost\b", (A.VETO_OVERRIDE_FAILURE,)),
    Rule(r"^public act\b", (A.BECAME_LAW,)),
])  # fmt: skip

#: ``(pattern, actor)``: texts whose actor is not the chamber the action is listed under.
ACTORS: Sequence[tuple[re.Pattern[str], Chamber]] = (
    (re.compile(r"^governor\b", re.IGNORECASE), Chamber.EXECUTIVE),
    (re.compile(r"^public act\b", re.IGNORECASE), Chamber.EXECUTIVE),
    (re.compile(r"^(?:passed|adopted) both houses\b", re.IGNORECASE), Chamber.LEGISLATURE),
)


def actor_of(text: str, *, chamber: Chamber) -> Chamber:
    """Who did ``text``: the Governor or the legislature when :data:`ACTORS` says so, else
    the chamber the action is listed under."""
    for pattern, actor in ACTORS:
        if pattern.search(text):
            return actor
    return chamber
