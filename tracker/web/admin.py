"""``/admin``: for staff only. An affiliate's subscribers, the delivery log, source health.

Staff are the addresses in ``TRACKER_STAFF`` (every affiliate) and those added with ``tracker
staff add EMAIL [--affiliate A]`` (one affiliate, or every one). Staff must have signed in with
an emailed link: a digest's manage link is not enough. A visitor who is not signed in (or
only through a manage link) is redirected to sign in and comes back; a signed-in visitor who is
not staff gets a 403.

Staff of one affiliate see only that affiliate's subscribers and their messages; staff of every
affiliate choose one (``?affiliate=``) or see all. Both lists are paginated (``page``,
``log_page``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers.response import Response

from notifiers.text import display_text
from tracker.health import source_statuses
from tracker.storage import web_repo
from tracker.web.common import catalog, current_visitor, notice, render, url_with, words
from tracker.web.filters import BadFilter
from tracker.web.present import Option, options, pager
from tracker.web.state import AUTH_LINK, web_state

bp = Blueprint("admin", __name__)
PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    enabled: bool
    last_success: str
    failures: int
    bills: int
    healthy: bool
    problems: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    email: str
    name: str
    affiliate: str
    language: str
    frequency: str
    following: int
    last_digest: str
    active: bool


@dataclass(frozen=True, slots=True)
class MessageRow:
    created: str
    recipient: str
    affiliate: str
    kind: str
    subject: str
    status: str
    attempts: int
    sent: str
    error: str


def _page(name: str) -> int:
    text = request.args.get(name, "1")
    if not text.isdigit() or int(text) < 1:
        raise BadFilter(f"{name}={text!r} must be a whole number from 1")
    return int(text)


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


@bp.get("/admin")
def admin() -> tuple[str, int] | Response:
    who = current_visitor()
    words_of = catalog()
    if who.email is None or who.auth != AUTH_LINK:
        if who.email is not None:
            notice(words_of.t("web.admin.link_needed"))
        return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")),
                        code=303)
    if who.staff_affiliate is None:
        return render("message.html.j2", status=403, title=words_of.t("web.admin.title"),
                      message=words_of.t("web.admin.forbidden", email=who.email), links=())
    state, w = web_state(), words()
    chosen = (request.args.get("affiliate") or "").strip() or None
    affiliate = who.staff_affiliate or chosen  # staff of one affiliate see only theirs
    page, log_page = _page("page"), _page("log_page")
    with state.repo.read() as db:
        people, people_total = web_repo.subscribers(db, affiliate=affiliate,
                                                    offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        log, log_total = web_repo.delivery_log(db, affiliate=affiliate,
                                               offset=(log_page - 1) * PER_PAGE, limit=PER_PAGE)
        known = web_repo.affiliates(db)
        statuses = source_statuses(state.repo, db, settings=state.settings,
                                   registry=state.registry, now=state.clock())
    choices: tuple[Option, ...] = ()
    if not who.staff_affiliate:
        choices = options([("", w.t("web.admin.all_affiliates")), *((a, a) for a in known)],
                          chosen or "")
    base = {"affiliate": chosen} if chosen and not who.staff_affiliate else {}
    sources = tuple(
        SourceRow(
            name=display_text(s.name), enabled=s.enabled,
            last_success=w.moment(s.last_success) if s.last_success else w.t("web.common.never"),
            failures=s.consecutive_failures, bills=s.bills, healthy=s.healthy,
            problems=tuple(display_text(p) for p in s.problems), note=display_text(s.note),
        )
        for s in statuses
    )
    return render(
        "admin.html.j2",
        scope=w.t("web.admin.scope", affiliate=affiliate) if affiliate else
        w.t("web.admin.all_affiliates"),
        affiliates=choices,
        subscribers=tuple(
            PersonRow(email=p.email, name=display_text(p.name),
                      affiliate=display_text(p.affiliate), language=p.language,
                      frequency=p.frequency, following=p.following,
                      last_digest=w.moment(p.last_digest_at) if p.last_digest_at else "",
                      active=p.active)
            for p in people
        ),
        subscribers_count=w.plural("web.admin.subscriber_count", people_total),
        subscribers_pager=pager(w, page=page, pages=_pages(people_total), url_for_page=lambda n:
                                url_with("admin.admin", base, page=n, log_page=log_page)),
        log=tuple(
            MessageRow(created=w.moment(m.created_at), recipient=m.recipient,
                       affiliate=display_text(m.affiliate), kind=m.kind,
                       subject=display_text(m.subject), status=m.status, attempts=m.attempts,
                       sent=w.moment(m.sent_at) if m.sent_at else "",
                       error=display_text(m.last_error or ""))
            for m in log
        ),
        log_pager=pager(w, page=log_page, pages=_pages(log_total), url_for_page=lambda n:
                                 url_with("admin.admin", base, page=page, log_page=n)),
        sources=sources,
    )
