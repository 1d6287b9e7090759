"""Route, build, render, queue and send: the digest service the CLI and scheduler call.

:func:`send_digests` runs the whole chain once:

1. route new events to subscribers (``tracker.routing.route_new_events``);
2. build every digest due now (``tracker.digest.due_digests``);
3. for each: sign its links, render it in the recipient's language, build the message and
   queue it together with marking its deliveries (``tracker.digest.mark_queued``); a digest
   that cannot be rendered is reported and its deliveries stay pending for the next run; one
   whose deliveries another process queued meanwhile (DigestConflict) is skipped. Digests
   are rendered and queued :data:`QUEUE_PAGE` at a time, each page in one transaction
   (``notifiers.outbox.enqueue_page``);
4. send what is due in the outbox (also messages queued by earlier runs).

The transport is SMTP when ``TRACKER_SMTP_HOST`` is set, else ``.eml`` files in
``TRACKER_OUTBOX_DIR`` (the embedded default). The routing and building functions can be
passed in (tests, alternative builders).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifiers.email import BuiltMessage, build_message
from notifiers.files import FilesTransport
from notifiers.links import links_for
from notifiers.outbox import (
    MarkQueued,
    Queued,
    RetryPolicy,
    SendReport,
    enqueue_page,
    send_pending,
)
from notifiers.render import Rendered, render
from notifiers.smtp import SmtpTransport
from notifiers.transport import Transport
from tracker.digest import Digest, DigestKind, due_digests, mark_queued, preview_digest
from tracker.errors import DigestConflict, TrackerError
from tracker.routing import route_new_events
from tracker.settings import MailSettings, Settings
from tracker.storage.repository import Repository
from tracker.tokens import signing_key

RouteFunction = Callable[..., Any]
DueFunction = Callable[..., list[Digest]]
PreviewFunction = Callable[..., Digest | None]

#: Digests rendered, then queued in one transaction: one commit per page, not per digest,
#: and a page's write lock is held only for its inserts (rendering is done before).
QUEUE_PAGE = 100


@dataclass(frozen=True, slots=True)
class QueuedDigest:
    digest_key: str
    recipient: str
    subject: str
    new: bool  # False: this digest key was queued by an earlier run


@dataclass
class DeliveryReport:
    routing: Any = None
    queued: list[QueuedDigest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    send: SendReport | None = None

    @property
    def ok(self) -> bool:
        """Everything due was queued and everything queued was sent."""
        return not self.problems and (self.send is None or self.send.all_sent)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def transport_for(mail: MailSettings) -> Transport:
    """SMTP when ``TRACKER_SMTP_HOST`` is set, else ``.eml`` files in the outbox folder."""
    if mail.smtp_host:
        return SmtpTransport.from_settings(mail)
    return FilesTransport(mail.outbox_dir)


def prepare_message(
    digest: Digest, *, settings: Settings, key: bytes, now: datetime
) -> tuple[Rendered, BuiltMessage]:
    """Sign the links, render and build the message of one digest."""
    links = None
    if digest.kind is not DigestKind.OPERATOR:
        links = links_for(digest, mail=settings.mail, key=key, issued=now.date())
    rendered = render(digest, settings=settings, links=links)
    message = build_message(digest, rendered, mail_from=settings.mail.mail_from, links=links,
                            now=now)
    return rendered, message


def send_digests(
    repo: Repository,
    *,
    settings: Settings,
    now: datetime,
    transport: Transport | None = None,
    due: DueFunction = due_digests,
    mark: MarkQueued = mark_queued,
    route: RouteFunction | None = route_new_events,
    clock: Callable[[], datetime] = _utcnow,
    policy: RetryPolicy | None = None,
    ignore_schedule: bool = False,
) -> DeliveryReport:
    """Route, build, queue and send; see the module docstring.

    ``route=None`` skips routing; ``due`` and ``mark`` replace the builders (tests).
    ``ignore_schedule`` also sends messages whose retry time has not come yet (``tracker
    digest --send``). Raises ConfigError when the link-signing key is missing.
    """
    report = DeliveryReport()
    if route is not None:
        report.routing = route(repo, settings=settings, now=now)
    digests = due(repo, settings=settings, now=now)
    key = signing_key(settings.mail) if digests else b""
    for start in range(0, len(digests), QUEUE_PAGE):
        prepared = _prepare_page(digests[start : start + QUEUE_PAGE], settings=settings,
                                 key=key, now=now, report=report)
        outcomes = enqueue_page(repo, prepared, now=now, mark_queued=mark)
        for (digest, message), outcome in zip(prepared, outcomes, strict=True):
            _record(report, digest, message, outcome)
    report.send = send_pending(repo, transport or transport_for(settings.mail), now=now,
                               clock=clock, policy=policy, ignore_schedule=ignore_schedule)
    return report


def _prepare_page(
    digests: Sequence[Digest], *, settings: Settings, key: bytes, now: datetime,
    report: DeliveryReport,
) -> list[tuple[Digest, BuiltMessage]]:
    """The messages of ``digests``; one that cannot be built is reported and left out."""
    prepared = []
    for digest in digests:
        try:
            _, message = prepare_message(digest, settings=settings, key=key, now=now)
        except TrackerError as exc:
            report.problems.append(f"{digest.digest_key} to {digest.recipient.email}: {exc}")
            continue
        prepared.append((digest, message))
    return prepared


def _record(report: DeliveryReport, digest: Digest, message: BuiltMessage,
            outcome: Queued) -> None:
    """What queueing one digest did, in the report."""
    where = f"{digest.digest_key} to {digest.recipient.email}"
    if isinstance(outcome, DigestConflict):
        # Another process queued these deliveries meanwhile: its message is the one copy.
        report.skipped.append(f"{where}: {outcome}")
        return
    if isinstance(outcome, TrackerError):
        report.problems.append(f"{where}: {outcome}")
        return
    report.queued.append(QueuedDigest(digest_key=digest.digest_key,
                                      recipient=digest.recipient.email,
                                      subject=message.subject, new=outcome))
    if not outcome:
        report.problems.append(
            f"{where}: already queued by an earlier run; its deliveries stay pending (the "
            "digest builder repeated a digest key)"
        )


def preview(
    repo: Repository,
    *,
    settings: Settings,
    email: str,
    now: datetime,
    build: PreviewFunction = preview_digest,
) -> Rendered | None:
    """What ``email`` would be sent now, rendered; nothing is queued, sent or marked."""
    digest = build(repo, settings=settings, email=email, now=now)
    if digest is None:
        return None
    rendered, _ = prepare_message(digest, settings=settings, key=signing_key(settings.mail),
                                  now=now)
    return rendered
