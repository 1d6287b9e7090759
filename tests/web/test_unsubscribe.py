"""The List-Unsubscribe URL of a real digest: one POST unsubscribes (RFC 8058: no cookie, no
CSRF token, no confirmation), a GET only asks, and a forged or altered token gets a 4xx and
changes nothing."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from notifiers.service import send_digests
from tests.builders import INTRO, bill
from tests.web.data import NOW, PUBLIC_URL, sent_messages
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriptions import SubscriberProfile
from tracker.tokens import Purpose, Scope, sign
from tracker.web.state import web_state

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
ANA = "ana@example.org"
BILL_KEY = "us/117/HR 1"


def follow(repo: Repository, *targets: tuple[str, str]) -> list[int]:
    with repo.write() as db:
        subscriber = store.upsert_subscriber(db, SubscriberProfile(email=ANA), origin="cli",
                                             now=NOW)
        return [store.add_subscription(db, subscriber_id=subscriber.id, target_kind=kind,
                                       target=target, jurisdictions=(), kinds=(), stages=(),
                                       origin="cli", now=NOW)[0].id
                for kind, target in targets]


def active(repo: Repository) -> list[bool]:
    with repo.read() as db:
        subscriber = store.get_subscriber(db, ANA)
        assert subscriber is not None
        return [s.active for s in store.subscriptions_of(db, subscriber.id)]


def digest_unsubscribe_path(repo: Repository, settings: Settings, folder: Path) -> str:
    """Send the welcome digest for real (to .eml files) and read its List-Unsubscribe URL."""
    report = send_digests(repo, settings=settings, now=NOW)
    assert report.ok, report.problems
    (message,) = sent_messages(folder / "outbox")
    header = str(message["List-Unsubscribe"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = re.match(r"<(https://[^>]+)>, <mailto:", header)
    assert found is not None, header
    url = found.group(1)
    assert url.startswith(f"{PUBLIC_URL}/unsubscribe/")
    return urlsplit(url).path


@pytest.fixture
def stored(repo: Repository) -> None:
    """One stored bill, us/117/HR 1, for the digests to tell about."""
    with repo.write() as db:
        repo.upsert_bill(db, bill("HR 1", INTRO, jurisdiction="us", session="117"),
                         baseline=True, run_id=None, now=NOW)


@pytest.fixture
def one_subscription(repo: Repository, stored: None) -> int:
    (subscription,) = follow(repo, ("bill", BILL_KEY))
    return subscription


def test_the_digest_url_unsubscribes_with_one_post(
    app: Flask, repo: Repository, settings: Settings, tmp_path: Path, one_subscription: int
) -> None:
    path = digest_unsubscribe_path(repo, settings, tmp_path)
    mail_client = app.test_client(use_cookies=False)  # a mail provider: no session at all
    response = mail_client.post(path, data=ONE_CLICK)
    assert response.status_code == 200
    assert "You will no longer receive news about US HR 1" in response.get_data(as_text=True)
    assert active(repo) == [False]
    with repo.read() as db:
        (ended,) = store.subscriptions_of(db, store.get_subscriber(db, ANA).id)  # type: ignore[union-attr]
    assert ended.ended_by == "subscriber"
    again = mail_client.post(path, data=ONE_CLICK)
    assert again.status_code == 200 and "already unsubscribed" in again.get_data(as_text=True)


def test_get_only_asks(client: FlaskClient, repo: Repository, settings: Settings,
                       tmp_path: Path, one_subscription: int) -> None:
    path = digest_unsubscribe_path(repo, settings, tmp_path)
    page = client.get(path)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Stop receiving news about US HR 1?" in body
    assert f'action="{path}"' in body and 'name="List-Unsubscribe" value="One-Click"' in body
    assert active(repo) == [True]  # a link scanner opening the URL changes nothing
    assert client.post(path, data=ONE_CLICK).status_code == 200  # its button
    assert active(repo) == [False]


def _alter(token: str) -> list[str]:
    payload, _, mac = token.partition(".")
    flipped = "B" if mac[0] == "A" else "A"
    other_id = sign(key=b"x" * 32, purpose=Purpose.UNSUBSCRIBE, scope=Scope.SUBSCRIBER,
                    target_id=1, issued=date(2026, 12, 1))
    return [f"{payload}.{flipped}{mac[1:]}", f"{payload[:-1]}x.{mac}", f"{payload}.{mac}x",
            payload, other_id, "nonsense", f"{payload}."]


def test_forged_or_altered_tokens_are_refused_and_change_nothing(
    app: Flask, repo: Repository, settings: Settings, tmp_path: Path, one_subscription: int
) -> None:
    path = digest_unsubscribe_path(repo, settings, tmp_path)
    token = path.rsplit("/", 1)[1]
    mail_client = app.test_client(use_cookies=False)
    for forged in _alter(token):
        assert mail_client.post(f"/unsubscribe/{forged}", data=ONE_CLICK).status_code == 400
        assert mail_client.get(f"/unsubscribe/{forged}").status_code == 400
    with app.app_context():
        key = web_state().link_key
    manage = sign(key=key, purpose=Purpose.MANAGE, scope=Scope.SUBSCRIPTION,
                  target_id=one_subscription, issued=date(2026, 12, 1))
    assert mail_client.post(f"/unsubscribe/{manage}", data=ONE_CLICK).status_code == 400
    missing = sign(key=key, purpose=Purpose.UNSUBSCRIBE, scope=Scope.SUBSCRIPTION,
                   target_id=one_subscription + 1000, issued=date(2026, 12, 1))
    assert mail_client.post(f"/unsubscribe/{missing}", data=ONE_CLICK).status_code == 404
    assert mail_client.post(path, data={}).status_code == 400  # not the RFC 8058 body
    assert mail_client.post(path, data={"List-Unsubscribe": "Yes"}).status_code == 400
    assert active(repo) == [True]


def test_a_subscriber_token_ends_every_subscription(
    app: Flask, repo: Repository, settings: Settings, tmp_path: Path, stored: None
) -> None:
    follow(repo, ("bill", BILL_KEY), ("jurisdiction", "us"))
    path = digest_unsubscribe_path(repo, settings, tmp_path)
    mail_client = app.test_client(use_cookies=False)
    page = mail_client.get(path).get_data(as_text=True)
    assert f"Stop every bill digest and alert sent to {ANA}?" in page
    assert mail_client.post(path, data=ONE_CLICK).status_code == 200
    assert active(repo) == [False, False]
