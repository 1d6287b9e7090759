"""The SMTP transport: ``smtplib`` with a timeout, STARTTLS or implicit TLS, and AUTH.

Configured from ``TRACKER_SMTP_HOST``, ``TRACKER_SMTP_PORT``, ``TRACKER_SMTP_TLS`` (``none``,
``starttls``: plain connect then ``STARTTLS``, usually port 587; ``ssl``: TLS from the first
byte, usually port 465), ``TRACKER_SMTP_USER`` and ``TRACKER_SMTP_PASSWORD`` (login only when a
user is set). TLS uses ``ssl.create_default_context()`` (certificate and host name checked)
unless a context is given (tests pass one trusting a throwaway CA).

One connection serves a batch; it is opened on the first send and reopened on the next send
after the server dropped it, so a connection lost mid-batch costs only the message in flight
(retried later by the outbox). Replies map onto :mod:`notifiers.transport`: 4xx, a dropped
connection or a timeout -> TemporaryFailure; 5xx for a recipient or a message ->
PermanentFailure; no connection, TLS or login refused, or a 5xx to our sender (``MAIL FROM``:
a relay refusing us, a login it requires) -> TransportUnavailable, since every message would
meet it: they stay queued until the configuration is fixed. The EHLO name is the domain of
the sender address, so no DNS lookup of the local host name is needed.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from notifiers.transport import (
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    TransportUnavailable,
    one_line,
)
from tracker.settings import MailSettings

DEFAULT_TIMEOUT = 30.0
TLS_MODES = ("none", "starttls", "ssl")


_LINE_END = re.compile(rb"\r\n|\r|\n")


def crlf(raw: bytes) -> bytes:
    """``raw`` with CRLF line ends only. smtplib fixes line ends of str messages, not of bytes,
    and servers guarding against SMTP smuggling refuse a bare LF; a message built with the
    default email policy (LF) is sent correctly all the same."""
    # Digests are written with CRLF already: three counts (C speed) spare them the
    # substitution, which cost a quarter of a millisecond on a 30 KB message.
    pairs = raw.count(b"\r\n")
    if pairs == raw.count(b"\n") and pairs == raw.count(b"\r"):
        return raw
    return _LINE_END.sub(b"\r\n", raw)


def _reply(code: int, text: bytes | str) -> str:
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return one_line(f"{code} {decoded}")


class SmtpTransport:
    """Sends through one SMTP server; see the module docstring."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str = "none",
        user: str | None = None,
        password: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        helo: str | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        self.host, self.port, self.tls = host, port, tls
        self.user, self._password = user, password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.helo = helo

    @classmethod
    def from_settings(
        cls, mail: MailSettings, *, ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> SmtpTransport:
        if not mail.smtp_host:
            raise ValueError("TRACKER_SMTP_HOST is not set")
        return cls(
            host=mail.smtp_host, port=mail.smtp_port, tls=mail.smtp_tls, user=mail.smtp_user,
            password=mail.smtp_password, timeout=timeout, ssl_context=ssl_context,
            helo=mail.mail_from.rpartition("@")[2] or None,
        )

    @property
    def where(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def description(self) -> str:
        login = f", user {self.user}" if self.user else ""
        return f"{self.where} ({self.tls}{login})"

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        connection = SmtpConnection(self)
        try:
            yield connection
        finally:
            connection.close()

    def open(self) -> smtplib.SMTP:
        """A connected, secured and logged-in client; TransportUnavailable otherwise."""
        context: ssl.SSLContext | None = None
        if self.tls != "none":
            # Built only when used: the default context reads the system's CA store (tens of
            # milliseconds, once per connection).
            context = self.ssl_context or ssl.create_default_context()
        client: smtplib.SMTP | None = None
        step = "connect"
        try:
            if self.tls == "ssl":
                client = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo,
                                          timeout=self.timeout, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, local_hostname=self.helo,
                                      timeout=self.timeout)
                if self.tls == "starttls":
                    step = "STARTTLS"
                    client.ehlo()
                    client.starttls(context=context)
                    client.ehlo()
            if self.user:
                step = f"login as {self.user}"
                client.login(self.user, self._password or "")
            return client
        except smtplib.SMTPNotSupportedError as exc:
            self._discard(client)
            raise TransportUnavailable(f"{self.where}: {step} not offered by the server: "
                                       f"{one_line(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            self._discard(client)
            raise TransportUnavailable(f"{self.where}: {step} refused: "
                                       f"{_reply(exc.smtp_code, exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            self._discard(client)
            reason = one_line(exc) or type(exc).__name__
            raise TransportUnavailable(f"{self.where}: {step} failed: {reason}") from None

    @staticmethod
    def _discard(client: smtplib.SMTP | None) -> None:
        if client is not None:
            with suppress(OSError, smtplib.SMTPException):
                client.close()


class SmtpConnection:
    """One batch's connection: opened lazily, reopened after a drop, closed at the end."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self._client: smtplib.SMTP | None = None

    def send(self, message: Outgoing) -> str:
        if self._client is None:
            self._client = self.transport.open()
        where = self.transport.where
        try:
            self._client.sendmail(message.sender, [message.recipient], crlf(message.raw))
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(message.recipient, (550, b"recipient refused"))
            failure = PermanentFailure if code >= 500 else TemporaryFailure
            raise failure(f"{where} refused recipient {message.recipient}: {_reply(code, text)}"
                          ) from None
        except smtplib.SMTPSenderRefused as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                # Our sender (or missing login) is refused: every message would be. Keep them.
                self._drop()
                raise TransportUnavailable(
                    f"{where} refused the sender {message.sender}: {reply}"
                ) from None
            raise TemporaryFailure(f"{where} deferred the sender {message.sender}: {reply}",
                                   connection_lost=exc.smtp_code == 421) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise TemporaryFailure(f"{where}: connection dropped: {one_line(exc)}",
                                   connection_lost=True) from None
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"{where} refused the message: {reply}") from None
            lost = exc.smtp_code == 421  # "service closing transmission channel"
            if lost:
                self._drop()
            raise TemporaryFailure(f"{where} deferred the message: {reply}",
                                   connection_lost=lost) from None
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, resets
            self._drop()
            reason = one_line(exc) or type(exc).__name__
            raise TemporaryFailure(f"{where}: sending failed: {reason}",
                                   connection_lost=True) from None
        return f"accepted by {where}"

    def _drop(self) -> None:
        client, self._client = self._client, None
        SmtpTransport._discard(client)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with suppress(OSError, smtplib.SMTPException):
            client.quit()
        SmtpTransport._discard(client)
