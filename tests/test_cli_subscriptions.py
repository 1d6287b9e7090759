"""``tracker subscribe / unsubscribe / subscriptions / route`` as a person uses them, with
one-line errors (exit 1, no traceback) for what cannot be used."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.builders import INTRO, REFER, bill
from tests.cli_helpers import Outcome, run_cli
from tests.subscription_builders import T0, store_bill
from tracker.cli import app
from tracker.cli_subscriptions import register
from tracker.storage.repository import Repository
from tracker.wiring import open_repository, settings_from_env


@pytest.fixture(autouse=True)
def commands() -> None:
    """The commands on ``tracker``'s app (a no-op once tracker/cli.py registers them)."""
    if not any(c.name == "subscribe" for c in app.registered_commands):
        register(app)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder (topics: the shipped defaults) and a database never opened."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "sources.toml").write_text("[sources.us-govinfo]\nenabled = false\n")
    monkeypatch.setenv("TRACKER_CONFIG", str(folder))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
def env(config: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config folder, with a fresh database."""
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    return config


@pytest.fixture
def repo(env: Path) -> Repository:
    return open_repository(settings_from_env())


def listing(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    outcome = run_cli(capsys, "subscriptions", "--format", "json")
    assert outcome.code == 0, outcome.err
    return [json.loads(line) for line in outcome.lines()]


def one_line_error(outcome: Outcome, text: str) -> None:
    assert outcome.code == 1
    assert outcome.err.startswith("error: ") and text in outcome.err, outcome.err
    assert outcome.err.count("\n") == 1 and "Traceback" not in outcome.err


def test_subscribe_to_a_topic_and_list_it(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "subscribe", "Mi-Young.Kim@Example.org", "--topic",
                      "drivers-licenses", "--within", "va", "--name", "김민영", "--affiliate", "va",
                      "--language", "ko", "--timezone", "America/New_York", "--hour", "8")

    assert outcome.code == 0, outcome.err
    assert outcome.out == ("mi-young.kim@example.org: following topic:drivers-licenses "
                           "(created); daily, digests at 08:00 America/New_York, in ko\n")
    (row,) = listing(capsys)
    assert {k: row[k] for k in ("email", "name", "affiliate", "target", "within", "frequency",
                                "language", "hour", "active", "origin")} == {
        "email": "mi-young.kim@example.org", "name": "김민영", "affiliate": "va",
        "target": "topic:drivers-licenses", "within": ["va"], "frequency": "daily",
        "language": "ko", "hour": 8, "active": True, "origin": "cli",
    }


def test_profile_options_update_and_unnamed_ones_are_kept(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cli(capsys, "subscribe", "ana@example.org", "--jurisdiction", "TX", "--language", "es",
            "--frequency", "weekly", "--weekday", "friday", "--hour", "16",
            "--timezone", "America/Chicago")
    outcome = run_cli(capsys, "subscribe", "ana@example.org", "--topic", "hate-crimes",
                      "--kind", "stage-change", "--stage", "enacted", "--stage", "vetoed")

    assert outcome.out.endswith("weekly, digests at fri 16:00 America/Chicago, in es\n")
    rows = listing(capsys)
    assert [(r["target"], r["frequency"], r["weekday"], r["kinds"], r["stages"]) for r in rows] == [
        ("jurisdiction:tx", "weekly", "fri", [], []),
        ("topic:hate-crimes", "weekly", "fri", ["stage-change"], ["enacted", "vetoed"]),
    ]
    again = run_cli(capsys, "subscribe", "ana@example.org", "--jurisdiction", "tx")
    assert "(unchanged)" in again.out


def test_subscribe_to_a_stored_bill_by_a_loosely_written_key(
    repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    store_bill(repo, bill("HB 565", INTRO), at=T0, baseline=True)

    outcome = run_cli(capsys, "subscribe", "kim@example.org", "--bill", "VA/2020/hb0565")

    assert outcome.code == 0 and "following bill:va/2020/HB 565 (created)" in outcome.out
    unknown = run_cli(capsys, "subscribe", "kim@example.org", "--bill", "va/2020/HB 9999")
    one_line_error(unknown, "no bill va/2020/HB 9999 is stored (see: tracker bills --q ...)")


@pytest.mark.parametrize(("args", "message"), [
    (["policy-at-example.org", "--topic", "hate-crimes"],
     "not an email address: 'policy-at-example.org'"),
    (["kim@example.org\r\nBcc: all@example.org", "--topic", "hate-crimes"],
     "not an email address"),
    (["kim@example.org", "--topic", "immigration"], "unknown topic 'immigration' (topics: "),
    (["kim@example.org", "--jurisdiction", "zz"], "no source covers jurisdiction 'zz'"),
    (["kim@example.org", "--bill", "va/HB 1"], "a bill key looks like us/117/HR 2471"),
    (["kim@example.org"], "name what to follow: --bill KEY, --topic ID or --jurisdiction J"),
    (["kim@example.org", "--topic", "hate-crimes", "--jurisdiction", "va"],
     "name one of --bill, --topic or --jurisdiction, not several"),
    (["kim@example.org", "--jurisdiction", "va", "--within", "va"], "'within' narrows a topic"),
    (["kim@example.org", "--topic", "hate-crimes", "--timezone", "Korea/Busan"],
     "unknown timezone 'Korea/Busan'"),
    (["kim@example.org", "--topic", "hate-crimes", "--language", "fr"],
     "language 'fr' is not offered (one of: en, ko, es)"),
    (["kim@example.org", "--topic", "hate-crimes", "--kind", "hearing"],
     "change kind 'hearing' is not offered"),
    (["kim@example.org", "--topic", "hate-crimes", "--hour", "25"], "from 0 to 23"),
])  # fmt: skip
def test_what_cannot_be_used_is_refused_in_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    one_line_error(run_cli(capsys, "subscribe", *args), message)
    assert not (config.parent / "unused.db").exists()  # refused before the database opened


def test_unsubscribe_one_target_or_all_keeping_history(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in (["--topic", "hate-crimes"], ["--jurisdiction", "va"], ["--jurisdiction", "us"]):
        run_cli(capsys, "subscribe", "kim@example.org", *target)

    one = run_cli(capsys, "unsubscribe", "KIM@example.org", "--topic", "hate-crimes")
    assert one.out == "kim@example.org: stopped following topic:hate-crimes\n"
    assert [(r["target"], r["active"], r["ended_by"]) for r in listing(capsys)] == [
        ("topic:hate-crimes", False, "subscriber"), ("jurisdiction:va", True, None),
        ("jurisdiction:us", True, None)]

    everything = run_cli(capsys, "unsubscribe", "kim@example.org", "--all")
    assert everything.out == "kim@example.org: stopped following all 2 subscriptions\n"
    assert [r["active"] for r in listing(capsys)] == [False, False, False]

    resumed = run_cli(capsys, "subscribe", "kim@example.org", "--topic", "hate-crimes")
    assert "(reactivated)" in resumed.out


UNSUBSCRIBE_REFUSALS = [
    (["nobody@example.org", "--all"], "no subscriber nobody@example.org"),
    (["kim@example.org", "--topic", "drivers-licenses"],
     "kim@example.org does not follow topic:drivers-licenses"),
    (["kim@example.org"], "name what to stop: --bill KEY, --topic ID, --jurisdiction J, or --all"),
    (["kim@example.org", "--all", "--jurisdiction", "va"], "name what to stop"),
    (["kim@", "--all"], "not an email address"),
]


def test_unsubscribe_refusals(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "subscribe", "kim@example.org", "--jurisdiction", "va")
    for args, message in UNSUBSCRIBE_REFUSALS:
        one_line_error(run_cli(capsys, "unsubscribe", *args), message)
    assert [r["active"] for r in listing(capsys)] == [True]


def test_subscriptions_as_a_table_and_as_csv(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "subscribe", "kim@example.org", "--jurisdiction", "va")

    table = run_cli(capsys, "subscriptions").lines()
    csv = run_cli(capsys, "subscriptions", "--format", "csv").lines()

    assert table[0].split() == ["email", "target", "within", "frequency", "language", "active",
                                "origin"]
    assert table[1].split() == ["kim@example.org", "jurisdiction:va", "daily", "en", "True",
                                "cli"]
    assert csv[0].startswith("email,name,affiliate,target,") and len(csv) == 2


def test_route_syncs_the_config_file_then_routes(
    env: Path, repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "subscribers.toml").write_text(
        '[[subscriber]]\nemail = "desk@example.org"\nfollow = ["jurisdiction:va"]\n'
    )
    store_bill(repo, bill("HB 1", INTRO), at=T0 - timedelta(days=1), baseline=True)

    first = run_cli(capsys, "route")
    assert first.code == 0, first.err
    assert first.lines()[0] == (f"{env / 'subscribers.toml'}: 1 subscribers; 1 subscriptions "
                                "created, 0 reactivated, 0 updated, 0 ended")
    assert first.lines()[1].startswith("routed 0 changes: 0 deliveries")

    store_bill(repo, bill("HB 1", INTRO, REFER), at=T0 + timedelta(days=3650))  # after "now"
    second = run_cli(capsys, "route")
    assert second.lines()[1].startswith("routed 2 changes: 2 deliveries to 1 subscribers")
    assert [(r["email"], r["origin"]) for r in listing(capsys)] == [("desk@example.org",
                                                                     "config")]


def test_a_broken_subscribers_file_is_one_line_naming_file_and_key(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "subscribers.toml").write_text(
        '[[subscriber]]\nemail = "desk@example.org"\nfollow = ["topic:nonsense"]\n'
    )
    one_line_error(run_cli(capsys, "route"),
                   "subscribers.toml: subscriber[1].follow[1]: unknown topic 'nonsense'")
