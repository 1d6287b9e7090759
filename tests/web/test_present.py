"""The pure presenters: stage progress, the bill timeline, change phrases, topic reasons, and
the SVG funnel's numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.digest import Language, MatchedTerm
from tracker.storage.repository import ActionView, EventView
from tracker.topics import TopicMatch
from tracker.web import funnel
from tracker.web.i18n import page_catalog
from tracker.web.present import Words, describe_change, explain, progress, timeline

T1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def words(language: Language = Language.EN) -> Words:
    return Words(page_catalog(language), topics=(), zone=UTC, now=T2)


def action(uid: str, day: str, text: str, *, removed: datetime | None = None) -> ActionView:
    return ActionView(uid=uid, date=date.fromisoformat(day), actor="lower", description=text,
                      classification=["passage"], first_seen_at=T1, removed_at=removed)


def event(id: int, kind: str, *, uid: str | None = None, baseline: bool = False,
          at: datetime = T2, **details: object) -> EventView:
    return EventView(id=id, bill="va/2020/HB 1", kind=kind, detected_at=at, baseline=baseline,
                     details=dict(details), action_uid=uid)


def states(stage: str, jurisdiction: str = "va") -> list[tuple[str, str]]:
    view = progress(words(), stage, jurisdiction)
    return [(s.label, s.state) for s in view.steps] + ([("side", view.side_stage)]
                                                       if view.side_stage else [])


def test_progress_on_the_ladder_veto_and_side_stages() -> None:
    assert [s for _, s in states("reported")] == ["done", "done", "current", "todo", "todo",
                                                  "todo", "todo"]
    assert states("to-executive", "us")[5] == ("President", "current")
    assert states("to-executive", "va")[5] == ("Governor", "current")
    vetoed = states("vetoed")
    assert [s for _, s in vetoed[:7]] == ["done"] * 6 + ["todo"] and vetoed[7] == ("side",
                                                                                    "Vetoed")
    assert states("failed") == [("side", "Failed")]


def test_timeline_folds_action_events_into_their_actions() -> None:
    actions = [
        action("a", "2020-01-08", "Prefiled and ordered printed"),
        action("b", "2020-01-21", "Reported from Transportation", removed=T2),
        action("c", "2020-01-21", "Reported from Transportation (14-Y 8-N)"),
    ]
    events = [
        event(1, "new-bill", baseline=True, at=T1, stage="in-committee"),
        event(2, "action-removed", uid="b", description="Reported from Transportation"),
        event(3, "new-action", uid="c", description="Reported from Transportation (14-Y 8-N)"),
        event(4, "stage-change", **{"from": "in-committee", "to": "reported"}),
    ]
    entries = timeline(words(), actions=actions, events=events, jurisdiction="va")
    assert [(e.date, e.text[:24], e.removed, e.tracker) for e in entries] == [
        ("Jan 8, 2020", "Prefiled and ordered pri", False, False),
        ("Jan 21, 2020", "Reported from Transporta", True, False),
        ("Jan 21, 2020", "Reported from Transporta", False, False),
        ("Dec 1, 2026", "First stored by the trac", False, True),
        ("Dec 2, 2026", "Moved from “In committee", False, True),
    ]
    assert entries[1].note == "Correction: upstream removed this action · Dec 2, 2026, 09:00 UTC"
    assert entries[2].note == "New: noticed Dec 2, 2026, 09:00 UTC"
    assert entries[0].note == ""  # baseline actions say nothing about when they were seen


def test_a_removal_without_its_action_still_shows_as_a_correction() -> None:
    entries = timeline(words(), actions=[], events=[
        event(9, "action-removed", uid="gone", description="Withdrawn <b>text</b>\u202e")],
        jurisdiction="va")
    assert [(e.text, e.removed, e.tracker) for e in entries] == [
        ("Withdrawn <b>text</b>", True, True)]  # control characters dropped; markup escaped later


@pytest.mark.parametrize(
    ("kind", "details", "expected"),
    [
        ("stage-change", {"from": "introduced", "to": "in-committee"},
         ("Moved from “Introduced” to “In committee”", "")),
        ("new-bill", {"stage": "enacted"}, ("New bill", "Became law")),
        ("new-action", {"date": "2022-03-15", "description": "Became Public Law No: 117-103."},
         ("New action", "Mar 15, 2022: Became Public Law No: 117-103.")),
        ("new-version", {"name": "Enrolled Bill"}, ("New text version", "Enrolled Bill")),
        ("title-change", {"from": "Old", "to": "New"}, ("Title changed", "New")),
    ],
)
def test_change_phrases(kind: str, details: dict[str, str], expected: tuple[str, str]) -> None:
    assert describe_change(words(), kind, details, "us") == expected


def test_change_phrases_in_korean() -> None:
    phrase, _ = describe_change(words(Language.KO), "new-bill", {"stage": "enacted"}, "us")
    assert phrase == page_catalog(Language.KO).t("change.new-bill")


def test_topic_reasons_group_fields_per_term() -> None:
    match = TopicMatch("language-access", (
        MatchedTerm("language access", "title"), MatchedTerm("language access", "summary"),
        MatchedTerm("interpret*", "actions"),
    ))
    assert explain(words(), match) == ("“language access” in the title, summary, "
                                       "“interpret*” in the action text")


def test_funnel_counts_bills_that_reached_each_step() -> None:
    reach = funnel.reached_counts({"introduced": 5, "in-committee": 3, "enacted": 1,
                                   "vetoed": 1, "failed": 2})
    # introduced: all 12; committee and on: 3 + 1 + 1; executive: the law and the veto.
    assert reach.steps == (12, 5, 2, 2, 2, 2, 1)
    assert reach.side == ((funnel.Stage.FAILED, 2),)
    assert funnel.reached_counts({}).total == 0


def test_funnel_bars_are_proportional_and_centred() -> None:
    drawing = funnel.draw(labels=["a", "b", "c"], counts=[10, 5, 0])
    first, second, third = drawing.bars
    assert first.width == 2 * second.width and third.width == 0
    centre = [bar.x + bar.width / 2 for bar in (first, second)]
    assert abs(centre[0] - centre[1]) <= 1  # one centre line, to the pixel
    assert second.y > first.y and drawing.height > third.y + third.height
    with pytest.raises(ValueError, match="2 labels for 3 counts"):
        funnel.draw(labels=["a", "b"], counts=[1, 2, 3])
