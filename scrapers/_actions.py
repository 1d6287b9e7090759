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
"""

from __future__ import annotations

import re
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

    def __post_init__(self) -> None:
        # A list or a bare class slipping in here would break the frozen value's equality.
        if not isinstance(self.classes, tuple):
            raise TypeError(f"Rule({self.pattern!r}): classes must be a tuple of ActionClass")
        object.__setattr__(self, "regex", re.compile(self.pattern, re.IGNORECASE))


class RuleTable:
    """An ordered list of rules; see the module docstring for how they combine."""

    __slots__ = ("rules",)

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)

    def classify(self, text: str) -> tuple[ActionClass, ...]:
        """The classes of ``text``: every matching rule's, up to the first matching stop rule."""
        found: list[ActionClass] = []
        for rule in self.rules:
            if rule.regex.search(text):
                found.extend(rule.classes)
                if rule.stop:
                    break
        return vocabulary_order(found)

    def __len__(self) -> int:
        return len(self.rules)
