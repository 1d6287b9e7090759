"""The pages' catalogs: complete in every language, and every key the pages use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifiers.catalog import placeholders
from tracker.digest import Language
from tracker.web.i18n import choose_language, page_catalog, stage_name, web_messages

WEB = Path(__file__).resolve().parents[2] / "tracker" / "web"
ENGLISH = web_messages(Language.EN)


def _family(key: str) -> str:
    return key.rsplit(".", 1)[0] if key.endswith((".one", ".other")) else key


@pytest.mark.parametrize("language", [Language.KO, Language.ES])
def test_every_catalog_has_the_english_keys_and_placeholders(language: Language) -> None:
    messages = web_messages(language)
    assert set(messages) == set(ENGLISH)
    allowed: dict[str, set[str]] = {}
    for key, text in ENGLISH.items():
        allowed.setdefault(_family(key), {"count"} if key != _family(key) else set()).update(
            placeholders(text))
    for key, text in messages.items():
        assert placeholders(text) <= allowed[_family(key)], key
        if key == _family(key):  # a plain message names exactly what English names
            assert placeholders(text) == placeholders(ENGLISH[key]), key


def _used_keys() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.glob("*.py"), *(WEB / "templates").glob("*.j2")]:
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"""\bt\(\s*['"]([a-z_-]+\.[a-z0-9_.-]+)['"]""", text))
        found.update(re.findall(r"""plural\(\s*['"]([a-z_-]+\.[a-z0-9_.-]+)['"]""", text))
    return found


def test_every_fixed_key_the_pages_use_is_in_every_catalog() -> None:
    used = _used_keys()
    assert "web.signin.mail_body" in used and "change.action-removed" in used  # the scan works
    for language in Language:
        messages = page_catalog(language).messages
        missing = [k for k in used if k not in messages and f"{k}.one" not in messages]
        assert missing == [], (language, missing)


@pytest.mark.parametrize(
    ("chosen", "accepted", "expected"),
    [
        ("ko", [("es", 1.0)], Language.KO),  # the switch wins over the browser
        (None, [("ko-KR", 1.0), ("en", 0.5)], Language.KO),
        (None, [("fr", 1.0), ("es-MX", 0.8)], Language.ES),
        ("xx", [("de", 1.0)], Language.EN),  # nothing known: English
        (None, [], Language.EN),
    ],
)
def test_choose_language(chosen: object, accepted: list[tuple[str, float]],
                         expected: Language) -> None:
    assert choose_language(chosen, accepted) is expected


def test_the_pages_and_digests_name_stages_alike() -> None:
    korean = page_catalog(Language.KO)
    assert stage_name(korean, "passed-origin", "va") == korean.t("stage.passed-origin")
    assert stage_name(korean, "to-executive", "us") == korean.t("stage.to-executive-federal")
    assert stage_name(korean, "to-executive", "") == korean.t("web.any.stage_to_executive")
