"""The database-backed :class:`~tracker.source.QueryLedger` the pipeline gives each source.

Each count is one short transaction of its own, written as the request is made (not at the
end of the poll), so a poll that fails half-way, or a process that dies, still has its
requests counted. The month is the clock's calendar month in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from tracker.source import QueryUsage
from tracker.storage import budget_repo
from tracker.storage.repository import Repository


def month_of(moment: datetime) -> date:
    """The first day of ``moment``'s calendar month in UTC."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


class DatabaseLedger:
    """Counts ``source``'s requests in the ``api_budget`` table."""

    def __init__(self, repo: Repository, *, source: str, clock: Callable[[], datetime]) -> None:
        self._repo, self._source, self._clock = repo, source, clock

    def usage(self) -> QueryUsage:
        now = self._clock()
        month = month_of(now)
        with self._repo.read() as session:
            used = budget_repo.used(session, source=self._source, month=f"{month:%Y-%m}")
        return QueryUsage(month=month, used=used, as_of=now)

    def spend(self, requests: int) -> QueryUsage:
        now = self._clock()
        month = month_of(now)
        with self._repo.write() as session:
            used = budget_repo.spend(
                session, source=self._source, month=f"{month:%Y-%m}", requests=requests, now=now
            )
        return QueryUsage(month=month, used=used, as_of=now)
