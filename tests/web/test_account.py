"""Self-service: sign in by an emailed link (signed, one-time, expiring, rate limited), follow
and unfollow, preferences, and the digests' manage link."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.data import (
    CORRECTION_AT,
    HR2471_KEY,
    HR2471_PATH,
    PUBLIC_URL,
    Clock,
    Seeded,
    link_in,
    sent_messages,
)
from tests.web.test_security import csrf
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriptions import SubscriberProfile
from tracker.tokens import Purpose, Scope, sign
from tracker.web.signin import LINK_TTL, PER_ADDRESS, PER_CLIENT
from tracker.web.state import web_state

ANA = "ana.park@example.org"


def ask_for_link(client: FlaskClient, address: str, *, next_path: str = "/",
                 folder: Path) -> str:
    """Ask for a sign-in link and read it from the message the app sent."""
    before = len(sent_messages(folder))
    response = client.post("/sign-in", data={"email": address, "next": next_path,
                                             "csrf_token": csrf(client)})
    assert response.status_code == 303, response.get_data(as_text=True)
    messages = sent_messages(folder)
    assert len(messages) == before + 1
    assert messages[-1]["To"] == address.strip().lower()
    return link_in(messages[-1], f"{PUBLIC_URL}/sign-in/")


def text_of(response: TestResponse) -> str:
    return unescape(response.get_data(as_text=True))


def path_of(url: str) -> str:
    return urlsplit(url).path


def sign_in(client: FlaskClient, address: str, *, folder: Path, next_path: str = "/") -> None:
    link = path_of(ask_for_link(client, address, next_path=next_path, folder=folder))
    assert client.post(link, data={"csrf_token": csrf(client)}).status_code == 303


def test_sign_in_by_an_emailed_link(client: FlaskClient, tmp_path: Path) -> None:
    link = ask_for_link(client, " Ana.Park@Example.org ", next_path=HR2471_PATH,
                        folder=tmp_path)
    message = sent_messages(tmp_path)[-1]
    assert message["Subject"] == "Your sign-in link for tracker.example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    sent = client.get("/sign-in/sent").get_data(as_text=True)
    assert ANA in sent and "30 minutes" in sent
    # Opening the link signs no one in: only its button does (mail scanners open links).
    confirm = client.get(path_of(link))
    assert confirm.status_code == 200 and f"Sign in as {ANA}?" in confirm.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "email" not in session
    used = client.post(path_of(link), data={"csrf_token": csrf(client)})
    assert used.status_code == 303 and used.headers["Location"] == HR2471_PATH
    with client.session_transaction() as session:
        assert (session["email"], session["auth"]) == (ANA, "link")
    assert ANA in client.get("/account").get_data(as_text=True)
    # One time only, in this browser or any other.
    again = client.post(path_of(link), data={"csrf_token": csrf(client)})
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_links_expire(client: FlaskClient, tmp_path: Path, clock: Clock) -> None:
    link = path_of(ask_for_link(client, ANA, folder=tmp_path))
    clock.advance(LINK_TTL + timedelta(seconds=1))
    assert client.get(link).status_code == 410
    response = client.post(link, data={"csrf_token": csrf(client)})
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_altered_or_foreign_links_are_refused(client: FlaskClient, tmp_path: Path) -> None:
    link = path_of(ask_for_link(client, ANA, folder=tmp_path))
    payload, _, mac = link.rpartition(".")
    altered = f"{payload}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}"
    for forged in (altered, "/sign-in/eyJpZCI6MSwibiI6IngifQ.forged", "/sign-in/nonsense"):
        assert client.get(forged).status_code == 400, forged
        assert client.post(forged, data={"csrf_token": csrf(client)}).status_code == 400
    with client.session_transaction() as session:
        assert "email" not in session


def test_the_link_points_to_the_public_url_whatever_the_host(
    client: FlaskClient, tmp_path: Path
) -> None:
    evil = "https://evil.example"
    client.get("/", base_url=evil)
    with client.session_transaction(base_url=evil) as session:
        token = session["csrf"]
    response = client.post("/sign-in", base_url=evil, data={"email": ANA, "csrf_token": token})
    assert response.status_code == 303
    (message,) = sent_messages(tmp_path)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "evil.example" not in text and f"{PUBLIC_URL}/sign-in/" in text


def test_sign_in_is_rate_limited_per_address_and_per_client(
    app: Flask, tmp_path: Path, clock: Clock
) -> None:
    client = app.test_client()
    limit, window = PER_ADDRESS
    for _ in range(limit):
        ask_for_link(client, ANA, folder=tmp_path)
    refused = client.post("/sign-in", data={"email": ANA, "csrf_token": csrf(client)})
    assert refused.status_code == 429 and "15 minutes" in refused.get_data(as_text=True)
    assert len(sent_messages(tmp_path)) == limit  # nothing sent when refused
    clock.advance(window)
    ask_for_link(client, ANA, folder=tmp_path)  # the window moved on
    per_client, _ = PER_CLIENT
    others = [f"person{n}@example.org" for n in range(per_client)]
    statuses = [client.post("/sign-in", data={"email": a, "csrf_token": csrf(client)})
                .status_code for a in others]
    assert statuses.count(429) == len(statuses) - (per_client - limit - 1)
    elsewhere = app.test_client()
    response = elsewhere.post("/sign-in", data={"email": "zoe@example.org",
                                                "csrf_token": csrf(elsewhere)},
                              environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.status_code == 303  # another client is not held back


def test_a_bad_address_is_one_line(client: FlaskClient, tmp_path: Path) -> None:
    response = client.post("/sign-in", data={"email": "not an address",
                                             "csrf_token": csrf(client)})
    assert response.status_code == 400
    assert "That is not an email address" in response.get_data(as_text=True)
    assert not sent_messages(tmp_path)


def test_follow_asks_strangers_to_sign_in_then_follows(
    client: FlaskClient, seeded: Seeded, repo: Repository, tmp_path: Path
) -> None:
    form = {"target": f"bill:{HR2471_KEY}", "next": HR2471_PATH}
    stranger = client.post("/follow", data={**form, "csrf_token": csrf(client)})
    assert stranger.status_code == 303
    assert stranger.headers["Location"] == "/sign-in?next=/bills/us/117/HR%25202471"
    sign_in(client, ANA, folder=tmp_path, next_path=HR2471_PATH)
    followed = client.post("/follow", data={**form, "csrf_token": csrf(client)})
    assert followed.status_code == 303 and followed.headers["Location"] == HR2471_PATH
    page = client.get(HR2471_PATH).get_data(as_text=True)
    assert "You now follow US HR 2471." in page and "Stop following" in page
    with repo.read() as db:
        subscriber = store.get_subscriber(db, ANA)
        assert subscriber is not None and subscriber.origin == "web"
        (subscription,) = store.subscriptions_of(db, subscriber.id)
    assert (subscription.target_kind, subscription.target, subscription.active) == (
        "bill", HR2471_KEY, True)
    again = client.post("/follow", data={**form, "csrf_token": csrf(client)})
    assert again.status_code == 303
    assert "You already follow US HR 2471." in client.get(HR2471_PATH).get_data(as_text=True)
    stop = client.post("/unfollow", data={"subscription": str(subscription.id),
                                          "next": HR2471_PATH, "csrf_token": csrf(client)})
    assert stop.status_code == 303
    with repo.read() as db:
        (ended,) = store.subscriptions_of(db, subscriber.id)
    assert (ended.active, ended.ended_by) == (False, "subscriber")


def test_follow_topics_and_jurisdictions_and_refuse_unknown_ones(
    client: FlaskClient, repo: Repository, tmp_path: Path
) -> None:
    sign_in(client, ANA, folder=tmp_path)
    token = csrf(client)
    ok = client.post("/follow", data={"target": "topic:language-access", "within": ["us"],
                                      "csrf_token": token})
    assert ok.status_code == 303 and ok.headers["Location"] == "/account"
    assert client.post("/follow", data={"target": "jurisdiction:us",
                                        "csrf_token": token}).status_code == 303
    for bad, message in (("topic:no-such", "unknown topic 'no-such'"),
                         ("jurisdiction:zz", "no source covers jurisdiction 'zz'"),
                         ("bill:nonsense", "bill 'nonsense'"), ("everything", "kind:value")):
        response = client.post("/follow", data={"target": bad, "csrf_token": token})
        assert response.status_code == 400 and message in text_of(response), bad
    assert client.post("/follow", data={"target": "bill:us/117/HR 9999",
                                        "csrf_token": token}).status_code == 404
    page = client.get("/account").get_data(as_text=True)
    assert "the topic “Language access”" in page and "only in Congress" in page
    assert "every bill in Congress" in page
    with repo.read() as db:
        subscriber = store.get_subscriber(db, ANA)
        assert subscriber is not None
        targets = [(s.target_kind, s.target, s.jurisdictions)
                   for s in store.subscriptions_of(db, subscriber.id)]
    assert targets == [("topic", "language-access", ("us",)), ("jurisdiction", "us", ())]


def test_someone_elses_subscription_cannot_be_ended(
    app: Flask, repo: Repository, tmp_path: Path
) -> None:
    owner, other = app.test_client(), app.test_client()
    sign_in(owner, ANA, folder=tmp_path)
    owner.post("/follow", data={"target": "jurisdiction:us", "csrf_token": csrf(owner)})
    sign_in(other, "mallory@example.org", folder=tmp_path)
    with repo.read() as db:
        subscriber = store.get_subscriber(db, ANA)
        assert subscriber is not None
        (mine,) = store.subscriptions_of(db, subscriber.id)
    response = other.post("/unfollow", data={"subscription": str(mine.id),
                                             "csrf_token": csrf(other)})
    assert response.status_code == 404
    with repo.read() as db:
        assert store.subscriptions_of(db, subscriber.id)[0].active


def test_preferences(client: FlaskClient, repo: Repository, tmp_path: Path) -> None:
    sign_in(client, ANA, folder=tmp_path)
    form = {"name": "Ana Park", "affiliate": "VA affiliate", "language": "ko",
            "timezone": "America/Chicago", "frequency": "weekly", "hour": "8", "weekday": "4",
            "csrf_token": csrf(client)}
    assert client.post("/account/preferences", data=form).status_code == 303
    with repo.read() as db:
        saved = store.get_subscriber(db, ANA)
    assert saved is not None
    assert (saved.name, saved.affiliate, saved.language, saved.timezone, saved.frequency,
            saved.digest_hour, saved.digest_weekday) == (
        "Ana Park", "VA affiliate", "ko", "America/Chicago", "weekly", 8, 4)
    page = client.get("/account").get_data(as_text=True)
    assert '<option value="America/Chicago" selected>' in page
    for field, value, message in (("timezone", "Mars/Olympus", "unknown timezone"),
                                  ("hour", "25", "digest hour 25"),
                                  ("frequency", "hourly", "frequency 'hourly'"),
                                  ("name", "two\nlines", "must be one line")):
        response = client.post("/account/preferences", data={**form, field: value})
        assert response.status_code == 400, field
        assert message in text_of(response), field


def test_account_needs_sign_in(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in?next=/account"


def test_the_digest_manage_link_opens_the_account(
    app: Flask, client: FlaskClient, repo: Repository,
) -> None:
    with repo.write() as db:
        subscriber = store.upsert_subscriber(db, SubscriberProfile(email=ANA), origin="cli",
                                             now=CORRECTION_AT)
    with app.app_context():
        key = web_state().link_key
    token = sign(key=key, purpose=Purpose.MANAGE, scope=Scope.SUBSCRIBER,
                 target_id=subscriber.id, issued=date(2026, 12, 1))
    response = client.get(f"/manage/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert ANA in client.get("/account").get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["auth"] == "manage"
    unsubscribe_token = sign(key=key, purpose=Purpose.UNSUBSCRIBE, scope=Scope.SUBSCRIBER,
                             target_id=subscriber.id, issued=date(2026, 12, 1))
    fresh = app.test_client()
    assert fresh.get(f"/manage/{unsubscribe_token}").status_code == 400  # another purpose
    assert fresh.get(f"/manage/{token[:-1]}x").status_code == 400
    gone = sign(key=key, purpose=Purpose.MANAGE, scope=Scope.SUBSCRIBER, target_id=999_999,
                issued=date(2026, 12, 1))
    assert fresh.get(f"/manage/{gone}").status_code == 404


def test_sign_out(client: FlaskClient, tmp_path: Path) -> None:
    sign_in(client, ANA, folder=tmp_path)
    with client.session_transaction() as session:
        before = session["csrf"]
    assert client.post("/sign-out", data={"csrf_token": before}).status_code == 303
    with client.session_transaction() as session:
        assert "email" not in session and session.get("csrf") != before
