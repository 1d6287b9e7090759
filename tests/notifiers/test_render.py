"""Rendering: every kind of digest in every language, hostile titles, and the design's rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError
from lxml import html as lxml_html

from notifiers.catalog import load_catalog
from notifiers.context import ItemView, bill_label, build_view
from notifiers.links import DigestLinks, links_for
from notifiers.render import HTML_BUDGET, Rendered, environment, render
from tests.notifiers.digests import (
    END,
    HOSTILE_TITLE,
    HOSTILE_TITLES,
    bill_reason,
    digest,
    item,
    jurisdiction_reason,
    recipient,
    topic_reason,
)
from tracker.changes import ChangeKind
from tracker.digest import (
    ChangeLine,
    Digest,
    DigestItem,
    DigestKind,
    Frequency,
    Freshness,
    Language,
    MatchedTerm,
)
from tracker.models import Stage
from tracker.settings import MailSettings, Settings
from tracker.topics import Term, Topic, TopicNames

TOPIC = Topic(id="drivers-licenses",
              names=TopicNames(en="Driver's licenses", ko="운전면허", es="Licencias de conducir"),
              description="", terms=(Term("driver privilege card"),))
SETTINGS = Settings(config_dir=Path("."), database_url="", sources={}, topics=(TOPIC,),
                    mail=MailSettings(public_url="https://tracker.example.org",
                                      mail_from="alerts@tracker.example.org"))
KEY = b"k" * 32


def links(d: Digest) -> DigestLinks:
    return links_for(d, mail=SETTINGS.mail, key=KEY, issued=END.date())


def rendered(language: Language = Language.EN, *items: DigestItem, **kwargs: Any) -> Rendered:
    d = digest(*items, language=language, **kwargs)
    return render(d, settings=SETTINGS, links=links(d))


def page(r: Rendered) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(r.html)


def visible_text(r: Rendered) -> str:
    return " ".join(page(r).text_content().split())


# --- language -------------------------------------------------------------------------------

STAGE_NAMES = {
    Language.EN: ("Passed the chamber of origin", "Driver's licenses", "What changed"),
    Language.KO: ("발의된 원 본회의 통과", "운전면허", "변동 사항"),
    Language.ES: ("Aprobado en la cámara de origen", "Licencias de conducir", "Qué cambió"),
}


@pytest.mark.parametrize("language", list(Language))
def test_chrome_in_the_recipients_language_title_in_english(language: Language) -> None:
    r = rendered(language)
    root = page(r)
    assert root.get("lang") == language.value
    stage, topic, changes_label = STAGE_NAMES[language]
    for part in (r.text, visible_text(r)):
        assert stage in part and topic in part and changes_label in part
        assert "Driver privilege cards; eligibility." in part, "the original title is kept"
    other = [lang for lang in Language if lang is not language]
    for lang in other:
        assert STAGE_NAMES[lang][0] not in r.text


def test_korean_and_spanish_say_the_title_is_the_original() -> None:
    assert "원문 제목(영어)" in rendered(Language.KO).text
    assert "Título original (en inglés)" in rendered(Language.ES).text
    assert "Original title" not in rendered(Language.EN).text


@pytest.mark.parametrize(("jurisdiction", "language", "expected"), [
    ("us", Language.EN, "Sent to the President"),
    ("va", Language.EN, "Sent to the Governor"),
    ("us", Language.KO, "대통령에게 송부"),
    ("tx", Language.KO, "주지사에게 송부"),
    ("us", Language.ES, "Enviado al presidente"),
    ("pa", Language.ES, "Enviado al gobernador"),
])
def test_the_executive_is_named_per_jurisdiction(jurisdiction: str, language: Language,
                                                 expected: str) -> None:
    one = item(jurisdiction=jurisdiction, stage=Stage.TO_EXECUTIVE, changes=())
    assert expected in rendered(language, one).text


def test_dates_and_relative_times_per_language() -> None:
    en, ko, es = (rendered(lang).text for lang in Language)
    assert "Feb 11, 2020" in en and "2020년 2월 11일" in ko and "11 de febrero de 2020" in es
    assert "Virginia checked 2 hours ago" in en
    assert "버지니아: 2시간 전 확인" in ko
    assert "Virginia: revisado hace 2 horas" in es
    # failing since, in the recipient's time zone (New York: 19:00 UTC is 14:00 EST)
    assert "Pennsylvania failing since Nov 29, 2026, 14:00 EST" in en
    assert "펜실베이니아: 2026년 11월 29일 14:00(EST)부터 수집 오류" in ko


def test_why_lines_for_bill_topic_and_jurisdiction() -> None:
    one = item(reasons=(bill_reason(), topic_reason(), jurisdiction_reason()))
    text = rendered(Language.EN, one).text
    assert "You are seeing this because you follow VA HB 1211." in text
    assert ("You are seeing this because you follow the topic “Driver's licenses”: it matched "
            "“driver privilege card” in the title, “privilege card” in the summary.") in text
    assert "You are seeing this because you follow every bill in Virginia." in text
    ko = rendered(Language.KO, one).text
    assert "‘운전면허’ 주제를 팔로우하고 계셔서" in ko and "제목의 ‘driver privilege card’" in ko


def test_a_term_found_in_several_fields_is_named_once() -> None:
    reason = replace(topic_reason(), matched=(
        MatchedTerm("language access", "title"), MatchedTerm("language access", "summary"),
        MatchedTerm("language access", "subjects"), MatchedTerm("interpret*", "action"),
    ))
    text = rendered(Language.EN, item(reasons=(reason,))).text
    assert ("it matched “language access” in the title, summary, subjects, “interpret*” in the "
            "action text.") in text
    es = rendered(Language.ES, item(reasons=(reason,))).text
    assert "«language access» en el título, el resumen, las materias" in es


def test_stage_progress_ladder_and_side_stages() -> None:
    reported = build(item(stage=Stage.REPORTED, changes=()))
    states = [s.state for s in reported.steps]
    assert states == ["done", "done", "current", "todo", "todo", "todo", "todo"]
    vetoed = build(item(stage=Stage.VETOED, changes=()))
    assert [s.state for s in vetoed.steps][:6] == ["done"] * 6 and vetoed.side_stage == "Vetoed"
    failed = build(item(stage=Stage.FAILED, changes=()))
    assert failed.steps == () and not failed.show_steps and failed.side_stage == "Failed"
    enacted = build(item(stage=Stage.ENACTED, changes=()))
    assert [s.state for s in enacted.steps][-1] == "current"
    html = rendered(Language.EN, item(stage=Stage.REPORTED, changes=())).html
    assert html.count('class="s done"') == 2
    assert html.count('class="s current"') == 1


def build(one: DigestItem, language: Language = Language.EN) -> ItemView:
    view = build_view(digest(one, language=language), catalog=load_catalog(language),
                      links=None, public_url="https://x.example", topic_names={})
    return view.groups[0].items[0]


def test_every_change_kind_is_told() -> None:
    changes = (
        ChangeLine(1, ChangeKind.NEW_ACTION, END, date=date(2020, 2, 11), text="Passed House"),
        ChangeLine(2, ChangeKind.STAGE_CHANGE, END, from_stage=Stage.REPORTED,
                   to_stage=Stage.PASSED_ORIGIN),
        ChangeLine(3, ChangeKind.NEW_VERSION, END, date=date(2020, 2, 12), text="Engrossed",
                   url="https://lis.example/hb1211e.pdf"),
        ChangeLine(4, ChangeKind.ACTION_REMOVED, END, date=date(2020, 2, 1), text="Tabled"),
        ChangeLine(5, ChangeKind.TITLE_CHANGE, END, text="A new title", previous_text="Old"),
        ChangeLine(6, ChangeKind.NEW_BILL, END, text="Driver privilege cards"),
    )
    text = rendered(Language.EN, item(changes=changes)).text
    for expected in ("Feb 11, 2020 · New action: Passed House",
                     "Moved from “Reported by committee” to “Passed the chamber of origin”",
                     "Feb 12, 2020 · New text version: Engrossed",
                     "Read this version: https://lis.example/hb1211e.pdf",
                     "Feb 1, 2020 · Correction: upstream removed this action: Tabled",
                     "Title changed: A new title", "New bill"):
        assert expected in text
    html = rendered(Language.EN, item(changes=changes)).html
    assert 'class="change removed"' in html
    es = rendered(Language.ES, item(changes=changes)).text
    assert "Corrección: la fuente oficial eliminó esta acción" in es


@pytest.mark.parametrize("kind", list(DigestKind))
@pytest.mark.parametrize("language", list(Language))
def test_every_kind_renders_in_every_language(kind: DigestKind, language: Language) -> None:
    r = rendered(language, kind=kind)
    assert r.subject and r.text.strip() and "<html" in r.html
    assert r.language is language


def test_subjects() -> None:
    assert rendered(Language.EN).subject == "Daily bill digest: news on 1 bill"
    weekly = rendered(Language.EN, item(), item("HB 2"), frequency=Frequency.WEEKLY)
    assert weekly.subject == "Weekly bill digest: news on 2 bills"
    alert = rendered(Language.EN, item(), item("HB 2"), kind=DigestKind.ALERT)
    assert alert.subject == ("Bill alert: VA HB 1211: Passed the chamber of origin "
                             "(and 1 more bill)")
    assert rendered(Language.KO, kind=DigestKind.ALERT).subject == (
        "법안 알림: VA HB 1211 발의된 원 본회의 통과")
    welcome = rendered(Language.ES, item(reasons=(bill_reason(),), changes=()),
                       kind=DigestKind.WELCOME, subscription_ids=(11,))
    assert welcome.subject == "Ahora sigue VA HB 1211: situación actual"


def test_welcome_digest_shows_latest_action_and_cap() -> None:
    one = replace(item(changes=()), last_action_date=date(2020, 2, 11),
                  last_action="Read third time and passed House")
    r = rendered(Language.EN, one, kind=DigestKind.WELCOME, total=40)
    assert "Latest action: Feb 11, 2020 · Read third time and passed House" in r.text
    assert "Showing the 1 most recently active of 40 bills." in r.text
    assert "You now follow 40 bills." in r.text
    empty = digest(kind=DigestKind.WELCOME)
    empty = replace(empty, groups=(), total_items=0, shown_items=0)
    assert "No bill matches yet" in render(empty, settings=SETTINGS, links=links(empty)).text


def test_footer_links_and_stop_following_each_subscription() -> None:
    d = digest(item(reasons=(bill_reason(11), topic_reason(12))))
    r = render(d, settings=SETTINGS, links=links(d))
    hrefs = [a.get("href") for a in page(r).iter("a")]
    link_set = links(d)
    assert link_set.manage in hrefs and link_set.unsubscribe in hrefs
    assert set(link_set.per_subscription.values()) <= set(hrefs)
    assert f"Unsubscribe from all: {link_set.unsubscribe}" in r.text
    assert "Stop following VA HB 1211: " in r.text
    assert "Stop following the topic “Driver's licenses”" in r.text


def test_a_digest_of_one_subscription_unsubscribes_from_that_one() -> None:
    single = digest(item(reasons=(bill_reason(11),)))
    link_set = links(single)
    assert link_set.only_subscription == 11
    assert link_set.unsubscribe == link_set.per_subscription[11]
    text = render(single, settings=SETTINGS, links=link_set).text
    assert f"Stop following VA HB 1211: {link_set.unsubscribe}" in text
    assert "Unsubscribe from all" not in text and "Stop following one of these" not in text


def test_operator_digest_has_no_unsubscribe_links() -> None:
    d = digest(kind=DigestKind.OPERATOR)
    r = render(d, settings=SETTINGS, links=None)
    assert "unsubscribe" not in r.html.lower()
    assert r.subject == "Source health: 1 source needs attention"


def test_freshness_never_checked() -> None:
    d = replace(digest(), freshness=(Freshness("tx-tlo", ("tx",), None, None, True),))
    assert "Texas not checked yet" in render(d, settings=SETTINGS, links=None).text


# --- hostile upstream text --------------------------------------------------------------------

HOSTILE_URL = "javascript:alert(3)"


def hostile(language: Language = Language.EN) -> Rendered:
    one = item("HB 666", title=HOSTILE_TITLE, url=HOSTILE_URL, changes=(
        ChangeLine(9, ChangeKind.NEW_ACTION, END, date=date(2020, 3, 1),
                   text="<b>bold</b>\r\nX-Injected: 1"),
        ChangeLine(10, ChangeKind.NEW_VERSION, END, text="v2", url="data:text/html,<script>"),
    ))
    return rendered(language, one)


@pytest.mark.parametrize("language", list(Language))
def test_hostile_title_is_escaped_in_html(language: Language) -> None:
    r = hostile(language)
    root = page(r)
    assert root.xpath("//script") == [], "no script element came through"
    assert all(img.get("onerror") is None for img in root.iter("img"))
    assert root.xpath("//img") == []
    assert root.xpath("//b") == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.html
    assert "<script>alert(1)</script>" in root.text_content(), "shown, as text"
    hrefs = [a.get("href") for a in root.iter("a")]
    assert HOSTILE_URL not in hrefs and not any(h.startswith("data:") for h in hrefs)


@pytest.mark.parametrize("language", list(Language))
def test_hostile_title_is_intact_but_harmless_in_text(language: Language) -> None:
    text = hostile(language).text
    for part in ("<script>alert(1)</script>", '"><img src=x onerror=alert(2)>',
                 "Bill Bcc: victim@x.example"):
        assert part in text, "the words are all there, as plain text"
    assert "\r" not in text
    assert not any(line.startswith(("Bcc:", "X-Injected:")) for line in text.splitlines())
    for invisible in ("\u202e", "\u202c", "\u200b", "\ufeff"):
        assert invisible not in text
    assert "zerowidth" in text and "gnp.exe" in text
    assert HOSTILE_URL not in text


def test_hostile_title_never_reaches_the_subject() -> None:
    r = rendered(Language.EN, item("HB 666", title=HOSTILE_TITLE), kind=DigestKind.ALERT)
    for part in HOSTILE_TITLES:
        assert part not in r.subject
    assert r.subject == "Bill alert: VA HB 666: Passed the chamber of origin"


def test_hostile_names_from_config_are_escaped_too() -> None:
    evil_topic = replace(TOPIC, names=TopicNames(en="<i>t</i>", ko="<i>t</i>", es="<i>t</i>"))
    settings = replace(SETTINGS, topics=(evil_topic,))
    d = digest()
    r = render(d, settings=settings, links=links(d))
    assert page(r).xpath("//i") == [] and "&lt;i&gt;t&lt;/i&gt;" in r.html


# --- the HTML itself ------------------------------------------------------------------------------


def test_css_is_inlined_without_remote_stylesheets_and_media_rules_kept() -> None:
    r = rendered(Language.EN)
    root = page(r)
    heading = root.xpath("//h1")[0]
    assert "font-size: 22px" in heading.get("style")
    assert root.xpath("//link") == []
    styles = root.xpath("//style")
    assert len(styles) == 1 and styles[0].text.lstrip().startswith("@media")
    assert "font-size: 22px" not in styles[0].text, "plain rules were inlined, not kept"


def test_templates_are_strict_and_html_only_is_autoescaped() -> None:
    env = environment()
    with pytest.raises(UndefinedError):
        env.get_template("digest.txt.j2").render()
    autoescape = env.autoescape
    assert callable(autoescape)
    assert autoescape("digest.html.j2") and not autoescape("digest.txt.j2")


def test_bill_label() -> None:
    assert bill_label("va", "HB 1211") == "VA HB 1211"
    assert bill_label("us", "HR 6\r\nBcc: x") == "US HR 6 Bcc: x"


def test_rendering_is_deterministic() -> None:
    assert rendered(Language.KO) == rendered(Language.KO)


def test_recipient_timezone_shapes_dates() -> None:
    late = replace(digest(), recipient=recipient(timezone="Asia/Seoul"),
                   period_end=END + timedelta(hours=14))
    text = render(late, settings=SETTINGS, links=None).text
    assert "Dec 2, 2026" in text  # 02:00 UTC+9 on the next day
    bad_zone = replace(digest(), recipient=recipient(timezone="Mars/Olympus"))
    assert "UTC" in render(bad_zone, settings=SETTINGS, links=None).text


def test_a_long_digest_stays_under_the_clipping_size_with_every_bill_listed() -> None:
    many = tuple(item(f"HB {n}", title=f"Bill number {n}") for n in range(1, 101))
    d = digest(*many)
    r = render(d, settings=SETTINGS, links=links(d))
    assert len(r.html.encode()) <= HTML_BUDGET
    root = page(r)
    shown = root.text_content()
    briefs = root.find_class("brief-item")
    assert 0 < len(briefs) < 100
    full = [e.text_content() for e in root.find_class("bill")]
    brief = [li.find("strong").text_content() for li in briefs]
    assert full + brief == [f"VA HB {n}" for n in range(1, 101)], "every bill, in order"
    assert all("You are seeing this because" in b.text_content() for b in briefs)
    assert f"the last {len(briefs)} bills are listed briefly" in shown
    assert "unsubscribe" in r.html, "the footer made it"
    assert r.text.count("Read third time and passed House") == 100, "the text part has it all"


def test_a_digest_that_fits_is_all_in_full() -> None:
    d = digest(*(item(f"HB {n}") for n in range(1, 4)))
    r = render(d, settings=SETTINGS, links=links(d))
    assert page(r).find_class("brief-item") == [] and "listed briefly" not in r.html
    tight = render(d, settings=SETTINGS, links=links(d), html_budget=12_000)
    assert len(page(tight).find_class("brief-item")) >= 1
