"""The Virginia rule table: HISTORY.CSV action texts -> Open States action classes. Data.

The texts are LIS's own, with the chamber letter already stripped (``"Read third time and
passed House (56-Y 43-N)"``). The table was written from the real 2020 HISTORY.CSV files and
the last-action columns of the real 2020 and 2025 BILLS.CSV files (shared fixtures), with the
Open States Virginia table (scrapers/va/actions.py) as a second opinion; where this table
differs from that one, a comment says why. The rules are tried in order (see
``scrapers._actions``); most stop at their match, so a text gets the classes of one reading.

Choices that shape the stage (``tracker.stages``):

* A subcommittee only recommends; its rows carry no class. The committee's own row
  ("Reported from", "Passed by indefinitely in", "Tabled in" ...) carries the decision.
* What ends a bill in committee is ``committee-failure``: "Failed to report (defeated)",
  "Passed by indefinitely in ..." and "Tabled in ..." (both also ``deferral``: that is the
  motion's name, but neither is taken up again in practice), "Left in ..." (the session
  ended with the bill in committee) and "Incorporated by ..." (the bill was folded into
  another one, named in the text; this one goes no further).
* "Continued to 2021 in ..." is ``carried-over``: the bill waits for next year's session.
* "Stricken at request of Patron" and "Stricken from docket" are ``withdrawal``.
* "Signed by Speaker" / "Signed by President" sign the enrolled bill; Open States calls them
  ``passage``, which would count a chamber's passage twice. They carry no class here.
* "VOTE: ..." rows restate the vote of the row before them; they carry no class.
* "Passed by for the day" / "Passed by temporarily" postpone a floor vote: not passage.
* The Governor's recommendations (amendments) are not a veto: no class; the bill becomes law
  with "Enacted, Chapter N" or "Approved by Governor-Chapter N".
* No real text of a successful veto override was found, so none is guessed at; "sustained
  Governor's veto" is ``veto-override-failure``.
"""

from __future__ import annotations

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass

A = ActionClass

ACTION_RULES = RuleTable([
    # -- Texts that carry no class, whatever later rules would read into them ------------------
    Rule(r"^subcommittee\b", (), stop=True),  # recommendations; the committee decides
    Rule(r"^vote:", (), stop=True),  # restates the vote of the row before
    Rule(r"^passed by (?:for the day|temporarily)\b", (), stop=True),
    Rule(r"\bamendments and substitutes offered\b", (), stop=True),
    Rule(r"^(?:fiscal |racial and ethnic )?impact statement\b", (), stop=True),
    Rule(r"^requires \d+ affirmative votes\b", (), stop=True),
    Rule(r"^(?:reconsideration of|engrossment reconsidered|reconsidered by)\b", (), stop=True),
    Rule(r"^motion to\b", (), stop=True),  # "Motion to pass by amendment #2 ... agreed to"
    Rule(r"\bgovernor's recommendation\b", (), stop=True),  # received, concurred in, rejected
    Rule(r"^signed by (?:the )?(?:speaker|president)\b", (), stop=True),
    Rule(r"^(?:acts of assembly chapter text|bill text as passed|reenrolled bill text)\b", (),
         stop=True),
    Rule(r"^(?:re)?referred from\b|^discharged from\b|^moved from\b", (), stop=True),
    # -- The Governor ---------------------------------------------------------------------
    Rule(r"^approved by (?:the )?governor\b", (A.EXECUTIVE_SIGNATURE,), stop=True),
    Rule(r"^vetoed by (?:the )?governor\b", (A.EXECUTIVE_VETO,), stop=True),
    Rule(r"\bsustained (?:the )?governor's veto\b", (A.VETO_OVERRIDE_FAILURE,), stop=True),
    Rule(r"\bcommunicated to (?:the )?governor\b", (A.EXECUTIVE_RECEIPT,), stop=True),
    Rule(r"^governor's action deadline\b", (A.EXECUTIVE_RECEIPT,), stop=True),
    Rule(r"^(?:enacted|assigned),? chapter\b", (A.BECAME_LAW,), stop=True),
    # -- Introduction and committees ------------------------------------------------------
    Rule(r"^(?:prefiled|presented)\b", (A.INTRODUCTION,), stop=True),
    Rule(r"^(?:re)?referred to\b", (A.REFERRAL_COMMITTEE,), stop=True),
    Rule(r"^assigned\b.*\bsub:", (A.REFERRAL_COMMITTEE,), stop=True),
    Rule(r"^reported from\b.*\bwith substitute\b", (A.COMMITTEE_PASSAGE, A.SUBSTITUTION),
         stop=True),
    Rule(r"^reported from\b", (A.COMMITTEE_PASSAGE,), stop=True),
    Rule(r"^failed to report\b", (A.COMMITTEE_FAILURE,), stop=True),
    Rule(r"^passed by indefinitely in\b", (A.DEFERRAL, A.COMMITTEE_FAILURE), stop=True),
    Rule(r"^passed by indefinitely\b", (A.DEFERRAL, A.FAILURE), stop=True),
    Rule(r"^tabled in\b", (A.DEFERRAL, A.COMMITTEE_FAILURE), stop=True),
    Rule(r"^left in\b", (A.COMMITTEE_FAILURE,), stop=True),
    Rule(r"^incorporated by\b", (A.COMMITTEE_FAILURE,), stop=True),
    Rule(r"^continued to \d{4}\b", (A.CARRIED_OVER,), stop=True),
    Rule(r"^stricken at (?:the )?request of (?:the )?patron\b", (A.WITHDRAWAL,), stop=True),
    Rule(r"^stricken from docket\b", (A.WITHDRAWAL,), stop=True),
    # -- The floor ------------------------------------------------------------------------
    Rule(r"^read first time\b|^constitutional reading dispensed\b", (A.READING_1,), stop=True),
    Rule(r"^read second time\b", (A.READING_2,), stop=True),
    Rule(r"^read third time and (?:passed|agreed to by) (?:house|senate)\b",
         (A.READING_3, A.PASSAGE), stop=True),
    Rule(r"^read third time and defeated\b", (A.READING_3, A.FAILURE), stop=True),
    Rule(r"^read third time\b", (A.READING_3,), stop=True),
    Rule(r"^(?:passed|agreed to by) (?:house|senate)\b", (A.PASSAGE,), stop=True),
    Rule(r"^conference report agreed to by\b", (A.PASSAGE,), stop=True),
    Rule(r"^(?:defeated by|failed to pass|engrossment refused)\b", (A.FAILURE,), stop=True),
    # -- Amendments, substitutes, the rest ------------------------------------------------
    Rule(r"\bamendments?\b.*\bagreed to\b", (A.AMENDMENT_PASSAGE,), stop=True),
    Rule(r"\bamendments?\b.*\brejected\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(r"^committee substitute agreed to\b", (A.SUBSTITUTION,), stop=True),
    Rule(r"^received\b", (A.RECEIPT,), stop=True),
    Rule(r"^enrolled\b", (A.ENROLLED,), stop=True),
])  # fmt: skip


def classify(text: str) -> tuple[ActionClass, ...]:
    """The classes of one HISTORY.CSV action text (chamber letter already stripped)."""
    return ACTION_RULES.classify(text)
