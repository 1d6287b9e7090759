"""Operator alerts: one message when a source turns unhealthy, one when it recovers.

After every poll (the scheduler's and a manual ``tracker poll``) :func:`after_poll` judges the
source (:mod:`tracker.health`) and compares the verdict with the last state operators were
told about, kept per source in ``source_alarms``. Only a change queues a message, so a source
that fails fifty polls in a row costs one alert, not fifty; the state row and the queued
message are written in one transaction, and the message's ``digest_key``
(``operator:<source>:<unhealthy|recovered>:<run id>``) is unique in the outbox, so a retry
never queues it twice.

The message goes to ``TRACKER_OPERATOR_EMAIL``. Without one the state is still recorded (so
setting the address later does not replay old alerts) and a warning is logged instead.

Upstream text (error messages quote servers) is escaped in the HTML part, and the subject is
folded to one line of printable characters, so nothing upstream can add a header.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy.orm import Session

from tracker.digest import DigestKind
from tracker.health import Health, source_health
from tracker.settings import MailSettings, Settings
from tracker.source import SourceFactory
from tracker.storage import leases_repo, outbox_repo
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
SUBJECT_LIMIT = 160
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class OperatorAlert:
    """A source's health changed: ``kind`` is ``unhealthy`` or ``recovered``."""

    source: str
    title: str
    kind: str
    problems: tuple[str, ...]
    run_id: int
    at: datetime

    @property
    def digest_key(self) -> str:
        return f"operator:{self.source}:{self.kind}:{self.run_id}"


#: Puts a built message in the outbox inside the caller's transaction.
AlertSink = Callable[[Session, OperatorAlert, EmailMessage], None]


def transition(previous: str | None, health: Health) -> str | None:
    """``unhealthy``, ``recovered`` or None (no change). A source never alerted is healthy."""
    before = previous or HEALTHY
    if before == HEALTHY and not health.healthy:
        return "unhealthy"
    if before == UNHEALTHY and health.healthy:
        return "recovered"
    return None


def one_line(text: str, *, limit: int = SUBJECT_LIMIT) -> str:
    """``text`` as one header-safe line: control characters folded to spaces, then cut."""
    flat = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def operator_message(alert: OperatorAlert, *, mail: MailSettings, status_hint: str) -> EmailMessage:
    """The alert as a text + HTML email to ``mail.operator_email`` (pure; no I/O)."""
    if not mail.operator_email:
        raise ValueError("operator_message needs mail.operator_email")
    if alert.kind == "unhealthy":
        subject = f"[tracker] {alert.source} is unhealthy: {alert.problems[0]}"
        lead = f"The source {alert.source} ({alert.title}) turned unhealthy."
    else:
        subject = f"[tracker] {alert.source} recovered"
        lead = f"The source {alert.source} ({alert.title}) is healthy again."
    when = f"{alert.at:%Y-%m-%d %H:%M} UTC, after poll run {alert.run_id}"
    problems = list(alert.problems)
    text = [lead, "", f"Seen at {when}."]
    if problems:
        text += ["", "Problems:", *(f"- {p}" for p in problems)]
    text += ["", f"Details: {status_hint}", "", "You get one message when a source turns "
             "unhealthy and one when it recovers."]
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    body_html = (
        f"<p>{html.escape(lead)}</p><p>Seen at {html.escape(when)}.</p>"
        + (f"<p>Problems:</p><ul>{items}</ul>" if items else "")
        + f"<p>Details: <code>{html.escape(status_hint)}</code></p>"
        "<p>You get one message when a source turns unhealthy and one when it recovers.</p>"
    )
    message = EmailMessage()
    message["Subject"] = one_line(subject)
    message["From"] = mail.mail_from
    message["To"] = mail.operator_email
    message["Date"] = format_datetime(alert.at)
    message["Message-ID"] = make_msgid(domain=mail.mail_from.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(text) + "\n")
    message.add_alternative(f"<!doctype html><html><body>{body_html}</body></html>",
                            subtype="html")
    return message


def outbox_sink(session: Session, alert: OperatorAlert, message: EmailMessage) -> None:
    """Queue ``message`` in the outbox under the alert's digest key, in ``session``; the
    digest job's outbox sender sends it with every other message."""
    outbox_repo.queue_message(
        session, digest_key=alert.digest_key, subscriber_id=None, kind=DigestKind.OPERATOR.value,
        recipient=str(message["To"]), message_id=str(message["Message-ID"]),
        subject=str(message["Subject"]), message=message.as_bytes(), now=alert.at,
    )


def after_poll(
    repo: Repository, *, source: str, run_id: int, settings: Settings,
    registry: Mapping[str, SourceFactory], now: datetime, sink: AlertSink = outbox_sink,
) -> OperatorAlert | None:
    """Judge ``source`` after poll ``run_id``; on a change of state record it and queue one
    alert (see the module docstring). Returns the alert, or None when nothing changed."""
    with repo.write() as session:
        previous = leases_repo.get_alarm(session, source, for_update=True)
        health = source_health(repo, session, name=source, settings=settings, now=now)
        kind = transition(previous.state if previous else None, health)
        if kind is None:
            return None
        state = HEALTHY if health.healthy else UNHEALTHY
        leases_repo.set_alarm(session, source=source, state=state, problems=health.problems,
                              run_id=run_id, now=now)
        factory = registry.get(source)
        alert = OperatorAlert(
            source=source, title=factory.info.title if factory else source, kind=kind,
            problems=health.problems, run_id=run_id, at=now,
        )
        if settings.mail.operator_email:
            message = operator_message(alert, mail=settings.mail,
                                       status_hint="tracker sources; tracker status")
            sink(session, alert, message)
    if settings.mail.operator_email:
        log.warning("%s: %s; operator alert queued for %s", source, kind,
                    settings.mail.operator_email,
                    extra={"fields": {"event": "operator-alert", "source": source,
                                      "kind": kind, "problems": list(health.problems)}})
    else:
        log.warning("%s: %s (%s); no operator alert: TRACKER_OPERATOR_EMAIL is not set",
                    source, kind, "; ".join(health.problems) or "all checks pass",
                    extra={"fields": {"event": "operator-alert", "source": source,
                                      "kind": kind, "problems": list(health.problems)}})
    return alert
