"""Source health from the recorded polls, so operators hear of a broken source before users do.

A source is **unhealthy** when any of these holds (each gives one line in ``problems``):

* **failing**: its last ``max_failures`` polls (``[sources.<name>] max_failures``, default 3)
  failed in a row. Polls that did not finish on their own (``running``, ``stopped`` by a
  shutdown, ``abandoned`` by a killed process) are neither failures nor successes and are
  skipped.
* **quiet**: an active session (one listed in ``sessions``) has had no change for longer than
  ``quiet_period``, counted from the session's last change (``source_sessions.last_change_at``,
  set by the baseline too), or from the source's first successful poll for a session that
  never yielded a bill. This is the silent scraper: polls succeed and find nothing. Set the
  quiet period longer than the legislature's usual recess; without one the rule is off.
* **shrunk**: the last successful poll that read documents got fewer than half as many bills
  per document as the one before it (``bills_seen / fetched``), when that one saw at least
  ten. Per document, because incremental sources (us-govinfo fetches only changed bill files,
  one bill each) see few bills on a quiet day and that is not a fault; for a bulk source (a
  session's whole bill list in one file) half the bills gone is a truncated or broken upstream
  file. The state clears when a later poll reads a full file again.

Disabled sources are reported but not judged (they are not polled). The rules are pure
(:func:`assess`); :func:`source_statuses` and :func:`source_health` read what they need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tracker.settings import Settings, SourceSettings
from tracker.source import SourceFactory
from tracker.storage import leases_repo
from tracker.storage.leases_repo import SessionActivity
from tracker.storage.repository import Repository, RunView

#: Run statuses that say nothing about the upstream: skipped when counting failures.
UNFINISHED = frozenset({"running", "stopped", "abandoned"})
SUCCESS = frozenset({"ok", "partial"})
SHRINK_RATIO = 0.5
SHRINK_MIN_BILLS = 10
RUNS_READ = 50


@dataclass(frozen=True, slots=True)
class SourceStatus:
    name: str
    title: str
    enabled: bool
    sessions: list[str]
    last_poll: datetime | None
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    healthy: bool
    bills: int
    note: str
    problems: tuple[str, ...] = ()
    last_change_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """The verdict on one source: healthy, or the problems that make it not."""

    problems: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems


def consecutive_failures(runs: Sequence[RunView]) -> int:
    """Failed polls since the last one that succeeded (runs newest first)."""
    count = 0
    for run in runs:
        if run.status in UNFINISHED:
            continue
        if run.status != "failed":
            break
        count += 1
    return count


def _failing(settings: SourceSettings, runs: Sequence[RunView]) -> str | None:
    failures = consecutive_failures(runs)
    if failures < settings.max_failures:
        return None
    last = next(r for r in runs if r.status == "failed")
    return f"{failures} failed polls in a row; last error: {last.error or 'unknown'}"


def _quiet(
    settings: SourceSettings, activity: Mapping[str, SessionActivity],
    first_success: datetime | None, now: datetime,
) -> list[str]:
    if settings.quiet_period is None or first_success is None:
        return []
    problems = []
    for name in settings.sessions:
        seen = activity.get(name)
        since = (seen.last_change_at or seen.baselined_at) if seen else None
        since = since or first_success
        if now - since > settings.quiet_period:
            what = "no change" if seen else "no bills at all"
            problems.append(
                f"session {name}: {what} since {since:%Y-%m-%d %H:%M} UTC "
                f"(quiet period {_duration(settings.quiet_period)})"
            )
    return problems


def _shrunk(runs: Sequence[RunView]) -> str | None:
    reading = [r for r in runs if r.status in SUCCESS and r.counts.get("fetched", 0) > 0]
    if len(reading) < 2:
        return None
    last, before = reading[0], reading[1]
    last_bills, last_docs = last.counts.get("bills_seen", 0), last.counts["fetched"]
    before_bills, before_docs = before.counts.get("bills_seen", 0), before.counts["fetched"]
    if before_bills < SHRINK_MIN_BILLS:
        return None
    # Cross-multiplied: last_bills / last_docs < ratio * before_bills / before_docs.
    if last_bills * before_docs >= SHRINK_RATIO * before_bills * last_docs:
        return None
    return (
        f"the last poll read {last_bills} bills from {last_docs} documents, under half of "
        f"the {before_bills} from {before_docs} the poll before"
    )


def assess(
    *, settings: SourceSettings, runs: Sequence[RunView],
    activity: Mapping[str, SessionActivity], first_success: datetime | None, now: datetime,
) -> Health:
    """Judge one source by the rules in the module docstring (``runs`` newest first)."""
    if not settings.enabled:
        return Health()
    problems: list[str] = []
    failing = _failing(settings, runs)
    if failing:
        problems.append(failing)
    problems.extend(_quiet(settings, activity, first_success, now))
    shrunk = _shrunk(runs)
    if shrunk:
        problems.append(shrunk)
    return Health(tuple(problems))


def source_health(
    repo: Repository, session: Session, *, name: str, settings: Settings, now: datetime,
) -> Health:
    """The health of source ``name`` as the database says now."""
    configured = settings.sources.get(name, SourceSettings(name=name))
    return assess(
        settings=configured,
        runs=repo.runs(session, source=name, limit=RUNS_READ),
        activity=leases_repo.session_activity(session, source=name),
        first_success=leases_repo.first_success_at(session, source=name),
        now=now,
    )


def _note(settings: SourceSettings, factory: SourceFactory, environ: Mapping[str, str]) -> str:
    info = factory.info
    if info.needs_key:
        names = settings.key_env or info.key_env
        if not settings.key(environ) and not any(environ.get(n) for n in info.key_env):
            return f"disabled: no API key; set {' or '.join(names)}"
        return "key set"
    return "" if settings.enabled else "disabled in sources.toml"


def source_statuses(
    repo: Repository,
    session: Session,
    *,
    settings: Settings,
    registry: Mapping[str, SourceFactory],
    now: datetime | None = None,
) -> list[SourceStatus]:
    """Every registered source with its last polls and its health (see the module docstring)."""
    now = now or datetime.now(UTC)
    counts = repo.bill_counts_by_source(session)
    statuses = []
    for name in sorted(registry):
        factory = registry[name]
        configured = settings.sources.get(name, SourceSettings(name=name))
        runs = repo.runs(session, source=name, limit=RUNS_READ)
        finished = [r for r in runs if r.status not in UNFINISHED]
        last = finished[0] if finished else None
        success = next((r for r in finished if r.status in SUCCESS), None)
        note = _note(configured, factory, settings.environ)
        enabled = configured.enabled and not note.startswith("disabled: no API key")
        activity = leases_repo.session_activity(session, source=name)
        health = assess(
            settings=configured if enabled else SourceSettings(name=name), runs=runs,
            activity=activity, first_success=leases_repo.first_success_at(session, source=name),
            now=now,
        )
        changes = [a.last_change_at for a in activity.values() if a.last_change_at]
        statuses.append(
            SourceStatus(
                name=name,
                title=factory.info.title,
                enabled=enabled,
                sessions=list(configured.sessions),
                last_poll=last.started_at if last else None,
                last_success=success.started_at if success else None,
                last_error=last.error if last and last.status == "failed" else None,
                consecutive_failures=consecutive_failures(runs),
                healthy=health.healthy,
                bills=counts.get(name, 0),
                note=note,
                problems=health.problems,
                last_change_at=max(changes) if changes else None,
            )
        )
    return statuses


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
