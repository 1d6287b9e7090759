"""Reading received messages in tests."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage


def parse(raw: bytes) -> EmailMessage:
    """Bytes as a receiving client reads them (the modern policy)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    """The decoded text of the ``plain`` or ``html`` part."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())
