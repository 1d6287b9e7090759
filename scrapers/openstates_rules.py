"""Open States' vocabularies mapped onto the tracker's, as data.

Open States classifies every action already, in the vocabulary the tracker uses
(openstates-core ``openstates/data/common.py``: ``BILL_ACTION_CLASSIFICATION_CHOICES``), so
the action table is the identity on the shared strings; a string missing here (a newer Open
States class) is ignored with a debug line rather than guessed at. Organizations are
classified ``lower``/``upper``/``legislature``/``executive``; bills by
``BILL_CLASSIFICATION_CHOICES`` (bill, resolution, memorial ... 25 of them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tracker.models import ActionClass, BillType, Chamber

A = ActionClass

#: Open States action classification -> the tracker's class.
ACTION_CLASSES: Mapping[str, ActionClass] = {
    "filing": A.FILING,
    "introduction": A.INTRODUCTION,
    "enrolled": A.ENROLLED,
    "reading-1": A.READING_1,
    "reading-2": A.READING_2,
    "reading-3": A.READING_3,
    "passage": A.PASSAGE,
    "failure": A.FAILURE,
    "withdrawal": A.WITHDRAWAL,
    "substitution": A.SUBSTITUTION,
    "amendment-introduction": A.AMENDMENT_INTRODUCTION,
    "amendment-passage": A.AMENDMENT_PASSAGE,
    "amendment-withdrawal": A.AMENDMENT_WITHDRAWAL,
    "amendment-failure": A.AMENDMENT_FAILURE,
    "amendment-amendment": A.AMENDMENT_AMENDMENT,
    "amendment-deferral": A.AMENDMENT_DEFERRAL,
    "committee-passage": A.COMMITTEE_PASSAGE,
    "committee-passage-favorable": A.COMMITTEE_PASSAGE_FAVORABLE,
    "committee-passage-unfavorable": A.COMMITTEE_PASSAGE_UNFAVORABLE,
    "committee-failure": A.COMMITTEE_FAILURE,
    "executive-receipt": A.EXECUTIVE_RECEIPT,
    "executive-signature": A.EXECUTIVE_SIGNATURE,
    "executive-veto": A.EXECUTIVE_VETO,
    "executive-veto-line-item": A.EXECUTIVE_VETO_LINE_ITEM,
    "became-law": A.BECAME_LAW,
    "veto-override-passage": A.VETO_OVERRIDE_PASSAGE,
    "veto-override-failure": A.VETO_OVERRIDE_FAILURE,
    "deferral": A.DEFERRAL,
    "receipt": A.RECEIPT,
    "referral": A.REFERRAL,
    "referral-committee": A.REFERRAL_COMMITTEE,
}

#: An organization's ``classification`` -> who acted.
CHAMBERS: Mapping[str, Chamber] = {
    "lower": Chamber.LOWER,
    "upper": Chamber.UPPER,
    "legislature": Chamber.LEGISLATURE,
    "executive": Chamber.EXECUTIVE,
}

#: A bill's first ``classification`` -> the tracker's bill type (stage derivation differs for
#: resolutions). Anything else is a bill.
BILL_TYPES: Mapping[str, BillType] = {
    "bill": BillType.BILL,
    "resolution": BillType.RESOLUTION,
    "concurrent resolution": BillType.CONCURRENT_RESOLUTION,
    "joint resolution": BillType.JOINT_RESOLUTION,
    "constitutional amendment": BillType.CONSTITUTIONAL_AMENDMENT,
    "memorial": BillType.RESOLUTION,
    "commemoration": BillType.RESOLUTION,
    "concurrent memorial": BillType.CONCURRENT_RESOLUTION,
    "joint memorial": BillType.JOINT_RESOLUTION,
    "proclamation": BillType.RESOLUTION,
    "petition": BillType.RESOLUTION,
    "nomination": BillType.RESOLUTION,
    "motion": BillType.RESOLUTION,
    "order": BillType.RESOLUTION,
    "concurrent order": BillType.CONCURRENT_RESOLUTION,
    "study request": BillType.RESOLUTION,
    "concurrent study request": BillType.CONCURRENT_RESOLUTION,
}

#: ``ocd-jurisdiction/country:us/state:ny/government`` -> ``ny`` (``district:dc`` and
#: ``territory:pr`` alike); the bare country is the federal jurisdiction ``us``.
JURISDICTION_ID = re.compile(
    r"^ocd-jurisdiction/country:us(?:/(?:state|district|territory):([a-z]{2}))?/government$"
)


def jurisdiction_code(ocd_id: str) -> str | None:
    """The tracker's jurisdiction code of an Open States jurisdiction id, if it has one."""
    found = JURISDICTION_ID.match(ocd_id)
    if found is None:
        return None
    return found.group(1) or "us"
