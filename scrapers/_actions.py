"""The shared rule-table type every source uses to classify action texts.

Classification is written as data (architecture principle 2): an ordered list of
:class:`Rule` values, each a case-insensitive regular expression and the
:class:`~tracker.models.ActionClass` values it stands for. :meth:`RuleTable.classify` tries the
rules in order and collects the classes of every rule that matches, until a rule marked
``stop=True`` matches. A stop rule with no classes says "this text means nothing, whatever
later rules would think" (a cloture vote that mentions passage, a motion to table a veto
message)::

    TABLE = RuleTable([
        Rule(r"\\bcloture\\b", (), stop=True),
        Rule(r"^passed senate\\b", (ActionClass.PASSAGE,)),
    ])
    TABLE.classify("Passed Senate without amendment by Unanimous Consent.")  # (PASSAGE,)

The result holds each class once, in the vocabulary's own order (the order of
:class:`~tracker.models.ActionClass`, which follows a bill's path), so equal texts always
give equal tuples.

Speed: a table is tried on every action of every bill, and a regular expression that opens
with ``\\b`` scans the whole text. So each rule whose pattern opens with plain words
(``\\bheld at the desk\\b``) keeps them as a *needle*: on an ASCII text that does not
contain the needle (case-insensitively), the rule cannot match and its expression is not
run. The result is the same as running every expression.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracker.models import ActionClass

#: Position of each class in the vocabulary, for a stable result order.
_ORDER = {cls: index for index, cls in enumerate(ActionClass)}


def vocabulary_order(classes: Iterable[ActionClass]) -> tuple[ActionClass, ...]:
    """Each class once, in :class:`ActionClass` declaration order."""
    return tuple(sorted(set(classes), key=_ORDER.__getitem__))


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` (searched anywhere, case-insensitive; anchor with ``^``) -> ``classes``.

    ``stop=True`` ends the search once this rule matches, so later rules cannot add classes.
    """

    pattern: str
    classes: tuple[ActionClass, ...]
    stop: bool = field(default=False, kw_only=True)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    needle: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A list or a bare class slipping in here would break the frozen value's equality.
        if not isinstance(self.classes, tuple):
            raise TypeError(f"Rule({self.pattern!r}): classes must be a tuple of ActionClass")
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))
        object.__setattr__(self, "needle", required_prefix(self.pattern))

    def matches(self, text: str, lowered: str | None) -> bool:
        """Whether the rule matches ``text``; ``lowered`` is ``text.lower()`` when ``text`` is
        ASCII (None otherwise: case folding beyond ASCII is left to the expression)."""
        if self.needle is not None and lowered is not None and self.needle not in lowered:
            return False
        return self.regex.search(text) is not None


#: Characters that stand for themselves in a pattern (and are unchanged by ``lower()`` on
#: both sides); anything else ends a needle.
_PLAIN = frozenset(string.ascii_letters + string.digits + " ,'/:;-_\"")
_QUANTIFIERS = frozenset("?*{")


def required_prefix(pattern: str) -> str | None:
    """The plain words a pattern opens with (after ``^`` or ``\\b``), lower-cased: text any
    match must contain. None when there are none, or when the pattern has a top-level ``|``
    (then no single text is required)."""
    if _has_top_level_alternation(pattern):
        return None
    rest = pattern[1:] if pattern.startswith("^") else pattern
    rest = rest[2:] if rest.startswith("\\b") else rest
    needle = []
    for position, char in enumerate(rest):
        if char not in _PLAIN:
            break
        if rest[position + 1 : position + 2] in _QUANTIFIERS:
            break  # this character is optional or repeated: the needle ends before it
        needle.append(char)
    text = "".join(needle).lower()
    return text if len(text) >= 3 else None


def _has_top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


class RuleTable:
    """An ordered list of rules; see the module docstring for how they combine."""

    __slots__ = ("rules",)

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)

    def classify(self, text: str) -> tuple[ActionClass, ...]:
        """The classes of ``text``: every matching rule's, up to the first matching stop rule."""
        found: list[ActionClass] = []
        lowered = text.lower() if text.isascii() else None
        for rule in self.rules:
            # Rule.matches, inlined: this loop runs for every rule of every action text.
            needle = rule.needle
            if needle is not None and lowered is not None and needle not in lowered:
                continue
            if rule.regex.search(text) is not None:
                found.extend(rule.classes)
                if rule.stop:
                    break
        return vocabulary_order(found)

    def __len__(self) -> int:
        return len(self.rules)
