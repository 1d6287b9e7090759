"""Broken configuration met by the ``tracker`` command: one line on stderr naming the file (or
variable) and the key, exit status 1, no traceback, nothing polled. The readers themselves are
table-tested in ``tests/test_settings.py``; this is what an operator sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.faults.deployment import deployment, source_table

GOOD = source_table("us-govinfo", base_url="http://127.0.0.1:1", sessions=("117",))

BROKEN_FILES = {
    "a wrong type": ("sources.toml", GOOD.replace('sessions = ["117"]', "sessions = 117"),
                     "sources.us-govinfo.sessions"),
    "an unknown key": ("sources.toml", GOOD + "enabeld = true\n", "enabeld"),
    "an unknown source": ("sources.toml", GOOD.replace("us-govinfo", "us-govinfoo"),
                          "us-govinfoo: unknown source"),
    "a duration that is not one": ("sources.toml", GOOD + 'interval = "often"\n', "interval"),
    "TOML that does not parse": ("sources.toml", GOOD + "sessions = [\n", "sources.toml"),
    "a wrong type in [http]": ("tracker.toml", '[http]\nmin_interval = "fast"\n', "min_interval"),
    "an unknown table": ("tracker.toml", "[htpp]\nretries = 1\n", "htpp"),
}


@pytest.mark.parametrize(("name", "text", "says"), BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_a_broken_config_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    name: str, text: str, says: str,
) -> None:
    place = deployment(tmp_path, sources=GOOD, database_url=f"sqlite:///{tmp_path}/t.db")
    (place.folder / "config" / name).write_text(text, encoding="utf-8")
    for variable, value in place.environ.items():
        monkeypatch.setenv(variable, value)
    outcome = run_cli(capsys, "poll", "us-govinfo")
    assert outcome.code == 1
    (line,) = outcome.err.strip().splitlines()
    assert line.startswith("error: ") and name in line and says in line, line
    assert not (tmp_path / "t.db").exists(), "nothing opened, nothing polled"


BROKEN_ENVIRONMENT = {
    "TRACKER_LEASE_SECONDS": ("soon", "TRACKER_LEASE_SECONDS='soon'"),
    "TRACKER_DATABASE_URL": ("not a url", "database URL"),
    "TRACKER_CONFIG": ("/no/such/folder", "TRACKER_CONFIG=/no/such/folder: no such folder"),
}


@pytest.mark.parametrize(("variable", "value", "says"),
                         [(k, *v) for k, v in BROKEN_ENVIRONMENT.items()], ids=str)
def test_a_broken_environment_variable_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    variable: str, value: str, says: str,
) -> None:
    place = deployment(tmp_path, sources=GOOD, database_url=f"sqlite:///{tmp_path}/t.db")
    for name, setting in {**place.environ, variable: value}.items():
        monkeypatch.setenv(name, setting)
    outcome = run_cli(capsys, "poll", "us-govinfo")
    assert outcome.code == 1
    (line,) = outcome.err.strip().splitlines()
    assert line.startswith("error: ") and says in line, line
