"""The embedded default transport: each message becomes an ``.eml`` file (no SMTP needed).

Used when ``TRACKER_SMTP_HOST`` is unset. A message is written to
``<TRACKER_OUTBOX_DIR>/<YYYY-MM-DD of its creation>/<digest key, made safe>-<hash>.eml``,
first to a temporary file in the same folder and then renamed, so a reader never sees half a
message and a crash leaves at most a stray ``.tmp``. Writing the same digest again replaces
its file with identical bytes, so a retry never makes a second file. ``.eml`` files open in
any mail client (Thunderbird, Outlook, Apple Mail) or with ``python -m email``-style tools.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from notifiers.transport import Outgoing, TransportUnavailable

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_STEM = 80


def eml_name(digest_key: str) -> str:
    """A file name for ``digest_key``: readable, safe on every file system, and unique
    (the hash keeps ``daily:1`` and ``daily_1`` apart)."""
    readable = _UNSAFE.sub("_", digest_key).strip("._")[:MAX_STEM] or "digest"
    suffix = hashlib.sha256(digest_key.encode()).hexdigest()[:8]
    return f"{readable}-{suffix}.eml"


class FilesTransport:
    """Writes messages as ``.eml`` files under ``folder``; see the module docstring."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def description(self) -> str:
        return f"files in {self.folder}"

    @contextmanager
    def connect(self) -> Iterator[FilesTransport]:
        yield self

    def path_for(self, message: Outgoing) -> Path:
        day = message.created_at.date().isoformat()
        return self.folder / day / eml_name(message.digest_key)

    def send(self, message: Outgoing) -> str:
        """Write the message; returns its path. TransportUnavailable when it cannot be written."""
        target = self.path_for(message)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(message.raw)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(temporary, target)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise TransportUnavailable(f"{target}: cannot write the message: "
                                       f"{exc.strerror or exc}") from None
        return str(target)
