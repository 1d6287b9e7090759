"""The pages anyone may read, on the real samples polled by the real pipeline: the dashboard,
search, the bill page (HR 2471's whole timeline, the correction, topics, links, Follow),
the change log, topics, languages, and upstream text escaped."""

from __future__ import annotations

import re
from html import unescape

from flask.testing import FlaskClient
from lxml import html as lxml_html

from scrapers.us_govinfo import UsGovinfo
from tests.builders import INTRO, action, bill
from tests.web.data import CORRECTION_AT, HR2471_PATH, REPO_ROOT, Seeded
from tracker.digest import Language
from tracker.models import ActionClass
from tracker.storage.repository import Repository
from tracker.topic_config import read_topics
from tracker.web.i18n import page_catalog

HOSTILE = ('<script>alert(1)</script> Language access "><img src=x onerror=alert(2)> '
           "\u202egnp.exe\u202c")


def page(client: FlaskClient, path: str, *, status: int = 200) -> lxml_html.HtmlElement:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return lxml_html.fromstring(response.get_data(as_text=True))


def texts(tree: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in tree.xpath(xpath)]


def seeded_topics() -> list[str]:
    return [t.id for t in read_topics(REPO_ROOT / "config" / "topics.toml")]


def rows(table: lxml_html.HtmlElement) -> list[list[str]]:
    return [[" ".join(c.text_content().split()) for c in tr.xpath("./td|./th")]
            for tr in table.xpath("./tbody/tr")]


def test_dashboard_links_to_bills_and_tells_the_latest_changes(reader: FlaskClient) -> None:
    tree = page(reader, "/")
    links = tree.xpath("//a/@href")
    assert "/bills" in links and HR2471_PATH in links
    # The correction polled a day ago: one bill changed in Congress, in the last 7 days.
    tables = tree.xpath("//table[@class='counts']")
    assert rows(tables[0]) == [["Congress", "1", "4"]]  # two actions reworded: 2 out, 2 in
    assert ["Citizenship and immigration", "1", "4"] in rows(tables[1])
    recent = texts(tree, "//ol[@class='events']/li")
    assert any("Correction: upstream removed this action" in r and "US HR 2471" in r
               for r in recent)
    funnels = tree.xpath("//figure[@class='funnel']")
    assert len(funnels) == len(seeded_topics())  # one per configured topic
    assert tree.xpath("//figure[@class='funnel']//svg/rect[@class='funnel-bar']")
    # Polled at 09:00 the day before; the page is read at noon.
    assert texts(tree, "//ul[@class='freshness']/li") == [
        f"{UsGovinfo.info.title} checked 27 hours ago"]


def test_dashboard_days_and_a_bad_value(reader: FlaskClient) -> None:
    tree = page(reader, "/?days=1")
    assert texts(tree, "//h2[@id='changes']") == ["What changed in the last day"]
    assert page(reader, "/?days=1000", status=400) is not None


def test_the_bill_page_shows_the_whole_timeline(reader: FlaskClient) -> None:
    tree = page(reader, HR2471_PATH)
    assert texts(tree, "//h1") == ["US HR 2471 Consolidated Appropriations Act, 2022"]
    assert texts(tree, "//strong[@class='stage']") == ["Became law"]
    steps = tree.xpath("//ol[@class='steps']/li")
    assert [s.get("class") for s in steps][-1] == "step step-current" and len(steps) == 7
    entries = texts(tree, "//ol[@class='timeline']/li")
    # Upstream lists it twice (two action codes); the normalizer keeps one.
    assert sum("Became Public Law No: 117-103." in e for e in entries) == 1
    assert entries[0].startswith("Apr 13, 2021 House / Assembly Introduced in House")
    removed = texts(tree, "//ol[@class='timeline']/li[contains(@class, 'removed')]")
    assert removed and all("Message on Senate action sent to the House." in r
                           and "Correction: upstream removed this action" in r for r in removed)
    corrected = [e for e in entries if "(corrected text)" in e]
    assert corrected and all("New: noticed Dec 2, 2026" in e for e in corrected)
    assert entries[-1].startswith("Dec 1, 2026 First stored by the tracker")


def test_the_bill_page_shows_topics_links_and_follow(reader: FlaskClient) -> None:
    tree = page(reader, HR2471_PATH)
    topics = texts(tree, "//ul[@class='topics']/li")
    assert any(t.startswith("Citizenship and immigration: matched because of") and
               "“immigration status” in the subjects" in t for t in topics)
    assert tree.xpath("//ul[@class='topics']//a/@href")[0].startswith("/topics/")
    official = tree.xpath("//ul[@class='links']//a[@rel]/@href")
    assert official and official[0].startswith("https://")
    versions = tree.xpath("//ul[@class='versions']/li")
    assert versions and all(v.xpath(".//a/@href")[0].startswith("https://") for v in versions)
    follow = tree.xpath("//form[@class='follow']")
    assert len(follow) == 1 and follow[0].get("action") == "/follow"
    assert follow[0].xpath(".//input[@name='target']/@value") == ["bill:us/117/HR 2471"]
    assert follow[0].xpath(".//input[@name='csrf_token']/@value")[0]


def test_bill_addresses(reader: FlaskClient) -> None:
    moved = reader.get("/bills/us/117/hr2471")
    assert moved.status_code == 301 and moved.headers["Location"] == HR2471_PATH
    assert reader.get("/bills/us/117/HR%209999").status_code == 404
    assert reader.get("/bills/usa/117/HR%201").status_code == 404


def test_search_filters_sorts_and_pages(reader: FlaskClient) -> None:
    def keys(query: str) -> list[str]:
        tree = page(reader, f"/bills?{query}")
        return texts(tree, "//table[@class='bills']//td[@class='label']/a")

    assert len(keys("")) == 13
    assert keys("q=hr2471") == ["US HR 2471"]  # a bill number, however written
    assert keys("q=appropriations&session=117") == ["US HR 2471"]
    assert set(keys("stage=enacted")) == {"US HR 2471", "US S 1300", "US S 3157"}
    assert keys("stage=enacted&session=114") == ["US S 1300"]
    assert keys("q=100%25") == []  # a typed % is a percent sign, not a wildcard
    newest, oldest = keys("sort=recent"), keys("sort=oldest")
    assert newest == list(reversed(oldest))
    assert keys("since=2022-03-15&until=2022-03-15") == ["US HR 2471"]
    first, second = keys("per_page=5&sort=key"), keys("per_page=5&sort=key&page=2")
    assert len(first) == 5 and not set(first) & set(second)
    tree = page(reader, "/bills?per_page=5&sort=key")
    assert texts(tree, "//p[@class='found']")[0].startswith("13 bills found")
    assert tree.xpath("//a[@rel='next']/@href") == ["/bills?sort=key&per_page=5&page=2"]
    assert tree.xpath("//p[@class='found']/a/@href")[0] == "/bills.csv?sort=key"
    topic = keys("topic=citizenship-immigration")
    assert "US HR 2471" in topic and len(topic) < 13


def test_search_refuses_bad_filters_with_one_line(reader: FlaskClient) -> None:
    tree = page(reader, "/bills?stage=law", status=400)
    assert texts(tree, "//p[@class='message']")[0].startswith("stage='law' is not one of:")


def test_the_change_log(
    reader: FlaskClient, shared_seed: Seeded
) -> None:
    tree = page(reader, "/events")
    items = texts(tree, "//ol[@class='events']/li")
    assert len(items) == shared_seed.correction_events == 4  # baseline records left out
    assert texts(tree, "//p[@class='found']")[0].startswith("4 changes found")
    removed = page(reader, "/events?kind=action-removed")
    assert len(texts(removed, "//ol[@class='events']/li")) == 2
    everything = page(reader, "/events?baseline=1&per_page=200")
    assert len(texts(everything, "//ol[@class='events']/li")) == (
        shared_seed.baseline_events + shared_seed.correction_events)
    since = CORRECTION_AT.date().isoformat()
    assert len(texts(page(reader, f"/events?until={since}&baseline=1&per_page=200"),
                     "//ol[@class='events']/li")) == shared_seed.baseline_events + 4


def test_topic_pages(reader: FlaskClient) -> None:
    listing = page(reader, "/topics")
    names = texts(listing, "//ul[@class='topic-list']/li/a")
    assert "Citizenship and immigration" in names
    tree = page(reader, "/topics/citizenship-immigration")
    rows = texts(tree, "//table[@class='matrix']/tbody/tr")
    assert rows and rows[0].startswith("Congress")
    cell_links = tree.xpath("//table[@class='matrix']//td/a/@href")
    assert any("stage=enacted" in href and "jurisdiction=us" in href for href in cell_links)
    assert tree.xpath("//form[@class='follow']//input[@name='target']/@value") == [
        "topic:citizenship-immigration"]
    assert page(reader, "/topics/no-such-topic", status=404) is not None


def test_language_switch_keeps_the_page(reader: FlaskClient) -> None:
    reader.get("/")
    with reader.session_transaction() as session:
        token = session["csrf"]
    switched = reader.post("/language", data={"lang": "ko", "next": HR2471_PATH,
                                              "csrf_token": token})
    assert switched.status_code == 303 and switched.headers["Location"] == HR2471_PATH
    tree = page(reader, HR2471_PATH)
    assert tree.get("lang") == "ko"
    korean = page_catalog(Language.KO)
    assert texts(tree, "//strong[@class='stage']") == [korean.t("stage.enacted")]
    assert korean.t("web.bill.timeline") in texts(tree, "//h2")
    spanish = lxml_html.fromstring(reader.get("/", headers={"Accept-Language": "es"})
                                   .get_data(as_text=True))
    assert spanish.get("lang") == "ko"  # the switch wins over the browser's language


def test_browser_language_when_nothing_was_chosen(reader: FlaskClient) -> None:
    tree = lxml_html.fromstring(reader.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"})
                                .get_data(as_text=True))
    assert tree.get("lang") == "es" and texts(tree, "//h1") == ["Panel"]


def test_upstream_text_is_escaped(client: FlaskClient, repo: Repository) -> None:
    hostile = bill("HB 1", INTRO, action("2020-01-09", f"Read {HOSTILE}", ActionClass.READING_1),
                   title=HOSTILE)
    with repo.write() as db:
        repo.upsert_bill(db, hostile, baseline=False, run_id=None, now=CORRECTION_AT)
    for path in ("/bills/va/2020/HB%201", "/bills?q=onerror", "/events"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in body and "<img src=x" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path
        assert "\u202e" not in body, path
    tree = page(client, "/bills/va/2020/HB%201")
    assert not tree.xpath("//script") and not tree.xpath("//img")
    assert unescape(texts(tree, "//h1")[0]).endswith('"><img src=x onerror=alert(2)> gnp.exe')
    assert re.search(r"\bscript-src 'none'", client.get("/").headers["Content-Security-Policy"])
