"""Digest + Rendered -> EmailMessage: structure, headers, and nothing hostile in a header."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

import notifiers.email
from notifiers.email import (
    NAME_LIMIT,
    SUBJECT_LIMIT,
    build_message,
    encoded_words,
    mail_domain,
    message_id,
)
from notifiers.links import DigestLinks, links_for
from notifiers.render import render
from notifiers.text import header_text
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
                         now=NOW).raw


#: A rendered digest for tests that replace some of its parts.
RENDERED = render(digest(), settings=settings(), links=None)


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
    subject = built.subject
    assert parse(built.raw)["Subject"] == subject
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
    assert built.subject == subject
    assert parse(built.raw)["Subject"] == subject


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


# --- the message as written (no email package on the way out) --------------------------------


def lines_of(raw_bytes: bytes) -> list[bytes]:
    assert raw_bytes.endswith(b"\r\n")
    lines = raw_bytes[:-2].split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines), "CRLF only"
    assert all(len(line) <= 998 for line in lines), "SMTP line limit"
    return lines


def no_defects(parsed: EmailMessage) -> None:
    assert parsed.defects == []
    for part in parsed.walk():
        assert part.defects == []
        assert all(value.defects == () for value in part.values())  # type: ignore[attr-defined]


@settings_(max_examples=200, deadline=None)
@given(name=st.text(max_size=120), subject=st.text(max_size=400))
def test_any_name_and_subject_arrive_as_header_text_makes_them(name: str, subject: str) -> None:
    rendered = replace(RENDERED, subject=subject)
    d = digest(recipient_=recipient(name=name))
    built = build_message(d, rendered, mail_from="a@example.org", links=None, now=NOW)
    lines_of(built.raw)
    parsed = parse(built.raw)
    no_defects(parsed)
    assert parsed["Subject"] == built.subject == header_text(subject, limit=SUBJECT_LIMIT)
    (to,) = parsed["To"].addresses
    assert (to.display_name, to.addr_spec) == (header_text(name, limit=NAME_LIMIT),
                                               "sub1@example.org")
    assert parsed.get_all("To") == [parsed["To"]] and parsed["Bcc"] is None


def test_the_longest_subject_and_names_fit_on_their_lines() -> None:
    widest = "\U0001f5f3" * 400  # four UTF-8 bytes each
    rendered = replace(RENDERED, subject=widest, from_name=widest)
    d = digest(recipient_=recipient(name=widest))
    built = build_message(d, rendered, mail_from="a@example.org", links=None, now=NOW)
    lines_of(built.raw)
    parsed = parse(built.raw)
    assert parsed["Subject"] == built.subject and len(built.subject) == SUBJECT_LIMIT
    assert parsed["To"].addresses[0].display_name == header_text(widest, limit=NAME_LIMIT)


def test_encoded_words_are_short_and_whole_characters() -> None:
    words = encoded_words("김민지 Lucía " * 20)
    assert all(len(word) <= 75 for word in words)
    decoded = [base64.b64decode(word[10:-2]).decode("utf-8") for word in words]
    assert "".join(decoded) == "김민지 Lucía " * 20, "no character cut in two"


def test_text_that_looks_encoded_arrives_as_written() -> None:
    name = "=?utf-8?q?Bcc=3A_x?= Ana"
    parsed = message(digest(recipient_=recipient(name=name)))
    assert parsed["To"].addresses[0].display_name == name
    assert parsed["Bcc"] is None


def test_bodies_arrive_as_rendered() -> None:
    d = digest(recipient_=recipient(language=Language.KO))
    rendered = render(d, settings=settings(), links=None)
    built = build_message(d, rendered, mail_from="a@example.org", links=None, now=NOW)
    parsed = parse(built.raw)
    no_defects(parsed)
    assert body(parsed, "plain").splitlines() == rendered.text.splitlines()
    assert body(parsed, "html").splitlines() == rendered.html.splitlines()
    encodings = [p["Content-Transfer-Encoding"] for p in parsed.iter_parts()]
    assert encodings == ["8bit", "8bit"], "Korean text as written"


def test_a_line_too_long_for_smtp_goes_as_base64() -> None:
    long_html = "<p>" + "x" * 5000 + "</p>\n<p>안녕</p>\n"
    rendered = replace(RENDERED, html=long_html)
    built = build_message(digest(), rendered, mail_from="a@example.org", links=None, now=NOW)
    lines_of(built.raw)
    parsed = parse(built.raw)
    html_part = parsed.get_body(("html",))
    assert html_part is not None and html_part["Content-Transfer-Encoding"] == "base64"
    assert body(parsed, "html").splitlines() == long_html.splitlines()
    text_part = parsed.get_body(("plain",))
    assert text_part is not None and text_part["Content-Transfer-Encoding"] != "base64"


def test_the_boundary_never_occurs_in_a_part(monkeypatch: pytest.MonkeyPatch) -> None:
    taken, fresh = "0" * 32, "1" * 32
    tokens = iter([taken, fresh])
    monkeypatch.setattr(notifiers.email.secrets, "token_hex", lambda _n: next(tokens))
    rendered = replace(RENDERED, text=f"a line holding =_{taken} as text\n")
    built = build_message(digest(), rendered, mail_from="a@example.org", links=None, now=NOW)
    assert f'boundary="=_{fresh}"' in built.raw.decode("utf-8")
    assert body(parse(built.raw), "plain") .startswith(f"a line holding =_{taken}")


@pytest.mark.parametrize("address", ["josé@example.org", "a b@example.org"])
def test_an_address_that_is_not_plain_ascii_is_refused(address: str) -> None:
    d = digest(recipient_=recipient(email=address))
    with pytest.raises(ConfigError, match="is not a single plain address"):
        build_message(d, RENDERED, mail_from="a@example.org", links=None, now=NOW)


def test_a_header_value_with_a_line_break_is_refused() -> None:
    links = DigestLinks(manage="https://t.example/manage/x",
                        unsubscribe="https://t.example/u/x\r\nBcc: victim@x.example",
                        unsubscribe_mailto="mailto:a@example.org?subject=unsubscribe-x",
                        per_subscription={}, only_subscription=None)
    with pytest.raises(ConfigError, match="List-Unsubscribe"):
        build_message(digest(), RENDERED, mail_from="a@example.org", links=links, now=NOW)


def test_a_long_list_unsubscribe_is_folded_at_its_comma() -> None:
    token = "t" * 600
    links = DigestLinks(manage="https://t.example/manage/x",
                        unsubscribe=f"https://t.example/unsubscribe/{token}",
                        unsubscribe_mailto=f"mailto:a@example.org?subject=unsubscribe-{token}",
                        per_subscription={}, only_subscription=None)
    built = build_message(digest(), RENDERED, mail_from="a@example.org", links=links, now=NOW)
    lines_of(built.raw)
    assert parse(built.raw)["List-Unsubscribe"] == (f"<{links.unsubscribe}>, "
                                                    f"<{links.unsubscribe_mailto}>")
