"""The domain's vocabularies and its normalized bill, defined once and used everywhere.

* :class:`ActionClass` is the Open States action classification vocabulary.
* :class:`Stage` is the stage ladder a bill climbs; it is derived from classified actions
  (``tracker.stages.derive_stage``), never scraped as a string.
* :class:`BillKey` is the natural key ``jurisdiction/session/identifier`` such as
  ``us/117/HR 2471``; the identifier is upper-case type letters, one space, the number
  without zero padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from tracker.errors import InvalidBillKey


class ActionClass(StrEnum):
    """Open States action classes (openstates-core ``BILL_ACTION_CLASSIFICATION_CHOICES``)."""

    FILING = "filing"
    INTRODUCTION = "introduction"
    READING_1 = "reading-1"
    READING_2 = "reading-2"
    READING_3 = "reading-3"
    REFERRAL = "referral"
    REFERRAL_COMMITTEE = "referral-committee"
    COMMITTEE_PASSAGE = "committee-passage"
    COMMITTEE_PASSAGE_FAVORABLE = "committee-passage-favorable"
    COMMITTEE_PASSAGE_UNFAVORABLE = "committee-passage-unfavorable"
    COMMITTEE_FAILURE = "committee-failure"
    HEARING_SCHEDULED = "hearing-scheduled"
    PASSAGE = "passage"
    FAILURE = "failure"
    AMENDMENT_INTRODUCTION = "amendment-introduction"
    AMENDMENT_PASSAGE = "amendment-passage"
    AMENDMENT_FAILURE = "amendment-failure"
    AMENDMENT_AMENDMENT = "amendment-amendment"
    AMENDMENT_DEFERRAL = "amendment-deferral"
    AMENDMENT_WITHDRAWAL = "amendment-withdrawal"
    EXECUTIVE_RECEIPT = "executive-receipt"
    EXECUTIVE_SIGNATURE = "executive-signature"
    EXECUTIVE_VETO = "executive-veto"
    EXECUTIVE_VETO_LINE_ITEM = "executive-veto-line-item"
    VETO_OVERRIDE_PASSAGE = "veto-override-passage"
    VETO_OVERRIDE_FAILURE = "veto-override-failure"
    BECAME_LAW = "became-law"
    ENROLLED = "enrolled"
    WITHDRAWAL = "withdrawal"
    DEFERRAL = "deferral"
    SUBSTITUTION = "substitution"
    RECEIPT = "receipt"
    CARRIED_OVER = "carried-over"


class Stage(StrEnum):
    """Where a bill stands. The first seven form a ladder; the rest are terminal or side stages."""

    INTRODUCED = "introduced"
    IN_COMMITTEE = "in-committee"
    REPORTED = "reported"
    PASSED_ORIGIN = "passed-origin"
    PASSED_BOTH = "passed-both"
    TO_EXECUTIVE = "to-executive"
    ENACTED = "enacted"
    VETOED = "vetoed"
    ADOPTED = "adopted"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


#: The ladder in order; a side stage has no rank on it.
LADDER: tuple[Stage, ...] = (
    Stage.INTRODUCED,
    Stage.IN_COMMITTEE,
    Stage.REPORTED,
    Stage.PASSED_ORIGIN,
    Stage.PASSED_BOTH,
    Stage.TO_EXECUTIVE,
    Stage.ENACTED,
)


class Chamber(StrEnum):
    """Who acted, in Open States' organization terms."""

    LOWER = "lower"
    UPPER = "upper"
    LEGISLATURE = "legislature"
    EXECUTIVE = "executive"
    UNKNOWN = "unknown"


class BillType(StrEnum):
    """Open States bill classifications; stage derivation differs for resolutions."""

    BILL = "bill"
    RESOLUTION = "resolution"
    CONCURRENT_RESOLUTION = "concurrent resolution"
    JOINT_RESOLUTION = "joint resolution"
    CONSTITUTIONAL_AMENDMENT = "constitutional amendment"


_IDENTIFIER = re.compile(r"^\s*([A-Za-z][A-Za-z.\s]*?)[\s.]*0*(\d+)\s*([A-Za-z]?)\s*$")
_JURISDICTION = re.compile(r"^[a-z]{2}$")


def normalize_identifier(raw: str) -> str:
    """``"hr0001"``, ``"H.R. 1"``, ``"HB0001"``, ``"S.J.Res.8"`` become ``"HR 1"``, ``"HR 1"``,
    ``"HB 1"``, ``"SJRES 8"``.

    Upper-case type letters (dots and inner spaces dropped), one space, the number without
    zero padding. A trailing amendment letter (New York's ``S1234B``) is not part of the
    identifier and is refused here; sources strip it first.
    """
    match = _IDENTIFIER.match(raw)
    if match is None or match.group(3):
        raise InvalidBillKey(f"not a bill identifier: {raw!r}")
    letters = re.sub(r"[\s.]", "", match.group(1)).upper()
    return f"{letters} {int(match.group(2))}"


@dataclass(frozen=True, slots=True, order=True)
class BillKey:
    """The natural key of a bill: ``jurisdiction/session/identifier``."""

    jurisdiction: str
    session: str
    identifier: str

    def __post_init__(self) -> None:
        if not _JURISDICTION.match(self.jurisdiction):
            raise InvalidBillKey(
                f"jurisdiction must be two lower-case letters: {self.jurisdiction!r}"
            )
        if not self.session or "/" in self.session:
            raise InvalidBillKey(f"bad session: {self.session!r}")
        if normalize_identifier(self.identifier) != self.identifier:
            raise InvalidBillKey(f"identifier is not normalized: {self.identifier!r}")

    def __str__(self) -> str:
        return f"{self.jurisdiction}/{self.session}/{self.identifier}"

    @classmethod
    def parse(cls, text: str) -> BillKey:
        """Read ``"us/117/HR 2471"`` (the identifier may be written loosely, e.g. ``hr2471``)."""
        parts = text.strip().split("/")
        if len(parts) != 3:
            raise InvalidBillKey(f"a bill key looks like us/117/HR 2471, not {text!r}")
        jurisdiction, session, identifier = parts
        return cls(jurisdiction.lower(), session, normalize_identifier(identifier))

    @property
    def type_letters(self) -> str:
        return self.identifier.split(" ", 1)[0]


@dataclass(frozen=True, slots=True)
class Action:
    """One classified action. ``uid`` is a stable upstream identity within the bill."""

    uid: str
    date: date
    actor: Chamber
    description: str
    classification: tuple[ActionClass, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Sponsor:
    name: str
    primary: bool
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Version:
    """A text version of a bill, identified by its name (``"Introduced in House"``)."""

    name: str
    date: date | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Bill:
    """The normalized state of one bill as the tracker stores it."""

    key: BillKey
    source: str
    bill_type: BillType
    title: str
    stage: Stage
    actions: tuple[Action, ...]
    sponsors: tuple[Sponsor, ...] = ()
    subjects: tuple[str, ...] = ()
    summary: str = ""
    versions: tuple[Version, ...] = ()
    url: str | None = None
    upstream_updated_at: datetime | None = None
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def last_action_date(self) -> date | None:
        return max((a.date for a in self.actions), default=None)
