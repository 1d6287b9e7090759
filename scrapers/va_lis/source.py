"""``va-lis``: Virginia bills from the LIS data files (CSV, no key needed).

Upstream: LIS publishes one folder of CSV files per session on Azure Blob Storage,
``https://lis.blob.core.windows.net/lisfiles/{code}/{FILE}`` (the links at the bottom of
https://lis.virginia.gov/data-files; Open States notes that the pattern written in that
page's text is wrong). ``{code}`` is the LIS session code (``201`` for 2020, ``20261`` for
2026; see ``scrapers.va_lis.sessions``). A configured ``base_url`` replaces the origin.

Files: ``BILLS.CSV`` and ``HISTORY.CSV`` are required (a 404 fails the run with one line);
``Summaries.csv``, ``Sponsors.csv`` and ``CIBillSubjects.csv`` are optional (a 404 is logged
at INFO and the bills are stored without them). LIS's file-name case differs between years:
each file is asked for under its documented name, then under the other case (``bills.csv``,
``SUMMARIES.CSV``) on a 404, and the name that answered first next time is the one whose
fetch state is stored.

Change detection: every file is fetched conditionally (``If-None-Match`` /
``If-Modified-Since`` from the stored validators; a 200 whose body hashes as before counts as
unchanged too). When every file of a session is unchanged, ``discover`` yields nothing for it:
one request per file, nothing parsed. Otherwise it yields one ref for the session's bundle and
keeps the bodies it fetched until ``fetch`` asks for them, so no file is fetched twice in a
poll. An unchanged file's body is read back from the stored fetch state (kept compressed with
its validators); when a 304 arrives and no body is stored, the file is fetched again without
validators. A missing optional file is not a change by itself: it is left out the next time
the bundle is parsed. ``since`` is not used: the validators are the cursor.

The whole session is parsed (``scrapers.va_lis.parse``) and every bill is handed on; the
store's content hashes and per-bill diffs turn that into exactly the upstream changes: new
HISTORY rows become ``new-action`` events, vanished or rewritten rows ``action-removed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from scrapers.va_lis.parse import BILLS, HISTORY, NAME, SPONSORS, SUBJECTS, SUMMARIES, parse_bundle
from scrapers.va_lis.sessions import lis_session_code
from tracker.errors import ConfigError, HttpStatusError, SourceError
from tracker.http import HttpResult
from tracker.records import BillRecord, BillRef, Checkpoint, Fetched, StateUpdate
from tracker.source import SourceContext, SourceInfo

log = logging.getLogger(__name__)

DEFAULT_ORIGIN = "https://lis.blob.core.windows.net/lisfiles"


@dataclass(frozen=True, slots=True)
class DataFile:
    """One file of a session folder, under its documented name."""

    name: str
    required: bool

    @property
    def other_case(self) -> str:
        """The name in the other case: ``BILLS.CSV`` <-> ``bills.csv``, ``Summaries.csv`` ->
        ``SUMMARIES.CSV``."""
        return self.name.lower() if self.name == self.name.upper() else self.name.upper()


FILES: tuple[DataFile, ...] = (
    DataFile(BILLS, required=True),
    DataFile(HISTORY, required=True),
    DataFile(SUMMARIES, required=False),
    DataFile(SPONSORS, required=False),
    DataFile(SUBJECTS, required=False),
)


@dataclass(frozen=True, slots=True)
class _Checked:
    """A file as the conditional GET found it: its name as served, URL and answer."""

    name: str
    url: str
    result: HttpResult


class VaLis:
    """The ``va-lis`` source; see the module docstring."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name=NAME,
        title="Virginia LIS data files (CSV)",
        jurisdictions=("va",),
        homepage="https://lis.virginia.gov/data-files",
        default_origin=DEFAULT_ORIGIN,
        min_interval=timedelta(hours=1),
    )
    #: ``tracker inspect va-lis FOLDER`` hands the folder's files over as one bundle.
    bundle_folders: ClassVar[bool] = True

    def __init__(self, context: SourceContext) -> None:
        self.context = context
        self._codes = {session: _code(session) for session in context.settings.sessions}
        # The files discover fetched for the ref it yielded last, until fetch takes them.
        self._pending: dict[str, list[_Checked]] = {}

    # -- discover ---------------------------------------------------------------------------

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        """One ref per configured session whose files changed; see the module docstring."""
        for session, code in self._codes.items():
            folder = self._folder(code)
            checked = self._check(folder, session=session)
            if all(item.result.unchanged for item in checked):
                log.debug("%s: session %s unchanged (%d files)", NAME, session, len(checked))
                continue
            self._pending = {folder: checked}
            yield BillRef(source=NAME, url=folder, session=session, group=session)

    def _folder(self, code: str) -> str:
        return self.context.rebase(f"{DEFAULT_ORIGIN}/{code}/", default_origin=DEFAULT_ORIGIN)

    def _check(self, folder: str, *, session: str) -> list[_Checked]:
        """Conditional GETs of the session's files; the optional files not found left out."""
        checked = []
        for data_file in FILES:
            found = self._get_either_case(folder, data_file)
            if found is not None:
                checked.append(found)
                continue
            tried = f"{folder}{data_file.name} (or {data_file.other_case})"
            if data_file.required:
                raise SourceError(f"session {session}: {tried} not found", source=NAME)
            log.info("%s: session %s: %s not found; skipped", NAME, session, tried)
        return checked

    def _get_either_case(self, folder: str, data_file: DataFile) -> _Checked | None:
        state = self.context.state
        names = [data_file.name, data_file.other_case]
        stored = {name: state.get(folder + name) for name in names}
        if stored[names[0]] is None and stored[names[1]] is not None:
            names.reverse()  # the other case answered last time: ask for it first
        for name in names:
            url = folder + name
            try:
                result = self.context.http.get(url, previous=stored[name])
            except HttpStatusError as exc:
                if exc.status == 404:
                    continue
                raise
            return _Checked(name=name, url=url, result=result)
        return None

    # -- fetch / parse ----------------------------------------------------------------------

    def fetch(self, ref: BillRef) -> Fetched:
        """The session's files by name, unchanged ones read back from the stored state."""
        checked = self._pending.pop(ref.url, None)
        if checked is None:  # not just discovered (a caller fetching a ref on its own)
            checked = self._check(ref.url, session=ref.session)
        documents: dict[str, bytes] = {}
        updates = []
        for item in checked:
            body, update = self._body(item)
            documents[item.name] = body
            updates.append(update)
        return Fetched(ref=ref, documents=documents, updates=tuple(updates))

    def _body(self, item: _Checked) -> tuple[bytes, StateUpdate]:
        result = item.result
        if result.status != 304:
            return result.body, StateUpdate(item.url, result.validators, body=result.body)
        stored = self.context.state.body(item.url)
        if stored is not None:
            # The stored body stays as it is: only the validators may have been refreshed.
            return stored, StateUpdate(item.url, result.validators)
        log.info("%s: %s: 304 but no stored body; fetching it again", NAME, item.url)
        fresh = self.context.http.get(item.url)
        return fresh.body, StateUpdate(item.url, fresh.validators, body=fresh.body)

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        """Every bill of the session's files; pure (see ``scrapers.va_lis.parse``)."""
        return parse_bundle(fetched.documents, session=fetched.ref.session, folder=fetched.ref.url)


def _code(session: str) -> str:
    try:
        return lis_session_code(session)
    except ValueError as exc:
        raise ConfigError(f"sources.{NAME}.sessions: {exc}") from None
