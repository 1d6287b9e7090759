"""``tracker digest`` and ``tracker demo``: registered on the ``tracker`` app by :func:`register`.

* ``tracker digest --send``: route new changes, build every digest due now, queue and send
  every pending message at once (deferred ones too); one line per message with recipient,
  subject and, when writing ``.eml`` files, the path. Exit 1 when some message was not sent
  (refused, deferred, or the mail server unreachable), with the reason.
* ``tracker digest --preview EMAIL [--html FILE]``: render what ``EMAIL`` would be sent now,
  without sending or marking anything: the text on stdout, the HTML into ``FILE``.
* ``tracker demo [--out DIR]``: the offline tour (:mod:`tracker.demo`).

Expected failures (no signing key with SMTP, an unknown subscriber, a folder in the way) are
TrackerErrors, printed on one line by ``tracker.cli.main``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from tracker.settings import Settings
from tracker.storage.repository import Repository


def register(app: typer.Typer) -> None:
    """Add the ``digest`` and ``demo`` commands to ``app``."""
    app.command("digest")(digest)
    app.command("demo")(demo)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def digest(
    send: Annotated[
        bool, typer.Option("--send", help="queue and send every due digest now")
    ] = False,
    preview: Annotated[
        str | None, typer.Option("--preview", metavar="EMAIL", help="render one, send nothing")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="with --preview: write the HTML here"),
    ] = None,
) -> None:
    """Send the digests that are due, or preview the next one of a subscriber."""
    if send == (preview is not None):
        raise _fail("say --send, or --preview EMAIL (one of them)")
    if html is not None and preview is None:
        raise _fail("--html FILE goes with --preview EMAIL")
    from tracker.wiring import open_repository, settings_from_env

    settings = settings_from_env()
    repo = open_repository(settings)
    now = datetime.now(UTC)
    if preview is not None:
        _preview(repo, settings, preview, html=html, now=now)
    else:
        _send(repo, settings, now=now)


def _preview(
    repo: Repository, settings: Settings, email: str, *, html: Path | None, now: datetime
) -> None:
    from notifiers.service import preview as render_preview

    rendered = render_preview(repo, settings=settings, email=email, now=now)
    if rendered is None:
        typer.echo(f"nothing to send to {email} now", err=True)
        return
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.text, nl=False)
    if html is not None:
        try:
            html.write_text(rendered.html, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{html}: cannot write the HTML: {exc.strerror}") from None
        typer.echo(f"HTML written to {html}", err=True)


def _send(repo: Repository, settings: Settings, *, now: datetime) -> None:
    from notifiers.outbox import SENT
    from notifiers.service import send_digests

    report = send_digests(repo, settings=settings, now=now, ignore_schedule=True)
    summary = getattr(report.routing, "summary_line", None)
    if callable(summary):
        typer.echo(f"routing: {summary()}")
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    for skipped in report.skipped:
        typer.echo(f"skipped: {skipped}", err=True)
    send = report.send
    if send is not None:
        for outcome in send.outcomes:
            line = f"{outcome.status:<8}  {outcome.recipient}  {outcome.subject}"
            if outcome.status == SENT:
                typer.echo(f"{line}  {outcome.detail}")
                continue
            retry = ""
            if outcome.retry_at is not None:
                retry = f" (retry after {outcome.retry_at:%Y-%m-%d %H:%M} UTC)"
            typer.echo(f"{line}: {outcome.detail}{retry}", err=True)
        typer.echo(send.summary_line())
    if not report.ok:
        raise typer.Exit(1)


def demo(
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR",
                     help="where to put the demo (default: a new temporary folder)"),
    ] = None,
) -> None:
    """A one-minute offline tour: demo bills, two polls, subscribers in three languages,
    and the digests they receive as .eml and HTML files."""
    from tracker.demo import run_demo

    run_demo(out=out, say=typer.echo)
