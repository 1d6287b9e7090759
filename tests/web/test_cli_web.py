"""``tracker serve`` and ``tracker staff`` as a person runs them: one-line errors, and a real
server on loopback showing the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.cli_helpers import run_cli
from tests.notifiers.smtp_server import free_port
from tests.web.data import SECRET


@pytest.fixture
def environment(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "sources.toml").write_text("[sources.us-govinfo]\nenabled = false\n")
    values = {"TRACKER_CONFIG": str(folder), "TRACKER_DATABASE_URL": database_url,
              "TRACKER_OUTBOX_DIR": str(tmp_path / "outbox")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("TRACKER_SECRET_KEY", "TRACKER_STAFF", "TRACKER_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return values


def test_staff_add_list_remove(capsys: pytest.CaptureFixture[str], environment: dict[str, str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    added = run_cli(capsys, "staff", "add", "Lead@Example.org", "--affiliate", "TX affiliate")
    assert (added.code, added.lines()) == (0, ["lead@example.org: staff of affiliate TX affiliate"])
    again = run_cli(capsys, "staff", "add", "lead@example.org", "--affiliate", "TX affiliate")
    assert again.lines() == ["lead@example.org: staff of affiliate TX affiliate (unchanged)"]
    monkeypatch.setenv("TRACKER_STAFF", "director@example.org")
    listed = run_cli(capsys, "staff", "list")
    assert listed.code == 0
    assert [line.split()[:2] for line in listed.lines()[1:]] == [
        ["director@example.org", "env"], ["lead@example.org", "TX"]]
    assert run_cli(capsys, "staff", "remove", "lead@example.org").code == 0
    missing = run_cli(capsys, "staff", "remove", "lead@example.org")
    assert (missing.code, missing.err.strip()) == (
        1, "error: lead@example.org is not staff (see: tracker staff list)")
    bad = run_cli(capsys, "staff", "add", "not-an-address")
    assert bad.code == 1 and bad.err.count("\n") == 1 and "not an email address" in bad.err


def test_serve_refuses_without_a_secret_key(capsys: pytest.CaptureFixture[str],
                                            environment: dict[str, str]) -> None:
    outcome = run_cli(capsys, "serve", "--port", str(free_port()))
    assert outcome.code == 1
    assert outcome.err.startswith("error: TRACKER_SECRET_KEY is not set")
    assert outcome.err.count("\n") == 1 and "Traceback" not in outcome.err


def test_serve_answers_on_loopback(environment: dict[str, str]) -> None:
    port = free_port()
    env = {**os.environ, **environment, "TRACKER_SECRET_KEY": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-c", "from tracker.cli import main; main()", "serve", "--port",
         str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert page.status_code == 200 and 'href="/bills"' in page.text
        assert page.headers["Server"] == "tracker"  # waitress, not the development server
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {
            "status": "ok"}
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert f"serving on http://127.0.0.1:{port}/ (waitress)" in out
    assert SECRET not in out + err
