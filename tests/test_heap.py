"""tracker.heap: startup objects frozen once per process, never the garbage made later."""

from __future__ import annotations

import subprocess
import sys


def test_the_first_call_freezes_what_is_alive_and_later_calls_do_nothing() -> None:
    script = (
        "import gc\n"
        "from tracker.heap import freeze_startup_objects\n"
        "assert gc.get_freeze_count() == 0\n"
        "freeze_startup_objects()\n"
        "first = gc.get_freeze_count()\n"
        "later = [[i] for i in range(10_000)]\n"
        "freeze_startup_objects()\n"
        "print(first, gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    first, second = map(int, done.stdout.split())
    assert first > 1000  # the modules and classes imported so far
    assert second == first  # the 10,000 lists made afterwards stay collectable


def test_frozen_objects_are_out_of_the_collectors_generations() -> None:
    script = (
        "import gc\n"
        "from tracker.heap import freeze_startup_objects\n"
        "freeze_startup_objects()\n"
        "print(len(gc.get_objects()), gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    tracked, frozen = map(int, done.stdout.split())
    assert tracked < frozen / 10  # what a full collection still walks
