"""How ``ny-openleg`` reads New York's action texts and status codes, as data.

Action texts come from the Open Legislation API (``actions.items[].text``); they are upper
case and terse (``REFERRED TO EDUCATION``, ``AMEND AND RECOMMIT TO CODES``, ``PASSED SENATE``,
``DELIVERED TO GOVERNOR``, ``SIGNED CHAP.123``). The table follows the Open States New York
categorizer (``scrapers/ny/actions.py``), with these differences on purpose:

* ``HELD FOR CONSIDERATION IN ...`` is a committee not acting (``deferral``), not a failure.
* ``REPORTED AND COMMITTED TO ...`` / ``REPORTED REFERRED TO ...`` is one committee reporting
  the bill on to the next: committee passage *and* referral.
* ``1ST REPORT CAL.``, ``RULES REPORT CAL.`` and ``ORDERED TO THIRD READING`` put a bill on
  the floor calendar: the committee let it out.
* ``SUBSTITUTED BY A123`` means this bill was replaced by its same-as bill (``substitution``);
  ``SUBSTITUTED FOR S456`` on the replacing bill changes nothing.
* ``STRICKEN`` / ``ENACTING CLAUSE STRICKEN`` is the sponsor killing the bill (``withdrawal``).

The API also has a status enum (``status.statusType``, nysenate/OpenLegislation
``BillStatusType.java``). :func:`status_stage` maps it onto the stage ladder; the stage itself
is still derived from the classified actions (``tracker.stages``), and the enum is kept as a
cross-check (:func:`stage_agrees`) and in the bill's extras.
"""

from __future__ import annotations

from collections.abc import Mapping

from scrapers._actions import Rule, RuleTable
from tracker.models import ActionClass, Chamber, Stage

A = ActionClass

RULES = RuleTable([
    # The bill was replaced by its same-as bill, or replaces it: nothing else applies.
    Rule(r"^SUBSTITUTED BY\b", (A.SUBSTITUTION,), stop=True),
    Rule(r"^SUBSTITUTED FOR\b", (), stop=True),
    # A reconsidered vote is procedure, whatever it restores.
    Rule(r"^VOTE RECONSIDERED\b", (), stop=True),
    # Amendments (a new print number: S1234 -> S1234A).
    Rule(r"^AMEND(?:ED)? AND RECOMMIT(?:TED)? TO\b", (A.AMENDMENT_PASSAGE, A.REFERRAL_COMMITTEE)),
    Rule(r"^AMEND(?:ED)? .*\bAND RECOMMIT(?:TED)? TO\b",
         (A.AMENDMENT_PASSAGE, A.REFERRAL_COMMITTEE)),
    Rule(r"^AMENDED ON THIRD READING\b", (A.AMENDMENT_PASSAGE,)),
    Rule(r"^AMENDED\b", (A.AMENDMENT_PASSAGE,)),
    Rule(r"^PRINT NUMBER \d+", (A.AMENDMENT_PASSAGE,)),
    # Committees.
    Rule(r"^REFERRED TO\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^REFERENCE CHANGED TO\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^(?:RE)?COMMITTED TO\b", (A.REFERRAL_COMMITTEE,)),
    Rule(r"^REPORTED (?:AND COMMITTED|REFERRED) TO\b",
         (A.COMMITTEE_PASSAGE, A.REFERRAL_COMMITTEE)),
    Rule(r"^REPORTED\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"^(?:1ST|RULES) REPORT CAL\.?", (A.COMMITTEE_PASSAGE,)),
    Rule(r"^HELD FOR CONSIDERATION\b", (A.DEFERRAL,)),
    # The floor.
    Rule(r"^2ND REPORT CAL\.?", (A.READING_2,)),
    Rule(r"^ORDERED TO THIRD READING\b", (A.COMMITTEE_PASSAGE, A.READING_3)),
    Rule(r"^(?:ADVANCED TO THIRD READING|3RD READING CAL\.?)", (A.READING_3,)),
    Rule(r"^(?:RE)?PASSED (?:SENATE|ASSEMBLY)\b", (A.PASSAGE,)),
    Rule(r"^ADOPTED\b", (A.PASSAGE,)),
    Rule(r"^(?:LOST|DEFEATED)\b", (A.FAILURE,)),
    Rule(r"^DELIVERED TO (?:SENATE|ASSEMBLY)\b", (A.RECEIPT,)),
    Rule(r"^(?:ENACTING CLAUSE )?STRICKEN\b", (A.WITHDRAWAL,)),
    # The Governor.
    Rule(r"^DELIVERED TO GOVERNOR\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"^SIGNED CHAP\.?\s*\d+", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"^VETOED MEMO\.?", (A.EXECUTIVE_VETO,)),
])  # fmt: skip

#: Classes that are the Governor's own acts, whichever chamber the API files them under.
EXECUTIVE_CLASSES = frozenset({A.EXECUTIVE_SIGNATURE, A.EXECUTIVE_VETO, A.BECAME_LAW})

#: Every value of ``BillStatusType`` the API documents.
STATUS_TYPES = (
    "INTRODUCED", "IN_ASSEMBLY_COMM", "IN_SENATE_COMM", "ASSEMBLY_FLOOR", "SENATE_FLOOR",
    "PASSED_ASSEMBLY", "PASSED_SENATE", "DELIVERED_TO_GOV", "SIGNED_BY_GOV", "VETOED",
    "STRICKEN", "LOST", "SUBSTITUTED", "ADOPTED", "POCKET_APPROVAL",
)  # fmt: skip

# Statuses that say where the bill is whatever chamber it started in.
_FIXED: Mapping[str, Stage] = {
    "INTRODUCED": Stage.INTRODUCED,
    "DELIVERED_TO_GOV": Stage.TO_EXECUTIVE,
    "SIGNED_BY_GOV": Stage.ENACTED,
    "POCKET_APPROVAL": Stage.ENACTED,
    "VETOED": Stage.VETOED,
    "STRICKEN": Stage.WITHDRAWN,
    "LOST": Stage.FAILED,
    "ADOPTED": Stage.ADOPTED,
}
# Statuses naming a chamber: (stage in the bill's own chamber, stage in the other one).
_BY_CHAMBER: Mapping[str, tuple[Chamber, Stage, Stage]] = {
    "IN_SENATE_COMM": (Chamber.UPPER, Stage.IN_COMMITTEE, Stage.PASSED_ORIGIN),
    "IN_ASSEMBLY_COMM": (Chamber.LOWER, Stage.IN_COMMITTEE, Stage.PASSED_ORIGIN),
    "SENATE_FLOOR": (Chamber.UPPER, Stage.REPORTED, Stage.PASSED_ORIGIN),
    "ASSEMBLY_FLOOR": (Chamber.LOWER, Stage.REPORTED, Stage.PASSED_ORIGIN),
    "PASSED_SENATE": (Chamber.UPPER, Stage.PASSED_ORIGIN, Stage.PASSED_BOTH),
    "PASSED_ASSEMBLY": (Chamber.LOWER, Stage.PASSED_ORIGIN, Stage.PASSED_BOTH),
}


def status_stage(status: str, *, origin: Chamber) -> Stage | None:
    """The ladder stage the API's status means for a bill that started in ``origin``.

    ``SUBSTITUTED`` gives ``None``: the bill's text goes on as its same-as bill, so the
    status places nothing on the ladder (the stage stays where the bill's own actions put
    it). An unknown status gives ``None`` too; the parser refuses those before asking.
    """
    if status in _FIXED:
        return _FIXED[status]
    if status in _BY_CHAMBER:
        chamber, own, other = _BY_CHAMBER[status]
        return own if origin is chamber else other
    return None


def stage_agrees(derived: Stage, expected: Stage | None) -> bool:
    """Whether the stage derived from the actions agrees with the status's stage.

    A bill one committee reported on to another (``REPORTED AND COMMITTED TO FINANCE``) is
    "in committee" for the API but ``reported`` on the ladder, which never goes back; that
    one difference is agreement. ``None`` (no claim) agrees with any stage.
    """
    if expected is None or derived is expected:
        return True
    return expected is Stage.IN_COMMITTEE and derived is Stage.REPORTED
