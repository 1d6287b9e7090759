"""Stored topic matches: replaced whole on every stored change (through the pipeline wired by
``build_pipeline``), rematched on demand, filtered and shown by the CLI with their
explanation. Runs on SQLite, and on PostgreSQL when TRACKER_TEST_DATABASE_URL is set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from tests.builders import INTRO, REFER
from tests.builders import bill as make_bill
from tracker.cli import app
from tracker.digest import MatchedTerm
from tracker.matching import rematch, topic_hook
from tracker.models import ActionClass, Bill, BillType, Chamber
from tracker.records import ActionRecord, BillRecord, BillRef, Fetched, StateUpdate, Validators
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext, SourceInfo
from tracker.storage.repository import BillFilter, Repository
from tracker.storage.tables import BillRow, TopicMatchRow
from tracker.topic_config import read_topics
from tracker.topics import Term, Topic, TopicMatch, TopicNames
from tracker.wiring import build_pipeline

CRIMES = Topic(
    id="hate-crimes", names=TopicNames("Hate crimes", "증오 범죄", "Delitos de odio"),
    description="Bias-motivated crimes.", terms=(Term("hate crime"),),
)
LICENSES = Topic(
    id="drivers-licenses",
    names=TopicNames("Driver's licenses", "운전면허", "Licencias de conducir"),
    description="Licenses regardless of status.", terms=(Term("driver privilege card"),),
)
TOPICS = (CRIMES, LICENSES)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def va(identifier: str, title: str) -> Bill:
    return make_bill(identifier, INTRO, REFER, title=title)


def stored(repo: Repository) -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
    """bill key -> [(topic, [(term, field)])], from the database."""
    with repo.read() as session:
        keys = {b.bill_id: b.key for b in repo.list_bills(session, BillFilter())}
        return {
            keys[bill_id]: [(m.topic, [(t.term, t.field) for t in m.matched]) for m in matches]
            for bill_id, matches in repo.topic_matches(session).items()
        }


def matched_at(repo: Repository, key: str) -> datetime:
    with repo.read() as session:
        return session.execute(
            sa.select(TopicMatchRow.matched_at).join(BillRow, BillRow.id == TopicMatchRow.bill_id)
            .where(BillRow.key == key)
        ).scalar_one()


# --- the repository ---------------------------------------------------------------------------

def test_replace_adds_rewrites_and_removes(repo: Repository) -> None:
    with repo.write() as session:
        bill_id = repo.upsert_bill(session, va("HB 1", "x"), baseline=True, run_id=None,
                                   now=T0).bill_id
        first = [TopicMatch("hate-crimes", (MatchedTerm("hate crime", "title"),))]
        assert repo.replace_topic_matches(session, bill_id, first, now=T0) == (
            {"hate-crimes"}, set())
        assert repo.replace_topic_matches(session, bill_id, first, now=T0) == (set(), set())
    later = T0 + timedelta(hours=1)
    with repo.write() as session:
        rewritten = [
            TopicMatch("hate-crimes", (MatchedTerm("hate crime", "summary"),)),
            TopicMatch("drivers-licenses", (MatchedTerm("driver privilege card", "title"),)),
        ]
        assert repo.replace_topic_matches(session, bill_id, rewritten, now=later) == (
            {"drivers-licenses"}, set())
    assert stored(repo) == {"va/2020/HB 1": [
        ("drivers-licenses", [("driver privilege card", "title")]),
        ("hate-crimes", [("hate crime", "summary")]),
    ]}
    with repo.write() as session:
        assert repo.replace_topic_matches(session, bill_id, [], now=later) == (
            set(), {"hate-crimes", "drivers-licenses"})
    assert stored(repo) == {}


def test_queries_by_bill_and_topic(repo: Repository) -> None:
    hook = topic_hook(repo=repo, topics=TOPICS, clock=lambda: T0)
    with repo.write() as session:
        for identifier, title in [("HB 1", "Hate crimes; penalty."),
                                  ("HB 2", "Driver privilege cards; hate crimes."),
                                  ("HB 3", "Firearms.")]:
            hook(session, repo.upsert_bill(session, va(identifier, title), baseline=True,
                                           run_id=None, now=T0))
    with repo.read() as session:
        ids = {b.key: b.bill_id for b in repo.list_bills(session, BillFilter())}
        assert set(repo.topic_matches(session, bill_ids=[ids["va/2020/HB 2"]])) == {
            ids["va/2020/HB 2"]}
        assert [m.topic for m in repo.topic_matches(session)[ids["va/2020/HB 2"]]] == [
            "drivers-licenses", "hate-crimes"]
        by_topic = repo.topic_matches(session, topic="hate-crimes")
        assert set(by_topic) == {ids["va/2020/HB 1"], ids["va/2020/HB 2"]}
        assert repo.topic_matches(session, bill_ids=[]) == {}
        assert repo.topic_match_counts(session) == {"hate-crimes": 2, "drivers-licenses": 1}
        listed = [b.key for b in repo.list_bills(session, BillFilter(topic="drivers-licenses"))]
        assert listed == ["va/2020/HB 2"]
        assert [b.key for b in repo.list_bills(session, BillFilter(topic="nothing"))] == []


# --- matching on every stored change, through the wired pipeline ------------------------------

#: What the titles source serves: identifier -> title, as one document.
TITLES: dict[str, str] = {}


class TitlesSource:
    """One document of Virginia bill titles; its change marker is a hash of the content."""

    info: ClassVar[SourceInfo] = SourceInfo(
        name="titles", title="Titles", jurisdictions=("va",), homepage="http://titles",
        default_origin="http://titles", min_interval=timedelta(0),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def discover(self, *, since: datetime | None) -> Iterator[BillRef]:
        body = json.dumps(TITLES, sort_keys=True).encode()
        marker = hashlib.sha256(body).hexdigest()
        stored_state = self.context.state.get("titles:all")
        if stored_state is None or stored_state.lastmod != marker:
            yield BillRef(source="titles", url="titles:all", session="2020", lastmod=marker)

    def fetch(self, ref: BillRef) -> Fetched:
        return Fetched(ref=ref, documents={ref.url: json.dumps(TITLES).encode()},
                       updates=(StateUpdate(ref.url, Validators(lastmod=ref.lastmod)),))

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        intro = ActionRecord(date=date(2020, 1, 8), actor=Chamber.LOWER,
                             description="Prefiled and ordered printed",
                             classification=(ActionClass.INTRODUCTION,))
        return [
            BillRecord(source="titles", jurisdiction="va", session="2020", identifier=identifier,
                       title=title, bill_type=BillType.BILL, actions=(intro,),
                       document=fetched.ref.url)
            for identifier, title in json.loads(fetched.body).items()
        ]


@pytest.fixture
def pipeline_settings(tmp_path: Path) -> Iterator[Settings]:
    TITLES.clear()
    yield Settings(
        config_dir=tmp_path, database_url="",
        sources={"titles": SourceSettings(name="titles", enabled=True, sessions=("2020",))},
        topics=TOPICS,
    )
    TITLES.clear()


def serve(title: str) -> None:
    TITLES.clear()
    TITLES.update({"HB 1": title, "HB 2": "Firearms; penalty."})


def test_matches_follow_each_stored_change(pipeline_settings: Settings, repo: Repository) -> None:
    """An Illinois-style shell bill: its whole content is replaced, so it gains and loses
    topics; an unchanged bill (noop) is not matched again."""
    pipeline = build_pipeline(settings=pipeline_settings, repo=repo,
                              registry={"titles": TitlesSource})
    serve("Hate crimes; penalty.")
    first = pipeline.poll("titles")
    assert (first.status, first.inserted) == ("ok", 2), first.error
    assert stored(repo) == {"va/2020/HB 1": [("hate-crimes", [("hate crime", "title")])]}
    first_matched = matched_at(repo, "va/2020/HB 1")

    serve("Hate  crimes; penalty. ")  # a new document, the same bill once normalized
    again = pipeline.poll("titles")
    assert (again.status, again.fetched, again.noop) == ("ok", 1, 2)
    assert matched_at(repo, "va/2020/HB 1") == first_matched

    serve("Driver privilege cards; penalty.")
    changed = pipeline.poll("titles")
    assert (changed.status, changed.updated) == ("ok", 1)
    assert stored(repo) == {
        "va/2020/HB 1": [("drivers-licenses", [("driver privilege card", "title")])]}

    serve("Vehicle Code; technical changes.")
    assert pipeline.poll("titles").updated == 1
    assert stored(repo) == {}
    with repo.read() as session:
        assert [b.key for b in repo.list_bills(session, BillFilter(topic="drivers-licenses"))] == []


def test_rematch_applies_new_topics_to_every_stored_bill(repo: Repository) -> None:
    hook = topic_hook(repo=repo, topics=(CRIMES,), clock=lambda: T0)
    with repo.write() as session:
        for i in range(1, 8):
            title = "Driver privilege cards." if i % 2 else "Hate crimes."
            hook(session, repo.upsert_bill(session, va(f"HB {i}", title), baseline=True,
                                           run_id=None, now=T0))
    assert len(stored(repo)) == 3
    seen: list[tuple[int, int]] = []
    edited = (replace(CRIMES, id="bias-crimes"), LICENSES)
    report = rematch(repo=repo, topics=edited, page_size=3,
                     progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert (report.bills, report.matching_bills, report.added, report.removed) == (7, 7, 7, 3)
    assert {topic for matches in stored(repo).values() for topic, _ in matches} == {
        "bias-crimes", "drivers-licenses"}
    again = rematch(repo=repo, topics=edited)
    assert (again.added, again.removed) == (0, 0)


# --- the CLI ------------------------------------------------------------------------------------

TOPICS_TOML = """
[topics.hate-crimes]
names = { en = "Hate crimes", ko = "증오 범죄", es = "Delitos de odio" }
description = "Bias-motivated crimes."
terms = ["hate crime"]

[topics.drivers-licenses]
names = { en = "Driver's licenses", ko = "운전면허", es = "Licencias de conducir" }
description = "Licenses regardless of status."
terms = ["driver privilege card", { phrase = "driver's license", requires = ["legal presence"] }]
"""


@pytest.fixture
def cli(tmp_path: Path, database_url: str, repo: Repository) -> CliEnv:
    config = tmp_path / "config"
    config.mkdir()
    (config / "topics.toml").write_text(TOPICS_TOML, encoding="utf-8")
    hook = topic_hook(repo=repo, topics=read_topics(config / "topics.toml"), clock=lambda: T0)
    with repo.write() as session:
        for identifier, title in [
            ("HB 565", "Driver privilege cards; penalty."),
            ("HB 276", "Hate crimes; reporting to State Police."),
            ("HB 1211", "Driver's license; no legal presence requirement."),
            ("HB 17", "Driver's license; suspension for nonpayment of fines or costs."),
            ("HB 2", "Firearm transfers; penalty."),
        ]:
            hook(session, repo.upsert_bill(session, va(identifier, title), baseline=True,
                                           run_id=None, now=T0))
    return CliEnv(config, {"TRACKER_DATABASE_URL": database_url, "TRACKER_CONFIG": str(config)})


class CliEnv:
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config, self.env = config, env
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args), env=self.env)

    def json(self, *args: str) -> list[dict[str, object]]:
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]


def test_bills_json_shows_each_bills_topics_with_the_terms_and_fields(cli: CliEnv) -> None:
    rows = {row["key"]: row["topics"] for row in cli.json("bills")}
    assert rows == {
        "va/2020/HB 2": [],
        "va/2020/HB 17": [],
        "va/2020/HB 276": [{"topic": "hate-crimes",
                            "matched": [{"term": "hate crime", "field": "title"}]}],
        "va/2020/HB 565": [{"topic": "drivers-licenses",
                            "matched": [{"term": "driver privilege card", "field": "title"}]}],
        "va/2020/HB 1211": [{"topic": "drivers-licenses",
                             "matched": [{"term": "driver's license", "field": "title"},
                                         {"term": "legal presence", "field": "title"}]}],
    }


def test_bills_topic_filter_and_table(cli: CliEnv) -> None:
    rows = cli.json("bills", "--topic", "drivers-licenses")
    assert [row["key"] for row in rows] == ["va/2020/HB 1211", "va/2020/HB 565"]
    table = cli("bills", "--topic", "hate-crimes")
    assert table.exit_code == 0
    header, line = table.stdout.splitlines()
    assert header.split() == ["key", "stage", "last_action_date", "topics", "title"]
    assert "va/2020/HB 276" in line and "hate-crimes" in line


def test_an_unknown_topic_is_refused_with_the_known_ones(cli: CliEnv) -> None:
    for args in (["bills", "--topic", "hate"], ["topics", "test", "hate"]):
        result = cli(*args)
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            "error: unknown topic 'hate' (topics.toml has: drivers-licenses, hate-crimes)")


def test_topics_lists_names_fields_and_stored_counts(cli: CliEnv) -> None:
    rows = {row["id"]: row for row in cli.json("topics")}
    assert rows["drivers-licenses"]["bills"] == 2
    assert rows["hate-crimes"] | {"bills": None} == {
        "id": "hate-crimes", "en": "Hate crimes", "ko": "증오 범죄", "es": "Delitos de odio",
        "description": "Bias-motivated crimes.", "fields": ["title", "summary", "subjects"],
        "jurisdictions": ["all"], "terms": 1, "bills": None,
    }
    table = cli("topics")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split() == [
        "id", "en", "ko", "es", "fields", "jurisdictions", "bills"]
    assert "운전면허" in table.stdout


def test_topics_test_runs_the_edited_file_at_once_and_rematch_stores_it(cli: CliEnv) -> None:
    before = cli("topics", "test", "drivers-licenses")
    assert before.exit_code == 0
    header, *lines = before.stdout.splitlines()
    assert header.split() == ["key", "matched", "title"]
    assert [line[:16].strip() for line in lines] == ["va/2020/HB 565", "va/2020/HB 1211"]
    assert "driver's license (title); legal presence (title)" in lines[1]
    assert "drivers-licenses: 2 of 5 stored bills match" in before.stderr

    near = cli.json("topics", "test", "drivers-licenses", "--near-misses")
    assert [(r["key"], r["verdict"]) for r in near] == [
        ("va/2020/HB 565", "match"), ("va/2020/HB 1211", "match"),
        ("va/2020/HB 17", "near miss")]
    assert near[2]["unconfirmed"] == [{"term": "driver's license", "field": "title"}]

    text = (cli.config / "topics.toml").read_text(encoding="utf-8")
    (cli.config / "topics.toml").write_text(
        text.replace('requires = ["legal presence"]', 'requires = ["legal presence", "fines"]'),
        encoding="utf-8")
    edited = cli.json("topics", "test", "drivers-licenses")
    assert [r["key"] for r in edited] == ["va/2020/HB 565", "va/2020/HB 1211", "va/2020/HB 17"]
    assert [r["key"] for r in cli.json("bills", "--topic", "drivers-licenses")] == [
        "va/2020/HB 1211", "va/2020/HB 565"]  # stored matches wait for rematch

    rematched = cli("topics", "rematch")
    assert rematched.exit_code == 0, rematched.output
    assert rematched.stdout.strip() == (
        "rematched 5 bills against 2 topics: 4 match at least one; 1 matches added, 0 removed")
    assert "rematching: 5/5 bills" in rematched.stderr
    assert [r["key"] for r in cli.json("bills", "--topic", "drivers-licenses")] == [
        "va/2020/HB 1211", "va/2020/HB 17", "va/2020/HB 565"]


def test_topics_notes_stored_matches_of_topics_no_longer_configured(cli: CliEnv) -> None:
    (cli.config / "topics.toml").write_text(
        TOPICS_TOML.split("[topics.drivers-licenses]")[0], encoding="utf-8")
    listed = cli("topics")
    assert listed.exit_code == 0
    assert ("note: stored matches for topics no longer in topics.toml (drivers-licenses); "
            "run: tracker topics rematch") in listed.stderr
    assert cli("topics", "rematch").exit_code == 0
    assert "note:" not in cli("topics").stderr
