"""``/admin``: closed to strangers (a redirect to sign in), to signed-in non-staff (403) and to
manage-link sessions; staff see subscribers, the delivery log and source health, staff of one
affiliate only theirs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html as lxml_html

from notifiers.service import send_digests
from tests.web.data import NOW, Clock
from tests.web.test_account import sign_in
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage import web_repo
from tracker.storage.repository import Repository
from tracker.subscriptions import SubscriberProfile
from tracker.web import create_app

BOSS = "director@example.org"


@pytest.fixture
def people(repo: Repository, settings: Settings) -> None:
    """Two affiliates' subscribers, each following Congress, and their welcome digests sent."""
    with repo.write() as db:
        for email, affiliate in (("minji@example.org", "NY affiliate"),
                                 ("lucia@example.org", "IL affiliate")):
            subscriber = store.upsert_subscriber(
                db, SubscriberProfile(email=email, affiliate=affiliate), origin="cli", now=NOW)
            store.add_subscription(db, subscriber_id=subscriber.id, target_kind="jurisdiction",
                                   target="us", jurisdictions=(), kinds=(), stages=(),
                                   origin="cli", now=NOW)
    assert send_digests(repo, settings=settings, now=NOW).ok


def cells(body: str, table: int) -> list[list[str]]:
    tree = lxml_html.fromstring(body)
    found = tree.xpath("//table[@class='admin']")[table]
    return [[" ".join(td.text_content().split()) for td in tr.xpath("./td")]
            for tr in found.xpath("./tbody/tr")]


def test_strangers_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin?affiliate=NY")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?next=/admin?affiliate%3DNY"


def test_signed_in_non_staff_are_refused(client: FlaskClient, tmp_path: Path) -> None:
    sign_in(client, "someone@example.org", folder=tmp_path)
    response = client.get("/admin")
    assert response.status_code == 403
    assert "This page is for staff" in response.get_data(as_text=True)
    menu = lxml_html.fromstring(response.get_data(as_text=True)).xpath("//nav//a/@href")
    assert "/account" in menu and "/admin" not in menu


def test_staff_from_the_environment_see_everything(
    database_url: str, settings: Settings, clock: Clock, people: None, tmp_path: Path
) -> None:
    app = create_app(replace(settings, environ={**settings.environ, "TRACKER_STAFF": BOSS}),
                     testing=True, clock=clock)
    client = app.test_client()
    sign_in(client, BOSS, folder=tmp_path)
    body = client.get("/admin").get_data(as_text=True)
    assert [row[:3] for row in cells(body, 0)] == [
        ["lucia@example.org", "", "IL affiliate"], ["minji@example.org", "", "NY affiliate"],
    ]
    assert "/admin" in lxml_html.fromstring(body).xpath("//nav//a/@href")
    log = cells(body, 1)
    assert {row[1] for row in log} == {"lucia@example.org", "minji@example.org"}
    assert all(row[5] == "sent" for row in log)
    (source,) = [row for row in cells(body, 2) if row[0].startswith("us-govinfo")]
    assert source[1] == "yes" and source[-1] == "healthy"
    only_ny = client.get("/admin?affiliate=ny affiliate").get_data(as_text=True)
    assert [row[0] for row in cells(only_ny, 0)] == ["minji@example.org"]
    assert [row[1] for row in cells(only_ny, 1)] == ["minji@example.org"]


def test_affiliate_staff_see_only_their_affiliate(
    app: Flask, client: FlaskClient, repo: Repository, people: None, tmp_path: Path
) -> None:
    with repo.write() as db:
        web_repo.add_staff(db, email="il.lead@example.org", affiliate="IL affiliate",
                           now=datetime(2026, 12, 1, tzinfo=UTC))
    sign_in(client, "il.lead@example.org", folder=tmp_path)
    body = client.get("/admin?affiliate=NY affiliate").get_data(as_text=True)  # ignored
    assert [row[0] for row in cells(body, 0)] == ["lucia@example.org"]
    assert [row[1] for row in cells(body, 1)] == ["lucia@example.org"]
    assert 'name="affiliate"' not in body  # no choice of affiliate


def test_a_manage_link_session_is_not_enough(client: FlaskClient, repo: Repository) -> None:
    with repo.write() as db:
        web_repo.add_staff(db, email="lead@example.org", affiliate="",
                           now=datetime(2026, 12, 1, tzinfo=UTC))
    with client.session_transaction() as session:
        session["email"], session["auth"] = "lead@example.org", "manage"
    response = client.get("/admin")
    assert response.status_code == 303 and response.headers["Location"].startswith("/sign-in")
