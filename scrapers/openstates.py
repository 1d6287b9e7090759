"""``openstates``: bills of any state from the Open States API v3 (key required, fills gaps).

Upstream (``sources.md`` section 5; openstates/api-v3 ``api/bills.py``, ``api/schemas.py``):

* ``GET https://v3.openstates.org/bills`` with the key in the ``X-API-KEY`` header (never in
  the URL), ``jurisdiction`` (``ny``), ``session`` (Open States' identifier, ``2025-2026``),
  ``updated_since``, ``sort=updated_desc``, repeated ``include=`` (actions, sponsorships,
  versions, abstracts) and ``page``/``per_page`` (at most 20). The answer is
  ``{"results": [Bill...], "pagination": {"page", "max_page", "per_page", "total_items"}}``;
  a Bill has ``id`` (``ocd-bill/<uuid>``), ``jurisdiction{id}``, ``session``,
  ``identifier`` (``SB 113``), ``title``, ``classification[]``, ``subject[]``,
  ``updated_at``, ``openstates_url`` and what was included: ``actions[{organization
  {classification}, description, date, classification[], order}]``, ``sponsorships[{name,
  primary, classification}]``, ``versions[{note, date, links[{url, media_type}]}]``,
  ``abstracts[{abstract, note}]``. ``/bills/ocd-bill/<uuid>`` answers one Bill.
* **No real sample of these answers exists** (``tests/fixtures/openstates/README.md``): the
  fixtures follow the schema above, and the parser refuses any other shape loudly.
* Free tier: 10 requests a minute (and about 500 a day): the real host is polled at most one
  request per 6.5 s; a 429 is retried after its ``Retry-After`` by ``tracker.http``, and a
  longer wait stops the poll with one line.

Configuration: ``sessions`` lists ``jurisdiction:session`` pairs in Open States' terms
(``"ny:2025-2026"``, ``"va:2025"``, ``"tx:89"``); the bill keys use the tracker's session
names (``scrapers.aggregator_sessions``: ``ny/2025/S 1234``), so a bill a direct source
stores is the same bill here.

Change detection: per pair, the list is read newest first (``sort=updated_desc``) down to the
stored cursor (the newest ``updated_at`` of the last complete walk); a bill is yielded only
when its ``updated_at`` differs from the one stored with its URL. Open States compares
``updated_since`` with the text of its timestamps, so the filter is sent as a day (the day
before the cursor, whatever the server's time zone) and the cursor itself is applied here.

A poll reads at most 50 pages. A longer walk (a first poll of a big session) stores where it
stopped after each page (``{list}#walk``: the newest ``updated_at`` seen and the next page);
the next poll first reads the bills updated since (they sort to the front), then goes on from
that page. Bills updated meanwhile push older ones to later pages, so a resumed walk may see
a few bills twice (they are yielded once) but never skips one. The marks, like the cursor,
are stored only while every bill of the walk was stored, so a failed bill is listed again.

Since each list page already holds every included part of its bills, ``fetch`` hands back
the bill kept from the page that listed it: no second request. Only a ref whose page is not
in hand (a ref built elsewhere) is fetched from ``/bills/ocd-bill/<uuid>``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from scrapers._api import (
    api_key,
    items,
    json_object,
    mapping,
    pace_real_origin,
    parse_day,
    parse_instant,
    text,
)
from scrapers.aggregator_sessions import OPENSTATES_STATES, openstates_session
from scrapers.openstates_rules import ACTION_CLASSES, BILL_TYPES, CHAMBERS, jurisdiction_code
from tracker.errors import InvalidBillKey, ParseError, SourceError
from tracker.models import ActionClass, BillType, Chamber, normalize_identifier
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

NAME = "openstates"
DEFAULT_ORIGIN = "https://v3.openstates.org"
#: The free tier allows 10 requests a minute: one per 6 s, and a little slower for safety.
REAL_ORIGIN_INTERVAL = 6.5
PER_PAGE = 20
INCLUDES = ("actions", "sponsorships", "versions", "abstracts")
#: Pages one poll reads at most (5.4 minutes at the pace above; four polls a day stay under
#: the free tier's daily 500): a longer walk, such as a first poll of New York's 20,000
#: bills, goes on from where it stopped at the next poll.
MAX_PAGES_PER_POLL = 50
#: Bills updated up to this long before the cursor are listed again (sort-order jitter).
CURSOR_OVERLAP = timedelta(hours=1)

_PAIR = re.compile(r"^([A-Za-z]{2}):(\S+)$")


class Openstates:
    """The ``openstates`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="Open States API v3 (any state, fills gaps)",
        jurisdictions=OPENSTATES_STATES,
        homepage="https://v3.openstates.org/docs",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
        needs_key=True,
        key_env=("OPENSTATES_API_KEY",),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self.origin = (context.settings.base_url or DEFAULT_ORIGIN).rstrip("/")
        pace_real_origin(context, default_origin=DEFAULT_ORIGIN, seconds=REAL_ORIGIN_INTERVAL)
        #: Bills listed by discover and not fetched yet: ref URL -> the bill's JSON.
        self._listed: dict[str, bytes] = {}

    def bill_url(self, bill_id: str) -> str:
        """The stored URL of a bill: its detail endpoint (``/bills/ocd-bill/<uuid>``)."""
        return f"{self.origin}/bills/{bill_id}"

    # -- discover / fetch -------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        headers = {"X-API-KEY": api_key(self.context, self.info)}
        pairs = [_pair(entry) for entry in self.context.settings.sessions]
        if not pairs:
            raise SourceError('no sessions configured (jurisdiction:session pairs, e.g. '
                              '["ny:2025-2026"])', source=NAME)
        stored = self.context.state.lastmods(prefix=f"{self.origin}/bills/ocd-bill/")
        for jurisdiction, session in pairs:
            yield from self._pair(jurisdiction, session, stored=stored, headers=headers)

    def _pair(
        self, jurisdiction: str, session: str, *, stored: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> Iterator[BillRef | Checkpoint]:
        """Walk one jurisdiction:session list newest first; see the module docstring."""
        selection = urlencode({"jurisdiction": jurisdiction, "session": session})
        list_url = f"{self.origin}/bills?{selection}"
        walk_url = f"{list_url}#walk"
        cursor = _stored_instant(self.context.state.get(list_url))
        mark = WalkMark.read(self.context.state.get(walk_url))
        query = _query(cursor)
        top = mark.top if mark else None
        catching_up = mark is not None  # first the bills updated since the walk began
        seen: set[str] = set()
        page = 1
        for _ in range(MAX_PAGES_PER_POLL):
            listed, last_page = self._page(list_url, query, page=page, headers=headers)
            finished, jump = page >= last_page or not listed, None
            for bill in listed:
                if cursor is not None and bill.moment < cursor - CURSOR_OVERLAP:
                    finished = True  # sorted newest first: the rest is older still
                    break
                if mark is not None and catching_up and bill.moment <= mark.top:
                    catching_up = False
                    if page < mark.next_page:  # the walk read the rest of this page
                        jump = mark.next_page
                        break
                top = bill.moment if top is None else max(top, bill.moment)
                yield from self._ref(bill, session=session, group=list_url, stored=stored,
                                     seen=seen)
            if jump is not None and jump <= last_page:
                page = jump
                continue
            if finished or jump is not None:
                newest = max(top, cursor) if top and cursor else top or cursor
                if newest is not None:
                    yield Checkpoint(group=list_url, updates=(
                        StateUpdate(list_url, Validators(lastmod=newest.isoformat())),
                        StateUpdate(walk_url, Validators(lastmod="")),
                    ))  # fmt: skip
                return
            if not catching_up and top is not None:
                mark_now = WalkMark(top=top, next_page=page + 1)
                yield Checkpoint(group=list_url, updates=(
                    StateUpdate(walk_url, Validators(lastmod=mark_now.text())),
                ))  # fmt: skip
            page += 1
        log.info("%s: %s: %d pages read this poll; the next poll goes on from page %d",
                 NAME, list_url, MAX_PAGES_PER_POLL, page)

    def _page(
        self, list_url: str, query: list[tuple[str, str]], *, page: int,
        headers: Mapping[str, str],
    ) -> tuple[list[Listed], int]:
        """One page of the list: its bills and the number of the last page."""
        url = f"{list_url}&{urlencode([*query, ('page', str(page))])}"
        result = self.context.http.get(url, headers=headers)
        bills, last_page = parse_page(result.body, document=url)
        listed = []
        for bill in bills:
            bill_id, updated_at = text(bill.get("id")), text(bill.get("updated_at"))
            if not bill_id.startswith("ocd-bill/") or not updated_at:
                raise ParseError("a result has no ocd-bill id or updated_at", document=url)
            moment = parse_instant(updated_at, document=url, what="updated_at")
            listed.append(Listed(bill_id, updated_at, moment, json.dumps(bill).encode()))
        return listed, last_page

    def _ref(
        self, bill: Listed, *, session: str, group: str, stored: Mapping[str, str],
        seen: set[str],
    ) -> Iterator[BillRef]:
        url = self.bill_url(bill.bill_id)
        if url in seen or stored.get(url) == bill.updated_at:
            return
        seen.add(url)
        self._listed[url] = bill.body
        yield BillRef(source=NAME, url=url, session=session, lastmod=bill.updated_at,
                      group=group)

    def fetch(self, ref: BillRef) -> Fetched:
        """The bill kept from its list page; the detail endpoint only for a ref not listed
        by this source instance."""
        body = self._listed.pop(ref.url, None)
        if body is None:
            headers = {"X-API-KEY": api_key(self.context, self.info)}
            query = urlencode([("include", part) for part in INCLUDES])
            body = self.context.http.get(f"{ref.url}?{query}", headers=headers).body
        update = StateUpdate(ref.url, Validators(lastmod=ref.lastmod))
        return Fetched(ref=ref, documents={ref.url: body}, updates=(update,))

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        records: list[BillRecord] = []
        for name, body in fetched.documents.items():
            data = json_object(body, document=name)
            if "results" in data:
                bills, _ = _results(data, document=name)
                records.extend(parse_bill(bill, document=name) for bill in bills)
            else:
                records.append(parse_bill(data, document=name))
        return records


def _pair(entry: str) -> tuple[str, str]:
    found = _PAIR.match(entry)
    if found is None:
        raise SourceError(
            f"sessions: {entry!r} is not jurisdiction:session (e.g. \"ny:2025-2026\")",
            source=NAME,
        )
    return found.group(1).lower(), found.group(2)


def _query(cursor: datetime | None) -> list[tuple[str, str]]:
    query = [("sort", "updated_desc"), ("per_page", str(PER_PAGE))]
    query += [("include", part) for part in INCLUDES]
    if cursor is not None:
        # A day, and the day before: the server compares the text of its timestamps.
        query.append(("updated_since", f"{cursor - timedelta(days=1):%Y-%m-%d}"))
    return query


def _stored_instant(stored: Validators | None) -> datetime | None:
    try:
        return parse_instant(stored.lastmod, document="cursor", what="cursor") \
            if stored and stored.lastmod else None
    except ParseError:
        return None  # an unreadable cursor only costs a longer listing


@dataclass(frozen=True, slots=True)
class Listed:
    """One bill of a list page; ``updated_at`` as upstream wrote it (the stored marker)."""

    bill_id: str
    updated_at: str
    moment: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class WalkMark:
    """Where an unfinished walk of a list stands: the newest bill it saw, the next page."""

    top: datetime
    next_page: int

    def text(self) -> str:
        return f"{self.top.isoformat()}|{self.next_page}"

    @classmethod
    def read(cls, stored: Validators | None) -> WalkMark | None:
        """The stored mark; ``None`` for none, a finished walk ("") or an unreadable one."""
        moment, _, page = (stored.lastmod or "").partition("|") if stored else ("", "", "")
        if not page.isdigit():
            return None
        try:
            return cls(top=parse_instant(moment, document="walk", what="walk"),
                       next_page=int(page))
        except ParseError:
            return None


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def _results(data: Mapping[str, Any], *, document: str) -> tuple[list[Mapping[str, Any]], int]:
    bills = items(data.get("results"), document=document, what="results")
    pagination = mapping(data.get("pagination"), document=document, what="pagination")
    last_page = pagination.get("max_page")
    if not isinstance(last_page, int) or isinstance(last_page, bool):
        raise ParseError("pagination.max_page: not a number", document=document)
    return bills, last_page


def parse_page(body: bytes, *, document: str) -> tuple[list[Mapping[str, Any]], int]:
    """A ``/bills`` page -> its bills and the number of the last page."""
    return _results(json_object(body, document=document), document=document)


def parse_bill(bill: Mapping[str, Any], *, document: str) -> BillRecord:
    """One Open States Bill object (with its included parts) -> a record."""
    bill_id = text(bill.get("id"))
    where = f"{document} [{bill_id or 'bill'}]"
    jurisdiction_id = text(mapping(bill.get("jurisdiction"), document=where,
                                   what="jurisdiction").get("id"))
    jurisdiction = jurisdiction_code(jurisdiction_id)
    if jurisdiction is None:
        raise ParseError(f"jurisdiction.id: not a U.S. jurisdiction: {jurisdiction_id[:80]!r}",
                         document=where)
    session = text(bill.get("session"))
    if not session or "/" in session:
        raise ParseError(f"session: {session[:40]!r}", document=where)
    try:
        identifier = normalize_identifier(text(bill.get("identifier")))
    except InvalidBillKey as exc:
        raise ParseError(f"identifier: {exc}", document=where) from None
    classification = [text(c) for c in bill.get("classification") or [] if text(c)]
    bill_type = BILL_TYPES.get(classification[0] if classification else "bill", BillType.BILL)
    abstracts = items(bill.get("abstracts"), document=where, what="abstracts")
    updated = text(bill.get("updated_at"))
    return BillRecord(
        source=NAME,
        jurisdiction=jurisdiction,
        session=openstates_session(jurisdiction=jurisdiction, identifier=session),
        identifier=identifier,
        title=collapse(text(bill.get("title"))),
        bill_type=bill_type,
        actions=_actions(bill.get("actions"), document=where),
        sponsors=_sponsors(bill.get("sponsorships"), document=where),
        subjects=tuple(text(s) for s in bill.get("subject") or [] if text(s)),
        summary=collapse(text(abstracts[0].get("abstract"))) if abstracts else "",
        versions=_versions(bill.get("versions"), document=where),
        url=text(bill.get("openstates_url")) or None,
        upstream_updated_at=parse_instant(updated, document=where, what="updated_at")
        if updated else None,
        document=document,
        extras={
            "openstates_id": bill_id,
            "openstates_session": session,
            "classification": classification,
        },
    )


def _actions(value: Any, *, document: str) -> tuple[ActionRecord, ...]:
    """Actions in Open States' ``order``, their classes mapped (unknown ones ignored)."""
    rows = items(value, document=document, what="actions")
    ordered = sorted(rows, key=_order)
    actions = []
    for row in ordered:
        description = collapse(text(row.get("description")))
        if not description:
            continue
        organization = row.get("organization")
        org_class = text(organization.get("classification")) if isinstance(organization, dict) \
            else ""
        actions.append(ActionRecord(
            date=parse_day(row.get("date"), document=document, what="actions.date"),
            actor=CHAMBERS.get(org_class, Chamber.UNKNOWN),
            description=description,
            classification=_classes(row.get("classification"), document=document),
        ))  # fmt: skip
    return tuple(actions)


def _order(row: Mapping[str, Any]) -> int:
    order = row.get("order")
    return order if isinstance(order, int) else 0


def _classes(value: Any, *, document: str) -> tuple[ActionClass, ...]:
    found = []
    for name in value or []:
        cls = ACTION_CLASSES.get(text(name))
        if cls is None:
            log.debug("%s: unknown Open States action class %r ignored", document, name)
            continue
        found.append(cls)
    return tuple(found)


def _sponsors(value: Any, *, document: str) -> tuple[SponsorRecord, ...]:
    records = []
    for row in items(value, document=document, what="sponsorships"):
        name = collapse(text(row.get("name")))
        if not name:
            continue
        person = row.get("person")
        extras = {"classification": text(row.get("classification")),
                  "entity_type": text(row.get("entity_type"))}
        if isinstance(person, dict):
            extras |= {"person_id": text(person.get("id")), "party": text(person.get("party"))}
        records.append(SponsorRecord(name=name, primary=row.get("primary") is True,
                                     extras={k: v for k, v in extras.items() if v}))
    return tuple(records)


def _versions(value: Any, *, document: str) -> tuple[VersionRecord, ...]:
    versions = []
    for row in items(value, document=document, what="versions"):
        name = collapse(text(row.get("note"))) or "Version"
        links = items(row.get("links"), document=document, what="versions.links")
        when = text(row.get("date"))
        versions.append(VersionRecord(
            name=name,
            date=parse_day(when, document=document, what="versions.date") if when else None,
            url=text(links[0].get("url")) or None if links else None,
        ))  # fmt: skip
    return tuple(versions)
