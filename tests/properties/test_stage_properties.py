"""Properties of stage derivation (hypothesis), over arbitrary sequences of classified actions:

* without a failure, withdrawal or veto class, a bill (or joint resolution) never moves down
  the ladder: each action's stage ranks at or above the one before;
* ``enacted`` needs a signature, a "became law" or an override passed by both chambers;
* the stage depends on the actions only: not on the order of classes within an action, not
  on being asked twice, and an action with no class changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from tracker.models import LADDER, ActionClass, BillType, Chamber, Stage
from tracker.stages import derive_stage

A = ActionClass
SETBACKS = frozenset({A.FAILURE, A.COMMITTEE_FAILURE, A.WITHDRAWAL, A.EXECUTIVE_VETO})
ENACTING = frozenset({A.EXECUTIVE_SIGNATURE, A.BECAME_LAW})
RANK = {stage: rank for rank, stage in enumerate(LADDER)}


@dataclass(frozen=True)
class Act:
    """What derive_stage reads of an action."""

    classification: tuple[ActionClass, ...]
    actor: Chamber


def acts(classes: st.SearchStrategy[ActionClass]) -> st.SearchStrategy[list[Act]]:
    return st.lists(st.builds(
        Act,
        classification=st.lists(classes, max_size=3).map(tuple),
        actor=st.sampled_from(list(Chamber)),
    ), max_size=12)


ANY_CLASS = st.sampled_from(list(ActionClass))
FORWARD_CLASS = st.sampled_from([c for c in ActionClass if c not in SETBACKS])
LADDER_TYPES = st.sampled_from([BillType.BILL, BillType.JOINT_RESOLUTION])


@given(acts(FORWARD_CLASS), LADDER_TYPES)
def test_without_setbacks_the_ladder_only_goes_up(actions: list[Act], kind: BillType) -> None:
    ranks = [RANK[derive_stage(actions[:n], bill_type=kind)] for n in range(len(actions) + 1)]
    assert ranks == sorted(ranks)


@given(acts(ANY_CLASS), st.sampled_from(list(BillType)))
def test_enacted_only_by_a_signature_a_law_or_an_override_of_both_chambers(
    actions: list[Act], kind: BillType
) -> None:
    if derive_stage(actions, bill_type=kind) is not Stage.ENACTED:
        return
    classes = {c for a in actions for c in a.classification}
    overridden = {a.actor for a in actions if A.VETO_OVERRIDE_PASSAGE in a.classification}
    by_both = Chamber.LEGISLATURE in overridden or {Chamber.LOWER, Chamber.UPPER} <= overridden
    assert classes & ENACTING or by_both


@given(acts(ANY_CLASS), st.sampled_from(list(BillType)), st.randoms(use_true_random=False))
def test_the_stage_depends_on_the_actions_only(
    actions: list[Act], kind: BillType, rng: Random
) -> None:
    stage = derive_stage(actions, bill_type=kind)
    assert derive_stage(list(actions), bill_type=kind) is stage
    shuffled = []
    for act in actions:
        classes = list(act.classification)
        rng.shuffle(classes)
        shuffled.append(Act(tuple(classes), act.actor))
    assert derive_stage(shuffled, bill_type=kind) is stage
    padded = [Act((), Chamber.UNKNOWN), *actions, Act((), Chamber.LOWER)]
    assert derive_stage(padded, bill_type=kind) is stage


@given(acts(ANY_CLASS), st.sampled_from(list(BillType)))
def test_enacted_and_adopted_are_final(actions: list[Act], kind: BillType) -> None:
    seen_final: Stage | None = None
    for n in range(len(actions) + 1):
        stage = derive_stage(actions[:n], bill_type=kind)
        if seen_final is not None:
            assert stage is seen_final
        elif stage in (Stage.ENACTED, Stage.ADOPTED):
            seen_final = stage
