"""A real SMTP server for tests: aiosmtpd's Controller with a scriptable sink.

The sink records every accepted envelope; ``script`` decides the reply to each DATA command in
turn ("accept", a reply line such as "451 4.3.0 Try again later", "drop" to cut the
connection, "hang" to never answer), and ``refuse`` maps recipient addresses to a RCPT reply.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.notifiers.mail import parse

USER, PASSWORD = "tracker", "correct horse battery staple"
HANG_SECONDS = 5.0


def free_port() -> int:
    """A free loopback port (aiosmtpd's Controller cannot start on port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    script: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    received: list[Any] = field(default_factory=list)  # aiosmtpd Envelopes
    data_commands: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        action = self.script.pop(0) if self.script else "accept"
        if action == "drop":
            server.transport.abort()
            return "250 never seen: the connection is gone"
        if action == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return "451 4.4.2 too late"
        if action != "accept":
            return action
        self.received.append(envelope)
        return "250 2.0.0 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [parse(e.content) for e in self.received]

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    # handled=False: aiosmtpd then answers 535 itself (True would leave the client hanging).
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    host: str
    port: int
    sink: Sink
