"""The only HTTP client: every source fetches through :class:`HttpClient`.

What it does for each request, so that no source has to:

* one ``requests.Session`` per host, created on first use, with urllib3 ``Retry`` on connect and
  read errors and on 429/500/502/503/504 (GET and HEAD only; a POST is never retried on status);
* explicit ``(connect, read)`` timeouts on every call;
* a per-host minimum interval between request starts (clock and sleep are injected);
* conditional GET from stored :class:`~tracker.records.Validators` (``If-None-Match``,
  ``If-Modified-Since``), and "unchanged" when the body hashes as before;
* a body size cap checked on ``Content-Length`` and while streaming (which bounds decompressed
  size too), and truncated bodies refused;
* an honest User-Agent, one debug log line per request, and request/byte counters.

Failures are raised as the :class:`~tracker.errors.FetchError` family with one-line messages
naming the URL; query parameters that look like secrets (``key``, ``api_key``, ``token`` ...)
are masked in every message and log line.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from tracker.errors import FetchError, HttpStatusError, RateLimited, ResponseTooLarge
from tracker.records import Validators
from tracker.settings import HttpSettings

log = logging.getLogger("tracker.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RATE_LIMIT_STATUSES = frozenset({429, 503})
CHUNK_SIZE = 64 * 1024
_SECRET_PARAM = re.compile(
    r"^(?:.*[_-])?(?:api[_-]?key|apikey|key|token|access[_-]?token|secret|password|signature)$",
    re.IGNORECASE,
)
# The same names inside free text (exception strings), as a last line of defence.
_SECRET_IN_TEXT = re.compile(
    r"(?i)\b((?:[a-z0-9]+[_-])?(?:api[_-]?key|apikey|key|token|secret|password|signature))"
    r"=[^&\s'\"]+"
)
MASK = "***"


def redact_url(url: str) -> str:
    """``url`` with the values of secret-looking query parameters replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _SECRET_IN_TEXT.sub(rf"\1={MASK}", url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    masked = [(name, MASK if _SECRET_PARAM.match(name) else value) for name, value in pairs]
    # Keep "***" readable instead of percent-encoding it.
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*")))


def _redact_text(text: str) -> str:
    return _SECRET_IN_TEXT.sub(rf"\1={MASK}", text)


class _RedactSecrets(logging.Filter):
    """Masks secret-looking query values in urllib3's own log lines (it logs request paths,
    e.g. "Retrying ... /api?api_key=..."), so a DEBUG or WARNING log never holds a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _redact_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


# Filters on a logger see only records logged on that very logger, hence each module's logger.
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager",
    "urllib3.response", "urllib3.util.retry",
)  # fmt: skip
_REDACTOR = _RedactSecrets()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_REDACTOR)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True, slots=True)
class HttpResult:
    """One successful fetch.

    ``url`` is the URL asked for (the ``url`` argument, without ``params`` folded in, so an API
    key passed as a parameter never ends up in stored state). ``status`` is the final status:
    a 2xx, or 304 when the server confirmed our validators. ``unchanged`` is true on a 304 and
    on a 2xx whose body hashes like ``previous.sha256``. ``validators`` describe this body
    (on a 304 they are ``previous``'s); ``lastmod`` is always copied from ``previous``.
    """

    url: str
    status: int
    body: bytes
    unchanged: bool
    validators: Validators
    headers: Mapping[str, str]


@dataclass
class HttpStats:
    """Counters of what requests cost: attempts on the wire (retries included), body bytes
    received on the wire (before decompression) and 304 answers. Safe to update from threads.

    Use :meth:`snapshot` and subtraction for a delta, or :meth:`HttpClient.measure` to count
    only what one thread (one poll) did while other polls share the client.
    """

    requests: int = 0
    bytes: int = 0
    not_modified: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, other: HttpStats) -> None:
        with self._lock:
            self.requests += other.requests
            self.bytes += other.bytes
            self.not_modified += other.not_modified

    def snapshot(self) -> HttpStats:
        """A consistent copy of the counters."""
        with self._lock:
            return HttpStats(self.requests, self.bytes, self.not_modified)

    def reset(self) -> HttpStats:
        """Zero the counters and return what they held."""
        with self._lock:
            held = HttpStats(self.requests, self.bytes, self.not_modified)
            self.requests = self.bytes = self.not_modified = 0
            return held

    def __sub__(self, earlier: HttpStats) -> HttpStats:
        now, then = self.snapshot(), earlier.snapshot()
        return HttpStats(
            requests=now.requests - then.requests,
            bytes=now.bytes - then.bytes,
            not_modified=now.not_modified - then.not_modified,
        )


class _Pacer:
    """Per-host "next allowed start" times: each request reserves a slot, then sleeps to it."""

    def __init__(
        self, *, interval: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval = interval
        self._overrides: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()

    def set_interval(self, host: str, seconds: float) -> None:
        with self._lock:
            self._overrides[host.lower()] = seconds

    def wait(self, host: str) -> None:
        # Reserve under the lock, sleep outside it: concurrent callers queue up one interval
        # apart instead of all waking at once.
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self._overrides.get(host, self._interval)
        if start > now:
            self._sleep(start - now)


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (delta-seconds or an HTTP date), uncapped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _PoliteRetry(Retry):
    """urllib3 ``Retry`` that sleeps through the injected sleep, reports each retry, and gives
    up at once when ``Retry-After`` asks for longer than ``retry_after_max``: sleeping the
    capped time and asking again would only spend the thread and the server's patience.
    """

    # Set by HttpClient on the template and carried to each copy by new().
    sleeper: Callable[[float], None] = time.sleep
    on_retry: Callable[[], None] | None = None
    wait_cap: float = math.inf

    def new(self, **kw: Any) -> Self:
        fresh = super().new(**kw)
        fresh.sleeper = self.sleeper
        fresh.on_retry = self.on_retry
        fresh.wait_cap = self.wait_cap
        return fresh

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None:
            wanted = _retry_after_seconds(response.headers.get("Retry-After"))
            if wanted is not None and wanted > self.wait_cap:
                # With raise_on_status=False urllib3 hands back this response unretried.
                reason = ResponseError(f"Retry-After {wanted:.0f}s exceeds the cap")
                raise MaxRetryError(_pool, url, reason)  # type: ignore[arg-type]
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.on_retry is not None:
            self.on_retry()  # only now is another attempt certain
        return fresh

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.respect_retry_after_header and response is not None:
            wanted = self.get_retry_after(response)
            if wanted:
                self.sleeper(wanted)
                return
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.sleeper(backoff)


@dataclass
class _Call:
    """What one get/post costs, gathered while it runs (retries arrive via a thread-local)."""

    method: str
    url: str
    retries: int = 0
    hops: int = 1
    wire_bytes: int = 0
    status: int | None = None
    started: float = field(default_factory=time.perf_counter)

    def cost(self) -> HttpStats:
        return HttpStats(
            requests=self.hops + self.retries,
            bytes=self.wire_bytes,
            not_modified=int(self.status == 304),
        )


class HttpClient:
    """The shared, thread-safe HTTP client; see the module docstring for what it guarantees.

    ``sleep`` and ``clock`` pace requests (and urllib3's backoff sleeps go through ``sleep``
    too), so tests never sleep for real.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_bytes: int = 50 * 1024 * 1024,
        retries: int = 4,
        retry_after_max: float = 120.0,
        min_interval: float = 1.0,
        backoff_factor: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = (connect_timeout, read_timeout)
        self.max_bytes = max_bytes
        self.retry_after_max = retry_after_max
        # Read by tracker.ftp, so an FTP source is polled as politely (and tests never sleep).
        self.retries, self.backoff_factor, self.min_interval = retries, backoff_factor, min_interval
        self.sleep, self.clock = sleep, clock
        self.stats = HttpStats()
        self._retry = self._make_retry(retries=retries, backoff_factor=backoff_factor, sleep=sleep)
        self._pacer = _Pacer(interval=min_interval, clock=clock, sleep=sleep)
        self._sessions: dict[str, requests.Session] = {}
        self._sessions_lock = threading.Lock()
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: HttpSettings) -> HttpClient:
        """A client configured from the ``[http]`` table of tracker.toml."""
        return cls(
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            max_bytes=settings.max_bytes,
            retries=settings.retries,
            retry_after_max=settings.retry_after_max,
            min_interval=settings.min_interval,
        )

    # -- public calls -------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        previous: Validators | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        """Fetch ``url``, conditionally when ``previous`` holds validators.

        Raises :class:`RateLimited` when the server asks to wait longer than
        ``retry_after_max``, :class:`HttpStatusError` for any other status but 2xx/304 after
        retries, :class:`ResponseTooLarge` past ``max_bytes`` and :class:`FetchError` for
        connection failures, timeouts and truncated bodies.
        """
        sent = {**_conditional_headers(previous), **(headers or {})}
        return self._request("GET", url, previous=previous, params=params, headers=sent)

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResult:
        """POST and read the answer like :meth:`get`; never retried on status."""
        return self._request("POST", url, headers=dict(headers or {}), json=json, data=data)

    def set_min_interval(self, host: str, seconds: float) -> None:
        """Override the minimum interval between request starts for one host name."""
        self._pacer.set_interval(host, seconds)

    @contextmanager
    def measure(self) -> Iterator[HttpStats]:
        """Count what the calling thread fetches inside the block (one poll's cost)."""
        meter = HttpStats()
        meters = self._meters()
        meters.append(meter)
        try:
            yield meter
        finally:
            meters.remove(meter)

    def close(self) -> None:
        """Close every session; the client may be used again afterwards (new sessions)."""
        with self._sessions_lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _make_retry(
        self, *, retries: int, backoff_factor: float, sleep: Callable[[float], None]
    ) -> _PoliteRetry:
        retry = _PoliteRetry(
            total=retries,
            connect=retries,
            read=min(retries, 2),
            status=retries,
            backoff_factor=backoff_factor,
            backoff_jitter=0.25 if backoff_factor else 0.0,
            backoff_max=60,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            retry_after_max=math.ceil(self.retry_after_max),
            raise_on_status=False,
        )
        retry.sleeper = sleep
        retry.on_retry = self._count_retry
        retry.wait_cap = self.retry_after_max
        return retry

    def _session(self, host: str) -> requests.Session:
        with self._sessions_lock:
            session = self._sessions.get(host)
            if session is None:
                session = requests.Session()
                adapter = HTTPAdapter(max_retries=self._retry)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers.update(
                    {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
                )
                self._sessions[host] = session
            return session

    def _meters(self) -> list[HttpStats]:
        meters: list[HttpStats] | None = getattr(self._local, "meters", None)
        if meters is None:
            meters = self._local.meters = []
        return meters

    def _count_retry(self) -> None:
        call: _Call | None = getattr(self._local, "call", None)
        if call is not None:
            call.retries += 1

    def _request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        previous: Validators | None = None,
        **kwargs: Any,
    ) -> HttpResult:
        host = _host(url)
        self._pacer.wait(host)
        call = _Call(method=method, url=url)
        self._local.call = call
        try:
            result = self._exchange(self._session(host), call, headers, previous, kwargs)
        except FetchError as exc:
            self._log(call, f"failed: {exc}")
            raise
        finally:
            self._local.call = None
            self._record(call.cost())
        self._log(call, f"{result.status}, {len(result.body)} bytes")
        return result

    def _exchange(
        self,
        session: requests.Session,
        call: _Call,
        headers: dict[str, str],
        previous: Validators | None,
        kwargs: dict[str, Any],
    ) -> HttpResult:
        try:
            response = session.request(
                call.method, call.url, headers=headers, timeout=self.timeout, stream=True, **kwargs
            )
        except requests.RequestException as exc:
            raise self._failure(call, exc, reading=False) from None
        with response:
            call.hops = 1 + len(response.history)
            call.status = response.status_code
            self._check_status(call, response)
            body = b"" if response.status_code == 304 else self._read_body(call, response)
        return _result(call.url, response, body, previous)

    def _check_status(self, call: _Call, response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300 or status == 304:
            return
        where = redact_url(call.url)
        phrase = response.reason or _phrase(status)
        wanted = _retry_after_seconds(response.headers.get("Retry-After"))
        if status in RATE_LIMIT_STATUSES and wanted is not None and wanted > self.retry_after_max:
            not_before = datetime.now(UTC) + timedelta(seconds=wanted)
            raise RateLimited(
                f"{status} {phrase} from {where}: asked to wait {wanted:.0f}s "
                f"(until {not_before:%Y-%m-%dT%H:%M:%SZ}), more than the "
                f"{self.retry_after_max:g}s we wait",
                url=call.url,
                not_before=not_before,
            )
        raise HttpStatusError(
            f"{status} {phrase} from {where} after {_plural(call.retries, 'retry', 'retries')}",
            url=call.url,
            status=status,
        )

    def _read_body(self, call: _Call, response: requests.Response) -> bytes:
        declared = _content_length(response)
        if declared is not None and declared > self.max_bytes:
            raise self._too_large(call, f"Content-Length {declared}")
        body = bytearray()
        # A body shorter than its Content-Length never gets past this loop: urllib3 2 enforces
        # the length by default (IncompleteRead -> ProtocolError -> requests'
        # ChunkedEncodingError), which _failure reports as a truncated body.
        try:
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large(call, "the body")
        except requests.RequestException as exc:
            call.wire_bytes = response.raw.tell()
            raise self._failure(call, exc, reading=True) from None
        call.wire_bytes = response.raw.tell()
        return bytes(body)

    def _too_large(self, call: _Call, what: str) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"{redact_url(call.url)}: {what} passes the {self.max_bytes}-byte cap", url=call.url
        )

    def _failure(self, call: _Call, exc: BaseException, *, reading: bool) -> FetchError:
        reason = _describe(exc, timeout=self.timeout, reading=reading)
        retried = f" after {_plural(call.retries, 'retry', 'retries')}" if call.retries else ""
        message = _redact_text(f"cannot fetch {redact_url(call.url)}: {reason}{retried}")
        return FetchError(message, url=call.url)

    def _record(self, cost: HttpStats) -> None:
        self.stats.add(cost)
        for meter in self._meters():
            meter.add(cost)

    def _log(self, call: _Call, outcome: str) -> None:
        elapsed_ms = (time.perf_counter() - call.started) * 1000
        log.debug(
            "%s %s -> %s (%d wire bytes, %d retries, %.0f ms)",
            call.method,
            redact_url(call.url),
            outcome,
            call.wire_bytes,
            call.retries,
            elapsed_ms,
        )


# -- pure helpers ---------------------------------------------------------------------------


def _conditional_headers(previous: Validators | None) -> dict[str, str]:
    sent: dict[str, str] = {}
    if previous is not None and previous.etag:
        sent["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        sent["If-Modified-Since"] = previous.last_modified
    return sent


def _result(
    url: str, response: requests.Response, body: bytes, previous: Validators | None
) -> HttpResult:
    headers = CaseInsensitiveDict(response.headers)  # a copy, still looked up in any case
    etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    if response.status_code == 304:
        # A 304 may carry refreshed validators (RFC 9111 4.3.4); keep the stored hash.
        base = previous or Validators()
        validators = replace(
            base, etag=etag or base.etag, last_modified=last_modified or base.last_modified
        )
        return HttpResult(url, 304, b"", True, validators, headers)
    sha256 = hashlib.sha256(body).hexdigest()
    validators = Validators(
        etag=etag,
        last_modified=last_modified,
        sha256=sha256,
        lastmod=previous.lastmod if previous else None,
    )
    unchanged = previous is not None and previous.sha256 == sha256
    return HttpResult(url, response.status_code, body, unchanged, validators, headers)


def _content_length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (args, ``reason``, cause, context)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, getattr(current, "reason", None)]
        linked += [current.__cause__, current.__context__]
        todo.extend(item for item in linked if isinstance(item, BaseException))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(link, kind) for link in _chain(exc))


def _strerror(exc: BaseException) -> str | None:
    """The operating system's words for the failure (e.g. "Connection refused"), if any."""
    for link in _chain(exc):
        if isinstance(link, OSError) and link.strerror:
            return link.strerror
    return None


def _describe(exc: BaseException, *, timeout: tuple[float, float], reading: bool) -> str:
    """A short, secret-free reason for a transport failure (never the raw exception text)."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"connect timed out after {timeout[0]:g}s"
    if isinstance(exc, requests.ReadTimeout) or _caused_by(exc, ReadTimeoutError):
        return f"read timed out after {timeout[1]:g}s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "the compressed body could not be decoded"
    if reading and (
        isinstance(exc, requests.exceptions.ChunkedEncodingError) or _caused_by(exc, ProtocolError)
    ):
        return "body truncated (the connection closed before the whole body arrived)"
    if _caused_by(exc, NameResolutionError):
        return "host name could not be resolved"
    if _caused_by(exc, NewConnectionError):
        return f"cannot connect ({_strerror(exc) or 'no connection'})"
    if _caused_by(exc, ProtocolError):
        return "the connection closed before a response arrived"
    return type(exc).__name__


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "(unknown status)"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
