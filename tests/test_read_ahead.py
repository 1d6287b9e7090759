"""tracker.read_ahead.ReadAhead: the contract in its module docstring, with real threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tracker.read_ahead import ReadAhead


def counting(n: int, produced: list[int] | None = None) -> Iterator[int]:
    for i in range(n):
        if produced is not None:
            produced.append(i)
        yield i


def test_items_arrive_in_order() -> None:
    with ReadAhead(lambda: counting(1000), ahead=7, name="t") as ahead:
        assert list(ahead) == list(range(1000))


def test_an_error_of_the_producer_is_raised_at_its_place_in_the_sequence() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("upstream broke")

    got: list[int] = []

    def consume(ahead: ReadAhead[int]) -> None:
        for item in ahead:
            got.append(item)

    with ReadAhead(failing, ahead=4, name="t") as ahead, pytest.raises(ValueError,
                                                                       match="upstream"):
        consume(ahead)
    assert got == [1, 2]


def test_the_producer_stays_at_most_ahead_items_in_front() -> None:
    produced: list[int] = []
    with ReadAhead(lambda: counting(100, produced), ahead=5, name="t") as ahead:
        iterator = iter(ahead)
        assert next(iterator) == 0
        time.sleep(0.3)  # ample time for a producer that did not wait to run to the end
        # One consumed, five queued, one produced and waiting for room.
        assert len(produced) <= 7


def test_close_stops_the_producer_and_runs_its_finally_in_its_own_thread() -> None:
    finished_in: list[str] = []
    produced: list[int] = []

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                produced.append(i)
                yield i
                i += 1
        finally:
            finished_in.append(threading.current_thread().name)

    ahead = ReadAhead(endless, ahead=3, name="producer-thread")
    for item in ahead:
        if item == 10:
            break
    ahead.close()
    assert finished_in == ["producer-thread"]
    count = len(produced)
    time.sleep(0.2)
    assert len(produced) == count  # stopped for good


def test_remaining_is_unknown_until_the_producer_is_done_then_counts_down() -> None:
    release = threading.Event()

    def gated() -> Iterator[int]:
        yield 0
        release.wait(5)
        yield from range(1, 6)

    with ReadAhead(gated, ahead=10, name="t") as ahead:
        iterator = iter(ahead)
        assert next(iterator) == 0
        assert ahead.remaining() is None  # the producer may still yield more
        release.set()
        deadline = time.monotonic() + 5
        while ahead.remaining() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ahead.remaining() == 5
        assert next(iterator) == 1
        assert ahead.remaining() == 4
        assert list(iterator) == [2, 3, 4, 5]
        assert ahead.remaining() == 0


def test_remaining_stays_unknown_when_the_producer_raised() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("boom")

    with ReadAhead(failing, ahead=4, name="t") as ahead:
        iterator = iter(ahead)
        assert next(iterator) == 1
        time.sleep(0.1)
        assert ahead.remaining() is None
        with pytest.raises(RuntimeError):
            next(iterator)
