"""Hostile text from upstream, through a real poll (va-lis over loopback) into the store and
out of the ``tracker`` command, and CSV files only a broken or hostile server would send.

What the BOM, ragged rows and a stray Windows-1252 byte do is proved on the project's
session fixture by ``tests/scrapers/test_va_lis_parse.py`` (test_bom_and_ragged_rows,
test_summaries_newest_html_and_a_stray_byte); mail and pages are covered by
``tests/notifiers`` and ``tests/web`` (see docs/reliability.md). Here:

* a title with markup, a script, CR/LF with a forged header line, bidi overrides,
  zero-width characters, homoglyphs, terminal escape sequences and NUL is stored without
  its control characters (PostgreSQL refuses NUL in text; ESC drives terminals), and the
  CLI's table and CSV outputs show it on one line without invisible or control characters,
  a formula-like title made inert for spreadsheets, while JSON keeps the text as stored;
* CSV files with a quoted line break in the header, a field past the csv module's limit,
  or NUL in a bill number fail with one line naming the file (and the line).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrapers.va_lis import VaLis
from scrapers.va_lis.parse import parse_bundle
from tests.cli_helpers import run_cli
from tests.conftest import PROJECT_FIXTURES
from tests.faults.deployment import deployment, source_table
from tests.faults.upstreams import Virginia
from tests.loopback_http import LoopbackHttp
from tracker.errors import ParseError
from tracker.http import HttpClient
from tracker.models import BillKey
from tracker.pipeline import Pipeline
from tracker.settings import Settings, SourceSettings
from tracker.storage.repository import Repository

HOSTILE = ('<script>alert(1)</script> <b>Driver</b> "privilege" cards\r\nBcc: victim@example.org '
           "\u202egnp.exe\u202c zero\u200bwidth \x1b[2J\x1b]0;pwned\x07 nul\x00here "
           "Ра\u0443раl")  # Cyrillic look-alikes
FORMULA = '=HYPERLINK("http://evil.example","click")'
ORIGINAL = "Driver privilege cards; renewal by mail."
SESSION = PROJECT_FIXTURES / "va-lis" / "session-2026"


def bills_file(title: str, *, second: str | None = None) -> bytes:
    body = (SESSION / "BILLS.CSV").read_bytes()
    escaped = title.replace('"', '""').encode()
    body = body.replace(ORIGINAL.encode(), escaped, 1)
    if second is not None:
        language = b"Language access; state agencies, translation of vital documents."
        assert language in body
        body = body.replace(language, second.replace('"', '""').encode(), 1)
    return body


@pytest.fixture
def upstream() -> Iterator[tuple[LoopbackHttp, Virginia]]:
    with LoopbackHttp() as server:
        yield server, Virginia(server)


def poll(repo: Repository, server: LoopbackHttp) -> None:
    source = SourceSettings(name="va-lis", enabled=True, base_url=server.url,
                            sessions=("2026",))
    settings = Settings(config_dir=Path("."), database_url="", sources={"va-lis": source})
    pipeline = Pipeline(settings=settings, repo=repo, registry={"va-lis": VaLis},
                        http=HttpClient(user_agent="faults", min_interval=0, retries=0))
    report = pipeline.poll("va-lis")
    assert report.status == "ok", report.summary_line()


def test_a_hostile_title_is_stored_without_controls_and_shown_safely(
    repo: Repository, upstream: tuple[LoopbackHttp, Virginia], database_url: str,
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, lis = upstream
    lis.files["BILLS.CSV"] = bills_file(HOSTILE, second=FORMULA)
    poll(repo, server)
    with repo.read() as session:
        stored = repo.get_bill(session, BillKey.parse("va/2026/HB 1"))
    assert stored is not None
    title = stored.title
    assert "\x00" not in title and "\x1b" not in title and "\x07" not in title
    assert "\r" not in title and "\n" not in title
    assert "<script>alert(1)</script>" in title, "kept as text: escaping is the outputs' job"
    assert "\u202e" in title, "stored as upstream wrote it; outputs drop it"

    place = deployment(tmp_path, database_url=database_url,
                       sources=source_table("va-lis", base_url=server.url, sessions=("2026",)))
    for name, value in place.environ.items():
        monkeypatch.setenv(name, value)

    table = run_cli(capsys, "bills", "--jurisdiction", "va")
    assert table.code == 0, table.err
    assert len(table.lines()) == 1 + 4, "a header and one line per bill"
    for invisible in ("\x1b", "\x07", "\x00", "\u202e", "\u202c", "\u200b", "\r"):
        assert invisible not in table.out, repr(invisible)
    assert "<script>alert(1)</script> <b>Driver</b>" in table.out, "shown as text"

    exported = run_cli(capsys, "bills", "--jurisdiction", "va", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    titles = {row["key"]: row["title"] for row in rows}
    assert titles["va/2026/HB 2"] == "'" + FORMULA, "a spreadsheet must not run it"
    assert "\u202e" not in titles["va/2026/HB 1"] and "\x1b" not in titles["va/2026/HB 1"]

    as_json = run_cli(capsys, "bills", "--jurisdiction", "va", "--format", "json")
    records = {r["key"]: r for r in map(json.loads, as_json.lines())}
    assert records["va/2026/HB 1"]["title"] == title, "JSON keeps the stored text whole"
    assert records["va/2026/HB 2"]["title"] == FORMULA


def test_a_header_with_a_line_break_fails_in_one_line() -> None:
    files = {p.name: p.read_bytes() for p in SESSION.iterdir()}
    files["BILLS.CSV"] = b'"Bill\r\nid","Bill_description"\r\n"HB1","A bill"\r\n'
    with pytest.raises(ParseError) as caught:
        parse_bundle(files, session="2026", folder="http://lis.test/20261/")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith("http://lis.test/20261/BILLS.CSV: no 'Bill_id' column")


def test_a_field_past_the_csv_limit_names_the_file_and_line() -> None:
    files = {p.name: p.read_bytes() for p in SESSION.iterdir()}
    files["HISTORY.CSV"] += b'"HB1","' + b"x" * 200_000 + b'"\r\n'
    with pytest.raises(ParseError, match=r"HISTORY\.CSV: line \d+: field larger than field"):
        parse_bundle(files, session="2026", folder="http://lis.test/20261/")


def test_nul_in_a_bill_number_is_refused_naming_the_line() -> None:
    files = {p.name: p.read_bytes() for p in SESSION.iterdir()}
    files["BILLS.CSV"] = files["BILLS.CSV"].replace(b'"HB1"', b'"HB1\x00"', 1)
    with pytest.raises(ParseError) as caught:
        parse_bundle(files, session="2026", folder="http://lis.test/20261/")
    assert "BILLS.CSV: line 2: bill number 'HB1\\x00' cannot be read" in str(caught.value)
