"""The security rules: CSRF on every form, cookie flags, no open redirect, the headers, no
secret in pages or logs."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.data import HR2471_PATH, SECRET, web_settings
from tracker.errors import ConfigError
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.web import create_app
from tracker.web.security import redact_tokens, safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/bills/us/117/HR%202471", "/bills/us/117/HR%202471"),
        ("/bills?q=law&page=2", "/bills?q=law&page=2"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("/\t/evil.example", "/"),
        ("/\u2028x", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 2001, "/"),
    ],
)
def test_only_same_site_paths_are_followed(target: object, expected: str) -> None:
    assert safe_next(target) == expected


def test_tokens_are_redacted_from_log_lines() -> None:
    line = '127.0.0.1 - - "GET /unsubscribe/MS51LnMuNDI.abc-_ HTTP/1.1" 200 -'
    assert redact_tokens(line) == '127.0.0.1 - - "GET /unsubscribe/<token> HTTP/1.1" 200 -'
    assert redact_tokens("POST /sign-in/eyJpZCI6MX0.x HTTP/1.1") == "POST /sign-in/<token> HTTP/1.1"
    assert redact_tokens("GET /bills HTTP/1.1") == "GET /bills HTTP/1.1"


def test_the_request_log_never_shows_a_token(app: Flask,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"%s" %s', "GET /manage/MS5tLnIuMQ.secretmac HTTP/1.1",
                                           200)
    assert "secretmac" not in caplog.text and "/manage/<token>" in caplog.text


def csrf(client: FlaskClient) -> str:
    client.get("/")
    with client.session_transaction() as session:
        return str(session["csrf"])


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/language", {"lang": "ko", "next": "/"}),
        ("/sign-in", {"email": "ana@example.org"}),
        ("/follow", {"target": "bill:us/117/HR 2471"}),
        ("/unfollow", {"subscription": "1"}),
        ("/account/preferences", {"language": "ko"}),
        ("/sign-out", {}),
    ],
)
def test_every_form_is_refused_without_the_csrf_token(
    client: FlaskClient, path: str, form: dict[str, str], tmp_path: Path
) -> None:
    token = csrf(client)
    for sent in (form, {**form, "csrf_token": "not-the-token"},
                 {**form, "csrf_token": token[:-1]}):
        response = client.post(path, data=sent)
        assert response.status_code == 400, (path, sent)
        assert "This form has expired" in response.get_data(as_text=True)
    assert not list(tmp_path.rglob("*.eml"))  # no sign-in link was sent
    with client.session_transaction() as session:
        assert "lang" not in session


def test_a_token_from_another_session_is_refused(app: Flask) -> None:
    theirs, mine = app.test_client(), app.test_client()
    token = csrf(theirs)
    csrf(mine)
    assert mine.post("/language", data={"lang": "ko", "csrf_token": token}).status_code == 400


def test_cookie_flags(app: Flask, client: FlaskClient) -> None:
    cookie = client.get("/").headers["Set-Cookie"]
    assert cookie.startswith("tracker_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie  # the public URL is https


def test_no_secure_flag_on_a_plain_http_deployment(database_url: str, tmp_path: Path) -> None:
    app = create_app(web_settings(database_url=database_url, folder=tmp_path,
                                  public_url="http://127.0.0.1:8080"), testing=True)
    cookie = app.test_client().get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers


def test_headers(reader: FlaskClient) -> None:
    client = reader
    page = client.get(HR2471_PATH)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "<script" not in page.get_data(as_text=True)
    assert "Cache-Control" not in page.headers or "no-store" not in page.headers["Cache-Control"]
    token_page = client.get("/unsubscribe/not.valid")
    assert token_page.headers["Referrer-Policy"] == "no-referrer"
    assert token_page.headers["Cache-Control"] == "no-store"
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_no_secret_in_any_page(reader: FlaskClient) -> None:
    client = reader
    paths = ["/", "/bills", HR2471_PATH, "/events", "/topics", "/sign-in", "/bills.csv",
             "/api/bills", "/api/events", "/admin", "/account", "/unsubscribe/x.y",
             "/no-such-page"]
    for path in paths:
        body = client.get(path).get_data(as_text=True)
        assert SECRET not in body, path
        assert "Traceback" not in body, path


def test_the_app_refuses_to_start_without_a_secret(database_url: str, tmp_path: Path) -> None:
    settings = web_settings(database_url=database_url, folder=tmp_path)
    unkeyed = replace(settings, mail=replace(settings.mail, secret_key=None))
    with pytest.raises(ConfigError, match=r"^TRACKER_SECRET_KEY is not set"):
        create_app(unkeyed)
    assert create_app(unkeyed, debug=True).config["SECRET_KEY"]  # debug: the file key


def test_forms_are_size_limited(client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "a" * 70_000})
    assert response.status_code == 413


def test_a_cross_site_form_changes_nothing(app: Flask, repo: Repository) -> None:
    """A page elsewhere posting a Follow with the visitor's cookie but no token."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["email"], session["auth"] = "ana@example.org", "link"
    response = client.post("/follow", data={"target": "bill:us/117/HR 2471"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    with repo.read() as db:
        assert store.get_subscriber(db, "ana@example.org") is None
