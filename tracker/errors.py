"""The tracker's one exception tree. Every error names what failed (file, key, source, URL, bill).

::

    TrackerError                     root; the CLI prints ``str(error)`` on one line, exit code 1
    ├── ConfigError                  a config file, key or value is wrong (names file and key)
    ├── InvalidBillKey(ValueError)   a bill key or identifier cannot be read
    ├── StorageError                 the database cannot be reached or migrated
    ├── FetchError                   a document could not be fetched (names the URL)
    │   ├── HttpStatusError          an unexpected HTTP status after retries
    │   ├── ResponseTooLarge         the body passed the size cap
    │   └── RateLimited              the server asked us to wait longer than we will sleep
    ├── ParseError(ValueError)       a document is malformed or of an unexpected shape
    ├── SourceError                  a source failed as a whole (index unreachable, empty result)
    ├── InvalidSubscription(ValueError)  a subscriber or subscription value cannot be used
    └── DigestConflict               a digest's deliveries were queued by someone else meanwhile

Catch ``TrackerError`` at the edges; catch the narrow classes where a caller can recover
(one bad bill never stops the others).
"""

from __future__ import annotations

from datetime import datetime


class TrackerError(Exception):
    """Root of every error the tracker raises on purpose."""


class ConfigError(TrackerError):
    """A configuration file, key or value is wrong."""


class InvalidBillKey(TrackerError, ValueError):
    """A bill key or identifier cannot be read."""


class StorageError(TrackerError):
    """The database cannot be reached, opened or migrated."""


class FetchError(TrackerError):
    """A document could not be fetched."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class HttpStatusError(FetchError):
    """The server answered with a status we cannot use (after retries)."""

    def __init__(self, message: str, *, url: str, status: int) -> None:
        super().__init__(message, url=url)
        self.status = status


class ResponseTooLarge(FetchError):
    """The response body passed the configured size cap."""


class RateLimited(FetchError):
    """The server asked us to come back later than we are willing to sleep."""

    def __init__(self, message: str, *, url: str, not_before: datetime) -> None:
        super().__init__(message, url=url)
        self.not_before = not_before


class ParseError(TrackerError, ValueError):
    """A document is malformed or not of the shape the parser expects."""

    def __init__(self, message: str, *, document: str) -> None:
        super().__init__(f"{document}: {message}")
        self.document = document


class SourceError(TrackerError):
    """A source failed as a whole: its index could not be read, or it returned nothing."""

    def __init__(self, message: str, *, source: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class InvalidSubscription(TrackerError, ValueError):
    """A subscriber or subscription value cannot be used: a malformed address, an unknown
    topic, bill or jurisdiction, a timezone zoneinfo does not know (the message names it)."""


class DigestConflict(TrackerError):
    """Marking a digest queued found some of its deliveries (or its welcome) taken already:
    another process queued them. The caller rolls its transaction back; nothing is sent twice."""
