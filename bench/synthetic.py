"""Synthetic inputs at real scale, built from the real recorded samples (never copied).

``bills(n)`` renumbers the real BILLSTATUS samples into ``n`` distinct bills of one
Congress: sample ``i % len(samples)`` becomes bill number ``i + 1`` of its own type, so the
mix of sizes, schema generations and action histories is the real one. ``write_congress``
writes them into a folder (one file per bill, as GovInfo lays out its bulk data), so a
benchmark reads each document when it is fetched instead of holding them all in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRACKER_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))

_NUMBER = re.compile(rb"<(number|billNumber)>\d+</\1>")
_CONGRESS = re.compile(rb"<congress>\d+</congress>")
_TYPE = re.compile(rb"<(type|billType)>([A-Za-z]+)</\1>")


def samples() -> list[Path]:
    folder = SHARED / "govinfo-billstatus"
    if not folder.is_dir():
        raise SystemExit(f"real samples not found at {folder} (set TRACKER_SHARED_FIXTURES)")
    return sorted(folder.rglob("*.xml"))


def renumber(body: bytes, *, number: int, congress: int) -> bytes:
    """The same bill document as bill ``number`` of ``congress`` (first occurrences only:
    the bill's own number and Congress precede related bills and amendments)."""
    body = _NUMBER.sub(lambda m: b"<%s>%d</%s>" % (m[1], number, m[1]), body, count=1)
    return _CONGRESS.sub(b"<congress>%d</congress>" % congress, body, count=1)


def bill_type(body: bytes) -> str:
    match = _TYPE.search(body)
    return match[2].decode().lower() if match else "hr"


def bills(n: int, *, congress: int = 118) -> Iterator[tuple[str, str, bytes]]:
    """``(type, url path, body)`` for ``n`` distinct bills of one Congress."""
    bodies = [path.read_bytes() for path in samples()]
    for i in range(n):
        body = renumber(bodies[i % len(bodies)], number=i + 1, congress=congress)
        kind = bill_type(body)
        path = f"/bulkdata/BILLSTATUS/{congress}/{kind}/BILLSTATUS-{congress}{kind}{i + 1}.xml"
        yield kind, path, body


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_congress` wrote: URL paths (relative to ``root``) and their bytes."""

    root: Path
    paths: tuple[str, ...]
    bytes: int


def write_congress(root: Path, n: int, *, congress: int = 118) -> Written:
    """Write ``bills(n)`` under ``root`` at each document's URL path."""
    paths = []
    total = 0
    for _, path, body in bills(n, congress=congress):
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        paths.append(path)
        total += len(body)
    return Written(root=root, paths=tuple(paths), bytes=total)
