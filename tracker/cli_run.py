"""``tracker run`` (the service), ``tracker status`` (its summary) and the global
``--log-format`` option; :func:`register` adds them to the ``tracker`` command.

Logs go to stderr, one line per record: ``text`` for people, ``json`` (one object per line:
``ts``, ``level``, ``logger``, ``msg`` plus the record's fields, e.g. every count of a poll)
for log collectors. Every line passes through :func:`redact` first: secret-looking query
parameters and URL passwords are masked, whatever logged them.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated, Any

import typer

from tracker.http import redact_url
from tracker.leases import LEADER, Lease, process_holder
from tracker.schedule import Service, ServiceOptions
from tracker.settings import config_file

log = logging.getLogger("tracker.run")

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
_PASSWORD = re.compile(r"(://[^:/@\s]+):[^@/\s]+@")
# A secret-looking name=value outside a URL (an exception quoting a form or a header).
_SECRET_PAIR = re.compile(
    r"(?i)\b((?:[a-z0-9]+[_-])?(?:api[_-]?key|apikey|key|token|secret|password|signature))"
    r"=[^&\s'\"]+"
)
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


class StatusFormat(enum.StrEnum):
    table = "table"
    json = "json"


def redact(text: str) -> str:
    """``text`` with URL passwords and secret-looking values (``api_key=...``) masked."""
    text = _URL.sub(lambda match: _PASSWORD.sub(r"\1:***@", redact_url(match.group(0))), text)
    return _SECRET_PAIR.sub(r"\1=***", text)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, then ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": _iso(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                data.setdefault(str(key), _jsonable(value))
        for key, value in vars(record).items():  # other extra= keys
            if key not in _RECORD_ATTRIBUTES and key != "fields":
                data.setdefault(key, _jsonable(value))
        if record.exc_info:
            data["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class TextLogFormatter(logging.Formatter):
    """``2026-12-01T09:00:00.000Z INFO tracker.pipeline: us-govinfo: ok; ...``, redacted."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        stamp = _iso(datetime.fromtimestamp(record.created, UTC))
        return f"{stamp} {redact(super().format(record))}"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a record comes (test runners replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(*, fmt: LogFormat, level: int = logging.WARNING) -> None:
    """Send every log record to stderr in ``fmt``, one line each. Replaces the plain stderr
    handlers of an earlier configuration, and leaves any other handler alone."""
    handler = StderrHandler()
    handler.setFormatter(JsonLogFormatter() if fmt is LogFormat.json else TextLogFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) is logging.StreamHandler or isinstance(old, StderrHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The scheduler's own lines repeat what tracker.schedule.log_job_event says in one line.
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)


def global_options(
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", envvar="TRACKER_LOG_FORMAT",
                     help="log lines on stderr: text, or json (one object per line)"),
    ] = LogFormat.text,
) -> None:
    """Legislation tracker: polls bill sources, stores every change, sends digests."""
    configure_logging(fmt=log_format)


# --- tracker run ----------------------------------------------------------------------------------


def run(
    lease_seconds: Annotated[
        float | None,
        typer.Option(help="lease period: a standby takes over this long after the leader dies "
                     "[env TRACKER_LEASE_SECONDS; default 60]", show_default=False),
    ] = None,
    digest_every: Annotated[
        str | None,
        typer.Option(help="how often instant alerts and due digests are sent, e.g. 1m "
                     "[env TRACKER_DIGEST_EVERY; default 1m]", show_default=False),
    ] = None,
) -> None:
    """Run the service: poll every enabled source on its interval and send digests on time.

    Migrates the database first and uses the shipped config when there is none. Several
    processes may share one database: one schedules, the others stand by and take over when
    it dies. SIGTERM or SIGINT stops it cleanly (exit 0).
    """
    from scrapers import REGISTRY
    from tracker.storage.engine import redact as redact_database
    from tracker.wiring import build_pipeline, open_repository, settings_from_env

    settings = settings_from_env()
    options = ServiceOptions.from_environ(
        settings.environ, digest_every=digest_every, lease_seconds=lease_seconds,
    )
    repo = open_repository(settings)
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    log.info("database %s ready; sources from %s", redact_database(settings.database_url),
             config_file(settings.config_dir, "sources.toml"))
    # subscribers.toml is synced on start (CLI-made subscriptions are left alone).
    from datetime import UTC, datetime

    from tracker.subscriber_config import sync_subscribers

    log.info("%s", sync_subscribers(repo, settings, now=datetime.now(UTC)).summary_line())
    service = Service(
        settings=settings, repo=repo, registry=REGISTRY, holder=process_holder(),
        build_pipeline=lambda: build_pipeline(settings=settings, repo=repo), options=options,
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        service.request_stop(f"received {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        clean = service.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        repo.engine.dispose()
    if not clean:
        # Threads stuck on upstream would keep the interpreter alive; their runs are closed.
        logging.shutdown()
        os._exit(0)


# --- tracker status -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobLine:
    id: str
    description: str
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """What ``tracker status`` reports."""

    now: datetime
    leader: Lease | None
    leader_alive: bool
    jobs: list[JobLine]
    queues: dict[str, int]
    unhealthy: dict[str, list[str]]


def service_status() -> ServiceStatus:
    from scrapers import REGISTRY
    from tracker.health import source_statuses
    from tracker.storage import leases_repo
    from tracker.wiring import open_repository, settings_from_env

    settings = settings_from_env()
    repo = open_repository(settings)
    now = datetime.now(UTC)
    with repo.read() as session:
        record = leases_repo.get_lease(session, LEADER)
        jobs = [JobLine(j.id, j.description, j.next_run_at)
                for j in leases_repo.list_jobs(session)]
        queues = leases_repo.queue_counts(session)
        unhealthy = {s.name: list(s.problems) for s in
                     source_statuses(repo, session, settings=settings, registry=REGISTRY, now=now)
                     if not s.healthy}
    repo.engine.dispose()
    leader = Lease(**asdict(record)) if record else None
    return ServiceStatus(now=now, leader=leader, leader_alive=bool(leader and leader.alive(now)),
                         jobs=jobs, queues=queues, unhealthy=unhealthy)


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def status_lines(report: ServiceStatus) -> list[str]:
    """The table form of ``tracker status`` (pure)."""
    lead = report.leader
    if lead and report.leader_alive:
        lines = [f"scheduler: {lead.holder}, leading since {_iso(lead.acquired_at)}; heartbeat "
                 f"{_ago(report.now, lead.heartbeat)}, lease until {_iso(lead.expires_at)}"]
    elif lead:
        lines = [f"scheduler: none running (last: {lead.holder}, lease ended "
                 f"{_iso(lead.expires_at)})"]
    else:
        lines = ["scheduler: none has run on this database yet (start one: tracker run)"]
    if report.jobs:
        lines.append("next runs:" if report.leader_alive else "next runs (as last planned):")
        width = max(len(j.id) for j in report.jobs)
        for job in report.jobs:
            when = _iso(job.next_run_at) if job.next_run_at else "paused"
            lines.append(f"  {job.id.ljust(width)}  {when}  {job.description}")
    q = report.queues
    lines.append(f"deliveries pending: {q['deliveries_pending']}; outbox: "
                 f"{q['outbox_pending']} pending, {q['outbox_failed']} failed")
    if not report.unhealthy:
        lines.append("unhealthy sources: none")
    else:
        lines.append("unhealthy sources:")
        lines += [f"  {name}: {'; '.join(problems)}" for name, problems in report.unhealthy.items()]
    return lines


def status_json(report: ServiceStatus) -> dict[str, Any]:
    data: dict[str, Any] = _jsonable(asdict(report))
    data["leader"] = _jsonable(asdict(report.leader)) if report.leader else None
    return data


def status(
    fmt: Annotated[StatusFormat, typer.Option("--format", "-f", help="table or json")] = (
        StatusFormat.table
    ),
    check: Annotated[
        bool, typer.Option("--check", help="exit 1 when no live scheduler holds the lease")
    ] = False,
) -> None:
    """The service at a glance: the scheduler and its heartbeat, the next runs, pending
    deliveries and outbox messages, and unhealthy sources."""
    report = service_status()
    if fmt is StatusFormat.json:
        sys.stdout.write(json.dumps(status_json(report), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write("\n".join(status_lines(report)) + "\n")
    if check and not report.leader_alive:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``run``, ``status`` and the global ``--log-format`` option to ``app``."""
    app.callback()(global_options)
    app.command("run")(run)
    app.command("status")(status)
