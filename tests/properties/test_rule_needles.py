"""The rule tables' needles (``scrapers._actions``) only save time: for every source's table,
classifying with them gives what running every expression gives, on texts built from the
tables' own words (so that rules match, half-match and miss), in any case, with non-ASCII
characters too (where needles are not used: ``ſ`` and the Kelvin sign match ``s`` and ``k``
case-insensitively)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrapers._actions import RuleTable, required_prefix, vocabulary_order
from scrapers.il_ilga_rules import RULES as ILLINOIS
from scrapers.legiscan_rules import HISTORY_RULES as LEGISCAN
from scrapers.ny_openleg_rules import RULES as NEW_YORK
from scrapers.pa_palegis_rules import RULES as PENNSYLVANIA
from scrapers.tx_tlo_rules import RULES as TEXAS
from scrapers.us_govinfo import TEXT_RULES as GOVINFO
from scrapers.va_lis.rules import ACTION_RULES as VIRGINIA
from tracker.models import ActionClass

TABLES = {"us-govinfo": GOVINFO, "va-lis": VIRGINIA, "tx-tlo": TEXAS, "il-ilga": ILLINOIS,
          "ny-openleg": NEW_YORK, "pa-palegis": PENNSYLVANIA, "legiscan": LEGISCAN}


def without_needles(table: RuleTable, text: str) -> tuple[ActionClass, ...]:
    found: list[ActionClass] = []
    for rule in table.rules:
        if rule.regex.search(text):
            found.extend(rule.classes)
            if rule.stop:
                break
    return vocabulary_order(found)


def words(table: RuleTable) -> list[str]:
    """The literal words of a table's patterns, and its needles whole (so that texts hold
    what a rule looks for, as it looks for it, often)."""
    found = {w for rule in table.rules for w in re.findall(r"[A-Za-z]{2,}", rule.pattern)}
    return sorted(found | {rule.needle for rule in table.rules if rule.needle})


def texts(table: RuleTable) -> st.SearchStrategy[str]:
    # Cases, and the two letters IGNORECASE matches beyond ASCII: long s, Kelvin sign.
    spellings = st.sampled_from([str.upper, str.capitalize, str.lower,
                                 lambda w: w.replace("s", "\u017f").replace("k", "\u212a")])
    word = st.tuples(st.sampled_from(words(table)), spellings).map(lambda pair: pair[1](pair[0]))
    piece = st.one_of(word, st.sampled_from([" ", "  ", ", ", ". ", " (", ") ", "-", "é"]),
                      st.integers(0, 99).map(str))
    return st.lists(piece, max_size=14).map("".join)


@pytest.mark.parametrize("source", TABLES, ids=str)
@given(data=st.data())
def test_needles_never_change_a_classification(source: str, data: st.DataObject) -> None:
    table = TABLES[source]
    text = data.draw(texts(table))
    assert table.classify(text) == without_needles(table, text)


@pytest.mark.parametrize(("pattern", "needle"), [
    (r"\bcloture\b", "cloture"),
    (r"^Passed Senate\b", "passed senate"),
    (r"\bconsidered,? and agreed to\b", "considered"),  # the comma is optional
    (r"^amendment s?a \d+", "amendment "),
    (r"^(?:on )?motion to table", None),  # opens with a group
    (r"\bcs adopted\b|\bcommittee substitute adopted\b", None),  # a top-level alternative
    (r"^(?:a|b)\bx", None),
    (r"\bab\b", None),  # too short to pay its way
])
def test_required_prefix(pattern: str, needle: str | None) -> None:
    assert required_prefix(pattern) == needle
