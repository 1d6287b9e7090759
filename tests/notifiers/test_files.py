"""The embedded default: digests as .eml files, written atomically and parseable."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from notifiers.files import FilesTransport, eml_name
from notifiers.outbox import SENT, WAITING, send_pending
from notifiers.transport import Outgoing, TransportUnavailable
from tests.notifiers.queueing import QUEUED_AT, queue_digests, rows
from tracker.storage.repository import Repository


def test_eml_files_are_written_per_day_and_parse(repo: Repository, tmp_path: Path) -> None:
    digests = queue_digests(repo, 3)
    transport = FilesTransport(tmp_path / "outbox")
    report = send_pending(repo, transport, now=QUEUED_AT)
    assert [o.status for o in report.outcomes] == [SENT] * 3
    paths = [Path(o.detail) for o in report.outcomes]
    assert all(p.parent == tmp_path / "outbox" / "2026-12-01" for p in paths)
    assert sorted(p.name for p in paths) == sorted(eml_name(d.digest_key) for d in digests)
    for path, digest, row in zip(paths, digests, rows(repo), strict=True):
        assert path.read_bytes() == row.message
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        assert parsed["To"].addresses[0].addr_spec == digest.recipient.email
        assert parsed.get_body(("html",)) is not None and parsed.get_body(("plain",)) is not None
    leftovers = [p for p in (tmp_path / "outbox").rglob("*") if p.suffix == ".tmp"]
    assert leftovers == []


def test_writing_the_same_digest_again_keeps_one_file(tmp_path: Path) -> None:
    transport = FilesTransport(tmp_path)
    message = Outgoing(digest_key="daily:1:2026-12-01", message_id="<x@y>", sender="a@b.example",
                       recipient="c@d.example", raw=b"Subject: x\r\n\r\nbody\r\n",
                       created_at=QUEUED_AT)
    first = transport.send(message)
    second = transport.send(message)
    assert first == second
    assert [p.name for p in Path(first).parent.iterdir()] == [Path(first).name]


def test_file_names_are_safe_and_distinct() -> None:
    assert eml_name("daily:1:2026-12-01T07").startswith("daily_1_2026-12-01T07-")
    assert eml_name("daily:1") != eml_name("daily_1")
    assert "/" not in eml_name("../../etc/passwd") and not eml_name("../x").startswith(".")
    assert len(eml_name("x" * 500)) < 100


def test_unwritable_outbox_leaves_messages_queued(repo: Repository, tmp_path: Path) -> None:
    queue_digests(repo, 2)
    folder = tmp_path / "outbox"
    folder.write_text("a file where the outbox folder should be")
    report = send_pending(repo, FilesTransport(folder), now=QUEUED_AT)
    assert [o.status for o in report.outcomes] == [WAITING, WAITING]
    assert report.unavailable is not None and "cannot write the message" in report.unavailable
    assert [r.status for r in rows(repo)] == ["pending", "pending"]


def test_a_file_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("not a folder")
    message = Outgoing(digest_key="k", message_id="<x@y>", sender="a@b.example",
                       recipient="c@d.example", raw=b"x", created_at=QUEUED_AT)
    with pytest.raises(TransportUnavailable, match=r"outbox/2026-12-01/k-.*\.eml: cannot write"):
        FilesTransport(blocker).send(message)
