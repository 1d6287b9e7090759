"""The ``tracker`` command. Thin: it parses options, calls the library and formats output.

Expected failures (bad config, unreachable database, a source that is down, a malformed
document) print one line on stderr and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import csv
import enum
import json
import logging
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifiers.text import display_text
from tracker.cli_digest import register as register_digest_commands
from tracker.cli_run import register as register_service_commands
from tracker.cli_subscriptions import register as register_subscription_commands
from tracker.cli_topics import topics_app
from tracker.cli_web import register as register_web_commands
from tracker.errors import TrackerError
from tracker.models import BillKey
from tracker.normalize import normalize
from tracker.pipeline import RunReport
from tracker.storage.repository import BillFilter, EventFilter, Repository
from tracker.wiring import build_pipeline, open_repository, settings_from_env

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help=(
        "Legislation tracker: polls federal and state bill sources, stores every change, and "
        "answers questions about bill history.\n\n"
        "Configuration: TRACKER_CONFIG (config folder, default ./config, falling back to the "
        "shipped defaults) and TRACKER_DATABASE_URL (default sqlite:///tracker.db)."
    ),
)


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people; csv, or json (JSON lines)")
]


def fail(message: str, *, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def emit(rows: Iterable[dict[str, Any]], *, fmt: Format, columns: Sequence[str]) -> int:
    """Write rows to stdout in the chosen format; returns how many were written."""
    count = 0
    out = sys.stdout
    if fmt is Format.json:
        for row in rows:
            out.write(json.dumps(_plain(row), ensure_ascii=False) + "\n")
            count += 1
        return count
    if fmt is Format.csv:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_spreadsheet_safe(_shown(row.get(c))) for c in columns])
            count += 1
        return count
    materialized = [[_shown(row.get(c)) for c in columns] for row in rows]
    widths = [
        min(60, max([len(c)] + [len(r[i]) for r in materialized])) for i, c in enumerate(columns)
    ]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for r in materialized:
        cells = [
            (v if len(v) <= w else v[: w - 1] + "…").ljust(w)
            for v, w in zip(r, widths, strict=True)
        ]
        out.write("  ".join(cells).rstrip() + "\n")
    return len(materialized)


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else "; ".join(
            _cell(v) for v in value
        )
    return str(value)


def _shown(value: Any) -> str:
    """A cell for people's screens and spreadsheets: upstream text (bill titles, actions) on
    one line, without control characters (a terminal obeys ESC sequences) or invisible bidi
    and zero-width characters (they reorder or hide what is shown). JSON keeps values whole."""
    return display_text(_cell(value))


def _spreadsheet_safe(cell: str) -> str:
    """A CSV cell that a spreadsheet will not run: text starting like a formula (``=``,
    ``+``, ``@``, or ``-`` before anything but a digit) gets a leading apostrophe."""
    if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not cell[1:2].isdigit()):
        return "'" + cell
    return cell


def _repository() -> Repository:
    return open_repository(settings_from_env())


# --- commands -----------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create or migrate the database to the newest schema."""
    settings = settings_from_env()
    open_repository(settings)
    from tracker.storage.engine import redact

    typer.echo(f"database ready: {redact(settings.database_url)}")


@app.command()
def poll(
    sources: Annotated[
        list[str] | None, typer.Argument(help="sources to poll (default: every enabled one)")
    ] = None,
) -> None:
    """Poll sources now and store every change; one summary line per source.

    Exits 1 when a source failed as a whole (its index unreachable, nothing found).
    """
    from scrapers import REGISTRY
    from tracker.leases import LeaseHeld, Leases, lease_ttl, process_holder
    from tracker.schedule import poll_source, pollable

    settings = settings_from_env()
    if sources:
        names = list(sources)
        for name in names:
            settings.source(name)
    else:
        # By default every enabled source that can be polled; a keyed source without its
        # key is named and skipped (asking for it by name gives its one-line error).
        names, skipped = pollable(settings, REGISTRY)
        for name, reason in skipped.items():
            typer.echo(f"{name}: skipped: {reason}")
    if not names:
        raise fail("no source can be polled: enable one in sources.toml, e.g. us-govinfo")

    repo = open_repository(settings)
    # The same per-source lease as the service's polls: never two polls of a source at once.
    leases = Leases(repo, holder=process_holder(), ttl=lease_ttl(settings.environ))
    failed = False
    with _progress() as progress, closing(
        build_pipeline(settings=settings, repo=repo, progress=progress)
    ) as pipeline:
        for name in names:
            try:
                report = poll_source(pipeline=pipeline, leases=leases, name=name,
                                     registry=pipeline.registry)
            except LeaseHeld as exc:
                typer.echo(f"{name}: skipped: being polled by {exc.lease.holder}")
                continue
            progress(None)
            typer.echo(report.summary_line())
            for failure in report.failures[:10]:
                typer.echo(f"  failed: {failure.error}", err=True)
            if len(report.failures) > 10:
                typer.echo(f"  ... and {len(report.failures) - 10} more failures", err=True)
            failed = failed or report.status == "failed"
    if failed:
        raise typer.Exit(1)


class _progress:
    """A one-line live counter on a terminal; silent when output is not a terminal."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()

    def __enter__(self) -> _progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self(None)

    def __call__(self, report: RunReport | None) -> None:
        if not self.live:
            return
        if report is None:
            sys.stderr.write("\r\033[K")
        else:
            sys.stderr.write(
                f"\r\033[K{report.source}: {report.discovered} discovered, {report.fetched} "
                f"fetched, {report.inserted} new, {report.updated} updated, "
                f"{report.failed} failed"
            )
        sys.stderr.flush()


@app.command()
def inspect(
    source: Annotated[str, typer.Argument(help="source name, e.g. us-govinfo")],
    paths: Annotated[list[Path], typer.Argument(help="local documents or folders")],
) -> None:
    """Parse local documents without touching the database; one JSON object per bill per line."""
    from scrapers import REGISTRY
    from scrapers.local import local_fetched, parser_for

    factory = REGISTRY.get(source)
    if factory is None:
        raise fail(f"unknown source {source!r} (known: {', '.join(sorted(REGISTRY))})")
    parser = parser_for(factory)
    for path in paths:
        for fetched in local_fetched(factory, path):
            for record in parser.parse(fetched):
                bill = normalize(record)
                row = {
                    "key": str(bill.key),
                    "jurisdiction": bill.key.jurisdiction,
                    "session": bill.key.session,
                    "identifier": bill.key.identifier,
                    "title": bill.title,
                    "stage": bill.stage,
                    "bill_type": bill.bill_type,
                    "actions": [
                        {"date": a.date, "actor": a.actor, "description": a.description,
                         "classification": list(a.classification)}
                        for a in bill.actions
                    ],
                    "sponsors": [{"name": s.name, "primary": s.primary} for s in bill.sponsors],
                    "subjects": list(bill.subjects),
                    "versions": [{"name": v.name, "date": v.date, "url": v.url}
                                 for v in bill.versions],
                    "url": bill.url,
                }
                sys.stdout.write(json.dumps(_plain(row), ensure_ascii=False) + "\n")


@app.command()
def bills(
    jurisdiction: Annotated[str | None, typer.Option(help="e.g. us, va")] = None,
    session: Annotated[str | None, typer.Option(help="e.g. 117, 2020")] = None,
    stage: Annotated[str | None, typer.Option(help="e.g. in-committee, enacted")] = None,
    topic: Annotated[
        str | None, typer.Option(help="only bills matching a topic, e.g. drivers-licenses")
    ] = None,
    q: Annotated[
        str | None, typer.Option("--q", help="text in title, identifier or summary")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List stored bills with their stage, last action date and topics.

    With --format json each bill's "topics" lists {"topic", "matched": [{"term", "field"}]}:
    the terms that made each match and where they were found.
    """
    from tracker.models import Stage
    from tracker.topics import find_topic

    if stage and stage not in {s.value for s in Stage}:
        raise fail(f"unknown stage {stage!r} (one of: {', '.join(s.value for s in Stage)})")
    settings = settings_from_env()
    if topic:
        try:
            find_topic(settings.topics, topic)
        except TrackerError as exc:
            raise fail(str(exc)) from None
    repo = open_repository(settings)
    filters = BillFilter(jurisdiction=jurisdiction, session=session, stage=stage, q=q, topic=topic)
    with repo.read() as db:
        rows = _bill_rows(repo, db, filters, explained=fmt is Format.json)
        columns = ["key", "stage", "last_action_date", "topics", "title"]
        if fmt is not Format.table:
            columns = ["key", "jurisdiction", "session", "identifier", "title", "stage",
                       "last_action_date", "topics", "url"]
        emit(rows, fmt=fmt, columns=columns)


def _bill_rows(
    repo: Repository, db: Session, filters: BillFilter, *, explained: bool
) -> Iterator[dict[str, Any]]:
    """Stored bills as output rows with their topics: the stored matches with their terms
    and fields when ``explained``, else the topic ids. Matches are read a page at a time."""
    from itertools import islice

    listed = repo.list_bills(db, filters)
    while page := list(islice(listed, 500)):
        matches = repo.topic_matches(db, bill_ids=[b.bill_id for b in page if b.bill_id])
        for b in page:
            found = matches.get(b.bill_id, []) if b.bill_id else []
            yield {
                "key": b.key, "jurisdiction": b.jurisdiction, "session": b.session,
                "identifier": b.identifier, "title": b.title, "stage": b.stage,
                "last_action_date": b.last_action_date,
                "topics": found if explained else [m.topic for m in found], "url": b.url,
            }


@app.command()
def history(
    key: Annotated[str, typer.Argument(help='a bill key, e.g. "us/117/HR 2471"')],
    fmt: FormatOption = Format.table,
) -> None:
    """A bill's actions (corrections marked removed) and its change events, oldest first."""
    bill_key = BillKey.parse(key)
    repo = _repository()
    with repo.read() as db:
        bill_id = repo.bill_id(db, bill_key)
        if bill_id is None:
            raise fail(f"no bill {bill_key} is stored (see: tracker bills --q ...)")
        rows: list[dict[str, Any]] = [
            {
                "record": "action", "date": a.date, "actor": a.actor,
                "description": a.description, "classification": a.classification,
                "removed": a.removed_at is not None, "first_seen_at": a.first_seen_at,
                "removed_at": a.removed_at,
            }
            for a in repo.actions_of(db, bill_id)
        ]
        rows += [
            {
                "record": "event", "id": e.id, "kind": e.kind, "date": e.detected_at,
                "detected_at": e.detected_at, "baseline": e.baseline, "details": e.details,
                "description": _describe_event(e.kind, e.details),
            }
            for e in repo.events(db, EventFilter(bill=str(bill_key)))
        ]
    columns = ["record", "date", "kind", "actor", "description", "classification", "removed"]
    if fmt is Format.json:
        columns = sorted({c for r in rows for c in r})
    emit(rows, fmt=fmt, columns=columns)


def _describe_event(kind: str, details: dict[str, Any]) -> str:
    if kind in ("new-action", "action-removed"):
        return f"{details.get('date')} {details.get('description')}"
    if kind in ("stage-change", "title-change"):
        return f"{details.get('from')} -> {details.get('to')}"
    if kind == "new-version":
        return str(details.get("name"))
    if kind == "new-bill":
        return f"{details.get('title')} ({details.get('stage')})"
    return ""


def _parse_since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        value = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"--since {since!r} is not an ISO date or time (e.g. 2026-11-30)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command()
def events(
    since: Annotated[str | None, typer.Option(help="ISO date or time, e.g. 2026-11-30")] = None,
    kind: Annotated[
        str | None, typer.Option(help="new-bill, new-action, stage-change, ...")
    ] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="e.g. us, va")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The change log: every stored change, oldest first."""
    from tracker.changes import ChangeKind

    if kind and kind not in {k.value for k in ChangeKind}:
        raise fail(f"unknown kind {kind!r} (one of: {', '.join(k.value for k in ChangeKind)})")
    repo = _repository()
    filters = EventFilter(since=_parse_since(since), kind=kind, jurisdiction=jurisdiction)
    with repo.read() as db:
        event_rows = (
            {
                "id": e.id, "bill": e.bill, "kind": e.kind, "detected_at": e.detected_at,
                "baseline": e.baseline, "details": e.details,
                "summary": _describe_event(e.kind, e.details),
            }
            for e in repo.events(db, filters)
        )
        columns = ["id", "detected_at", "bill", "kind", "baseline", "summary"]
        if fmt is not Format.table:
            columns = ["id", "bill", "kind", "detected_at", "baseline", "details"]
        emit(event_rows, fmt=fmt, columns=columns)


@app.command()
def sources(fmt: FormatOption = Format.table) -> None:
    """Every known source: enabled, sessions, last poll and success, last error, health."""
    from scrapers import REGISTRY
    from tracker.health import source_statuses

    settings = settings_from_env()
    repo = open_repository(settings)
    with repo.read() as db:
        rows = [asdict(s) for s in source_statuses(repo, db, settings=settings, registry=REGISTRY)]
    columns = ["name", "enabled", "sessions", "last_poll", "last_success", "consecutive_failures",
               "healthy", "bills", "last_error", "note"]
    if fmt is not Format.table:
        columns = list(rows[0]) if rows else columns
    emit(iter(rows), fmt=fmt, columns=columns)


register_service_commands(app)
register_subscription_commands(app)
register_digest_commands(app)
register_web_commands(app)


app.add_typer(topics_app, name="topics", help="The affiliates' issues: list, test, rematch.")


def _configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Iterator[str] | None = None) -> None:
    """Entry point of the ``tracker`` console script."""
    _configure_logging()
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except TrackerError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        # The database went away or stayed locked under a command (a lease, a read): one
        # line, as for every expected failure, not a traceback.
        typer.echo(f"error: database error: {str(exc).splitlines()[0]}", err=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive as ClickException subclasses
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
