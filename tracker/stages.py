"""A bill's stage, derived from its classified actions (never scraped as a string). Pure.

:func:`derive_stage` folds over the actions oldest first, applying each action's classes in
vocabulary order. The rules, in terms of :class:`~tracker.models.ActionClass`:

* Any action at all makes a bill ``introduced`` (a bill with no actions is ``introduced`` too:
  it exists upstream).
* ``referral-committee`` moves ``introduced`` to ``in-committee``, and nothing else: a referral
  in the second chamber keeps ``passed-origin``.
* ``committee-passage`` (and ``-favorable`` / ``-unfavorable``) -> ``reported`` when the bill
  has not yet climbed that far.
* ``passage`` counts the distinct chambers that passed the bill (``lower``, ``upper``; an actor
  of ``legislature`` counts as both; ``unknown`` or ``executive`` count as one chamber only
  when no known chamber passed it). One chamber -> ``passed-origin``, two -> ``passed-both``.
  A simple ``resolution`` is ``adopted`` by its first passage; a ``concurrent resolution`` or
  ``constitutional amendment`` is ``adopted`` when both chambers passed it. Conference
  reports arrive as ``passage`` and, both chambers having passed already, change nothing.
* ``executive-receipt`` -> ``to-executive``; ``executive-signature`` or ``became-law`` ->
  ``enacted``; ``executive-veto`` -> ``vetoed``; ``veto-override-passage`` in two distinct
  chambers (or by the ``legislature``) -> ``enacted``. A vetoed bill moves only to
  ``enacted`` (override, or a later "became law"); other actions leave it ``vetoed``.
* ``failure`` (a floor vote) and ``committee-failure`` -> ``failed``; ``withdrawal`` ->
  ``withdrawn``. The fold is sequential, so later progress revives such a bill: a failed
  suspension vote in the US House followed by passage ends ``passed-origin``. Reviving
  returns to the highest ladder stage reached, or the new one if higher.
* ``enacted`` and ``adopted`` are final. Otherwise the ladder never goes backwards, and every
  other class (cloture, amendments, readings, receipt, hearings...) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from tracker.models import LADDER, ActionClass, BillType, Chamber, Stage

_RANK = {stage: rank for rank, stage in enumerate(LADDER)}
_ORDER = {cls: index for index, cls in enumerate(ActionClass)}
_FINAL = frozenset({Stage.ENACTED, Stage.ADOPTED})
_COMMITTEE_PASSAGE = frozenset({
    ActionClass.COMMITTEE_PASSAGE,
    ActionClass.COMMITTEE_PASSAGE_FAVORABLE,
    ActionClass.COMMITTEE_PASSAGE_UNFAVORABLE,
})  # fmt: skip
_CHAMBERS = {
    Chamber.LOWER: frozenset({Chamber.LOWER}),
    Chamber.UPPER: frozenset({Chamber.UPPER}),
    Chamber.LEGISLATURE: frozenset({Chamber.LOWER, Chamber.UPPER}),
}
_ADOPTED_BY_BOTH = frozenset({BillType.CONCURRENT_RESOLUTION, BillType.CONSTITUTIONAL_AMENDMENT})


class HasClassification(Protocol):
    """What the fold reads of an action (``Action`` and ``ActionRecord`` both qualify)."""

    @property
    def classification(self) -> tuple[ActionClass, ...]: ...

    @property
    def actor(self) -> Chamber: ...


@dataclass(frozen=True, slots=True)
class _Fold:
    stage: Stage = Stage.INTRODUCED
    best: Stage = Stage.INTRODUCED  # the highest ladder stage reached, for revivals
    passed: frozenset[Chamber] = frozenset()
    overridden: frozenset[Chamber] = frozenset()


def derive_stage(actions: Iterable[HasClassification], *, bill_type: BillType) -> Stage:
    """The stage after ``actions`` (given oldest first); the rules are in the module docstring."""
    fold = _Fold()
    for action in actions:
        for cls in sorted(set(action.classification), key=_ORDER.__getitem__):
            fold = _step(fold, cls, actor=action.actor, bill_type=bill_type)
    return fold.stage


def _step(fold: _Fold, cls: ActionClass, *, actor: Chamber, bill_type: BillType) -> _Fold:
    if fold.stage in _FINAL:
        return fold
    if cls is ActionClass.REFERRAL_COMMITTEE:
        return _climb(fold, Stage.IN_COMMITTEE) if fold.stage is Stage.INTRODUCED else fold
    if cls in _COMMITTEE_PASSAGE:
        return _climb(fold, Stage.REPORTED)
    if cls is ActionClass.PASSAGE:
        return _passage(fold, actor=actor, bill_type=bill_type)
    if cls is ActionClass.EXECUTIVE_RECEIPT:
        return _climb(fold, Stage.TO_EXECUTIVE)
    if cls in (ActionClass.EXECUTIVE_SIGNATURE, ActionClass.BECAME_LAW):
        return replace(fold, stage=Stage.ENACTED, best=Stage.ENACTED)
    if cls is ActionClass.EXECUTIVE_VETO:
        return replace(fold, stage=Stage.VETOED)
    if cls is ActionClass.VETO_OVERRIDE_PASSAGE:
        return _override(fold, actor=actor)
    if cls in (ActionClass.FAILURE, ActionClass.COMMITTEE_FAILURE):
        return _side(fold, Stage.FAILED)
    if cls is ActionClass.WITHDRAWAL:
        return _side(fold, Stage.WITHDRAWN)
    return fold


def _climb(fold: _Fold, target: Stage) -> _Fold:
    """Move up the ladder to ``target`` (never down); revives a failed or withdrawn bill."""
    if fold.stage is Stage.VETOED:
        return fold
    best = target if _RANK[target] > _RANK[fold.best] else fold.best
    return replace(fold, stage=best, best=best)


def _side(fold: _Fold, stage: Stage) -> _Fold:
    # A veto outranks a later failure or withdrawal: only an override changes it.
    return fold if fold.stage is Stage.VETOED else replace(fold, stage=stage)


def _chamber_count(chambers: frozenset[Chamber]) -> int:
    known = len(chambers & {Chamber.LOWER, Chamber.UPPER})
    # An action of unknown actor may be either chamber: it proves one passage, never a second.
    return known or (1 if chambers else 0)


def _acting(actor: Chamber) -> frozenset[Chamber]:
    return _CHAMBERS.get(actor, frozenset({Chamber.UNKNOWN}))


def _passage(fold: _Fold, *, actor: Chamber, bill_type: BillType) -> _Fold:
    fold = replace(fold, passed=fold.passed | _acting(actor))
    if fold.stage is Stage.VETOED:
        return fold
    both = _chamber_count(fold.passed) >= 2
    if bill_type is BillType.RESOLUTION or (both and bill_type in _ADOPTED_BY_BOTH):
        return replace(fold, stage=Stage.ADOPTED)
    return _climb(fold, Stage.PASSED_BOTH if both else Stage.PASSED_ORIGIN)


def _override(fold: _Fold, *, actor: Chamber) -> _Fold:
    fold = replace(fold, overridden=fold.overridden | _acting(actor))
    if len(fold.overridden & {Chamber.LOWER, Chamber.UPPER}) >= 2:
        return replace(fold, stage=Stage.ENACTED, best=Stage.ENACTED)
    return fold
