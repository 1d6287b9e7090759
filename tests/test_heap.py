"""tracker.heap: startup objects frozen once per process, never the garbage made later.

Each check runs in a fresh interpreter: freezing is for the life of a process."""

from __future__ import annotations

import subprocess
import sys


def numbers_printed(*lines: str) -> list[int]:
    """Run ``lines`` after importing freeze_startup_objects; the integers they print."""
    script = "\n".join(("import gc", "from tracker.heap import freeze_startup_objects", *lines))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    return [int(word) for word in done.stdout.split()]


def test_the_first_call_freezes_what_is_alive_and_later_calls_do_nothing() -> None:
    before, first, second = numbers_printed(
        "before = gc.get_freeze_count()",
        "freeze_startup_objects()",
        "first = gc.get_freeze_count()",
        "later = [[i] for i in range(10_000)]",
        "freeze_startup_objects()",
        "print(before, first, gc.get_freeze_count())",
    )
    assert before == 0
    assert first > 1000  # the modules and classes imported so far
    assert second == first  # the 10,000 lists made afterwards stay collectable


def test_frozen_objects_are_out_of_the_collectors_generations() -> None:
    tracked, frozen = numbers_printed(
        "freeze_startup_objects()",
        "print(len(gc.get_objects()), gc.get_freeze_count())",
    )
    assert tracked < frozen / 10  # what a full collection still walks
