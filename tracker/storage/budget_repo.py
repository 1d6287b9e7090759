"""SQL of ``api_budget``: requests spent per source and calendar month (see tracker.ledger).

The count is raised with one ``INSERT ... ON CONFLICT DO UPDATE SET used = used + n``, so
processes spending at the same time never lose an increment (SQLite serializes writers with
``BEGIN IMMEDIATE``; PostgreSQL locks the row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.storage.tables import ApiBudgetRow


def used(session: Session, *, source: str, month: str) -> int:
    """Requests ``source`` spent in ``month`` (``"2026-12"``); 0 when none were counted."""
    found = session.execute(
        sa.select(ApiBudgetRow.used).where(
            ApiBudgetRow.source == source, ApiBudgetRow.month == month
        )
    ).scalar()
    return int(found or 0)


def spend(session: Session, *, source: str, month: str, requests: int, now: datetime) -> int:
    """Add ``requests`` to the month's count and return the new count."""
    values = {"source": source, "month": month, "used": requests, "updated_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(ApiBudgetRow).values(**values)
    elif dialect == "sqlite":
        statement = sqlite.insert(ApiBudgetRow).values(**values)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported stores
        raise NotImplementedError(f"the API budget is not implemented for {dialect}")
    statement = statement.on_conflict_do_update(
        index_elements=[ApiBudgetRow.source, ApiBudgetRow.month],
        set_={"used": ApiBudgetRow.used + requests, "updated_at": now},
    ).returning(ApiBudgetRow.used)
    return int(session.execute(statement).scalar_one())
