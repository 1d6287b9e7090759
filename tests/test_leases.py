"""Leases: first use, refusal while held, take-over after expiry, renewal, loss and release,
with an injected clock, on SQLite and (with TRACKER_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tracker.errors import ConfigError
from tracker.leases import LEADER, Lease, LeaseHeld, Leases, lease_ttl, poll_lease
from tracker.storage.engine import make_engine
from tracker.storage.repository import Repository

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=30)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def leases(repo: Repository, clock: Clock, holder: str, ttl: timedelta = TTL) -> Leases:
    return Leases(repo, holder=holder, ttl=ttl, clock=clock)


def test_first_use_creates_the_lease(repo: Repository, clock: Clock) -> None:
    a = leases(repo, clock, "a")
    assert a.get(LEADER) is None
    assert a.acquire(LEADER)
    lease = a.get(LEADER)
    assert lease == Lease(name=LEADER, holder="a", acquired_at=T0, expires_at=T0 + TTL,
                          heartbeat=T0)


def test_a_live_lease_is_refused_to_others_and_kept_by_its_holder(
    repo: Repository, clock: Clock
) -> None:
    a, b = leases(repo, clock, "a"), leases(repo, clock, "b")
    assert a.acquire(LEADER)
    clock.advance(29)
    assert not b.acquire(LEADER)
    assert a.acquire(LEADER), "acquiring again is renewing"
    lease = a.get(LEADER)
    assert lease is not None
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("a", T0, clock.now + TTL)


def test_an_expired_lease_is_taken_over(repo: Repository, clock: Clock) -> None:
    a, b = leases(repo, clock, "a"), leases(repo, clock, "b")
    assert a.acquire(LEADER)
    clock.advance(29.9)
    assert not b.acquire(LEADER), "alive until expires_at"
    clock.advance(0.1)
    assert b.acquire(LEADER)
    lease = b.get(LEADER)
    assert lease is not None
    assert (lease.holder, lease.acquired_at) == ("b", clock.now)
    assert not a.renew(LEADER), "the old holder learns it lost the lease"


def test_renewal_extends_the_lease(repo: Repository, clock: Clock) -> None:
    a, b = leases(repo, clock, "a"), leases(repo, clock, "b")
    assert a.acquire(LEADER)
    for _ in range(5):
        clock.advance(20)
        assert a.renew(LEADER)
    assert not b.acquire(LEADER), "renewed every 20 s, a 30 s lease never expires"
    assert not b.renew(LEADER), "only the holder renews"


def test_an_expired_lease_nobody_took_is_still_renewable(repo: Repository, clock: Clock) -> None:
    a = leases(repo, clock, "a")
    assert a.acquire(LEADER)
    clock.advance(45)
    assert a.renew(LEADER)


def test_release_frees_the_lease_at_once(repo: Repository, clock: Clock) -> None:
    a, b = leases(repo, clock, "a"), leases(repo, clock, "b")
    assert a.acquire(LEADER)
    a.release(LEADER)
    assert a.holder_of(LEADER) is None
    assert b.acquire(LEADER)
    b.release(LEADER)
    a.release(LEADER)  # not ours any more: nothing happens
    lease = b.get(LEADER)
    assert lease is not None and lease.holder == "b"


def test_leases_are_independent_by_name(repo: Repository, clock: Clock) -> None:
    a, b = leases(repo, clock, "a"), leases(repo, clock, "b")
    assert a.acquire(LEADER)
    assert b.acquire(poll_lease("us-govinfo"))
    assert not a.acquire(poll_lease("us-govinfo"))
    assert poll_lease("us-govinfo") == "poll:us-govinfo"


def test_hold_refuses_a_held_lease_naming_its_holder(repo: Repository, clock: Clock) -> None:
    a, b = leases(repo, clock, "host-a:1:x"), leases(repo, clock, "host-b:2:y")
    held_by_a = pytest.raises(LeaseHeld, match=r"^poll:va-lis is held by host-a:1:x until")
    with a.hold(poll_lease("va-lis")), held_by_a as info, b.hold(poll_lease("va-lis")):
        pass  # pragma: no cover
    assert info.value.lease.holder == "host-a:1:x"
    with b.hold(poll_lease("va-lis")):
        assert b.holder_of(poll_lease("va-lis")) is not None


def test_one_winner_among_racing_processes(database_url: str) -> None:
    """Eight threads with their own engines race for a fresh lease: exactly one wins."""
    setup = make_engine(database_url)
    from tracker.storage.engine import migrate

    migrate(setup)
    setup.dispose()
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def contend(holder: str) -> None:
        engine = make_engine(database_url)
        try:
            mine = Leases(Repository(engine), holder=holder, ttl=TTL)
            barrier.wait()
            if mine.acquire(LEADER):
                wins.append(holder)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(wins) == 1


def test_a_held_lease_is_renewed_in_the_background(repo: Repository) -> None:
    a = Leases(repo, holder="a", ttl=timedelta(seconds=0.3))
    b = Leases(repo, holder="b", ttl=timedelta(seconds=0.3))
    renewals = []
    with a.hold(LEADER, on_renewed=lambda: renewals.append(1)) as held:
        time.sleep(0.75)
        assert not b.acquire(LEADER), "the keeper renewed it past its first expiry"
        assert not held.lost.is_set()
    assert len(renewals) >= 2
    assert b.acquire(LEADER), "released at the end of the block"


def test_a_lease_taken_by_another_is_reported_lost(repo: Repository) -> None:
    clock = Clock(datetime.now(UTC))
    a = Leases(repo, holder="a", ttl=timedelta(seconds=0.3), clock=clock)
    b = Leases(repo, holder="b", ttl=timedelta(seconds=0.3), clock=clock)
    lost = threading.Event()
    with a.hold(LEADER, on_lost=lost.set) as held:
        clock.advance(1)  # a's clock jumps past the expiry before the keeper's first renewal
        assert b.acquire(LEADER)
        assert lost.wait(2)
        assert held.lost.is_set()
    lease = b.get(LEADER)
    assert lease is not None and lease.holder == "b" and lease.alive(clock.now), \
        "a lost lease is not released by its old holder"


@pytest.mark.parametrize(
    ("value", "seconds"), [("", 60.0), ("3", 3.0), ("2.5", 2.5)]
)
def test_lease_ttl_from_the_environment(value: str, seconds: float) -> None:
    assert lease_ttl({"TRACKER_LEASE_SECONDS": value}) == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["soon", "0", "-1", "7200"])
def test_a_bad_lease_ttl_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"^TRACKER_LEASE_SECONDS={value!r}: must be"):
        lease_ttl({"TRACKER_LEASE_SECONDS": value})
