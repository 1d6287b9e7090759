"""``tx-tlo``: Texas bills from Texas Legislature Online's bill-history XML, over anonymous FTP.

Upstream (``sources.md`` section 7; the Open States Texas scraper ``scrapers/tx/bills.py``):

* ``ftp://ftp.legis.state.tx.us/bills/{session}/billhistory/`` holds one folder per bill
  type (``house_bills``, ``senate_joint_resolutions`` ...), one sub-folder per hundred
  (``HB00001_HB00099``) and one XML file per bill number, named like ``HB 1.xml`` (the space
  is real). Sessions are ``89R`` (regular) and ``891``, ``892`` (called sessions).
* The server answers ``LIST`` in the IIS/Windows style (``mm-dd-yy hh:mmAM <DIR>|size
  name``); ``tracker.ftp`` reads that, the Unix style and ``MLSD``.
* Each file is ``<billhistory bill="89(R) HB 1" lastUpdate="3/20/2025">`` with
  ``<caption>`` (the title), ``<authors>``, ``<coauthors>``, ``<sponsors>``, ``<cosponsors>``
  (names joined by ``" | "``), ``<subjects><subject>``, ``<companions>``,
  ``<committees><house|senate name= status=/>``, ``<billtext><docTypes><bill|analysis|
  fiscalNote><versions><version>`` (``versionDescription``, ``WebHTMLURL``, ``WebPDFURL``)
  and ``<actions><action>`` (``actionNumber``, ``date`` MM/DD/YYYY, ``description``).

Quirks handled here:

* the first letter of ``actionNumber`` is the actor: ``H`` House, ``S`` Senate, ``E`` the
  Governor;
* "Scheduled for public hearing on . . ." actions have no date and are skipped;
* a caption of "Bill does not exist" marks an empty number slot: no bill is read from it;
* file names drop the ``R`` of concurrent and joint resolutions (``HC``, ``HJ``); whichever
  form appears, identifiers are ``HCR``/``HJR``. Texas amends its constitution by joint
  resolution, so ``HJR``/``SJR`` are constitutional amendments (adopted once both chambers
  passed them).

No real sample of this XML could be recorded (``tests/fixtures/tx-tlo/README.md``), so the
parser is strict: a document whose root is not ``<billhistory>``, or that lacks ``<caption>``
or ``<actions>``, or whose ``bill`` attribute, dates or action numbers cannot be read, is a
:class:`~tracker.errors.ParseError` naming the file and the element, so an upstream change of
format shows on the first poll after it.

Change detection: each poll walks the session's folders (one listing per folder) and fetches
only files whose listing marker (modified time and size) differs from the stored one; a
retrieved file whose bytes hash as before is marked unchanged and not parsed. ``since`` is
not used: the stored markers are an exact per-file cursor. Folder times are not trusted to
skip a folder (a file rewritten in place need not touch its folder's time), so every poll
lists every folder: for a regular session of about 12,000 files that is about 130 listings,
two minutes at the default one-second minimum interval, while the first poll retrieves every
file (hours at that interval; it runs once).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

from scrapers._xml import Element, child_text, collapse, shown, xml_root
from scrapers.tx_tlo_rules import RULES
from tracker.errors import FetchError, ParseError, SourceError
from tracker.ftp import FtpClient
from tracker.models import BillType, Chamber
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

NAME = "tx-tlo"
DEFAULT_ORIGIN = "ftp://ftp.legis.state.tx.us"
HISTORY_FOLDER = "/bills/{session}/billhistory/"
HISTORY_PAGE = "https://capitol.texas.gov/BillLookup/History.aspx?LegSess={session}&Bill={bill}"

#: Session codes: the Legislature's number (10-199), then R (regular) or the called session's.
SESSION_CODE = re.compile(r"^(?:[1-9]\d|1\d\d)[R1-9]$")
_BILL_ATTRIBUTE = re.compile(r"^\s*(\d{2,3})\((R|\d)\)\s+([A-Z]+)\s*(\d+)\s*$")
_ACTORS: Mapping[str, Chamber] = {"H": Chamber.LOWER, "S": Chamber.UPPER, "E": Chamber.EXECUTIVE}
_SCHEDULED = re.compile(r"^scheduled for public hearing on\b", re.IGNORECASE)
_NO_BILL = re.compile(r"\bbill does not exist\b", re.IGNORECASE)

#: Type letters as they appear (file names drop the R of HCR/HJR) -> identifier letters, type.
BILL_TYPES: Mapping[str, tuple[str, BillType]] = {
    "HB": ("HB", BillType.BILL),
    "SB": ("SB", BillType.BILL),
    "HR": ("HR", BillType.RESOLUTION),
    "SR": ("SR", BillType.RESOLUTION),
    "HCR": ("HCR", BillType.CONCURRENT_RESOLUTION),
    "HC": ("HCR", BillType.CONCURRENT_RESOLUTION),
    "SCR": ("SCR", BillType.CONCURRENT_RESOLUTION),
    "SC": ("SCR", BillType.CONCURRENT_RESOLUTION),
    "HJR": ("HJR", BillType.CONSTITUTIONAL_AMENDMENT),
    "HJ": ("HJR", BillType.CONSTITUTIONAL_AMENDMENT),
    "SJR": ("SJR", BillType.CONSTITUTIONAL_AMENDMENT),
    "SJ": ("SJR", BillType.CONSTITUTIONAL_AMENDMENT),
}
#: The name lists, in sponsor order: (element, primary?, role kept in extras).
_SPONSOR_LISTS = (
    ("authors", True, "author"),
    ("coauthors", False, "coauthor"),
    ("sponsors", True, "sponsor"),
    ("cosponsors", False, "cosponsor"),
)
_COMMITTEE_CHAMBERS: Mapping[str, Chamber] = {"house": Chamber.LOWER, "senate": Chamber.UPPER}


class TxTlo:
    """The ``tx-tlo`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="Texas Legislature Online bill histories (FTP)",
        jurisdictions=("tx",),
        homepage="https://capitol.texas.gov",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
    )
    #: ``tracker inspect tx-tlo FOLDER`` reads only these files of a folder.
    document_suffixes: ClassVar[frozenset[str]] = frozenset({".xml"})

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self.origin = (context.settings.base_url or DEFAULT_ORIGIN).rstrip("/")
        self._ftp: FtpClient | None = None  # opened on first use: parsing needs no network

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """Walk each session's bill-history folders; a ref per XML file whose marker moved.

        The connection is closed (``QUIT``) when the walk ends; by then every ref it yielded
        has been fetched, since the pipeline fetches each ref before asking for the next.
        """
        try:
            for session in self.context.settings.sessions:
                yield from self._session(session)
        finally:
            self._close()

    def _session(self, session: str) -> Iterator[BillRef]:
        if not SESSION_CODE.match(session):
            raise SourceError(
                f"session {session!r} is not a TLO session code such as 89R or 891", source=NAME
            )
        folder = HISTORY_FOLDER.format(session=session)
        client = self._client()
        stored = self.context.state.lastmods(prefix=client.url(folder))
        files = 0
        for file in client.walk(folder):
            if not file.path.lower().endswith(".xml"):
                continue
            files += 1
            url = client.url(file.path)
            if stored.get(url) != file.marker:
                yield BillRef(source=NAME, url=url, session=session, lastmod=file.marker)
        if files == 0:
            raise SourceError(
                f"{client.url(folder)} lists no bill-history files for session {session}",
                source=NAME,
            )

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """The file behind ``ref``; unchanged (not parsed again) when its bytes hash as before."""
        client = self._client()
        if not ref.url.startswith(client.origin + "/"):
            raise FetchError(f"{ref.url}: not on {client.origin}", url=ref.url)
        path = unquote(ref.url[len(client.origin) :])
        body = client.retrieve(path, listed_size=_listed_size(ref.lastmod))
        sha256 = hashlib.sha256(body).hexdigest()
        previous = self.context.state.get(ref.url)
        return Fetched(
            ref=ref,
            documents={ref.url: body},
            unchanged=previous is not None and previous.sha256 == sha256,
            updates=(StateUpdate(ref.url, Validators(sha256=sha256, lastmod=ref.lastmod)),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """One record per bill-history document, none for an empty slot; pure."""
        records = []
        for name, body in fetched.documents.items():
            record = parse_billhistory(body, document=name)
            if record is not None:
                _check_session(record, expected=fetched.ref.session, document=name)
                records.append(record)
        return records

    # -- the connection ---------------------------------------------------------------------

    def _client(self) -> FtpClient:
        if self._ftp is None:
            self._ftp = FtpClient.for_url(self.origin, http=self.context.http)
        return self._ftp

    def _close(self) -> None:
        if self._ftp is not None:
            self._ftp.close()


def _listed_size(marker: str | None) -> int | None:
    size = (marker or "").rpartition("|")[2]
    return int(size) if size.isdigit() else None


def _check_session(record: BillRecord, *, expected: str, document: str) -> None:
    # A file under /bills/89R/ must hold an 89R bill, or its key would land in another session.
    if expected and record.session != expected:
        raise ParseError(
            f"<billhistory bill=...> is a {record.session} bill, found under session {expected}",
            document=document,
        )


# ---------------------------------------------------------------------------------------------
# The bill-history document
# ---------------------------------------------------------------------------------------------


def parse_billhistory(body: bytes, *, document: str) -> BillRecord | None:
    """One ``<billhistory>`` document -> a record, or None for a "Bill does not exist" slot."""
    root = xml_root(body, document=document)
    if root.tag != "billhistory":
        raise ParseError(f"expected a <billhistory> root, got <{root.tag}>", document=document)
    caption = root.find("caption")
    if caption is None:
        raise ParseError("<billhistory> has no <caption>", document=document)
    title = collapse(caption.text)
    if _NO_BILL.search(title):
        return None
    if not title:
        raise ParseError("<caption> is empty", document=document)
    session, letters, number = _bill_attribute(root, document=document)
    identifier_letters, bill_type = BILL_TYPES[letters]
    actions = root.find("actions")
    if actions is None:
        raise ParseError("<billhistory> has no <actions>", document=document)
    extras: dict[str, Any] = {
        "companions": _names(child_text(root, "companions")),
        "committees": _committees(root),
        "documents": _documents(root),
        "last_update": _last_update(root, document=document),
    }
    if caption.get("version"):
        extras["caption_version"] = collapse(caption.get("version"))
    return BillRecord(
        source=NAME,
        jurisdiction="tx",
        session=session,
        identifier=f"{identifier_letters} {number}",
        title=title,
        bill_type=bill_type,
        actions=parse_actions(actions, document=document),
        sponsors=_sponsors(root),
        subjects=tuple(filter(None, (collapse(e.text) for e in root.iterfind("subjects/subject")))),
        versions=_versions(root),
        url=HISTORY_PAGE.format(session=session, bill=f"{identifier_letters}{number}"),
        document=document,
        extras=extras,
    )


def _bill_attribute(root: Element, *, document: str) -> tuple[str, str, int]:
    """``bill="89(R) HB 1"`` -> ``("89R", "HB", 1)``; ``"89(1) HJ 3"`` -> ``("891", "HJ", 3)``."""
    raw = root.get("bill") or ""
    match = _BILL_ATTRIBUTE.match(raw.upper())
    if match is None or match.group(3) not in BILL_TYPES:
        raise ParseError(
            f"<billhistory bill={shown(raw)}> is not a bill such as '89(R) HB 1'",
            document=document,
        )
    legislature, called, letters, number = match.groups()
    if int(number) == 0:
        raise ParseError(f"<billhistory bill={shown(raw)}> has bill number 0", document=document)
    return f"{legislature}{called}", letters, int(number)


def _us_date(text: str, *, what: str, document: str) -> date:
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 (a calendar date)
    except ValueError:
        raise ParseError(f"{what}: {shown(text)} is not a MM/DD/YYYY date",
                         document=document) from None


def _last_update(root: Element, *, document: str) -> str | None:
    raw = collapse(root.get("lastUpdate"))
    return _us_date(raw, what="<billhistory lastUpdate>", document=document).isoformat() \
        if raw else None


def parse_actions(actions: Element, *, document: str) -> tuple[ActionRecord, ...]:
    """The ``<action>`` elements in document order, classified; undated hearings skipped."""
    records = []
    for position, action in enumerate(actions.iterfind("action"), start=1):
        number = child_text(action, "actionNumber")
        description = child_text(action, "description")
        when = child_text(action, "date")
        where = f"<action> {number or f'#{position}'}"
        if not when and _SCHEDULED.match(description):
            continue  # "Scheduled for public hearing on . . .": a placeholder with no date
        actor = _ACTORS.get(number[:1].upper())
        if actor is None:
            raise ParseError(
                f"{where}: <actionNumber> {shown(number)} does not start with H, S or E",
                document=document,
            )
        if not description:
            raise ParseError(f"{where}: empty <description>", document=document)
        if not when:
            raise ParseError(f"{where}: no <date>", document=document)
        records.append(
            ActionRecord(
                date=_us_date(when, what=f"{where} <date>", document=document),
                actor=actor,
                description=description,
                classification=RULES.classify(description),
                extras={"action_number": number},
            )
        )
    return tuple(records)


def _names(text: str) -> list[str]:
    return [name for name in (collapse(part) for part in text.split(" | ")) if name]


def _sponsors(root: Element) -> tuple[SponsorRecord, ...]:
    return tuple(
        SponsorRecord(name=name, primary=primary, extras={"role": role})
        for element, primary, role in _SPONSOR_LISTS
        for name in _names(child_text(root, element))
    )


def _committees(root: Element) -> list[dict[str, str]]:
    committees = []
    for element in root.iterfind("committees/*"):
        chamber = _COMMITTEE_CHAMBERS.get(str(element.tag).lower())
        name = collapse(element.get("name"))
        if chamber is not None and name:
            committees.append(
                {"chamber": chamber.value, "name": name, "status": collapse(element.get("status"))}
            )
    return committees


def _version_entries(root: Element, kind: str) -> Iterator[tuple[str, str | None, str | None]]:
    """``(description, HTML URL, PDF URL)`` of each version of one ``docTypes`` kind."""
    for version in root.iterfind(f"billtext/docTypes/{kind}/versions/version"):
        description = child_text(version, "versionDescription")
        if description:
            html = child_text(version, "WebHTMLURL") or None
            pdf = child_text(version, "WebPDFURL") or None
            yield description, html, pdf


def _versions(root: Element) -> tuple[VersionRecord, ...]:
    return tuple(
        VersionRecord(name=description, url=html or pdf)
        for description, html, pdf in _version_entries(root, "bill")
    )


def _documents(root: Element) -> list[dict[str, str]]:
    """Bill analyses and fiscal notes (separate documents the history links to)."""
    documents = []
    for kind, label in (("analysis", "Analysis"), ("fiscalNote", "Fiscal note")):
        for description, html, pdf in _version_entries(root, kind):
            url = html or pdf
            if url:
                documents.append({"kind": label, "version": description, "url": url})
    return documents
