"""``/bills.csv``, ``/events.csv``, ``/api/bills``, ``/api/events``: the pages' filters, the
whole filtered list as CSV, JSON a page at a time, and errors as one line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask.testing import FlaskClient

from tests.builders import INTRO, bill
from tests.web.data import HR2471_KEY, HR2471_PATH
from tracker.storage.repository import Repository
from tracker.web.rows import BILL_COLUMNS, EVENT_COLUMNS, csv_cell


def csv_rows(client: FlaskClient, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_bills_csv_is_the_whole_filtered_list(reader: FlaskClient) -> None:
    rows = csv_rows(reader, "/bills.csv?jurisdiction=us&stage=enacted&sort=key&per_page=1")
    assert [r["key"] for r in rows] == ["us/114/S 1300", "us/117/HR 2471", "us/117/S 3157"]
    assert list(rows[0]) == list(BILL_COLUMNS)
    hr2471 = rows[1]
    assert (hr2471["title"], hr2471["last_action_date"], hr2471["page"]) == (
        "Consolidated Appropriations Act, 2022", "2022-03-15", HR2471_PATH)
    assert "citizenship-immigration" in hr2471["topics"].split("; ")
    assert len(csv_rows(reader, "/bills.csv")) == 13


def test_the_same_filters_give_the_same_bills_everywhere(reader: FlaskClient) -> None:
    query = "topic=citizenship-immigration&since=2021-01-01&sort=title"
    from_csv = [r["key"] for r in csv_rows(reader, f"/bills.csv?{query}")]
    from_api = [b["key"] for b in reader.get(f"/api/bills?{query}").get_json()["bills"]]
    page = reader.get(f"/bills?{query}").get_data(as_text=True)
    assert from_csv == from_api and from_csv
    assert all(key.split("/")[2] in page for key in from_csv)


def test_api_bills_are_paginated(reader: FlaskClient) -> None:
    first = reader.get("/api/bills?sort=key&per_page=5").get_json()
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 5, 13, 3)
    assert first["previous"] is None and first["next"] == "/api/bills?sort=key&page=2&per_page=5"
    seen = [b["key"] for b in first["bills"]]
    page = first
    while page["next"]:
        page = reader.get(page["next"]).get_json()
        seen += [b["key"] for b in page["bills"]]
    assert len(seen) == len(set(seen)) == 13 and seen == sorted(seen)
    assert page["previous"] == "/api/bills?sort=key&page=2&per_page=5"


def test_api_events_filters(reader: FlaskClient) -> None:
    changes = reader.get(f"/api/events?bill={HR2471_KEY}&sort=oldest").get_json()
    assert [e["kind"] for e in changes["events"]] == [
        "action-removed", "action-removed", "new-action", "new-action"]
    removed = changes["events"][0]
    assert removed["description"] == "Message on Senate action sent to the House."
    assert removed["detected_at"].endswith("Z") and removed["baseline"] is False
    with_baseline = reader.get("/api/events?baseline=1&per_page=200").get_json()
    assert with_baseline["total"] == 13 + 4
    assert reader.get("/api/events?since=2026-12-02T09:00:01Z").get_json()["total"] == 0
    assert reader.get("/api/events?until=2026-12-01&baseline=1").get_json()["total"] == 13
    rows = csv_rows(reader, "/events.csv?kind=action-removed")
    assert list(rows[0]) == list(EVENT_COLUMNS) and len(rows) == 2


def test_one_bill_with_its_history(reader: FlaskClient) -> None:
    detail = reader.get("/api/bills/us/117/HR%202471").get_json()["bill"]
    assert (detail["key"], detail["stage"], detail["page"]) == (HR2471_KEY, "enacted",
                                                                HR2471_PATH)
    assert any(a["description"] == "Became Public Law No: 117-103." for a in detail["actions"])
    assert sum(a["removed_at"] is not None for a in detail["actions"]) == 2
    assert {t["topic"] for t in detail["topics"]} >= {"citizenship-immigration"}
    assert reader.get("/api/bills/us/117/HR%209999").get_json() == {"error": (
        "There is no such page, bill or topic.")}


def test_errors_are_one_line_in_each_format(reader: FlaskClient) -> None:
    api = reader.get("/api/bills?stage=law")
    assert api.status_code == 400 and api.get_json()["error"].startswith("stage='law'")
    assert reader.get("/api/events?per_page=500").get_json()["error"] == (
        "per_page='500' must be a whole number from 1 to 200")
    text = reader.get("/events.csv?kind=nope")
    assert text.status_code == 400 and text.mimetype == "text/plain"
    assert text.get_data(as_text=True).count("\n") == 1


def test_csv_cells_cannot_become_formulas(client: FlaskClient, repo: Repository) -> None:
    assert [csv_cell(v) for v in ("=HYPERLINK(1)", "+1", "-x", "@SUM", "plain", None, True,
                                  ["a", "b"])] == [
        "'=HYPERLINK(1)", "'+1", "'-x", "'@SUM", "plain", "", "true", "a; b"]
    with repo.write() as db:
        repo.upsert_bill(db, bill("HB 7", INTRO, title='=HYPERLINK("http://evil.example")'),
                         baseline=True, run_id=None, now=datetime(2026, 12, 1, tzinfo=UTC))
    (row,) = csv_rows(client, "/bills.csv?jurisdiction=va")
    assert row["title"] == "'=HYPERLINK(\"http://evil.example\")"
