"""tracker.ftp: listing lines as tables, then the client against a real FTP server on loopback
(pyftpdlib, tests/loopback_ftp.py): walks over MLSD and both LIST styles, retrieval, the size
cap, retries with backoff, timeouts, pacing and the counters."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.loopback_ftp import LoopbackFtp, set_mtime
from tracker.errors import ConfigError, FetchError, ParseError, ResponseTooLarge
from tracker.ftp import FtpClient, FtpFile, ListingEntry, parse_list_line, parse_mlsd_line
from tracker.http import HttpClient, HttpStats

NOW = datetime(2025, 3, 1, 12, 0)  # naive, as the parsers take it


# ----------------------------------------------------------------------------------------------
# Listing lines
# ----------------------------------------------------------------------------------------------

LIST_LINES: list[tuple[str, ListingEntry | None]] = [
    # IIS / Windows, as ftp.legis.state.tx.us is documented to answer
    ("01-22-25  02:30PM                 4567 HB 1.xml",
     ListingEntry("HB 1.xml", False, 4567, datetime(2025, 1, 22, 14, 30))),
    ("11-05-24  09:15AM       <DIR>          HB00001_HB00099",
     ListingEntry("HB00001_HB00099", True, None, datetime(2024, 11, 5, 9, 15))),
    ("03-02-25  12:05AM                  12 midnight.xml",
     ListingEntry("midnight.xml", False, 12, datetime(2025, 3, 2, 0, 5))),
    ("03-02-25  12:40PM                  12 noon.xml",
     ListingEntry("noon.xml", False, 12, datetime(2025, 3, 2, 12, 40))),
    ("01-22-2025  14:30                 4567 four digit year.xml",
     ListingEntry("four digit year.xml", False, 4567, datetime(2025, 1, 22, 14, 30))),
    # Unix ls -l, recent (no year) and old (no time)
    ("-rw-r--r--   1 owner    group        4567 Jan 22 14:30 HB 1.xml",
     ListingEntry("HB 1.xml", False, 4567, datetime(2025, 1, 22, 14, 30))),
    ("-rw-r--r--   1 owner    group        4567 Dec 30 10:00 last year.xml",
     ListingEntry("last year.xml", False, 4567, datetime(2024, 12, 30, 10, 0))),
    ("-rw-r--r--   1 ftp      ftp          4567 Jan 22  2024 old.xml",
     ListingEntry("old.xml", False, 4567, datetime(2024, 1, 22))),
    ("drwxr-xr-x   2 ftp      ftp          4096 Feb 01 09:00 house_bills",
     ListingEntry("house_bills", True, 4096, datetime(2025, 2, 1, 9, 0))),
    ("-rw-r--r--   1 1000     4567 Jan 22 14:30 no group.xml",
     ListingEntry("no group.xml", False, 4567, datetime(2025, 1, 22, 14, 30))),
    # Lines that are not entries
    ("lrwxrwxrwx   1 ftp      ftp            10 Jan 22 14:30 latest -> HB 1.xml", None),
    ("drwxr-xr-x   2 ftp      ftp          4096 Feb 01 09:00 ..", None),
    ("total 12", None),
    ("", None),
]


@pytest.mark.parametrize(("line", "expected"), LIST_LINES, ids=[line for line, _ in LIST_LINES])
def test_list_lines(line: str, expected: ListingEntry | None) -> None:
    assert parse_list_line(line, now=NOW) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("HB 1.xml was modified some time ago", "unreadable listing line 'HB 1.xml was"),
        ("02-30-25  02:30PM                 4567 HB 1.xml", "impossible date"),
        ("-rw-r--r--   1 ftp ftp 4567 Foo 22 14:30 HB 1.xml", "unknown month in listing line"),
    ],
)
def test_unreadable_list_lines_are_refused(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_list_line(line, now=NOW)


MLSD_LINES: list[tuple[str, ListingEntry | None]] = [
    ("type=file;size=4567;modify=20250122143005; HB 1.xml",
     ListingEntry("HB 1.xml", False, 4567, datetime(2025, 1, 22, 14, 30, 5))),
    ("Type=dir;Modify=20241105091500.123;perm=el; house_bills",
     ListingEntry("house_bills", True, None, datetime(2024, 11, 5, 9, 15))),
    ("type=file;perm=r; no facts.xml", ListingEntry("no facts.xml", False, None, None)),
    ("type=cdir;modify=20250122143005; .", None),
    ("type=pdir;modify=20250122143005; ..", None),
    ("type=OS.unix=slink:/x;modify=20250122143005; latest", None),
]


@pytest.mark.parametrize(("line", "expected"), MLSD_LINES, ids=[line for line, _ in MLSD_LINES])
def test_mlsd_lines(line: str, expected: ListingEntry | None) -> None:
    assert parse_mlsd_line(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("size=12;modify=20250122143005; untyped.xml", "without a type fact"),
        ("type=file;modify=yesterday; x.xml", "unreadable MLSD modify"),
        ("type=file;modify=20250230143005; x.xml", "unreadable MLSD modify"),
        ("type=file;size=1;", "unreadable MLSD line"),
    ],
)
def test_unreadable_mlsd_lines_are_refused(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mlsd_line(line)


def test_marker_joins_time_and_size() -> None:
    assert FtpFile("/a/b.xml", 12, datetime(2025, 1, 2, 3, 4)).marker == "2025-01-02T03:04:00|12"
    assert FtpFile("/a/b.xml", None, None).marker == "|"


# ----------------------------------------------------------------------------------------------
# Against a real server
# ----------------------------------------------------------------------------------------------

#: Ten days ago, on a whole minute: every listing style (minute resolution, the Unix "recent"
#: form) then reports the same time.
MTIME = (int(time.time()) - 10 * 86400) // 60 * 60
TREE = {
    "bills/89R/billhistory/house_bills/HB00001_HB00099/HB 1.xml": b"<billhistory/>" * 3,
    "bills/89R/billhistory/house_bills/HB00001_HB00099/HB 2.xml": b"<billhistory/>",
    "bills/89R/billhistory/senate_bills/SB00001_SB00099/SB 1.xml": b"<x/>",
    "bills/89R/billhistory/notes.txt": b"not a bill",
}


class Sleeps:
    """An injected sleep that records and advances an injected clock instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ftp"
    for relative, body in TREE.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        set_mtime(path, MTIME)
    return root


@pytest.fixture
def server(tree: Path) -> Iterator[LoopbackFtp]:
    with LoopbackFtp(tree) as running:
        yield running


def client_for(server: LoopbackFtp, sleeps: Sleeps | None = None, **options: object) -> FtpClient:
    sleeps = sleeps or Sleeps()
    settings: dict[str, object] = {
        "host": "127.0.0.1", "port": server.port, "min_interval": 0.0, "retries": 2,
        "connect_timeout": 2.0, "read_timeout": 2.0, "sleep": sleeps.sleep,
        "clock": sleeps.clock,
    }  # fmt: skip
    return FtpClient(**{**settings, **options})  # type: ignore[arg-type]


def expected_files() -> list[tuple[str, int, datetime]]:
    when = datetime.fromtimestamp(MTIME, UTC).replace(tzinfo=None)
    return sorted(("/" + rel, len(body), when) for rel, body in TREE.items())


@pytest.mark.parametrize("listing", ["mlsd", "unix", "iis"])
def test_walk_finds_every_file_with_size_and_time(tree: Path, listing: str) -> None:
    with LoopbackFtp(tree, listing=listing) as server, client_for(server) as client:
        files = list(client.walk("/bills/89R/billhistory"))
    assert [(f.path, f.size, f.modified) for f in files] == expected_files()
    # MLSD is asked once; a server without it is asked for LIST from then on
    assert server.count("MLSD") == (5 if listing == "mlsd" else 1)
    assert server.count("LIST") == (0 if listing == "mlsd" else 5)
    assert client.stats.listings == (5 if listing == "mlsd" else 6)
    assert server.count("USER") == 1  # one connection for the whole walk


def test_a_listing_in_no_known_style_is_a_parse_error_naming_the_folder(tree: Path) -> None:
    with (
        LoopbackFtp(tree, listing="broken") as server,
        client_for(server) as client,
        pytest.raises(ParseError) as caught,
    ):
        list(client.walk("/bills/89R/billhistory/"))
    message = str(caught.value)
    assert message.startswith(f"{server.url}/bills/89R/billhistory/: unreadable listing line")
    assert "\n" not in message


def test_retrieve_returns_the_bytes_and_counts(server: LoopbackFtp) -> None:
    report = HttpStats()
    with client_for(server, report_to=report) as client:
        path = "/bills/89R/billhistory/house_bills/HB00001_HB00099/HB 1.xml"
        assert client.retrieve(path, listed_size=42) == TREE[path[1:]]
        assert client.url(path) == f"{server.url}{path.replace(' ', '%20')}"
    assert server.retrieved == [path]
    assert (client.stats.connections, client.stats.retrievals, client.stats.bytes) == (1, 1, 42)
    assert (report.requests, report.bytes) == (2, 42)  # the login and the retrieval
    assert server.count("QUIT") == 1


def test_missing_file_is_final_and_keeps_the_connection(server: LoopbackFtp) -> None:
    with client_for(server) as client:
        with pytest.raises(FetchError) as caught:
            client.retrieve("/bills/nope.xml")
        assert client.retrieve("/bills/89R/billhistory/notes.txt") == b"not a bill"
    assert str(caught.value).startswith(f"cannot retrieve {server.url}/bills/nope.xml: 550 ")
    assert caught.value.url == f"{server.url}/bills/nope.xml"
    assert client.stats.retries == 0
    assert server.count("USER") == 1


def test_missing_folder_is_a_one_line_fetch_error(server: LoopbackFtp) -> None:
    with client_for(server) as client, pytest.raises(FetchError) as caught:
        list(client.walk("/bills/99R/billhistory"))
    assert str(caught.value).startswith(f"cannot list {server.url}/bills/99R/billhistory/: 550")


def test_size_cap(server: LoopbackFtp) -> None:
    path = "/bills/89R/billhistory/house_bills/HB00001_HB00099/HB 1.xml"
    with client_for(server, max_bytes=20) as client:
        with pytest.raises(ResponseTooLarge, match="listed size 42 passes the 20-byte cap"):
            client.retrieve(path, listed_size=42)
        assert server.count("RETR") == 0  # refused unread
        with pytest.raises(ResponseTooLarge, match="the file passes the 20-byte cap"):
            client.retrieve(path)
        # the cut transfer left the connection unusable: the next call opens a new one
        assert client.retrieve("/bills/89R/billhistory/notes.txt") == b"not a bill"
    assert server.count("USER") == 2


def test_refused_connections_are_retried_with_backoff(server: LoopbackFtp) -> None:
    sleeps = Sleeps()
    server.refuse = 2
    with client_for(server, sleeps, backoff_factor=0.5) as client:
        assert client.retrieve("/bills/89R/billhistory/notes.txt") == b"not a bill"
    assert sleeps.calls == [0.5, 1.0]
    assert (client.stats.retries, client.stats.connections) == (2, 3)


def test_refusal_past_the_retries_is_one_line(server: LoopbackFtp) -> None:
    server.refuse = 10
    with client_for(server, retries=2) as client, pytest.raises(FetchError) as caught:
        client.list_folder("/bills/")
    assert str(caught.value) == (
        f"cannot list {server.url}/bills/: 421 Too many users, try again later. after 2 retries"
    )


def test_nothing_listening_is_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends
    client = FtpClient(host="127.0.0.1", port=port, retries=1, sleep=lambda s: None,
                       min_interval=0)
    with pytest.raises(FetchError, match=rf"^cannot list ftp://127\.0\.0\.1:{port}/: connection "
                                         r"refused after 1 retry$"):
        client.list_folder("/")


def test_a_dropped_connection_is_reopened_and_the_retrieval_retried(server: LoopbackFtp) -> None:
    server.drop["notes.txt"] = 1
    with client_for(server) as client:
        assert client.retrieve("/bills/89R/billhistory/notes.txt") == b"not a bill"
    assert client.stats.retries == 1
    assert server.count("RETR") == 2
    assert server.count("USER") == 2


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are queued, never answered
        port = silent.getsockname()[1]
        client = FtpClient(host="127.0.0.1", port=port, retries=0, connect_timeout=0.2,
                           read_timeout=0.2, min_interval=0)
        started = time.perf_counter()
        with pytest.raises(FetchError, match="timed out"):
            client.list_folder("/")
    assert time.perf_counter() - started < 2


def test_operations_are_paced(server: LoopbackFtp) -> None:
    sleeps = Sleeps()
    with client_for(server, sleeps, min_interval=2.0) as client:
        list(client.walk("/bills/89R/billhistory/senate_bills"))
        client.retrieve("/bills/89R/billhistory/notes.txt")
    # login, two listings, one retrieval: each start waits for the one before plus 2 s
    assert sleeps.calls == [2.0, 2.0, 2.0]


def test_a_folder_loop_stops_at_the_depth_limit(tree: Path) -> None:
    (tree / "loop").symlink_to(tree)  # pyftpdlib's MLSD reports the link as a folder
    with (
        LoopbackFtp(tree) as server,
        client_for(server) as client,
        pytest.raises(FetchError, match="folders nested more than 12 deep"),
    ):
        list(client.walk("/loop"))


def test_for_url_takes_the_politeness_of_the_http_client() -> None:
    sleeps = Sleeps()
    http = HttpClient(
        user_agent="tracker/0.1 (legislation alerts; contact: ops@example.org)",
        connect_timeout=3, read_timeout=7, max_bytes=1234, retries=5, backoff_factor=0.25,
        min_interval=1.5, sleep=sleeps.sleep, clock=sleeps.clock,
    )
    client = FtpClient.for_url("ftp://ftp.example.org:2121", http=http)
    assert (client.host, client.port, client.user, client.password) == (
        "ftp.example.org", 2121, "anonymous", "ops@example.org"
    )
    assert (client.connect_timeout, client.read_timeout, client.max_bytes) == (3, 7, 1234)
    assert (client.retries, client.backoff_factor) == (5, 0.25)
    assert client.origin == "ftp://ftp.example.org:2121"
    assert FtpClient.for_url("ftp://ftp.example.org", http=http).origin == "ftp://ftp.example.org"


@pytest.mark.parametrize("url", ["http://ftp.example.org", "ftp://", "ftp://host:notaport"])
def test_for_url_refuses_what_is_not_an_ftp_url(url: str) -> None:
    http = HttpClient(user_agent="test")
    with pytest.raises(ConfigError, match="is not an ftp://host"):
        FtpClient.for_url(url, http=http)
