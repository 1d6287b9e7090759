"""The shipped topics on real documents: the Virginia 2020 regular session (LIS CSV files of
2020-01-28: BILLS.CSV titles, Summaries.csv summaries, CIBillSubjects.csv subjects, read by
the va-lis source) and the federal BILLSTATUS samples.

Each default topic must find the affiliates' bills and leave the look-alikes alone. The
Virginia tables are exact: a change to topics.toml that adds or loses a bill shows here and
is reviewed. Bill numbers were found by searching the real files; the reason for each
look-alike is noted beside it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scrapers.local import local_fetched, parser_for
from scrapers.us_govinfo import parse_billstatus
from scrapers.va_lis import VaLis
from tests.conftest import shared
from tracker.cli import app
from tracker.digest import MatchedTerm
from tracker.matching import topic_hook
from tracker.models import Bill
from tracker.normalize import normalize
from tracker.settings import packaged_defaults
from tracker.storage.repository import Repository
from tracker.topic_config import read_topics
from tracker.topics import Topic, TopicMatcher

VA_2020 = ("va-lis", "csv-2020-session", "2020-01-28")
STORED_AT = datetime(2020, 1, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def topics() -> tuple[Topic, ...]:
    return read_topics(packaged_defaults() / "topics.toml")


@pytest.fixture(scope="module")
def matcher(topics: tuple[Topic, ...]) -> TopicMatcher:
    return TopicMatcher(topics)


@pytest.fixture(scope="module")
def virginia() -> dict[str, Bill]:
    """The whole 2020 session as the va-lis source parses it, by identifier (``HB 565``)."""
    folder = shared(*VA_2020)
    parser = parser_for(VaLis)
    bills = [normalize(r) for f in local_fetched(VaLis, folder) for r in parser.parse(f)]
    assert len(bills) == 3141
    return {b.key.identifier: b for b in bills}


@pytest.fixture(scope="module")
def virginia_matches(virginia: dict[str, Bill], matcher: TopicMatcher) -> dict[str, set[str]]:
    """Topic id -> identifiers of the Virginia bills it matches."""
    found: dict[str, set[str]] = {}
    for identifier, bill in virginia.items():
        for topic_match in matcher.match(bill):
            found.setdefault(topic_match.topic, set()).add(identifier)
    return found


# topic -> (the bills it must match: exactly these, the look-alikes it must leave alone)
VIRGINIA: dict[str, tuple[set[str], dict[str, str]]] = {
    "drivers-licenses": (
        {"HB 565", "SB 34",  # Driver privilege cards; penalty.
         "HB 1211", "SB 643",  # DMV documents: citizenship and legal presence requirements removed
         "SB 761"},  # licenses for holders of an Employment Authorization Document
        {"HB 17": "license suspension for nonpayment of fines or costs",
         "HB 1196": "license suspension for nonpayment of fines or costs",
         "SB 1": "license suspension for nonpayment of fines or costs",
         "SB 514": "license suspension for nonpayment of fines or costs",
         "SB 814": "license suspension for nonpayment of fines or costs",
         "HB 909": "license suspension for non-driving offenses",
         "SB 290": "commercial driver's licenses; driver training",
         "HB 219": "automatic voter registration at the DMV (citizenship asked)",
         "SB 123": "voter identification with an expired driver's license"},
    ),
    "language-access": (
        {"HB 1210",  # Minority language accessibility; voting and election materials.
         "HB 527",  # Student assessments; language translation.
         "HB 420",  # emergency information for people with limited English proficiency
         "HB 1139", "HB 1294", "SB 934",  # English language learner students
         "HB 975", "SB 910",  # teacher ratios for English language learners
         "HB 1316", "SB 728",  # Standards of Quality: ratio of English language learners
         "HB 1323",  # instructional positions, students with limited English proficiency
         "HB 1400"},  # English as a second language courses
        {"HB 1072": "profane, threatening, or indecent language",
         "HB 156": "Critical National Security Language Grant Fund",
         "HB 1054": "redistricting criteria protecting racial and language minorities",
         "HB 1122": "a specific translation of a religious text"},
    ),
    "immigration-enforcement": (
        {"HB 244", "HB 1150", "SB 491",  # inquiry and report of immigration status (inmates)
         "HB 262",  # no immigration-status inquiry of crime victims or witnesses
         "HB 1700",  # federal immigration enforcement kept from DMV data
         "HJ 137",  # deported veterans
         "SB 625",  # vacating pleas entered without advice of deportation consequences
         "HB 801"},  # contractors: E-Verify and undocumented workers
        {"SB 640": "unlawful detainer (eviction)",
         "HB 918": "emergency custody and temporary detention orders",
         "SB 1046": "involuntary detention orders",
         "HB 551": "juvenile detention",
         "HB 1138": "in-state tuition regardless of immigration status: no enforcement"},
    ),
    "citizenship-immigration": (
        {"SB 220",  # in-state tuition for DACA recipients
         "HB 1138", "SB 935", "HB 1547",  # tuition regardless of citizenship or immigration status
         "HB 1315",  # domicile not denied for a parent's immigration status
         "HB 1179",  # in-state tuition for refugees and Special Immigrant Visa holders
         "HB 1209", "SB 991",  # Office of New Americans
         "SB 625",  # denial of naturalization among a plea's consequences
         "SB 857"},  # voter registration at naturalization ceremonies
        {"HB 244": "immigration-status inquiry: enforcement, not access",
         "HB 447": "in-state tuition for military families",
         "HB 985": "in-state tuition for trafficking victims",
         "HB 219": "automatic voter registration (U.S. citizenship asked)"},
    ),
    "hate-crimes": (
        {"HB 276", "HB 1058",  # hate crimes; reporting to State Police
         "HB 488", "HB 618", "SB 179",  # gender, disability, gender identity, sexual orientation
         "HB 787"},  # multi-jurisdiction grand jury; hate crimes
        {"HB 107": "'whatever portion of the cost'",
         "SB 705": "'whatever fee is specified'",
         "HB 916": "Holocaust education: 'levels of hate, ridicule'",
         "SB 853": "anti-hate instruction in schools (education, not crimes)"},
    ),
    "asian-american-history": (
        set(),  # no 2020 Virginia bill is about AAPI history in K-12 instruction
        {"HB 993": "an advisory board's membership (Asian Advisory Board)",
         "SB 206": "Virginia-Korea Advisory Board: trade",
         "HB 419": "educator scholarships for Asian and Pacific Islander students"},
    ),
}


@pytest.mark.parametrize("topic_id", sorted(VIRGINIA))
def test_virginia_2020(
    topic_id: str, virginia: dict[str, Bill], virginia_matches: dict[str, set[str]]
) -> None:
    wanted, look_alikes = VIRGINIA[topic_id]
    assert set(look_alikes) <= set(virginia)
    found = virginia_matches.get(topic_id, set())
    assert found == wanted
    assert not found & set(look_alikes)


@pytest.mark.parametrize(
    ("identifier", "topic_id", "terms"),
    [
        ("HB 565", "drivers-licenses",
         {MatchedTerm("driver privilege card", "title"),
          MatchedTerm("legal presence", "summary")}),
        ("HB 1211", "drivers-licenses",
         {MatchedTerm("driver's license", "summary"), MatchedTerm("legal presence", "summary")}),
        ("HB 1210", "language-access",
         {MatchedTerm("minority language", "title"),
          MatchedTerm("languages other than English", "summary")}),
        ("SB 220", "citizenship-immigration",
         {MatchedTerm("Deferred Action for Childhood Arrivals", "title"),
          MatchedTerm("in-state tuition", "title")}),
        ("HB 262", "immigration-enforcement",
         {MatchedTerm("immigration status", "title"), MatchedTerm("inquir*", "title")}),
        ("HB 276", "hate-crimes",
         {MatchedTerm("hate crime", "title"), MatchedTerm("hate crime", "subjects")}),
    ],
)
def test_virginia_explanations(
    identifier: str, topic_id: str, terms: set[MatchedTerm], virginia: dict[str, Bill],
    matcher: TopicMatcher,
) -> None:
    [verdict] = matcher.verdicts(virginia[identifier], topic_ids=[topic_id])
    assert terms <= set(verdict.matched)


@pytest.mark.parametrize(
    ("identifier", "topic_id", "vetoed_by", "unconfirmed"),
    [
        ("HB 17", "drivers-licenses", MatchedTerm("fines or costs", "title"), None),
        ("SB 640", "immigration-enforcement", MatchedTerm("unlawful detainer", "title"), None),
        ("SB 290", "drivers-licenses", None, MatchedTerm("driver's license", "title")),
        ("HB 419", "asian-american-history", None, MatchedTerm("Pacific Islander", "summary")),
    ],
)
def test_virginia_near_misses_say_why(
    identifier: str, topic_id: str, vetoed_by: MatchedTerm | None,
    unconfirmed: MatchedTerm | None, virginia: dict[str, Bill], matcher: TopicMatcher,
) -> None:
    [verdict] = matcher.verdicts(virginia[identifier], topic_ids=[topic_id])
    assert verdict.is_near_miss
    if vetoed_by is not None:
        assert vetoed_by in verdict.excluded_by
    if unconfirmed is not None:
        assert unconfirmed in verdict.unconfirmed


# --- federal BILLSTATUS samples ----------------------------------------------------------------

def federal(relative: str) -> Bill:
    path = shared("govinfo-billstatus", *relative.split("/"))
    return normalize(parse_billstatus(path.read_bytes(), document=relative))


@pytest.mark.parametrize(
    ("relative", "topics_wanted", "because"),
    [
        ("immigration/117/bills/hr/hr1593/fdsys_billstatus.xml", {"citizenship-immigration"},
         MatchedTerm("adoptee citizenship", "title")),
        ("immigration/117/bills/s/s967/fdsys_billstatus.xml", {"citizenship-immigration"},
         MatchedTerm("adoptee citizenship", "title")),
        ("immigration/117/bills/hr/hr6/fdsys_billstatus.xml",
         {"citizenship-immigration", "immigration-enforcement"},
         MatchedTerm("Deferred Action for Childhood Arrivals", "summary")),
        ("immigration/117/bills/hr/hr1177/fdsys_billstatus.xml",
         {"citizenship-immigration", "immigration-enforcement"},
         MatchedTerm("path to citizenship", "summary")),
        ("immigration/117/bills/s/s3157/fdsys_billstatus.xml", {"citizenship-immigration"},
         MatchedTerm("New Americans", "title")),
        ("v3/BILLSTATUS-117s35.xml", set(), None),  # a Congressional Gold Medal
        ("v3/BILLSTATUS-117hr6658.xml", set(), None),  # tax cuts
        ("legacy/BILLSTATUS-114sjres8.xml", set(), None),  # NLRB rule disapproval
    ],
)
def test_federal_samples(
    relative: str, topics_wanted: set[str], because: MatchedTerm | None,
    matcher: TopicMatcher,
) -> None:
    found = {m.topic: m.matched for m in matcher.match(federal(relative))}
    assert set(found) == topics_wanted
    if because is not None:
        assert because in found["citizenship-immigration"]


# --- `tracker topics test` on stored real bills -------------------------------------------------

def test_topics_test_command_on_stored_virginia_bills(
    virginia: dict[str, Bill], topics: tuple[Topic, ...], repo: Repository,
    database_url: str, tmp_path: Path,
) -> None:
    """The affiliates' bills and their look-alikes stored as polled; for every default topic
    the command lists exactly the affiliates' bills, each with its explanation."""
    chosen = {i for wanted, alike in VIRGINIA.values() for i in wanted | set(alike)}
    hook = topic_hook(repo=repo, topics=topics)
    with repo.write() as session:
        for identifier in sorted(chosen):
            hook(session, repo.upsert_bill(session, virginia[identifier], baseline=True,
                                           run_id=None, now=STORED_AT))
    env = {"TRACKER_DATABASE_URL": database_url, "TRACKER_CONFIG": str(tmp_path)}
    runner = CliRunner()
    for topic_id, (wanted, _) in VIRGINIA.items():
        result = runner.invoke(app, ["topics", "test", topic_id, "--jurisdiction", "va",
                                     "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert {row["key"] for row in rows} == {f"va/2020/{i}" for i in wanted}
        assert all(row["matched"] and set(row["matched"][0]) == {"term", "field"} for row in rows)
        assert f"{topic_id}: {len(wanted)} of {len(chosen)} stored bills in va match" in (
            result.stderr
        )


