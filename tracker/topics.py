"""Topics: the affiliates' issues, and the pure matcher that says which bills concern them, and why.

A :class:`Topic` (configured in ``topics.toml``, read by :mod:`tracker.topic_config`) is a
set of :class:`Term` phrases searched in some fields of a bill (``title``, ``summary``,
``subjects``, ``actions``). :func:`match` returns one :class:`TopicMatch` per matching topic,
holding every term that made the match and the field it was found in: the explanation shown
to analysts and subscribers ("you are seeing this because ...").

Phrase syntax (one phrase is one or more words):

* case-insensitive and whole words only: ``hate crime`` does not match "whatever crime";
* words may be separated by any white space or hyphens (``driver license`` also matches
  "driver-license"), and a hyphen in the phrase also allows none (``anti-hate``, "antihate");
* apostrophes (straight or curly) and dots are optional, and every word also matches its
  simple plural and possessive: ``driver's license`` matches "drivers license", "driver
  licenses", "drivers' licenses"; ``U.S.`` matches "US". Write words in the singular;
  irregular forms go in a term's ``variants``;
* a trailing ``*`` matches any word ending: ``deport*`` matches "deported", "deportation".

Matching rules, per topic and bill:

1. A topic with ``jurisdictions`` only applies to bills of those jurisdictions.
2. A term is found when its phrase or one of its variants occurs in one of the topic's fields.
3. A found term is vetoed when one of the term's ``excludes`` occurs in those fields; the
   whole topic is vetoed when one of the topic's ``excludes`` does.
4. Where a phrase alone is ambiguous, co-terms (``requires``, on the term, on the topic, or
   both) confirm it: at least one co-term of each list must occur in the topic's fields.
   Co-terms that confirmed a match are part of its explanation.
5. A bill matches a topic when at least one term is found, not vetoed and confirmed.

:meth:`TopicMatcher.verdicts` also reports near misses (terms found but vetoed or not
confirmed) so an analyst can see why a bill was left out (``tracker topics test``).

Cost: the topic set is compiled once (:class:`TopicMatcher`): each distinct phrase becomes one
regular expression over case-folded text plus an *anchor*, its longest fixed word. A bill's
fields are case-folded and split into words once; a topic none of whose anchors begins one
of those words is passed over without running any expression, and each search that does run
is shared by every topic that uses the phrase.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from tracker.digest import MatchedTerm
from tracker.errors import ConfigError
from tracker.models import Bill


class Field(StrEnum):
    """The parts of a bill a topic can search."""

    TITLE = "title"
    SUMMARY = "summary"
    SUBJECTS = "subjects"
    ACTIONS = "actions"


#: Fields searched when a topic does not say; action texts are procedural and rarely worth it.
DEFAULT_FIELDS: tuple[Field, ...] = (Field.TITLE, Field.SUMMARY, Field.SUBJECTS)

#: How the explanation is ordered: where a reader looks first.
_FIELD_ORDER = {f: i for i, f in enumerate(Field)}


@dataclass(frozen=True, slots=True)
class TopicNames:
    """A topic's name in each language a digest is written in."""

    en: str
    ko: str
    es: str

    def in_language(self, language: str) -> str:
        """The name in ``language`` (``en``, ``ko``, ``es``); English for any other."""
        return {"en": self.en, "ko": self.ko, "es": self.es}.get(language, self.en)


@dataclass(frozen=True, slots=True)
class Term:
    """One phrase (with variants) that signals a topic, and its own co-terms and vetoes."""

    phrase: str
    variants: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.phrase, *self.variants)


@dataclass(frozen=True, slots=True)
class Topic:
    """One of the affiliates' issues. ``jurisdictions`` empty means every jurisdiction."""

    id: str
    names: TopicNames
    description: str
    terms: tuple[Term, ...]
    requires: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    fields: tuple[Field, ...] = DEFAULT_FIELDS
    jurisdictions: tuple[str, ...] = ()

    def applies_to(self, jurisdiction: str) -> bool:
        return not self.jurisdictions or jurisdiction in self.jurisdictions


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A bill matches ``topic`` because of ``matched``: each term (or co-term) with its field."""

    topic: str
    matched: tuple[MatchedTerm, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything one topic found in one bill, near misses included.

    ``matched`` is the explanation of a match (empty when the bill does not match);
    ``unconfirmed`` holds terms found without any of their co-terms; ``excluded_by`` holds the
    exclusion phrases that vetoed a term or the whole topic.
    """

    topic: str
    matched: tuple[MatchedTerm, ...] = ()
    unconfirmed: tuple[MatchedTerm, ...] = ()
    excluded_by: tuple[MatchedTerm, ...] = ()

    @property
    def is_match(self) -> bool:
        return bool(self.matched)

    @property
    def is_near_miss(self) -> bool:
        return not self.matched and bool(self.unconfirmed or self.excluded_by)


def find_topic(topics: Iterable[Topic], topic_id: str) -> Topic:
    """The topic with this id; a :class:`ConfigError` listing the configured ids otherwise."""
    known = []
    for topic in topics:
        if topic.id == topic_id:
            return topic
        known.append(topic.id)
    raise unknown_topic(topic_id, known=known)


def unknown_topic(topic_id: str, *, known: Iterable[str]) -> ConfigError:
    """The one-line refusal of a topic id that is not configured, listing those that are."""
    listed = ", ".join(sorted(known)) or "none are configured"
    return ConfigError(f"unknown topic {topic_id!r} (topics.toml has: {listed})")


# --- phrases ------------------------------------------------------------------------------------

_APOSTROPHES = "'\u2019\u02bc`"
_SEPARATOR = r"(?:\s|[-\u2010\u2011\u2012\u2013\u2014])"
_WORD_SPLIT = re.compile(r"(\s+|-)")
_ALLOWED = re.compile(r"^[\w\s'\u2019\u02bc`.,&()/*-]+$")
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}]s?$")
_CONSONANT_Y = re.compile(r"[^aeiou]y$", re.IGNORECASE)
_SIBILANT = re.compile(r"(?:s|x|z|ch|sh)$", re.IGNORECASE)


def _literal(text: str) -> str:
    """Escape ``text`` for a pattern, with its dots and apostrophes made optional."""
    parts = []
    for char in text:
        if char == ".":
            parts.append(r"\.?")
        elif char in _APOSTROPHES:
            parts.append(f"[{_APOSTROPHES}]?")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def _word(word: str) -> tuple[str, str]:
    """The pattern of one phrase word, and its fixed part (what every match contains)."""
    if word.endswith("*"):
        stem = word[:-1]
        if not stem or "*" in stem:
            raise ValueError(f"{word!r}: '*' may only end a word, after at least one letter")
        return _literal(stem) + r"\w*", stem
    if "*" in word:
        raise ValueError(f"{word!r}: '*' may only end a word")
    base = _POSSESSIVE.sub("", word) or word
    if not base[-1].isalnum():
        return _literal(base), base
    if _CONSONANT_Y.search(base):
        plural = _literal(base[:-1]) + "(?:y|ies)"
        fixed = base[:-1]
    elif _SIBILANT.search(base):
        plural, fixed = _literal(base) + "(?:es)?", base
    else:
        plural, fixed = _literal(base) + "s?", base
    return plural + f"(?:[{_APOSTROPHES}]s?)?", fixed


def normalize_phrase(phrase: str) -> str:
    """The phrase with its white space collapsed; ValueError, naming it, when it is not one."""
    text = " ".join(phrase.split())
    if not text:
        raise ValueError("a phrase cannot be empty")
    if not _ALLOWED.match(text):
        raise ValueError(
            f"{phrase!r} is not a phrase: use words, spaces, hyphens, apostrophes, dots, commas, "
            "'&', '/', parentheses and a trailing '*'"
        )
    if not any(char.isalnum() for char in text):
        raise ValueError(f"{phrase!r} is not a phrase: it has no letters or digits")
    _phrase_parts(text)  # raises for a misplaced '*' or hyphen
    return text


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str
    regex: re.Pattern[str]
    anchor: str | None


def _phrase_parts(phrase: str) -> tuple[str, str | None]:
    """The phrase's pattern, to search case-folded text with, and its anchor: the longest
    plain word that every match has at the start of a word (``None`` when none is certain)."""
    text = phrase.casefold()
    pieces = [p for p in _WORD_SPLIT.split(text) if p]
    if pieces[0] == "-" or pieces[-1] == "-":
        raise ValueError(f"{text!r}: a hyphen must join two words")
    pattern = []
    anchor: str | None = None
    after_hyphen = False
    for piece in pieces:
        if piece == "-":
            pattern.append(f"{_SEPARATOR}*")
            after_hyphen = True
            continue
        if piece.isspace():
            pattern.append(f"{_SEPARATOR}+")
            after_hyphen = False
            continue
        word_pattern, fixed = _word(piece)
        pattern.append(word_pattern)
        folded = fixed
        # Dots and apostrophes are optional, so a word holding one may be spelt otherwise in
        # the text; a word after a hyphen may be glued to the one before it ("antihate").
        plain = folded.isalnum() and not after_hyphen
        if plain and (anchor is None or len(folded) > len(anchor)):
            anchor = folded
    body = "".join(pattern) + r"(?!\w)"
    if text[0].isalnum():
        # Whole words: no word character may precede. The check follows the first letter so
        # that the pattern opens with a literal, which the engine can skip ahead to.
        body = body[0] + r"(?<!\w.)" + body[1:]
    return body, anchor


# --- the matcher --------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_PREFIX = 3
_WORD_MEMO = 200_000  # distinct words remembered; bill language has far fewer


class _AnchorIndex:
    """Which phrases can occur in a text: those whose anchor begins one of the text's words.

    What each word lets through is worked out once and remembered (a bounded memo: bill
    texts share most of their words), so a text costs one look-up per distinct word however
    many phrases there are; only the phrases let through are searched with their expression.
    """

    def __init__(self, anchors: Sequence[str | None]) -> None:
        self._by_prefix: dict[str, list[tuple[str, int]]] = {}
        self._short: list[tuple[str, int]] = []
        always = []
        for phrase_id, anchor in enumerate(anchors):
            if anchor is None:
                always.append(phrase_id)
            elif len(anchor) < _PREFIX:
                self._short.append((anchor, phrase_id))
            else:
                self._by_prefix.setdefault(anchor[:_PREFIX], []).append((anchor, phrase_id))
        self._always = frozenset(always)
        self._words: dict[str, frozenset[int]] = {}

    def _phrases_of(self, word: str) -> frozenset[int]:
        found = self._words.get(word)
        if found is None:
            found = frozenset(
                phrase_id
                for anchor, phrase_id in (*self._by_prefix.get(word[:_PREFIX], ()), *self._short)
                if word.startswith(anchor)
            )
            if len(self._words) < _WORD_MEMO:
                self._words[word] = found
        return found

    def candidates(self, folded: str) -> set[int]:
        found = set(self._always)
        for word in set(_TOKEN.findall(folded)):
            phrases = self._phrases_of(word)
            if phrases:
                found |= phrases
        return found


@dataclass(frozen=True, slots=True)
class _TermPlan:
    phrases: tuple[int, ...]
    requires: tuple[int, ...]
    excludes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _TopicPlan:
    topic: Topic
    terms: tuple[_TermPlan, ...]
    requires: tuple[int, ...]
    excludes: tuple[int, ...]
    term_phrases: frozenset[int]


def _field_text(bill: Bill, where: Field) -> str:
    if where is Field.TITLE:
        return bill.title
    if where is Field.SUMMARY:
        return bill.summary
    # Joined with a separator no phrase can span: a phrase never runs across two entries.
    if where is Field.SUBJECTS:
        return " | ".join(bill.subjects)
    return " | ".join(action.description for action in bill.actions)


class _Scan:
    """One bill's fields, each read once, with every phrase search remembered across topics."""

    __slots__ = ("_bill", "_candidates", "_index", "_phrases", "_searched", "_texts")

    def __init__(self, bill: Bill, phrases: Sequence[_Phrase], index: _AnchorIndex) -> None:
        self._bill = bill
        self._phrases = phrases
        self._index = index
        self._texts: dict[Field, str] = {}  # case-folded
        self._candidates: dict[Field, set[int]] = {}
        self._searched: dict[tuple[int, Field], bool] = {}

    def candidates(self, where: Field) -> set[int]:
        """The phrases that may occur in the field (the anchor test; no expression is run)."""
        found = self._candidates.get(where)
        if found is None:
            folded = self._texts[where] = _field_text(self._bill, where).casefold()
            found = self._candidates[where] = self._index.candidates(folded)
        return found

    def hits(self, phrase_ids: Sequence[int], fields: Sequence[Field]) -> list[MatchedTerm]:
        """Each (phrase, field) where the phrase occurs, by field and then in phrase order."""
        found = []
        for where in fields:
            candidates = self.candidates(where)
            for phrase_id in phrase_ids:
                if phrase_id in candidates and self._search(phrase_id, where):
                    found.append(MatchedTerm(self._phrases[phrase_id].text, where.value))
        return found

    def _search(self, phrase_id: int, where: Field) -> bool:
        key = (phrase_id, where)
        result = self._searched.get(key)
        if result is None:
            regex = self._phrases[phrase_id].regex
            result = self._searched[key] = regex.search(self._texts[where]) is not None
        return result


def _explanation(terms: Iterable[MatchedTerm]) -> tuple[MatchedTerm, ...]:
    """Each (term, field) once, by field (title first) and then in the order found."""
    unique = list(dict.fromkeys(terms))
    return tuple(sorted(unique, key=lambda t: _FIELD_ORDER[Field(t.field)]))


class TopicMatcher:
    """A topic set compiled once; :meth:`match` a bill as often as needed (it is pure).

    ValueError names the topic or phrase when the set cannot be compiled (duplicate ids, a
    topic without terms, a malformed phrase); ``topics.toml`` is checked with it on reading.
    """

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        ids = [t.id for t in self.topics]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"topic ids must be unique: {', '.join(duplicated)}")
        self._phrases: list[_Phrase] = []
        self._phrase_index: dict[str, int] = {}
        self._plans = tuple(self._plan(topic) for topic in self.topics)
        self._by_id = {plan.topic.id: plan for plan in self._plans}
        self._anchors = _AnchorIndex([phrase.anchor for phrase in self._phrases])

    def _phrase_ids(self, phrases: Iterable[str]) -> tuple[int, ...]:
        ids: list[int] = []
        for phrase in phrases:
            text = normalize_phrase(phrase)
            phrase_id = self._phrase_index.get(text)
            if phrase_id is None:
                pattern, anchor = _phrase_parts(text)
                phrase_id = self._phrase_index[text] = len(self._phrases)
                self._phrases.append(_Phrase(text, re.compile(pattern), anchor))
            if phrase_id not in ids:
                ids.append(phrase_id)
        return tuple(ids)

    def _plan(self, topic: Topic) -> _TopicPlan:
        if not topic.terms:
            raise ValueError(f"topic {topic.id!r} has no terms")
        terms = tuple(
            _TermPlan(
                phrases=self._phrase_ids(term.phrases),
                requires=self._phrase_ids(term.requires),
                excludes=self._phrase_ids(term.excludes),
            )
            for term in topic.terms
        )
        return _TopicPlan(
            topic=topic,
            terms=terms,
            requires=self._phrase_ids(topic.requires),
            excludes=self._phrase_ids(topic.excludes),
            term_phrases=frozenset(p for term in terms for p in term.phrases),
        )

    @property
    def phrase_count(self) -> int:
        """How many distinct phrases the set compiled to (terms, variants, co-terms, vetoes)."""
        return len(self._phrases)

    def match(self, bill: Bill) -> list[TopicMatch]:
        """Every topic ``bill`` matches, in the topic set's order, with the explanation."""
        scan = _Scan(bill, self._phrases, self._anchors)
        matches = []
        for plan in self._plans:
            if plan.topic.applies_to(bill.key.jurisdiction):
                verdict = self._verdict(plan, scan)
                if verdict.matched:
                    matches.append(TopicMatch(plan.topic.id, verdict.matched))
        return matches

    def verdicts(self, bill: Bill, *, topic_ids: Iterable[str] | None = None) -> list[Verdict]:
        """Each topic's verdict on ``bill`` (every topic, or those named), near misses included.

        A topic that does not apply to the bill's jurisdiction gives an empty verdict; an
        unknown topic id is a :class:`ConfigError` naming the known ones.
        """
        plans = self._plans if topic_ids is None else [self._plan_of(i) for i in topic_ids]
        scan = _Scan(bill, self._phrases, self._anchors)
        return [
            self._verdict(plan, scan)
            if plan.topic.applies_to(bill.key.jurisdiction)
            else Verdict(plan.topic.id)
            for plan in plans
        ]

    def _plan_of(self, topic_id: str) -> _TopicPlan:
        plan = self._by_id.get(topic_id)
        if plan is None:
            raise unknown_topic(topic_id, known=self._by_id)
        return plan

    def _verdict(self, plan: _TopicPlan, scan: _Scan) -> Verdict:
        fields = plan.topic.fields
        # Most bills mention no term of a topic: the anchor test alone turns them away, and
        # no expression, co-term or veto is searched for them.
        if all(plan.term_phrases.isdisjoint(scan.candidates(where)) for where in fields):
            return Verdict(plan.topic.id)
        found = [(term, scan.hits(term.phrases, fields)) for term in plan.terms]
        found = [(term, hits) for term, hits in found if hits]
        if not found:
            return Verdict(plan.topic.id)
        vetoes = scan.hits(plan.excludes, fields)
        if vetoes:
            return Verdict(plan.topic.id, excluded_by=_explanation(vetoes))
        topic_confirmation = scan.hits(plan.requires, fields)
        if plan.requires and not topic_confirmation:
            return Verdict(
                plan.topic.id, unconfirmed=_explanation(hit for _, hits in found for hit in hits)
            )
        matched: list[MatchedTerm] = []
        unconfirmed: list[MatchedTerm] = []
        excluded: list[MatchedTerm] = []
        for term, hits in found:
            term_vetoes = scan.hits(term.excludes, fields)
            if term_vetoes:
                excluded += term_vetoes
                continue
            confirmation = scan.hits(term.requires, fields)
            if term.requires and not confirmation:
                unconfirmed += hits
                continue
            matched += hits + confirmation
        if matched:
            return Verdict(plan.topic.id, matched=_explanation(matched + topic_confirmation))
        return Verdict(
            plan.topic.id,
            unconfirmed=_explanation(unconfirmed),
            excluded_by=_explanation(excluded),
        )


@lru_cache(maxsize=8)
def _cached_matcher(topics: tuple[Topic, ...]) -> TopicMatcher:
    return TopicMatcher(topics)


def match(bill: Bill, topics: Sequence[Topic] | TopicMatcher) -> list[TopicMatch]:
    """Every topic of ``topics`` that ``bill`` matches, each with the terms and fields that made it.

    A plain sequence of topics is compiled on first use and the compiled set kept for the next
    call with equal topics; a caller matching many bills can hold a :class:`TopicMatcher`.
    """
    matcher = topics if isinstance(topics, TopicMatcher) else _cached_matcher(tuple(topics))
    return matcher.match(bill)
