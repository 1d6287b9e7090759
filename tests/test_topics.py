"""The topic matcher as tables: phrase syntax (word boundaries, variants), co-terms,
exclusions, fields, jurisdictions and the explanation; plus a property check of the fast
path (anchors) against a plain reading of the phrase rules."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import bill as make_bill
from tracker.digest import MatchedTerm
from tracker.errors import ConfigError
from tracker.models import Action, Bill, Chamber
from tracker.topics import (
    Field,
    Term,
    Topic,
    TopicMatch,
    TopicMatcher,
    TopicNames,
    find_topic,
    match,
    normalize_phrase,
)

NAMES = TopicNames(en="Test", ko="시험", es="Prueba")


def topic(
    *terms: Term | str,
    topic_id: str = "t",
    requires: tuple[str, ...] = (),
    excludes: tuple[str, ...] = (),
    fields: tuple[Field, ...] = (Field.TITLE, Field.SUMMARY, Field.SUBJECTS),
    jurisdictions: tuple[str, ...] = (),
) -> Topic:
    return Topic(
        id=topic_id, names=NAMES, description="a test topic",
        terms=tuple(t if isinstance(t, Term) else Term(t) for t in terms),
        requires=requires, excludes=excludes, fields=fields, jurisdictions=jurisdictions,
    )


def bill(
    title: str = "A bill", *, summary: str = "", subjects: tuple[str, ...] = (),
    actions: tuple[str, ...] = (), jurisdiction: str = "va",
) -> Bill:
    base = make_bill("HB 1", title=title, jurisdiction=jurisdiction)
    return replace(
        base, summary=summary, subjects=subjects,
        actions=tuple(
            Action(uid=str(i), date=date(2020, 1, 8), actor=Chamber.LOWER, description=text)
            for i, text in enumerate(actions)
        ),
    )


def matched(result: list[TopicMatch]) -> list[tuple[str, str]]:
    return [(m.term, m.field) for topic_match in result for m in topic_match.matched]


# --- phrases: whole words, separators, apostrophes, plurals, wildcards ---------------------

@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("hate crime", "Hate crimes; reporting to State Police.", True),
        ("hate crime", "the court may punish whatever crime it finds", False),
        ("hate crime", "hate-crime statute", True),
        ("hate crime", "hatecrime", False),
        ("hate crime", "HATE\n   CRIMES", True),
        ("hate crime", "hate \u2013 crime", True),
        ("hate crime", "hate crimeless", False),
        ("driver's license", "Driver's license; suspension", True),
        ("driver's license", "a drivers license", True),
        ("driver's license", "issue a driver license", True),
        ("driver's license", "Drivers\u2019 Licenses", True),
        ("driver's license", "driver-license", True),
        ("driver's license", "the driver licensee", False),
        ("driver's license", "driverslicense", False),
        ("driver privilege card", "Driver privilege cards; penalty.", True),
        ("inquiry", "inquiries into status", True),
        ("immigration status", "immigration statuses", True),
        ("deport*", "Deported veterans", True),
        ("deport*", "subject to deportation", True),
        ("deport*", "nondeportable", False),
        ("U.S. citizen", "a US citizen", True),
        ("U.S. citizen", "a U.S. citizen", True),
        ("U.S. citizen", "a USA citizen", False),
        ("anti-hate", "antihate instruction", True),
        ("anti-hate", "anti hate instruction", True),
        ("Asian American", "asian-american students", True),
        ("K-12", "grades K-12", True),
        ("K-12", "grades K12", True),
        ("K-12", "K-120 form", False),
        ("287(g)", "a 287(g) agreement", True),
        ("287(g)", "1287(g)", False),
        ("racial, religious, or ethnic animosity", "racial, religious, or ethnic animosity", True),
    ],
)
def test_phrase_syntax(phrase: str, text: str, found: bool) -> None:
    result = match(bill(title=text), [topic(phrase)])
    assert bool(result) is found, (phrase, text)


@pytest.mark.parametrize(
    "phrase",
    ["", "   ", "a**", "*a", "de*port", "-x", "x -", "x; y", "x|y", "[a]", "???", "a+b"],
)
def test_bad_phrases_are_refused(phrase: str) -> None:
    with pytest.raises(ValueError, match=r"phrase|word|hyphen|'\*'"):
        normalize_phrase(phrase)


def test_variants_match_and_explain_which_one_hit() -> None:
    cards = topic(Term("driver privilege card", variants=("driving privilege card",)))
    result = match(bill("Driving privilege cards; issuance"), [cards])
    assert matched(result) == [("driving privilege card", "title")]


def test_a_phrase_never_spans_two_subjects_or_two_actions() -> None:
    crimes = topic("hate crime", fields=(Field.SUBJECTS, Field.ACTIONS))
    split = bill(subjects=("Hate", "Crimes"), actions=("Hate", "crime"))
    assert match(split, [crimes]) == []
    whole = bill(subjects=("Courts", "Hate Crimes"))
    assert matched(match(whole, [crimes])) == [("hate crime", "subjects")]


# --- co-terms ----------------------------------------------------------------------------------

LICENSES = topic(
    Term("driver privilege card"),
    Term("driver's license", requires=("lawful presence", "legal presence")),
)


@pytest.mark.parametrize(
    ("title", "summary", "explanation"),
    [
        # a term without co-terms needs nothing else
        ("Driver privilege cards; penalty.", "", [("driver privilege card", "title")]),
        # an ambiguous term needs one of its co-terms, found in any searched field
        ("Driver's license; issuance.", "Removes the legal presence requirement.",
         [("driver's license", "title"), ("legal presence", "summary")]),
        ("Driver's license; suspension for nonpayment of fines or costs.", "", []),
        # co-terms alone are no match
        ("Lawful presence; verification.", "", []),
    ],
)
def test_term_co_terms(title: str, summary: str, explanation: list[tuple[str, str]]) -> None:
    assert matched(match(bill(title, summary=summary), [LICENSES])) == explanation


def test_topic_co_terms_apply_to_every_term_and_combine_with_the_terms_own() -> None:
    history = topic(
        Term("Asian American history"),
        Term("Asian American", requires=("history", "heritage")),
        requires=("curriculum", "instruction"),
    )
    cases = {
        "Asian American history; curriculum.": [
            ("Asian American history", "title"), ("Asian American", "title"),
            ("history", "title"), ("curriculum", "title"),
        ],
        "Asian American history month.": [],  # no school context: the topic's co-term
        "Asian American curriculum; advisory board.": [],  # no history: the term's co-term
        "Asian American heritage; instruction in public schools.": [
            ("Asian American", "title"), ("heritage", "title"), ("instruction", "title"),
        ],
    }
    for title, explanation in cases.items():
        assert matched(match(bill(title), [history])) == explanation, title


# --- exclusions --------------------------------------------------------------------------------

def test_a_term_veto_leaves_the_other_terms_alone() -> None:
    licenses = topic(
        Term("driver privilege card"),
        Term("driver's license", requires=("legal presence",), excludes=("unpaid fines",)),
    )
    both = bill("Driver privilege cards; driver's license suspension for unpaid fines.",
                summary="No proof of legal presence is required.")
    assert matched(match(both, [licenses])) == [("driver privilege card", "title")]
    only_vetoed = bill("Driver's license; suspension for unpaid fines.",
                       summary="legal presence")
    assert match(only_vetoed, [licenses]) == []
    [verdict] = TopicMatcher([licenses]).verdicts(only_vetoed)
    assert verdict.is_near_miss
    assert verdict.excluded_by == (MatchedTerm("unpaid fines", "title"),)


def test_a_topic_veto_vetoes_every_term() -> None:
    enforcement = topic("detainer", "immigration detainer", excludes=("unlawful detainer",))
    assert match(bill("Unlawful detainer; expungement."), [enforcement]) == []
    assert match(bill("Immigration detainer; unlawful detainer."), [enforcement]) == []
    assert matched(match(bill("Immigration detainers; jails."), [enforcement])) == [
        ("detainer", "title"), ("immigration detainer", "title"),
    ]


def test_near_misses_say_why() -> None:
    matcher = TopicMatcher([LICENSES])
    [plain] = matcher.verdicts(bill("Firearms; penalty."))
    assert not plain.is_match and not plain.is_near_miss
    [unconfirmed] = matcher.verdicts(bill("Driver's license; scanning information."))
    assert unconfirmed.unconfirmed == (MatchedTerm("driver's license", "title"),)
    assert unconfirmed.is_near_miss and not unconfirmed.is_match


# --- fields and jurisdictions ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ((Field.TITLE,), [("hate crime", "title")]),
        ((Field.SUMMARY,), [("hate crime", "summary")]),
        ((Field.SUBJECTS,), [("hate crime", "subjects")]),
        ((Field.ACTIONS,), [("hate crime", "actions")]),
        ((Field.ACTIONS, Field.TITLE), [("hate crime", "title"), ("hate crime", "actions")]),
    ],
)
def test_only_the_topics_fields_are_searched(
    fields: tuple[Field, ...], expected: list[tuple[str, str]]
) -> None:
    everywhere = bill("Hate crimes; penalty.", summary="Adds hate crimes.",
                      subjects=("Hate Crimes",),
                      actions=("Committee substitute: hate crime reporting",))
    assert matched(match(everywhere, [topic("hate crime", fields=fields)])) == expected


def test_action_text_is_not_searched_by_default() -> None:
    in_actions_only = bill("Shell bill", actions=("Amendment: hate crime penalties",))
    assert match(in_actions_only, [topic("hate crime")]) == []


def test_jurisdictions_limit_a_topic() -> None:
    new_york_only = topic("hate crime", jurisdictions=("ny",))
    assert match(bill("Hate crimes", jurisdiction="va"), [new_york_only]) == []
    assert match(bill("Hate crimes", jurisdiction="ny"), [new_york_only]) == [
        TopicMatch("t", (MatchedTerm("hate crime", "title"),))
    ]
    assert TopicMatcher([new_york_only]).verdicts(bill("Hate crimes"))[0].matched == ()


# --- the explanation and the topic set ---------------------------------------------------------

def test_explanation_lists_each_term_once_per_field_title_first() -> None:
    crimes = topic(Term("hate crime", variants=("bias crime",)), "hate incident")
    found = bill("Bias crimes; hate incidents.",
                 summary="Defines hate crime and bias crime; hate crime again.",
                 subjects=("Hate Crimes",))
    assert matched(match(found, [crimes])) == [
        ("bias crime", "title"), ("hate incident", "title"),
        ("hate crime", "summary"), ("bias crime", "summary"),
        ("hate crime", "subjects"),
    ]


def test_every_matching_topic_in_set_order() -> None:
    topics = [topic("driver privilege card", topic_id="licenses"),
              topic("immigration status", topic_id="enforcement"),
              topic("hate crime", topic_id="crimes")]
    found = bill("Hate crimes; inquiry into immigration status.")
    assert [m.topic for m in match(found, topics)] == ["enforcement", "crimes"]
    assert match(found, topics) == TopicMatcher(topics).match(found)


def test_a_topic_set_is_checked_when_compiled() -> None:
    with pytest.raises(ValueError, match="unique: t"):
        TopicMatcher([topic("a"), topic("b")])
    with pytest.raises(ValueError, match="'t' has no terms"):
        TopicMatcher([replace(topic("a"), terms=())])


def test_unknown_topics_are_refused_naming_the_known_ones() -> None:
    topics = [topic("a", topic_id="hate-crimes"), topic("b", topic_id="drivers-licenses")]
    assert find_topic(topics, "hate-crimes").id == "hate-crimes"
    with pytest.raises(ConfigError, match=r"'hate' \(topics.toml has: drivers-licenses, "
                                          r"hate-crimes\)"):
        find_topic(topics, "hate")
    with pytest.raises(ConfigError, match="hate"):
        TopicMatcher(topics).verdicts(bill(), topic_ids=["hate"])


def test_names_per_language() -> None:
    names = TopicNames(en="Hate crimes", ko="증오 범죄", es="Delitos de odio")
    assert [names.in_language(lang) for lang in ("en", "ko", "es", "zh")] == [
        "Hate crimes", "증오 범죄", "Delitos de odio", "Hate crimes"]


# --- the fast path agrees with the rules -------------------------------------------------------
#
# Texts and phrases drawn from a small vocabulary, with random case, separators and plural or
# possessive endings. The oracle reads the rules plainly: split the text into words, strip a
# possessive and one plural "s", compare word sequences. It knows nothing of anchors.

VOCABULARY = ["hate", "crime", "driver", "license", "card", "immigration", "presence", "bill",
              "inquiry", "privilege"]
ENDINGS = ["", "s", "'s", "s'"]
SEPARATORS = [" ", "  ", "-", "\n", " - ", "; ", ", ", "/"]


def _words(chunk: str) -> list[str]:
    words = []
    for raw in re.split(r"[^a-z']+", chunk.lower()):
        word = raw.removesuffix("'s").removesuffix("'")
        if word.endswith("ies"):
            word = word[:-3] + "y"
        elif word.endswith("s"):
            word = word[:-1]
        if word:
            words.append(word)
    return words


def _oracle(phrase: list[str], text: str) -> bool:
    # A phrase spans white space and hyphens only: never a semicolon, comma or slash.
    for chunk in re.split(r"[;,/]", text):
        words = _words(chunk)
        if any(words[i:i + len(phrase)] == phrase for i in range(len(words))):
            return True
    return False


@st.composite
def _text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        word = draw(st.sampled_from(VOCABULARY))
        ending = draw(st.sampled_from(ENDINGS))
        if word.endswith("y") and ending.startswith("s"):
            word, ending = word[:-1], "ie" + ending
        if draw(st.booleans()):
            word = word.upper() if draw(st.booleans()) else word.capitalize()
        parts.append(word + ending)
        parts.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(parts[:-1])


@settings(max_examples=300, deadline=None)
@given(phrase=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3), text=_text())
def test_matching_agrees_with_a_plain_reading_of_the_rules(phrase: list[str], text: str) -> None:
    found = bool(match(bill(title=text), [topic(" ".join(phrase))]))
    assert found == _oracle(phrase, text), (phrase, text)
