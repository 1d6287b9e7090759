"""Source health from the recorded polls: last poll, last success, failures in a row, healthy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tracker.settings import Settings, SourceSettings
from tracker.source import SourceFactory
from tracker.storage.repository import Repository, RunView


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


def consecutive_failures(runs: list[RunView]) -> int:
    """Failed polls since the last one that succeeded (runs newest first)."""
    count = 0
    for run in runs:
        if run.status == "running":
            continue
        if run.status != "failed":
            break
        count += 1
    return count


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
) -> list[SourceStatus]:
    counts = repo.bill_counts_by_source(session)
    statuses = []
    for name in sorted(registry):
        factory = registry[name]
        configured = settings.sources.get(name, SourceSettings(name=name))
        runs = repo.runs(session, source=name, limit=50)
        finished = [r for r in runs if r.status != "running"]
        last = finished[0] if finished else None
        success = next((r for r in finished if r.status in ("ok", "partial")), None)
        failures = consecutive_failures(runs)
        note = _note(configured, factory, settings.environ)
        statuses.append(
            SourceStatus(
                name=name,
                title=factory.info.title,
                enabled=configured.enabled and not note.startswith("disabled: no API key"),
                sessions=list(configured.sessions),
                last_poll=last.started_at if last else None,
                last_success=success.started_at if success else None,
                last_error=last.error if last and last.status == "failed" else None,
                consecutive_failures=failures,
                healthy=failures < configured.max_failures,
                bills=counts.get(name, 0),
                note=note,
            )
        )
    return statuses
