"""The pages anyone may read: dashboard, bill search, a bill, the change log, topics.

* ``/`` the dashboard: changes of the last ``days`` (default 7) by jurisdiction and by topic,
  the latest changes, each enabled source's freshness, and a stage funnel per topic (SVG);
* ``/bills`` search (the filters of :mod:`tracker.web.filters`), sortable, paginated, with
  links to the same list as CSV and JSON;
* ``/bills/<jurisdiction>/<session>/<identifier>`` a bill: stage progress, the whole
  timeline, topics and why they matched, versions and official links, and a Follow button;
  a loosely written identifier (``hr2471``) redirects to the canonical address;
* ``/events`` the change log, with the same filters;
* ``/topics`` and ``/topics/<id>``: the configured topics, and one topic's bills by
  jurisdiction and stage;
* ``POST /language`` the language switch (kept in the session).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, redirect, request, session, url_for
from werkzeug.wrappers.response import Response

from tracker.digest import Language, TargetKind
from tracker.errors import InvalidBillKey
from tracker.health import source_statuses
from tracker.models import BillKey, Stage
from tracker.storage import subscriptions_repo as store
from tracker.storage import web_repo
from tracker.storage.repository import EventFilter
from tracker.storage.web_repo import BillQuery, BillScope, BillSort, EventQuery, EventSort
from tracker.topics import Topic
from tracker.web import present
from tracker.web.common import bill_url, current_visitor, render, topic_url, url_with, words
from tracker.web.filters import (
    BadFilter,
    Paging,
    bill_query_args,
    event_query_args,
    parse_bill_query,
    parse_event_query,
    parse_paging,
)
from tracker.web.present import Option, Words, options
from tracker.web.security import safe_next
from tracker.web.state import web_state

bp = Blueprint("pages", __name__)

DASHBOARD_DAYS, MAX_DAYS = 7, 90
RECENT_EVENTS = 15
TOPIC_BILLS = 10


@dataclass(frozen=True, slots=True)
class Follow:
    """The Follow button of a bill or topic page."""

    target: str
    signed_in: bool
    subscription_id: int | None

    @property
    def following(self) -> bool:
        return self.subscription_id is not None


def _follow(target_kind: TargetKind, target: str) -> Follow:
    who = current_visitor()
    subscription_id = None
    if who.email is not None:
        with web_state().repo.read() as db:
            subscriber = store.get_subscriber(db, who.email)
            if subscriber is not None:
                subscription_id = next(
                    (s.id for s in store.subscriptions_of(db, subscriber.id)
                     if s.active and s.target_kind == target_kind.value and s.target == target),
                    None,
                )
    return Follow(target=f"{target_kind.value}:{target}", signed_in=who.signed_in,
                  subscription_id=subscription_id)


def _page_url(endpoint: str, args: Mapping[str, str], paging: Paging, page: int) -> str:
    extra = {"per_page": str(paging.per_page)} if paging.per_page != Paging().per_page else {}
    return url_with(endpoint, {**args, **extra}, page=page)


# --- dashboard ----------------------------------------------------------------------------------


def _days() -> int:
    text = request.args.get("days", "")
    if not text:
        return DASHBOARD_DAYS
    if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise BadFilter(f"days={text!r} must be a whole number from 1 to {MAX_DAYS}")
    return int(text)


@bp.get("/")
def dashboard() -> tuple[str, int]:
    state, w = web_state(), words()
    days = _days()
    now = state.clock()
    since = now - timedelta(days=days)
    since_arg = since.date().isoformat()
    with state.repo.read() as db:
        by_jurisdiction = web_repo.changes_by_jurisdiction(db, since=since)
        by_topic = web_repo.changes_by_topic(db, since=since)
        recent, _ = web_repo.search_events(db, EventQuery(since=since), offset=0,
                                           limit=RECENT_EVENTS)
        stage_counts = web_repo.stage_counts_by_topic(db)
        statuses = source_statuses(state.repo, db, settings=state.settings,
                                   registry=state.registry, now=now)
        total = state.repo.count_bills(db)
    return render(
        "dashboard.html.j2",
        heading=w.plural("web.dashboard.changes_heading", days),
        by_jurisdiction=present.count_rows(
            by_jurisdiction, name=w.jurisdiction,
            url=lambda code: url_for("pages.events", jurisdiction=code, since=since_arg)),
        by_topic=present.count_rows(
            by_topic, name=w.topic,
            url=lambda topic: url_for("pages.events", topic=topic, since=since_arg)),
        recent=present.event_items(w, recent, bill_url=bill_url),
        all_changes_url=url_for("pages.events", since=since_arg),
        freshness=present.freshness(w, statuses),
        funnels=tuple(
            present.funnel_view(w, topic_id=topic.id, stage_counts=stage_counts.get(topic.id, {}),
                                url=topic_url(topic.id))
            for topic in state.settings.topics
        ),
        all_bills=w.plural("web.dashboard.all_bills", total),
        bills_url=url_for("pages.bills"),
    )


# --- bills --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeForm:
    """The filters bills and events share, as the search forms show them."""

    q: str
    topics: tuple[Option, ...]
    jurisdictions: tuple[Option, ...]
    session: str
    stages: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class SearchForm:
    scope: ScopeForm
    since: str
    until: str
    sorts: tuple[Option, ...]


def _any(w: Words) -> tuple[str, str]:
    return ("", w.t("web.search.any"))


def _topic_options(w: Words, topics: Sequence[Topic], selected: str | None) -> tuple[Option, ...]:
    return options([_any(w), *((t.id, w.topic(t.id)) for t in topics)], selected or "")


def _jurisdiction_options(w: Words, codes: Sequence[str], selected: str | None
                          ) -> tuple[Option, ...]:
    return options([_any(w), *((c, w.jurisdiction(c)) for c in codes)], selected or "")


def _stage_options(w: Words, selected: str | None) -> tuple[Option, ...]:
    return options([_any(w), *((s.value, w.stage(s.value, "")) for s in Stage)], selected or "")


def _scope_form(w: Words, scope: BillScope, codes: Sequence[str]) -> ScopeForm:
    return ScopeForm(
        q=scope.q or "", session=scope.session or "",
        topics=_topic_options(w, web_state().settings.topics, scope.topic),
        jurisdictions=_jurisdiction_options(w, codes, scope.jurisdiction),
        stages=_stage_options(w, scope.stage),
    )


@bp.get("/bills")
def bills() -> tuple[str, int]:
    state, w = web_state(), words()
    query = parse_bill_query(request.args, topics=state.topic_ids)
    paging = parse_paging(request.args)
    with state.repo.read() as db:
        found, total = web_repo.search_bills(db, query, offset=paging.offset,
                                             limit=paging.per_page)
        matches = state.repo.topic_matches(db, bill_ids=[b.id for b in found])
        codes = web_repo.jurisdictions(db)
    args = bill_query_args(query)
    form = SearchForm(
        scope=_scope_form(w, query.scope, codes),
        since=query.since.isoformat() if query.since else "",
        until=query.until.isoformat() if query.until else "",
        sorts=options(((s.value, w.t(f"web.sort.{s.value}")) for s in BillSort),
                      query.sort.value),
    )
    return render(
        "bills.html.j2", form=form,
        bills=present.bill_items(w, found, matches, bill_url=bill_url),
        found=w.plural("web.search.found", total),
        pager=present.pager(w, page=paging.page, pages=paging.pages(total),
                            url_for_page=lambda n: _page_url("pages.bills", args, paging, n)),
        csv_url=url_with("exports.bills_csv", args),
        json_url=url_with("api.bills", args),
        reset_url=url_for("pages.bills"),
    )


@bp.get("/bills/<jurisdiction>/<session>/<identifier>")
def bill(jurisdiction: str, session: str, identifier: str) -> tuple[str, int] | Response:
    state, w = web_state(), words()
    written = f"{jurisdiction}/{session}/{identifier}"
    try:
        key = BillKey.parse(written)
    except InvalidBillKey:
        abort(404)
    if str(key) != written:
        return redirect(bill_url(str(key)), code=301)
    with state.repo.read() as db:
        found = state.repo.get_bill(db, key)
        bill_id = state.repo.bill_id(db, key)
        if found is None or bill_id is None:
            abort(404)
        actions = state.repo.actions_of(db, bill_id)
        events = list(state.repo.events(db, EventFilter(bill=str(key))))
        matches = state.repo.topic_matches(db, bill_ids=[bill_id]).get(bill_id, [])
        times = web_repo.bill_times(db, bill_id)
    page = present.bill_page(w, found, actions=actions, events=events, matches=matches,
                             first_seen_at=times.first_seen_at if times else None,
                             topic_url=topic_url)
    return render(
        "bill.html.j2", bill=page, follow=_follow(TargetKind.BILL, str(key)),
        events_csv_url=url_for("exports.events_csv", bill=str(key), baseline="1", sort="oldest"),
        json_url=url_for("api.bill", jurisdiction=key.jurisdiction, session=key.session,
                         identifier=key.identifier),
    )


# --- events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventForm:
    scope: ScopeForm
    kinds: tuple[Option, ...]
    bill: str
    since: str
    until: str
    baseline: bool
    sorts: tuple[Option, ...]


@bp.get("/events")
def events() -> tuple[str, int]:
    state, w = web_state(), words()
    query = parse_event_query(request.args, topics=state.topic_ids)
    paging = parse_paging(request.args)
    with state.repo.read() as db:
        found, total = web_repo.search_events(db, query, offset=paging.offset,
                                              limit=paging.per_page)
        codes = web_repo.jurisdictions(db)
    args = event_query_args(query)
    form = EventForm(
        scope=_scope_form(w, query.scope, codes),
        kinds=options([_any(w), *((k, w.t(f"web.kind.{k}")) for k in present.CHANGE_KINDS)],
                      query.kind or ""),
        bill=query.bill or "",
        since=request.args.get("since", ""), until=request.args.get("until", ""),
        baseline=query.include_baseline,
        sorts=options(((s.value, w.t(f"web.sort.{s.value}")) for s in EventSort),
                      query.sort.value),
    )
    return render(
        "events.html.j2", form=form, events=present.event_items(w, found, bill_url=bill_url),
        found=w.plural("web.events.found", total),
        pager=present.pager(w, page=paging.page, pages=paging.pages(total),
                            url_for_page=lambda n: _page_url("pages.events", args, paging, n)),
        csv_url=url_with("exports.events_csv", args), json_url=url_with("api.events", args),
        reset_url=url_for("pages.events"),
    )


# --- topics -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicItem:
    name: str
    description: str
    bills: str
    url: str


@bp.get("/topics")
def topics() -> tuple[str, int]:
    state, w = web_state(), words()
    with state.repo.read() as db:
        counts = state.repo.topic_match_counts(db)
    items = tuple(
        TopicItem(name=w.topic(t.id), description=t.description,
                  bills=w.plural("web.topics.bills", counts.get(t.id, 0)), url=topic_url(t.id))
        for t in state.settings.topics
    )
    return render("topics.html.j2", topics=items)


@bp.get("/topics/<topic_id>")
def topic(topic_id: str) -> tuple[str, int]:
    state, w = web_state(), words()
    configured = next((t for t in state.settings.topics if t.id == topic_id), None)
    if configured is None:
        abort(404)
    with state.repo.read() as db:
        counts = web_repo.topic_matrix(db, topic_id)
        recent, total = web_repo.search_bills(
            db, BillQuery(scope=BillScope(topic=topic_id)), offset=0, limit=TOPIC_BILLS
        )
        matches = state.repo.topic_matches(db, bill_ids=[b.id for b in recent])
    stage_counts: dict[str, int] = {}
    for (_, stage), count in counts.items():
        stage_counts[stage] = stage_counts.get(stage, 0) + count
    return render(
        "topic.html.j2", name=w.topic(topic_id), description=configured.description,
        matrix=present.stage_matrix(w, counts, url=lambda code, stage: url_for(
            "pages.bills", topic=topic_id, jurisdiction=code, stage=stage)),
        funnel=present.funnel_view(w, topic_id=topic_id, stage_counts=stage_counts,
                                   url=topic_url(topic_id)),
        bills=present.bill_items(w, recent, matches, bill_url=bill_url),
        all_url=url_for("pages.bills", topic=topic_id),
        all_label=w.plural("web.topic.all_bills", total),
        follow=_follow(TargetKind.TOPIC, topic_id),
    )


# --- language -----------------------------------------------------------------------------------


@bp.post("/language")
def language() -> Response:
    chosen = request.form.get("lang", "")
    if chosen not in (lang.value for lang in Language):
        raise BadFilter(f"lang={chosen!r} is not one of: en, ko, es")
    session["lang"] = chosen
    return redirect(safe_next(request.form.get("next")), code=303)
