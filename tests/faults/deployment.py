"""Helpers for the fault tests: a deployment folder (config files and environment) pointing
the real sources at loopback servers, the ``tracker`` command run as a subprocess, and a
snapshot of everything a poll stores, to compare a faulted history with a clean one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.conftest import REPO
from tracker.settings import Settings
from tracker.storage.repository import Repository
from tracker.storage.tables import ActionRow, BillRow, EventRow, FetchStateRow, TopicMatchRow
from tracker.wiring import settings_from_env

HTTP_TABLE = """[http]
contact = "faults@example.org"
min_interval = 0
retries = {retries}
connect_timeout = 2
read_timeout = {read_timeout}
max_bytes = {max_bytes}
retry_after_max = 5
"""


@dataclass(frozen=True)
class Deployment:
    """A config folder and the environment a ``tracker`` process is started with."""

    folder: Path
    environ: dict[str, str]

    def settings(self) -> Settings:
        return settings_from_env(self.environ)

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``tracker ARGS`` to completion, in a process of its own."""
        return subprocess.run(self.command(*args), env=self.environ, cwd=self.folder,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.command(*args), env=self.environ, cwd=self.folder,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def command(*args: str) -> list[str]:
        return [sys.executable, "-c", "from tracker.cli import main; main()", *args]


def deployment(
    folder: Path, *, sources: str, database_url: str, retries: int = 0,
    read_timeout: float = 5, max_bytes: int = 50 * 1024 * 1024,
    extra_env: Mapping[str, str] | None = None,
) -> Deployment:
    """``folder/config`` holding ``sources`` (a sources.toml text) and an [http] table with
    no politeness delay; the environment points at ``database_url``."""
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "sources.toml").write_text(sources, encoding="utf-8")
    (config / "tracker.toml").write_text(
        HTTP_TABLE.format(retries=retries, read_timeout=read_timeout, max_bytes=max_bytes),
        encoding="utf-8")
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "HOME": str(folder),
        "TRACKER_CONFIG": str(config),
        "TRACKER_DATABASE_URL": database_url,
        "TRACKER_OUTBOX_DIR": str(folder / "outbox"),
        "TRACKER_MAIL_FROM": "alerts@tracker.example.org",
        "TRACKER_PUBLIC_URL": "https://tracker.example.org",
        # A lease left by a killed poller expires after a second instead of a minute.
        "TRACKER_LEASE_SECONDS": "1",
        **(extra_env or {}),
    }
    return Deployment(folder, environ)


def source_table(name: str, *, base_url: str, sessions: tuple[str, ...]) -> str:
    listed = ", ".join(f'"{s}"' for s in sessions)
    return (f'[sources.{name}]\nenabled = true\nbase_url = "{base_url}"\n'
            f"sessions = [{listed}]\n")


# --- what a poll stored ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything stored about bills, without ids and times: equal snapshots mean equal
    histories. Events and actions are multisets, so a doubled one shows."""

    bills: dict[str, tuple[Any, ...]]
    actions: Counter[tuple[Any, ...]]
    events: Counter[tuple[Any, ...]]
    topics: Counter[tuple[str, str]]
    cursors: dict[str, tuple[Any, ...]]


def snapshot(repo: Repository) -> Snapshot:
    with repo.read() as session:
        keys = dict(session.execute(sa.select(BillRow.id, BillRow.key)).all())
        bills = {
            row.key: (row.title, row.stage, row.content_hash, row.source)
            for row in session.execute(sa.select(BillRow)).scalars()
        }
        actions = Counter(
            (keys[a.bill_id], a.uid, a.position, a.description, a.removed_at is None)
            for a in session.execute(sa.select(ActionRow)).scalars()
        )
        events = Counter(
            (keys[e.bill_id], e.kind, e.action_uid, e.baseline, repr(sorted(e.details.items())))
            for e in session.execute(sa.select(EventRow)).scalars()
        )
        topics = Counter(
            (keys[t.bill_id], t.topic)
            for t in session.execute(sa.select(TopicMatchRow)).scalars()
        )
        cursors = {
            f.url: (f.etag, f.sha256, f.lastmod)
            for f in session.execute(sa.select(FetchStateRow)).scalars()
        }
    return Snapshot(bills, actions, events, topics, cursors)


def run_statuses(repo: Repository, source: str) -> list[str]:
    """The statuses of every recorded poll of ``source``, oldest first."""
    with repo.read() as session:
        return [run.status for run in reversed(repo.runs(session, source=source, limit=100))]
