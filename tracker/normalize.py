"""BillRecord -> Bill: identifiers, action order and identity, and the derived stage. Pure.

Action identity (``Action.uid``) is what the change log keys on: a hash of the action's date,
actor and whitespace-collapsed text, plus its occurrence number among identical actions of
the bill. Two identical upstream rows (Virginia records some actions twice) therefore stay
two actions, a re-ordered feed keeps its identities, and a rewritten row becomes a new
identity (its old one is reported as removed: an upstream correction).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from tracker.models import Action, Bill, BillKey, Sponsor, Version, normalize_identifier
from tracker.records import ActionRecord, BillRecord
from tracker.stages import derive_stage

_SPACES = re.compile(r"\s+")
#: Control characters that are not white space (NUL, ESC, DEL, C1): they mean nothing in a
#: bill's text, PostgreSQL refuses NUL in text, and ESC sequences would drive an analyst's
#: terminal.
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
# What makes a string need the full treatment: a run of two spaces, white space other than
# a plain space (the characters the original fast path looked for), or a control character.
_NEEDS_COLLAPSE = re.compile("  |[\n\r\t\xa0\u2028\u2029\f\v\x00-\x08\x0e-\x1b\x7f-\x9f]")


def collapse(text: str) -> str:
    """Collapse runs of white space to one space, drop control characters, strip the ends."""
    stripped = text.strip()
    # Most upstream strings are clean already; skip the substitutions for them (a hot path).
    # isprintable() is False for every character _NEEDS_COLLAPSE looks for but the plain
    # space (and for more: those take the exact test below), and it runs in C.
    if stripped.isprintable() and "  " not in stripped:
        return stripped
    if _NEEDS_COLLAPSE.search(stripped):
        return _SPACES.sub(" ", _CONTROLS.sub("", stripped)).strip()
    return stripped


def without_controls(text: str) -> str:
    """``text`` without control characters that are not white space (line breaks kept)."""
    return _CONTROLS.sub("", text)


def action_uid(*, record: ActionRecord, occurrence: int) -> str:
    return _uid(record, collapse(record.description), occurrence)


def _uid(record: ActionRecord, description: str, occurrence: int) -> str:
    text = f"{record.date.isoformat()}|{record.actor.value}|{description}|{occurrence}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]


def normalize_actions(records: tuple[ActionRecord, ...]) -> tuple[Action, ...]:
    """Sort by date (stable: upstream order within a day) and give each action its uid."""
    ordered = sorted(records, key=lambda record: record.date)
    seen: Counter[tuple[object, ...]] = Counter()
    actions = []
    for record in ordered:
        description = collapse(record.description)
        identity = (record.date, record.actor, description)
        occurrence = seen[identity]
        seen[identity] += 1
        actions.append(
            Action(
                uid=_uid(record, description, occurrence),
                date=record.date,
                actor=record.actor,
                description=description,
                classification=tuple(dict.fromkeys(record.classification)),
                extras=dict(record.extras),
            )
        )
    return tuple(actions)


def normalize(record: BillRecord) -> Bill:
    """Make the stored shape of a bill from what its source read."""
    key = BillKey(
        jurisdiction=record.jurisdiction.lower(),
        session=record.session,
        identifier=normalize_identifier(record.identifier),
    )
    actions = normalize_actions(record.actions)
    return Bill(
        key=key,
        source=record.source,
        bill_type=record.bill_type,
        title=collapse(record.title),
        stage=derive_stage(actions, bill_type=record.bill_type),
        actions=actions,
        sponsors=tuple(
            Sponsor(name=collapse(s.name), primary=s.primary, extras=dict(s.extras))
            for s in record.sponsors
        ),
        subjects=tuple(dict.fromkeys(collapse(s) for s in record.subjects if s.strip())),
        summary=without_controls(record.summary).strip(),
        versions=tuple(
            Version(name=collapse(v.name), date=v.date, url=v.url) for v in record.versions
        ),
        url=record.url,
        upstream_updated_at=record.upstream_updated_at,
        extras=dict(record.extras),
    )
