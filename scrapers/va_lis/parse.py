"""One session's LIS data files -> bill records. Pure: bytes in, records out.

Files read (matched by name ignoring case, since LIS's case differs between years; any other
file of the folder, such as Members.csv or VOTE.CSV, is ignored):

* ``BILLS.CSV`` (required): one row per bill. ``Bill_id`` (``HB1``), ``Bill_description``
  (the short title, padded with spaces in 2025), ``Patron_id``/``Patron_name`` (the chief
  patron, used when Sponsors.csv has no row for the bill), ``Full_text_doc1..6`` and
  ``Full_text_date1..6`` (text versions, padded), ``Chapter_id``, ``Introduction_date``.
* ``HISTORY.CSV``: one row per action, in order within each bill. ``History_date`` is
  ``MM/DD/YY`` (2020) or ``M/D/YYYY`` (2025). ``History_description`` starts with the chamber,
  ``"H "`` or ``"S "``; governor and some conference rows start with a space instead (Open
  States' ``chamber_for_action``): those naming the Governor are the executive's, the others
  the legislature's. ``History_refid`` (a vote id such as ``H18V0021``) is kept in the
  action's extras. Identical rows are kept: each occurrence is its own action. Rows of a
  bill that BILLS.CSV does not list are not used (the files are not written at one moment:
  on 2020-01-28 BILLS.CSV names an HB 565 action that HISTORY.CSV does not have yet).
* ``Summaries.csv``: ``SUM_BILNO`` zero-padded (``HB0001``), ``SUMMARY_TYPE``, and
  ``SUMMARY_TEXT`` as multi-line HTML. A bill's summaries are listed oldest first (2020:
  ``SB35S`` "Introduced", then ``SB35SE`` "Passed House of Origin"); the last one is used.
* ``Sponsors.csv``: ``MEMBER_NAME`` (padded), ``MEMBER_ID``, ``BILL_NUMBER`` (zero-padded in
  2020, not in the 2024 sample), ``PATRON_TYPE`` read as ``"1001 - Chief Patron"`` (2020) or
  ``"1 - Chief Patron"`` (2024): the label after the dash decides, and only "Chief Patron" is
  primary ("Chief Co-Patron" is not).
* ``CIBillSubjects.csv``: ``Bill_Number``, ``Subject_Name``.

A bill listed twice in BILLS.CSV is refused (it would be stored twice).

Bill types: ``HB``/``SB`` bills, ``HJ``/``SJ`` joint resolutions (those titled
"Constitutional amendment; ..." are constitutional amendments: Virginia proposes amendments
by joint resolution, and the title says which), ``HR``/``SR`` simple resolutions. Any other
prefix, an unreadable bill number or date is a format change: a ParseError naming the file
and line.

Links use the LIS session code: ``https://lis.virginia.gov/bill-details/{code}/{HB1}`` and
``.../text/{document id}`` for each text version.

Session: the one the ref names (the config session, ``"2020"``). A local folder read by
``tracker inspect`` comes without one; its session is then the year of the latest
``Introduction_date`` in BILLS.CSV (see ``sessions.session_from_dates``).

An empty BILLS.CSV is a :class:`SourceError`: an active session always has bills, so an
empty file is an upstream failure, never "no change".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from lxml import html as lxml_html

from scrapers.va_lis.csvfiles import Row, Table, is_blank, read_table
from scrapers.va_lis.rules import classify
from scrapers.va_lis.sessions import lis_session_code, session_from_dates
from tracker.errors import InvalidBillKey, ParseError, SourceError
from tracker.models import BillType, Chamber, normalize_identifier
from tracker.records import ActionRecord, BillRecord, SponsorRecord, VersionRecord

NAME = "va-lis"
JURISDICTION = "va"
SITE = "https://lis.virginia.gov"

BILLS = "BILLS.CSV"
HISTORY = "HISTORY.CSV"
SUMMARIES = "Summaries.csv"
SPONSORS = "Sponsors.csv"
SUBJECTS = "CIBillSubjects.csv"

VERSION_SLOTS = range(1, 7)
BILL_COLUMNS = (
    "Bill_id", "Bill_description", "Patron_id", "Patron_name", "Chapter_id",
    "Introduction_date",
    *(f"Full_text_{kind}{slot}" for slot in VERSION_SLOTS for kind in ("doc", "date")),
)  # fmt: skip
HISTORY_COLUMNS = ("Bill_id", "History_date", "History_description", "History_refid")
SUMMARY_COLUMNS = ("SUM_BILNO", "SUMMARY_TYPE", "SUMMARY_TEXT")
SPONSOR_COLUMNS = ("MEMBER_NAME", "MEMBER_ID", "BILL_NUMBER", "PATRON_TYPE")
SUBJECT_COLUMNS = ("Bill_Number", "Subject_Name")

_TYPES: Mapping[str, BillType] = {
    "HB": BillType.BILL,
    "SB": BillType.BILL,
    "HJ": BillType.JOINT_RESOLUTION,
    "SJ": BillType.JOINT_RESOLUTION,
    "HR": BillType.RESOLUTION,
    "SR": BillType.RESOLUTION,
}
_CONSTITUTIONAL = re.compile(r"^\s*constitutional amendment\b", re.IGNORECASE)
#: A history row's first letter and a space name the chamber; Open States also maps the
#: letters G (Governor) and C (conference), which older files used.
_PREFIX_ACTORS: Mapping[str, Chamber] = {
    "H": Chamber.LOWER,
    "S": Chamber.UPPER,
    "G": Chamber.EXECUTIVE,
    "C": Chamber.LEGISLATURE,
}
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\s*$")
_WHITESPACE = re.compile(r"\s+")
#: Marks a block boundary while the text is flattened (a private-use character, never in LIS
#: text).
_BREAK = "\ue000"
_BLOCK_TAGS = ("p", "div", "li", "br", "table", "tr", "h1", "h2", "h3", "h4", "ul", "ol")


def parse_bundle(documents: Mapping[str, bytes], *, session: str, folder: str) -> list[BillRecord]:
    """Every bill of BILLS.CSV with its actions, summary, sponsors, subjects and versions.

    ``documents`` maps file names (any case) to bodies; ``session`` is the tracker's session
    name, or ``""`` to derive it from the file; ``folder`` names the files in messages.
    """
    names = {name.lower(): name for name in documents}
    if BILLS.lower() not in names:
        listed = ", ".join(sorted(documents)) or "no files"
        raise ParseError(f"no {BILLS} among the files ({listed})", document=folder)

    def table(wanted: str, columns: tuple[str, ...]) -> Table:
        name = names.get(wanted.lower())
        if name is None:  # an optional file the folder does not have
            return Table(wanted, [])
        where = f"{folder.rstrip('/')}/{name}"
        body = documents[name]
        return (
            Table(where, [])
            if is_blank(body)
            else read_table(body, document=where, columns=columns)
        )

    bills = table(BILLS, BILL_COLUMNS)
    if not bills.rows:
        raise SourceError(
            f"{bills.document}: no bills (an active session always has some)", source=NAME
        )
    session = session or _derived_session(bills)
    try:
        code = lis_session_code(session)
    except ValueError as exc:
        raise ParseError(str(exc), document=folder) from None
    actions = actions_by_bill(table(HISTORY, HISTORY_COLUMNS))
    summaries = summaries_by_bill(table(SUMMARIES, SUMMARY_COLUMNS))
    sponsors = sponsors_by_bill(table(SPONSORS, SPONSOR_COLUMNS))
    subjects = subjects_by_bill(table(SUBJECTS, SUBJECT_COLUMNS))
    records = []
    for key, row in _bill_rows(bills).items():
        records.append(
            BillRecord(
                source=NAME,
                jurisdiction=JURISDICTION,
                session=session,
                identifier=key,
                title=row["Bill_description"].strip(),
                bill_type=_bill_type(key, row=row, document=bills.document),
                actions=tuple(actions.get(key, ())),
                sponsors=tuple(sponsors.get(key) or _chief_patron(row)),
                subjects=tuple(subjects.get(key, ())),
                summary=summaries.get(key, ""),
                versions=_versions(row, key=key, code=code, document=bills.document),
                url=f"{SITE}/bill-details/{code}/{_compact(key)}",
                document=bills.document,
                extras=_bill_extras(row, code=code),
            )
        )
    return records


# -- bills ------------------------------------------------------------------------------------


def _bill_key(raw: str, *, document: str, line: int) -> str:
    try:
        return normalize_identifier(raw)
    except InvalidBillKey:
        raise ParseError(
            f"line {line}: bill number {raw.strip()!r} cannot be read", document=document
        ) from None


def _bill_rows(bills: Table) -> dict[str, Row]:
    """BILLS.CSV rows by bill; a bill listed twice is a ParseError (it would be stored twice)."""
    rows: dict[str, Row] = {}
    for row in bills.rows:
        key = _bill_key(row["Bill_id"], document=bills.document, line=row.line)
        if key in rows:
            raise ParseError(
                f"line {row.line}: {key} is listed twice (first on line {rows[key].line})",
                document=bills.document,
            )
        rows[key] = row
    return rows


def _bill_type(key: str, *, row: Row, document: str) -> BillType:
    letters = key.split(" ", 1)[0]
    found = _TYPES.get(letters)
    if found is None:
        known = ", ".join(_TYPES)
        raise ParseError(
            f"line {row.line}: {key}: unknown bill type {letters!r} (known: {known})",
            document=document,
        )
    if found is BillType.JOINT_RESOLUTION and _CONSTITUTIONAL.match(row["Bill_description"]):
        return BillType.CONSTITUTIONAL_AMENDMENT
    return found


def _compact(key: str) -> str:
    """``"HB 1"`` -> ``"HB1"``, as LIS writes bill numbers in its links."""
    return key.replace(" ", "")


def _versions(row: Row, *, key: str, code: str, document: str) -> tuple[VersionRecord, ...]:
    versions = []
    for slot in VERSION_SLOTS:
        doc = row[f"Full_text_doc{slot}"].strip()
        if not doc:
            continue
        when = row[f"Full_text_date{slot}"]
        versions.append(
            VersionRecord(
                name=doc,
                date=_date(when, document=document, line=row.line) if when.strip() else None,
                url=f"{SITE}/bill-details/{code}/{_compact(key)}/text/{doc}",
            )
        )
    return tuple(versions)


def _chief_patron(row: Row) -> tuple[SponsorRecord, ...]:
    name = row["Patron_name"].strip()
    if not name:
        return ()
    return (SponsorRecord(name=name, primary=True, extras={"member_id": row["Patron_id"].strip()}),)


def _bill_extras(row: Row, *, code: str) -> dict[str, Any]:
    extras: dict[str, Any] = {"lis_session": code}
    chapter = row["Chapter_id"].strip()
    if chapter:
        extras["chapter"] = chapter
    return extras


def _derived_session(bills: Table) -> str:
    dates = (
        _date(row["Introduction_date"], document=bills.document, line=row.line)
        for row in bills.rows
        if row["Introduction_date"].strip()
    )
    session = session_from_dates(dates)
    if session is None:
        raise ParseError(
            "no session given and no Introduction_date to tell it from", document=bills.document
        )
    return session


# -- the other files --------------------------------------------------------------------------


def actions_by_bill(history: Table) -> dict[str, list[ActionRecord]]:
    """Each bill's actions in file order; rows with an empty description are dropped."""
    document = history.document
    actions: dict[str, list[ActionRecord]] = defaultdict(list)
    for row in history.rows:
        actor, text = split_actor(row["History_description"])
        if not text:
            continue
        key = _bill_key(row["Bill_id"], document=document, line=row.line)
        refid = row["History_refid"].strip()
        actions[key].append(
            ActionRecord(
                date=_date(row["History_date"], document=document, line=row.line),
                actor=actor,
                description=text,
                classification=classify(text),
                extras={"refid": refid} if refid else {},
            )
        )
    return actions


def split_actor(description: str) -> tuple[Chamber, str]:
    """``"H Referred to ..."`` -> ``(LOWER, "Referred to ...")``; see the module docstring."""
    if len(description) > 2 and description[1] == " " and description[0] in _PREFIX_ACTORS:
        return _PREFIX_ACTORS[description[0]], description[2:].strip()
    text = description.strip()
    if description.startswith(" "):
        return (Chamber.EXECUTIVE if "governor" in text.lower() else Chamber.LEGISLATURE), text
    return Chamber.UNKNOWN, text


def summaries_by_bill(summaries: Table) -> dict[str, str]:
    """Each bill's newest summary as plain text."""
    latest: dict[str, str] = {}
    for row in summaries.rows:
        key = _bill_key(row["SUM_BILNO"], document=summaries.document, line=row.line)
        latest[key] = row["SUMMARY_TEXT"]  # later rows are newer: the last one wins
    return {key: html_text(markup) for key, markup in latest.items()}


def sponsors_by_bill(patrons: Table) -> dict[str, list[SponsorRecord]]:
    """Each bill's patrons in file order; only the chief patron is primary."""
    sponsors: dict[str, list[SponsorRecord]] = defaultdict(list)
    for row in patrons.rows:
        name = row["MEMBER_NAME"].strip()
        if not name:
            continue
        key = _bill_key(row["BILL_NUMBER"], document=patrons.document, line=row.line)
        label = patron_label(row["PATRON_TYPE"])
        sponsors[key].append(
            SponsorRecord(
                name=name,
                primary=label.lower() == "chief patron",
                extras={"member_id": row["MEMBER_ID"].strip(), "patron_type": label},
            )
        )
    return sponsors


def patron_label(patron_type: str) -> str:
    """``"1001 - Chief Patron"`` or ``"1 - Chief Patron"`` -> ``"Chief Patron"``."""
    _, dash, label = patron_type.partition(" - ")
    return (label if dash else patron_type).strip()


def subjects_by_bill(index: Table) -> dict[str, list[str]]:
    """Each bill's subject index entries in file order."""
    subjects: dict[str, list[str]] = defaultdict(list)
    for row in index.rows:
        subject = row["Subject_Name"].strip()
        if subject:
            key = _bill_key(row["Bill_Number"], document=index.document, line=row.line)
            subjects[key].append(subject)
    return subjects


# -- values -----------------------------------------------------------------------------------


def _date(text: str, *, document: str, line: int) -> date:
    """``"01/28/20"`` or ``"1/28/2020"`` -> 2020-01-28; anything else is a ParseError."""
    match = _DATE.match(text)
    if match is not None:
        month, day, year = (int(part) for part in match.groups())
        try:
            return date(year + 2000 if year < 100 else year, month, day)
        except ValueError:
            pass
    raise ParseError(
        f"line {line}: {text.strip()!r} is not a date (MM/DD/YY or M/D/YYYY)", document=document
    )


def html_text(markup: str) -> str:
    """Plain text of a summary's HTML: paragraphs kept apart by a blank line, other white
    space (the file's line wrapping included) collapsed, entities decoded."""
    if not markup.strip():
        return ""
    fragment = lxml_html.fragment_fromstring(markup, create_parent="div")
    for element in fragment.iter(*_BLOCK_TAGS):
        element.tail = _BREAK + (element.tail or "")
    text = _WHITESPACE.sub(" ", str(fragment.text_content()))
    return "\n\n".join(part.strip() for part in text.split(_BREAK) if part.strip())
