"""``il-ilga``: Illinois bills from the General Assembly's per-bill status XML (no key needed).

Upstream (``sources.md`` section 8):

* listing ``https://www.ilga.gov/ftp/legislation/{GA}/BillStatus/XML/``: an HTML directory
  listing. It is read as the IIS directory-browsing page it is assumed to be: a ``<pre>``
  with one line per entry, ``M/D/YYYY  h:mm AM|PM  size|<dir>`` followed by an
  ``<A HREF>`` (a "[To Parent Directory]" link first). IIS's long-date form
  (``Friday, January 10, 2025``) is read too.
* one file per bill, ``{GA}00{TYPE}{NNNN}.xml`` (``10400HB3466.xml``: GA 104, regular
  session ``00``, House Bill 3466, number zero-padded to four digits); types HB, SB, HR, SR,
  HJR, SJR, HJRCA, SJRCA (joint resolutions proposing constitutional amendments). Other
  files (``AM`` appointment messages, special sessions) are not bills of the regular session
  and are left alone.
* the bill XML, as a third-party parser reads it: root children ``lastaction``, ``actions``
  (a **flat** sequence of ``statusdate``, ``chamber`` and ``action`` elements, grouped here
  in order: each action takes the date and chamber last seen), ``sponsor/sponsors``
  (``Rep. A - B and C``, the other chamber's in parentheses), ``synopsis`` (a flat sequence
  of ``synopsistitle`` / ``SynopsisText`` pairs: the synopsis as introduced, then one per
  amendment), ``nextaction`` and ``committeehearing``. The root's name (``billstatus``) and
  the title element (``shortdescription``, the "Short Description" of the bill pages) are
  this project's assumption: no real file could be recorded (see
  ``tests/fixtures/il-ilga/README.md``).

Quirks handled here:

* Shell bills: an amendment whose synopsis "Replaces everything after the enacting clause"
  gives the bill a new content; ``extras["shell_bill"]`` says so, and the summary is that
  amendment's synopsis (topic matching re-runs on every stored change).
* Actions are listed under the chamber holding the bill, the Governor's too; the actor of
  "Governor ..." and "Public Act ..." lines is the executive (``scrapers.il_ilga_rules``).
* Some files carry Windows-1252 bytes (accented names) in a document read as UTF-8, as a
  third-party ILGA parser notes; such a body is read as Windows-1252 rather than refused.

No real sample exists, so the parser is strict: an unexpected root, a missing
``<shortdescription>`` or ``<actions>``, an unknown element inside ``<actions>``, an action
before any date or chamber, or an unreadable date or chamber is a
:class:`~tracker.errors.ParseError` naming the file and the element. The listing parser
fails the same way on a page where it finds no entries, or an entry it cannot read.

Change detection: the listing is fetched conditionally and hashed; when it is unchanged,
nothing is fetched. Otherwise each bill file whose listed date or size differs from the
stored marker is fetched (conditionally too). The listing's validators are stored only
after every changed bill of it was stored. A no-change poll is one request; a General
Assembly's listing (about 11,000 files, a little over 1 MB) parses in a fraction of a
second.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html

from scrapers._xml import Element, child_text, collapse, shown, xml_root
from scrapers.il_ilga_rules import RULES, actor_of
from tracker.errors import ParseError, SourceError
from tracker.models import BillType, Chamber
from tracker.records import (
    ActionRecord,
    BillRecord,
    BillRef,
    Checkpoint,
    Fetched,
    SponsorRecord,
    StateUpdate,
)
from tracker.source import SourceContext, SourceInfo

NAME = "il-ilga"
DEFAULT_ORIGIN = "https://www.ilga.gov"
LISTING_PATH = "/ftp/legislation/{ga}/BillStatus/XML/"

_GA = re.compile(r"^\d{2,3}$")
_BILL_FILE = re.compile(
    r"^(?P<ga>\d{2,3})(?P<special>\d{2})(?P<type>HJRCA|SJRCA|HJR|SJR|HB|SB|HR|SR)"
    r"(?P<number>\d{4})\.xml$",
    re.IGNORECASE,
)
BILL_TYPES: Mapping[str, BillType] = {
    "HB": BillType.BILL,
    "SB": BillType.BILL,
    "HR": BillType.RESOLUTION,
    "SR": BillType.RESOLUTION,
    "HJR": BillType.JOINT_RESOLUTION,
    "SJR": BillType.JOINT_RESOLUTION,
    "HJRCA": BillType.CONSTITUTIONAL_AMENDMENT,
    "SJRCA": BillType.CONSTITUTIONAL_AMENDMENT,
}
_CHAMBERS: Mapping[str, Chamber] = {"house": Chamber.LOWER, "senate": Chamber.UPPER}
_SHORT_DATE = r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})"
_LONG_DATE = r"(?:[A-Za-z]+,\s+)?(?P<month_name>[A-Za-z]+)\s+(?P<lday>\d{1,2}),\s+(?P<lyear>\d{4})"
_LISTING_LINE = re.compile(
    rf"^\s*(?:{_SHORT_DATE}|{_LONG_DATE})\s+(?P<hour>\d{{1,2}}):(?P<minute>\d{{2}})\s*"
    r"(?P<half>[AP]M)?\s+(?:(?P<dir><dir>)|(?P<size>\d+))\s*$",
    re.IGNORECASE,
)
_PARENT_LINK = re.compile(r"^\[\s*to parent directory\s*\]$", re.IGNORECASE)
_SPONSOR_TITLE = re.compile(r"\(?\s*\b(Rep|Sen)s?\.\s+")
_NAME_SEPARATOR = re.compile(r"\s+-\s+|\s+and\s+")
_REPLACES_ALL = re.compile(r"replaces everything after the enacting clause", re.IGNORECASE)
_INTRODUCED = re.compile(r"^synopsis as introduced\b", re.IGNORECASE)
_ACTION_TAGS = frozenset({"statusdate", "chamber", "action"})


class IlIlga:
    """The ``il-ilga`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="Illinois General Assembly bill status XML",
        jurisdictions=("il",),
        homepage="https://www.ilga.gov",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
    )
    #: ``tracker inspect il-ilga FOLDER`` reads only these files of a folder.
    document_suffixes: ClassVar[frozenset[str]] = frozenset({".xml"})

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """Per General Assembly: the listing, then a ref per bill file whose marker moved."""
        for ga in self.context.settings.sessions:
            yield from self._assembly(ga)

    def _assembly(self, ga: str) -> Iterator[BillRef | Checkpoint]:
        if not _GA.match(ga):
            raise SourceError(
                f"session {ga!r} is not a General Assembly number such as 104", source=NAME
            )
        listing_url = self.context.rebase(
            DEFAULT_ORIGIN + LISTING_PATH.format(ga=ga), default_origin=DEFAULT_ORIGIN
        )
        result = self.context.http.get(listing_url, previous=self.context.state.get(listing_url))
        if result.unchanged:
            return  # the listing is as it was when every bill in it had been stored
        bills = [
            entry
            for entry in parse_listing(result.body, document=listing_url)
            if not entry.is_dir and _bill_file(entry.name, ga=ga)
        ]
        if not bills:
            raise SourceError(f"{listing_url} lists no bill status files for GA {ga}", source=NAME)
        stored = self.context.state.lastmods(prefix=listing_url)
        for entry in bills:
            url = urljoin(listing_url, entry.href)
            if stored.get(url) != entry.marker:
                yield BillRef(source=NAME, url=url, session=ga, lastmod=entry.marker,
                              group=listing_url)
        yield Checkpoint(group=listing_url, updates=(StateUpdate(listing_url, result.validators),))

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """The bill file, conditionally; its new listing marker is stored with it."""
        result = self.context.http.get(ref.url, previous=self.context.state.get(ref.url))
        validators = replace(result.validators, lastmod=ref.lastmod)
        return Fetched(
            ref=ref,
            documents={ref.url: result.body},
            unchanged=result.unchanged,
            updates=(StateUpdate(ref.url, validators),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """One record per bill status document; pure."""
        return [parse_billstatus(body, document=name) for name, body in fetched.documents.items()]


# ---------------------------------------------------------------------------------------------
# The directory listing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One entry of the listing: its file name, link, and the date and size shown."""

    name: str
    href: str
    is_dir: bool
    size: int | None
    modified: datetime

    @property
    def marker(self) -> str:
        """``"<modified, ISO>|<size>"``: changes whenever the listing shows a new version."""
        size = "" if self.size is None else str(self.size)
        return f"{self.modified.isoformat(timespec='minutes')}|{size}"


def parse_listing(body: bytes, *, document: str) -> list[DirectoryEntry]:
    """The entries of an IIS-style directory listing page, in page order.

    An empty page has no entries. A page with content but no readable entry, or with an
    entry whose date and size cannot be read, is a ParseError: the listing's format changed.
    """
    if not body.strip():
        return []
    try:
        page = lxml_html.document_fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError(f"not an HTML directory listing: {exc}", document=document) from None
    entries = []
    for link in page.iterfind(".//pre//a"):
        label = collapse(link.text_content())
        if _PARENT_LINK.match(label):
            continue
        entries.append(_entry(link, label=label, document=document))
    if not entries:
        raise ParseError(
            "no entries in the directory listing (expected IIS-style <pre> lines of date, "
            "time, size and <A HREF>)",
            document=document,
        )
    return entries


def _entry(link: Element, *, label: str, document: str) -> DirectoryEntry:
    previous = link.getprevious()
    before = (previous.tail if previous is not None else link.getparent().text) or ""
    match = _LISTING_LINE.match(before.replace("\xa0", " "))
    href = (link.get("href") or "").strip()
    if match is None or not href:
        raise ParseError(
            f"listing entry {shown(label)}: no date, time and size before it "
            f"(found {shown(before.strip())})",
            document=document,
        )
    name = unquote(posixpath.basename(urlsplit(href).path.rstrip("/")))
    is_dir = match["dir"] is not None
    return DirectoryEntry(
        name=name,
        href=href,
        is_dir=is_dir,
        size=None if is_dir else int(match["size"]),
        modified=_listing_time(match, label=label, document=document),
    )


def _listing_time(match: re.Match[str], *, label: str, document: str) -> datetime:
    hour = int(match["hour"])
    if match["half"]:
        hour = hour % 12 + (12 if match["half"].upper() == "PM" else 0)
    try:
        if match["month"]:
            day = date(int(match["year"]), int(match["month"]), int(match["day"]))
        else:
            stamp = f"{match['month_name']} {match['lday']} {match['lyear']}"
            day = datetime.strptime(stamp, "%B %d %Y").date()  # noqa: DTZ007
        return datetime(day.year, day.month, day.day, hour, int(match["minute"]))  # noqa: DTZ001
    except ValueError:
        raise ParseError(f"listing entry {shown(label)}: impossible date",
                         document=document) from None


def _bill_file(name: str, *, ga: str) -> re.Match[str] | None:
    """The parts of a regular-session bill file name of General Assembly ``ga``, else None."""
    match = _BILL_FILE.match(name)
    if match is None or match["ga"] != ga or match["special"] != "00":
        return None
    return match


# ---------------------------------------------------------------------------------------------
# The bill status document
# ---------------------------------------------------------------------------------------------


def parse_billstatus(body: bytes, *, document: str) -> BillRecord:
    """One bill status XML -> a record; the bill and its GA come from the file name."""
    name = _file_name(document)
    identity = _BILL_FILE.match(name)
    if identity is None or identity["special"] != "00":
        raise ParseError(
            f"file name {shown(name)} is not a regular-session bill such as 10400HB3466.xml",
            document=document,
        )
    ga, letters, number = identity["ga"], identity["type"].upper(), int(identity["number"])
    if number == 0:
        raise ParseError(f"file name {shown(name)} has bill number 0", document=document)
    root = xml_root(body, document=document, fallback_encoding="cp1252")
    if root.tag != "billstatus":
        raise ParseError(f"expected a <billstatus> root, got <{root.tag}>", document=document)
    title = child_text(root, "shortdescription")
    if not title:
        raise ParseError("<billstatus> has no <shortdescription> (the title)", document=document)
    actions = root.find("actions")
    if actions is None:
        raise ParseError("<billstatus> has no <actions>", document=document)
    synopses = parse_synopses(root, document=document)
    replaced = [s for s in synopses if not _INTRODUCED.match(s["title"])
                and _REPLACES_ALL.search(s["text"])]
    extras: dict[str, Any] = {"synopses": synopses, "shell_bill": bool(replaced)}
    next_action = _next_action(root, document=document)
    if next_action:
        extras["next_action"] = next_action
    return BillRecord(
        source=NAME,
        jurisdiction="il",
        session=ga,
        identifier=f"{letters} {number}",
        title=title,
        bill_type=BILL_TYPES[letters],
        actions=parse_actions(actions, document=document),
        sponsors=parse_sponsors(root),
        summary=replaced[-1]["text"] if replaced else (synopses[0]["text"] if synopses else ""),
        url=DEFAULT_ORIGIN + LISTING_PATH.format(ga=ga) + name,
        document=document,
        extras=extras,
    )


def _file_name(document: str) -> str:
    """The file name of a document given as a URL or as a local path."""
    path = unquote(urlsplit(document).path) if "://" in document else document
    return posixpath.basename(path.replace("\\", "/"))


def _il_date(text: str, *, what: str, document: str) -> date:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 (a calendar date)
    except ValueError:
        raise ParseError(f"{what}: {shown(text)} is not a M/D/YYYY date",
                         document=document) from None


def parse_actions(actions: Element, *, document: str) -> tuple[ActionRecord, ...]:
    """The flat ``statusdate``/``chamber``/``action`` sequence as actions, in order."""
    records = []
    when: date | None = None
    chamber: Chamber | None = None
    for position, element in enumerate(actions, start=1):
        tag = str(element.tag)
        text = collapse(element.text)
        where = f"<actions> child {position} <{tag}>"
        if tag not in _ACTION_TAGS:
            raise ParseError(f"{where}: expected statusdate, chamber or action",
                             document=document)
        if tag == "statusdate":
            when = _il_date(text, what=where, document=document)
        elif tag == "chamber":
            chamber = _CHAMBERS.get(text.lower())
            if chamber is None:
                raise ParseError(f"{where}: {shown(text)} is not House or Senate",
                                 document=document)
        elif text:
            if when is None or chamber is None:
                raise ParseError(f"{where}: an action before any statusdate and chamber",
                                 document=document)
            records.append(
                ActionRecord(
                    date=when,
                    actor=actor_of(text, chamber=chamber),
                    description=text,
                    classification=RULES.classify(text),
                    extras={"chamber": chamber.value},
                )
            )
    return tuple(records)


def parse_sponsors(root: Element) -> tuple[SponsorRecord, ...]:
    """``Rep. A - B and C (Sen. X - Y)``: the first name of each chamber's list is its chief
    sponsor (primary); the others are co-sponsors."""
    records = []
    for element in root.iterfind("sponsor/sponsors"):
        text = collapse(element.text)
        titles = list(_SPONSOR_TITLE.finditer(text))
        segments: list[tuple[str | None, str]] = [(None, text)]
        if titles:
            segments = [
                (match.group(1), text[match.end() : nxt.start() if nxt else len(text)])
                for match, nxt in zip(titles, [*titles[1:], None], strict=True)
            ]
        for title, segment in segments:
            chamber = {"Rep": Chamber.LOWER, "Sen": Chamber.UPPER}.get(title or "")
            names = [n for n in (collapse(p).strip("(), ") for p in _NAME_SEPARATOR.split(segment))
                     if n]
            for index, name in enumerate(names):
                extras = {"chamber": chamber.value} if chamber else {}
                records.append(SponsorRecord(name=name, primary=index == 0, extras=extras))
    return tuple(records)


def parse_synopses(root: Element, *, document: str) -> list[dict[str, str]]:
    """The ``synopsistitle``/``SynopsisText`` pairs of ``<synopsis>``, in order."""
    synopses: list[dict[str, str]] = []
    title: str | None = None
    for element in root.iterfind("synopsis/*"):
        tag = str(element.tag)
        if tag == "synopsistitle":
            title = collapse(element.text)
        elif tag == "SynopsisText":
            synopses.append({"title": title or "", "text": collapse(element.text)})
            title = None
        else:
            raise ParseError(f"<synopsis> holds an unexpected <{tag}>", document=document)
    return synopses


def _next_action(root: Element, *, document: str) -> dict[str, str] | None:
    element = root.find("nextaction")
    if element is None:
        return None
    when, action = child_text(element, "statusdate"), child_text(element, "action")
    if not when and not action:
        return None
    day = _il_date(when, what="<nextaction> <statusdate>", document=document) if when else None
    return {"date": day.isoformat() if day else "", "action": action}
