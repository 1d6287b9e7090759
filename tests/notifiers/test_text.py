"""The quick paths of notifiers.text (printable text is not looked at character by character)
give what the character-by-character rules give, for any text."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from notifiers.text import _WHITESPACE, _clean_char, display_text, safe_url

#: Text rich in what the rules are about: controls, format and separator characters.
TRICKY = st.text(alphabet=st.one_of(
    st.characters(),
    st.sampled_from("\r\n\t\x00\x1b\x7f\x85\u00a0\u00ad\u200b\u200d\u2028\u2029\u202e\ufeff "),
), max_size=60)


def slow_display_text(value: str) -> str:
    return _WHITESPACE.sub(" ", "".join(_clean_char(c) for c in value)).strip()


@given(TRICKY)
def test_display_text_is_the_character_rules(value: str) -> None:
    assert display_text(value) == slow_display_text(value)


@given(TRICKY)
def test_safe_url_refuses_every_control_format_or_space_character(tail: str) -> None:
    url = f"https://example.org/{tail}".strip()
    unsafe = any(unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") for c in url)
    if unsafe:
        assert safe_url(url) is None


def test_plain_text_and_urls_pass() -> None:
    assert display_text("  Driver  privilege\tcards ") == "Driver privilege cards"
    assert safe_url("https://example.org/a?b=c") == "https://example.org/a?b=c"
    assert safe_url("https://example.org/a b") is None
    assert safe_url("javascript:alert(1)") is None
