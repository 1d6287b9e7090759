"""Leases in the database: for a name, one holder at a time, for a limited time.

Two kinds are used:

* ``scheduler``: the leader lease. Of several ``tracker run`` processes sharing a database
  (two on one SQLite file, many on PostgreSQL across hosts), the one holding it runs the
  scheduler; the others stand by and try again every few seconds. A leader that dies
  (SIGKILL, power loss) simply stops renewing, and its lease expires one lease period later.
* ``poll:<source>``: taken by every poll, the scheduler's and a manual ``tracker poll``, so
  one source is never polled twice at once.

A held lease is renewed every third of its time to live by a thread of its own (not a
scheduler job, so a busy executor cannot starve it). When a renewal finds the lease held by
someone else, or cannot reach the database until the lease has run out, the lease is *lost*:
its ``lost`` event is set and ``on_lost`` is called, and the holder must stop acting on it.

Times come from the injected clock of each process, so hosts sharing PostgreSQL need
synchronized clocks (NTP); a skew of a few seconds is harmless next to a lease of a minute.
The SQL is in :mod:`tracker.storage.leases_repo`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from tracker.errors import ConfigError, TrackerError
from tracker.storage import leases_repo
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)

LEADER = "scheduler"
DEFAULT_TTL = timedelta(seconds=60)
TTL_ENV = "TRACKER_LEASE_SECONDS"


def poll_lease(source: str) -> str:
    """The name of the lease every poll of ``source`` takes."""
    return f"poll:{source}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def process_holder() -> str:
    """This process's name as a lease holder: host, pid and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def lease_ttl(environ: Mapping[str, str]) -> timedelta:
    """The lease period from ``TRACKER_LEASE_SECONDS`` (default 60); ConfigError when wrong."""
    text = environ.get(TTL_ENV, "").strip()
    if not text:
        return DEFAULT_TTL
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"{TTL_ENV}={text!r}: must be a number of seconds") from None
    if not 1 <= seconds <= 3600:
        raise ConfigError(f"{TTL_ENV}={text!r}: must be between 1 and 3600 seconds")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease as stored: who holds ``name``, since when, and until when."""

    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    heartbeat: datetime

    def alive(self, now: datetime) -> bool:
        return self.expires_at > now


class LeaseHeld(TrackerError):
    """The lease is held by another live holder."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(
            f"{lease.name} is held by {lease.holder} until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        self.lease = lease


@dataclass
class HeldLease:
    """A lease this process holds inside :meth:`Leases.hold`; ``lost`` is set if it is lost."""

    name: str
    lost: threading.Event = field(default_factory=threading.Event)


class Leases:
    """Take, renew and release leases as ``holder``, each lasting ``ttl`` from its last renewal."""

    def __init__(
        self, repo: Repository, *, holder: str, ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"lease ttl must be positive, not {ttl}")
        self.repo = repo
        self.holder = holder
        self.ttl = ttl
        self.clock = clock

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the ttl, so one late renewal is survivable."""
        return self.ttl.total_seconds() / 3

    def acquire(self, name: str) -> bool:
        """Take ``name`` if it is free, expired or already ours; True when we hold it now."""
        now = self.clock()
        expires = now + self.ttl
        with self.repo.write() as session:
            if leases_repo.insert_lease(session, name=name, holder=self.holder, now=now,
                                        expires_at=expires):
                return True
            return leases_repo.take_lease(session, name=name, holder=self.holder, now=now,
                                          expires_at=expires)

    def renew(self, name: str) -> bool:
        """Extend our lease on ``name``; False when another holder has it (we lost it)."""
        now = self.clock()
        with self.repo.write() as session:
            return leases_repo.renew_lease(session, name=name, holder=self.holder, now=now,
                                           expires_at=now + self.ttl)

    def release(self, name: str) -> None:
        """Give ``name`` up now, if we hold it, so another holder need not wait for expiry."""
        with self.repo.write() as session:
            leases_repo.release_lease(session, name=name, holder=self.holder, now=self.clock())

    def get(self, name: str) -> Lease | None:
        with self.repo.read() as session:
            record = leases_repo.get_lease(session, name)
        if record is None:
            return None
        return Lease(name=record.name, holder=record.holder, acquired_at=record.acquired_at,
                     expires_at=record.expires_at, heartbeat=record.heartbeat)

    def holder_of(self, name: str) -> Lease | None:
        """The live lease on ``name``, or None when nobody holds it now."""
        lease = self.get(name)
        return lease if lease is not None and lease.alive(self.clock()) else None

    @contextmanager
    def hold(
        self, name: str, *, on_lost: Callable[[], None] | None = None,
        on_renewed: Callable[[], None] | None = None,
    ) -> Iterator[HeldLease]:
        """Hold ``name`` for the block, renewed in the background, released at the end.

        Raises :class:`LeaseHeld` (naming the holder) when another live holder has it.
        ``on_renewed`` runs after each successful renewal (in the renewal thread).
        """
        if not self.acquire(name):
            current = self.get(name)
            if current is None:  # rows are never deleted; only a damaged table gets here
                raise TrackerError(f"{name}: lease could not be taken")
            raise LeaseHeld(current)
        held = HeldLease(name)
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(held, done, on_lost, on_renewed),
            name=f"lease {name}", daemon=True,
        )
        keeper.start()
        try:
            yield held
        finally:
            done.set()
            keeper.join(timeout=max(5.0, self.renew_every))
            if not held.lost.is_set():
                try:
                    self.release(name)
                except SQLAlchemyError as exc:
                    # It will expire on its own within one ttl.
                    log.warning("%s: lease not released: %s", name, str(exc).splitlines()[0])

    def _keep(
        self, held: HeldLease, done: threading.Event, on_lost: Callable[[], None] | None,
        on_renewed: Callable[[], None] | None,
    ) -> None:
        confirmed_until = self.clock() + self.ttl
        while not done.wait(self.renew_every):
            try:
                renewed = self.renew(held.name)
            except SQLAlchemyError as exc:
                reason = str(exc).splitlines()[0]
                if self.clock() < confirmed_until:
                    log.warning("%s: lease renewal failed, retrying: %s", held.name, reason)
                    continue
                log.error("%s: lease lost: the database was unreachable until it expired (%s)",
                          held.name, reason)
                renewed = False
            if not renewed:
                if not done.is_set():
                    current = self.get_quietly(held.name)
                    taker = f" (now held by {current.holder})" if current else ""
                    log.error("%s: lease lost%s", held.name, taker)
                held.lost.set()
                if on_lost is not None:
                    on_lost()
                return
            confirmed_until = self.clock() + self.ttl
            if on_renewed is not None:
                try:
                    on_renewed()
                except Exception:  # a bookkeeping bug must not cost the lease
                    log.exception("%s: after-renewal callback failed", held.name)

    def get_quietly(self, name: str) -> Lease | None:
        """:meth:`get`, or None when the database cannot be read (for log lines only)."""
        try:
            return self.get(name)
        except SQLAlchemyError:
            return None
