"""Stored values -> what the pages show. Every decision a template needs is made here.

The templates (``tracker/web/templates``) only loop over lists and test ready-made flags. The
words come from the page's catalog (:mod:`tracker.web.i18n`), dates are written the catalog's
way in the reader's time zone, and upstream text (titles, action texts, names, links) passes
through :mod:`notifiers.text` first: one line, no control or invisible characters, links only
when they are plain http(s). Nothing here is markup; the templates escape every value.

Choices made for the reader:

* a bill's timeline is one list, oldest first: each action on its own date (an action that
  upstream later removed stays, marked as a correction with when it disappeared; one that
  arrived after the first poll says when the tracker noticed it), and the tracker's own
  records (first stored, moved to a stage, retitled, new text version) on the day they were
  detected; the new-action and action-removed events are not repeated beside their action;
* the stage progress is the digest's ladder (introduced -> law), a veto shown as a badge
  after the executive step, and failed, withdrawn and adopted as a badge alone;
* each matched topic says why it matched: every term, with the fields it was found in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from notifiers.catalog import Catalog
from notifiers.context import bill_label
from notifiers.text import display_text, safe_url
from tracker.changes import ChangeKind
from tracker.health import SourceStatus
from tracker.models import LADDER, Bill, Stage
from tracker.storage.repository import ActionView, EventView
from tracker.storage.web_repo import BillListing, ChangeCount, EventListing
from tracker.topics import Topic, TopicMatch
from tracker.web import funnel, i18n

STEP_DONE, STEP_CURRENT, STEP_TODO = "done", "current", "todo"
CHANGE_KINDS: tuple[str, ...] = tuple(kind.value for kind in ChangeKind)
UrlFor = Callable[[str], str]


class Words:
    """The reader's words: catalog lookups, dates in their zone, names of stages and topics."""

    def __init__(
        self, catalog: Catalog, *, topics: Sequence[Topic], zone: tzinfo, now: datetime
    ) -> None:
        self.catalog, self.zone, self.now = catalog, zone, now
        self.t, self.plural = catalog.t, catalog.plural
        self._topics = {topic.id: topic for topic in topics}

    def join(self, parts: Iterable[str]) -> str:
        return self.t("list.separator").join(parts)

    def day_text(self, day: date) -> str:
        return i18n.format_date(self.catalog, day)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def moment(self, moment: datetime) -> str:
        return i18n.format_moment(self.catalog, moment, self.zone)

    def ago(self, moment: datetime) -> str:
        return i18n.ago(self.catalog, moment, now=self.now)

    def stage(self, stage: str, jurisdiction: str) -> str:
        return i18n.stage_name(self.catalog, stage, jurisdiction)

    def jurisdiction(self, code: str) -> str:
        return i18n.jurisdiction_name(self.catalog, code)

    def topic(self, topic_id: str) -> str:
        topic = self._topics.get(topic_id)
        if topic is None:
            return display_text(topic_id)
        return topic.names.in_language(self.catalog.language.value)

    def actor(self, actor: str) -> str:
        return self.catalog.get(f"web.actor.{actor}") or display_text(actor)


# --- small views --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    selected: bool


def options(choices: Iterable[tuple[str, str]], selected: str | None) -> tuple[Option, ...]:
    return tuple(Option(value, label, value == selected) for value, label in choices)


@dataclass(frozen=True, slots=True)
class Step:
    label: str
    state: str  # done | current | todo

    @property
    def current(self) -> bool:
        return self.state == STEP_CURRENT


@dataclass(frozen=True, slots=True)
class Progress:
    steps: tuple[Step, ...]
    side_stage: str

    @property
    def show_steps(self) -> bool:
        return bool(self.steps)


def progress(words: Words, stage: str, jurisdiction: str) -> Progress:
    """The ladder as steps, and the side stage (veto, failure ...) shown as a badge."""
    ladder = [s.value for s in LADDER]
    if stage in ladder:
        reached, side = ladder.index(stage), ""
    elif stage == Stage.VETOED.value:
        reached, side = ladder.index(Stage.TO_EXECUTIVE.value), words.stage(stage, jurisdiction)
    else:
        return Progress(steps=(), side_stage=words.stage(stage, jurisdiction))
    steps = []
    for position, step in enumerate(ladder):
        if position < reached or (side and position == reached):
            state = STEP_DONE
        elif position == reached:
            state = STEP_CURRENT
        else:
            state = STEP_TODO
        label = i18n.ladder_label(words.catalog, step, jurisdiction)
        steps.append(Step(label=label, state=state))
    return Progress(steps=tuple(steps), side_stage=side)


def explain(words: Words, match: TopicMatch) -> str:
    """"“language access” in the title, the summary", from a stored topic match."""
    fields: dict[str, list[str]] = {}  # term -> its fields, in the order they matched
    for term in match.matched:
        found = fields.setdefault(display_text(term.term), [])
        name = i18n.field_name(words.catalog, term.field)
        if name not in found:
            found.append(name)
    return words.join(words.t("why.term", term=term, field=words.join(names))
                      for term, names in fields.items())


# --- listings -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillItem:
    key: str
    label: str
    title: str
    url: str
    stage: str
    stage_class: str
    jurisdiction: str
    session: str
    last_action: str
    topics: str


def bill_items(
    words: Words, listings: Sequence[BillListing], topics: Mapping[int, Sequence[TopicMatch]],
    *, bill_url: UrlFor,
) -> tuple[BillItem, ...]:
    return tuple(
        BillItem(
            key=b.key, label=bill_label(b.jurisdiction, b.identifier),
            title=display_text(b.title), url=bill_url(b.key),
            stage=words.stage(b.stage, b.jurisdiction), stage_class=f"stage-{b.stage}",
            jurisdiction=words.jurisdiction(b.jurisdiction), session=display_text(b.session),
            last_action=words.day_text(b.last_action_date) if b.last_action_date else "",
            topics=words.join(words.topic(m.topic) for m in topics.get(b.id, ())),
        )
        for b in listings
    )


def describe_change(
    words: Words, kind: str, details: Mapping[str, Any], jurisdiction: str
) -> tuple[str, str]:
    """(phrase, detail) of one stored change: "Moved from “x” to “y”", "New action" + text."""
    def text(name: str) -> str:
        value = details.get(name)
        return display_text(str(value)) if value is not None else ""

    if kind == ChangeKind.STAGE_CHANGE.value:
        return words.t("change.stage-change",
                       from_stage=words.stage(text("from"), jurisdiction),
                       to_stage=words.stage(text("to"), jurisdiction)), ""
    phrase = words.catalog.get(f"change.{kind}") or display_text(kind)
    if kind == ChangeKind.NEW_BILL.value:
        return phrase, words.stage(text("stage"), jurisdiction)
    if kind in (ChangeKind.NEW_ACTION.value, ChangeKind.ACTION_REMOVED.value):
        day = details.get("date")
        try:
            when = words.day_text(date.fromisoformat(str(day))) if day else ""
        except ValueError:
            when = text("date")
        return phrase, f"{when}: {text('description')}" if when else text("description")
    if kind == ChangeKind.NEW_VERSION.value:
        return phrase, text("name")
    if kind == ChangeKind.TITLE_CHANGE.value:
        return phrase, text("to")
    return phrase, ""


@dataclass(frozen=True, slots=True)
class EventItem:
    id: int
    when: str
    bill_label: str
    bill_url: str
    title: str
    phrase: str
    detail: str
    removed: bool
    baseline: bool


def event_items(
    words: Words, listings: Sequence[EventListing], *, bill_url: UrlFor
) -> tuple[EventItem, ...]:
    items = []
    for e in listings:
        phrase, detail = describe_change(words, e.kind, e.details, e.jurisdiction)
        items.append(EventItem(
            id=e.id, when=words.moment(e.detected_at),
            bill_label=bill_label(e.jurisdiction, e.identifier), bill_url=bill_url(e.bill_key),
            title=display_text(e.bill_title), phrase=phrase, detail=detail,
            removed=e.kind == ChangeKind.ACTION_REMOVED.value, baseline=e.baseline,
        ))
    return tuple(items)


@dataclass(frozen=True, slots=True)
class Pager:
    text: str
    previous_url: str | None
    next_url: str | None

    @property
    def show(self) -> bool:
        return bool(self.previous_url or self.next_url)


def pager(words: Words, *, page: int, pages: int, url_for_page: Callable[[int], str]) -> Pager:
    return Pager(
        text=words.t("web.page.of", page=page, pages=pages),
        previous_url=url_for_page(page - 1) if page > 1 else None,
        next_url=url_for_page(page + 1) if page < pages else None,
    )


# --- the bill page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    date: str
    actor: str
    text: str
    classes: str
    note: str
    removed: bool
    tracker: bool  # a record of the tracker's, not an action of the legislature


def timeline(
    words: Words, *, actions: Sequence[ActionView], events: Sequence[EventView],
    jurisdiction: str,
) -> tuple[TimelineEntry, ...]:
    """The bill's actions and the tracker's records in one list; see the module docstring."""
    noticed = {e.action_uid: e.detected_at for e in events
               if e.kind == ChangeKind.NEW_ACTION.value and not e.baseline and e.action_uid}
    uids = {a.uid for a in actions}
    ordered: list[tuple[tuple[date, int, int], TimelineEntry]] = []
    for position, action in enumerate(actions):
        note = ""
        if action.removed_at is not None:
            note = f"{words.t('change.action-removed')} · {words.moment(action.removed_at)}"
        elif action.uid in noticed:
            note = words.t("web.bill.noticed", when=words.moment(noticed[action.uid]))
        ordered.append(((action.date, 0, position), TimelineEntry(
            date=words.day_text(action.date), actor=words.actor(action.actor),
            text=display_text(action.description), classes=", ".join(action.classification),
            note=note, removed=action.removed_at is not None, tracker=False,
        )))
    for event in events:
        text = _tracker_record(words, event, jurisdiction=jurisdiction, uids=uids)
        if text is None:
            continue
        day = words.day_of(event.detected_at)
        removed = event.kind == ChangeKind.ACTION_REMOVED.value
        ordered.append(((day, 1, event.id), TimelineEntry(
            date=words.day_text(day), actor="", text=text, classes="",
            note=words.t("change.action-removed") if removed else words.t("web.bill.recorded"),
            removed=removed, tracker=True,
        )))
    return tuple(entry for _, entry in sorted(ordered, key=lambda pair: pair[0]))


def _tracker_record(
    words: Words, event: EventView, *, jurisdiction: str, uids: set[str]
) -> str | None:
    """The timeline text of one event, or None when its action already tells it."""
    details = event.details
    if event.kind in (ChangeKind.NEW_ACTION.value, ChangeKind.ACTION_REMOVED.value):
        if event.action_uid in uids:
            return None
        return display_text(str(details.get("description", "")))
    if event.kind == ChangeKind.NEW_BILL.value:
        return words.t("web.bill.first_seen",
                       stage=words.stage(str(details.get("stage", "")), jurisdiction))
    if event.kind == ChangeKind.TITLE_CHANGE.value:
        return words.t("web.bill.title_change", before=display_text(str(details.get("from", ""))))
    if event.kind == ChangeKind.NEW_VERSION.value:
        return words.t("web.bill.new_version", name=display_text(str(details.get("name", ""))))
    return describe_change(words, event.kind, details, jurisdiction)[0]


@dataclass(frozen=True, slots=True)
class TopicExplanation:
    name: str
    url: str
    why: str


@dataclass(frozen=True, slots=True)
class VersionItem:
    name: str
    date: str
    url: str | None


@dataclass(frozen=True, slots=True)
class SponsorItem:
    name: str
    primary: bool


@dataclass(frozen=True, slots=True)
class BillPage:
    key: str
    label: str
    title: str
    jurisdiction: str
    session: str
    stage: str
    progress: Progress
    summary: str
    subjects: str
    sponsors: tuple[SponsorItem, ...]
    versions: tuple[VersionItem, ...]
    official_url: str | None
    source: str
    tracked_since: str
    timeline: tuple[TimelineEntry, ...]
    topics: tuple[TopicExplanation, ...]


def bill_page(
    words: Words, bill: Bill, *, actions: Sequence[ActionView], events: Sequence[EventView],
    matches: Sequence[TopicMatch], first_seen_at: datetime | None, topic_url: UrlFor,
) -> BillPage:
    jurisdiction = bill.key.jurisdiction
    return BillPage(
        key=str(bill.key), label=bill_label(jurisdiction, bill.key.identifier),
        title=display_text(bill.title), jurisdiction=words.jurisdiction(jurisdiction),
        session=display_text(bill.key.session), stage=words.stage(bill.stage.value, jurisdiction),
        progress=progress(words, bill.stage.value, jurisdiction),
        summary=display_text(bill.summary),
        subjects=words.join(display_text(s) for s in bill.subjects),
        sponsors=tuple(SponsorItem(display_text(s.name), s.primary) for s in bill.sponsors),
        versions=tuple(
            VersionItem(name=display_text(v.name), date=words.day_text(v.date) if v.date else "",
                        url=safe_url(v.url))
            for v in bill.versions
        ),
        official_url=safe_url(bill.url), source=display_text(bill.source),
        tracked_since=words.moment(first_seen_at) if first_seen_at else "",
        timeline=timeline(words, actions=actions, events=events, jurisdiction=jurisdiction),
        topics=tuple(TopicExplanation(name=words.topic(m.topic), url=topic_url(m.topic),
                                      why=explain(words, m)) for m in matches),
    )


# --- dashboard and topics ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountRow:
    name: str
    bills: int
    events: int
    url: str


def count_rows(
    counts: Sequence[ChangeCount], *, name: Callable[[str], str], url: UrlFor
) -> tuple[CountRow, ...]:
    return tuple(CountRow(name(c.name), c.bills, c.events, url(c.name)) for c in counts)


@dataclass(frozen=True, slots=True)
class FreshnessItem:
    name: str
    text: str
    healthy: bool


def freshness(words: Words, statuses: Sequence[SourceStatus]) -> tuple[FreshnessItem, ...]:
    """One line per enabled source: when it was last checked, and whether it is healthy."""
    items = []
    for status in statuses:
        if not status.enabled:
            continue
        name = display_text(status.title or status.name)
        if status.last_success is not None:
            text = words.t("footer.checked", jurisdiction=name, ago=words.ago(status.last_success))
        else:
            text = words.t("footer.never", jurisdiction=name)
        items.append(FreshnessItem(name=name, text=text, healthy=status.healthy))
    return tuple(items)


@dataclass(frozen=True, slots=True)
class FunnelView:
    topic: str
    url: str
    caption: str
    side: str
    drawing: funnel.Drawing
    title: str

    @property
    def empty(self) -> bool:
        return not any(bar.count for bar in self.drawing.bars)


def funnel_view(
    words: Words, *, topic_id: str, stage_counts: Mapping[str, int], url: str
) -> FunnelView:
    """A topic's funnel (across jurisdictions: the executive is named generally)."""
    reach = funnel.reached_counts(stage_counts)
    labels = [i18n.ladder_label(words.catalog, s.value, "") for s in LADDER]
    side = ""
    if reach.side:
        side = words.t("web.funnel.side", stages=words.join(
            words.t("web.funnel.side_stage", stage=words.stage(stage.value, ""), count=count)
            for stage, count in reach.side
        ))
    name = words.topic(topic_id)
    return FunnelView(
        topic=name, url=url, caption=words.plural("web.funnel.caption", reach.total), side=side,
        drawing=funnel.draw(labels=labels, counts=reach.steps),
        title=words.t("web.funnel.title", topic=name),
    )


@dataclass(frozen=True, slots=True)
class MatrixCell:
    count: int
    url: str


@dataclass(frozen=True, slots=True)
class MatrixRow:
    name: str
    cells: tuple[MatrixCell, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Matrix:
    stages: tuple[str, ...]
    rows: tuple[MatrixRow, ...]


def stage_matrix(
    words: Words, counts: Mapping[tuple[str, str], int],
    *, url: Callable[[str, str], str],
) -> Matrix:
    """Jurisdictions (rows) by stage (columns, ladder first), with links to the bill lists."""
    stages = [s.value for s in Stage]
    used = [s for s in stages if any(stage == s for _, stage in counts)]
    rows = []
    for code in sorted({j for j, _ in counts}):
        cells = tuple(MatrixCell(counts.get((code, s), 0), url(code, s)) for s in used)
        rows.append(MatrixRow(name=words.jurisdiction(code), cells=cells,
                              total=sum(c.count for c in cells)))
    return Matrix(stages=tuple(words.stage(s, "") for s in used), rows=tuple(rows))
