"""tracker.http: retries, rate limits, conditional GET, size cap, truncation, timeouts, pacing.

``responses`` covers what a mocked transport can show (it applies the adapter's urllib3
``Retry`` but never sleeps). Truncated bodies, gzip bombs, timeouts and real retry sleeps need
bytes on a socket, so those tests run a tiny ``http.server`` on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from responses import matchers, registries

from tracker.errors import FetchError, HttpStatusError, RateLimited, ResponseTooLarge
from tracker.http import HttpClient, HttpStats, redact_url
from tracker.records import Validators
from tracker.settings import HttpSettings

UA = "tracker/0.1 (legislation alerts; contact: ops@example.org)"
URL = "http://leg.example.org/bills/HB1.xml"


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps (or we advance it)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_client(fake: FakeTime, **overrides: object) -> HttpClient:
    options: dict[str, object] = {"user_agent": UA, "min_interval": 0.0, "retries": 4}
    options.update(overrides)
    return HttpClient(**options, sleep=fake.sleep, clock=fake.clock)  # type: ignore[arg-type]


@pytest.fixture
def client(fake_time: FakeTime) -> Iterator[HttpClient]:
    with make_client(fake_time) as http:
        yield http


# -- a real loopback server ---------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


class Loopback:
    """``http.server`` on 127.0.0.1 answering every GET with the current ``route``."""

    def __init__(self) -> None:
        self.route: Route = lambda handler: handler.send_error(404)
        self.release = threading.Event()  # lets handlers that hang go home at teardown
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                loopback.route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/doc") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


# -- retries and status errors ------------------------------------------------------------------


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_503_then_429_then_200_is_retried_to_success(client: HttpClient) -> None:
    responses.get(URL, status=503)
    responses.get(URL, status=429)
    responses.get(URL, status=200, body=b"<bill/>")

    result = client.get(URL)

    assert (result.status, result.body, result.unchanged) == (200, b"<bill/>", False)
    assert len(responses.calls) == 3
    assert client.stats.snapshot().requests == 3  # retries are requests too


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_500_every_time_raises_http_status_error_after_the_retries(fake_time: FakeTime) -> None:
    for _ in range(3):
        responses.get(URL, status=500)
    http = make_client(fake_time, retries=2)

    with pytest.raises(HttpStatusError) as caught:
        http.get(URL)

    assert str(caught.value) == f"500 Internal Server Error from {URL} after 2 retries"
    assert (caught.value.status, caught.value.url) == (500, URL)
    assert http.stats.snapshot().requests == 3


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_404_is_not_retried(client: HttpClient) -> None:
    responses.get(URL, status=404)
    with pytest.raises(HttpStatusError, match=r"^404 Not Found from .* after 0 retries$"):
        client.get(URL)


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_retry_after_beyond_the_cap_raises_rate_limited_without_retrying(
    client: HttpClient,
) -> None:
    # Registered once: a second attempt would find nothing and fail differently.
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    before = datetime.now(UTC)

    with pytest.raises(RateLimited) as caught:
        client.get(URL)

    not_before = caught.value.not_before
    assert not_before.tzinfo is not None
    assert not_before.utcoffset() == timedelta(0)
    expected = before + timedelta(seconds=3600)
    assert expected <= not_before <= expected + timedelta(seconds=5)
    assert str(caught.value).startswith(f"429 Too Many Requests from {URL}: asked to wait 3600s")


@responses.activate
def test_retry_after_as_an_http_date_beyond_the_cap(client: HttpClient) -> None:
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    responses.get(URL, status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})

    with pytest.raises(RateLimited) as caught:
        client.get(URL)

    assert abs(caught.value.not_before - when) <= timedelta(seconds=2)
    assert len(responses.calls) == 1


def test_retry_after_within_the_cap_sleeps_through_the_injected_sleep(
    loopback: Loopback, fake_time: FakeTime
) -> None:
    answers = iter([(503, "7"), (200, None)])

    def route(handler: BaseHTTPRequestHandler) -> None:
        status, retry_after = next(answers)
        extra = {"Retry_After": retry_after} if retry_after else {}
        send(handler, status, b"ok", Content_Length="2", **extra)

    loopback.route = route
    with make_client(fake_time) as http:
        result = http.get(loopback.url())

    assert result.body == b"ok"
    assert fake_time.sleeps == [7]  # urllib3 honoured Retry-After, but slept through our sleep


@responses.activate(registry=registries.OrderedRegistry, assert_all_requests_are_fired=True)
def test_post_is_not_retried_on_status(client: HttpClient) -> None:
    responses.post(URL, status=503, match=[matchers.json_params_matcher({"q": "asylum"})])

    with pytest.raises(HttpStatusError, match="after 0 retries"):
        client.post(URL, json={"q": "asylum"})

    assert len(responses.calls) == 1


@responses.activate
def test_post_returns_the_answer(client: HttpClient) -> None:
    responses.post(
        URL, body=b'{"ok": true}', match=[matchers.urlencoded_params_matcher({"a": "1"})]
    )
    result = client.post(URL, data={"a": "1"})
    assert (result.status, result.body) == (200, b'{"ok": true}')
    assert result.headers["content-type"] == "text/plain"  # looked up in any case


# -- conditional GET ------------------------------------------------------------------------------


@responses.activate
def test_conditional_get_sends_validators_and_a_304_is_unchanged(client: HttpClient) -> None:
    previous = Validators(
        etag='"v1"', last_modified="Tue, 01 Dec 2026 10:00:00 GMT", sha256="ab" * 32, lastmod="x"
    )
    responses.get(
        URL,
        status=304,
        match=[
            matchers.header_matcher(
                {"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 01 Dec 2026 10:00:00 GMT"}
            )
        ],
    )

    result = client.get(URL, previous=previous)

    assert (result.status, result.body, result.unchanged) == (304, b"", True)
    assert result.validators == previous
    assert client.stats.snapshot().not_modified == 1


@responses.activate
def test_no_conditional_headers_without_previous(client: HttpClient) -> None:
    responses.get(URL, body=b"x")
    client.get(URL)
    sent = responses.calls[0].request.headers
    assert "If-None-Match" not in sent
    assert "If-Modified-Since" not in sent


@responses.activate(registry=registries.OrderedRegistry)
def test_same_body_hash_is_unchanged_and_a_new_body_is_not(client: HttpClient) -> None:
    responses.get(URL, body=b"<bill v=1/>", headers={"ETag": '"e1"'})
    responses.get(URL, body=b"<bill v=1/>")
    responses.get(URL, body=b"<bill v=2/>", headers={"Last-Modified": "Wed, 02 Dec 2026 GMT"})

    first = client.get(URL)
    stored = Validators(etag=None, sha256=first.validators.sha256, lastmod="2026-12-02")
    same = client.get(URL, previous=stored)
    changed = client.get(URL, previous=stored)

    assert first.validators.etag == '"e1"'
    assert not first.unchanged
    assert same.unchanged
    assert same.body == b"<bill v=1/>"
    assert same.status == 200
    assert not changed.unchanged
    assert changed.validators.sha256 != stored.sha256
    assert changed.validators.last_modified == "Wed, 02 Dec 2026 GMT"
    assert changed.validators.lastmod == "2026-12-02"  # copied from previous


# -- size cap, gzip bomb, truncation, timeouts ----------------------------------------------------


@responses.activate
def test_size_cap_by_content_length_before_reading(fake_time: FakeTime) -> None:
    responses.get(URL, body=b"small", headers={"Content-Length": str(10**9)})
    http = make_client(fake_time, max_bytes=1000)
    with pytest.raises(ResponseTooLarge, match=rf"^{URL}: Content-Length 1000000000 passes"):
        http.get(URL)


@responses.activate
def test_size_cap_by_streamed_body(fake_time: FakeTime) -> None:
    responses.get(URL, body=b"x" * 5000)  # responses sends no Content-Length by default
    http = make_client(fake_time, max_bytes=1000)
    with pytest.raises(ResponseTooLarge, match="the body passes the 1000-byte cap"):
        http.get(URL)


@responses.activate
def test_body_at_the_cap_is_fine(fake_time: FakeTime) -> None:
    responses.get(URL, body=b"x" * 1000)
    assert len(make_client(fake_time, max_bytes=1000).get(URL).body) == 1000


def gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def test_gzip_bomb_stops_at_the_cap_with_bounded_memory(
    loopback: Loopback, fake_time: FakeTime
) -> None:
    bomb = gzip_of_zeros(64 * 1024 * 1024)  # about 64 KB that inflates to 64 MB
    assert len(bomb) < 200_000
    loopback.route = lambda h: send(
        h, 200, bomb, Content_Encoding="gzip", Content_Length=str(len(bomb))
    )
    cap = 1024 * 1024

    with make_client(fake_time, max_bytes=cap) as http:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge, match="the body passes the 1048576-byte cap"):
                http.get(loopback.url())
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak < 4 * cap  # nowhere near the 64 MB the bomb inflates to


def test_truncated_body_raises_fetch_error(loopback: Loopback, fake_time: FakeTime) -> None:
    def liar(handler: BaseHTTPRequestHandler) -> None:
        send(handler, 200, b"<bill>only part", Content_Length="5000", Connection="close")
        handler.close_connection = True

    loopback.route = liar
    url = loopback.url()
    with make_client(fake_time) as http, pytest.raises(FetchError) as caught:
        http.get(url)

    assert str(caught.value) == (
        f"cannot fetch {url}: body truncated (the connection closed before the whole body arrived)"
    )
    assert caught.value.url == url


def test_read_timeout_raises_fetch_error_within_about_the_timeout(
    loopback: Loopback, fake_time: FakeTime
) -> None:
    loopback.route = lambda handler: loopback.release.wait(10)  # accept, read, never answer
    url = loopback.url()
    started = time.monotonic()

    with (
        make_client(fake_time, read_timeout=0.3, retries=0) as http,
        pytest.raises(FetchError) as e,
    ):
        http.get(url)

    assert time.monotonic() - started < 2.0
    assert str(e.value) == f"cannot fetch {url}: read timed out after 0.3s"


def test_connection_refused_is_retried_then_fetch_error_without_the_key(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api?state=va&api_key=SEKRET123&q=1"
    http = make_client(fake_time, retries=2)

    with caplog.at_level(logging.DEBUG, logger="tracker.http"), pytest.raises(FetchError) as e:
        http.get(url)

    message = str(e.value)
    assert message == (
        f"cannot fetch http://127.0.0.1:{port}/api?state=va&api_key=***&q=1: "
        "cannot connect (Connection refused) after 2 retries"
    )
    # Neither our line nor urllib3's own "Retrying ..." warnings hold the key.
    assert "SEKRET123" not in caplog.text
    assert "api_key=***" in caplog.text
    assert any(r.name == "urllib3.connectionpool" for r in caplog.records)
    assert e.value.__cause__ is None
    assert e.value.__suppress_context__
    assert http.stats.snapshot().requests == 3
    assert len(fake_time.sleeps) == 1  # urllib3 backs off from the second retry on


# -- secrets, headers, logging --------------------------------------------------------------------


@responses.activate
def test_keys_in_the_query_never_reach_error_messages(client: HttpClient) -> None:
    secret_url = "http://api.example.org/v1/bills?token=SEKRET&page=2"
    responses.get("http://api.example.org/v1/bills", status=403)

    with pytest.raises(HttpStatusError) as status_error:
        client.get(secret_url)
    with pytest.raises(FetchError) as transport_error:  # unregistered: responses' ConnectionError
        client.get("http://other.example.org/?apikey=SEKRET")

    for error in (status_error.value, transport_error.value):
        assert "SEKRET" not in str(error)
    assert str(status_error.value).startswith(
        "403 Forbidden from http://api.example.org/v1/bills?token=***&page=2"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://x/y?key=1&q=a", "http://x/y?key=***&q=a"),
        ("http://x/y?API_KEY=1", "http://x/y?API_KEY=***"),
        ("http://x/y?apikey=1&access_token=2", "http://x/y?apikey=***&access_token=***"),
        ("http://x/y?keyword=asylum", "http://x/y?keyword=asylum"),
        ("http://x/y", "http://x/y"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@responses.activate
def test_user_agent_and_accept_encoding_on_every_request(
    client: HttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    expected = {"User-Agent": UA, "Accept-Encoding": "gzip, deflate"}
    responses.get(URL, body=b"abc", match=[matchers.header_matcher(expected)])

    with caplog.at_level(logging.DEBUG, logger="tracker.http"):
        client.get(URL, headers={"Accept": "application/xml"})

    assert responses.calls[0].request.headers["Accept"] == "application/xml"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "tracker.http"]
    assert line.startswith(f"GET {URL} -> 200, 3 bytes (3 wire bytes, 0 retries, ")
    assert line.endswith(" ms)")


# -- pacing ---------------------------------------------------------------------------------------


@responses.activate
def test_min_interval_per_host_with_fake_clock(fake_time: FakeTime) -> None:
    other = "http://other.example.org/x"
    responses.get(URL, body=b"a")
    responses.get(other, body=b"b")
    http = make_client(fake_time, min_interval=1.0)

    http.get(URL)  # first request to a host: no wait
    fake_time.now += 0.25
    http.get(URL)  # 0.25 s after the first start: wait the remaining 0.75 s
    http.get(other)  # another host has its own schedule
    http.get(URL)  # right after: a full interval
    http.set_min_interval("LEG.example.org", 5.0)
    http.get(URL)  # the slot reserved before the override still stands: 1 s
    http.get(URL)  # now the override: 5 s

    assert fake_time.sleeps == [0.75, 1.0, 1.0, 5.0]


def test_concurrent_callers_are_spaced_one_interval_apart() -> None:
    lock = threading.Lock()
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(round(seconds, 6))

    http = HttpClient(user_agent=UA, min_interval=2.0, clock=lambda: now[0], sleep=sleep)
    pacer = http._pacer  # the limiter alone: threads race for slots at the same instant
    threads = [threading.Thread(target=pacer.wait, args=("h",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == [2.0, 4.0, 6.0]


# -- stats and settings ---------------------------------------------------------------------------


@responses.activate
def test_stats_count_requests_and_bytes_and_measure_is_per_thread(client: HttpClient) -> None:
    responses.get(URL, body=b"x" * 100)
    before = client.stats.snapshot()

    with client.measure() as mine:
        client.get(URL)
        worker = threading.Thread(target=client.get, args=(URL,))
        worker.start()
        worker.join()

    assert (mine.requests, mine.bytes) == (1, 100)  # the other thread's fetch is not ours
    delta = client.stats - before
    assert (delta.requests, delta.bytes, delta.not_modified) == (2, 200, 0)
    assert client.stats.reset().requests == 2
    assert client.stats.snapshot() == HttpStats()


def test_from_settings() -> None:
    settings = HttpSettings(
        contact="ops@example.org", connect_timeout=2, read_timeout=9, max_bytes=123, retries=1
    )
    http = HttpClient.from_settings(settings)
    assert http.user_agent == UA
    assert http.timeout == (2, 9)
    assert http.max_bytes == 123
