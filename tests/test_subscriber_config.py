"""``subscribers.toml``: reading it (one-line errors naming file and key) and syncing it to the
store (declared subscriptions kept in step; CLI-made ones and unsubscribes left alone)."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.builders import INTRO, bill
from tests.subscription_builders import REGISTRY, T0, add_subscriber, follow, settings, store_bill
from tracker.changes import ChangeKind
from tracker.digest import Frequency, Language, TargetKind
from tracker.errors import ConfigError
from tracker.models import Stage
from tracker.settings import Settings, packaged_defaults
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriber_config import parse_subscribers, read_subscribers, sync_subscribers
from tracker.subscriptions import Catalog, SubscriptionSpec, Target
from tracker.topic_config import read_topics

REPO_ROOT = Path(__file__).resolve().parent.parent
CATALOG = Catalog(topics=frozenset({"drivers-licenses", "hate-crimes"}),
                  jurisdictions=frozenset({"us", "va", "tx"}))
PATH = Path("config/subscribers.toml")


def parse(text: str) -> Any:
    return parse_subscribers(tomllib.loads(text), path=PATH, catalog=CATALOG)


def test_a_full_declaration_is_read() -> None:
    (declared,) = parse('''
        [[subscriber]]
        email = "Virginia@Example.org"
        name = "김민영"
        affiliate = "va"
        language = "ko"
        timezone = "America/New_York"
        frequency = "weekly"
        hour = 16
        weekday = "fri"
        follow = [
          "topic:drivers-licenses",
          "bill:va/2020/hb1211",
          { topic = "hate-crimes", within = ["va", "tx"] },
          { jurisdiction = "tx", kinds = ["stage-change"], stages = ["enacted"] },
        ]
    ''')
    profile = declared.profile
    assert (profile.email, profile.name, profile.language, profile.frequency, profile.digest_hour,
            profile.digest_weekday) == ("virginia@example.org", "김민영", Language.KO,
                                        Frequency.WEEKLY, 16, 4)
    assert declared.follows == (
        SubscriptionSpec(Target(TargetKind.TOPIC, "drivers-licenses")),
        SubscriptionSpec(Target(TargetKind.BILL, "va/2020/HB 1211")),
        SubscriptionSpec(Target(TargetKind.TOPIC, "hate-crimes"), within=("va", "tx")),
        SubscriptionSpec(Target(TargetKind.JURISDICTION, "tx"), kinds=(ChangeKind.STAGE_CHANGE,),
                         stages=(Stage.ENACTED,)),
    )


def test_defaults_fill_what_is_left_out() -> None:
    (declared,) = parse('[[subscriber]]\nemail = "a@example.org"\n')
    profile = declared.profile
    assert (profile.language, profile.timezone, profile.frequency, profile.digest_hour,
            profile.digest_weekday, declared.follows) == (
        Language.EN, "America/New_York", Frequency.DAILY, 7, 0, ())


@pytest.mark.parametrize(("text", "message"), [
    ('[[subscriber]]\nname = "x"\n', "subscriber[1].email: required"),
    ('[[subscriber]]\nemail = "a@example"\n', "subscriber[1]: not an email address: 'a@example'"),
    ('[[subscriber]]\nemail = 7\n', "subscriber[1].email: must be a string, not 7"),
    ('[[subscriber]]\nemail = "a@example.org"\n[[subscriber]]\nemail = "A@example.org"\n',
     "subscriber[2].email: a@example.org is declared already in subscriber[1]"),
    ('[[subscriber]]\nemail = "a@example.org"\nlanguages = "ko"\n',
     "subscriber[1].languages: unknown key (known keys: affiliate, email, follow"),
    ('[[subscriber]]\nemail = "a@example.org"\nlanguage = "tl"\n',
     "subscriber[1]: language 'tl' is not offered"),
    ('[[subscriber]]\nemail = "a@example.org"\ntimezone = "EST+5"\n',
     "subscriber[1]: unknown timezone 'EST+5'"),
    ('[[subscriber]]\nemail = "a@example.org"\nhour = "7"\n',
     "subscriber[1]: digest hour '7' must be a whole hour"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = "topic:hate-crimes"\n',
     "subscriber[1].follow: must be a list"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = ["hate-crimes"]\n',
     "subscriber[1].follow[1]: follow 'hate-crimes' must be written kind:value"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = ["topic:immigration"]\n',
     "subscriber[1].follow[1]: unknown topic 'immigration' (topics: drivers-licenses, "
     "hate-crimes)"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = ["jurisdiction:ca"]\n',
     "subscriber[1].follow[1]: jurisdiction:ca: no source covers jurisdiction 'ca'"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{topic = "hate-crimes", within = "va"},'
     ' {topic = "hate-crimes"}]\n', "subscriber[1].follow[2]: topic:hate-crimes is followed twice"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{topic = "hate-crimes", bill = "x"}]\n',
     "subscriber[1].follow[1]: name exactly one of bill, topic or jurisdiction"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{topic = "hate-crimes", only = ["x"]}]\n',
     "subscriber[1].follow[1].only: unknown key"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{jurisdiction = "va", within = ["va"]}]\n',
     "'within' narrows a topic"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{topic = "hate-crimes", '
     'stages = ["signed"]}]\n', "subscriber[1].follow[1]: stage 'signed' is not offered"),
    ('[[subscriber]]\nemail = "a@example.org"\nfollow = [{bill = 565}]\n',
     "subscriber[1].follow[1].bill: must be a string, not 565"),
    ("[subscribers]\n", "subscribers: unknown key (expected [[subscriber]] tables)"),
])  # fmt: skip
def test_mistakes_are_one_line_naming_file_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(text)
    assert str(raised.value).startswith(f"{PATH}: ")
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_the_example_file_is_valid() -> None:
    topics = frozenset(t.id for t in read_topics(packaged_defaults() / "topics.toml"))
    catalog = Catalog(topics=topics, jurisdictions=frozenset({"us", "va", "tx", "il"}))
    declared = read_subscribers(REPO_ROOT / "config" / "subscribers.example.toml",
                                catalog=catalog)
    assert [d.profile.language for d in declared] == [Language.EN, Language.KO, Language.ES]
    assert all(d.follows for d in declared)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "subscribers.toml"
    path.write_text("[[subscriber]\n")
    with pytest.raises(ConfigError, match=f"{path}: not valid TOML"):
        read_subscribers(path, catalog=CATALOG)


# --- sync -------------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    return settings(tmp_path)


def write(config: Settings, text: str) -> None:
    (config.config_dir / "subscribers.toml").write_text(text)


def active(repo: Repository) -> list[tuple[str, str, str]]:
    with repo.read() as session:
        return [(a.email, b.label, b.origin) for a, b in store.list_subscriptions(session)
                if b.active]


DESK = '''
[[subscriber]]
email = "desk@example.org"
language = "es"
follow = ["jurisdiction:va", {bill = "va/2020/HB 9"}, "jurisdiction:us"]
'''


def test_sync_creates_updates_and_ends_what_the_file_declares(
    repo: Repository, config: Settings
) -> None:
    store_bill(repo, bill("HB 9", INTRO), at=T0, baseline=True)
    write(config, DESK)
    report = sync_subscribers(repo, config, now=T0, registry=REGISTRY)
    assert (report.subscribers, report.created, report.ended) == (1, 3, 0)
    assert report.unstored_bills == []

    write(config, DESK.replace(', "jurisdiction:us"', "").replace("HB 9", "HB 10"))
    later = sync_subscribers(repo, config, now=T0 + timedelta(hours=1), registry=REGISTRY)

    assert (later.created, later.updated, later.ended) == (1, 0, 2)
    assert later.unstored_bills == ["bill:va/2020/HB 10"]
    assert "not stored yet: bill:va/2020/HB 10" in later.summary_line()
    assert active(repo) == [("desk@example.org", "jurisdiction:va", "config"),
                            ("desk@example.org", "bill:va/2020/HB 10", "config")]
    again = sync_subscribers(repo, config, now=T0 + timedelta(hours=2), registry=REGISTRY)
    assert (again.created, again.updated, again.ended, again.reactivated) == (0, 0, 0, 0)


def test_sync_leaves_cli_subscriptions_alone_and_unsubscribes_stick(
    repo: Repository, config: Settings
) -> None:
    desk = add_subscriber(repo, "desk@example.org")
    follow(repo, desk, "topic:hate-crimes")  # made with tracker subscribe
    write(config, DESK)
    sync_subscribers(repo, config, now=T0, registry=REGISTRY)
    with repo.write() as session:
        va = next(s for s in store.subscriptions_of(session, desk) if s.target == "va")
        store.end_subscriptions(session, subscriber_id=desk, ended_by="subscriber",
                                now=T0 + timedelta(minutes=5), ids=[va.id])

    report = sync_subscribers(repo, config, now=T0 + timedelta(hours=1), registry=REGISTRY)
    write(config, "")
    emptied = sync_subscribers(repo, config, now=T0 + timedelta(hours=2), registry=REGISTRY)

    assert report.kept_unsubscribed == ["desk@example.org jurisdiction:va"]
    assert emptied.ended == 2  # the bill and us; the CLI-made topic stays
    assert active(repo) == [("desk@example.org", "topic:hate-crimes", "cli")]
    with repo.read() as session:
        profile = store.get_subscriber(session, "desk@example.org")
    assert profile is not None and profile.language == "es"  # the file's profile won


def test_a_subscription_the_file_ended_comes_back_with_the_file_and_is_welcomed_again(
    repo: Repository, config: Settings
) -> None:
    write(config, DESK)
    sync_subscribers(repo, config, now=T0, registry=REGISTRY)
    write(config, "")
    sync_subscribers(repo, config, now=T0 + timedelta(hours=1), registry=REGISTRY)
    write(config, DESK)

    back = sync_subscribers(repo, config, now=T0 + timedelta(hours=2), registry=REGISTRY)

    assert back.reactivated == 3
    with repo.read() as session:
        subscriptions = store.active_subscriptions(session)
    assert {(s.active_since, s.welcomed_at) for s in subscriptions} == {
        (T0 + timedelta(hours=2), None)}


def test_no_file_changes_nothing(repo: Repository, config: Settings) -> None:
    write(config, DESK)
    sync_subscribers(repo, config, now=T0, registry=REGISTRY)
    (config.config_dir / "subscribers.toml").unlink()

    report = sync_subscribers(repo, config, now=T0 + timedelta(hours=1), registry=REGISTRY)

    assert report.path is None and "nothing synced" in report.summary_line()
    assert len(active(repo)) == 3
