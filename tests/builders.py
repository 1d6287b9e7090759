"""Small builders for records and bills in tests (plain values, no I/O)."""

from __future__ import annotations

from datetime import date

from tracker.models import ActionClass, Bill, BillType, Chamber
from tracker.normalize import normalize
from tracker.records import ActionRecord, BillRecord, VersionRecord


def action(
    day: str, text: str, *classes: ActionClass, actor: Chamber = Chamber.LOWER
) -> ActionRecord:
    return ActionRecord(
        date=date.fromisoformat(day), actor=actor, description=text, classification=classes
    )


def record(
    identifier: str = "HB 1",
    *actions: ActionRecord,
    title: str = "A bill",
    jurisdiction: str = "va",
    session: str = "2020",
    versions: tuple[VersionRecord, ...] = (),
    bill_type: BillType = BillType.BILL,
    source: str = "test",
) -> BillRecord:
    return BillRecord(
        source=source,
        jurisdiction=jurisdiction,
        session=session,
        identifier=identifier,
        title=title,
        bill_type=bill_type,
        actions=tuple(actions),
        versions=versions,
    )


def bill(identifier: str = "HB 1", *actions: ActionRecord, **kwargs: object) -> Bill:
    return normalize(record(identifier, *actions, **kwargs))  # type: ignore[arg-type]


INTRO = action("2020-01-08", "Prefiled and ordered printed", ActionClass.INTRODUCTION)
REFER = action(
    "2020-01-08", "Referred to Committee on Transportation", ActionClass.REFERRAL_COMMITTEE
)
REPORT = action(
    "2020-01-21", "Reported from Transportation (14-Y 8-N)", ActionClass.COMMITTEE_PASSAGE
)
PASS = action("2020-01-28", "Read third time and passed House (56-Y 43-N)", ActionClass.PASSAGE)
