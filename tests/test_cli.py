"""The ``tracker`` command as a newcomer uses it: init, poll, inspect, bills, history, events,
sources — and one-line errors, never tracebacks, for expected failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from tests.cli_helpers import run_cli
from tests.conftest import shared
from tests.govinfo_mirror import BASE, EXPECTED_STAGES, Mirror, serving


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.toml").write_text(
        f'[sources.us-govinfo]\nenabled = true\nsessions = ["114", "116", "117"]\n'
        f'base_url = "{BASE}"\ninterval = "2s"\n'
    )
    # No politeness pauses or retry backoff against the loopback mirror.
    (config / "tracker.toml").write_text("[http]\nmin_interval = 0\nretries = 1\n")
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    monkeypatch.setenv("TRACKER_DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.chdir(tmp_path)
    return config


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with serving() as served:
        yield served


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "--help")
    assert outcome.code == 0
    for command in ("init", "poll", "inspect", "bills", "history", "events", "sources"):
        assert command in outcome.out


def test_init_poll_and_query(env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "init").code == 0
    polled = run_cli(capsys, "poll")
    assert polled.code == 0, polled.err
    assert polled.lines()[0].startswith("us-govinfo: ok; 13 discovered, 13 fetched")

    bills = [json.loads(line) for line in run_cli(capsys, "bills", "--format", "json").lines()]
    assert {b["key"]: b["stage"] for b in bills} == EXPECTED_STAGES
    assert set(bills[0]) >= {
        "key",
        "jurisdiction",
        "session",
        "identifier",
        "title",
        "stage",
        "last_action_date",
        "topics",
    }

    enacted = run_cli(capsys, "bills", "--stage", "enacted", "--format", "csv").lines()
    assert enacted[0].startswith("key,jurisdiction,session")
    assert len(enacted) == 1 + 3

    table = run_cli(capsys, "bills", "--jurisdiction", "us", "--session", "117", "--q", "adoptee")
    assert [line.split("  ")[0] for line in table.lines()[1:]] == ["us/117/HR 1593", "us/117/S 967"]

    history = [
        json.loads(x) for x in run_cli(capsys, "history", "us/117/hr2471", "-f", "json").lines()
    ]
    actions = [h for h in history if h["record"] == "action"]
    assert actions[-1]["description"] == "Became Public Law No: 117-103."
    assert actions == sorted(actions, key=lambda a: a["date"])
    assert [h["kind"] for h in history if h["record"] == "event"] == ["new-bill"]

    events = [json.loads(x) for x in run_cli(capsys, "events", "--format", "json").lines()]
    assert len(events) == 13 and all(e["baseline"] for e in events)
    assert set(events[0]) >= {"id", "bill", "kind", "detected_at", "baseline", "details"}
    assert run_cli(capsys, "events", "--kind", "new-action", "-f", "json").lines() == []

    sources = {
        json.loads(x)["name"]: json.loads(x)
        for x in run_cli(capsys, "sources", "-f", "json").lines()
    }
    govinfo = sources["us-govinfo"]
    assert govinfo["enabled"] and govinfo["healthy"] and govinfo["bills"] == 13
    assert govinfo["last_success"] is not None and govinfo["consecutive_failures"] == 0


def test_poll_of_a_source_that_is_down_exits_1_in_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with responses.RequestsMock() as rsps:
        rsps.add(responses.GET, f"{BASE}/sitemap/bulkdata/BILLSTATUS/sitemapindex.xml", status=503)
        outcome = run_cli(capsys, "poll", "us-govinfo")
    assert outcome.code == 1
    assert "503 Service Unavailable" in outcome.out
    assert "Traceback" not in outcome.out + outcome.err
    status = json.loads(
        next(
            line
            for line in run_cli(capsys, "sources", "-f", "json").lines()
            if '"us-govinfo"' in line
        )
    )
    assert status["consecutive_failures"] == 1 and "503" in status["last_error"]


@pytest.mark.parametrize(
    ("relative", "identifier", "stage"),
    [
        ("immigration/117/bills/s/s3157/fdsys_billstatus.xml", "S 3157", "enacted"),
        ("immigration/117/bills/hr/hr6/fdsys_billstatus.xml", "HR 6", "passed-origin"),
        ("legacy/BILLSTATUS-114sjres8.xml", "SJRES 8", "vetoed"),
        ("immigration/117/bills/hr/hr1593/fdsys_billstatus.xml", "HR 1593", "in-committee"),
    ],
)
def test_inspect_real_samples(
    capsys: pytest.CaptureFixture[str], relative: str, identifier: str, stage: str
) -> None:
    outcome = run_cli(capsys, "inspect", "us-govinfo", str(shared("govinfo-billstatus", relative)))
    assert outcome.code == 0, outcome.err
    (row,) = [json.loads(line) for line in outcome.lines()]
    assert (row["identifier"], row["stage"]) == (identifier, stage)
    assert row["title"] and row["actions"] and row["url"].startswith("https://www.congress.gov/")
    assert set(row["actions"][0]) == {"date", "actor", "description", "classification"}


def test_inspect_a_folder_gives_every_sample(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "inspect", "us-govinfo", str(shared("govinfo-billstatus")))
    assert outcome.code == 0
    assert len(outcome.lines()) == 14  # 13 bills, S 35 in two schema generations


def test_inspect_malformed_document_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<billStatus><bill><number>1</number>")
    outcome = run_cli(capsys, "inspect", "us-govinfo", str(bad))
    assert outcome.code == 1
    assert outcome.err.startswith("error: ") and str(bad) in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1
    missing = run_cli(capsys, "inspect", "us-govinfo", str(tmp_path / "nope.xml"))
    assert missing.code == 1 and "nope.xml" in missing.err


def test_bad_config_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sources.toml").write_text('[sources.us-govinfo]\ninterval = "soon"\n')
    monkeypatch.setenv("TRACKER_CONFIG", str(tmp_path))
    outcome = run_cli(capsys, "sources")
    assert outcome.code == 1
    assert outcome.err.strip() == (
        f"error: {tmp_path / 'sources.toml'}: sources.us-govinfo.interval: "
        '\'soon\' is not a duration (use e.g. "4h", "30m", "2s")'
    )


def test_unreachable_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x")
    monkeypatch.chdir(tmp_path)
    outcome = run_cli(capsys, "bills")
    assert outcome.code == 1
    assert "cannot be opened" in outcome.err and "secret" not in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


def test_unknown_bill_and_bad_key(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no bill us/117/HR 99999" in run_cli(capsys, "history", "us/117/HR 99999").err
    bad = run_cli(capsys, "history", "HR 1")
    assert bad.code == 1 and "looks like us/117/HR 2471" in bad.err


def test_poll_skips_keyed_sources_without_their_key(
    env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONGRESS_API_KEY", raising=False)
    monkeypatch.delenv("DATA_GOV_API_KEY", raising=False)
    with (env / "sources.toml").open("a") as fh:
        fh.write('\n[sources.us-congress]\nenabled = true\nsessions = ["117"]\n'
                 'key_env = ["CONGRESS_API_KEY"]\n')
    outcome = run_cli(capsys, "poll")
    assert outcome.code == 0, outcome.err
    assert "us-congress: skipped: no API key; set CONGRESS_API_KEY" in outcome.out
    assert any(line.startswith("us-govinfo: ok") for line in outcome.lines())
