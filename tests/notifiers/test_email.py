"""Digest + Rendered -> EmailMessage: structure, headers, and nothing hostile in a header."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from notifiers.email import SUBJECT_LIMIT, build_message, mail_domain, message_id
from notifiers.links import links_for
from notifiers.render import render
from tests.notifiers.digests import HOSTILE_TITLES, digest, item, recipient
from tests.notifiers.mail import body, parse
from tracker.digest import Digest, DigestKind, Language
from tracker.errors import ConfigError
from tracker.settings import MailSettings, Settings

NOW = datetime(2026, 12, 1, 12, 5, tzinfo=UTC)
KEY = b"k" * 32


def settings(public_url: str = "https://tracker.example.org") -> Settings:
    return Settings(config_dir=Path("."), database_url="", sources={},
                    mail=MailSettings(public_url=public_url,
                                      mail_from="alerts@tracker.example.org"))


def raw(d: Digest | None = None, *, public_url: str = "https://tracker.example.org",
        with_links: bool = True) -> bytes:
    d = d or digest()
    s = settings(public_url)
    links = links_for(d, mail=s.mail, key=KEY, issued=NOW.date()) if with_links else None
    rendered = render(d, settings=s, links=links)
    return build_message(d, rendered, mail_from=s.mail.mail_from, links=links,
                         now=NOW).as_bytes()


def message(d: Digest | None = None, **kwargs: Any) -> EmailMessage:
    """What a receiver sees: the bytes, parsed again."""
    return parse(raw(d, **kwargs))


def test_structure_is_multipart_alternative_text_then_html() -> None:
    parsed = message()
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parsed.iter_parts())
    assert "Driver privilege cards" in body(parsed, "plain")
    assert "<html lang=\"en\"" in body(parsed, "html")


def test_headers() -> None:
    parsed = message()
    assert parseaddr(parsed["From"]) == ("Legislation Tracker", "alerts@tracker.example.org")
    assert parseaddr(parsed["To"]) == ("Ana Kim", "sub1@example.org")
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["Message-ID"] == message_id("daily:1:2026-12-01",
                                              mail_from="alerts@tracker.example.org")
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Content-Language"] == "en"
    assert parsed["Subject"] == "Daily bill digest: news on 1 bill"


def test_list_unsubscribe_one_click() -> None:
    parsed = message()
    https, mailto = (part.strip().strip("<>") for part in parsed["List-Unsubscribe"].split(","))
    assert https.startswith("https://tracker.example.org/unsubscribe/")
    token = https.rsplit("/", 1)[1]
    assert mailto == f"mailto:alerts@tracker.example.org?subject=unsubscribe-{token}"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "sub1@example.org" not in parsed["List-Unsubscribe"], "a token, not the address"


def test_plain_http_public_url_gets_no_one_click_header() -> None:
    parsed = message(public_url="http://localhost:8080")
    assert parsed["List-Unsubscribe"].startswith("<http://localhost:8080/unsubscribe/")
    assert parsed["List-Unsubscribe-Post"] is None


def test_operator_mail_has_no_unsubscribe_headers() -> None:
    parsed = message(digest(kind=DigestKind.OPERATOR), with_links=False)
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None


def test_message_id_is_stable_per_digest_key() -> None:
    first = message_id("daily:1:2026-12-01", mail_from="a@Example.org")
    assert first == message_id("daily:1:2026-12-01", mail_from="b@example.org")
    assert first != message_id("daily:1:2026-12-02", mail_from="a@example.org")
    assert first.startswith("<") and first.endswith("@example.org>")
    assert len(first.split("@")[0]) == 33
    assert message()["Message-ID"] == message()["Message-ID"], "re-rendering keeps it"


@pytest.mark.parametrize("language", list(Language))
def test_non_ascii_headers_round_trip(language: Language) -> None:
    d = digest(recipient_=recipient(language=language, name="김민지 Lucía"))
    parsed = message(d)
    assert parseaddr(parsed["To"])[0] == "김민지 Lucía"
    assert parsed["Content-Language"] == language.value
    lines = raw(d).split(b"\r\n")
    assert all(len(line) <= 998 for line in lines), "SMTP line limit"
    assert all(b"\n" not in line for line in lines), "CRLF line ends only"


def test_hostile_title_and_name_are_in_no_header() -> None:
    evil = "\u202eEvil\u200b\r\nBcc: victim@x.example"
    d = digest(item(title=" ".join(HOSTILE_TITLES)), kind=DigestKind.ALERT,
               recipient_=recipient(name=evil))
    parsed = message(d)
    assert parsed["Bcc"] is None
    headers = "\n".join(f"{k}: {v}" for k, v in parsed.items())
    for part in HOSTILE_TITLES:
        assert part not in headers
    assert "\u202e" not in headers and "\u200b" not in headers
    assert parseaddr(parsed["To"]) == ("Evil Bcc: victim@x.example", "sub1@example.org")
    assert parsed.get_all("To") == [parsed["To"]]


def test_subject_is_one_capped_line() -> None:
    rendered = render(digest(), settings=settings(), links=None)
    long = replace(rendered, subject="Bill alert: " + "word " * 100 + "\r\nBcc: x@y")
    built = build_message(digest(), long, mail_from="a@example.org", links=None, now=NOW)
    subject = str(built["Subject"])
    assert len(subject) <= SUBJECT_LIMIT and subject.endswith("…")
    assert "\r" not in subject and "\n" not in subject and "Bcc" not in subject


@pytest.mark.parametrize("subject", [
    "Ahora sigue Congreso de EE. UU. (todos los proyectos de ley): situación actual",
    "법안 알림: US HR 101 발의된 원 본회의 통과 외 3건 · ‘언어 접근권’ 주제 · 미국 연방 의회 · "
    "버지니아 · 텍사스 · 일리노이",
    "Alerta legislativa: VA HB 1211: Aprobado en la cámara de origen (y 12 proyectos más) — "
    "«Licencias de conducir» Pensilvania Nueva York",
])
def test_long_non_ascii_subjects_arrive_unchanged(subject: str) -> None:
    rendered = replace(render(digest(), settings=settings(), links=None), subject=subject)
    built = build_message(digest(), rendered, mail_from="a@example.org", links=None, now=NOW)
    assert parse(built.as_bytes())["Subject"] == subject


@pytest.mark.parametrize("address", ["a@b.example\r\nBcc: c@d", "Ana <a@b.example>",
                                     "a@b.example, c@d.example", "nobody"])
def test_unusable_recipient_address_is_refused(address: str) -> None:
    d = digest(recipient_=recipient(email=address))
    rendered = render(d, settings=settings(), links=None)
    with pytest.raises(ConfigError, match="is not a single plain address"):
        build_message(d, rendered, mail_from="a@example.org", links=None, now=NOW)


def test_mail_domain() -> None:
    assert mail_domain("Tracker@Example.ORG") == "example.org"
    with pytest.raises(ConfigError):
        mail_domain("tracker@")
