"""Digest -> the values the templates show. Every decision the templates need is made here.

The templates (``notifiers/templates/digest.{html,txt}.j2``) only loop over lists and test
ready-made flags; the words come from the recipient's catalog (:mod:`notifiers.catalog`),
the dates are written the recipient's way in their time zone, and upstream text (titles,
action texts, URLs) passes through :mod:`notifiers.text` first. Nothing here is markup: the
HTML template escapes every value.

Choices made for the reader:

* the original English title is always shown; in Korean and Spanish with a label saying so;
* stage progress is shown on the ladder introduced -> law; a veto shows the ladder up to the
  executive plus the veto; failed, withdrawn and adopted (resolutions) show a badge only;
* "sent to the executive" names the President for Congress and the Governor for a state;
* change dates are the action's own date, or for other changes the day it was detected;
* an item without changes (a welcome digest) shows the bill's latest action instead;
* a message too long for mail clients (Gmail hides what follows 102 KB of HTML, the footer
  with the unsubscribe links among it) shows its last items briefly in the HTML: stage, title,
  the kinds and dates of the changes, the reasons and the official link; the text part always
  has everything;
* "you are seeing this because ..." has one line per distinct reason;
* the footer says, per source, when its jurisdictions were last checked or since when they
  are failing, relative to the digest's end (so rendering is deterministic).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifiers.catalog import Catalog
from notifiers.links import DigestLinks
from notifiers.text import display_text, safe_url
from tracker.changes import ChangeKind
from tracker.digest import (
    ChangeLine,
    Digest,
    DigestItem,
    DigestKind,
    Frequency,
    Freshness,
    Language,
    Reason,
    TargetKind,
)
from tracker.errors import InvalidBillKey
from tracker.models import LADDER, BillKey, Stage

STEP_DONE, STEP_CURRENT, STEP_TODO = "done", "current", "todo"
_TEXT_MARKS = {STEP_DONE: "✓", STEP_CURRENT: "●", STEP_TODO: "○"}
FIELDS = ("title", "summary", "subjects", "actions")


@dataclass(frozen=True, slots=True)
class StepView:
    label: str
    state: str  # done | current | todo


@dataclass(frozen=True, slots=True)
class ChangeView:
    date: str
    phrase: str
    detail: str
    url: str | None
    removed: bool


@dataclass(frozen=True, slots=True)
class ItemView:
    label: str
    title: str
    show_title_note: bool
    stage: str
    show_steps: bool
    steps: tuple[StepView, ...]
    text_progress: str
    side_stage: str
    changes: tuple[ChangeView, ...]
    last_action: str  # shown when nothing changed (a welcome digest tells the state)
    reasons: tuple[str, ...]
    topics: str
    url: str | None
    brief: str  # its changes in one line, for the brief list


@dataclass(frozen=True, slots=True)
class GroupView:
    heading: str
    items: tuple[ItemView, ...]  # every item (the text part), in order
    full: tuple[ItemView, ...]  # the HTML shows these in full ...
    brief: tuple[ItemView, ...]  # ... and these as one line each (see ``full_items``)


@dataclass(frozen=True, slots=True)
class FreshnessView:
    text: str
    failing: bool


@dataclass(frozen=True, slots=True)
class LinkView:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Labels:
    progress: str
    changes: str
    last_action: str
    topics: str
    official_page: str
    text_version: str
    original_title: str
    sources: str


@dataclass(frozen=True, slots=True)
class FooterView:
    freshness: tuple[FreshnessView, ...]
    reason: str
    automated: str
    show_links: bool
    manage: LinkView | None
    unsubscribe: LinkView | None
    stop_following_label: str
    stop_following: tuple[LinkView, ...]


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything both templates show; see the module docstring."""

    lang: str
    subject: str
    heading: str
    intro: str
    capped: str
    compacted: str  # why some items are brief in the HTML ("" when none is)
    labels: Labels
    groups: tuple[GroupView, ...]
    footer: FooterView


class _Writer:
    """Catalog lookups for one recipient: names, dates, stages, reasons."""

    def __init__(
        self, catalog: Catalog, *, zone: tzinfo, now: datetime, topic_names: Mapping[str, str]
    ) -> None:
        self.catalog, self.zone, self.now, self.topic_names = catalog, zone, now, topic_names
        self.t, self.plural = catalog.t, catalog.plural

    def join(self, parts: Iterable[str]) -> str:
        return self.t("list.separator").join(parts)

    def jurisdiction(self, code: str) -> str:
        return self.catalog.get(f"jurisdiction.{code}") or display_text(code).upper()

    def topic(self, topic_id: str) -> str:
        return self.topic_names.get(topic_id) or display_text(topic_id)

    def date(self, day: date) -> str:
        month = self.t(f"month.{day.month}")
        return self.t("date.format", year=day.year, month=month, day=day.day)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def moment(self, moment: datetime) -> str:
        local = self.local(moment)
        return self.t("date.moment", date=self.date(local.date()), hour=f"{local.hour:02d}",
                      minute=f"{local.minute:02d}", zone=local.tzname() or "UTC")

    def ago(self, moment: datetime) -> str:
        seconds = max(0, int((self.now - moment).total_seconds()))
        if seconds < 60:
            return self.t("time.just_now")
        if seconds < 3600:
            return self.plural("time.minutes", seconds // 60)
        if seconds < 48 * 3600:
            return self.plural("time.hours", seconds // 3600)
        return self.plural("time.days", seconds // 86400)

    def stage_key(self, stage: Stage, jurisdiction: str) -> str:
        if stage is Stage.TO_EXECUTIVE:
            return "to-executive-federal" if jurisdiction == "us" else "to-executive-state"
        return stage.value

    def stage(self, stage: Stage, jurisdiction: str) -> str:
        return self.t(f"stage.{self.stage_key(stage, jurisdiction)}")

    def bill(self, key_text: str) -> str:
        try:
            key = BillKey.parse(key_text)
        except InvalidBillKey:
            return display_text(key_text)
        return bill_label(key.jurisdiction, key.identifier)

    def target(self, reason: Reason) -> str:
        if reason.target_kind is TargetKind.BILL:
            return self.t("target.bill", bill=self.bill(reason.target))
        if reason.target_kind is TargetKind.TOPIC:
            return self.t("target.topic", topic=self.topic(reason.topic or reason.target))
        return self.t("target.jurisdiction", jurisdiction=self.jurisdiction(reason.target))

    def reason(self, reason: Reason) -> str:
        if reason.target_kind is TargetKind.BILL:
            return self.t("why.bill", target=self.bill(reason.target))
        if reason.target_kind is TargetKind.JURISDICTION:
            return self.t("why.jurisdiction", jurisdiction=self.jurisdiction(reason.target))
        topic = self.topic(reason.topic or reason.target)
        if not reason.matched:
            return self.t("why.topic_plain", topic=topic)
        fields: dict[str, list[str]] = {}  # term -> its fields, in the order they matched
        for m in reason.matched:
            found = fields.setdefault(display_text(m.term), [])
            if self.field(m.field) not in found:
                found.append(self.field(m.field))
        terms = self.join(self.t("why.term", term=term, field=self.join(names))
                          for term, names in fields.items())
        return self.t("why.topic", topic=topic, terms=terms)

    def field(self, name: str) -> str:
        # Topic engines may say "action" or "actions"; both are the action text.
        key = "actions" if name in ("action", "actions") else name
        return self.t(f"field.{key}") if key in FIELDS else display_text(name)


def bill_label(jurisdiction: str, identifier: str) -> str:
    """``va`` + ``HB 565`` -> ``VA HB 565``: how a bill is named in headings and subjects."""
    return display_text(f"{jurisdiction.upper()} {identifier}")


def recipient_zone(name: str) -> tzinfo:
    """The recipient's time zone, or UTC when the stored name is not a known zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# --- items -------------------------------------------------------------------------------------


def _steps(w: _Writer, stage: Stage, jurisdiction: str) -> tuple[tuple[StepView, ...], str]:
    """The ladder as steps, and the side stage (veto, failure ...) shown as a badge."""
    if stage in LADDER:
        reached, side = LADDER.index(stage), ""
    elif stage is Stage.VETOED:
        reached, side = LADDER.index(Stage.TO_EXECUTIVE), w.stage(stage, jurisdiction)
    else:
        return (), w.stage(stage, jurisdiction)
    steps = []
    for position, step in enumerate(LADDER):
        if position < reached or (side and position == reached):
            state = STEP_DONE
        elif position == reached:
            state = STEP_CURRENT
        else:
            state = STEP_TODO
        label = w.t(f"ladder.{w.stage_key(step, jurisdiction)}")
        steps.append(StepView(label=label, state=state))
    return tuple(steps), side


def _text_progress(steps: Sequence[StepView], side: str) -> str:
    line = " › ".join(f"{_TEXT_MARKS[s.state]} {s.label}" for s in steps)
    if side:
        return f"{line} › ✕ {side}" if line else f"✕ {side}"
    return line


def _change(w: _Writer, line: ChangeLine, jurisdiction: str) -> ChangeView:
    day = line.date or w.local(line.detected_at).date()
    detail = display_text(line.text)
    if line.kind is ChangeKind.STAGE_CHANGE and line.to_stage is not None:
        if line.from_stage is not None:
            phrase = w.t("change.stage-change",
                         from_stage=w.stage(line.from_stage, jurisdiction),
                         to_stage=w.stage(line.to_stage, jurisdiction))
        else:
            phrase = w.stage(line.to_stage, jurisdiction)
        detail = ""
    else:
        phrase = w.t(f"change.{line.kind.value}")
    return ChangeView(date=w.date(day), phrase=phrase, detail=detail, url=safe_url(line.url),
                      removed=line.kind is ChangeKind.ACTION_REMOVED)


def _item(w: _Writer, item: DigestItem, *, english: bool) -> ItemView:
    steps, side = _steps(w, item.stage, item.jurisdiction)
    reasons = tuple(dict.fromkeys(w.reason(r) for r in item.reasons))
    changes = tuple(_change(w, line, item.jurisdiction) for line in item.changes)
    last_action = ""
    if not item.changes and item.last_action:
        last_action = display_text(item.last_action)
        if item.last_action_date is not None:
            last_action = f"{w.date(item.last_action_date)} · {last_action}"
    return ItemView(
        label=bill_label(item.jurisdiction, item.identifier),
        title=display_text(item.title),
        show_title_note=not english,
        stage=w.stage(item.stage, item.jurisdiction),
        show_steps=bool(steps),
        steps=steps,
        text_progress=_text_progress(steps, side),
        side_stage=side,
        changes=changes,
        last_action=last_action,
        reasons=reasons,
        topics=w.join(w.topic(t) for t in item.topics),
        url=safe_url(item.url),
        brief="; ".join(dict.fromkeys(f"{c.date} · {c.phrase}" for c in changes)),
    )


def _groups(w: _Writer, digest: Digest, *, english: bool, full_items: int | None
            ) -> tuple[GroupView, ...]:
    """The groups; in the HTML only the first ``full_items`` items (None: all) are in full."""
    groups, position = [], 0
    for group in digest.groups:
        heading = w.jurisdiction(group.jurisdiction)
        if group.topic:
            heading = f"{heading} · {w.topic(group.topic)}"
        items = tuple(_item(w, item, english=english) for item in group.items)
        keep = len(items) if full_items is None else max(0, min(len(items), full_items - position))
        position += len(items)
        groups.append(GroupView(heading=heading, items=items, full=items[:keep],
                                brief=items[keep:]))
    return tuple(groups)


# --- subject, heading, intro ---------------------------------------------------------------------


def _items(digest: Digest) -> list[DigestItem]:
    return [item for group in digest.groups for item in group.items]


def _frequency_suffix(digest: Digest) -> str:
    return {Frequency.DAILY: "_daily", Frequency.WEEKLY: "_weekly"}.get(digest.frequency, "")


def _alert_event(w: _Writer, item: DigestItem) -> str:
    moves = [c for c in item.changes if c.kind is ChangeKind.STAGE_CHANGE and c.to_stage]
    if moves and moves[-1].to_stage is not None:
        return w.stage(moves[-1].to_stage, item.jurisdiction)
    if item.changes:
        return w.t(f"change.{item.changes[-1].kind.value}")
    return w.stage(item.stage, item.jurisdiction)


def _subscription_targets(w: _Writer, digest: Digest) -> dict[int, str]:
    """A label per subscription of the digest, from the reasons that name it."""
    labels: dict[int, str] = {}
    for item in _items(digest):
        for reason in item.reasons:
            labels.setdefault(reason.subscription_id, w.target(reason))
    return {sid: labels.get(sid) or w.t("target.unknown", id=sid)
            for sid in digest.subscription_ids}


def _subject(w: _Writer, digest: Digest, targets: Mapping[int, str]) -> str:
    items = _items(digest)
    if digest.kind is DigestKind.ALERT and items:
        first = items[0]
        bill, event = bill_label(first.jurisdiction, first.identifier), _alert_event(w, first)
        if len(items) > 1:
            return w.plural("subject.alert_more", len(items) - 1, bill=bill, event=event,
                            more=len(items) - 1)
        return w.t("subject.alert", bill=bill, event=event)
    if digest.kind is DigestKind.WELCOME:
        named = [targets[sid] for sid in digest.subscription_ids[:1]
                 if any(r.subscription_id == sid for i in items for r in i.reasons)]
        return w.t("subject.welcome", target=named[0]) if named else w.t("heading.welcome")
    if digest.kind is DigestKind.OPERATOR:
        failing = sum(1 for f in digest.freshness if not f.healthy)
        return w.plural("subject.operator", failing)
    return w.plural(f"subject.digest{_frequency_suffix(digest)}", digest.total_items)


def _heading(w: _Writer, digest: Digest) -> str:
    if digest.kind is DigestKind.DIGEST:
        return w.t(f"heading.digest{_frequency_suffix(digest)}")
    return w.t(f"heading.{digest.kind.value}")


def _intro(w: _Writer, digest: Digest) -> str:
    if digest.kind is DigestKind.ALERT:
        return w.t("intro.alert")
    if digest.kind is DigestKind.OPERATOR:
        return w.t("intro.operator")
    if digest.kind is DigestKind.WELCOME:
        if digest.total_items == 0:
            return w.t("intro.welcome_empty")
        return w.plural("intro.welcome", digest.total_items)
    end = w.date(w.local(digest.period_end).date())
    if digest.period_start is None:
        return w.plural("intro.digest_until", digest.total_items, end=end)
    start = w.date(w.local(digest.period_start).date())
    return w.plural("intro.digest", digest.total_items, start=start, end=end)


# --- footer ------------------------------------------------------------------------------------


def _freshness(w: _Writer, freshness: Freshness) -> FreshnessView:
    names = w.join(w.jurisdiction(j) for j in freshness.jurisdictions) or display_text(
        freshness.source
    )
    if freshness.failing_since is not None:
        return FreshnessView(
            text=w.t("footer.failing", jurisdiction=names, since=w.moment(freshness.failing_since)),
            failing=True,
        )
    if freshness.last_success is not None:
        return FreshnessView(
            text=w.t("footer.checked", jurisdiction=names, ago=w.ago(freshness.last_success)),
            failing=not freshness.healthy,
        )
    return FreshnessView(text=w.t("footer.never", jurisdiction=names),
                         failing=not freshness.healthy)


def _footer(
    w: _Writer, digest: Digest, links: DigestLinks | None, *, site: str,
    targets: Mapping[int, str],
) -> FooterView:
    show_links = links is not None and digest.kind is not DigestKind.OPERATOR
    manage = unsubscribe = None
    stop_following: tuple[LinkView, ...] = ()
    if links is not None and show_links:
        manage = LinkView(label=w.t("footer.manage"), url=links.manage)
        if links.only_subscription is not None:
            label = w.t("footer.unsubscribe_one", target=targets[links.only_subscription])
        else:
            label = w.t("footer.unsubscribe_all")
        unsubscribe = LinkView(label=label, url=links.unsubscribe)
        if len(links.per_subscription) > 1:
            stop_following = tuple(
                LinkView(label=w.t("footer.unsubscribe_one", target=targets[sid]), url=url)
                for sid, url in links.per_subscription.items()
                if sid in targets
            )
    return FooterView(
        freshness=tuple(_freshness(w, f) for f in digest.freshness),
        reason=w.t("footer.reason", site=site),
        automated=w.t("footer.automated"),
        show_links=show_links,
        manage=manage,
        unsubscribe=unsubscribe,
        stop_following_label=w.t("footer.stop_following"),
        stop_following=stop_following,
    )


def site_name(public_url: str) -> str:
    """The host of the public URL, as the footer names the service."""
    return urlsplit(public_url).netloc or public_url


def build_view(
    digest: Digest,
    *,
    catalog: Catalog,
    links: DigestLinks | None,
    public_url: str,
    topic_names: Mapping[str, str],
    full_items: int | None = None,
) -> DigestView:
    """The view of ``digest`` in its recipient's language; see the module docstring.

    With ``full_items``, only that many items are shown in full in the HTML, the rest briefly
    (the renderer's answer to a message too long for mail clients)."""
    w = _Writer(catalog, zone=recipient_zone(digest.recipient.timezone), now=digest.period_end,
                topic_names=topic_names)
    english = catalog.language is Language.EN
    targets = _subscription_targets(w, digest)
    capped = ""
    if digest.shown_items < digest.total_items:
        capped = w.t("intro.capped", shown=digest.shown_items, total=digest.total_items)
    groups = _groups(w, digest, english=english, full_items=full_items)
    brief = sum(len(group.brief) for group in groups)
    compacted = w.plural("intro.compacted", brief) if brief else ""
    t = w.t
    return DigestView(
        lang=catalog.language.value,
        subject=_subject(w, digest, targets),
        heading=_heading(w, digest),
        intro=_intro(w, digest),
        capped=capped,
        compacted=compacted,
        labels=Labels(
            progress=t("label.progress"), changes=t("label.changes"),
            last_action=t("label.last_action"), topics=t("label.topics"),
            official_page=t("label.official_page"),
            text_version=t("label.text_version"), original_title=t("label.original_title"),
            sources=t("footer.sources"),
        ),
        groups=groups,
        footer=_footer(w, digest, links, site=site_name(public_url), targets=targets),
    )
