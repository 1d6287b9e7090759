"""A real HTTP server on 127.0.0.1, in a thread, for tests and benchmarks that need sockets
(a subprocess polling it, timeouts, truncated bodies) rather than ``responses``.

It answers from a route table: each route is a regular expression matched against the whole
request path (query string apart) and either fixed bytes or a function of the request. Every
``200`` carries a strong ``ETag`` (a hash of the body), and a request whose ``If-None-Match``
names it gets a ``304``, as the sources' real servers do. Each request is logged as
``(path, status)``.

Faults on demand, for the next requests of a path (``fail(path, Reply(...), times=N)``): any
status and headers (``429`` with ``Retry-After``), a body cut short of its declared
``Content-Length`` (``truncate_to``), a reply delayed past the client's timeout
(``delay``), or raw bytes sent as a gzip-encoded body.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer. ``truncate_to`` sends only that many body bytes (the declared length stays
    the whole body's) and closes; ``delay`` waits that long before answering at all."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    truncate_to: int | None = None
    delay: float = 0.0
    conditional: bool = True  # answer 304 to a matching If-None-Match


Answer = bytes | Reply | Callable[[Request], "bytes | Reply"]


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


class LoopbackHttp:
    """Serve a route table on ``url``; use as a context manager."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], Answer]] = []
        self._faults: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, int]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
            name="loopback-http", daemon=True,
        )

    # -- what it serves ---------------------------------------------------------------------

    def route(self, pattern: str, answer: Answer) -> None:
        """Answer paths matching ``pattern`` (a whole-path regular expression); later routes
        win over earlier ones."""
        with self._lock:
            self._routes.insert(0, (re.compile(pattern), answer))

    def folder(self, prefix: str, root: Path) -> None:
        """Serve every file under ``root`` at ``prefix`` + its relative path (read when asked,
        so a file replaced between polls is served as it now is)."""

        def read(request: Request) -> bytes | Reply:
            target = root / request.path[len(prefix):].lstrip("/")
            if not target.is_file():
                return Reply(404, b"not found")
            return target.read_bytes()

        self.route(re.escape(prefix.rstrip("/")) + r"/.+", read)

    def fail(self, path: str, reply: Reply, *, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``path`` with ``reply`` instead."""
        with self._lock:
            self._faults.setdefault(path, []).extend([reply] * times)

    # -- what it saw ------------------------------------------------------------------------

    def requests(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for seen, _ in self.log if path is None or seen == path)

    def statuses(self, path: str) -> list[int]:
        with self._lock:
            return [status for seen, status in self.log if seen == path]

    # -- running ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply(self, request: Request) -> Reply:
        with self._lock:
            queued = self._faults.get(request.path)
            if queued:
                return queued.pop(0)
            routes = list(self._routes)
        for pattern, answer in routes:
            if pattern.fullmatch(request.path):
                found = answer(request) if callable(answer) else answer
                return found if isinstance(found, Reply) else Reply(200, found)
        return Reply(404, b"not found")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                request = Request("GET", parts.path, dict(parse_qsl(parts.query)),
                                  {k: v for k, v in self.headers.items()})
                reply = server._reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                status, body = reply.status, reply.body
                headers = dict(reply.headers)
                if status == 200 and reply.conditional:
                    tag = headers.setdefault("ETag", etag(body))
                    if request.headers.get("If-None-Match") == tag:
                        status, body = 304, b""
                with server._lock:
                    server.log.append((request.path, status))
                self.send_response(status)
                headers.setdefault("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                sent = body if reply.truncate_to is None else body[: reply.truncate_to]
                try:
                    self.wfile.write(sent)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout test)
                if reply.truncate_to is not None:
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

