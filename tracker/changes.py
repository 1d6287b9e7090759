"""diff(before, after) -> [Change]: what changed between two stored states of one bill. Pure.

Kinds (``ChangeKind``): ``new-bill``, ``new-action``, ``stage-change``, ``title-change``,
``new-version``, ``action-removed``. Actions are compared by their stable ``uid``
(see ``tracker.normalize``), so re-reading unchanged data yields no change, and an action
that vanished or was rewritten upstream is reported as removed: a correction, never a silent
drop. Applying a diff's ``after`` again yields nothing (the diff is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tracker.models import Action, Bill, Version


class ChangeKind(StrEnum):
    NEW_BILL = "new-bill"
    NEW_ACTION = "new-action"
    STAGE_CHANGE = "stage-change"
    TITLE_CHANGE = "title-change"
    NEW_VERSION = "new-version"
    ACTION_REMOVED = "action-removed"


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    details: dict[str, Any] = field(default_factory=dict)
    action_uid: str | None = None


def action_details(action: Action) -> dict[str, Any]:
    return {
        "date": action.date.isoformat(),
        "actor": action.actor.value,
        "description": action.description,
        "classification": [c.value for c in action.classification],
    }


def version_details(version: Version) -> dict[str, Any]:
    return {
        "name": version.name,
        "date": version.date.isoformat() if version.date else None,
        "url": version.url,
    }


def _version_identity(version: Version) -> tuple[str, str | None]:
    return (version.name, version.url)


def diff(before: Bill | None, after: Bill) -> list[Change]:
    """The changes that turn ``before`` (None for a bill not seen yet) into ``after``."""
    if before is None:
        return [
            Change(
                ChangeKind.NEW_BILL,
                {
                    "title": after.title,
                    "stage": after.stage.value,
                    "actions": len(after.actions),
                    "last_action_date": (
                        after.last_action_date.isoformat() if after.last_action_date else None
                    ),
                },
            )
        ]
    changes: list[Change] = []
    if before.title != after.title:
        changes.append(Change(ChangeKind.TITLE_CHANGE, {"from": before.title, "to": after.title}))
    before_uids = {a.uid for a in before.actions}
    after_uids = {a.uid for a in after.actions}
    changes.extend(
        Change(ChangeKind.ACTION_REMOVED, action_details(a), a.uid)
        for a in before.actions
        if a.uid not in after_uids
    )
    changes.extend(
        Change(ChangeKind.NEW_ACTION, action_details(a), a.uid)
        for a in after.actions
        if a.uid not in before_uids
    )
    known_versions = {_version_identity(v) for v in before.versions}
    changes.extend(
        Change(ChangeKind.NEW_VERSION, version_details(v))
        for v in after.versions
        if _version_identity(v) not in known_versions
    )
    if before.stage != after.stage:
        changes.append(
            Change(ChangeKind.STAGE_CHANGE, {"from": before.stage.value, "to": after.stage.value})
        )
    return changes
