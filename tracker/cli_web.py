"""The ``tracker`` commands of the web app: ``serve``, and ``staff add|remove|list``.

``register(app)`` adds them to the ``tracker`` Typer app.

* ``tracker serve [--host 127.0.0.1] [--port 8080] [--threads 8] [--debug]`` serves the web app
  (:mod:`tracker.web`) with waitress, a production WSGI server, or with --debug werkzeug's
  reloading development server. Outside --debug it refuses to start without
  ``TRACKER_SECRET_KEY`` (one line, exit 1), as it does for any configuration error.
* ``tracker staff add EMAIL [--affiliate A]``: EMAIL sees ``/admin`` (only affiliate A's
  subscribers when given); ``tracker staff remove EMAIL``; ``tracker staff list``. Addresses in
  ``TRACKER_STAFF`` are staff too (of every affiliate) and are listed with origin ``env``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from tracker.storage import web_repo
from tracker.subscriptions import parse_email
from tracker.wiring import open_repository, settings_from_env

staff_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8080,
    threads: Annotated[int, typer.Option(help="worker threads (waitress)", min=1, max=64)] = 8,
    debug: Annotated[
        bool, typer.Option("--debug", help="werkzeug's development server, with reloading")
    ] = False,
) -> None:
    """Serve the web app: dashboard, bill search and pages, exports, subscriptions, admin."""
    from tracker.web import create_app

    app = create_app(settings_from_env(), debug=debug)
    typer.echo(f"serving on http://{host}:{port}/ ({'debug' if debug else 'waitress'})")
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=True)
        return
    import waitress

    # The access log is off (waitress keeps none): no link token ever reaches a log.
    waitress.serve(app, host=host, port=port, threads=threads, ident="tracker")


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="the staff member's email address")],
    affiliate: Annotated[
        str, typer.Option(help="only this affiliate's subscribers (default: every affiliate)")
    ] = "",
) -> None:
    """Let EMAIL see /admin after signing in by an emailed link."""
    address = parse_email(email)
    repo = open_repository(settings_from_env())
    with repo.write() as db:
        changed = web_repo.add_staff(db, email=address, affiliate=affiliate.strip(),
                                     now=datetime.now(UTC))
    scope = f"affiliate {affiliate.strip()}" if affiliate.strip() else "every affiliate"
    typer.echo(f"{address}: staff of {scope}" + ("" if changed else " (unchanged)"))


@staff_app.command("remove")
def staff_remove(email: Annotated[str, typer.Argument(help="the address to remove")]) -> None:
    """Stop EMAIL seeing /admin (addresses in TRACKER_STAFF stay staff)."""
    address = parse_email(email)
    repo = open_repository(settings_from_env())
    with repo.write() as db:
        removed = web_repo.remove_staff(db, email=address)
    if not removed:
        from tracker.cli import fail

        raise fail(f"{address} is not staff (see: tracker staff list)")
    typer.echo(f"{address}: no longer staff")


@staff_app.command("list")
def staff_list() -> None:
    """Every staff member: address, affiliate (empty: every one), origin, since."""
    from tracker.cli import Format, emit
    from tracker.web.state import staff_from_env  # flask is imported only when needed

    settings = settings_from_env()
    repo = open_repository(settings)
    with repo.read() as db:
        stored = web_repo.list_staff(db)
    rows: list[dict[str, object]] = [
        {"email": e, "affiliate": "", "origin": "env", "added_at": None}
        for e in sorted(staff_from_env(settings.environ))
    ]
    rows += [{"email": s.email, "affiliate": s.affiliate, "origin": "cli",
              "added_at": s.added_at} for s in stored]
    emit(iter(rows), fmt=Format.table, columns=["email", "affiliate", "origin", "added_at"])


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``staff`` commands to ``app``."""
    app.command("serve")(serve)
    app.add_typer(staff_app, name="staff", help="Who sees /admin: add, remove, list.")
