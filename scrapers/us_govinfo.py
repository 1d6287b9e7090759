"""``us-govinfo``: federal bills from GovInfo's BILLSTATUS bulk data (no key needed).

Upstream:

* sitemap index ``https://www.govinfo.gov/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml``: one
  ``<sitemap>`` per Congress and bill type, ``<loc>…/BILLSTATUS/{congress}{type}/sitemap.xml``
  with a ``<lastmod>``. Entries are not sorted; a LOCKSS comment and a blank line precede the
  root; sitemaps.org namespace.
* per Congress+type sitemap (``<urlset>``): one ``<url>`` per bill file
  ``https://www.govinfo.gov/bulkdata/BILLSTATUS/{congress}/{type}/BILLSTATUS-{congress}{type}{n}.xml``
  with a ``<lastmod>``; entries are not in number order and non-XML files may be listed.
* one BILLSTATUS XML per bill. Three schema generations are parsed: v3 (``<version>3.0.0``,
  ``number``/``type``, no wrappers), v1 (``billNumber``/``billType``, ``billSummaries``,
  ``billSubjects``, ``billCommittees`` wrappers) and the 2015 legacy files (``otherSubjects``,
  ``primarySubject``, ``<committee>`` in actions, ``05:47PM`` times).

Change detection: the index is fetched conditionally; a child sitemap is fetched only when its
index ``<lastmod>`` moved, and a bill only when its ``<lastmod>`` is newer than the stored one.
``since`` is not used: the stored lastmods are an exact per-URL cursor.

Quirks of the bill files handled here:

* actions are listed newest first; GPO records one action several times (the Library of
  Congress row next to the chamber's own, "Introduced in House" as ``Intro-H`` and ``1000``, the
  House referral once per committee). Rows of one date with the same text (whitespace ignored)
  are folded into one action; so is a Library of Congress row whose text is the chamber's text
  behind a label (``Passed/agreed to in Senate: Passed Senate…``).
* action codes are used where they are unambiguous; ``E30000`` carries both "Signed by
  President" and (2015 files) "Vetoed by President", ``36000`` both "Signed by President" and
  "Became Public Law", and House vote codes carry both results, so the text decides there.
  Senate rows have no codes at all.
* there is no status field: the stage is derived downstream from the classified actions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from lxml import etree

from scrapers._actions import Rule, RuleTable, vocabulary_order
from scrapers._xml import Element, html_parser, xml_root
from tracker.errors import InvalidBillKey, ParseError, SourceError
from tracker.models import ActionClass, BillType, Chamber, normalize_identifier
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

NAME = "us-govinfo"
DEFAULT_ORIGIN = "https://www.govinfo.gov"
INDEX_PATH = "/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

A = ActionClass

# ---------------------------------------------------------------------------------------------
# Classification tables
# ---------------------------------------------------------------------------------------------

#: Action codes that mean one thing (user guide §3 and the samples). ``()`` = known, no class.
CODE_CLASSES: Mapping[str, tuple[ActionClass, ...]] = {
    "Intro-H": (A.INTRODUCTION,),
    "1000": (A.INTRODUCTION,),
    "10000": (A.INTRODUCTION,),
    "H11100": (A.REFERRAL_COMMITTEE,),
    "H11200": (A.REFERRAL_COMMITTEE,),
    "2000": (A.REFERRAL_COMMITTEE,),
    "11000": (A.REFERRAL_COMMITTEE,),
    "H12200": (A.COMMITTEE_PASSAGE,),
    "5000": (A.COMMITTEE_PASSAGE,),
    "14000": (A.COMMITTEE_PASSAGE,),
    "H12300": (),  # committee discharged
    "5500": (),
    "14500": (),
    "8000": (A.PASSAGE,),
    "17000": (A.PASSAGE,),
    "H14000": (A.RECEIPT,),
    "H15000": (),  # held at the desk
    "E20000": (A.EXECUTIVE_RECEIPT,),
    "28000": (A.EXECUTIVE_RECEIPT,),
    "31000": (A.EXECUTIVE_VETO,),
    "E40000": (A.BECAME_LAW,),
}

#: Action texts, for rows without a telling code (all Senate rows). Order matters; see
#: scrapers._actions. The stop rules first keep procedural texts from matching later rules.
TEXT_RULES = RuleTable([
    # Procedure that changes nothing, whatever words it contains.
    Rule(r"\bcloture\b", (), stop=True),
    Rule(r"^motion\b", (), stop=True),  # to table the veto message, to proceed, to reconsider
    Rule(r"^(?:on )?motion to (?:recommit|reconsider|table|instruct)", (), stop=True),
    Rule(r"^rule h\. ?res\. \d+ passed house", (), stop=True),  # the rule, not this bill
    # Veto overrides, before plain passage ("Passed Senate over veto").
    Rule(r"failed of passage.*\bover (?:the )?(?:president'?s )?veto", (A.VETO_OVERRIDE_FAILURE,),
         stop=True),
    Rule(r"objections of the president to the contrary notwithstanding failed",
         (A.VETO_OVERRIDE_FAILURE,), stop=True),
    Rule(r"\bover (?:the )?(?:president'?s )?veto\b", (A.VETO_OVERRIDE_PASSAGE,), stop=True),
    Rule(r"objections of the president to the contrary notwithstanding (?:passed|agreed)",
         (A.VETO_OVERRIDE_PASSAGE,), stop=True),
    # Amendments (bill action lists carry some of them).
    Rule(r"^on agreeing to the .*\bamendments?\b.*\bfailed\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(r"^on agreeing to the .*\bamendments?\b.*\bagreed to\b", (A.AMENDMENT_PASSAGE,),
         stop=True),
    Rule(r"^amendment s?a \d+.*\bnot agreed to\b", (A.AMENDMENT_FAILURE,), stop=True),
    Rule(r"^amendment s?a \d+.*\bagreed to\b", (A.AMENDMENT_PASSAGE,), stop=True),
    Rule(r"^amendment s?a \d+ proposed\b", (A.AMENDMENT_INTRODUCTION,), stop=True),
    # Introduction, referral, committee.
    Rule(r"^introduced in (?:the )?(?:house|senate)\b", (A.INTRODUCTION,)),
    Rule(r"^submitted in (?:the )?(?:house|senate)\b", (A.INTRODUCTION,)),
    Rule(r"^received in the (?:house|senate)\b", (A.RECEIPT,)),
    Rule(r"\breferred to (?:the )?(?:house |senate )?(?:sub)?committees?\b",
         (A.REFERRAL_COMMITTEE,)),
    Rule(r"^(?:committee on [^.]*\.\s*)?reported\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"^(?:committee on [^.]*\.\s*)?ordered to be reported\b", (A.COMMITTEE_PASSAGE,)),
    Rule(r"\bheld at the desk\b", (), stop=True),
    # Floor votes on the measure.
    Rule(r"^failed of passage\b", (A.FAILURE,)),
    Rule(r"^on passage failed\b", (A.FAILURE,)),
    Rule(r"^on motion to suspend the rules and (?:pass|agree to)\b.*\bfailed\b", (A.FAILURE,)),
    Rule(r"^on agreeing to the (?:concurrent |joint )?resolution\b.*\bfailed\b", (A.FAILURE,)),
    Rule(r"^(?:concurrent |joint )?resolution not agreed to\b", (A.FAILURE,)),
    Rule(r"^passed senate\b", (A.PASSAGE,)),
    Rule(r"^passed/agreed to in (?:house|senate)\b", (A.PASSAGE,)),
    Rule(r"^on passage passed\b", (A.PASSAGE,)),
    Rule(r"^on motion to suspend the rules and (?:pass|agree to)\b.*\bagreed to\b", (A.PASSAGE,)),
    Rule(r"\bpassed under suspension of the rules\b", (A.PASSAGE,)),
    Rule(r"^on agreeing to the (?:concurrent |joint )?resolution\b.*\bagreed to\b", (A.PASSAGE,)),
    Rule(r"^(?:concurrent |joint )?resolution agreed to in (?:the )?(?:house|senate)\b",
         (A.PASSAGE,)),
    Rule(r"\bagreed to in (?:the )?senate without amendment\b", (A.PASSAGE,)),
    Rule(r"\bconsidered,? and agreed to\b", (A.PASSAGE,)),
    # A chamber adopting the conference report passes the final text (both chambers had passed
    # the bill already, so the stage does not move).
    Rule(r"^on agreeing to the conference report\b.*\bagreed to\b", (A.PASSAGE,)),
    Rule(r"\bconference report\b.*\bagreed to in (?:the )?(?:house|senate)\b", (A.PASSAGE,)),
    # The President.
    Rule(r"^presented to (?:the )?president\b", (A.EXECUTIVE_RECEIPT,)),
    Rule(r"^signed by (?:the )?president\b", (A.EXECUTIVE_SIGNATURE,)),
    Rule(r"^(?:pocket )?vetoed by (?:the )?president\b", (A.EXECUTIVE_VETO,)),
    Rule(r"^became (?:public|private) law\b", (A.BECAME_LAW,)),
])  # fmt: skip

_BILL_TYPES: Mapping[str, tuple[str, BillType, str]] = {
    # upstream type -> (identifier letters, bill type, congress.gov path segment)
    "HR": ("HR", BillType.BILL, "house-bill"),
    "H": ("HR", BillType.BILL, "house-bill"),
    "S": ("S", BillType.BILL, "senate-bill"),
    "HRES": ("HRES", BillType.RESOLUTION, "house-resolution"),
    "SRES": ("SRES", BillType.RESOLUTION, "senate-resolution"),
    "HCONRES": ("HCONRES", BillType.CONCURRENT_RESOLUTION, "house-concurrent-resolution"),
    "SCONRES": ("SCONRES", BillType.CONCURRENT_RESOLUTION, "senate-concurrent-resolution"),
    "HJRES": ("HJRES", BillType.JOINT_RESOLUTION, "house-joint-resolution"),
    "SJRES": ("SJRES", BillType.JOINT_RESOLUTION, "senate-joint-resolution"),
}
_CHILD = re.compile(r"^(\d+)(hr|s|hres|sres|hconres|sconres|hjres|sjres)$")
_LOC_SYSTEM = "9"
_LOC_LABEL = re.compile(r"^[^:]{3,80}?:\s+")
_WHITESPACE = re.compile(r"\s+")
_BLOCK_TAGS = ("p", "li", "ul", "ol", "div", "br", "h1", "h2", "h3", "h4", "table", "tr", "td")
#: Shortest remainder (whitespace removed) that may match another row by prefix.
_MIN_PREFIX = 20


class UsGovinfo:
    """The ``us-govinfo`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="GovInfo BILLSTATUS bulk data (U.S. Congress)",
        jurisdictions=("us",),
        homepage="https://www.govinfo.gov/bulkdata/BILLSTATUS",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
    )

    #: ``tracker inspect us-govinfo FOLDER`` reads the BILLSTATUS files in it, nothing else.
    document_suffixes: ClassVar[frozenset[str]] = frozenset({".xml"})

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """Walk the sitemap index and the changed child sitemaps; see the module docstring."""
        index_url = self._rebase(DEFAULT_ORIGIN + INDEX_PATH)
        result = self.context.http.get(index_url, previous=self.context.state.get(index_url))
        if result.unchanged:
            return
        entries = parse_sitemap(result.body, document=index_url, kind="sitemapindex")
        for congress, child_url, lastmod in self._children(entries):
            stored = self.context.state.get(child_url)
            if lastmod is not None and stored is not None and stored.lastmod == lastmod:
                continue
            yield from self._child(congress=congress, url=child_url, lastmod=lastmod)
        yield Checkpoint(group=None, updates=(StateUpdate(index_url, result.validators),))

    def _rebase(self, url: str) -> str:
        return self.context.rebase(url, default_origin=DEFAULT_ORIGIN)

    def _children(
        self, entries: Sequence[tuple[str, str | None]]
    ) -> list[tuple[str, str, str | None]]:
        """``(congress, rebased child URL, lastmod)`` for the configured sessions."""
        sessions = set(self.context.settings.sessions)
        children = []
        for loc, lastmod in entries:
            segments = loc.rstrip("/").split("/")
            match = _CHILD.match(segments[-2]) if len(segments) >= 2 else None
            if match and match.group(1) in sessions:
                children.append((match.group(1), self._rebase(loc), lastmod))
        missing = sessions - {congress for congress, _, _ in children}
        if missing:
            raise SourceError(
                f"the BILLSTATUS sitemap index lists no sitemap for Congress "
                f"{', '.join(sorted(missing))}",
                source=NAME,
            )
        return children

    def _child(
        self, *, congress: str, url: str, lastmod: str | None
    ) -> Iterator[BillRef | Checkpoint]:
        result = self.context.http.get(url)
        entries = [
            (self._rebase(loc), mod)
            for loc, mod in parse_sitemap(result.body, document=url, kind="urlset")
            if loc.endswith(".xml")
        ]
        stored = self._stored_lastmods([loc for loc, _ in entries])
        for loc, mod in entries:
            if _is_newer(mod, stored.get(loc)):
                yield BillRef(source=NAME, url=loc, session=congress, lastmod=mod, group=url)
        validators = replace(result.validators, lastmod=lastmod)
        yield Checkpoint(group=url, updates=(StateUpdate(url, validators),))

    def _stored_lastmods(self, urls: Sequence[str]) -> Mapping[str, str]:
        if not urls:
            return {}
        return self.context.state.lastmods(prefix=_common_folder(urls))

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """One bill file. Not conditional: its sitemap lastmod already says it changed."""
        result = self.context.http.get(ref.url)
        validators = Validators(sha256=result.validators.sha256, lastmod=ref.lastmod)
        return Fetched(
            ref=ref,
            documents={ref.url: result.body},
            updates=(StateUpdate(ref.url, validators),),
        )

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """One record per BILLSTATUS document; pure."""
        return [parse_billstatus(body, document=name) for name, body in fetched.documents.items()]


def _common_folder(urls: Sequence[str]) -> str:
    """The longest common prefix of ``urls`` that ends at a ``/`` (or the whole prefix)."""
    first, last = min(urls), max(urls)  # the common prefix of all is the prefix of these two
    pairs = enumerate(zip(first, last, strict=False))
    length = next((i for i, (a, b) in pairs if a != b), len(first))
    prefix = first[:length]
    return prefix[: prefix.rfind("/") + 1] or prefix


def _is_newer(lastmod: str | None, stored: str | None) -> bool:
    if lastmod is None or stored is None:
        return True
    new, old = _instant(lastmod), _instant(stored)
    if new is None or old is None:
        return lastmod != stored
    return new > old


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------------------------


def parse_sitemap(body: bytes, *, document: str, kind: str) -> list[tuple[str, str | None]]:
    """``(loc, lastmod)`` pairs of a ``sitemapindex`` or ``urlset``, in document order."""
    root = xml_root(body, document=document)
    if root.tag != SITEMAP_NS + kind:
        raise ParseError(
            f"expected a sitemaps.org <{kind}>, got <{_local(root.tag)}>", document=document
        )
    entry = "sitemap" if kind == "sitemapindex" else "url"
    pairs = []
    for item in root.iterfind(SITEMAP_NS + entry):
        loc = (item.findtext(SITEMAP_NS + "loc") or "").strip()
        if not loc:
            raise ParseError(f"a <{entry}> has no <loc>", document=document)
        lastmod = (item.findtext(SITEMAP_NS + "lastmod") or "").strip() or None
        pairs.append((loc, lastmod))
    return pairs


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _text(element: Element, path: str) -> str:
    """The stripped text at ``path`` under ``element`` ("" when absent)."""
    found = element.findtext(path)
    return found.strip() if found else ""


def _child_text(element: Element, tag: str) -> str:
    """The stripped text of ``element``'s first ``tag`` child: what ``_text(element, tag)``
    gives for a plain tag, without lxml's path machinery (a hot path)."""
    for child in element:
        if child.tag == tag:
            text = child.text
            return text.strip() if text else ""
    return ""


def _first_text(element: Element, *paths: str) -> str:
    for path in paths:
        found = _text(element, path)
        if found:
            return found
    return ""


def _collapse(text: str) -> str:
    # str.split() splits on exactly what ``\s`` matches, and beats the regex by far.
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# BILLSTATUS
# ---------------------------------------------------------------------------------------------


def parse_billstatus(body: bytes, *, document: str) -> BillRecord:
    """One BILLSTATUS document (v3, v1 or legacy) -> a :class:`BillRecord`."""
    # Records only (summaries are escaped HTML in a text node): white space between
    # elements carries nothing.
    root = xml_root(body, document=document, data_only=True)
    bill = root.find("bill") if root.tag == "billStatus" else None
    if bill is None:
        raise ParseError(
            f"not a BILLSTATUS document (root <{_local(root.tag)}>)", document=document
        )
    congress = _text(bill, "congress")
    number = _first_text(bill, "number", "billNumber")
    raw_type = _first_text(bill, "type", "billType").upper().replace(".", "")
    if not congress or not number or raw_type not in _BILL_TYPES:
        raise ParseError(
            f"no congress/number/type (congress={congress!r}, number={number!r}, "
            f"type={raw_type!r})",
            document=document,
        )
    letters, bill_type, slug = _BILL_TYPES[raw_type]
    try:
        identifier = normalize_identifier(f"{letters} {number}")
    except InvalidBillKey as exc:
        raise ParseError(str(exc), document=document) from None
    origin = _origin_chamber(_text(bill, "originChamber"), letters)
    sponsors, cosponsor_count = _sponsors(bill)
    return BillRecord(
        source=NAME,
        jurisdiction="us",
        session=congress,
        identifier=identifier,
        title=_collapse(_first_text(bill, "title", "titles/item/title")),
        bill_type=bill_type,
        actions=parse_actions(bill, origin=origin, document=document),
        sponsors=sponsors,
        subjects=_subjects(bill),
        summary=_summary(bill),
        versions=_versions(bill),
        url=f"https://www.congress.gov/bill/{_ordinal(int(congress))}-congress/{slug}/"
        f"{int(number)}",
        upstream_updated_at=_updated_at(bill),
        document=document,
        extras={
            "laws": _laws(bill),
            "cosponsor_count": cosponsor_count,
            "origin_chamber": origin.value,
            "schema_version": _text(root, "version") or _text(bill, "version") or "legacy",
        },
    )


def _origin_chamber(text: str, letters: str) -> Chamber:
    if text.lower() == "house" or (not text and letters.startswith("H")):
        return Chamber.LOWER
    if text.lower() == "senate" or (not text and letters.startswith("S")):
        return Chamber.UPPER
    return Chamber.UNKNOWN


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _updated_at(bill: Element) -> datetime | None:
    text = _first_text(bill, "updateDateIncludingText", "updateDate")
    moment = _instant(text) if text else None
    return moment.astimezone(UTC) if moment else None


def _sponsors(bill: Element) -> tuple[tuple[SponsorRecord, ...], int]:
    """Primary sponsors, then the cosponsors who did not withdraw; and that cosponsor count."""
    records = [_sponsor(_leaf_texts(item), item, primary=True)
               for item in bill.iterfind("sponsors/item")]
    cosponsors = []
    for item in bill.iterfind("cosponsors/item"):
        fields = _leaf_texts(item)
        if not fields.get("sponsorshipWithdrawnDate"):
            cosponsors.append(_sponsor(fields, item, primary=False))
    return tuple(r for r in records + cosponsors if r.name), len(cosponsors)


def _leaf_texts(item: Element) -> dict[str, str]:
    """``tag -> stripped text`` of the item's children (one pass: bills carry hundreds of
    cosponsors, and a findtext per field was the parser's hottest spot). A child with
    children of its own (``identifiers``) has only white space as text: it is read as ""."""
    return {child.tag: child.text.strip() if child.text else "" for child in item}


def _sponsor(fields: Mapping[str, str], item: Element, *, primary: bool) -> SponsorRecord:
    get = fields.get
    name = get("fullName") or get("name") or _collapse(
        f"{get('firstName', '')} {get('lastName', '')}"
    )
    # Only the fields present, in a fixed order (the content hash depends on it).
    extras: dict[str, Any] = {}
    if bioguide := get("bioguideId") or _text(item, "identifiers/bioguideId"):
        extras["bioguide_id"] = bioguide
    if party := get("party"):
        extras["party"] = party
    if state := get("state"):
        extras["state"] = state
    if district := get("district"):
        extras["district"] = district
    if not primary:
        if sponsorship_date := get("sponsorshipDate"):
            extras["sponsorship_date"] = sponsorship_date
        if get("isOriginalCosponsor", "").lower() == "true":
            extras["original"] = True
    return SponsorRecord(name=name, primary=primary, extras=extras)


def _subjects(bill: Element) -> tuple[str, ...]:
    """The CRS policy area first, then the legislative subject terms, each once."""
    policy = _first_text(
        bill,
        "policyArea/name",
        "subjects/policyArea/name",
        "subjects/billSubjects/policyArea/name",
        "primarySubject/name",
        "subjects/billSubjects/primarySubject/name",
    )
    terms = [policy] if policy else []
    for path in (
        "subjects/legislativeSubjects/item/name",
        "subjects/billSubjects/legislativeSubjects/item/name",
        "subjects/billSubjects/otherSubjects/item/name",
    ):
        terms.extend((element.text or "").strip() for element in bill.iterfind(path))
    return tuple(dict.fromkeys(term for term in terms if term))


def _summary(bill: Element) -> str:
    """The latest CRS summary as plain text."""
    items = [
        *bill.iterfind("summaries/summary"),
        *bill.iterfind("summaries/billSummaries/item"),
        *bill.iterfind("summaries/item"),
    ]
    if not items:
        return ""

    def recency(pair: tuple[int, Element]) -> tuple[str, str, int]:
        position, item = pair
        fields = _leaf_texts(item)  # one pass over the item (a hot path)
        updated = fields.get("updateDate") or fields.get("lastSummaryUpdateDate") or ""
        return (fields.get("actionDate", ""), updated, position)

    _, latest = max(enumerate(items), key=recency)
    return html_text(_child_text(latest, "text"))


def html_text(markup: str) -> str:
    """Text of an HTML fragment, block boundaries kept as spaces, whitespace collapsed."""
    if not markup.strip():
        return ""
    # lxml's plain HTML parser, not lxml.html's: its element classes cost half the time of
    # reading a summary, and nothing here needs them.
    root = etree.fromstring(f"<html><body>{markup}</body></html>", html_parser())
    body = root.find("body") if root is not None else None
    if body is None:
        return ""
    for element in body.iter(*_BLOCK_TAGS):
        element.tail = " " + (element.tail or "")
    return _collapse(etree.tostring(body, method="text", encoding="unicode", with_tail=False))


def _versions(bill: Element) -> tuple[VersionRecord, ...]:
    versions = []
    for item in bill.iterfind("textVersions/item"):
        name = _text(item, "type")
        if not name:
            continue
        when = _text(item, "date")
        url = _text(item, "formats/item/url") or None
        versions.append(VersionRecord(name=name, date=_date_or_none(when[:10]), url=url))
    return tuple(versions)


def _laws(bill: Element) -> list[str]:
    laws = []
    for item in bill.iterfind("laws/item"):
        number = _text(item, "number")
        if number:
            laws.append(f"{_text(item, 'type') or 'Public Law'} {number}")
    return laws


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """One ``<actions><item>`` as recorded, before folding."""

    date: date
    text: str  # whitespace collapsed
    key: str  # whitespace removed, case folded: what duplicates share
    code: str
    system: str  # sourceSystem code, or "0" for a code-less "Senate" name
    time: str
    type: str
    committees: list[str] = field(default_factory=list)

    @property
    def from_loc(self) -> bool:
        return self.system == _LOC_SYSTEM

    def restating_keys(self) -> tuple[str, ...]:
        """Keys under which a Library of Congress row may restate a chamber's row.

        Its own key, and the key without a label such as ``Passed/agreed to in House:``.
        """
        match = _LOC_LABEL.match(self.text)
        return (self.key, _key(self.text[match.end() :])) if match else (self.key,)


@dataclass(slots=True)
class _Group:
    """Rows recording one action."""

    rows: list[_Row]

    @property
    def key(self) -> str:
        return self.rows[0].key

    @property
    def main(self) -> _Row:
        # The chamber's own row has the chamber's wording (and a time); LoC rows restate it.
        rows = self.rows
        if len(rows) == 1:  # most groups (a hot path)
            return rows[0]
        return next((row for row in rows if row.system != _LOC_SYSTEM), rows[0])

    @property
    def loc_only(self) -> bool:
        return all(row.system == _LOC_SYSTEM for row in self.rows)


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


def parse_actions(bill: Element, *, origin: Chamber, document: str) -> tuple[ActionRecord, ...]:
    """The bill's actions, oldest first, with GPO's duplicate rows folded into one action each."""
    rows = [row for item in bill.iterfind("actions/item") if (row := _row(item, document))]
    rows.reverse()  # upstream lists newest first
    rows.sort(key=lambda row: row.date)  # stable: keeps upstream order within a day
    actions: list[ActionRecord] = []
    for day_rows in _by_day(rows):
        actions.extend(_record(group, origin=origin) for group in _fold(day_rows))
    return tuple(actions)


def _row(item: Element, document: str) -> _Row | None:
    # One pass over the item's children (a findtext per field cost more than the parse).
    fields: dict[str, str] = {}
    source_system: Element = None
    listed: list[str] = []  # <committees><item><name> (v1, v3)
    legacy: list[str] = []  # <committee><name> (2015 files)
    for child in item:
        tag = child.tag
        if tag == "committees":
            listed.extend(_child_text(c, "name") for c in child if c.tag == "item")
        elif tag == "committee":
            legacy.append(_child_text(child, "name"))
        elif tag == "sourceSystem":
            if source_system is None:
                source_system = child
        elif tag not in fields:  # the first of a repeated field, as findtext reads it
            fields[tag] = (child.text or "").strip()
    text = _collapse(fields.get("text", ""))
    when = fields.get("actionDate", "")
    if not text or not when:
        return None  # the 2015 files hold empty placeholder items
    try:
        day = date.fromisoformat(when[:10])
    except ValueError:
        raise ParseError(f"bad actionDate {when!r}", document=document) from None
    system = ""
    if source_system is not None:
        system = _child_text(source_system, "code")
        if not system and _child_text(source_system, "name").lower() == "senate":
            system = "0"
    return _Row(
        date=day,
        text=text,
        key=_key(text),
        code=fields.get("actionCode", ""),
        system=system,
        time=fields.get("actionTime", ""),
        type=fields.get("type", ""),
        committees=[name for name in (*listed, *legacy) if name],
    )


def _by_day(rows: Sequence[_Row]) -> Iterator[list[_Row]]:
    day: list[_Row] = []
    for row in rows:
        if day and row.date != day[0].date:
            yield day
            day = []
        day.append(row)
    if day:
        yield day


def _fold(rows: Iterable[_Row]) -> list[_Group]:
    """Fold one day's rows: same text first, then LoC-only groups into the row they restate."""
    groups: dict[str, _Group] = {}
    for row in rows:
        if row.key in groups:
            groups[row.key].rows.append(row)
        else:
            groups[row.key] = _Group([row])
    ordered = list(groups.values())
    chamber_groups = [group for group in ordered if not group.loc_only]
    for group in [group for group in ordered if group.loc_only]:
        target = _restated(group.rows[0].restating_keys(), chamber_groups)
        if target is not None:
            target.rows.extend(group.rows)
            ordered.remove(group)
    return ordered


def _restated(keys: Sequence[str], groups: Sequence[_Group]) -> _Group | None:
    """The chamber group a LoC row restates: same text, or one text a prefix of the other.

    The LoC row often drops the chamber's trailing citation (``(text: CR H6815-6816)``), so a
    prefix of enough length counts.
    """
    for key in keys:
        for group in groups:
            if group.key == key or (
                min(len(key), len(group.key)) >= _MIN_PREFIX
                and (group.key.startswith(key) or key.startswith(group.key))
            ):
                return group
    return None


def _record(group: _Group, *, origin: Chamber) -> ActionRecord:
    main = group.main
    rows = group.rows
    if len(rows) == 1:  # most groups: no duplicates to drop (a hot path)
        codes = [main.code] if main.code else []
        systems = [main.system] if main.system else []
        committees = list(dict.fromkeys(main.committees)) if main.committees else []
    else:
        codes = list(dict.fromkeys(row.code for row in rows if row.code))
        systems = list(dict.fromkeys(row.system for row in rows if row.system))
        committees = list(dict.fromkeys(c for row in rows for c in row.committees))
    extras: dict[str, Any] = {"codes": codes, "source_systems": systems}
    if committees:
        extras["committees"] = committees
    if main.time:
        extras["time"] = main.time
    if main.type:
        extras["type"] = main.type
    return ActionRecord(
        date=main.date,
        actor=_group_actor(group, codes=codes, origin=origin),
        description=main.text,
        classification=classify(main.text, codes=codes),
        extras=extras,
    )


def classify(text: str, *, codes: Sequence[str] = ()) -> tuple[ActionClass, ...]:
    """Classes of one action: from its codes when any is telling, else from its text."""
    known = [classes for code in codes if (classes := _code_classes(code)) is not None]
    if known:
        return vocabulary_order(cls for classes in known for cls in classes)
    return TEXT_RULES.classify(text)


def _code_classes(code: str) -> tuple[ActionClass, ...] | None:
    found = CODE_CLASSES.get(code)
    if found is None and "-" in code:
        found = CODE_CLASSES.get(code.rsplit("-", 1)[0])  # "H11100-A": a LoC restatement
    return found


def _numeric(code: str) -> int | None:
    return int(code) if code.isdigit() else None


def _is_executive(code: str) -> bool:
    number = _numeric(code)
    return code.startswith("E") or (number is not None and 28000 <= number < 40000)


def _group_actor(group: _Group, *, codes: Sequence[str], origin: Chamber) -> Chamber:
    # The 2015 files record "Vetoed by President" under the House floor system: the action
    # code, not the recording system, says the President acted.
    if any(_is_executive(code) for code in codes):
        return Chamber.EXECUTIVE
    return _row_actor(group.main, origin=origin)


def _row_actor(row: _Row, *, origin: Chamber) -> Chamber:
    if row.system == "0":
        return Chamber.UPPER
    if row.system in ("1", "2"):
        return Chamber.LOWER
    if row.from_loc:
        return _loc_actor(row.code, origin=origin)
    return origin


def _loc_actor(code: str, *, origin: Chamber) -> Chamber:
    """Library of Congress rows: the code range tells the chamber (user guide §3)."""
    number = _numeric(code)
    if number == 19500:  # "Resolving differences -- House actions" sits in the Senate range
        return Chamber.LOWER
    if number is not None and 1000 <= number < 10000:
        return Chamber.LOWER
    if number is not None and 10000 <= number < 28000:
        return Chamber.UPPER
    if code.startswith("H") or code.endswith("-H"):
        return Chamber.LOWER
    return origin
