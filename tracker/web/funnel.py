"""The stage funnel of a topic: how many of its bills reached each step from introduced to law.

Drawn server-side as SVG (no script, no chart library): :func:`reached_counts` turns the
bills per stage into the bills that reached each ladder step, and :func:`draw` lays out one
centred bar per step, its width proportional to the count (a funnel when read top-down).
The template only writes the numbers out. Pure functions.

A bill "reached" a step when it stands there or further up the ladder. A vetoed bill reached
the executive; failed, withdrawn and adopted bills (side stages whose height on the ladder is
not stored) count as introduced, and are told apart in :attr:`Reach.side`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracker.models import LADDER, Stage

WIDTH = 460
LABEL_WIDTH = 150
COUNT_WIDTH = 56
ROW_HEIGHT = 22
GAP = 6
SIDE_STAGES = (Stage.ADOPTED, Stage.FAILED, Stage.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class Reach:
    """Bills that reached each ladder step (in ladder order), and the side stages' counts."""

    steps: tuple[int, ...]
    side: tuple[tuple[Stage, int], ...]

    @property
    def total(self) -> int:
        return self.steps[0] if self.steps else 0


def reached_counts(stage_counts: Mapping[str, int]) -> Reach:
    """``{"in-committee": 4, "enacted": 1, "vetoed": 1}`` -> bills per step reached."""
    highest = {stage.value: rank for rank, stage in enumerate(LADDER)}
    highest[Stage.VETOED.value] = LADDER.index(Stage.TO_EXECUTIVE)
    steps = [0] * len(LADDER)
    for stage, count in stage_counts.items():
        for rank in range(highest.get(stage, 0) + 1):
            steps[rank] += count
    side = tuple((stage, stage_counts[stage.value]) for stage in SIDE_STAGES
                 if stage_counts.get(stage.value))
    return Reach(steps=tuple(steps), side=side)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    x: int
    y: int
    width: int
    height: int
    text_y: int
    label_x: int
    count_x: int


@dataclass(frozen=True, slots=True)
class Drawing:
    width: int
    height: int
    bars: tuple[Bar, ...]


def draw(*, labels: Sequence[str], counts: Sequence[int]) -> Drawing:
    """One bar per (label, count), centred in the bar area, the widest being the largest."""
    if len(labels) != len(counts):
        raise ValueError(f"{len(labels)} labels for {len(counts)} counts")
    area = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    largest = max(counts, default=0)
    bars = []
    for index, (label, count) in enumerate(zip(labels, counts, strict=True)):
        width = max(2, round(area * count / largest)) if count and largest else 0
        y = GAP + index * (ROW_HEIGHT + GAP)
        bars.append(Bar(
            label=label, count=count, x=LABEL_WIDTH + (area - width) // 2, y=y, width=width,
            height=ROW_HEIGHT, text_y=y + ROW_HEIGHT // 2 + 5, label_x=LABEL_WIDTH - 8,
            count_x=LABEL_WIDTH + area + 8,
        ))
    return Drawing(width=WIDTH, height=GAP + len(bars) * (ROW_HEIGHT + GAP), bars=tuple(bars))
