"""diff(before, after): each kind of change, and no change for unchanged data."""

from __future__ import annotations

from tests.builders import INTRO, PASS, REFER, REPORT, action, bill, record
from tracker.changes import diff
from tracker.normalize import normalize
from tracker.records import VersionRecord


def kinds(changes: list) -> list[str]:
    return [c.kind.value for c in changes]


def test_new_bill_is_one_event() -> None:
    after = bill("HB 1", INTRO, REFER)
    changes = diff(None, after)
    assert kinds(changes) == ["new-bill"]
    assert changes[0].details["stage"] == "in-committee"


def test_unchanged_bill_gives_nothing() -> None:
    assert diff(bill("HB 1", INTRO, REFER), bill("HB 1", INTRO, REFER)) == []


def test_reordered_feed_gives_nothing() -> None:
    # Same actions arriving newest first (as GovInfo lists them) keep their identities.
    assert diff(bill("HB 1", INTRO, REFER, REPORT), bill("HB 1", REPORT, INTRO, REFER)) == []


def test_new_action_and_stage_change() -> None:
    changes = diff(bill("HB 1", INTRO, REFER), bill("HB 1", INTRO, REFER, REPORT))
    assert kinds(changes) == ["new-action", "stage-change"]
    assert changes[0].details["description"].startswith("Reported from Transportation")
    assert changes[1].details == {"from": "in-committee", "to": "reported"}


def test_rewritten_action_is_removed_and_new() -> None:
    fixed = action("2020-01-21", "Reported from Transportation (15-Y 7-N)", *REPORT.classification)
    changes = diff(bill("HB 1", INTRO, REPORT), bill("HB 1", INTRO, fixed))
    assert kinds(changes) == ["action-removed", "new-action"]
    assert changes[0].details["description"].endswith("(14-Y 8-N)")


def test_identical_duplicate_rows_stay_distinct() -> None:
    once = bill("HB 1", INTRO, REFER)
    twice = bill("HB 1", INTRO, REFER, REFER)
    assert len({a.uid for a in twice.actions}) == 3
    assert kinds(diff(once, twice)) == ["new-action"]
    assert kinds(diff(twice, once)) == ["action-removed"]


def test_title_change_and_new_version() -> None:
    before = bill("HB 1", INTRO, title="Shell bill")
    after = normalize(
        record(
            "HB 1",
            INTRO,
            title="Driver privilege cards; penalty.",
            versions=(VersionRecord("Introduced", None, "http://x/1"),),
        )
    )
    assert kinds(diff(before, after)) == ["title-change", "new-version"]


def test_diff_is_idempotent() -> None:
    after = bill("HB 1", INTRO, REFER, REPORT, PASS)
    assert diff(after, after) == []
