"""``tracker topics``: the affiliates' issues, what they match in the stored bills, and why.

::

    tracker topics [--format table|json]       id, names, fields, jurisdictions, stored matches
    tracker topics test TOPIC [--jurisdiction J] [--near-misses] [--format table|json]
    tracker topics rematch                     match every stored bill again and store it

``test`` runs the topic as ``topics.toml`` says *now* over the stored bills, so an edit shows at
once; nothing is stored until ``rematch``. The output helpers live in :mod:`tracker.cli`,
which imports this module to mount it; they are imported inside the commands so that either
module can be imported first.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import typer

from tracker.digest import MatchedTerm
from tracker.errors import TrackerError
from tracker.models import Bill
from tracker.topics import Topic, Verdict

topics_app = typer.Typer(
    no_args_is_help=False,
    invoke_without_command=True,
    rich_markup_mode=None,
    help=(
        "The affiliates' issues (topics.toml): list them, test one on the stored bills, "
        "and store the matches again after an edit."
    ),
)


class TopicFormat(enum.StrEnum):
    table = "table"
    json = "json"


FormatOption = Annotated[
    TopicFormat, typer.Option("--format", "-f", help="table for people, or json (JSON lines)")
]


def _explained(terms: Iterable[MatchedTerm]) -> str:
    """``driver privilege card (title); legal presence (summary)``."""
    return "; ".join(f"{t.term} ({t.field})" for t in terms)


@topics_app.callback()
def list_topics(ctx: typer.Context, fmt: FormatOption = TopicFormat.table) -> None:
    """List the configured topics with the number of stored bills matching each."""
    if ctx.invoked_subcommand is not None:
        return
    from tracker.cli import Format, emit
    from tracker.wiring import open_repository, settings_from_env

    settings = settings_from_env()
    repo = open_repository(settings)
    with repo.read() as db:
        counts = repo.topic_match_counts(db)
    rows = [_topic_row(topic, counts.get(topic.id, 0)) for topic in settings.topics]
    columns = ["id", "en", "ko", "es", "fields", "jurisdictions", "bills"]
    emit(iter(rows), fmt=Format(fmt.value), columns=columns)
    stale = sorted(set(counts) - {t.id for t in settings.topics})
    if stale:
        typer.echo(
            f"note: stored matches for topics no longer in topics.toml ({', '.join(stale)}); "
            "run: tracker topics rematch",
            err=True,
        )


def _topic_row(topic: Topic, bills: int) -> dict[str, Any]:
    return {
        "id": topic.id,
        "en": topic.names.en,
        "ko": topic.names.ko,
        "es": topic.names.es,
        "description": topic.description,
        "fields": [f.value for f in topic.fields],
        "jurisdictions": list(topic.jurisdictions) or ["all"],
        "terms": len(topic.terms),
        "bills": bills,
    }


@topics_app.command("test")
def try_topic(
    topic: Annotated[str, typer.Argument(help="a topic id, e.g. drivers-licenses")],
    jurisdiction: Annotated[
        str | None, typer.Option(help="only bills of this jurisdiction, e.g. va")
    ] = None,
    near_misses: Annotated[
        bool,
        typer.Option(
            "--near-misses",
            help="also show bills a term was found in but left out, and why "
            "(vetoed by an exclusion, or no co-term)",
        ),
    ] = False,
    fmt: FormatOption = TopicFormat.table,
) -> None:
    """Run TOPIC, as topics.toml says now, over the stored bills; print each matching bill
    with the terms that matched and the fields they were found in. Nothing is stored."""
    from tracker.cli import Format, emit, fail
    from tracker.matching import verdicts_over_stored
    from tracker.wiring import open_repository, settings_from_env

    settings = settings_from_env()
    repo = open_repository(settings)
    try:
        verdicts = verdicts_over_stored(repo=repo, topics=settings.topics, topic_id=topic,
                                        jurisdiction=jurisdiction)
    except TrackerError as exc:
        raise fail(str(exc)) from None
    tally = {"bills": 0, "match": 0, "near miss": 0}
    table = fmt is TopicFormat.table
    rows = _verdict_rows(verdicts, tally=tally, near_misses=near_misses, table=table)
    columns = ["key", "matched", "title"]
    if near_misses:
        columns = ["key", "verdict", "matched", "left out because", "title"]
    emit(rows, fmt=Format(fmt.value), columns=columns)
    where = f" in {jurisdiction}" if jurisdiction else ""
    summary = f"{topic}: {tally['match']} of {tally['bills']} stored bills{where} match"
    if near_misses:
        summary += f"; {tally['near miss']} near misses"
    typer.echo(summary, err=True)


def _verdict_rows(
    verdicts: Iterator[tuple[Bill, Verdict]], *, tally: dict[str, int], near_misses: bool,
    table: bool,
) -> Iterator[dict[str, Any]]:
    """One row per matching bill (and per near miss when asked), with the explanation as
    text for a table and as ``{"term", "field"}`` lists otherwise; ``tally`` counts."""
    for bill, verdict in verdicts:
        tally["bills"] += 1
        if verdict.is_match:
            kind = "match"
        elif near_misses and verdict.is_near_miss:
            kind = "near miss"
        else:
            continue
        tally[kind] += 1
        row: dict[str, Any] = {"key": str(bill.key), "title": bill.title, "topic": verdict.topic}
        if near_misses:
            row["verdict"] = kind
        if table:
            row["matched"] = _explained(verdict.matched)
            why = []
            if verdict.excluded_by:
                why.append(f"vetoed by {_explained(verdict.excluded_by)}")
            if verdict.unconfirmed:
                why.append(f"no co-term for {_explained(verdict.unconfirmed)}")
            row["left out because"] = "; ".join(why)
        else:
            row["matched"] = list(verdict.matched)
            if near_misses:
                row["unconfirmed"] = list(verdict.unconfirmed)
                row["excluded_by"] = list(verdict.excluded_by)
        yield row


@topics_app.command("rematch")
def rematch_topics() -> None:
    """Match every stored bill again with the topics in topics.toml and store the result
    (needed after editing topics.toml; polls keep matches current by themselves)."""
    from tracker.matching import rematch
    from tracker.wiring import open_repository, settings_from_env

    settings = settings_from_env()
    repo = open_repository(settings)
    live = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if live:
            sys.stderr.write(f"\r\033[Krematching: {done}/{total} bills")
            sys.stderr.flush()
        else:
            typer.echo(f"rematching: {done}/{total} bills", err=True)

    report = rematch(repo=repo, topics=settings.topics, progress=progress)
    if live:
        sys.stderr.write("\r\033[K")
    typer.echo(report.summary_line(topics=len(settings.topics)))
