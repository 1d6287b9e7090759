"""The only FTP client: every source that reads an FTP server goes through :class:`FtpClient`.

It gives FTP what ``tracker.http`` gives HTTP, so no source has to:

* one anonymous control connection per client, opened on first use and reopened after any
  failure; passive mode; binary retrievals;
* a connect timeout for opening the control connection and a read timeout for every reply
  and data transfer after that;
* retries with exponential backoff (through the injected ``sleep``) on ``ftplib.error_temp``
  (4xx replies such as ``421 Too many users`` or ``426 Transfer aborted``), connection
  errors, timeouts and a connection closed mid-reply; a 5xx reply (``550 No such file``) is
  final and leaves the connection usable;
* a minimum interval between the starts of network operations (login, listing, retrieval),
  through the injected ``clock`` and ``sleep``; one client talks to one host;
* a size cap: a listed size past the cap is refused before ``RETR``, and a transfer stops
  once it passes the cap;
* :meth:`FtpClient.walk`, a recursive walk yielding :class:`FtpFile` (path, size, modified)
  from ``MLSD`` (RFC 3659), or from ``LIST`` when the server does not implement ``MLSD``.
  Two ``LIST`` styles are read: the classic Unix ``ls -l`` line and the IIS/Windows line
  ``01-22-25  02:30PM  <DIR>|size name`` (what ftp.legis.state.tx.us is documented to send;
  see the Open States Texas scraper). Symbolic links are not followed;
* counters (:class:`FtpStats`), also added to an :class:`~tracker.http.HttpStats` when one is
  given, so a poll's report counts its FTP requests and bytes with its HTTP ones.

Times: ``MLSD`` ``modify`` facts are UTC (RFC 3659 section 2.3); ``LIST`` times are the
server's clock at minute resolution, and a Unix listing gives no year for recent files (it is
inferred from ``now``) and no time for files older than six months. :attr:`FtpFile.marker`
is therefore a change marker to compare with an earlier listing by the same server, not a
timestamp. Failures are :class:`~tracker.errors.FetchError` with one line naming the
``ftp://`` URL; an unreadable listing is a :class:`~tracker.errors.ParseError` naming the
folder.
"""

from __future__ import annotations

import ftplib
import logging
import posixpath
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self, TypeVar
from urllib.parse import quote, urlsplit

from tracker.errors import ConfigError, FetchError, ParseError, ResponseTooLarge
from tracker.http import HttpClient, HttpStats

log = logging.getLogger("tracker.ftp")

CHUNK_SIZE = 64 * 1024
BACKOFF_MAX = 60.0
#: A backstop against folder loops; the walks we make are three or four levels deep.
MAX_DEPTH = 12
#: Replies that mean "MLSD is not implemented here" (so LIST is tried instead).
_NOT_IMPLEMENTED = frozenset({"500", "501", "502", "504"})
_TRANSIENT = (ftplib.error_temp, OSError, EOFError)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_IIS_LINE = re.compile(
    r"^(?P<month>\d{2})-(?P<day>\d{2})-(?P<year>\d{4}|\d{2})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<half>[AP]M)?\s+"
    r"(?:(?P<dir><DIR>)|(?P<size>\d+))\s+(?P<name>.+?)\s*$",
    re.IGNORECASE,
)
_UNIX_LINE = re.compile(
    r"^(?P<kind>[-dlbcps])[-rwxsStTl]{9}[.+@]?\s+\d+\s+(?:\S+\s+){1,2}?(?P<size>\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+"
    r"(?:(?P<hour>\d{1,2}):(?P<minute>\d{2})|(?P<year>\d{4}))\s(?P<name>.+)$"
)
_MLSD_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?$")
_CONTACT = re.compile(r"contact:\s*([^\s;()]+@[^\s;()]+)")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


# -- listings (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One line of a folder listing. ``modified`` is naive (see the module docstring)."""

    name: str
    is_dir: bool
    size: int | None
    modified: datetime | None


@dataclass(frozen=True, slots=True)
class FtpFile:
    """A file found by :meth:`FtpClient.walk`: its absolute path and what the listing said."""

    path: str
    size: int | None
    modified: datetime | None

    @property
    def marker(self) -> str:
        """``"<modified, ISO>|<size>"``: changes whenever the listing shows a new version."""
        when = self.modified.isoformat(timespec="seconds") if self.modified else ""
        return f"{when}|{'' if self.size is None else self.size}"


def parse_mlsd_line(line: str) -> ListingEntry | None:
    """One ``MLSD`` line (``type=file;size=4567;modify=20250122143000; HB 1.xml``).

    None for the folder itself, its parent and anything that is neither a file nor a folder
    (links); ValueError when the line cannot be read.
    """
    facts_text, sep, name = line.partition(" ")
    if not sep or not name:
        raise ValueError(f"unreadable MLSD line {_shown(line)}")
    facts: dict[str, str] = {}
    for fact in facts_text.split(";"):
        key, eq, value = fact.partition("=")
        if eq:
            facts[key.strip().lower()] = value.strip()
    kind = facts.get("type", "").lower()
    if not kind:
        raise ValueError(f"MLSD line without a type fact {_shown(line)}")
    if kind not in ("file", "dir") or name in (".", ".."):
        return None
    size = facts.get("size", "")
    return ListingEntry(
        name=name,
        is_dir=kind == "dir",
        size=int(size) if size.isdigit() else None,
        modified=_mlsd_time(facts.get("modify"), line=line),
    )


def _mlsd_time(value: str | None, *, line: str) -> datetime | None:
    if not value:
        return None
    match = _MLSD_TIME.match(value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 (UTC, naive)
    except ValueError:
        raise ValueError(f"unreadable MLSD modify fact in {_shown(line)}") from None


def parse_list_line(line: str, *, now: datetime) -> ListingEntry | None:
    """One ``LIST`` line, IIS/Windows or Unix style; ``now`` (naive) dates recent Unix lines.

    None for blank lines, ``total N`` headers, ``.``/``..`` and links; ValueError when the
    line is in neither style.
    """
    text = line.rstrip("\r\n")
    if not text.strip() or text.lower().startswith("total "):
        return None
    iis = _IIS_LINE.match(text)
    if iis is not None:
        return _iis_entry(iis, line=text)
    unix = _UNIX_LINE.match(text)
    if unix is None:
        raise ValueError(f"unreadable listing line {_shown(text)}")
    name = unix["name"]
    if unix["kind"] not in "-d" or name in (".", ".."):
        return None
    return ListingEntry(
        name=name,
        is_dir=unix["kind"] == "d",
        size=int(unix["size"]),
        modified=_unix_time(unix, now=now, line=text),
    )


def _iis_entry(match: re.Match[str], *, line: str) -> ListingEntry:
    year = int(match["year"])
    if year < 100:
        year += 2000 if year < 70 else 1900  # as strptime's %y does
    hour = int(match["hour"])
    half = (match["half"] or "").upper()
    if half:
        hour = hour % 12 + (12 if half == "PM" else 0)
    try:
        modified = datetime(year, int(match["month"]), int(match["day"]), hour,  # noqa: DTZ001
                            int(match["minute"]))
    except ValueError:
        raise ValueError(f"impossible date in listing line {_shown(line)}") from None
    is_dir = match["dir"] is not None
    return ListingEntry(
        name=match["name"],
        is_dir=is_dir,
        size=None if is_dir else int(match["size"]),
        modified=modified,
    )


def _unix_time(match: re.Match[str], *, now: datetime, line: str) -> datetime:
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        raise ValueError(f"unknown month in listing line {_shown(line)}")
    day = int(match["day"])
    try:
        if match["year"]:
            return datetime(int(match["year"]), month, day)  # noqa: DTZ001
        when = datetime(now.year, month, day, int(match["hour"]),  # noqa: DTZ001
                        int(match["minute"]))
        # Recent files show no year; a date in the future is one from last year.
        if when > now + timedelta(days=1):
            when = when.replace(year=now.year - 1)
        return when
    except ValueError:
        raise ValueError(f"impossible date in listing line {_shown(line)}") from None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:119] + "…")


def _reply(exc: BaseException) -> str:
    """A server reply fit for a one-line message: first line, no control characters, short."""
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    cleaned = _UNPRINTABLE.sub(" ", first).strip()
    return cleaned if len(cleaned) <= 160 else cleaned[:159] + "…"


# -- the client ------------------------------------------------------------------------------------


@dataclass
class FtpStats:
    """What the client spent: logins, listings and retrievals started (retries included),
    data bytes received, and retries. Updated by one thread (the client's user)."""

    connections: int = 0
    listings: int = 0
    retrievals: int = 0
    bytes: int = 0
    retries: int = 0


class _Pacer:
    """The next allowed start of a network operation: each one reserves a slot, then sleeps."""

    def __init__(
        self, *, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval, self._clock, self._sleep = interval, clock, sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            start = now if self._next is None else max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)


class _OverCap(Exception):
    """Raised inside a transfer callback to stop reading past the size cap."""


class FtpClient:
    """Anonymous FTP to one host; see the module docstring. Not thread-safe: one client per
    poll. Use as a context manager, or call :meth:`close` (it sends ``QUIT``)."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 21,
        user: str = "anonymous",
        password: str = "anonymous@",  # noqa: S107 (anonymous FTP's conventional password)
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_bytes: int = 50 * 1024 * 1024,
        retries: int = 4,
        backoff_factor: float = 0.5,
        min_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utcnow,
        report_to: HttpStats | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.max_bytes = max_bytes
        self.retries, self.backoff_factor = retries, backoff_factor
        self.stats = FtpStats()
        self._sleep, self._now = sleep, now
        self._pacer = _Pacer(interval=min_interval, clock=clock, sleep=sleep)
        self._report_to = report_to
        self._ftp: ftplib.FTP | None = None
        self._mlsd: bool | None = None  # unknown until the server answers MLSD once

    @classmethod
    def for_url(cls, url: str, *, http: HttpClient) -> FtpClient:
        """A client for the host of ``url`` (``ftp://host[:port]``) that is as polite as
        ``http``: the same timeouts, size cap, retries, backoff, minimum interval, clock and
        sleep; it counts into ``http.stats`` too. The anonymous password is the contact
        address of ``http``'s User-Agent, as anonymous FTP asks (RFC 1635)."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme != "ftp" or not parts.hostname or port == -1:
            raise ConfigError(f"{url!r} is not an ftp://host[:port] URL")
        contact = _CONTACT.search(http.user_agent)
        return cls(
            host=parts.hostname,
            port=port or 21,
            password=contact.group(1) if contact else "anonymous@",
            connect_timeout=http.timeout[0],
            read_timeout=http.timeout[1],
            max_bytes=http.max_bytes,
            retries=http.retries,
            backoff_factor=http.backoff_factor,
            min_interval=http.min_interval,
            sleep=http.sleep,
            clock=http.clock,
            report_to=http.stats,
        )

    @property
    def origin(self) -> str:
        """``ftp://host`` (with ``:port`` when it is not 21)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ftp://{host}" if self.port == 21 else f"ftp://{host}:{self.port}"

    def url(self, path: str) -> str:
        """The ``ftp://`` URL of an absolute server path (spaces and the like %-quoted)."""
        return self.origin + quote(path, safe="/")

    # -- public calls ------------------------------------------------------------------------

    def walk(self, folder: str) -> Iterator[FtpFile]:
        """Every file under the absolute path ``folder``, depth first, in name order.

        Each folder is listed completely before anything in it is yielded, so the caller may
        retrieve files between two steps of the walk over the same connection.
        """
        yield from self._walk(folder.rstrip("/") + "/", depth=0)

    def list_folder(self, folder: str) -> list[ListingEntry]:
        """The entries of one folder (absolute path), by ``MLSD`` or else ``LIST``."""
        url = self.url(folder)
        return self._attempt("list", url, lambda ftp: self._list(ftp, folder, url))

    def retrieve(self, path: str, *, listed_size: int | None = None) -> bytes:
        """The bytes of the file at the absolute ``path``.

        ``listed_size`` (from a listing) lets a file past the size cap be refused unread.
        A transfer the server did not confirm complete is retried; one that passes the cap
        raises :class:`ResponseTooLarge`.
        """
        url = self.url(path)
        if listed_size is not None and listed_size > self.max_bytes:
            raise ResponseTooLarge(
                f"{url}: listed size {listed_size} passes the {self.max_bytes}-byte cap", url=url
            )
        return self._attempt("retrieve", url, lambda ftp: self._retrieve(ftp, path, url))

    def close(self) -> None:
        """Say ``QUIT`` and close the connection; the client reconnects if used again."""
        ftp, self._ftp = self._ftp, None
        if ftp is None:
            return
        try:
            ftp.quit()
        except (ftplib.Error, OSError, EOFError):
            ftp.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _walk(self, folder: str, *, depth: int) -> Iterator[FtpFile]:
        if depth > MAX_DEPTH:
            url = self.url(folder)
            raise FetchError(f"{url}: folders nested more than {MAX_DEPTH} deep", url=url)
        for entry in sorted(self.list_folder(folder), key=lambda e: e.name):
            path = posixpath.join(folder, entry.name)
            if entry.is_dir:
                yield from self._walk(path + "/", depth=depth + 1)
            else:
                yield FtpFile(path=path, size=entry.size, modified=entry.modified)

    def _list(self, ftp: ftplib.FTP, folder: str, url: str) -> list[ListingEntry]:
        ftp.cwd(folder)
        if self._mlsd is not False:
            try:
                lines = self._lines(ftp, "MLSD", url)
            except ftplib.error_perm as exc:
                if _reply(exc)[:3] not in _NOT_IMPLEMENTED:
                    raise
                log.info("%s does not implement MLSD (%s); using LIST", self.origin, _reply(exc))
                self._mlsd = False
            else:
                self._mlsd = True
                return self._entries(lines, url, parse_mlsd_line)
        lines = self._lines(ftp, "LIST", url)
        now = self._now().astimezone(UTC).replace(tzinfo=None)
        return self._entries(lines, url, lambda line: parse_list_line(line, now=now))

    @staticmethod
    def _entries(
        lines: list[str], url: str, read: Callable[[str], ListingEntry | None]
    ) -> list[ListingEntry]:
        entries = []
        for line in lines:
            try:
                entry = read(line)
            except ValueError as exc:
                raise ParseError(str(exc), document=url) from None
            if entry is not None:
                entries.append(entry)
        return entries

    def _lines(self, ftp: ftplib.FTP, command: str, url: str) -> list[str]:
        lines: list[str] = []
        self._pacer.wait()
        self.stats.listings += 1
        try:
            ftp.retrlines(command, lines.append)
        except UnicodeDecodeError:
            self._drop()  # the transfer was cut short; its closing reply is still pending
            raise ParseError(f"{command} listing is not {ftp.encoding} text", document=url) \
                from None
        finally:
            self._spent(sum(len(line) + 2 for line in lines))
        log.debug("%s %s -> %d lines", command, url, len(lines))
        return lines

    def _retrieve(self, ftp: ftplib.FTP, path: str, url: str) -> bytes:
        body = bytearray()

        def take(block: bytes) -> None:
            body.extend(block)
            if len(body) > self.max_bytes:
                raise _OverCap

        self._pacer.wait()
        self.stats.retrievals += 1
        try:
            ftp.retrbinary(f"RETR {path}", take, blocksize=CHUNK_SIZE)
        except _OverCap:
            self._drop()  # the server's end-of-transfer reply is still pending
            raise ResponseTooLarge(
                f"{url}: the file passes the {self.max_bytes}-byte cap", url=url
            ) from None
        finally:
            self._spent(len(body))
        log.debug("RETR %s -> %d bytes", url, len(body))
        return bytes(body)

    def _attempt(self, what: str, url: str, operation: Callable[[ftplib.FTP], T]) -> T:
        retried = 0
        while True:
            try:
                return operation(self._connection())
            except ftplib.error_perm as exc:
                # 5xx: asking again will not help; the connection itself is fine.
                raise FetchError(f"cannot {what} {url}: {_reply(exc)}", url=url) from None
            except (ftplib.error_reply, ftplib.error_proto) as exc:
                self._drop()
                raise FetchError(
                    f"cannot {what} {url}: unexpected reply {_reply(exc)}", url=url
                ) from None
            except _TRANSIENT as exc:
                self._drop()
                reason = self._describe(exc)
                if retried >= self.retries:
                    if retried:
                        reason += f" after {retried} {'retry' if retried == 1 else 'retries'}"
                    log.debug("%s %s failed: %s", what, url, reason)
                    raise FetchError(f"cannot {what} {url}: {reason}", url=url) from None
                retried += 1
                self.stats.retries += 1
                log.debug("%s %s: %s; retry %d", what, url, reason, retried)
                backoff = min(BACKOFF_MAX, self.backoff_factor * 2 ** (retried - 1))
                if backoff > 0:
                    self._sleep(backoff)

    def _connection(self) -> ftplib.FTP:
        if self._ftp is not None:
            return self._ftp
        self._pacer.wait()
        self.stats.connections += 1
        self._spent(0)
        # Plain FTP is what the legislature serves: public documents, anonymous, read-only.
        ftp = ftplib.FTP(timeout=self.connect_timeout)  # noqa: S321
        try:
            ftp.connect(self.host, self.port, timeout=self.connect_timeout)
            # Replies and data connections from here on get the read timeout.
            if ftp.sock is not None:
                ftp.sock.settimeout(self.read_timeout)
            ftp.timeout = self.read_timeout
            ftp.login(self.user, self.password)
            ftp.set_pasv(True)
        except BaseException:
            ftp.close()
            raise
        self._ftp = ftp
        return ftp

    def _drop(self) -> None:
        """Forget a connection in an unknown state (no QUIT: it may not answer)."""
        ftp, self._ftp = self._ftp, None
        if ftp is not None:
            ftp.close()

    def _spent(self, received: int) -> None:
        """Count one operation on the wire and the data bytes it received."""
        self.stats.bytes += received
        if self._report_to is not None:
            self._report_to.add(HttpStats(requests=1, bytes=received))

    def _describe(self, exc: BaseException) -> str:
        """A short reason for a transient failure (never a traceback)."""
        if isinstance(exc, ftplib.error_temp):
            return _reply(exc)
        if isinstance(exc, EOFError):
            return "the server closed the connection"
        if isinstance(exc, TimeoutError):
            return (f"timed out (connect timeout {self.connect_timeout:g}s, "
                    f"read timeout {self.read_timeout:g}s)")
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(exc, socket.gaierror):
            return "host name could not be resolved"
        if isinstance(exc, OSError) and exc.strerror:
            return exc.strerror
        return type(exc).__name__
