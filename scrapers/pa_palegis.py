"""``pa-palegis``: Pennsylvania bills from the General Assembly's site, www.palegis.us (HTML).

Upstream (``sources.md`` section 11; the Open States Pennsylvania scraper
``scrapers/pa/bills.py`` and ``utils.py``). There is no API and no server-side change
signal; both pages are parsed with beautifulsoup4 and the ``lxml`` parser, from bytes:

* the bill index of one session and chamber,
  ``/legislation/bills/bill-index?&display=index&sessyr=2025&sessind=0&billbody=H`` (and
  ``billbody=S``): one ``a.bill`` link per bill and resolution (``HB 123`` ->
  ``/legislation/bills/2025/hb123``). The page repeats some bills (a resolution that is also
  a concurrent resolution); links are deduplicated on their URL.
* one page per bill, ``/legislation/bills/{sessyr}/{hb123}``, or
  ``/legislation/bills/{sessyr}/{sessind}/{hb123}`` in a special session: the title in
  ``div#shortTitle-wrapper`` (the teaser text, plus ``#shortTitle-more`` when the page folds
  it), sponsors under the "Prime Sponsor" and "Co-Sponsors" headings (and ``#coSponsAdd``),
  printer's numbers as rows of ``div#section-pn`` with PDF/HTML/Word links, and the history
  as rows of ``div#billActions div#collapseActions table``: each action text ends with
  ", Month D, YYYY" (``Jan.``/``Sept.`` abbreviations too, sometimes followed by a vote
  count like "(102-101)"), and "In the House" / "In the Senate" rows switch the chamber of
  the rows after them.

Sessions are configured as ``"2025"`` (the regular session, ``sessind=0``) or
``"2025-1"`` (special session 1 of 2025-26, ``sessind=1``); that string is the bill key's
session.

Change detection: the index pages are the cheap signal. An index whose body is unchanged
since it was last stored yields nothing. Otherwise each bill's row on the index (the largest
element around its link holding no other bill's link: the number, short title and last
action) is hashed, and the hash is the bill's ``lastmod``; a bill page is fetched only when
that hash moved. The index's own validators are kept through a checkpoint, so a bill that
failed is tried again on the next poll. ``since`` is not used.

The site is slow and flaky: against the real origin (no ``base_url``) requests to
www.palegis.us are spaced 3 seconds apart, ``tracker.http`` retries 5xx answers, a bill page
that still fails is that bill's failure, and an index that cannot be read (or lists no bill
for an active session) fails the run with one line saying which.

``tracker inspect pa-palegis FILE`` reads a saved bill page: the session and identifier come
from the page's ``<link rel="canonical">``; without one, from the file name, written
``{sessyr}[-{sessind}]-{hb123}.html`` (``2025-hb1234.html``, ``2025-1-sb5.html``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from scrapers._html import (
    attribute,
    collapse,
    heading,
    next_element_sibling,
    own_text,
    require,
    soup_of,
    text_of,
)
from scrapers.pa_palegis_rules import EXECUTIVE_CLASSES, RULES
from tracker.errors import FetchError, ParseError, SourceError
from tracker.models import BillType, Chamber
from tracker.records import (
    ActionRecord,
    BillRecord,
    BillRef,
    Checkpoint,
    Fetched,
    SponsorRecord,
    StateUpdate,
    VersionRecord,
)
from tracker.source import SourceContext, SourceInfo

NAME = "pa-palegis"
DEFAULT_ORIGIN = "https://www.palegis.us"
HOST = "www.palegis.us"
#: Seconds between request starts against the real site.
POLITE_INTERVAL = 3.0
CHAMBER_NAMES = {"H": "House", "S": "Senate"}

_SESSION = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")
_BILL_PATH = re.compile(
    r"/legislation/bills/(?P<year>\d{4})(?:/(?P<ind>\d{1,2}))?/(?P<kind>[hs][br])(?P<num>\d+)/?$",
    re.IGNORECASE,
)
_FILE_NAME = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<ind>\d{1,2}))?-(?P<kind>[hs][br])(?P<num>\d+)\.html?$",
    re.IGNORECASE,
)
_PAGE_TITLE = re.compile(r"^(House|Senate) (Bill|Resolution) (\d+)\b")
_ACTION = re.compile(
    r"^(?P<text>.*?),?\s+(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})"
    r"(?:\s*\((?P<vote>\d+-\d+)\))?\s*$"
)
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_WORDY_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),\s*(\d{4})\b")
_PRINTERS_NO = re.compile(r"Printer'?s\s+No\.?\s*(\d+)", re.IGNORECASE)
_TRAILING_DIGITS = re.compile(r"(\d+)\D*$")
_SPONSOR_TITLE = re.compile(r"^(Representative|Senator|Rep\.|Sen\.)\s+", re.IGNORECASE)
_DISTRICT = re.compile(r"\bDistrict\s+(\d+)\b", re.IGNORECASE)
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_ERROR_PAGE = "There is a problem generating the page you requested"
_CHAMBER_ROWS = {"In the House": Chamber.LOWER, "In the Senate": Chamber.UPPER}
_FORMATS = (("fa-file-pdf", "pdf"), ("fa-edge", "html"), ("fa-file-word", "docx"))


# ---------------------------------------------------------------------------------------------
# Identity: sessions and bill URLs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    """A configured session: ``"2025"`` -> sessyr 2025, sessind 0; ``"2025-1"`` -> sessind 1."""

    name: str
    year: int
    special: int

    @classmethod
    def parse(cls, name: str) -> Session:
        match = _SESSION.match(name)
        if match is None or int(match.group(1)) % 2 == 0:
            raise SourceError(
                f"session {name!r} is not a session (\"2025\" for the regular session of "
                "2025-26, \"2025-1\" for its first special session)", source=NAME
            )
        return cls(name=name, year=int(match.group(1)), special=int(match.group(2) or 0))


@dataclass(frozen=True, slots=True)
class BillIdentity:
    """Which bill a page is: its session and its identifier (``HB 1234``)."""

    year: int
    special: int
    kind: str  # "hb", "sb", "hr", "sr"
    number: int

    @property
    def session(self) -> str:
        return str(self.year) if self.special == 0 else f"{self.year}-{self.special}"

    @property
    def identifier(self) -> str:
        return f"{self.kind.upper()} {self.number}"

    @property
    def chamber(self) -> Chamber:
        return Chamber.LOWER if self.kind[0] == "h" else Chamber.UPPER

    @property
    def bill_type(self) -> BillType:
        return BillType.BILL if self.kind[1] == "b" else BillType.RESOLUTION

    @property
    def path(self) -> str:
        special = f"/{self.special}" if self.special else ""
        return f"/legislation/bills/{self.year}{special}/{self.kind}{self.number}"

    @property
    def public_url(self) -> str:
        return DEFAULT_ORIGIN + self.path

    @classmethod
    def from_match(cls, match: re.Match[str]) -> BillIdentity:
        return cls(year=int(match["year"]), special=int(match["ind"] or 0),
                   kind=match["kind"].lower(), number=int(match["num"]))


def identity_from_url(url: str) -> BillIdentity | None:
    """The bill a page URL (or a local path) names: ``.../legislation/bills/2025/hb1234``."""
    match = _BILL_PATH.search(urlsplit(url).path)
    return BillIdentity.from_match(match) if match else None


def identity_from_file_name(path: str) -> BillIdentity | None:
    """The bill a saved page's file name names: ``2025-hb1234.html``, ``2025-1-sb5.html``."""
    match = _FILE_NAME.match(PurePosixPath(path.replace("\\", "/")).name)
    return BillIdentity.from_match(match) if match else None


# ---------------------------------------------------------------------------------------------
# The bill index
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One bill listed on an index page: its page URL and the hash of its row(s)."""

    url: str
    identity: BillIdentity
    lastmod: str


def parse_index(body: bytes, *, document: str, page_url: str) -> list[IndexEntry]:
    """Every distinct bill linked from an index page, in page order.

    ``page_url`` resolves relative links. A page cut short (no ``</html>``) or a bill link
    that does not name a bill is a ParseError naming the document.
    """
    if b"</html>" not in body[-4096:].lower():
        raise ParseError("truncated: the page does not end with </html>", document=document)
    soup = soup_of(body, document=document)
    links: list[tuple[str, Tag]] = []
    bills: dict[str, BillIdentity] = {}
    # find_all, not select("a.bill"): the same match, several times faster on a big index.
    for link in soup.find_all("a", class_="bill"):
        href = attribute(link, "href").strip()
        url = urljoin(page_url, href)
        identity = identity_from_url(url) if href else None
        if identity is None:
            raise ParseError(f"a.bill link {href!r} ({text_of(link)!r}) is not a bill page",
                             document=document)
        links.append((url, link))
        bills.setdefault(url, identity)
    row_texts: dict[str, set[str]] = {url: set() for url in bills}
    for (url, _), row in zip(links, _rows(links), strict=True):
        row_texts[url].add(text_of(row))
    return [
        IndexEntry(url=url, identity=identity, lastmod=_row_hash(row_texts[url]))
        for url, identity in bills.items()
    ]


def _row_hash(texts: set[str]) -> str:
    """A bill's change marker: the hash of its row text(s) (all rows of a repeated bill)."""
    return "row:" + hashlib.sha256("\n".join(sorted(texts)).encode()).hexdigest()[:20]


def _rows(links: Sequence[tuple[str, Tag]]) -> list[Tag]:
    """For each link, the largest element around it that holds no other bill's link.

    One pass over the links' ancestors: an element's set of bill URLs is known once every
    link was seen, so this stays linear in links x depth (a 4,000-bill index is one page).
    """
    held: dict[int, set[str]] = {}
    for url, link in links:
        for ancestor in link.parents:
            held.setdefault(id(ancestor), set()).add(url)
    rows = []
    for _, link in links:
        row: Tag = link
        for ancestor in link.parents:
            if len(held[id(ancestor)]) > 1:
                break
            row = ancestor
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# A bill page
# ---------------------------------------------------------------------------------------------


def parse_bill_page(body: bytes, *, document: str, url: str) -> BillRecord:
    """One bill page -> a record. ``url`` is where it came from (a page URL or a file path).

    The bill is named by the page's canonical link, else by ``url`` (its path, then its file
    name); when both name a bill they must agree, and so must the page's ``<title>``.
    """
    soup = soup_of(body, document=document)
    if _ERROR_PAGE in soup.get_text():
        raise ParseError("the site answered with its error page instead of the bill",
                         document=document)
    identity = _identity(soup, document=document, url=url)
    title = _title(soup, document=document)
    actions = parse_actions(soup, origin=identity.chamber, document=document)
    last_action = _last_action(soup)
    extras: dict[str, Any] = {"session_year": identity.year, "special_session": identity.special}
    if last_action:
        extras["last_action"] = last_action
    return BillRecord(
        source=NAME,
        jurisdiction="pa",
        session=identity.session,
        identifier=identity.identifier,
        title=title,
        bill_type=identity.bill_type,
        actions=actions,
        sponsors=parse_sponsors(soup),
        versions=parse_versions(soup, document=document),
        url=identity.public_url,
        document=document,
        extras=extras,
    )


def _identity(soup: BeautifulSoup, *, document: str, url: str) -> BillIdentity:
    canonical_link = soup.select_one('link[rel="canonical"]')
    canonical = identity_from_url(attribute(canonical_link, "href")) if canonical_link else None
    located = identity_from_url(url) or identity_from_file_name(url)
    if canonical and located and canonical != located:
        raise ParseError(f"the page is {canonical.session}/{canonical.identifier} but was "
                         f"asked for as {located.session}/{located.identifier}",
                         document=document)
    identity = canonical or located
    if identity is None:
        raise ParseError("cannot tell which bill this is: no <link rel=\"canonical\"> and a "
                         "file name not like 2025-hb1234.html", document=document)
    title = collapse(soup.title.get_text()) if soup.title else ""
    named = _PAGE_TITLE.match(title)
    if named:
        kind = (named.group(1)[0] + named.group(2)[0]).lower()
        if (kind, int(named.group(3))) != (identity.kind, identity.number):
            raise ParseError(f"the page title {title!r} does not name {identity.identifier}",
                             document=document)
    return identity


def _title(soup: BeautifulSoup, *, document: str) -> str:
    """The teaser text of ``#shortTitle-wrapper`` plus the folded ``#shortTitle-more``.

    Only text is read: child elements other than ``#shortTitle-more`` (the "..." and the
    "Read more" toggle) are left out, and markup-looking text stays text.
    """
    wrapper = require(soup, "div#shortTitle-wrapper", document=document)
    more = wrapper.select_one("#shortTitle-more")
    title = collapse(f"{own_text(wrapper)} {text_of(more) if more else ''}")
    if not title:
        raise ParseError("div#shortTitle-wrapper is empty", document=document)
    return title


def _last_action(soup: BeautifulSoup) -> str:
    """The page's "Last Action: ..." line (the label may sit in an element of its own)."""
    label = soup.find(string=re.compile(r"^\s*Last Action:"))
    element = label.parent if label is not None else None
    while isinstance(element, Tag) and text_of(element) == "Last Action:":
        element = element.parent
    if not isinstance(element, Tag):
        return ""
    return collapse(text_of(element).removeprefix("Last Action:"))


def parse_sponsors(soup: BeautifulSoup) -> tuple[SponsorRecord, ...]:
    """The prime sponsor(s), then the co-sponsors (shown and folded), each once."""
    cards: list[tuple[Tag, bool]] = []
    for label, primary in (("Prime Sponsor", True), ("Co-Sponsors", False)):
        title = heading(soup, label)
        block = next_element_sibling(title) if title is not None else None
        if block is not None:
            cards.extend((strong, primary) for strong in block.find_all("strong"))
    folded = soup.select_one("#coSponsAdd")
    if folded is not None:
        cards.extend((strong, False) for strong in folded.find_all("strong"))
    records: dict[str, SponsorRecord] = {}
    for strong, primary in cards:
        record = _sponsor(strong, primary=primary)
        if record is not None and record.name not in records:
            records[record.name] = record
    return tuple(records.values())


def _sponsor(strong: Tag, *, primary: bool) -> SponsorRecord | None:
    shown = text_of(strong)
    title = _SPONSOR_TITLE.match(shown)
    name = shown[title.end():] if title else shown
    if not name:
        return None
    extras: dict[str, Any] = {}
    if title:
        extras["chamber"] = "upper" if title.group(1).lower().startswith("sen") else "lower"
    card = strong.parent
    if isinstance(card, Tag):
        party = card.find("span")
        if isinstance(party, Tag) and text_of(party):
            extras["party"] = text_of(party)
        district = _DISTRICT.search(text_of(card))
        if district:
            extras["district"] = district.group(1)
    return SponsorRecord(name=name, primary=primary, extras=extras)


def parse_versions(soup: BeautifulSoup, *, document: str) -> tuple[VersionRecord, ...]:
    """One version per printer's number row of ``div#section-pn`` (PDF link preferred).

    Links inside the row's accordion (amendments, fiscal notes) are not versions.
    """
    section = soup.select_one("div#section-pn")
    if section is None:
        return ()
    versions = []
    for row in section.find_all("div", recursive=False):
        links = [a for a in row.select('div.btn-group[aria-label="Supporting Documents"] a')
                 if not _inside_accordion(a, row)]
        if not links:
            continue
        formats = {_format(a): urljoin(DEFAULT_ORIGIN, attribute(a, "href")) for a in links}
        shown = text_of(row)
        # The text names the number; the document links end with it (".../PN1456").
        last_segment = urlsplit(attribute(links[0], "href")).path.rstrip("/").rsplit("/", 1)[-1]
        number = _PRINTERS_NO.search(shown) or _TRAILING_DIGITS.search(last_segment)
        if number is None:
            raise ParseError(f"div#section-pn row without a printer's number: {shown[:80]!r}",
                             document=document)
        url = formats.get("pdf") or formats.get("html") or formats.get("docx") or \
            next(iter(formats.values()))
        versions.append(VersionRecord(name=f"Printer's No. {int(number.group(1))}",
                                      date=_first_date(shown), url=url))
    return tuple(versions)


def _inside_accordion(link: Tag, row: Tag) -> bool:
    for parent in link.parents:
        if parent is row:
            return False
        if "accordion" in attribute(parent, "class").split():
            return True
    return False


def _format(link: Tag) -> str:
    icons = " ".join(attribute(icon, "class") for icon in link.find_all(True))
    for css, kind in _FORMATS:
        if css in icons.split():
            return kind
    href = attribute(link, "href").lower()
    for marker, kind in (("pdf", "pdf"), ("htm", "html"), ("doc", "docx")):
        if marker in href:
            return kind
    return "other"


def _first_date(text: str) -> date | None:
    numeric = _NUMERIC_DATE.search(text)
    if numeric:
        month, day, year = (int(part) for part in numeric.groups())
        return _safe_date(year, month, day)
    wordy = _WORDY_DATE.search(text)
    named = _MONTHS.get(wordy.group(1)[:3].lower()) if wordy else None
    if wordy and named:
        return _safe_date(int(wordy.group(3)), named, int(wordy.group(2)))
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_actions(
    soup: BeautifulSoup, *, origin: Chamber, document: str
) -> tuple[ActionRecord, ...]:
    """The history table's rows, oldest first as listed; chamber rows switch the actor."""
    selector = "div#billActions div#collapseActions table tr"
    rows = soup.select(selector)
    if not rows:
        raise ParseError(f"no history rows ({selector})", document=document)
    chamber = origin
    actions = []
    for row in rows:
        cells = row.find_all("td", recursive=False)
        if not cells:
            continue  # a header row
        text = text_of(cells[-1])
        if text in _CHAMBER_ROWS:
            chamber = _CHAMBER_ROWS[text]
            continue
        if not text or text.startswith("(Remarks see"):
            continue
        actions.append(_action(text, chamber=chamber, cells=cells, document=document))
    return tuple(actions)


def _action(text: str, *, chamber: Chamber, cells: Sequence[Tag], document: str) -> ActionRecord:
    match = _ACTION.match(text)
    if match is None:
        raise ParseError(f"history row without a date: {text[:100]!r}", document=document)
    month = _MONTHS.get(match["month"][:3].lower())
    when = _safe_date(int(match["year"]), month, int(match["day"])) if month else None
    if when is None:
        raise ParseError(f"history row with a bad date: {text[:100]!r}", document=document)
    description = match["text"].strip(" ,")
    classes = RULES.classify(description)
    extras: dict[str, Any] = {}
    if match["vote"]:
        extras["vote"] = match["vote"]
    printers = _TRAILING_DIGITS.search(text_of(cells[0])) if len(cells) > 1 else None
    if printers:
        extras["printers_number"] = printers.group(1)
    return ActionRecord(
        date=when,
        actor=Chamber.EXECUTIVE if EXECUTIVE_CLASSES.intersection(classes) else chamber,
        description=description,
        classification=classes,
        extras=extras,
    )


# ---------------------------------------------------------------------------------------------
# The source
# ---------------------------------------------------------------------------------------------


class PaPalegis:
    """The ``pa-palegis`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="Pennsylvania General Assembly (palegis.us)",
        jurisdictions=("pa",),
        homepage="https://www.palegis.us/legislation/bills",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
    )
    #: ``tracker inspect pa-palegis FOLDER`` reads these files of a folder.
    document_suffixes = (".html", ".htm")

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        if not context.settings.base_url:
            # The real site is slow and fragile; a mirror or a test server sets its own pace.
            context.http.set_min_interval(HOST, POLITE_INTERVAL)

    def _rebase(self, url: str) -> str:
        return self.context.rebase(url, default_origin=DEFAULT_ORIGIN)

    def index_url(self, session: Session, body: str) -> str:
        return self._rebase(
            f"{DEFAULT_ORIGIN}/legislation/bills/bill-index?&display=index&sessyr={session.year}"
            f"&sessind={session.special}&billbody={body}"
        )

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """For each session and chamber: the bills whose index row changed, then a checkpoint."""
        sessions = [Session.parse(name) for name in self.context.settings.sessions]
        if not sessions:
            raise SourceError("no sessions configured (sessions = [\"2025\"])", source=NAME)
        for session in sessions:
            for body in CHAMBER_NAMES:
                yield from self._index(session, body)

    def _index(self, session: Session, body: str) -> Iterator[BillRef | Checkpoint]:
        url = self.index_url(session, body)
        where = f"the {CHAMBER_NAMES[body]} bill index of session {session.name}"
        try:
            result = self.context.http.get(url, previous=self.context.state.get(url))
        except FetchError as exc:
            raise SourceError(f"{where} could not be read: {exc}", source=NAME) from None
        if result.unchanged:
            return
        # Links to another session's bills (there should be none) are not this index's bills.
        entries = [entry for entry in parse_index(result.body, document=url, page_url=url)
                   if entry.identity.session == session.name]
        if not entries:
            raise SourceError(f"{where} lists no bills ({url})", source=NAME)
        stored = self.context.state.lastmods(prefix=self._rebase(
            f"{DEFAULT_ORIGIN}/legislation/bills/{session.year}/"))
        for entry in entries:
            bill_url = self._rebase(entry.url)
            if stored.get(bill_url) != entry.lastmod:
                yield BillRef(source=NAME, url=bill_url, session=session.name,
                              lastmod=entry.lastmod, group=url,
                              hint=entry.identity.identifier)
        yield Checkpoint(group=url, updates=(StateUpdate(url, result.validators),))

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """One bill page (conditional when the site gave validators last time)."""
        result = self.context.http.get(ref.url, previous=self.context.state.get(ref.url))
        return Fetched(
            ref=ref,
            documents={ref.url: result.body},
            unchanged=result.unchanged,
            updates=(StateUpdate(ref.url, replace(result.validators, lastmod=ref.lastmod)),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """One record per bill page; pure."""
        return [parse_bill_page(body, document=name, url=name)
                for name, body in fetched.documents.items()]

