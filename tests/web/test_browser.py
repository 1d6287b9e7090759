"""The main flows in a real browser: Debian's chromium driven by Playwright, against the app
served by werkzeug in a thread, with mail going to a real SMTP server (aiosmtpd).

search -> open HR 2471 -> Follow -> sign in by the emailed link -> Follow -> switch to Korean
-> the welcome digest arrives -> its unsubscribe link -> Unsubscribe.

Screenshots of the key pages are kept in ``test-artifacts/screenshots/`` (gitignored). With
``TRACKER_UPDATE_SCREENSHOTS=1`` the bill page is also written to
``docs/screenshots/bill-page.png`` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from notifiers.service import send_digests
from tests.notifiers.smtp_server import Sink, free_port
from tests.web.data import HR2471_KEY, NOW, Clock, seed, web_settings
from tracker.digest import Language
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.web import create_app
from tracker.web.i18n import page_catalog
from tracker.web.state import WebState

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TRACKER_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic"]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
README_SHOT = ROOT / "docs" / "screenshots" / "bill-page.png"
ANA = "ana.browser@example.org"
TIMEOUT_MS = 10_000
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM:
        pytest.skip("no system chromium (apt-get install chromium, or set TRACKER_CHROMIUM)")
    with playwright_sync.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Mailbox:
    """A real SMTP server on loopback, and what it received."""

    sink: Sink
    port: int

    @property
    def messages(self) -> list[Any]:
        return self.sink.messages


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Mailbox(sink=sink, port=controller.port)
    controller.stop()


class Deferred:
    """A WSGI app filled in after the server is bound: the app's links need the port."""

    def __init__(self) -> None:
        self.app: WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class Live:
    url: str
    app: Flask
    settings: Settings

    @property
    def state(self) -> WebState:
        found: WebState = self.app.extensions["tracker"]
        return found


@pytest.fixture
def live(database_url: str, tmp_path: Path, smtp: Mailbox) -> Iterator[Live]:
    from werkzeug.serving import make_server

    deferred = Deferred()
    server = make_server("127.0.0.1", 0, deferred, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = web_settings(database_url=database_url, folder=tmp_path, public_url=url,
                            smtp=("127.0.0.1", smtp.port))
    app = create_app(settings, clock=Clock(NOW))
    deferred.app = app
    seed(app.extensions["tracker"].repo, settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(url=url, app=app, settings=settings)
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["tracker"].repo.engine.dispose()


def shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mailed_link(mailbox: Mailbox, prefix: str) -> str:
    message = mailbox.messages[-1]
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(re.escape(prefix) + r"[^\s>]+", body.get_content())
    assert found is not None, f"no {prefix} link in {message['Subject']}"
    return found.group(0)


def test_search_follow_sign_in_language_unsubscribe(browser: Any, live: Live,
                                                     smtp: Mailbox) -> None:
    expect = playwright_sync.expect
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(f"{live.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    shoot(page, "dashboard")

    # Search.
    page.get_by_role("link", name="Bills", exact=True).click()
    page.get_by_role("searchbox").fill("appropriations")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="US HR 2471")).to_have_count(1)
    shoot(page, "search")

    # Open the bill: its whole timeline, the correction shown as such.
    page.get_by_role("link", name="US HR 2471").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Consolidated Appropriations")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Became Public Law No: 117-103.")
    expect(timeline.locator("li.removed").first).to_contain_text(
        "Correction: upstream removed this action")
    bill_shot = shoot(page, "bill-page")
    if os.environ.get("TRACKER_UPDATE_SCREENSHOTS") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SHOT), full_page=False)
    assert bill_shot.stat().st_size > 10_000

    # Follow: a stranger is asked to sign in first, by a link sent by mail.
    page.get_by_role("button", name="Follow").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill(ANA)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("p.message")).to_contain_text("sign-in link is on its way")
    assert [m["To"] for m in smtp.messages] == [ANA]
    page.goto(mailed_link(smtp, f"{live.url}/sign-in/"))
    shoot(page, "sign-in-confirm")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p.notice")).to_contain_text(f"You are signed in as {ANA}.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("US HR 2471")  # came back
    page.get_by_role("button", name="Follow").click()
    expect(page.locator("p.notice")).to_contain_text("You now follow US HR 2471.")
    expect(page.get_by_role("button", name="Stop following")).to_be_visible()

    # Change the language: the same page in Korean.
    korean = page_catalog(Language.KO)
    page.get_by_label("Language").select_option("ko")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name=korean.t("web.bill.timeline"))).to_be_visible()
    expect(page.get_by_role("button", name=korean.t("web.follow.unfollow"))).to_be_visible()
    shoot(page, "bill-page-ko")
    page.get_by_role("link", name=korean.t("web.nav.account")).click()
    expect(page.locator("ul.following")).to_contain_text("US HR 2471")
    shoot(page, "account-ko")

    # The welcome digest arrives by SMTP; its unsubscribe link works in the browser.
    report = send_digests(live.state.repo, settings=live.settings, now=NOW)
    assert report.ok, report.problems
    digest = smtp.messages[-1]
    assert digest["To"].addresses[0].addr_spec == ANA
    unsubscribe = re.match(r"<([^>]+)>", str(digest["List-Unsubscribe"]))
    assert unsubscribe is not None and unsubscribe.group(1).startswith(
        f"{live.url}/unsubscribe/")
    page.goto(unsubscribe.group(1))
    expect(page.get_by_role("heading", name=korean.t("web.unsubscribe.title"))).to_be_visible()
    shoot(page, "unsubscribe-ko")
    page.get_by_role("button", name=korean.t("web.unsubscribe.button")).click()
    expect(page.locator("p.message")).to_contain_text("US HR 2471")
    with live.state.repo.read() as db:
        subscriber = store.get_subscriber(db, ANA)
        assert subscriber is not None
        (subscription,) = store.subscriptions_of(db, subscriber.id)
    assert (subscription.target, subscription.active, subscription.ended_by) == (
        HR2471_KEY, False, "subscriber")
    context.close()
