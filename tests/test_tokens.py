"""Signed link tokens: they verify, they refuse every alteration, and the key rules hold."""

from __future__ import annotations

import base64
import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.settings import MailSettings
from tracker.tokens import (
    SECRET_FILE,
    InvalidToken,
    Purpose,
    Scope,
    sign,
    signing_key,
    verify,
)

KEY = b"k" * 32
ISSUED = date(2026, 12, 1)


def token(purpose: Purpose = Purpose.UNSUBSCRIBE, scope: Scope = Scope.SUBSCRIPTION,
          target_id: int = 42) -> str:
    return sign(key=KEY, purpose=purpose, scope=scope, target_id=target_id, issued=ISSUED)


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("purpose", list(Purpose))
def test_round_trip(purpose: Purpose, scope: Scope) -> None:
    claims = verify(token(purpose, scope, 7), key=KEY, purpose=purpose)
    assert (claims.purpose, claims.scope, claims.target_id, claims.issued) == (
        purpose, scope, 7, ISSUED)


def test_token_is_url_safe_and_names_no_address() -> None:
    text = token()
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    payload = base64.urlsafe_b64decode(text.split(".")[0] + "==")
    assert b"@" not in payload and payload == b"1.u.s.42.20261201"


def test_every_single_character_change_is_refused() -> None:
    text = token()
    for position, char in enumerate(text):
        for replacement in {"A", "b", "-", "_", "."} - {char}:
            altered = text[:position] + replacement + text[position + 1:]
            with pytest.raises(InvalidToken):
                verify(altered, key=KEY, purpose=Purpose.UNSUBSCRIBE)


def test_a_forged_payload_with_the_old_signature_is_refused() -> None:
    signature = token().split(".")[1]
    forged = base64.urlsafe_b64encode(b"1.u.r.42.20261201").rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="not genuine"):
        verify(f"{forged}.{signature}", key=KEY, purpose=Purpose.UNSUBSCRIBE)


@pytest.mark.parametrize("bad", ["", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???", "é.é"])
def test_malformed_tokens_are_refused(bad: str) -> None:
    with pytest.raises(InvalidToken):
        verify(bad, key=KEY, purpose=Purpose.UNSUBSCRIBE)


def test_another_key_or_purpose_is_refused() -> None:
    with pytest.raises(InvalidToken, match="not genuine"):
        verify(token(), key=b"x" * 32, purpose=Purpose.UNSUBSCRIBE)
    with pytest.raises(InvalidToken, match="another purpose"):
        verify(token(Purpose.MANAGE), key=KEY, purpose=Purpose.UNSUBSCRIBE)


def test_max_age() -> None:
    text = token()
    verify(text, key=KEY, purpose=Purpose.UNSUBSCRIBE, today=ISSUED + timedelta(days=30),
           max_age=timedelta(days=30))
    with pytest.raises(InvalidToken, match="expired"):
        verify(text, key=KEY, purpose=Purpose.UNSUBSCRIBE, today=ISSUED + timedelta(days=31),
               max_age=timedelta(days=30))


# --- the key ---------------------------------------------------------------------------------


def test_configured_key_is_used(tmp_path: Path) -> None:
    mail = MailSettings(secret_key="s" * 20, outbox_dir=tmp_path / "outbox")
    assert signing_key(mail) == b"s" * 20
    assert not (tmp_path / "outbox").exists(), "no key file when a key is configured"


def test_short_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY is too short"):
        signing_key(MailSettings(secret_key="short", outbox_dir=tmp_path))


def test_smtp_without_key_is_refused(tmp_path: Path) -> None:
    mail = MailSettings(smtp_host="smtp.example.org", outbox_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"TRACKER_SECRET_KEY is not set.*smtp\.example\.org"):
        signing_key(mail)


def test_file_mode_generates_one_private_key_and_keeps_it(tmp_path: Path) -> None:
    mail = MailSettings(outbox_dir=tmp_path / "outbox")
    first = signing_key(mail)
    path = tmp_path / "outbox" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert signing_key(mail) == first, "the same key on the next run: old links keep working"
    other = signing_key(MailSettings(outbox_dir=tmp_path / "elsewhere"))
    assert other != first


def test_file_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    mail = MailSettings(outbox_dir=tmp_path)
    signing_key(mail)
    os.chmod(tmp_path / SECRET_FILE, 0o644)
    with pytest.raises(ConfigError, match="readable by others; chmod 600"):
        signing_key(mail)


def test_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    path.write_bytes(b"\xff\xfe short")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigError, match="not usable"):
        signing_key(MailSettings(outbox_dir=tmp_path))
