"""LegiScan's vocabularies as data: history-text rules, progress milestones, codes.

LegiScan publishes numeric vocabularies (LegiScan API manual; fanghuiz/legiscanrr
``data-raw/lookup_table.R``; ``sources.md`` section 6):

* ``status`` 1 Introduced, 2 Engrossed (passed the chamber of origin), 3 Enrolled (passed
  both), 4 Passed (became law; adopted for a resolution), 5 Vetoed, 6 Failed (or died);
* ``progress[].event`` 1-12: the six statuses, then 7 Override, 8 Chaptered, 9 Refer,
  10 Report Pass, 11 Report DNP, 12 Draft;
* ``bill_type`` codes (``B``, ``R``, ``CR``, ``JR``, ``JRCA`` ... 23 of them) and chamber codes
  (``H``/``A`` lower, ``S`` upper, ``J`` joint).

The ``history[].action`` texts are each state's own wording, passed through. They are
classified by :data:`HISTORY_RULES` (after a leading ``House``/``Senate``/``Assembly`` is read
off as the actor), and LegiScan's own milestones (:data:`MILESTONES`, from ``progress`` and
``status``) then make sure the stage agrees with LegiScan: a milestone that no classified
history line covers becomes an action of its own (see ``scrapers.legiscan``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass, BillType, Chamber

A = ActionClass

STATUS_NAMES: Mapping[int, str] = {
    1: "Introduced", 2: "Engrossed", 3: "Enrolled", 4: "Passed", 5: "Vetoed", 6: "Failed",
}  # fmt: skip

#: LegiScan chamber codes (``body``, ``history[].chamber``, ``votes[].chamber``).
CHAMBERS: Mapping[str, Chamber] = {
    "H": Chamber.LOWER,
    "A": Chamber.LOWER,  # Assembly (CA, NV, NJ, NY, WI)
    "S": Chamber.UPPER,
    "J": Chamber.LEGISLATURE,  # joint
    "L": Chamber.LEGISLATURE,  # a unicameral legislature
}

#: LegiScan ``bill_type`` -> the tracker's bill type (stage derivation differs for resolutions).
BILL_TYPES: Mapping[str, BillType] = {
    "B": BillType.BILL,
    "R": BillType.RESOLUTION,
    "CR": BillType.CONCURRENT_RESOLUTION,
    "JR": BillType.JOINT_RESOLUTION,
    "JRCA": BillType.CONSTITUTIONAL_AMENDMENT,
    "EO": BillType.BILL,  # executive order
    "CA": BillType.CONSTITUTIONAL_AMENDMENT,
    "M": BillType.RESOLUTION,  # memorial
    "CL": BillType.BILL,  # claim
    "C": BillType.RESOLUTION,  # commendation
    "CSR": BillType.RESOLUTION,  # committee study request
    "JM": BillType.JOINT_RESOLUTION,  # joint memorial
    "P": BillType.RESOLUTION,  # proclamation
    "SR": BillType.RESOLUTION,  # study request
    "A": BillType.RESOLUTION,  # address
    "CM": BillType.CONCURRENT_RESOLUTION,  # concurrent memorial
    "I": BillType.BILL,  # initiative
    "PET": BillType.RESOLUTION,  # petition
    "SB": BillType.BILL,  # study bill
    "IP": BillType.BILL,  # initiative petition
    "RB": BillType.BILL,  # repeal bill
    "RM": BillType.RESOLUTION,  # remonstration
    "CB": BillType.BILL,  # committee bill
}

#: ``House Read the third time and passed.`` (Arkansas and others put the chamber first).
CHAMBER_PREFIX = re.compile(r"^(House|Senate|Assembly)\b[\s:.-]*", re.I)
CHAMBER_WORDS: Mapping[str, Chamber] = {
    "house": Chamber.LOWER, "assembly": Chamber.LOWER, "senate": Chamber.UPPER,
    "h": Chamber.LOWER, "s": Chamber.UPPER,
}  # fmt: skip

#: Texts after which the bill sits in another chamber (older LegiScan history has no
#: chamber codes; Alaska writes ``TRANSMITTED TO (S)``). Group 1 names the chamber.
CHAMBER_SWITCHES: tuple[re.Pattern[str], ...] = (
    re.compile(r"\btransmitted to \((H|S)\)", re.I),
    re.compile(r"\b(?:transmitted|sent|delivered|messaged) to (?:the )?(house|senate|assembly)\b",
               re.I),
)

# ---------------------------------------------------------------------------------------------
# History texts
# ---------------------------------------------------------------------------------------------

#: Applied to the text with its leading chamber word removed. Order matters (scrapers._actions):
#: procedure first, then amendments and vetoes, so that their "passed"/"failed"/"adopted"
#: never read as the bill's own passage.
HISTORY_RULES = RuleTable([
    # Procedure that changes nothing, whatever words it contains.
    Rule(r"\bnotice of reconsideration\b", (), stop=True),
    Rule(r"^recon(?:sideration)?\b.*\btaken up\b", (), stop=True),
    Rule(r"^(?:on )?motion\b", (), stop=True),
    Rule(r"^rules? suspended\b", (), stop=True),
    Rule(r"\breturn(?:ed)? to second\b", (), stop=True),
    Rule(r"\bcommittee of the whole\b", (), stop=True),
    Rule(r"\breturned (?:to|from) the (?:house|senate|assembly) as passed\b", (), stop=True),
    Rule(r"\b(?:emergency|effective date) clause\b", (), stop=True),
    Rule(r"^cosponsor", (), stop=True),
    Rule(r"^(?:advanced|passed|ordered) to (?:engrossment|(?:2nd|second|3rd|third) reading)\b",
         (), stop=True),
    # Amendments and committee substitutes.
    Rule(r"^(?:floor |committee )?am(?:endment|end|d)?s?\.?\s*(?:no\.?\s*)?\d*\b.*"
         r"\b(?:failed|not adopted|rejected|lost|tabled)\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(r"^(?:floor |committee )?am(?:endment|end|d)?s?\.?\s*(?:no\.?\s*)?\d*\b.*"
         r"\b(?:adopted|passed|agreed to)\b", (A.AMENDMENT_PASSAGE,), stop=True),
    Rule(r"^(?:floor |committee )?am(?:endment|end|d)?s?\.?\s*(?:no\.?\s*)?\d*\b.*"
         r"\b(?:offered|filed|introduced|proposed)\b", (A.AMENDMENT_INTRODUCTION,), stop=True),
    Rule(r"\b(?:amendment|am) [^.]*\bwithdrawn\b", (A.AMENDMENT_WITHDRAWAL,), stop=True),
    Rule(r"\bcs adopted\b|\bcommittee substitute adopted\b", (A.SUBSTITUTION,), stop=True),
    # The governor, and vetoes before any plain passage ("passed over veto").
    Rule(r"\bveto(?:es)? (?:was |were )?sustained\b|\boverride\b.*\bfailed\b|"
         r"\bfailed to override\b", (A.VETO_OVERRIDE_FAILURE,), stop=True),
    Rule(r"\bveto(?:es)? (?:was |were )?overridden\b|\boverrid(?:e|den)\b.*\bveto\b|"
         r"\bpassed over (?:the )?(?:governor'?s )?veto\b", (A.VETO_OVERRIDE_PASSAGE,), stop=True),
    Rule(r"\bline[- ]item veto\b|\bvetoed in part\b", (A.EXECUTIVE_VETO_LINE_ITEM,), stop=True),
    Rule(r"^(?:pocket )?vetoed\b|\bvetoed by (?:the )?governor\b|^governor vetoed\b",
         (A.EXECUTIVE_VETO,), stop=True),
    Rule(r"\bsigned by (?:the )?governor\b|^governor signed\b|\bapproved by (?:the )?governor\b|"
         r"^signed into law\b", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"\bis now act \d+\b|^chaptered\b|\bbecame (?:law|act)\b|"
         r"\b(?:assigned|given) (?:act|chapter) (?:no\.?\s*)?\d+", (A.BECAME_LAW,)),
    Rule(r"\b(?:transmitted|delivered|presented|sent) to (?:the )?governor\b|"
         r"\bto the governor'?s office\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"\benrolled\b", (A.ENROLLED,)),
    # Filing, readings, referral, committee reports.
    Rule(r"^prefiled\b|^prefile released\b|^filed\b", (A.FILING,)),
    Rule(r"^introduced\b", (A.INTRODUCTION,)),
    Rule(r"\bread (?:a |the )?(?:first|1st) time\b|\b(?:first|1st) reading\b", (A.READING_1,)),
    Rule(r"\bread (?:a |the )?(?:second|2nd) time\b|\b(?:second|2nd) reading\b", (A.READING_2,)),
    Rule(r"\bread (?:a |the )?(?:third|3rd) time\b|\b(?:third|3rd) reading\b", (A.READING_3,)),
    Rule(r"\breferred to (?:the )?(?:calendar|governor|secretary)\b", (), stop=True),
    Rule(r"\b(?:re-?)?referred to\b|\s-\sreferrals\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"\b(?:do not pass|dnp)\b|\bunfavorabl[ey]\b|\bwithout recommendation\b",
         (A.COMMITTEE_PASSAGE_UNFAVORABLE,), stop=True),
    Rule(r"\bdo pass\b|\breported favorabl[ey]\b|\bfavorabl[ey] reported\b",
         (A.COMMITTEE_PASSAGE_FAVORABLE,), stop=True),
    Rule(r"^\w+ rpt\b|^reported\b|\breported (?:out|from|by)\b", (A.COMMITTEE_PASSAGE,),
         stop=True),
    Rule(r"\bfailed in committee\b|\bcommittee\b.*\b(?:failed|rejected)\b",
         (A.COMMITTEE_FAILURE,), stop=True),
    # Arrival from the other chamber, floor votes on the measure, withdrawal.
    Rule(r"^received from (?:the )?(?:house|senate|assembly)\b|"
         r"^received in (?:the )?(?:house|senate|assembly)\b", (A.RECEIPT,)),
    Rule(r"^failed\b|\bfailed (?:to pass|passage|third reading)\b|\bpassage failed\b|"
         r"^(?:bill |resolution )?defeated\b|\bthird reading failed\b", (A.FAILURE,)),
    # "passed to engrossment" / "to third reading" moves a bill along its chamber's calendar.
    Rule(r"^passed\b(?! to\b)|\band passed\b(?! to\b)|\bthird reading,? passed\b|"
         r"\bpassed (?:the )?(?:house|senate|assembly)\b|^(?:resolution |bill )?adopted\b",
         (A.PASSAGE,)),
    Rule(r"^withdrawn\b|\bwithdrawn by (?:the )?(?:sponsor|author)\b", (A.WITHDRAWAL,)),
])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Milestones (progress events and status)
# ---------------------------------------------------------------------------------------------


class Acting(Enum):
    """Who performed a milestone, relative to the bill's chamber of origin."""

    ORIGIN = "origin"
    SECOND = "second"  # the other chamber
    EXECUTIVE = "executive"
    LEGISLATURE = "legislature"  # both chambers (a joint body, or "passed both")
    UNKNOWN = "unknown"  # the chamber the bill is in; not recorded


@dataclass(frozen=True, slots=True)
class Milestone:
    """What a progress event or status means.

    ``classes`` are given to the action made for it when no history line covers it. Lines
    cover it when they are dated on or before the milestone, have a class in ``covered_by``
    and were done by whom ``acting`` names: the chamber of origin (or an unrecorded one), the
    other chamber, both chambers together (one suffices for a simple resolution), or anyone.
    """

    name: str
    classes: tuple[ActionClass, ...]
    acting: Acting
    covered_by: frozenset[ActionClass]


_COMMITTEE_REPORTS = frozenset({
    A.COMMITTEE_PASSAGE, A.COMMITTEE_PASSAGE_FAVORABLE, A.COMMITTEE_PASSAGE_UNFAVORABLE,
})  # fmt: skip
_LAW = frozenset({A.EXECUTIVE_SIGNATURE, A.BECAME_LAW})

#: progress ``event`` (and ``status``) -> milestone, for bills.
MILESTONES: Mapping[int, Milestone] = {
    1: Milestone("Introduced", (A.INTRODUCTION,), Acting.ORIGIN,
                 frozenset({A.INTRODUCTION, A.FILING, A.READING_1})),
    2: Milestone("Engrossed", (A.PASSAGE,), Acting.ORIGIN, frozenset({A.PASSAGE})),
    3: Milestone("Enrolled", (A.PASSAGE,), Acting.SECOND, frozenset({A.PASSAGE})),
    4: Milestone("Passed", (A.BECAME_LAW,), Acting.EXECUTIVE, _LAW),
    5: Milestone("Vetoed", (A.EXECUTIVE_VETO,), Acting.EXECUTIVE,
                 frozenset({A.EXECUTIVE_VETO, A.EXECUTIVE_VETO_LINE_ITEM})),
    6: Milestone("Failed", (A.FAILURE,), Acting.UNKNOWN,
                 frozenset({A.FAILURE, A.COMMITTEE_FAILURE, A.WITHDRAWAL})),
    7: Milestone("Override", (A.VETO_OVERRIDE_PASSAGE,), Acting.LEGISLATURE,
                 frozenset({A.VETO_OVERRIDE_PASSAGE})),
    8: Milestone("Chaptered", (A.BECAME_LAW,), Acting.EXECUTIVE, _LAW),
    9: Milestone("Refer", (A.REFERRAL_COMMITTEE,), Acting.UNKNOWN,
                 frozenset({A.REFERRAL_COMMITTEE})),
    10: Milestone("Report Pass", (A.COMMITTEE_PASSAGE_FAVORABLE,), Acting.UNKNOWN,
                  _COMMITTEE_REPORTS),
    11: Milestone("Report DNP", (A.COMMITTEE_PASSAGE_UNFAVORABLE,), Acting.UNKNOWN,
                  _COMMITTEE_REPORTS | {A.COMMITTEE_FAILURE}),
    12: Milestone("Draft", (A.FILING,), Acting.ORIGIN, frozenset({A.FILING, A.INTRODUCTION})),
}  # fmt: skip

#: A resolution is not signed into law: its "Passed" is its adoption by the legislature.
RESOLUTION_PASSED = Milestone("Passed", (A.PASSAGE,), Acting.LEGISLATURE, frozenset({A.PASSAGE}))


def milestone(event: int, *, bill_type: BillType) -> Milestone | None:
    """The milestone of a progress event or status code (``None`` for an unknown code)."""
    if event == 4 and bill_type is not BillType.BILL:
        return RESOLUTION_PASSED
    return MILESTONES.get(event)
