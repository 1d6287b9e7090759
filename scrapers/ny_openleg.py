"""``ny-openleg``: New York bills from the Senate's Open Legislation API v3 (key required).

Upstream (nysenate/OpenLegislation ``docs/api/bills.rst``; ``sources.md`` section 10), all
under ``https://legislation.nysenate.gov/api/3/`` with the key as the ``key`` query parameter
(passed through ``HttpClient.get(params=...)``, so it never reaches a stored URL, a ref or a
log line):

* change feed ``bills/updates/{from}/{to}?type=processed&limit=1000&offset=N``: one item per
  processed update, ``{id: {basePrintNo, session}, processedDateTime, ...}``. ``from`` is
  exclusive and ``to`` inclusive; both are ISO local (New York) times without a zone, e.g.
  ``2025-03-10T13:30:02``. ``processed`` (not ``published``) keeps us in step when OpenLeg
  re-processes old data.
* one bill ``bills/{session}/{basePrintNo}?view=default``: ``{success, responseType: "bill",
  result: {...}}`` holding every amendment version.
* the session listing ``bills/{session}?limit=1000&offset=N&full=true`` (full bill objects in
  ``result.items``, ascending by publish time, so paging while bills are published is stable).

Paging, for both lists: offsets are **1-based**; a page answers ``offsetStart``,
``offsetEnd`` and ``total``; the walk stops on ``responseType: "empty list"``, on
``offsetStart > offsetEnd`` or once ``offsetEnd`` reaches ``total``.

Change detection: each session keeps a cursor, the ``to`` time of the last window whose
changed bills were all stored (the ``lastmod`` of the state URL ``.../bills/updates#session=
2025``, written through a :class:`~tracker.records.Checkpoint`, so a failed bill keeps the
window open for the next poll). A session without a cursor is read whole from the listing
(the baseline: one ``bills/{session}?limit=1&offset=1`` request learns the ``total``, then one
ref per page of 1000); later polls read the feed from ``cursor - OVERLAP`` (for clock skew
between us and the API) to now, and fetch each changed bill once, skipping a bill whose
stored ``lastmod`` already covers its latest processed update. ``since`` is not used: the cursors
are exact.

Quirks handled here:

* print numbers carry amendment letters (``S1234B`` is version B of ``S 1234``); bills are
  keyed on ``basePrintNo`` + session, and the feed is deduplicated on that pair.
* the session year is the odd first year of the two-year session (2025 for 2025-26).
* prefixes ``S``/``A`` are bills; ``J``, ``R``, ``E``, ``K`` resolutions, ``B``, ``C``
  concurrent resolutions and ``L`` joint resolutions (Open States ``scrapers/ny/bills.py``).
* ``amendments.items`` is keyed by version letter, ``""`` being the original; the active
  version's co-sponsors and multi-sponsors (Assembly) are the bill's current ones.
* the Governor's acts (``SIGNED CHAP.``, ``VETOED MEMO.``) are filed under a chamber; they are
  read as the executive's.
* the feed's times are local: in the hour that autumn's DST change repeats, a window may end
  before it starts; such a poll asks for nothing and keeps the cursor.
* the API answers 429 with ``Retry-After`` when rate-limited; ``tracker.http`` sleeps that
  long and retries (or stops the poll when asked to wait too long).

Every unexpected shape is a :class:`~tracker.errors.ParseError` naming the document and the
JSON key path (``result.amendments.items.B.coSponsors: missing``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from scrapers.ny_openleg_rules import (
    EXECUTIVE_CLASSES,
    RULES,
    STATUS_TYPES,
    status_stage,
)
from tracker.errors import ParseError, SourceError
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

NAME = "ny-openleg"
DEFAULT_ORIGIN = "https://legislation.nysenate.gov"
API_ROOT = "/api/3/"
PAGE_LIMIT = 1000
#: How far before the cursor each feed window starts (clock skew, late processing).
OVERLAP = timedelta(minutes=10)
NEW_YORK = ZoneInfo("America/New_York")
KEY_ENV = ("NY_OPENLEG_API_KEY",)

_BASE_PRINT_NO = re.compile(r"^([ASJRBCEKL])(\d{1,6})$")
_PRINT_NO = re.compile(r"^([ASJRBCEKL])(\d{1,6})([A-Z]?)$")
_SESSION = re.compile(r"^\d{4}$")
_LIST_TYPES = frozenset({"bill list", "bill-info list"})
_EMPTY_LIST = "empty list"
_FEED_GROUP = "ny-openleg:updates"

#: Print-number prefix -> (bill type, chamber that introduces it).
PREFIXES: Mapping[str, tuple[BillType, Chamber]] = {
    "S": (BillType.BILL, Chamber.UPPER),
    "A": (BillType.BILL, Chamber.LOWER),
    "J": (BillType.RESOLUTION, Chamber.UPPER),
    "R": (BillType.RESOLUTION, Chamber.UPPER),
    "B": (BillType.CONCURRENT_RESOLUTION, Chamber.UPPER),
    "E": (BillType.RESOLUTION, Chamber.LOWER),
    "K": (BillType.RESOLUTION, Chamber.LOWER),
    "C": (BillType.CONCURRENT_RESOLUTION, Chamber.LOWER),
    "L": (BillType.JOINT_RESOLUTION, Chamber.LOWER),
}
CHAMBERS: Mapping[str, Chamber] = {"SENATE": Chamber.UPPER, "ASSEMBLY": Chamber.LOWER}


# ---------------------------------------------------------------------------------------------
# JSON reading with key paths in every error
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A JSON value with the key path that reached it, for one-line errors naming both."""

    value: object
    path: str
    document: str

    def fail(self, problem: str) -> ParseError:
        return ParseError(f"{self.path or 'the document'}: {problem}", document=self.document)

    def _child(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def mapping(self) -> Mapping[str, object]:
        if not isinstance(self.value, dict):
            raise self.fail(f"expected an object, got {_kind(self.value)}")
        return self.value

    def key(self, name: str) -> Node:
        """The value at ``name``, which must be present (it may be null)."""
        mapping = self.mapping()
        if name not in mapping:
            raise ParseError(f"{self._child(name)}: missing", document=self.document)
        return Node(mapping[name], self._child(name), self.document)

    def maybe(self, name: str) -> Node | None:
        """The value at ``name``, or None when it is absent or null."""
        value = self.mapping().get(name)
        return None if value is None else Node(value, self._child(name), self.document)

    def entries(self) -> list[tuple[str, Node]]:
        return [(k, Node(v, self._child(k), self.document)) for k, v in self.mapping().items()]

    def elements(self) -> list[Node]:
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        return [Node(v, f"{self.path}[{i}]", self.document) for i, v in enumerate(self.value)]

    def items(self) -> list[Node]:
        """The elements of an ``{"items": [...], "size": n}`` block."""
        return self.key("items").elements()

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"expected a string, got {_kind(self.value)}")
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self.value)}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {_kind(self.value)}")
        return self.value

    def day(self) -> date:
        try:
            return date.fromisoformat(self.text()[:10])
        except ValueError:
            raise self.fail(f"not a date: {self.value!r}") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)


def _optional_text(node: Node | None) -> str:
    return node.text() if node is not None else ""


def load(body: bytes, *, document: str) -> Node:
    """The JSON document as a :class:`Node`; ParseError for bytes that are not a JSON object."""
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}", document=document) from None
    except RecursionError:
        # The decoder recurses per level: a hostile [[[[...]]]] must not crash the poll.
        raise ParseError("JSON nested too deeply", document=document) from None
    root = Node(value, "", document)
    root.mapping()  # every response is a JSON object
    success = root.maybe("success")
    if success is not None and success.boolean() is False:
        message = _optional_text(root.maybe("message")) or "no message"
        raise ParseError(f"the API answered success=false: {collapse(message)}",
                         document=document)
    return root


# ---------------------------------------------------------------------------------------------
# Lists: pages of the change feed and of the session listing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page of a list sits: its 1-based offsets and the list's total."""

    empty: bool
    total: int
    offset_start: int
    offset_end: int

    def next_offset(self) -> int | None:
        """The offset of the next page, or None when this page is the last."""
        if self.empty or self.offset_start > self.offset_end or self.offset_end >= self.total:
            return None
        return self.offset_end + 1


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One processed update of the change feed."""

    session: str
    base_print_no: str
    processed: str


def page_of(root: Node) -> Page:
    kind = root.key("responseType").text()
    if kind == _EMPTY_LIST:
        return Page(empty=True, total=0, offset_start=0, offset_end=0)
    return Page(
        empty=False,
        total=root.key("total").integer(),
        offset_start=root.key("offsetStart").integer(),
        offset_end=root.key("offsetEnd").integer(),
    )


def parse_feed(body: bytes, *, document: str) -> tuple[Page, list[FeedEntry]]:
    """One page of ``bills/updates/{from}/{to}``: where it sits and its entries."""
    root = load(body, document=document)
    page = page_of(root)
    if page.empty:
        return page, []
    kind = root.key("responseType").text()
    if kind != "update-token list":
        raise root.key("responseType").fail(f"expected 'update-token list', got {kind!r}")
    entries = []
    for item in root.key("result").items():
        ident = item.key("id")
        base = ident.maybe("basePrintNo")
        print_no = base.text() if base is not None else ident.key("printNo").text()
        entries.append(
            FeedEntry(
                session=str(ident.key("session").integer()),
                base_print_no=_base_of(print_no, node=ident),
                processed=item.key("processedDateTime").text(),
            )
        )
    return page, entries


def _base_of(print_no: str, *, node: Node) -> str:
    """``S1234B`` -> ``S1234``."""
    match = _PRINT_NO.match(print_no)
    if match is None:
        raise node.fail(f"not a print number: {print_no!r}")
    return match.group(1) + match.group(2)


def changed_bills(
    entries: Sequence[FeedEntry], *, sessions: set[str]
) -> list[FeedEntry]:
    """One entry per bill of ``sessions`` (its latest processed update), in feed order."""
    latest: dict[tuple[str, str], FeedEntry] = {}
    for entry in entries:
        if entry.session not in sessions:
            continue
        key = (entry.session, entry.base_print_no)
        held = latest.get(key)
        if held is None or _later(entry.processed, held.processed):
            latest[key] = entry
    return list(latest.values())


def _later(candidate: str, held: str) -> bool:
    try:
        return datetime.fromisoformat(candidate) > datetime.fromisoformat(held)
    except ValueError:
        return candidate > held


def _covered(processed: str, stored: str | None) -> bool:
    """Whether a bill stored at ``stored`` already includes the update ``processed``."""
    return stored is not None and not _later(processed, stored)


# ---------------------------------------------------------------------------------------------
# Bills
# ---------------------------------------------------------------------------------------------


def parse_document(body: bytes, *, document: str) -> list[BillRecord]:
    """A bill response (one record) or a page of the full session listing (one per bill)."""
    root = load(body, document=document)
    kind = root.key("responseType").text()
    if kind == "bill":
        return [parse_bill(root.key("result"))]
    if kind in _LIST_TYPES:
        return [parse_bill(_labelled(item)) for item in root.key("result").items()]
    if kind == _EMPTY_LIST:
        return []
    raise root.key("responseType").fail(f"expected 'bill' or a bill list, got {kind!r}")


def _labelled(item: Node) -> Node:
    """A listing item whose key paths name its bill: ``result.items[3](S1234).status``."""
    base = item.mapping().get("basePrintNo")
    return replace(item, path=f"{item.path}({base})") if isinstance(base, str) else item


def parse_bill(result: Node) -> BillRecord:
    """One bill object (a response's ``result``, or an item of a full listing)."""
    base = result.key("basePrintNo").text()
    match = _BASE_PRINT_NO.match(base)
    if match is None:
        raise result.key("basePrintNo").fail(f"not a base print number: {base!r}")
    prefix, number = match.groups()
    bill_type, prefix_chamber = PREFIXES[prefix]
    origin = _origin(result.key("billType"), prefix_chamber=prefix_chamber,
                     resolution=bill_type is not BillType.BILL, base=base)
    session = str(result.key("session").integer())
    title = collapse(_optional_text(result.maybe("title")))
    summary = collapse(_optional_text(result.maybe("summary")))
    if not title and not summary:
        raise result.key("title").fail(f"{base} has neither a title nor a summary")
    active_key = _optional_text(result.maybe("activeVersion"))
    amendments = dict(result.key("amendments").key("items").entries())
    if active_key not in amendments:
        raise result.key("amendments").key("items").fail(
            f"no active version {active_key!r} (versions: {sorted(amendments)})"
        )
    active = amendments[active_key]
    status = result.key("status")
    status_type = status.key("statusType").text()
    if status_type not in STATUS_TYPES:
        raise status.key("statusType").fail(f"unknown status {status_type!r}")
    stage = status_stage(status_type, origin=origin)
    print_no = active.key("printNo").text()
    extras: dict[str, Any] = {
        "status": status_type,
        "status_desc": _optional_text(status.maybe("statusDesc")),
        "status_stage": stage.value if stage is not None else None,
        "active_version": active_key,
        "print_no": print_no,
        "text_url": pdf_url(session=session, print_no=print_no),
        "same_as": _same_as(active),
        "origin_chamber": origin.value,
    }
    substituted = result.maybe("substitutedBy")
    if substituted is not None:
        extras["substituted_by"] = substituted.key("basePrintNo").text()
    committee = _optional_text(status.maybe("committeeName"))
    if committee:
        extras["committee"] = committee
    return BillRecord(
        source=NAME,
        jurisdiction="ny",
        session=session,
        identifier=normalize_identifier(f"{prefix} {number}"),
        title=title or summary,
        bill_type=bill_type,
        actions=parse_actions(result.key("actions")),
        sponsors=_sponsors(result, active),
        summary=summary,
        versions=tuple(_version(key, node, session=session) for key, node in
                       sorted(amendments.items())),
        url=f"https://www.nysenate.gov/legislation/bills/{session}/{base}",
        document=result.document,
        extras=extras,
    )


def _origin(bill_type: Node, *, prefix_chamber: Chamber, resolution: bool, base: str) -> Chamber:
    """The introducing chamber; ``billType`` must agree with what the print number says."""
    chamber_text = bill_type.key("chamber").text()
    origin = CHAMBERS.get(chamber_text)
    if origin is None:
        raise bill_type.key("chamber").fail(f"unknown chamber {chamber_text!r}")
    if origin is not prefix_chamber:
        raise bill_type.key("chamber").fail(f"{chamber_text} does not introduce {base}")
    flag = bill_type.maybe("resolution")
    if flag is not None and flag.boolean() is not resolution:
        raise flag.fail(f"resolution={flag.boolean()} disagrees with the print number {base}")
    return origin


def pdf_url(*, session: str, print_no: str) -> str:
    """The public PDF of one version's text (it names the amendment letter)."""
    return f"https://legislation.nysenate.gov/pdf/bills/{session}/{print_no}"


def _version(key: str, node: Node, *, session: str) -> VersionRecord:
    published = node.maybe("publishDate")
    return VersionRecord(
        name=f"Amendment {key}" if key else "Original",
        date=published.day() if published is not None else None,
        url=pdf_url(session=session, print_no=node.key("printNo").text()),
    )


def _same_as(active: Node) -> list[str]:
    block = active.maybe("sameAs")
    if block is None:
        return []
    return [item.key("basePrintNo").text() for item in block.items()]


#: Sponsor flags that stand for a committee rather than a member.
_SPONSOR_FLAGS = (("rules", "Rules Committee"), ("budget", "Budget Committee"),
                  ("redistricting", "Redistricting Committee"))


def _sponsors(result: Node, active: Node) -> tuple[SponsorRecord, ...]:
    """The sponsor first, then the active version's co-sponsors and multi-sponsors."""
    records: list[SponsorRecord] = []
    sponsor = result.maybe("sponsor")
    if sponsor is not None:
        flagged = [label for flag, label in _SPONSOR_FLAGS
                   if (node := sponsor.maybe(flag)) is not None and node.boolean()]
        member = sponsor.maybe("member")
        if flagged:
            records.append(SponsorRecord(name=flagged[0], primary=True,
                                         extras={"entity": "organization"}))
        elif member is not None:
            records.append(_member(member, primary=True, role="sponsor"))
    for block, role in (("coSponsors", "cosponsor"), ("multiSponsors", "multi-sponsor")):
        node = active.maybe(block)
        if node is not None:
            records.extend(_member(item, primary=False, role=role) for item in node.items())
    seen: set[str] = set()
    unique = []
    for record in records:
        if record.name not in seen:
            seen.add(record.name)
            unique.append(record)
    return tuple(unique)


def _member(node: Node, *, primary: bool, role: str) -> SponsorRecord:
    name = collapse(_optional_text(node.maybe("fullName"))) or collapse(
        node.key("shortName").text()
    )
    if not name:
        raise node.fail("a member with neither fullName nor shortName")
    extras: dict[str, Any] = {"role": role}
    for key, label in (("memberId", "member_id"), ("districtCode", "district"),
                       ("shortName", "short_name")):
        value = node.maybe(key)
        if value is not None:
            extras[label] = value.value
    return SponsorRecord(name=name, primary=primary, extras=extras)


def parse_actions(block: Node) -> tuple[ActionRecord, ...]:
    """``actions.items`` in upstream order (``sequenceNo`` when every action has one)."""
    items = block.items()
    numbered = [(number.integer(), position, item) for position, item in enumerate(items)
                if (number := item.maybe("sequenceNo")) is not None]
    if len(numbered) == len(items):
        items = [item for _, _, item in sorted(numbered, key=lambda entry: entry[:2])]
    return tuple(_action(item) for item in items)


def _action(item: Node) -> ActionRecord:
    chamber_text = item.key("chamber").text()
    chamber = CHAMBERS.get(chamber_text)
    if chamber is None:
        raise item.key("chamber").fail(f"unknown chamber {chamber_text!r}")
    text = collapse(item.key("text").text())
    if not text:
        raise item.key("text").fail("empty action text")
    classes = RULES.classify(text)
    extras: dict[str, Any] = {"chamber": chamber_text}
    sequence = item.maybe("sequenceNo")
    if sequence is not None:
        extras["sequence_no"] = sequence.integer()
    bill_id = item.maybe("billId")
    if bill_id is not None and (print_no := bill_id.maybe("printNo")) is not None:
        extras["print_no"] = print_no.text()
    return ActionRecord(
        date=item.key("date").day(),
        actor=Chamber.EXECUTIVE if EXECUTIVE_CLASSES.intersection(classes) else chamber,
        description=text,
        classification=classes,
        extras=extras,
    )


# ---------------------------------------------------------------------------------------------
# The source
# ---------------------------------------------------------------------------------------------


def _new_york_now() -> datetime:
    return datetime.now(NEW_YORK)


def local_time(moment: datetime) -> str:
    """The API's time format: New York local time to the second, without a zone."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(NEW_YORK).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


class NyOpenleg:
    """The ``ny-openleg`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="New York Senate Open Legislation API",
        jurisdictions=("ny",),
        homepage="https://legislation.nysenate.gov",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(minutes=30),
        needs_key=True,
        key_env=KEY_ENV,
    )
    #: ``tracker inspect ny-openleg FOLDER`` reads these files of a folder.
    document_suffixes = (".json",)

    def __init__(
        self, context: SourceContext, *, clock: Callable[[], datetime] = _new_york_now
    ) -> None:
        self.context = context
        self.clock = clock

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """Feed windows for sessions with a cursor, the full listing for the others."""
        key = self._key()
        sessions = self._sessions()
        to = local_time(self.clock())
        cursors = {session: self._cursor(session) for session in sessions}
        following = {s: c for s, c in cursors.items() if c is not None}
        if following:
            yield from self._changed(following, to=to, key=key)
        for session in (s for s, c in cursors.items() if c is None):
            yield from self._listing(session, to=to, key=key)

    def _key(self) -> str:
        names = self.context.settings.key_env or self.info.key_env
        for name in names:
            value = self.context.environ.get(name)
            if value:
                return value
        raise SourceError(f"disabled: no API key; set {' or '.join(names)}", source=NAME)

    def _sessions(self) -> tuple[str, ...]:
        sessions = self.context.settings.sessions
        if not sessions:
            raise SourceError("no sessions configured (sessions = [\"2025\"])", source=NAME)
        for session in sessions:
            if not _SESSION.match(session) or int(session) % 2 == 0:
                raise SourceError(f"session {session!r} is not a session year (the odd first "
                                  "year of a two-year session, e.g. \"2025\")", source=NAME)
        return sessions

    def _api(self, path: str) -> str:
        return self.context.rebase(DEFAULT_ORIGIN + API_ROOT + path, default_origin=DEFAULT_ORIGIN)

    def cursor_url(self, session: str) -> str:
        """The state URL whose ``lastmod`` is the session's feed cursor (never fetched)."""
        return self._api("bills/updates") + f"#session={session}"

    def bill_url(self, session: str, base_print_no: str) -> str:
        return self._api(f"bills/{session}/{base_print_no}?view=default")

    def _cursor(self, session: str) -> datetime | None:
        stored = self.context.state.get(self.cursor_url(session))
        if stored is None or not stored.lastmod:
            return None
        try:
            return datetime.fromisoformat(stored.lastmod)
        except ValueError:
            raise SourceError(f"the stored cursor of session {session} is not a time: "
                              f"{stored.lastmod!r}", source=NAME) from None

    def _changed(
        self, cursors: Mapping[str, datetime], *, to: str, key: str
    ) -> Iterator[BillRef | Checkpoint]:
        begin = min(cursors.values()) - OVERLAP
        if begin >= datetime.fromisoformat(to):
            # The local clock went back (autumn's DST change repeats an hour): there is no
            # window to ask for yet, and the cursors stay where they are.
            return
        start = local_time(begin)
        entries: list[FeedEntry] = []
        offset: int | None = 1
        while offset is not None:
            url = self._api(f"bills/updates/{start}/{to}?type=processed&limit={PAGE_LIMIT}"
                            f"&offset={offset}")
            body = self.context.http.get(url, params={"key": key}).body
            page, found = parse_feed(body, document=url)
            entries.extend(found)
            offset = _advance(page, offset, document=url)
        for session in sorted(cursors):
            wanted = changed_bills(entries, sessions={session})
            if not wanted:
                continue
            stored = self.context.state.lastmods(prefix=self._api(f"bills/{session}/"))
            for entry in wanted:
                url = self.bill_url(session, entry.base_print_no)
                if _covered(entry.processed, stored.get(url)):
                    continue
                yield BillRef(source=NAME, url=url, session=session, lastmod=entry.processed,
                              group=_FEED_GROUP, hint=entry.base_print_no)
        updates = tuple(StateUpdate(self.cursor_url(s), Validators(lastmod=to)) for s in cursors)
        yield Checkpoint(group=_FEED_GROUP, updates=updates)

    def _listing(self, session: str, *, to: str, key: str) -> Iterator[BillRef | Checkpoint]:
        probe = self._api(f"bills/{session}?limit=1&offset=1")
        page = page_of(load(self.context.http.get(probe, params={"key": key}).body,
                            document=probe))
        if page.empty or page.total == 0:
            raise SourceError(f"session {session} lists no bills ({probe})", source=NAME)
        group = f"ny-openleg:listing:{session}"
        for offset in range(1, page.total + 1, PAGE_LIMIT):
            url = self._api(f"bills/{session}?limit={PAGE_LIMIT}&offset={offset}&full=true")
            yield BillRef(source=NAME, url=url, session=session, group=group)
        cursor = StateUpdate(self.cursor_url(session), Validators(lastmod=to))
        yield Checkpoint(group=group, updates=(cursor,))

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """One bill or listing page; conditional on what was stored for its URL."""
        result = self.context.http.get(
            ref.url, previous=self.context.state.get(ref.url), params={"key": self._key()}
        )
        validators = replace(result.validators, lastmod=ref.lastmod)
        return Fetched(
            ref=ref,
            documents={ref.url: result.body},
            unchanged=result.unchanged,
            updates=(StateUpdate(ref.url, validators),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """Records of each document; pure. A bill ref must get the bill it asked for."""
        records = []
        for name, body in fetched.documents.items():
            found = parse_document(body, document=name)
            _check_asked_for(found, fetched.ref, document=name)
            records.extend(found)
        return records


def _advance(page: Page, offset: int, *, document: str) -> int | None:
    following = page.next_offset()
    if following is not None and following <= offset:
        raise ParseError(f"page at offset {offset} does not advance (offsetEnd "
                         f"{page.offset_end})", document=document)
    return following


def _check_asked_for(records: Sequence[BillRecord], ref: BillRef, *, document: str) -> None:
    if not ref.hint or not ref.session:
        return
    expected = f"{ref.session}/{ref.hint}"
    got = [f"{r.session}/{r.identifier.replace(' ', '')}" for r in records]
    if got != [expected]:
        raise ParseError(f"asked for {expected}, got {', '.join(got) or 'nothing'}",
                         document=document)
