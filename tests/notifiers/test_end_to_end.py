"""Issue 3's "done when", end to end: the real us-govinfo source on the demo bills served over
loopback, two polls, subscribers in three languages, real routing and digest building, and a
real SMTP server that refuses the first message with 451. Every subscriber receives exactly
one well-formed message per change window, in their language, with the reason for each item,
and a hostile bill title arrives escaped."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import html as lxml_html

from notifiers.outbox import DEFERRED, SENT
from notifiers.service import send_digests
from notifiers.smtp import SmtpTransport
from tests.notifiers.mail import body
from tests.notifiers.smtp_server import Server
from tracker.demo import (
    BASELINE_AT,
    CHANGE_AT,
    NEXT_MORNING,
    SOURCE,
    DemoClock,
    DemoUpstream,
    demo_pipeline,
    demo_settings,
    subscribe_demo_people,
)
from tracker.wiring import open_repository

HOSTILE = ('<script>alert(1)</script> Language access "><img src=x onerror=alert(2)> '
           "Evil \u202egnp.exe\u202c zero\u200bwidth")
BILLS = "bulkdata/BILLSTATUS/999/hr"
SITEMAP = "sitemap/bulkdata/BILLSTATUS/999hr/sitemap.xml"


def add_hostile_bill(folder: Path) -> None:
    """A new bill HR 104 whose title is hostile, listed in the House sitemap."""
    template = (folder / BILLS / "BILLSTATUS-999hr102.xml").read_text(encoding="utf-8")
    hostile = template.replace("<number>102</number>", "<number>104</number>")
    hostile = re.sub(r"<title>[^<]*</title>", f"<title>{escape(HOSTILE)}</title>", hostile)
    (folder / BILLS / "BILLSTATUS-999hr104.xml").write_text(hostile, encoding="utf-8")
    sitemap = (folder / SITEMAP).read_text(encoding="utf-8")
    entry = ("  <url>\n    <loc>https://www.govinfo.gov/bulkdata/BILLSTATUS/999/hr/"
             "BILLSTATUS-999hr104.xml</loc>\n    <lastmod>2026-03-02T18:40:00.000Z</lastmod>\n"
             "  </url>\n</urlset>")
    (folder / SITEMAP).write_text(sitemap.replace("</urlset>", entry), encoding="utf-8")


def by_recipient(messages: list[EmailMessage]) -> dict[str, list[EmailMessage]]:
    grouped: dict[str, list[EmailMessage]] = {}
    for message in messages:
        grouped.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return grouped


def text_of(message: EmailMessage) -> str:
    return body(message, "plain")


def html_of(message: EmailMessage) -> str:
    return body(message, "html")


def test_three_languages_two_polls_and_a_451(tmp_path: Path, smtp_server: Server,
                                             database_url: str) -> None:
    smtp_server.sink.script = ["451 4.7.1 Greylisted, please try again later"]
    transport = SmtpTransport(host=smtp_server.host, port=smtp_server.port, timeout=5.0,
                              helo="example.org")
    with DemoUpstream(tmp_path / "upstream") as upstream:
        settings = demo_settings(tmp_path, base_url=upstream.base_url, extra_env={
            "TRACKER_DATABASE_URL": database_url,
            "TRACKER_SMTP_HOST": smtp_server.host, "TRACKER_SMTP_PORT": str(smtp_server.port),
            "TRACKER_SECRET_KEY": "end-to-end-secret-key-0123456789",
            "TRACKER_PUBLIC_URL": "https://tracker.example.org",
        })
        repo = open_repository(settings)
        clock = DemoClock(BASELINE_AT)
        pipeline = demo_pipeline(settings, repo, clock)
        assert pipeline.poll(SOURCE).status == "ok"
        subscribed_at = BASELINE_AT + timedelta(minutes=5)
        subscribe_demo_people(repo, settings=settings, now=subscribed_at)

        def deliver(now: datetime) -> list[str]:
            report = send_digests(repo, settings=settings, now=now, transport=transport,
                                  clock=lambda: now)
            assert report.problems == []
            assert report.send is not None
            return [o.status for o in report.send.outcomes]

        assert deliver(subscribed_at) == [DEFERRED, SENT, SENT], "the 451 defers the first"
        assert deliver(subscribed_at + timedelta(minutes=1)) == [], "not before its backoff"

        clock.set(CHANGE_AT)
        upstream.apply_change()
        add_hostile_bill(upstream.folder)
        second = pipeline.poll(SOURCE)
        assert (second.status, second.inserted, second.updated) == ("ok", 1, 2)

        assert sorted(deliver(CHANGE_AT + timedelta(minutes=1))) == [SENT, SENT], (
            "the deferred welcome, and the instant alert")
        assert deliver(NEXT_MORNING) == [SENT, SENT, SENT], "daily digests and a roundup"
        assert deliver(NEXT_MORNING + timedelta(hours=1)) == [], "nothing twice"
        repo.engine.dispose()

    messages = smtp_server.sink.messages
    ids = [m["Message-ID"] for m in messages]
    assert len(ids) == len(set(ids)) == 7
    received = by_recipient(messages)
    kinds = {address: [m["Subject"] for m in mine] for address, mine in received.items()}
    assert kinds == {
        "ana.demo@example.org": ["Now following US HR 101: where things stand",
                                 "Daily bill digest: news on 1 bill"],
        # Instant: the advocacy moment at once; the new bill (not one) in the daily roundup.
        "minji.demo@example.org": ["‘언어 접근권’ 주제 팔로우 시작: 현재 진행 상황",
                                   "법안 알림: US HR 101 발의된 원 본회의 통과",
                                   "법안 소식: 법안 1건에 새 소식"],
        "lucia.demo@example.org": [
            "Ahora sigue Congreso de EE. UU. (todos los proyectos de ley): situación actual",
            "Resumen diario: novedades en 3 proyectos de ley"],
    }
    languages = {"ana.demo@example.org": "en", "minji.demo@example.org": "ko",
                 "lucia.demo@example.org": "es"}
    why = {"en": "You are seeing this because", "ko": "팔로우하고 계셔서 보내 드리는 소식입니다",
           "es": "Recibe esto porque"}
    for address, mine in received.items():
        language = languages[address]
        for message in mine:
            assert message["Content-Language"] == language
            assert [p.get_content_type() for p in message.iter_parts()] == [
                "text/plain", "text/html"]
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            page = lxml_html.document_fromstring(html_of(message))
            assert page.get("lang") == language
            items = page.find_class("item")
            assert items, "every message lists bills"
            for item in items:
                assert why[language] in item.text_content(), "each item says why"

    # The hostile title: the Spanish subscriber follows all of Congress, the Korean one the
    # language-access topic it mentions.
    for message in (received["lucia.demo@example.org"][1], received["minji.demo@example.org"][2]):
        html = html_of(message)
        page = lxml_html.document_fromstring(html)
        assert page.xpath("//script") == [] and page.xpath("//img") == []
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)</script>" in text_of(message)
        assert "\u202e" not in html + text_of(message)
        headers = "\n".join(f"{k}: {v}" for k, v in message.items())
        assert "script" not in headers and "onerror" not in headers
    counts = Counter(m["Subject"] for m in messages)
    assert max(counts.values()) == 1
