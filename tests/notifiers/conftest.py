"""SMTP servers for the notifier tests: plain, STARTTLS + AUTH, and implicit TLS + AUTH, each
a real aiosmtpd server on a loopback port; TLS certificates from a throwaway trustme CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from aiosmtpd.controller import Controller

from tests.notifiers.smtp_server import Server, Sink, authenticator, free_port


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts only the throwaway CA (and checks host names)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def _serve(controller: Controller, sink: Sink) -> Iterator[Server]:
    controller.start()
    try:
        yield Server(host="127.0.0.1", port=controller.port, sink=sink)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    """A plain SMTP server (no TLS, no AUTH)."""
    sink = Sink()
    yield from _serve(Controller(sink, hostname="127.0.0.1", port=free_port()), sink)


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[Server]:
    """STARTTLS required before AUTH, AUTH (LOGIN/PLAIN) required before MAIL."""
    sink = Sink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), tls_context=_server_tls(ca),
        require_starttls=True, authenticator=authenticator, auth_require_tls=True,
        auth_required=True,
    )
    yield from _serve(controller, sink)


@pytest.fixture
def ssl_server(ca: trustme.CA) -> Iterator[Server]:
    """TLS from the first byte (port-465 style), AUTH required."""
    sink = Sink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), ssl_context=_server_tls(ca),
        authenticator=authenticator, auth_required=True, auth_require_tls=False,
    )
    yield from _serve(controller, sink)
