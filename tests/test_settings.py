"""Settings: one reader; every bad file, key or value refused in one line naming it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.settings import (
    DEFAULT_DATABASE_URL,
    load_settings,
    packaged_defaults,
    parse_duration,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("4h", 14400), ("30m", 1800), ("2s", 2), ("1h30m", 5400), ("7d", 604800)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "4", "4x", "h", "0s", "-1h", "four hours"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_defaults_when_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config here: the packaged defaults apply
    settings = load_settings({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.sources["us-govinfo"].enabled
    assert settings.sources["us-govinfo"].interval == timedelta(hours=4)
    assert "contact:" in settings.http.user_agent


def test_config_folder_and_database_from_env(tmp_path: Path) -> None:
    write(
        tmp_path,
        "sources.toml",
        '[sources.us-govinfo]\nenabled = true\nsessions = ["117", "118"]\n'
        'interval = "2s"\nbase_url = "http://127.0.0.1:9/"\nkey_env = ["GOVINFO_KEY"]\n',
    )
    settings = load_settings(
        {"TRACKER_CONFIG": str(tmp_path), "TRACKER_DATABASE_URL": "sqlite:///x.db"}
    )
    source = settings.sources["us-govinfo"]
    assert source.sessions == ("117", "118")
    assert source.interval == timedelta(seconds=2)
    assert source.base_url == "http://127.0.0.1:9"
    assert source.key({"GOVINFO_KEY": "k"}) == "k"
    assert settings.database_url == "sqlite:///x.db"
    # tracker.toml is missing from the folder: the packaged default is used
    assert settings.http.read_timeout == 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[sources.us-govinfo]\ninterval = "4x"\n',
            r"sources\.us-govinfo\.interval: '4x' is not a duration",
        ),
        ("[sources.us-govinfo]\nenabled = 1\n", r"sources\.us-govinfo\.enabled: must be bool"),
        (
            '[sources.us-govinfo]\nsessions = "117"\nspeed = 3\n',
            r"sources\.us-govinfo\.speed: unknown key",
        ),
        (
            "[sources.us-govinfo]\nsessions = [117]\n",
            r"sources\.us-govinfo\.sessions: must be a list",
        ),
        ('[sources.us-govinfo]\nbase_url = "govinfo"\n', r"base_url: must be an http"),
        (
            '[sources.us-govinfo]\nkey_env = ["my key"]\n',
            r"key_env: 'my key' is not an environment",
        ),
        ("[sources.nowhere]\nenabled = true\n", r"sources\.nowhere: unknown source"),
        ("[source.us-govinfo]\n", r"source: unknown table"),
        ("[sources.us-govinfo\n", r"not valid TOML"),
    ],
)
def test_bad_sources_file_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "sources.toml", text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings({"TRACKER_CONFIG": str(tmp_path)}, known_sources={"us-govinfo"})
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[http]\nread_timeout = 0\n", r"http\.read_timeout: must be greater than zero"),
        ('[http]\nread_timeout = "fast"\n', r"http\.read_timeout: must be int or float"),
        ("[http]\ncontact = 3\n", r"http\.contact: must be str"),
        ("[mail]\n", r"mail: unknown table"),
        ("[pipeline]\nworkers = -1\n", r'pipeline\.workers: must be "auto" or a number'),
        ('[pipeline]\nworkers = "many"\n', r'pipeline\.workers: must be "auto" or a number'),
        ("[pipeline]\nworkers = true\n", r"pipeline\.workers: must be int or str"),
        ("[pipeline]\nthreads = 2\n", r"pipeline\.threads: unknown key"),
    ],
)
def test_bad_tracker_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "tracker.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_settings({"TRACKER_CONFIG": str(tmp_path)})


@pytest.mark.parametrize(("text", "workers"), [
    ("", None), ('[pipeline]\nworkers = "auto"\n', None), ("[pipeline]\nworkers = 0\n", 0),
    ("[pipeline]\nworkers = 3\n", 3),
])
def test_ingest_workers_are_read_from_the_pipeline_table(
    tmp_path: Path, text: str, workers: int | None
) -> None:
    write(tmp_path, "tracker.toml", text)
    assert load_settings({"TRACKER_CONFIG": str(tmp_path)}).ingest_workers == workers


def test_missing_config_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        load_settings({"TRACKER_CONFIG": str(tmp_path / "nope")})


def test_shipped_config_matches_packaged_defaults() -> None:
    for name in ("sources.toml", "tracker.toml", "topics.toml"):
        assert (REPO / "config" / name).read_text() == (packaged_defaults() / name).read_text(), (
            name
        )
