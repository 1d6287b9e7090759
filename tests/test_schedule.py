"""The service in-process: job plans (intervals, floors, first runs), the scheduler's options,
leadership between two services on one database, a lost lease, the digest catch-up at start,
graceful and forced stops, `tracker poll` under the per-source lease, logs and status.

The source here is a small in-memory one (JSON documents, as in tests/test_pipeline.py) whose
fetch can be held open, so a stop can arrive while a poll is in the middle of its documents.
The real processes are in tests/test_run_process.py.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

from tracker import cli_run
from tracker.errors import ConfigError
from tracker.http import HttpClient
from tracker.leases import LEADER, LeaseHeld, Leases, poll_lease
from tracker.models import ActionClass, BillType, Chamber
from tracker.pipeline import Pipeline
from tracker.records import (
    ActionRecord,
    BillRecord,
    BillRef,
    Checkpoint,
    Fetched,
    StateUpdate,
    Validators,
)
from tracker.schedule import (
    DIGESTS,
    JobPlan,
    Service,
    ServiceOptions,
    build_scheduler,
    first_poll,
    log_job_event,
    plan_jobs,
    poll_interval,
    poll_jitter,
    poll_source,
    pollable,
)
from tracker.settings import Settings, SourceSettings
from tracker.source import SourceContext, SourceInfo
from tracker.storage import leases_repo
from tracker.storage.repository import Repository

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# -- a source whose documents can be held back -------------------------------------------------


class Upstream:
    """Documents by URL; ``gate`` (when set) is waited for before each fetch returns."""

    def __init__(self) -> None:
        self.documents: dict[str, list[str]] = {}
        self.fetches: list[str] = []
        self.discoveries = 0
        self.gate: threading.Event | None = None
        self.fetching = threading.Event()


UPSTREAM = Upstream()


class HeldSource:
    info: ClassVar[SourceInfo] = SourceInfo(
        name="held", title="Held back", jurisdictions=("va",), homepage="http://held",
        default_origin="http://held", min_interval=timedelta(hours=1),
    )

    def __init__(self, context: SourceContext) -> None:
        self.context = context

    def discover(self, *, since: datetime | None) -> Iterator[BillRef | Checkpoint]:
        UPSTREAM.discoveries += 1
        for url in sorted(UPSTREAM.documents):
            if self.context.state.get(url) is None:
                yield BillRef(source="held", url=url, session="2020", lastmod="1")

    def fetch(self, ref: BillRef) -> Fetched:
        UPSTREAM.fetches.append(ref.url)
        UPSTREAM.fetching.set()
        if UPSTREAM.gate is not None:
            UPSTREAM.gate.wait(10)
        body = json.dumps(UPSTREAM.documents[ref.url]).encode()
        return Fetched(ref=ref, documents={ref.url: body},
                       updates=(StateUpdate(ref.url, Validators(lastmod="1")),))

    def parse(self, fetched: Fetched) -> list[BillRecord]:
        return [
            BillRecord(source="held", jurisdiction="va", session="2020", identifier=identifier,
                       title=f"Bill {identifier}", bill_type=BillType.BILL,
                       actions=(ActionRecord(date=date(2020, 1, 8), actor=Chamber.LOWER,
                                             description="Prefiled",
                                             classification=(ActionClass.INTRODUCTION,)),))
            for identifier in json.loads(fetched.body)
        ]


REGISTRY = {"held": HeldSource}


@pytest.fixture(autouse=True)
def fresh_upstream() -> Iterator[None]:
    global UPSTREAM
    UPSTREAM = Upstream()
    yield
    if UPSTREAM.gate is not None:
        UPSTREAM.gate.set()


def settings_for(tmp_path: Path, *, interval: timedelta = timedelta(seconds=1),
                 enabled: bool = True) -> Settings:
    source = SourceSettings(name="held", enabled=enabled, sessions=("2020",), interval=interval,
                            base_url="http://held.test")
    return Settings(config_dir=tmp_path, database_url="", sources={"held": source})


def pipeline_factory(settings: Settings, repo: Repository) -> Callable[[], Pipeline]:
    def build() -> Pipeline:
        http = HttpClient(user_agent="test", min_interval=0, sleep=lambda s: None)
        return Pipeline(settings=settings, repo=repo, http=http, registry=REGISTRY)

    return build


class Digests:
    """A digest runner that records when it was asked."""

    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.called = threading.Event()

    def __call__(self, *, now: datetime) -> object:
        self.calls.append(now)
        self.called.set()
        return "nothing due"


def service(
    repo: Repository, settings: Settings, *, holder: str, ttl: float = 30.0,
    digests: Callable[..., object] | None = None, digest_every: timedelta = timedelta(hours=1),
    clock: Callable[[], datetime] | None = None, stop_grace: float = 8.0,
) -> Service:
    options = ServiceOptions(lease_ttl=timedelta(seconds=ttl), digest_every=digest_every,
                             stop_grace=stop_grace)
    return Service(settings=settings, repo=repo, registry=REGISTRY, holder=holder,
                   build_pipeline=pipeline_factory(settings, repo), options=options,
                   digest_runner=digests or Digests(), **({"clock": clock} if clock else {}))


class Running:
    """A Service.run() in a thread."""

    def __init__(self, svc: Service) -> None:
        self.service = svc
        self.result: list[bool] = []
        self.thread = threading.Thread(target=lambda: self.result.append(svc.run()), daemon=True)
        self.thread.start()

    def stop(self, *, within: float = 10.0) -> bool:
        self.service.request_stop("test")
        self.thread.join(within)
        assert not self.thread.is_alive(), f"service did not stop within {within} s"
        return self.result[0]


def wait_for(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def runs(repo: Repository) -> list[tuple[str, str | None]]:
    with repo.read() as session:
        return [(r.status, r.error) for r in reversed(repo.runs(session, source="held"))]


# -- plans: pure -------------------------------------------------------------------------------


def test_the_politeness_floor_guards_the_real_origin_only() -> None:
    info = HeldSource.info  # min_interval 1 h
    real = SourceSettings(name="held", interval=timedelta(minutes=5))
    mirror = SourceSettings(name="held", interval=timedelta(seconds=2), base_url="http://m")
    slow = SourceSettings(name="held", interval=timedelta(hours=4))
    assert poll_interval(real, info) == timedelta(hours=1)
    assert poll_interval(mirror, info) == timedelta(seconds=2)
    assert poll_interval(slow, info) == timedelta(hours=4)


def test_jitter_is_a_tenth_of_the_interval_at_most_five_minutes() -> None:
    assert poll_jitter(timedelta(seconds=2)) == pytest.approx(0.2)
    assert poll_jitter(timedelta(minutes=30)) == 180
    assert poll_jitter(timedelta(hours=4)) == 300


def test_the_first_poll_continues_the_cadence_of_the_last_recorded_one() -> None:
    hour = timedelta(hours=1)
    assert first_poll(last_started=None, interval=hour, now=NOW) == NOW
    assert first_poll(last_started=NOW - timedelta(minutes=20), interval=hour,
                      now=NOW) == NOW + timedelta(minutes=40)
    assert first_poll(last_started=NOW - timedelta(hours=5), interval=hour, now=NOW) == NOW


def test_pollable_sources_and_why_others_are_not(tmp_path: Path) -> None:
    class KeyedSource(HeldSource):
        info = SourceInfo(name="keyed", title="Keyed", jurisdictions=("us",), homepage="h",
                          default_origin="h", min_interval=timedelta(0), needs_key=True,
                          key_env=("KEYED_API_KEY",))

    registry = {"held": HeldSource, "keyed": KeyedSource}
    sources = {"held": SourceSettings(name="held", enabled=True),
               "keyed": SourceSettings(name="keyed", enabled=True),
               "off": SourceSettings(name="off", enabled=False)}
    settings = Settings(config_dir=tmp_path, database_url="", sources=sources)
    assert pollable(settings, registry) == (["held"], {"keyed": "no API key; set KEYED_API_KEY"})
    keyed = Settings(config_dir=tmp_path, database_url="", sources=sources,
                     environ={"KEYED_API_KEY": "k"})
    assert pollable(keyed, registry) == (["held", "keyed"], {})


def test_plan_jobs(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, interval=timedelta(minutes=30))
    plans = plan_jobs(settings=settings, registry=REGISTRY, options=ServiceOptions(),
                      last_polls={"held": NOW - timedelta(minutes=10)}, now=NOW)
    assert plans == [
        JobPlan(id="poll:held", description="poll held every 30m", kind="poll", target="held",
                every=timedelta(minutes=30), first_run=NOW + timedelta(minutes=20), jitter=180.0),
        JobPlan(id=DIGESTS, description="send instant alerts and due digests every 1m",
                kind="digest", target=DIGESTS, every=timedelta(minutes=1), first_run=NOW),
    ]
    assert [p.grace_seconds for p in plans] == [1800, 60]


def test_the_scheduler_is_built_with_deliberate_job_options(tmp_path: Path) -> None:
    plans = plan_jobs(settings=settings_for(tmp_path), registry=REGISTRY,
                      options=ServiceOptions(), last_polls={}, now=NOW)
    scheduler = build_scheduler(plans, run=lambda plan: None, workers=9)
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1,
                                       "misfire_grace_time": 900}
    assert scheduler._executors["default"]._pool._max_workers == 4
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == [DIGESTS, "poll:held"]
    poll = jobs["poll:held"]
    # Defaults (coalesce, max_instances) are applied when the scheduler starts.
    assert (poll.next_run_time, poll.misfire_grace_time) == (NOW, 60)
    assert (poll.trigger.interval, poll.trigger.jitter) == (timedelta(seconds=1), 0.1)
    assert str(scheduler.timezone) == "UTC"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, ServiceOptions()),
     ({"TRACKER_LEASE_SECONDS": "3", "TRACKER_DIGEST_EVERY": "5m"},
      ServiceOptions(lease_ttl=timedelta(seconds=3), digest_every=timedelta(minutes=5)))],
)
def test_service_options_from_the_environment(
    environ: dict[str, str], expected: ServiceOptions
) -> None:
    assert ServiceOptions.from_environ(environ) == expected


def test_service_options_arguments_win_and_bad_values_are_refused() -> None:
    environ = {"TRACKER_DIGEST_EVERY": "5m"}
    options = ServiceOptions.from_environ(environ, digest_every="2m", lease_seconds=10)
    assert (options.digest_every, options.lease_ttl) == (timedelta(minutes=2),
                                                        timedelta(seconds=10))
    assert options.standby_every == 1.0
    with pytest.raises(ConfigError, match=r"^TRACKER_DIGEST_EVERY='often': 'often' is not a "):
        ServiceOptions.from_environ({"TRACKER_DIGEST_EVERY": "often"})


def test_job_events_are_one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tracker.schedule")
    log_job_event(SimpleNamespace(code=EVENT_JOB_ERROR, job_id="poll:held",
                                  exception=RuntimeError("boom\nsecond line"),
                                  traceback="Traceback ..."))
    log_job_event(SimpleNamespace(code=EVENT_JOB_MISSED, job_id=DIGESTS,
                                  scheduled_run_time=NOW))
    log_job_event(SimpleNamespace(code=EVENT_JOB_MAX_INSTANCES, job_id="poll:held"))
    assert [r.getMessage() for r in caplog.records] == [
        "job poll:held failed: RuntimeError: boom second line",
        "job digests: the run due at 09:00:00 started too late and was dropped; the next run "
        "covers it",
        "job poll:held: still running at its next run time; that run is skipped",
    ]
    assert caplog.records[0].fields["traceback"] == "Traceback ..."  # type: ignore[attr-defined]


# -- the service -------------------------------------------------------------------------------


def test_the_digest_job_runs_at_start_with_the_injected_clock(
    repo: Repository, tmp_path: Path
) -> None:
    """The catch-up: with an hourly digest job, the first run is at start, not an hour later,
    and the runner is asked about the injected clock's now."""
    offset = datetime(2026, 12, 1, 14, 0, tzinfo=UTC) - datetime.now(UTC)
    calls = Digests()
    svc = service(repo, settings_for(tmp_path, enabled=False), holder="a", digests=calls,
                  digest_every=timedelta(hours=1), clock=lambda: datetime.now(UTC) + offset)
    running = Running(svc)
    assert calls.called.wait(5)
    time.sleep(0.3)
    assert running.stop()
    assert len(calls.calls) == 1
    assert abs(calls.calls[0] - datetime(2026, 12, 1, 14, 0, tzinfo=UTC)) < timedelta(seconds=5)


def test_with_the_real_runner_a_missed_daily_digest_goes_out_once_at_start(
    tmp_path: Path,
) -> None:
    """The demo's subscribers and changes (tracker.demo); the service was down over the next
    morning's digest hour and starts two hours late: the daily digests go out at start, once."""
    from dataclasses import replace

    from notifiers.service import DeliveryReport, send_digests
    from scrapers import REGISTRY as SOURCES
    from tracker.demo import (
        BASELINE_AT,
        CHANGE_AT,
        NEXT_MORNING,
        SOURCE,
        DemoClock,
        DemoUpstream,
        demo_pipeline,
        demo_settings,
        subscribe_demo_people,
    )
    from tracker.schedule import service_digest_runner
    from tracker.storage.tables import OutboxRow
    from tracker.wiring import open_repository

    with DemoUpstream(tmp_path / "upstream") as upstream:
        settings = demo_settings(tmp_path, base_url=upstream.base_url,
                                 extra_env={"TRACKER_SECRET_KEY": "catch-up-test-secret-0123"})
        repo = open_repository(settings)
        clock = DemoClock(BASELINE_AT)
        pipeline = demo_pipeline(settings, repo, clock)
        assert pipeline.poll(SOURCE).status == "ok"
        subscribe_demo_people(repo, settings=settings, now=BASELINE_AT + timedelta(minutes=5))
        send_digests(repo, settings=settings, now=BASELINE_AT + timedelta(minutes=5))  # welcomes
        clock.set(CHANGE_AT)
        upstream.apply_change()
        assert pipeline.poll(SOURCE).status == "ok"
        send_digests(repo, settings=settings, now=CHANGE_AT + timedelta(minutes=1))  # instant

    offset = NEXT_MORNING + timedelta(hours=2) - datetime.now(UTC)
    reports: list[DeliveryReport] = []
    real = service_digest_runner(repo, settings)

    def recording(*, now: datetime) -> object:
        report = real(now=now)
        assert isinstance(report, DeliveryReport)
        reports.append(report)
        return report

    quiet = replace(settings, sources={SOURCE: replace(settings.sources[SOURCE], enabled=False)})
    svc = Service(settings=quiet, repo=repo, registry=SOURCES, holder="late",
                  build_pipeline=lambda: pipeline, digest_runner=recording,
                  clock=lambda: datetime.now(UTC) + offset,
                  options=ServiceOptions(digest_every=timedelta(seconds=0.2)))
    running = Running(svc)
    wait_for(lambda: len(reports) >= 3)
    assert running.stop()
    first, *later = reports
    assert first.problems == [] and first.queued, "the catch-up run sends the missed digests"
    assert all(q.new for q in first.queued)
    assert [len(r.queued) for r in later] == [0] * len(later), "and nothing twice"
    with repo.read() as session:
        import sqlalchemy as sa

        daily = session.execute(sa.select(sa.func.count()).select_from(OutboxRow).where(
            OutboxRow.kind == "digest", OutboxRow.status == "sent")).scalar_one()
    keys = [q.digest_key for q in first.queued]
    assert keys and all(k.startswith("daily:") and k.endswith(":2026-03-03T07") for k in keys), \
        "the daily digests of the slot that passed while the service was down"
    assert daily == len(keys), "each sent once"
    repo.engine.dispose()


def test_one_of_two_services_leads_and_the_other_takes_over(
    repo: Repository, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, interval=timedelta(hours=1))
    UPSTREAM.documents["held:1"] = ["HB 1"]
    first = Running(service(repo, settings, holder="first", ttl=1.0))
    wait_for(lambda: UPSTREAM.discoveries == 1)
    second = Running(service(repo, settings, holder="second", ttl=1.0))
    time.sleep(0.5)
    leases = Leases(repo, holder="observer")
    lease = leases.holder_of(LEADER)
    assert lease is not None and lease.holder == "first"
    assert UPSTREAM.discoveries == 1, "the standby does not poll"
    assert first.stop()
    wait_for(lambda: (leases.holder_of(LEADER) or SimpleNamespace(holder="")).holder == "second")
    # The new leader keeps the cadence of the recorded poll: an hour later, not now.
    time.sleep(0.3)
    assert UPSTREAM.discoveries == 1
    with repo.read() as session:
        jobs = {j.id: j for j in leases_repo.list_jobs(session)}
    assert jobs["poll:held"].holder == "second"
    assert jobs["poll:held"].next_run_at is not None
    assert jobs["poll:held"].next_run_at > datetime.now(UTC) + timedelta(minutes=50)
    assert second.stop()
    assert leases.holder_of(LEADER) is None, "released on stop"


def test_a_leader_that_loses_its_lease_stops_scheduling_and_stands_by(
    repo: Repository, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, interval=timedelta(seconds=0.2))
    UPSTREAM.documents["held:1"] = ["HB 1"]
    running = Running(service(repo, settings, holder="leader", ttl=0.6))
    wait_for(lambda: UPSTREAM.discoveries >= 2)
    # Another process takes the lease (as if our renewals had stopped reaching the database).
    with repo.write() as session:
        assert leases_repo.take_lease(session, name=LEADER, holder="usurper",
                                      now=datetime.now(UTC) + timedelta(hours=1),
                                      expires_at=datetime.now(UTC) + timedelta(hours=2))
    time.sleep(0.6)  # at least one renewal of the leader's (every 0.2 s) found it gone
    polls = UPSTREAM.discoveries
    time.sleep(0.8)
    assert UPSTREAM.discoveries == polls, "no polls after the lease was lost"
    assert running.thread.is_alive(), "it stands by rather than exiting"
    assert running.stop()


def test_stop_ends_a_poll_between_documents_and_records_it_honestly(
    repo: Repository, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, interval=timedelta(hours=1))
    UPSTREAM.documents.update({f"held:{n}": [f"HB {n}"] for n in range(1, 6)})
    UPSTREAM.gate = threading.Event()
    running = Running(service(repo, settings, holder="a"))
    assert UPSTREAM.fetching.wait(5)
    running.service.request_stop("test")
    UPSTREAM.gate.set()  # the document in hand completes
    running.thread.join(10)
    assert running.result == [True]
    assert UPSTREAM.fetches == ["held:1"]
    assert runs(repo) == [("stopped", "stopped by a shutdown after 1 documents; the rest is "
                                      "polled next time")]
    with repo.read() as session:
        assert repo.count_bills(session, source="held") == 1
        assert repo.baselined_sessions(session, source="held") == set(), \
            "a stopped baseline stays a baseline for the rest"
    assert Leases(repo, holder="x").holder_of(poll_lease("held")) is None


def test_a_poll_stuck_past_the_grace_time_is_abandoned_and_closed(
    repo: Repository, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, interval=timedelta(hours=1))
    UPSTREAM.documents["held:1"] = ["HB 1"]
    UPSTREAM.gate = threading.Event()  # never set while the service stops: upstream hangs
    running = Running(service(repo, settings, holder="a", stop_grace=0.5))
    assert UPSTREAM.fetching.wait(5)
    started = time.monotonic()
    assert running.stop(within=5) is False, "run() reports the abandoned job"
    assert time.monotonic() - started < 3
    [(status, note)] = runs(repo)
    assert status == "stopped"
    assert note is not None and note.startswith("stopped by a shutdown while waiting on upstream")
    leases = Leases(repo, holder="x")
    assert leases.holder_of(poll_lease("held")) is None
    assert leases.holder_of(LEADER) is None


# -- one poll under its lease ------------------------------------------------------------------


def test_a_source_being_polled_elsewhere_is_not_polled(repo: Repository, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    other = Leases(repo, holder="other-host:42:abc")
    assert other.acquire(poll_lease("held"))
    mine = Leases(repo, holder="me")
    with pytest.raises(LeaseHeld) as info:
        poll_source(pipeline=pipeline_factory(settings, repo)(), leases=mine, name="held",
                    registry=REGISTRY)
    assert info.value.lease.holder == "other-host:42:abc"
    assert runs(repo) == [] and UPSTREAM.discoveries == 0


def test_runs_left_running_by_a_dead_process_are_closed_by_the_next_poll(
    repo: Repository, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    UPSTREAM.documents["held:1"] = ["HB 1"]
    with repo.write() as session:
        repo.start_run(session, source="held", now=NOW)
    report = poll_source(pipeline=pipeline_factory(settings, repo)(),
                         leases=Leases(repo, holder="me"), name="held", registry=REGISTRY)
    assert report.status == "ok"
    assert runs(repo) == [
        ("abandoned", "the poller stopped before finishing (the process was killed)"),
        ("ok", None),
    ]


def test_tracker_poll_skips_a_source_the_service_is_polling(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.cli_helpers import run_cli

    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.toml").write_text(
        '[sources.us-govinfo]\nenabled = true\nsessions = ["117"]\n'
        'base_url = "http://127.0.0.1:9"\n'
    )
    monkeypatch.setenv("TRACKER_CONFIG", str(config))
    monkeypatch.setenv("TRACKER_DATABASE_URL", str(repo.engine.url.render_as_string(False)))
    assert Leases(repo, holder="server-1:77:beef").acquire(poll_lease("us-govinfo"))
    outcome = run_cli(capsys, "poll", "us-govinfo")
    assert (outcome.code, outcome.lines()) == (
        0, ["us-govinfo: skipped: being polled by server-1:77:beef"])
    with repo.read() as session:
        assert repo.runs(session, source="us-govinfo") == []


# -- logs and status ---------------------------------------------------------------------------


def test_json_logs_are_one_object_per_line_with_fields_and_no_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(cli_run.JsonLogFormatter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("fetch failed: https://api.example/bills?api_key=SECRET1&page=2",
                       extra={"fields": {"event": "poll", "source": "legiscan", "fetched": 3,
                                         "error": "postgresql://u:SECRET2@db/x down"}})
        try:
            raise ValueError("token=SECRET3")
        except ValueError:
            logger.exception("with a traceback")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"ts", "level", "logger", "msg", "event", "source", "fetched", "error"}
    assert (first["level"], first["logger"], first["fetched"]) == ("warning", "tests.json", 3)
    assert first["msg"] == "fetch failed: https://api.example/bills?api_key=***&page=2"
    assert first["error"] == "postgresql://u:***@db/x down"
    assert first["ts"].endswith("Z")
    assert "ValueError" in second["exc"]
    assert "SECRET" not in stream.getvalue()


def test_status_lines_summarize_the_service() -> None:
    from tracker.leases import Lease

    report = cli_run.ServiceStatus(
        now=NOW,
        leader=Lease(name=LEADER, holder="host-a:1:x", acquired_at=NOW - timedelta(hours=2),
                     expires_at=NOW + timedelta(seconds=50), heartbeat=NOW - timedelta(seconds=10)),
        leader_alive=True,
        jobs=[cli_run.JobLine("poll:us-govinfo", "poll us-govinfo every 4h",
                              NOW + timedelta(hours=1))],
        queues={"deliveries_pending": 3, "outbox_pending": 1, "outbox_sending": 0,
                "outbox_failed": 2},
        unhealthy={"va-lis": ["3 failed polls in a row; last error: timeout"]},
    )
    assert cli_run.status_lines(report) == [
        "scheduler: host-a:1:x, leading since 2026-12-01T07:00:00.000Z; heartbeat 10 s ago, "
        "lease until 2026-12-01T09:00:50.000Z",
        "next runs:",
        "  poll:us-govinfo  2026-12-01T10:00:00.000Z  poll us-govinfo every 4h",
        "deliveries pending: 3; outbox: 1 pending, 2 failed",
        "unhealthy sources:",
        "  va-lis: 3 failed polls in a row; last error: timeout",
    ]


def test_tracker_status_reads_the_database(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.cli_helpers import run_cli

    monkeypatch.setenv("TRACKER_CONFIG", str(tmp_path))  # no files: the shipped defaults
    monkeypatch.setenv("TRACKER_DATABASE_URL", str(repo.engine.url.render_as_string(False)))
    outcome = run_cli(capsys, "status", "--check")
    assert outcome.code == 1
    assert outcome.lines()[0] == ("scheduler: none has run on this database yet "
                                  "(start one: tracker run)")
    leases = Leases(repo, holder="host-b:2:y")
    assert leases.acquire(LEADER)
    with repo.write() as session:
        leases_repo.save_jobs(session, {"digests": ("send digests every 1m", NOW)},
                              holder="host-b:2:y", now=NOW)
    outcome = run_cli(capsys, "status", "--check", "--format", "json")
    assert outcome.code == 0
    data: dict[str, Any] = json.loads(outcome.out)
    assert data["leader"]["holder"] == "host-b:2:y" and data["leader_alive"] is True
    assert data["jobs"] == [{"id": "digests", "description": "send digests every 1m",
                             "next_run_at": "2026-12-01T09:00:00.000Z"}]
    assert data["queues"] == {"deliveries_pending": 0, "outbox_pending": 0, "outbox_sending": 0,
                              "outbox_failed": 0}
