"""What the keyed JSON API sources (``legiscan``, ``us-congress``, ``openstates``) share.

* :func:`api_key` finds a source's key in the environment (``key_env`` of its table in
  sources.toml, else the names its :class:`~tracker.source.SourceInfo` declares) and fails
  the poll with the same one line ``tracker sources`` shows when none is set. A key is never
  logged or stored: sources pass it as a header or through ``params=`` (which
  ``tracker.http`` keeps out of ``HttpResult.url`` and masks in messages).
* :func:`pace_real_origin` applies an API's published rate limit when the source polls the
  real site (a configured mirror or a test server is paced by the ``[http]`` default).
* :class:`MonthlyBudget` stops a metered source before its monthly quota, counting every
  request (retries included) in the database through the context's ledger.
* :func:`json_object`, :func:`parse_day` and :func:`parse_instant` read untrusted JSON with
  one-line :class:`~tracker.errors.ParseError` messages naming the document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from tracker.errors import ParseError, SourceError
from tracker.http import HttpClient, HttpResult, HttpStats
from tracker.source import QueryLedger, SourceContext, SourceInfo

#: What an API key may hold: visible ASCII only, so it can never split a header or a URL.
_KEY = re.compile(r"^[\x21-\x7e]+$")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:$|[T ])")


def api_key(context: SourceContext, info: SourceInfo) -> str:
    """The source's API key, or :class:`SourceError` saying which variable to set."""
    environ = context.environ
    key = context.settings.key(environ) or next(
        (environ[name] for name in info.key_env if environ.get(name)), None
    )
    names = context.settings.key_env or info.key_env
    if not key or not key.strip():
        raise SourceError(f"disabled: no API key; set {' or '.join(names)}", source=info.name)
    key = key.strip()
    if not _KEY.match(key):
        # Never echo the value: it is a secret, and it may hold what breaks a terminal.
        raise SourceError(
            f"the API key in {' or '.join(names)} holds spaces or control characters",
            source=info.name,
        )
    return key


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def pace_real_origin(
    context: SourceContext, *, default_origin: str, seconds: float
) -> None:
    """Space requests to the real upstream host ``seconds`` apart (its published limit)."""
    origin = context.settings.base_url or default_origin
    if host_of(origin) == host_of(default_origin):
        context.http.set_min_interval(host_of(default_origin), seconds)


class MonthlyBudget:
    """``quota`` requests a calendar month (UTC), of which the last ``margin`` are never spent
    (other tools may share the key, and the upstream count may run ahead of ours)."""

    def __init__(
        self, *, source: str, ledger: QueryLedger | None, quota: int, margin: int
    ) -> None:
        self.source, self.quota, self.margin = source, quota, margin
        self._ledger = ledger

    @property
    def limit(self) -> int:
        return max(self.quota - self.margin, 0)

    def check(self) -> None:
        """SourceError when the next request would pass the limit."""
        ledger = self._require()
        usage = ledger.usage()
        if usage.used + 1 > self.limit:
            raise SourceError(
                f"monthly query budget reached ({usage.used:,} of {self.quota:,} used); "
                f"next poll after {usage.next_month:%Y-%m-%d}",
                source=self.source,
            )

    def share(self, *, interval: timedelta) -> int:
        """Requests one poll may spend: an even share of what is left of this month's limit
        over the polls left in the month at ``interval`` (a first poll of a big session is
        spread over days instead of spending the month at once)."""
        usage = self._require().usage()
        remaining = max(self.limit - usage.used, 0)
        month_end = datetime(usage.next_month.year, usage.next_month.month, 1, tzinfo=UTC)
        polls_left = max(1, math.ceil((month_end - usage.as_of) / interval))
        return -(-remaining // polls_left)

    def get(
        self, http: HttpClient, url: str, *, params: Mapping[str, str]
    ) -> HttpResult:
        """``http.get`` within the budget; what it cost is counted even when it fails."""
        self.check()
        meter: HttpStats | None = None
        try:
            with http.measure() as meter:
                return http.get(url, params=params)
        finally:
            if meter is not None and meter.requests:
                self._require().spend(meter.requests)

    def _require(self) -> QueryLedger:
        if self._ledger is None:
            raise SourceError(
                "no query ledger to count requests in (poll it through the pipeline)",
                source=self.source,
            )
        return self._ledger


def json_object(body: bytes, *, document: str) -> dict[str, Any]:
    """``body`` as a JSON object; ParseError naming ``document`` for anything else."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError:
        raise ParseError("not JSON (not UTF-8 text)", document=document) from None
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", document=document
        ) from None
    except RecursionError:
        # The decoder recurses per level: a hostile [[[[...]]]] must not crash the poll.
        raise ParseError("JSON nested too deeply", document=document) from None
    if not isinstance(data, dict):
        raise ParseError(
            f"expected a JSON object, got {type(data).__name__}", document=document
        )
    return data


def mapping(value: Any, *, document: str, what: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object; ParseError naming the document and field."""
    if not isinstance(value, dict):
        raise ParseError(f"{what}: expected an object, got {_kind(value)}", document=document)
    return value


def items(value: Any, *, document: str, what: str) -> list[Mapping[str, Any]]:
    """``value`` when it is a list of JSON objects (``None`` reads as empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ParseError(f"{what}: expected a list of objects, got {_kind(value)}",
                         document=document)
    return value


def text(value: Any) -> str:
    """A JSON scalar as stripped text ("" for null and for objects or lists)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def parse_day(value: Any, *, document: str, what: str) -> date:
    """``"2021-01-05"`` or ``"2021-01-05T05:00:00Z"`` -> ``date(2021, 1, 5)``."""
    raw = text(value)
    match = _DAY.match(raw)
    try:
        if match is None:
            raise ValueError(raw)
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise ParseError(f"{what}: not a date: {raw[:40]!r}", document=document) from None


def parse_instant(value: Any, *, document: str, what: str) -> datetime:
    """An ISO 8601 date or date-time -> aware UTC datetime (a bare date is its midnight UTC,
    a time without offset is UTC)."""
    raw = text(value)
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"{what}: not a date-time: {raw[:40]!r}", document=document) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
