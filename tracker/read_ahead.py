"""Run a generator in a thread of its own, a bounded number of items ahead of its consumer.

The pipeline's poll has two halves that each wait on something else: fetching and parsing
(the network, and lxml, which releases the interpreter lock while it parses) and storing (the
database, which releases it while SQLite or PostgreSQL work). :class:`ReadAhead` lets the
first half run in a thread while the consumer stores, so on a machine with two cores the two
halves overlap instead of taking turns.

Contract:

* items arrive in the order the generator yields them;
* an exception raised by the generator is raised by the consumer's ``for`` at the same place
  in the sequence (nothing after it arrives);
* at most ``ahead`` items wait between the two, so memory stays bounded however fast the
  producer is;
* :meth:`ReadAhead.close` (also on leaving the ``with`` block) tells the producer to stop at
  its next item, closes the generator in the producer's thread (its ``finally`` blocks run
  there) and waits up to ``close_timeout`` seconds for it; a producer stuck in a call that
  does not return (a hung upstream) is left behind as a daemon thread rather than hanging
  the consumer;
* :meth:`ReadAhead.remaining` says, once the producer has yielded its last item, how many
  items are still to come (a consumer can share out the end of the work evenly).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

#: How often a producer blocked on a full queue looks whether it was closed.
_POLL_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class _Raised:
    error: BaseException


class _Done:
    pass


_DONE = _Done()


class ReadAhead(Generic[T]):
    """Iterate ``items()`` (called in a new thread) from the calling thread; see the module
    docstring."""

    def __init__(
        self, items: Callable[[], Iterator[T]], *, ahead: int, name: str,
        close_timeout: float = 30.0,
    ) -> None:
        if ahead < 1:
            raise ValueError("ahead must be at least 1")
        self._items = items
        self._queue: queue.Queue[T | _Raised | _Done] = queue.Queue(maxsize=ahead)
        self._closed = threading.Event()
        self._close_timeout = close_timeout
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._started = False
        self._finished = threading.Event()  # the producer has queued its last item

    def __enter__(self) -> ReadAhead[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        if self._started:
            raise RuntimeError("a ReadAhead is iterated once")
        self._started = True
        self._thread.start()
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                self._thread.join()
                return
            if isinstance(item, _Raised):
                self._thread.join()
                raise item.error
            yield item

    def remaining(self) -> int | None:
        """How many items are still to come, once the producer has yielded all of them;
        None while it may yield more (or when it ended by raising)."""
        if not self._finished.is_set():
            return None
        return max(0, self._queue.qsize() - 1)  # the end marker is queued behind them

    def close(self) -> None:
        """Stop the producer at its next item and wait (bounded) for its thread to end."""
        self._closed.set()
        if not self._started:
            return
        while self._thread.is_alive():
            self._drain()  # a producer blocked on a full queue sees the close
            self._thread.join(_POLL_SECONDS)
            if not self._thread.is_alive():
                break
            self._close_timeout -= _POLL_SECONDS
            if self._close_timeout <= 0:
                return  # stuck upstream: leave the daemon thread behind
        self._drain()

    # -- the producer's thread ------------------------------------------------------------

    def _produce(self) -> None:
        try:
            generated = self._items()
            # A generator is closed here, in its own thread, so its finally blocks run here.
            guard: AbstractContextManager[object] = (
                closing(generated) if isinstance(generated, Generator) else nullcontext()
            )
            with guard:
                for item in generated:
                    if not self._put(item):
                        return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(_Raised(error))
            return
        if self._put(_DONE):
            self._finished.set()

    def _put(self, item: T | _Raised | _Done) -> bool:
        """Queue ``item``, waiting while the queue is full; False once closed."""
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

