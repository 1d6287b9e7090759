"""Hostile documents against every parser of upstream bytes: refused quickly, in bounded
memory, with one ParseError naming the document, and nothing fetched or read on their behalf.

* XML (us-govinfo's bill files and sitemaps, tx-tlo, il-ilga): billion laughs (also hidden
  behind a prolog longer than the one scanned before parsing), external entities naming a
  local file and a loopback URL, a parameter entity, nesting far past any real document.
* HTML (il-ilga's listing, pa-palegis's index and bill pages, the HTML inside BILLSTATUS and
  Virginia summaries): the same DTD tricks, which an HTML parser must not expand.
* JSON (ny-openleg, us-congress, openstates, legiscan): nesting deep enough to exhaust the
  decoder's recursion.

Memory is measured twice: tracemalloc for what Python allocates, and the peak RSS of a
fresh process for what libxml2 allocates (tracemalloc does not see C allocations).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scrapers import il_ilga, ny_openleg, openstates, pa_palegis, tx_tlo, us_congress, us_govinfo
from scrapers import legiscan as legiscan_source
from scrapers.va_lis.parse import html_text as virginia_html_text
from tests.conftest import REPO
from tests.loopback_http import LoopbackHttp
from tracker.errors import ParseError

SECRET_FILE_LINE = "root:"  # the first field of /etc/passwd, which an XXE would disclose


def laughs(levels: int = 9, prolog: bytes = b"") -> bytes:
    """The billion laughs: ``levels`` entities each ten of the one before (10**9 "lol")."""
    entities = b'<!ENTITY l0 "lol">' + b"".join(
        b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10) for n in range(1, levels + 1))
    return (b'<?xml version="1.0"?>' + prolog + b"<!DOCTYPE r [" + entities + b"]>"
            b"<billStatus><bill><title>&l%d;</title></bill></billStatus>" % levels)


def external(system_id: str) -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "%s">]>'
            b"<billStatus><bill><title>&x;</title></bill></billStatus>" % system_id.encode())


def parameter_entity(system_id: str) -> bytes:
    return (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY %% p SYSTEM "%s"> %%p;]><r/>'
            % system_id.encode())


DEEP_XML = b"<billStatus>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</billStatus>"
LONG_PROLOG = b"<!--" + b" padding " * 1000 + b"-->"  # past the 4 KiB scanned before parsing

XML_PARSERS: dict[str, Callable[[bytes], object]] = {
    "us-govinfo bill": lambda b: us_govinfo.parse_billstatus(b, document="BILLSTATUS.xml"),
    "us-govinfo sitemap": lambda b: us_govinfo.parse_sitemap(b, document="sitemap.xml",
                                                             kind="urlset"),
    "tx-tlo": lambda b: tx_tlo.parse_billhistory(b, document="HB 1.xml"),
    "il-ilga": lambda b: il_ilga.parse_billstatus(b, document="10400HB3466.xml"),
}
HTML_PARSERS: dict[str, Callable[[bytes], object]] = {
    "il-ilga listing": lambda b: il_ilga.parse_listing(b, document="listing.html"),
    "pa-palegis index": lambda b: pa_palegis.parse_index(
        b, document="index.html", page_url="https://www.palegis.us/legislation/bills/"),
    "pa-palegis bill": lambda b: pa_palegis.parse_bill_page(
        b, document="hb1.html", url="https://www.palegis.us/legislation/bills/2025/hb1"),
    "BILLSTATUS summary": lambda b: us_govinfo.html_text(b.decode()),
    "Virginia summary": lambda b: virginia_html_text(b.decode()),
}
JSON_PARSERS: dict[str, Callable[[bytes], object]] = {
    "ny-openleg": lambda b: ny_openleg.parse_document(b, document="S1-2025.json"),
    "us-congress": lambda b: us_congress.parse_listing(b, document="bill.json"),
    "openstates": lambda b: openstates.parse_page(b, document="bills.json"),
    "legiscan": lambda b: legiscan_source.parse_document(b, document="getBill.json"),
}


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackHttp]:
    """A server an external entity could point at: it must never be asked for anything."""
    with LoopbackHttp() as server:
        server.route(r"/.*", b"<r>fetched</r>")
        yield server


def payloads(loopback: LoopbackHttp) -> dict[str, bytes]:
    return {
        "billion laughs": laughs(),
        "billion laughs behind a long prolog": laughs(prolog=LONG_PROLOG),
        "external entity, a local file": external("file:///etc/passwd"),
        "external entity, a URL": external(loopback.url + "/entity"),
        "external entity behind a long prolog": external(loopback.url + "/late").replace(
            b"?>", b"?>" + LONG_PROLOG, 1),
        "parameter entity": parameter_entity(loopback.url + "/dtd"),
        "nesting 100,000 deep": DEEP_XML,
    }


def outcome_of(parse: Callable[[bytes], object], body: bytes) -> object:
    try:
        return parse(body)
    except ParseError as exc:
        return exc


def refused_quickly(parse: Callable[[bytes], object], body: bytes) -> tuple[object, float, int]:
    """Parse ``body`` twice: timed, then traced (tracemalloc slows Python code down many
    times); (the result or the ParseError, seconds, Python bytes at the peak)."""
    started = time.perf_counter()
    outcome = outcome_of(parse, body)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        outcome_of(parse, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, seconds, peak


@pytest.mark.parametrize("parser", XML_PARSERS, ids=str)
def test_hostile_xml_is_refused_quickly_in_bounded_memory(
    parser: str, loopback: LoopbackHttp
) -> None:
    for name, body in payloads(loopback).items():
        outcome, seconds, peak = refused_quickly(XML_PARSERS[parser], body)
        assert isinstance(outcome, ParseError), f"{name}: accepted: {outcome!r}"
        message = str(outcome)
        assert "\n" not in message and message.split(":", 1)[0].endswith((".xml",)), message
        assert seconds < 1.0, f"{name}: {seconds:.2f}s"
        assert peak < 16 * 1024 * 1024, f"{name}: {peak} bytes"
        assert SECRET_FILE_LINE not in message
    assert loopback.requests() == 0, "an entity was fetched"


@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
@pytest.mark.parametrize("parser", HTML_PARSERS, ids=str)
def test_dtd_tricks_in_html_expand_nothing(parser: str, loopback: LoopbackHttp) -> None:
    for name, body in payloads(loopback).items():
        if name.startswith("nesting"):
            continue  # an HTML parser builds what it is given; see the deep-page test below
        outcome, seconds, peak = refused_quickly(HTML_PARSERS[parser], body)
        shown = str(outcome)
        assert "lollol" not in shown and SECRET_FILE_LINE not in shown, f"{name}: expanded"
        assert seconds < 1.0, f"{name}: {seconds:.2f}s"
        assert peak < 16 * 1024 * 1024, f"{name}: {peak} bytes"
    assert loopback.requests() == 0, "an entity was fetched"


def test_a_page_nested_100000_deep_is_read_in_bounded_time() -> None:
    body = b"<html><body>" + b"<div>" * 100_000 + b"</div>" * 100_000 + b"</body></html>"
    for name in ("pa-palegis index", "pa-palegis bill", "il-ilga listing"):
        started = time.perf_counter()
        outcome = outcome_of(HTML_PARSERS[name], body)
        seconds = time.perf_counter() - started
        assert seconds < 5.0, f"{name}: {seconds:.2f}s"
        assert isinstance(outcome, ParseError | list), f"{name}: {outcome!r}"


@pytest.mark.parametrize("parser", JSON_PARSERS, ids=str)
def test_json_nested_past_the_decoders_recursion_is_a_parse_error(parser: str) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        started = time.perf_counter()
        outcome = outcome_of(JSON_PARSERS[parser], body)
        seconds = time.perf_counter() - started
        assert isinstance(outcome, ParseError), f"accepted: {outcome!r}"
        assert "nested too deeply" in str(outcome)
        assert seconds < 1.0


PROBE = """
import json, resource, sys
sys.path.insert(0, {repo!r})
from tests.faults.test_hostile_documents import XML_PARSERS, laughs, LONG_PROLOG, DEEP_XML
cases = [laughs(), laughs(prolog=LONG_PROLOG), DEEP_XML]
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for parse in XML_PARSERS.values():
    for body in cases:
        try:
            parse(body)
        except Exception:
            pass
print(json.dumps({{"growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start}}))
"""


def test_libxml2_memory_stays_bounded_in_a_fresh_process() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE.format(repo=str(REPO))],
                         capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    # A billion laughs expanded would take gigabytes; the parsers may keep a few MB.
    assert result["growth_kb"] < 64 * 1024, result
