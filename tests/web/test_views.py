"""The analysts' SQL views (migration 0008) on the real samples, on SQLite and PostgreSQL:
``v_bill_history`` (actions and events in one timeline) and ``v_stage_changes`` (each stage
change with the days spent in the stage left)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from tests.builders import INTRO, PASS, REFER, REPORT, bill
from tests.web.data import CORRECTED, HR2471_KEY, ORIGINAL
from tracker.models import BillKey
from tracker.storage.repository import Repository


def rows(repo: Repository, sql: str, **params: object) -> list[dict[str, object]]:
    with repo.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(sa.text(sql), params)]


def text_of(element: str) -> str:
    return element.removeprefix("<text>").removesuffix("</text>")


def test_bill_history_has_every_action_and_event(shared_repo: Repository) -> None:
    repo = shared_repo
    history = rows(repo, "SELECT * FROM v_bill_history WHERE bill = :bill "
                         "ORDER BY happened_on, entry, position, entry_id", bill=HR2471_KEY)
    with repo.read() as db:
        bill_id = repo.bill_id(db, BillKey.parse(HR2471_KEY))
        assert bill_id is not None
        actions = repo.actions_of(db, bill_id)
    entries = [r for r in history if r["entry"] == "action"]
    assert len(entries) == len(actions)
    assert str(entries[0]["happened_on"]) == "2021-04-13"
    law = [r for r in entries if r["description"] == "Became Public Law No: 117-103."]
    assert len(law) == 1 and str(law[0]["happened_on"]) == "2022-03-15"
    removed = [r for r in entries if r["removed"]]
    assert removed and all(r["description"] == text_of(ORIGINAL) for r in removed)
    assert all(r["removed_at"] is not None for r in removed)
    events = [r for r in history if r["entry"] == "event"]
    assert sorted(str(r["kind"]) for r in events) == [
        "action-removed", "action-removed", "new-action", "new-action", "new-bill"]
    new = [r for r in events if r["kind"] == "new-action"]
    assert all(r["description"] == text_of(CORRECTED) and not r["baseline"] for r in new)
    assert [r["description"] for r in events if r["kind"] == "new-bill"] == [
        "Consolidated Appropriations Act, 2022"]
    assert all(r["removed"] for r in events if r["kind"] == "action-removed")


def test_stage_changes_count_days_in_the_stage_left(repo: Repository) -> None:
    moments = [datetime(2020, 1, 8 + n, 12, tzinfo=UTC) for n in range(3)]
    steps = [(INTRO,), (INTRO, REFER, REPORT), (INTRO, REFER, REPORT, PASS)]
    with repo.write() as db:
        for moment, actions in zip(moments, steps, strict=True):
            repo.upsert_bill(db, bill("HB 1", *actions), baseline=moment == moments[0],
                             run_id=None, now=moment)
    changes = rows(repo, "SELECT * FROM v_stage_changes WHERE bill = 'va/2020/HB 1' "
                         "ORDER BY event_id")
    assert [(c["from_stage"], c["to_stage"]) for c in changes] == [
        ("introduced", "reported"), ("reported", "passed-origin")]
    first, second = changes
    # Entered "introduced" by its first sighting (last action Jan 8), left it with the report
    # of Jan 21: 13 days, counted from the first sighting.
    assert (str(first["from_stage_since"]), str(first["changed_on"])) == (
        "2020-01-08", "2020-01-21")
    assert (first["days_in_from_stage"], bool(first["since_first_seen"])) == (13, True)
    assert (str(second["changed_on"]), second["days_in_from_stage"]) == ("2020-01-28", 7)
    assert not second["since_first_seen"] and not second["baseline"]
    assert date.fromisoformat(str(second["from_stage_since"])) == date(2020, 1, 21)
