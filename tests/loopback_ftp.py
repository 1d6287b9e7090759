"""A real FTP server (pyftpdlib) on 127.0.0.1, in a thread, for the tests of tracker.ftp and
tx-tlo.

It serves a folder read-only to anonymous users and counts every command it receives. Its
``listing`` imitates the servers we poll: ``"mlsd"`` is pyftpdlib as it is (MLSD, and Unix
``LIST`` lines), ``"unix"`` has no MLSD, and ``"iis"`` has no MLSD and answers ``LIST`` in the
IIS/Windows style ftp.legis.state.tx.us is documented to send (``01-22-25  02:30PM  <DIR>``).
``"broken"`` has no MLSD and answers ``LIST`` with lines in no known style. Failures on
demand: ``refuse`` answers the next N connections with ``421`` and hangs up; ``drop[name]``
makes the server hang up, without a reply, on the next that many ``RETR`` of that file name.
"""

from __future__ import annotations

import os
import stat
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # pyftpdlib 2 is built on asyncore/asynchat: deprecated on Python 3.11, not yet removed.
    warnings.simplefilter("ignore", DeprecationWarning)
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

LISTINGS = ("mlsd", "unix", "iis", "broken")


class _IisFS(AbstractedFS):  # type: ignore[misc]
    """``LIST`` lines as IIS writes them: ``MM-DD-YY  hh:mmAM  <DIR>|size name`` (UTC here)."""

    def format_list(
        self, basedir: str, listing: list[str], ignore_err: bool = True
    ) -> Iterator[bytes]:
        for name in listing:
            st = self.lstat(os.path.join(basedir, name))
            stamp = time.strftime("%m-%d-%y  %I:%M%p", time.gmtime(st.st_mtime))
            column = "<DIR>         " if stat.S_ISDIR(st.st_mode) else f"{st.st_size:>14}"
            yield f"{stamp} {column} {name}\r\n".encode()


class _BrokenFS(AbstractedFS):  # type: ignore[misc]
    """``LIST`` lines no parser should accept (a server whose format changed)."""

    def format_list(
        self, basedir: str, listing: list[str], ignore_err: bool = True
    ) -> Iterator[bytes]:
        for name in listing:
            yield f"{name} was modified some time ago\r\n".encode()


class LoopbackFtp:
    """Serve ``root``; use as a context manager. ``url`` is ``ftp://127.0.0.1:PORT``."""

    def __init__(self, root: Path, *, listing: str = "mlsd") -> None:
        if listing not in LISTINGS:
            raise ValueError(f"listing must be one of {LISTINGS}")
        self.root = root
        self.commands: Counter[str] = Counter()
        self.retrieved: list[str] = []
        self.refuse = 0
        self.drop: Counter[str] = Counter()
        self._lock = threading.Lock()
        authorizer = DummyAuthorizer()
        authorizer.add_anonymous(str(root))
        handler = self._handler(listing)
        handler.authorizer = authorizer
        self._server = FTPServer(("127.0.0.1", 0), handler)
        self.port: int = self._server.address[1]
        self.url = f"ftp://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="loopback-ftp", daemon=True)

    def __enter__(self) -> LoopbackFtp:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def count(self, command: str) -> int:
        with self._lock:
            return self.commands[command]

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._server.ioloop.loop(timeout=0.01, blocking=False)
        self._server.close_all()

    def _handler(self, listing: str) -> type[FTPHandler]:
        server = self
        attributes: dict[str, Any] = {"banner": "loopback test FTP server"}
        if listing != "mlsd":
            attributes["proto_cmds"] = {
                name: spec for name, spec in FTPHandler.proto_cmds.items()
                if name not in ("MLSD", "MLST")
            }  # fmt: skip
        if listing == "iis":
            attributes["abstracted_fs"] = _IisFS
        if listing == "broken":
            attributes["abstracted_fs"] = _BrokenFS

        class Handler(FTPHandler):  # type: ignore[misc]
            def handle(self) -> None:
                with server._lock:
                    refused = server.refuse > 0
                    server.refuse -= int(refused)
                if refused:
                    self.respond("421 Too many users, try again later.")
                    self.close_when_done()
                    return
                super().handle()

            def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
                with server._lock:
                    server.commands[cmd] += 1
                super().pre_process_command(line, cmd, arg)

            def ftp_RETR(self, file: str) -> Any:
                name = os.path.basename(file)
                with server._lock:
                    dropped = server.drop[name] > 0
                    server.drop[name] -= int(dropped)
                if dropped:
                    self.close()  # hang up mid-session, no reply
                    return None
                with server._lock:
                    server.retrieved.append(self.fs.fs2ftp(file))
                return super().ftp_RETR(file)

        for name, value in attributes.items():
            setattr(Handler, name, value)
        return Handler


def set_mtime(path: Path, when: float) -> None:
    """Give ``path`` a modification time (seconds since the epoch): what listings show."""
    os.utime(path, (when, when))
