"""``legiscan``: bills of any state (and Congress) from the LegiScan API (key required).

Upstream (``sources.md`` section 6; the LegiScan API manual):

* one endpoint, ``https://api.legiscan.com/?key=KEY&op=OPERATION&...``, answering JSON
  ``{"status": "OK", ...}`` or ``{"status": "ERROR", "alert": {"message": ...}}`` with HTTP 200;
* ``op=getMasterListRaw`` with ``id=<session_id>`` (or ``state=TX``: that state's current
  session) answers ``{"masterlist": {"session": {...}, "0": {"bill_id", "number",
  "change_hash"}, "1": ...}}``: every bill of the session with a hash that changes whenever
  the bill does. **No real sample of it exists** (``tests/fixtures/legiscan/README.md``);
  the parser follows the manual and refuses any other shape;
* ``op=getBill&id=<bill_id>`` answers ``{"bill": {...}}``: ``state``, ``session{session_id,
  year_start, year_end, special, session_name}``, ``bill_number``, ``bill_type``, ``body``
  (chamber of origin), ``title``, ``description``, ``status`` + ``status_date``,
  ``progress[{date, event}]``, ``history[{date, action, chamber, importance}]``,
  ``sponsors[]``, ``subjects[]``, ``texts[]``, ``url``, ``state_link``, ``change_hash``. The
  real bill objects in ``../shared/fixtures/legiscan-api/bill/`` (from a 2011-2012 bulk
  dataset, Alaska and Arkansas) are this parser's tests.

Configuration: ``sessions`` lists LegiScan session ids (``"2172"``; getSessionList shows
them) or two-letter state codes (``"TX"``: the current session, which follows the state into
its next session by itself). The key comes from ``LEGISCAN_API_KEY`` (or the table's
``key_env``) and travels only as the ``key`` query parameter, which ``tracker.http`` masks in
every message; stored URLs (``{origin}/?op=getBill&id={bill_id}``) never hold it.

Change detection: one getMasterListRaw per configured session each poll; a bill is fetched
only when its ``change_hash`` differs from the one stored with its URL, and the pipeline
stores the new hash only once the bill is stored, so a bill whose getBill fails is fetched
again next time. ``since`` is not used: the hashes are an exact per-bill cursor.

Quota: the free Public tier allows 30,000 queries a month (``monthly_queries``). Every
request (a retry too) is counted per calendar month (UTC) in the database, and the source
stops, with one line saying so, before it would pass the quota less a margin of 100. A poll
fetches at most an even share of what is left of the month (over the polls left at the
configured ``interval``), so the first poll of a big session is spread over days instead of
spending the month at once; changed bills past the share keep their old hash and are
fetched by a later poll.

Quirks handled here: older history rows have no chamber code, so the actor is read from a
leading ``House``/``Senate`` in the text, else carried from the last known chamber and moved
by ``TRANSMITTED TO (S)``-style lines; the text rules (``scrapers.legiscan_rules``) classify
each row, and LegiScan's own progress events and status are added as actions where no row
shows them, so the stage derived downstream agrees with LegiScan's milestones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from scrapers._api import (
    MonthlyBudget,
    api_key,
    items,
    json_object,
    mapping,
    parse_day,
    text,
)
from scrapers.aggregator_sessions import LEGISCAN_STATES, legiscan_session
from scrapers.legiscan_rules import (
    BILL_TYPES,
    CHAMBER_PREFIX,
    CHAMBER_SWITCHES,
    CHAMBER_WORDS,
    CHAMBERS,
    HISTORY_RULES,
    STATUS_NAMES,
    Acting,
    Milestone,
    milestone,
)
from tracker.errors import InvalidBillKey, ParseError, SourceError
from tracker.models import BillType, Chamber, normalize_identifier
from tracker.normalize import collapse
from tracker.records import (
    ActionRecord,
    BillRecord,
    BillRef,
    Checkpoint,
    Fetched,
    SponsorRecord,
    StateUpdate,
    Validators,
    VersionRecord,
)
from tracker.source import SourceContext, SourceInfo

log = logging.getLogger(__name__)

NAME = "legiscan"
DEFAULT_ORIGIN = "https://api.legiscan.com"
DEFAULT_MONTHLY_QUERIES = 30_000
SAFETY_MARGIN = 100

_SESSION_ID = re.compile(r"^\d{1,9}$")
_STATE = re.compile(r"^[A-Za-z]{2}$")
#: Payloads of other LegiScan operations, met when ``tracker inspect`` reads a dataset folder.
_OTHER_OBJECTS = ("person", "text", "roll_call", "amendment", "supplement")


@dataclass(frozen=True, slots=True)
class MasterEntry:
    """One bill of a masterlist: LegiScan's id, its number (``HB1``) and its change hash."""

    bill_id: int
    number: str
    change_hash: str


class Legiscan:
    """The ``legiscan`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="LegiScan API (any state, fills gaps)",
        jurisdictions=LEGISCAN_STATES,
        homepage="https://legiscan.com/legiscan",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
        needs_key=True,
        key_env=("LEGISCAN_API_KEY",),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self.origin = (context.settings.base_url or DEFAULT_ORIGIN).rstrip("/")
        self.budget = MonthlyBudget(
            source=NAME,
            ledger=context.ledger,
            quota=context.settings.monthly_queries or DEFAULT_MONTHLY_QUERIES,
            margin=SAFETY_MARGIN,
        )

    def bill_url(self, bill_id: int) -> str:
        """The stored, key-free URL of a bill (its fetch state is kept under it)."""
        return f"{self.origin}/?op=getBill&id={bill_id}"

    # -- discover / fetch -------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """One masterlist per configured session; a ref for each bill whose hash moved, up to
        this poll's share of the monthly budget (the rest wait, unstored, for later polls)."""
        key = api_key(self.context, self.info)
        selectors = [_selector(entry) for entry in self.context.settings.sessions]
        if not selectors:
            raise SourceError("no sessions configured (LegiScan session ids or state codes, "
                              'e.g. sessions = ["TX"])', source=NAME)
        stored = self.context.state.lastmods(prefix=f"{self.origin}/?op=getBill&id=")
        allowance = self.budget.share(interval=self.context.settings.interval) - len(selectors)
        deferred = 0
        for param, value in selectors:
            document = f"{self.origin}/?op=getMasterListRaw&{param}={value}"
            result = self.budget.get(
                self.context.http, f"{self.origin}/",
                params={"key": key, "op": "getMasterListRaw", param: value},
            )
            session, entries = parse_masterlist(result.body, document=document)
            if not entries:
                log.info("%s: %s lists no bills", NAME, document)
            for entry in entries:
                url = self.bill_url(entry.bill_id)
                if stored.get(url) == entry.change_hash:
                    continue
                if allowance <= 0:
                    deferred += 1
                    continue
                allowance -= 1
                yield BillRef(source=NAME, url=url, session=session, lastmod=entry.change_hash,
                              hint=entry.number)
        if deferred:
            log.warning("%s: %d changed bills left for later polls: this poll's share of the "
                        "monthly query budget is spent", NAME, deferred)

    def fetch(self, ref: BillRef) -> Fetched:
        """getBill for one ref (its id is the last part of the ref's URL)."""
        key = api_key(self.context, self.info)
        bill_id = ref.url.rsplit("=", 1)[-1]
        result = self.budget.get(
            self.context.http, f"{self.origin}/",
            params={"key": key, "op": "getBill", "id": bill_id},
        )
        update = StateUpdate(ref.url, Validators(lastmod=ref.lastmod))
        return Fetched(ref=ref, documents={ref.url: result.body}, updates=(update,))

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        records = []
        for name, body in fetched.documents.items():
            record = parse_document(body, document=name)
            if record is not None:
                records.append(record)
        return records


def _selector(entry: str) -> tuple[str, str]:
    if _SESSION_ID.match(entry):
        return ("id", entry)
    if _STATE.match(entry):
        return ("state", entry.upper())
    raise SourceError(
        f"sessions: {entry!r} is neither a LegiScan session id (e.g. \"2172\") nor a state "
        f"code (e.g. \"TX\")",
        source=NAME,
    )


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def _payload(body: bytes, *, document: str) -> dict[str, Any]:
    """The JSON object, once LegiScan's own error answer (HTTP 200, status ERROR) is refused."""
    data = json_object(body, document=document)
    status = text(data.get("status"))
    if status and status != "OK":
        alert = data.get("alert")
        message = text(alert.get("message")) if isinstance(alert, dict) else ""
        raise ParseError(
            f"LegiScan answered {status[:20]}: {collapse(message)[:200] or 'no message'}",
            document=document,
        )
    return data


def parse_masterlist(body: bytes, *, document: str) -> tuple[str, list[MasterEntry]]:
    """A getMasterListRaw answer -> (LegiScan session id, its bills)."""
    data = _payload(body, document=document)
    masterlist = mapping(data.get("masterlist"), document=document, what="masterlist")
    session = mapping(masterlist.get("session"), document=document, what="masterlist.session")
    session_id = text(session.get("session_id"))
    if not session_id:
        raise ParseError("masterlist.session has no session_id", document=document)
    entries = []
    for slot, raw in masterlist.items():
        if slot == "session":
            continue
        entry = mapping(raw, document=document, what=f"masterlist[{slot}]")
        bill_id, change_hash = entry.get("bill_id"), text(entry.get("change_hash"))
        if not isinstance(bill_id, int) or isinstance(bill_id, bool) or not change_hash:
            raise ParseError(f"masterlist[{slot}]: no bill_id/change_hash", document=document)
        entries.append(MasterEntry(bill_id, text(entry.get("number")), change_hash))
    return session_id, entries


def parse_document(body: bytes, *, document: str) -> BillRecord | None:
    """A getBill answer (or a dataset's bill file) -> its record; ``None`` for the other
    objects a LegiScan dataset holds (people, texts, roll calls)."""
    data = _payload(body, document=document)
    if "bill" not in data and any(kind in data for kind in _OTHER_OBJECTS):
        log.debug("%s: not a bill object; skipped", document)
        return None
    bill = mapping(data.get("bill"), document=document, what="bill")
    return parse_bill(bill, document=document)


def parse_bill(bill: Mapping[str, Any], *, document: str) -> BillRecord:
    state = text(bill.get("state")).upper()
    if not _STATE.match(state):
        raise ParseError(f"bill.state: not a state code: {state[:10]!r}", document=document)
    session = mapping(bill.get("session"), document=document, what="bill.session")
    try:
        session_key = legiscan_session(state=state, session=session)
    except (KeyError, TypeError, ValueError):
        raise ParseError("bill.session has no usable year_start", document=document) from None
    number = text(bill.get("bill_number"))
    try:
        identifier = normalize_identifier(number)
    except InvalidBillKey as exc:
        raise ParseError(f"bill.bill_number: {exc}", document=document) from None
    raw_type = text(bill.get("bill_type")).upper()
    bill_type = BILL_TYPES.get(raw_type, BillType.BILL)
    origin = CHAMBERS.get(text(bill.get("body")).upper(), Chamber.UNKNOWN)
    history = parse_history(bill.get("history"), origin=origin, document=document)
    events = _milestone_events(bill, document=document)
    title = collapse(text(bill.get("title")))
    description = collapse(text(bill.get("description")))
    status = bill.get("status")
    return BillRecord(
        source=NAME,
        jurisdiction=state.lower(),
        session=session_key,
        identifier=identifier,
        title=title or description,
        bill_type=bill_type,
        actions=tuple(with_milestones(history, events, origin=origin, bill_type=bill_type)),
        sponsors=_sponsors(bill.get("sponsors"), document=document),
        subjects=tuple(
            text(s.get("subject_name"))
            for s in items(bill.get("subjects"), document=document, what="bill.subjects")
        ),
        summary=description if description != title else "",
        versions=_versions(bill.get("texts"), document=document),
        url=text(bill.get("state_link")) or text(bill.get("url")) or None,
        document=document,
        extras={
            key: value
            for key, value in {
                "legiscan_bill_id": bill.get("bill_id"),
                "legiscan_url": text(bill.get("url")),
                "change_hash": text(bill.get("change_hash")),
                "status": STATUS_NAMES.get(status, "") if isinstance(status, int) else "",
                "status_date": text(bill.get("status_date")),
                "session_name": text(session.get("session_name")),
                "bill_type_code": raw_type,
            }.items()
            if value not in ("", None)
        },
    )


# ---------------------------------------------------------------------------------------------
# History and milestones
# ---------------------------------------------------------------------------------------------


def parse_history(value: Any, *, origin: Chamber, document: str) -> list[ActionRecord]:
    """``history[]`` in upstream order, each row classified and given an actor."""
    current = origin
    actions = []
    for row in items(value, document=document, what="bill.history"):
        description = collapse(text(row.get("action")))
        if not description:
            continue
        day = parse_day(row.get("date"), document=document, what="history.date")
        actor, rest = _actor(description, code=text(row.get("chamber")).upper(), current=current)
        if actor in (Chamber.LOWER, Chamber.UPPER):
            current = actor
        extras: dict[str, Any] = {"importance": 1} if row.get("importance") else {}
        actions.append(ActionRecord(
            date=day, actor=actor, description=description,
            classification=HISTORY_RULES.classify(rest), extras=extras,
        ))  # fmt: skip
        current = _switched(rest, current)
    return actions


def _actor(description: str, *, code: str, current: Chamber) -> tuple[Chamber, str]:
    """Who acted, and the text with a leading chamber word removed (what the rules read)."""
    prefix = CHAMBER_PREFIX.match(description)
    rest = description[prefix.end():] if prefix else description
    if code in CHAMBERS:
        return CHAMBERS[code], rest
    if prefix:
        return CHAMBER_WORDS[prefix.group(1).lower()], rest
    return current, rest


def _switched(rest: str, current: Chamber) -> Chamber:
    """The chamber the bill is in after a row that sends it to the other one."""
    for pattern in CHAMBER_SWITCHES:
        found = pattern.search(rest)
        if found:
            return CHAMBER_WORDS[found.group(1).lower()]
    return current


def _milestone_events(bill: Mapping[str, Any], *, document: str) -> list[tuple[date, int, str]]:
    """``(date, event, where)`` for each progress event, then the status when no progress
    event of the same code and date restates it."""
    events = []
    for row in items(bill.get("progress"), document=document, what="bill.progress"):
        event = row.get("event")
        if isinstance(event, int):
            day = parse_day(row.get("date"), document=document, what="progress.date")
            events.append((day, event, "progress"))
    status, status_date = bill.get("status"), text(bill.get("status_date"))
    if isinstance(status, int) and status in STATUS_NAMES and status_date:
        day = parse_day(status_date, document=document, what="status_date")
        if not any(e == status and d == day for d, e, _ in events):
            events.append((day, status, "status"))
    return events


def with_milestones(
    history: Sequence[ActionRecord],
    events: Sequence[tuple[date, int, str]],
    *,
    origin: Chamber,
    bill_type: BillType,
) -> list[ActionRecord]:
    """History plus one action for each milestone no history row covers, in date order."""
    actions = list(history)
    added: list[ActionRecord] = []
    for day, event, where in sorted(events, key=lambda e: e[0]):
        found = milestone(event, bill_type=bill_type)
        if found is None:
            log.debug("unknown LegiScan %s event %s on %s; ignored", where, event, day)
            continue
        if _covered(found, [*actions, *added], day=day, origin=origin, bill_type=bill_type):
            continue
        added.append(ActionRecord(
            date=day,
            actor=_milestone_actor(found.acting, origin=origin, current=_chamber_on(actions, day)
                                   or origin),
            description=f"{found.name} (LegiScan {where})",
            classification=found.classes,
            extras={"legiscan_event": event},
        ))  # fmt: skip
    # Stable: a day's history rows keep their order and come before that day's milestones.
    return sorted([*actions, *added], key=lambda action: action.date)


def _second(origin: Chamber) -> Chamber:
    return {Chamber.LOWER: Chamber.UPPER, Chamber.UPPER: Chamber.LOWER}.get(
        origin, Chamber.LEGISLATURE
    )


def _covered(
    found: Milestone, actions: Sequence[ActionRecord], *, day: date, origin: Chamber,
    bill_type: BillType,
) -> bool:
    actors = {
        a.actor for a in actions if a.date <= day and set(a.classification) & found.covered_by
    }
    if not actors:
        return False
    if found.acting is Acting.ORIGIN:
        return bool(actors & {origin, Chamber.UNKNOWN, Chamber.LEGISLATURE})
    if found.acting is Acting.SECOND:
        return bool(actors & {_second(origin), Chamber.LEGISLATURE})
    if found.acting is Acting.LEGISLATURE and bill_type is not BillType.RESOLUTION:
        return Chamber.LEGISLATURE in actors or {Chamber.LOWER, Chamber.UPPER} <= actors
    return True


def _milestone_actor(acting: Acting, *, origin: Chamber, current: Chamber) -> Chamber:
    if acting is Acting.ORIGIN:
        return origin
    if acting is Acting.SECOND:
        return _second(origin)
    if acting is Acting.EXECUTIVE:
        return Chamber.EXECUTIVE
    if acting is Acting.LEGISLATURE:
        return Chamber.LEGISLATURE
    return current


def _chamber_on(actions: Sequence[ActionRecord], day: date) -> Chamber | None:
    """The chamber the bill was last seen in on or before ``day``."""
    for action in reversed(actions):
        if action.date <= day and action.actor in (Chamber.LOWER, Chamber.UPPER):
            return action.actor
    return None


# ---------------------------------------------------------------------------------------------
# Sponsors and texts
# ---------------------------------------------------------------------------------------------

#: sponsor_type_id: 0 unspecified, 1 primary sponsor, 2 co-sponsor, 3 joint sponsor.
_PRIMARY_SPONSOR = 1


def _sponsors(value: Any, *, document: str) -> tuple[SponsorRecord, ...]:
    """Sponsors in upstream order. Without any typed primary sponsor (older data types every
    sponsor 0, "unspecified"), the first listed is the primary one."""
    rows = [r for r in items(value, document=document, what="bill.sponsors") if text(r.get("name"))]
    typed = any(r.get("sponsor_type_id") == _PRIMARY_SPONSOR for r in rows)
    records = []
    for position, row in enumerate(rows):
        primary = row.get("sponsor_type_id") == _PRIMARY_SPONSOR if typed else position == 0
        extras = {
            key: text(row.get(key))
            for key in ("people_id", "party", "role", "district")
            if text(row.get(key))
        }
        if row.get("committee_sponsor"):
            extras["committee"] = "true"
        records.append(SponsorRecord(name=text(row.get("name")), primary=primary, extras=extras))
    return tuple(records)


def _versions(value: Any, *, document: str) -> tuple[VersionRecord, ...]:
    """``texts[]``: one version per document (LegiScan's URL is unique per doc_id; a state's
    link is often the same for every draft)."""
    versions = []
    for row in items(value, document=document, what="bill.texts"):
        name = text(row.get("type")) or "Text"
        raw_date = text(row.get("date"))
        try:
            day = date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            day = None  # LegiScan writes 0000-00-00 for an undated text
        url = text(row.get("url")) or text(row.get("state_link")) or None
        versions.append(VersionRecord(name=name, date=day, url=url))
    return tuple(versions)
