"""SQL of the service's coordination tables: ``leases``, ``scheduled_jobs``, ``source_alarms``,
plus the few reads and closes ``tracker status``, the health checks and the poller need from
``source_sessions``, ``source_runs`` and ``deliveries``.

Every function takes the caller's :class:`~sqlalchemy.orm.Session` and runs inside its
transaction; :mod:`tracker.leases`, :mod:`tracker.schedule`, :mod:`tracker.alarms` and
:mod:`tracker.health` decide what to do, this module only says it in SQL.

Leases are taken portably (SQLite and PostgreSQL alike): ``INSERT ... ON CONFLICT DO NOTHING``
on first use, then a guarded ``UPDATE ... WHERE name = :n AND (holder = :me OR expires_at <=
:now)`` (a lease is alive while ``expires_at > now``). The database serializes both
statements on the row (SQLite by ``BEGIN IMMEDIATE``, PostgreSQL by the row lock, after which
the ``WHERE`` is evaluated again), so of two processes racing for a free lease exactly one
sees a row count of 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.storage import outbox_repo
from tracker.storage.tables import (
    DeliveryRow,
    LeaseRow,
    ScheduledJobRow,
    SourceAlarmRow,
    SourceRunRow,
    SourceSessionRow,
    UTCDateTime,
)


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    heartbeat: datetime


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    description: str
    next_run_at: datetime | None
    holder: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AlarmRecord:
    source: str
    state: str
    problems: tuple[str, ...]
    run_id: int | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class SessionActivity:
    """What ``source_sessions`` says about one session of a source."""

    session: str
    baselined_at: datetime | None
    last_change_at: datetime | None


#: Bulk UPDATEs here return row counts; the ORM need not mirror them into loaded objects.
_PLAIN = {"synchronize_session": False}


def _rowcount(result: sa.Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


# -- leases ---------------------------------------------------------------------------------


def insert_lease(
    session: Session, *, name: str, holder: str, now: datetime, expires_at: datetime
) -> bool:
    """Create lease ``name`` for ``holder`` if nobody ever held it; True when this created it."""
    values = {"name": name, "holder": holder, "acquired_at": now, "expires_at": expires_at,
              "heartbeat": now}
    return _rowcount(session.execute(_insert_ignoring_duplicates(session, LeaseRow, values))) == 1


def _insert_ignoring_duplicates(session: Session, table: Any, values: Mapping[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the session's dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).values(**values).on_conflict_do_nothing()
    raise NotImplementedError(f"only SQLite and PostgreSQL are supported, not {dialect}")


def take_lease(
    session: Session, *, name: str, holder: str, now: datetime, expires_at: datetime
) -> bool:
    """Take lease ``name`` if ``holder`` has it already or it has run out; True when taken.

    ``acquired_at`` moves only when the holder changes, so it says since when one process has
    held the lease without a break.
    """
    statement = (
        sa.update(LeaseRow)
        .where(LeaseRow.name == name,
               sa.or_(LeaseRow.holder == holder, LeaseRow.expires_at <= now))
        .values(
            acquired_at=sa.case((LeaseRow.holder == holder, LeaseRow.acquired_at),
                                else_=sa.literal(now, UTCDateTime())),
            holder=holder, expires_at=expires_at, heartbeat=now,
        )
    )
    return _rowcount(session.execute(statement, execution_options=_PLAIN)) == 1


def renew_lease(
    session: Session, *, name: str, holder: str, now: datetime, expires_at: datetime
) -> bool:
    """Extend ``holder``'s lease; False when someone else holds it now (the lease was lost).

    A lease that expired but was not taken by anyone is still ``holder``'s and is renewed:
    nobody else can have acted under it.
    """
    statement = (
        sa.update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.holder == holder)
        .values(expires_at=expires_at, heartbeat=now)
    )
    return _rowcount(session.execute(statement, execution_options=_PLAIN)) == 1


def release_lease(session: Session, *, name: str, holder: str, now: datetime) -> bool:
    """End ``holder``'s lease now (the row stays, so status can say who held it last)."""
    statement = (
        sa.update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.holder == holder, LeaseRow.expires_at > now)
        .values(expires_at=now, heartbeat=now)
    )
    return _rowcount(session.execute(statement, execution_options=_PLAIN)) == 1


def get_lease(session: Session, name: str) -> LeaseRecord | None:
    row = session.get(LeaseRow, name, populate_existing=True)
    if row is None:
        return None
    return LeaseRecord(name=row.name, holder=row.holder, acquired_at=row.acquired_at,
                       expires_at=row.expires_at, heartbeat=row.heartbeat)


# -- scheduled jobs -------------------------------------------------------------------------


def save_jobs(
    session: Session, jobs: Mapping[str, tuple[str, datetime | None]], *, holder: str,
    now: datetime,
) -> None:
    """Replace the job list with ``jobs`` (id -> (description, next run)) as ``holder`` sees it."""
    session.execute(sa.delete(ScheduledJobRow).where(ScheduledJobRow.id.not_in(list(jobs))))
    for job_id, (description, next_run_at) in jobs.items():
        row = session.get(ScheduledJobRow, job_id)
        if row is None:
            session.add(ScheduledJobRow(id=job_id, description=description,
                                        next_run_at=next_run_at, holder=holder, updated_at=now))
        else:
            row.description, row.next_run_at = description, next_run_at
            row.holder, row.updated_at = holder, now


def list_jobs(session: Session) -> list[JobRecord]:
    rows = session.execute(sa.select(ScheduledJobRow).order_by(ScheduledJobRow.id)).scalars()
    return [JobRecord(id=r.id, description=r.description, next_run_at=r.next_run_at,
                      holder=r.holder, updated_at=r.updated_at) for r in rows]


# -- source alarms --------------------------------------------------------------------------


def get_alarm(session: Session, source: str, *, for_update: bool = False) -> AlarmRecord | None:
    """The last alarm state of ``source``; ``for_update`` locks the row until commit."""
    query = sa.select(SourceAlarmRow).where(SourceAlarmRow.source == source)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        return None
    return AlarmRecord(source=row.source, state=row.state, problems=tuple(row.problems),
                       run_id=row.run_id, changed_at=row.changed_at)


def set_alarm(
    session: Session, *, source: str, state: str, problems: Iterable[str], run_id: int | None,
    now: datetime,
) -> None:
    row = session.get(SourceAlarmRow, source)
    if row is None:
        session.add(SourceAlarmRow(source=source, state=state, problems=list(problems),
                                   run_id=run_id, changed_at=now))
        return
    row.state, row.problems, row.run_id, row.changed_at = state, list(problems), run_id, now


def list_alarms(session: Session) -> dict[str, AlarmRecord]:
    rows = session.execute(sa.select(SourceAlarmRow)).scalars()
    return {
        r.source: AlarmRecord(source=r.source, state=r.state, problems=tuple(r.problems),
                              run_id=r.run_id, changed_at=r.changed_at)
        for r in rows
    }


# -- reads for health and status ----------------------------------------------------------


def session_activity(session: Session, *, source: str) -> dict[str, SessionActivity]:
    """Per session of ``source``: when its baseline was taken and when it last changed."""
    rows = session.execute(
        sa.select(SourceSessionRow).where(SourceSessionRow.source == source)
    ).scalars()
    return {
        r.session: SessionActivity(session=r.session, baselined_at=r.baselined_at,
                                   last_change_at=r.last_change_at)
        for r in rows
    }


def first_success_at(session: Session, *, source: str) -> datetime | None:
    """When ``source`` was first polled successfully (``ok`` or ``partial``), if ever."""
    return session.execute(
        sa.select(sa.func.min(SourceRunRow.started_at)).where(
            SourceRunRow.source == source, SourceRunRow.status.in_(("ok", "partial"))
        )
    ).scalar()


def close_running_runs(
    session: Session, *, source: str, status: str, note: str, now: datetime
) -> int:
    """Close the ``running`` rows of ``source`` with ``status`` and ``note``. Only call it while
    holding the source's poll lease: then no live poll can be writing those runs."""
    statement = (
        sa.update(SourceRunRow)
        .where(SourceRunRow.source == source, SourceRunRow.status == "running")
        .values(status=status, error=note, finished_at=now)
    )
    return _rowcount(session.execute(statement, execution_options=_PLAIN))


def queue_counts(session: Session) -> dict[str, int]:
    """Deliveries waiting for a digest, and outbox messages pending, sending or failed."""
    deliveries = int(session.execute(
        sa.select(sa.func.count()).select_from(DeliveryRow).where(DeliveryRow.status == "pending")
    ).scalar_one())
    outbox = outbox_repo.status_counts(session)
    return {"deliveries_pending": deliveries, "outbox_pending": outbox[outbox_repo.PENDING],
            "outbox_sending": outbox[outbox_repo.SENDING],
            "outbox_failed": outbox[outbox_repo.FAILED]}
