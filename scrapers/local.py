"""Local documents as ``Fetched`` values, for ``tracker inspect`` (no network, no database)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from tracker.errors import ParseError
from tracker.http import HttpClient
from tracker.records import BillRef, Fetched, Validators
from tracker.settings import SourceSettings
from tracker.source import Source, SourceContext, SourceFactory


class _NoState:
    def get(self, url: str) -> Validators | None:
        return None

    def lastmods(self, *, prefix: str) -> Mapping[str, str]:
        return {}

    def body(self, url: str) -> bytes | None:
        return None


def parser_for(factory: SourceFactory) -> Source:
    """A source instance for parsing only: its context has no stored state and no network use."""
    context = SourceContext(
        settings=SourceSettings(name=factory.info.name),
        http=HttpClient(user_agent="tracker inspect", retries=0),
        state=_NoState(),
    )
    return factory(context)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ParseError(f"cannot be read: {exc.strerror}", document=str(path)) from None


def local_fetched(factory: SourceFactory, path: Path) -> Iterator[Fetched]:
    """One ``Fetched`` per file; a folder gives each of its files, or the whole folder as one
    bundle when the source reads a bill from several documents (it sets ``bundle_folders``)."""
    name = factory.info.name
    if not path.exists():
        raise ParseError("no such file or folder", document=str(path))
    if path.is_dir() and getattr(factory, "bundle_folders", False):
        documents = {p.name: _read(p) for p in sorted(path.iterdir()) if p.is_file()}
        ref = BillRef(source=name, url=str(path), session="")
        yield Fetched(ref=ref, documents=documents)
        return
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    suffixes = getattr(factory, "document_suffixes", None)
    for file in files:
        if path.is_dir() and suffixes and file.suffix.lower() not in suffixes:
            continue
        ref = BillRef(source=name, url=str(file), session="")
        yield Fetched(ref=ref, documents={str(file): _read(file)})
