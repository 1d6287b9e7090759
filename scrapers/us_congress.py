"""``us-congress``: federal bills from the congress.gov API v3 (key required), the fast feed.

Upstream (``sources.md`` section 4; LibraryOfCongress/api.congress.gov):

* base ``https://api.congress.gov/v3``, JSON with ``format=json``; the key (an api.data.gov
  key, ``CONGRESS_API_KEY`` or ``DATA_GOV_API_KEY``) goes in the ``api_key`` query parameter,
  which ``tracker.http`` masks in every message; stored URLs never hold it. 5,000 requests an
  hour: the real host is polled at most one request per 0.75 s.
* ``/bill/{congress}?fromDateTime=...&sort=updateDate+desc&limit=250&offset=N`` lists bills
  updated since a moment: ``bills[{congress, type, number, updateDate,
  updateDateIncludingText, latestAction{actionDate, text}, url}]`` and ``pagination{count,
  next}``. ``updateDate`` is a date in older answers and a date-time in newer ones.
* ``/bill/{congress}/{type}/{number}`` (``bill{title, originChamber, sponsors[], policyArea,
  laws[], updateDate, ...}`` with ``count``/``url`` stubs) and its ``/actions``,
  ``/subjects``, ``/summaries``, ``/text`` and ``/titles``, each paged like the lists. Every
  answer repeats the ``request`` it answers (congress, billType, billNumber).

The real answers for H.R. 21 (117th) in ``../shared/fixtures/congress-gov-api/`` are this
parser's tests; ``tracker inspect us-congress FOLDER`` reads such a folder (files are told
apart by their content, so the LoC client's ``bill_117_hr_21_actions.txt`` names work as
well as the URLs this source names its documents by).

Change detection: per Congress, the list is read newest first from the stored cursor (the
newest ``updateDate`` of the last complete poll, less an hour of overlap) and stops at the
first older item; a bill is fetched only when its update date or latest action differs from
what was stored with its URL. The cursor moves only when every bill of the poll was stored.
A poll fetches at most 400 bills (about six requests each); the rest wait, and the cursor
stays, for the next poll, so a first poll of a whole Congress is spread over many polls
(us-govinfo's bulk data is the cheaper first baseline).

Actions: the API's ``actions[]`` are BILLSTATUS's ``<actions>`` in JSON (same codes, source
systems and duplicate rows), so they are rendered as that element and read by
``scrapers.us_govinfo.parse_actions``: the same folding, the same code-first-then-text
classification (``us_govinfo.classify``), hence the same action identities for one bill read
from either federal source.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from lxml import etree

from scrapers import us_govinfo
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

NAME = "us-congress"
DEFAULT_ORIGIN = "https://api.congress.gov/v3"
#: 5,000 requests an hour is one per 0.72 s; a little slower leaves room for retries.
REAL_ORIGIN_INTERVAL = 0.75
PAGE_SIZE = 250
#: A page cap per list, so a server that always says "next" cannot keep a poll forever.
MAX_PAGES = 200
#: Bills one poll fetches at most: six requests each, about half an hour at the pace above.
MAX_BILLS_PER_POLL = 400
#: The cursor is re-read this far back: items updated while the last poll walked the list.
CURSOR_OVERLAP = timedelta(hours=1)

#: Sub-resources fetched per changed bill: path -> the item's count stub that says if any.
SUB_RESOURCES: Mapping[str, str] = {
    "actions": "actions",
    "subjects": "subjects",
    "summaries": "summaries",
    "text": "textVersions",
    "titles": "titles",
}
#: Each document kind by the top-level key that only it has.
_KINDS = ("bill", "bills", "actions", "subjects", "summaries", "textVersions", "titles")

#: API type -> (identifier letters, bill type, congress.gov path segment).
BILL_TYPES: Mapping[str, tuple[str, BillType, str]] = {
    "HR": ("HR", BillType.BILL, "house-bill"),
    "S": ("S", BillType.BILL, "senate-bill"),
    "HRES": ("HRES", BillType.RESOLUTION, "house-resolution"),
    "SRES": ("SRES", BillType.RESOLUTION, "senate-resolution"),
    "HCONRES": ("HCONRES", BillType.CONCURRENT_RESOLUTION, "house-concurrent-resolution"),
    "SCONRES": ("SCONRES", BillType.CONCURRENT_RESOLUTION, "senate-concurrent-resolution"),
    "HJRES": ("HJRES", BillType.JOINT_RESOLUTION, "house-joint-resolution"),
    "SJRES": ("SJRES", BillType.JOINT_RESOLUTION, "senate-joint-resolution"),
}
_CONGRESS = re.compile(r"^\d{2,3}$")


class UsCongress:
    """The ``us-congress`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="congress.gov API v3 (U.S. Congress)",
        jurisdictions=("us",),
        homepage="https://api.congress.gov/",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(minutes=15),
        needs_key=True,
        key_env=("CONGRESS_API_KEY", "DATA_GOV_API_KEY"),
    )
    #: ``tracker inspect us-congress FOLDER`` reads a folder as one bundle of documents.
    bundle_folders: ClassVar[bool] = True

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self.origin = (context.settings.base_url or DEFAULT_ORIGIN).rstrip("/")
        pace_real_origin(context, default_origin=DEFAULT_ORIGIN, seconds=REAL_ORIGIN_INTERVAL)

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """Per Congress: the bills updated since the cursor whose marker moved."""
        key = api_key(self.context, self.info)
        congresses = self.context.settings.sessions
        if not congresses:
            raise SourceError('no sessions configured (Congress numbers, e.g. ["119"])',
                              source=NAME)
        for congress in congresses:
            if not _CONGRESS.match(congress):
                raise SourceError(f"sessions: {congress!r} is not a Congress number", source=NAME)
            yield from self._congress(congress, key=key)

    def _congress(self, congress: str, *, key: str) -> Iterator[BillRef | Checkpoint]:
        list_url = f"{self.origin}/bill/{congress}"
        cursor_state = self.context.state.get(list_url)
        cursor = _cursor_of(cursor_state.lastmod if cursor_state else None)
        stored = self.context.state.lastmods(prefix=f"{list_url}/")
        newest, yielded, deferred = cursor, 0, 0
        for listed in self._listing(list_url, key=key, cursor=cursor):
            newest = max(newest, listed.updated) if newest else listed.updated
            url = f"{list_url}/{listed.type.lower()}/{listed.number}"
            if stored.get(url) == listed.marker:
                continue
            if yielded >= MAX_BILLS_PER_POLL:
                deferred += 1
                continue
            yielded += 1
            yield BillRef(source=NAME, url=url, session=congress, lastmod=listed.marker,
                          group=list_url, hint=f"{listed.type} {listed.number}")
        if deferred:
            # The cursor stays: the next poll lists the same span and fetches what is left.
            log.warning("%s: %s: %d changed bills left for the next poll (%d a poll at most)",
                        NAME, list_url, deferred, MAX_BILLS_PER_POLL)
        elif newest is not None:
            update = StateUpdate(list_url, Validators(lastmod=f"{newest:%Y-%m-%dT%H:%M:%SZ}"))
            yield Checkpoint(group=list_url, updates=(update,))

    def _listing(
        self, list_url: str, *, key: str, cursor: datetime | None
    ) -> Iterator[ListedBill]:
        """Listed bills, newest first, down to the cursor."""
        params = {"api_key": key, "format": "json", "sort": "updateDate desc",
                  "limit": str(PAGE_SIZE)}
        if cursor is not None:
            params["fromDateTime"] = f"{cursor - CURSOR_OVERLAP:%Y-%m-%dT%H:%M:%SZ}"
        for page in range(MAX_PAGES):
            offset = page * PAGE_SIZE
            document = f"{list_url}?offset={offset}"
            result = self.context.http.get(list_url, params={**params, "offset": str(offset)})
            listed, more = parse_listing(result.body, document=document)
            for bill in listed:
                if cursor is not None and bill.updated < cursor - CURSOR_OVERLAP:
                    return  # the list is sorted: everything further is older still
                yield bill
            if not more or not listed:
                return
        raise SourceError(f"{list_url}: more than {MAX_PAGES} pages; stopped", source=NAME)

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """The bill item and each of its sub-resources that has entries, every page."""
        key = api_key(self.context, self.info)
        params = {"api_key": key, "format": "json"}
        item = self.context.http.get(ref.url, params=params)
        documents = {ref.url: item.body}
        bill = mapping(json_object(item.body, document=ref.url).get("bill"),
                       document=ref.url, what="bill")
        for path, stub in SUB_RESOURCES.items():
            count = bill.get(stub)
            if isinstance(count, dict) and count.get("count") == 0:
                continue  # nothing to fetch: a new bill has no summaries or text yet
            documents.update(self._pages(f"{ref.url}/{path}", params=params))
        update = StateUpdate(ref.url, Validators(lastmod=ref.lastmod))
        return Fetched(ref=ref, documents=documents, updates=(update,))

    def _pages(self, url: str, *, params: Mapping[str, str]) -> dict[str, bytes]:
        pages: dict[str, bytes] = {}
        for page in range(MAX_PAGES):
            offset = page * PAGE_SIZE
            name = url if page == 0 else f"{url}?offset={offset}"
            result = self.context.http.get(
                url, params={**params, "limit": str(PAGE_SIZE), "offset": str(offset)}
            )
            pages[name] = result.body
            pagination = json_object(result.body, document=name).get("pagination")
            if not (isinstance(pagination, dict) and pagination.get("next")):
                return pages
        raise ParseError(f"more than {MAX_PAGES} pages", document=url)

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        return parse_bundle(fetched.documents)


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListedBill:
    """A list item: ``updated`` is its ``updateDate``; ``marker`` says whether it changed."""

    type: str
    number: str
    updated: datetime
    marker: str


def _cursor_of(stored: str | None) -> datetime | None:
    try:
        return parse_instant(stored, document="cursor", what="cursor") if stored else None
    except ParseError:
        return None  # an unreadable cursor only costs a longer listing


def parse_listing(body: bytes, *, document: str) -> tuple[list[ListedBill], bool]:
    """A ``/bill/{congress}`` page -> its bills and whether another page follows."""
    data = json_object(body, document=document)
    listed = []
    for position, bill in enumerate(items(data.get("bills"), document=document, what="bills")):
        where = f"bills[{position}]"
        bill_type, number = text(bill.get("type")).upper(), text(bill.get("number"))
        if bill_type not in BILL_TYPES or not number.isdigit():
            raise ParseError(f"{where}: no type/number (type={bill_type[:10]!r}, "
                             f"number={number[:10]!r})", document=document)
        # updateDate is what fromDateTime filters and the list is sorted by; the text's own
        # update date only joins the marker.
        updated = parse_instant(bill.get("updateDate"), document=document,
                                what=f"{where}.updateDate")
        update = text(bill.get("updateDateIncludingText")) or text(bill.get("updateDate"))
        latest = bill.get("latestAction")
        latest = latest if isinstance(latest, dict) else {}
        listed.append(ListedBill(
            type=bill_type, number=number, updated=updated,
            marker=_marker(update, text(latest.get("actionDate")), text(latest.get("text"))),
        ))  # fmt: skip
    pagination = data.get("pagination")
    more = isinstance(pagination, dict) and bool(pagination.get("next"))
    return listed, more


def _marker(update: str, action_date: str, action_text: str) -> str:
    """What says a listed bill changed: its update date and its latest action (hashed, as
    the stored marker is short)."""
    digest = hashlib.sha256(action_text.encode()).hexdigest()[:12]
    return f"{update}|{action_date}|{digest}"


# ---------------------------------------------------------------------------------------------
# One bill from its documents
# ---------------------------------------------------------------------------------------------


@dataclass
class _Bundle:
    """The documents of one bill, by kind."""

    item: tuple[str, Mapping[str, Any]] | None = None
    parts: dict[str, list[tuple[str, Mapping[str, Any]]]] = field(default_factory=dict)


def parse_bundle(documents: Mapping[str, bytes]) -> list[BillRecord]:
    """Records from a bill's item and sub-resource answers, told apart by content and tied
    together by their ``request`` block (list answers and other sub-resources are skipped)."""
    bundles: dict[tuple[str, str, str] | None, _Bundle] = {}
    for name, body in documents.items():
        data = json_object(body, document=name)
        kind = next((k for k in _KINDS if k in data), None)
        if kind is None or kind == "bills":
            log.debug("%s: not a bill document; skipped", name)
            continue
        bundle = bundles.setdefault(_identity(data, kind=kind), _Bundle())
        if kind == "bill":
            bundle.item = (name, mapping(data["bill"], document=name, what="bill"))
        else:
            bundle.parts.setdefault(kind, []).append((name, data))
    loose = bundles.pop(None, None)
    if loose is not None:
        if len(bundles) != 1:
            names = [name for parts in loose.parts.values() for name, _ in parts]
            raise ParseError("no request block says which bill this answers",
                             document=names[0] if names else "bundle")
        (only,) = bundles.values()
        for kind, parts in loose.parts.items():
            only.parts.setdefault(kind, []).extend(parts)
    records = []
    for identity, bundle in bundles.items():
        if bundle.item is None:
            name = next(name for parts in bundle.parts.values() for name, _ in parts)
            raise ParseError(f"answers for {' '.join(identity or ())} but no bill document",
                             document=name)
        records.append(parse_bill(*bundle.item, bundle=bundle))
    return records


def _identity(data: Mapping[str, Any], *, kind: str) -> tuple[str, str, str] | None:
    request = data.get("request")
    source: Mapping[str, Any] = request if isinstance(request, dict) else {}
    if kind == "bill" and not source:
        bill = data.get("bill")
        source = {"congress": bill.get("congress"), "billType": bill.get("type"),
                  "billNumber": bill.get("number")} if isinstance(bill, dict) else {}
    found = (text(source.get("congress")), text(source.get("billType")).lower(),
             text(source.get("billNumber")))
    return found if all(found) else None


def parse_bill(document: str, bill: Mapping[str, Any], *, bundle: _Bundle) -> BillRecord:
    """One bill from its item (``document``, ``bill``) and the sub-resources in ``bundle``."""
    congress, bill_type_code = text(bill.get("congress")), text(bill.get("type")).upper()
    number = text(bill.get("number"))
    if not congress.isdigit() or bill_type_code not in BILL_TYPES or not number.isdigit():
        raise ParseError(f"bill: no congress/type/number (congress={congress[:10]!r}, "
                         f"type={bill_type_code[:10]!r}, number={number[:10]!r})",
                         document=document)
    letters, bill_type, slug = BILL_TYPES[bill_type_code]
    try:
        identifier = normalize_identifier(f"{letters} {number}")
    except InvalidBillKey as exc:
        raise ParseError(str(exc), document=document) from None
    origin = _origin(text(bill.get("originChamber")), letters)
    titles = _titles(bundle)
    cosponsors = bill.get("cosponsors")
    update = text(bill.get("updateDateIncludingText")) or text(bill.get("updateDate"))
    return BillRecord(
        source=NAME,
        jurisdiction="us",
        session=congress,
        identifier=identifier,
        title=collapse(text(bill.get("title"))) or (titles[0] if titles else ""),
        bill_type=bill_type,
        actions=_actions(bundle, origin=origin, document=document),
        sponsors=_sponsors(bill, document=document),
        subjects=_subjects(bill, bundle),
        summary=_summary(bundle),
        versions=_versions(bundle),
        url=f"https://www.congress.gov/bill/{ordinal(int(congress))}-congress/{slug}/"
        f"{int(number)}",
        upstream_updated_at=parse_instant(update, document=document, what="bill.updateDate")
        if update else None,
        document=document,
        extras={
            "laws": [
                f"{text(law.get('type')) or 'Public Law'} {text(law.get('number'))}"
                for law in items(bill.get("laws"), document=document, what="bill.laws")
                if text(law.get("number"))
            ],
            "cosponsor_count": cosponsors.get("count", 0) if isinstance(cosponsors, dict) else 0,
            "origin_chamber": origin.value,
            "titles": titles,
        },
    )


def ordinal(n: int) -> str:
    """117 -> "117th", 101 -> "101st" (congress.gov's URL style)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _origin(chamber: str, letters: str) -> Chamber:
    if chamber.lower() == "house" or (not chamber and letters.startswith("H")):
        return Chamber.LOWER
    if chamber.lower() == "senate" or (not chamber and letters.startswith("S")):
        return Chamber.UPPER
    return Chamber.UNKNOWN


def _parts(bundle: _Bundle, kind: str) -> Sequence[tuple[str, Mapping[str, Any]]]:
    return bundle.parts.get(kind, [])


def _actions(bundle: _Bundle, *, origin: Chamber, document: str) -> tuple[ActionRecord, ...]:
    """The actions of every page, rendered as BILLSTATUS ``<actions>`` and folded there."""
    root = etree.Element("bill")
    container = etree.SubElement(root, "actions")
    for name, data in _parts(bundle, "actions"):
        document = name
        for action in items(data.get("actions"), document=name, what="actions"):
            parse_day(action.get("actionDate"), document=name, what="actions.actionDate")
            container.append(_billstatus_item(action))
    return us_govinfo.parse_actions(root, origin=origin, document=document)


def _billstatus_item(action: Mapping[str, Any]) -> Any:
    """One API action as the BILLSTATUS ``<item>`` it restates."""
    item = etree.Element("item")
    for key in ("actionDate", "text", "actionCode", "actionTime", "type"):
        etree.SubElement(item, key).text = _xml_safe(text(action.get(key)))
    system = action.get("sourceSystem")
    if isinstance(system, dict):
        element = etree.SubElement(item, "sourceSystem")
        etree.SubElement(element, "code").text = _xml_safe(text(system.get("code")))
        etree.SubElement(element, "name").text = _xml_safe(text(system.get("name")))
    committees = etree.SubElement(item, "committees")
    for committee in action.get("committees") or []:
        if isinstance(committee, dict) and text(committee.get("name")):
            entry = etree.SubElement(committees, "item")
            etree.SubElement(entry, "name").text = _xml_safe(text(committee.get("name")))
    return item


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(value: str) -> str:
    """Upstream text without the control characters XML cannot hold."""
    return _XML_INVALID.sub("", value)


def _sponsors(bill: Mapping[str, Any], *, document: str) -> tuple[SponsorRecord, ...]:
    records = []
    for sponsor in items(bill.get("sponsors"), document=document, what="bill.sponsors"):
        name = text(sponsor.get("fullName")) or collapse(
            f"{text(sponsor.get('firstName'))} {text(sponsor.get('lastName'))}"
        )
        if not name:
            continue
        extras = {
            "bioguide_id": text(sponsor.get("bioguideId")),
            "party": text(sponsor.get("party")),
            "state": text(sponsor.get("state")),
            "district": text(sponsor.get("district")),
        }
        records.append(SponsorRecord(name=name, primary=True,
                                     extras={k: v for k, v in extras.items() if v}))
    return tuple(records)


def _subjects(bill: Mapping[str, Any], bundle: _Bundle) -> tuple[str, ...]:
    """The policy area first, then the legislative subjects (every page), each once."""
    policy = bill.get("policyArea")
    terms = [text(policy.get("name"))] if isinstance(policy, dict) else []
    for name, data in _parts(bundle, "subjects"):
        subjects = mapping(data.get("subjects"), document=name, what="subjects")
        area = subjects.get("policyArea")
        if isinstance(area, dict):
            terms.insert(0, text(area.get("name")))
        terms.extend(
            text(subject.get("name"))
            for subject in items(subjects.get("legislativeSubjects"), document=name,
                                 what="subjects.legislativeSubjects")
        )
    return tuple(dict.fromkeys(term for term in terms if term))


def _summary(bundle: _Bundle) -> str:
    """The latest CRS summary (by action date, then update date) as plain text."""
    summaries = [
        summary
        for name, data in _parts(bundle, "summaries")
        for summary in items(data.get("summaries"), document=name, what="summaries")
    ]
    if not summaries:
        return ""
    latest = max(summaries, key=lambda s: (text(s.get("actionDate")), text(s.get("updateDate"))))
    return us_govinfo.html_text(text(latest.get("text")))


def _versions(bundle: _Bundle) -> tuple[VersionRecord, ...]:
    versions = []
    for name, data in _parts(bundle, "textVersions"):
        for version in items(data.get("textVersions"), document=name, what="textVersions"):
            kind = text(version.get("type"))
            if not kind:
                continue
            formats = items(version.get("formats"), document=name, what="textVersions.formats")
            when = text(version.get("date"))
            versions.append(VersionRecord(
                name=kind,
                date=parse_day(when, document=name, what="textVersions.date") if when else None,
                url=text(formats[0].get("url")) or None if formats else None,
            ))  # fmt: skip
    return tuple(versions)


def _titles(bundle: _Bundle) -> list[str]:
    """Every distinct title (display, official, short), in upstream order."""
    found = [
        collapse(text(title.get("title")))
        for name, data in _parts(bundle, "titles")
        for title in items(data.get("titles"), document=name, what="titles")
    ]
    return list(dict.fromkeys(title for title in found if title))

