"""The one interface both mail transports implement, and what a failed send means.

A :class:`Transport` opens a :class:`Connection` for a batch (``with transport.connect() as
connection``); ``connection.send(outgoing)`` delivers one message and returns a one-line
detail (the server's acceptance, or the ``.eml`` path). Failures are classified so the outbox
knows what to do:

* :class:`TemporaryFailure`: a 4xx reply, a dropped connection, a timeout: try again later;
  ``connection_lost`` says the connection is gone (the next send reconnects);
* :class:`PermanentFailure`: a 5xx reply for this message or recipient: do not retry it;
* :class:`TransportUnavailable`: no message can be sent now (cannot connect, TLS or login
  refused, outbox folder not writable): leave the rest of the batch for later.

Messages are one line and name the server or path; they never contain a password.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tracker.errors import TrackerError


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered message from the outbox, as a transport sends it."""

    digest_key: str
    message_id: str
    sender: str
    recipient: str
    raw: bytes
    created_at: datetime


class DeliveryError(TrackerError):
    """A message could not be delivered now."""


class TemporaryFailure(DeliveryError):
    def __init__(self, message: str, *, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost


class PermanentFailure(DeliveryError):
    """The server refused this message or recipient for good (5xx)."""


class TransportUnavailable(DeliveryError):
    """Nothing can be sent now; the batch stays queued."""


class Connection(Protocol):
    def send(self, message: Outgoing) -> str:
        """Deliver one message; returns a one-line detail. Raises a DeliveryError."""
        ...


class Transport(Protocol):
    """A way out for messages: SMTP (:mod:`notifiers.smtp`) or files (:mod:`notifiers.files`)."""

    @property
    def description(self) -> str:
        """Where messages go, for reports (``smtp://host:587 (starttls)``, a folder)."""
        ...

    def connect(self) -> AbstractContextManager[Connection]: ...


def one_line(text: object) -> str:
    """An error text on one line (server replies may span several)."""
    return " ".join(str(text).split())

