"""A loopback SMTP server for the digest benchmark, in a process of its own (as a real mail
server is): aiosmtpd accepting every message and writing its Message-ID, one a line, to a file.

    python bench/smtp_sink.py PORT OUTFILE     (runs until terminated)
"""

from __future__ import annotations

import signal
import sys
import threading
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.controller import Controller

_HEADERS = BytesHeaderParser()


class MessageIdSink:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.out.write(f"{_HEADERS.parsebytes(envelope.content)['Message-ID']}\n")
        self.out.flush()
        return "250 2.0.0 accepted"


def main(port: int, outfile: Path) -> None:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with outfile.open("a", encoding="utf-8") as out:
        controller = Controller(MessageIdSink(out), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            done.wait()
        finally:
            controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
