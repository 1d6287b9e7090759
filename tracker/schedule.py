"""``tracker run``: the long-running service. Leader lease, APScheduler jobs, graceful stop.

One process of a deployment is the scheduler at a time (:mod:`tracker.leases`): each
``tracker run`` tries to take the ``scheduler`` lease and, while another live process holds it,
stands by and tries again every tenth of the lease period. The leader runs an APScheduler 3.x
``BlockingScheduler`` (the 4.x line is still alpha) with jobs rebuilt from the config at every
start in the default in-memory job store, so nothing pickled can go stale:

* ``poll:<source>`` for each enabled source, every ``interval`` of ``sources.toml`` plus up to
  10% jitter (at most five minutes) so sources sharing a start do not stay in step. Against a
  source's real origin the interval is never shorter than the source's politeness floor
  (``SourceInfo.min_interval``); with ``base_url`` set (mirrors, tests, replays) it is used
  as configured. The first poll is due one interval after the last recorded poll, or now.
* ``digests`` every minute (``TRACKER_DIGEST_EVERY``) runs the digest runner
  (``notifiers.service.send_digests``): it routes new changes, builds what is due (an instant
  subscriber's alerts at once; a daily digest at the subscriber's hour in their own time zone,
  a weekly one on their day; each digest once, keyed in the outbox), queues and sends the
  outbox, operator alerts included. One job covers instant alerts and scheduled digests
  because the runner itself decides who is due; its first run is at start, so a digest whose
  time passed while the service was down goes out then, once (the catch-up).

Job options, on purpose: ``coalesce=True`` (runs missed while busy or down collapse into one),
``max_instances=1`` (a slow poll is never overlapped by its next run) and
``misfire_grace_time`` of the job's interval, at least a minute: a run that could not start
within that of its time is dropped (logged), because the next run is due by then and covers
the same ground; the library default of one second would silently drop runs after any busy
moment. Every poll also takes its source's ``poll:<source>`` lease, the same one a manual
``tracker poll`` takes, so a source is never polled twice at once, even by two processes.

Stopping: SIGTERM or SIGINT (:meth:`Service.request_stop`) sets a stop event that polls check
between documents (a poll ends after the document in hand is stored and is recorded
``stopped``); the scheduler is shut down from a helper thread (shutdown takes the scheduler's
locks, which the signal handler's thread may hold); the main thread then waits for running
jobs, at most ``stop_grace`` seconds, and leases are released. A job still stuck after that
(an upstream that does not answer) is abandoned: its run is closed as ``stopped`` and
:meth:`Service.run` returns False so the caller can exit at once. A leader whose lease
renewal fails stops scheduling the same way and stands by.

Clocks: APScheduler runs on the real clock; the injected ``clock`` stamps leases, alarms and
the ``now`` the digest runner is asked about (tests move it to a time of their choosing).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from tracker import alarms
from tracker.errors import ConfigError, TrackerError
from tracker.leases import DEFAULT_TTL, LEADER, LeaseHeld, Leases, lease_ttl, poll_lease
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, SourceSettings, parse_duration
from tracker.source import SourceFactory, SourceInfo
from tracker.storage import leases_repo
from tracker.storage.repository import Repository

log = logging.getLogger(__name__)

DIGESTS = "digests"
JITTER_SHARE = 0.10
JITTER_MAX = 300.0
MIN_GRACE = timedelta(minutes=1)
DEFAULT_DIGEST_EVERY = timedelta(minutes=1)
#: For a job added without its own grace (every job here sets one).
DEFAULT_GRACE_SECONDS = 15 * 60


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- options -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How the service runs; :meth:`from_environ` reads them, CLI options override."""

    lease_ttl: timedelta = DEFAULT_TTL
    digest_every: timedelta = DEFAULT_DIGEST_EVERY
    workers: int = 4
    stop_grace: float = 8.0

    @property
    def standby_every(self) -> float:
        """Seconds between a standby's attempts: a tenth of the lease, within [0.2, 10]."""
        return min(10.0, max(0.2, self.lease_ttl.total_seconds() / 10))

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, digest_every: str | None = None,
        lease_seconds: float | None = None,
    ) -> ServiceOptions:
        """``TRACKER_LEASE_SECONDS`` and ``TRACKER_DIGEST_EVERY`` (a duration such as
        ``"1m"``); an argument given wins over its variable."""
        ttl = (lease_ttl({"TRACKER_LEASE_SECONDS": str(lease_seconds)})
               if lease_seconds is not None else lease_ttl(environ))
        return cls(
            lease_ttl=ttl,
            digest_every=_duration(environ, "TRACKER_DIGEST_EVERY", digest_every,
                                   DEFAULT_DIGEST_EVERY),
        )


def _duration(
    environ: Mapping[str, str], name: str, given: str | None, default: timedelta
) -> timedelta:
    text = given if given is not None else environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{name}={text!r}: {exc}") from None


# -- the plan: pure ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One job as it will be scheduled: run ``target`` every ``every`` from ``first_run``."""

    id: str
    description: str
    kind: str  # "poll" or "digest"
    target: str  # the source name, or the digest job id
    every: timedelta
    first_run: datetime
    jitter: float = 0.0

    @property
    def grace_seconds(self) -> int:
        return int(max(self.every, MIN_GRACE).total_seconds())


def poll_interval(settings: SourceSettings, info: SourceInfo) -> timedelta:
    """The configured interval, raised to the source's politeness floor unless ``base_url``
    points the source somewhere else than its real origin."""
    if settings.base_url:
        return settings.interval
    return max(settings.interval, info.min_interval)


def poll_jitter(interval: timedelta) -> float:
    """Seconds of random delay added to each run: 10% of the interval, at most five minutes."""
    return min(interval.total_seconds() * JITTER_SHARE, JITTER_MAX)


def first_poll(*, last_started: datetime | None, interval: timedelta, now: datetime) -> datetime:
    """One interval after the last recorded poll, or now when that is past (or never was)."""
    if last_started is None:
        return now
    return max(last_started + interval, now)


def pollable(
    settings: Settings, registry: Mapping[str, SourceFactory]
) -> tuple[list[str], dict[str, str]]:
    """The enabled sources that can be polled, and why each other enabled one cannot."""
    names, skipped = [], {}
    for name, configured in sorted(settings.sources.items()):
        if not configured.enabled:
            continue
        factory = registry.get(name)
        if factory is None:
            skipped[name] = "not a known source"
        elif factory.info.needs_key and not (
            configured.key(settings.environ)
            or any(settings.environ.get(n) for n in factory.info.key_env)
        ):
            names_ = " or ".join(configured.key_env or factory.info.key_env)
            skipped[name] = f"no API key; set {names_}"
        else:
            names.append(name)
    return names, skipped


def plan_jobs(
    *, settings: Settings, registry: Mapping[str, SourceFactory],
    last_polls: Mapping[str, datetime], options: ServiceOptions, now: datetime,
) -> list[JobPlan]:
    """Every job of a leadership term, from the config and the last recorded polls."""
    plans = []
    for name in pollable(settings, registry)[0]:
        interval = poll_interval(settings.sources[name], registry[name].info)
        plans.append(JobPlan(
            id=f"poll:{name}", description=f"poll {name} every {_text(interval)}", kind="poll",
            target=name, every=interval, jitter=poll_jitter(interval),
            first_run=first_poll(last_started=last_polls.get(name), interval=interval, now=now),
        ))
    plans.append(JobPlan(
        id=DIGESTS, kind="digest", target=DIGESTS, every=options.digest_every, first_run=now,
        description=f"send instant alerts and due digests every {_text(options.digest_every)}",
    ))
    return plans


def _text(interval: timedelta) -> str:
    if interval.total_seconds() < 1:
        return f"{interval.total_seconds():g}s"
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def build_scheduler(
    plans: Sequence[JobPlan], *, run: Callable[[JobPlan], None], workers: int,
) -> BlockingScheduler:
    """A BlockingScheduler (UTC) holding one job per plan, each calling ``run(plan)``."""
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=max(2, min(4, workers)))},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": DEFAULT_GRACE_SECONDS},
        timezone=UTC,
    )
    for plan in plans:
        scheduler.add_job(
            run,
            IntervalTrigger(seconds=plan.every.total_seconds(), timezone=UTC,
                            jitter=plan.jitter or None),
            args=[plan], id=plan.id, name=plan.description,
            next_run_time=plan.first_run,  # not start_date: that would skip a run due now
            misfire_grace_time=plan.grace_seconds, replace_existing=True,
        )
    scheduler.add_listener(log_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED
                           | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def log_job_event(event: Any) -> None:
    """One log line for a job that failed, missed its time or was still running."""
    fields = {"event": "job", "job": event.job_id}
    if event.code == EVENT_JOB_ERROR:
        error = alarms.one_line(f"{type(event.exception).__name__}: {event.exception}", limit=500)
        log.error("job %s failed: %s", event.job_id, error,
                  extra={"fields": fields | {"outcome": "error", "traceback": event.traceback}})
    elif event.code == EVENT_JOB_MISSED:
        log.warning("job %s: the run due at %s started too late and was dropped; the next run "
                    "covers it", event.job_id, f"{event.scheduled_run_time:%H:%M:%S}",
                    extra={"fields": fields | {"outcome": "missed"}})
    else:
        log.warning("job %s: still running at its next run time; that run is skipped",
                    event.job_id, extra={"fields": fields | {"outcome": "max-instances"}})


# -- one poll, as the scheduler and `tracker poll` both run it ---------------------------------


def poll_source(
    *, pipeline: Pipeline, leases: Leases, name: str, registry: Mapping[str, SourceFactory],
    stop: threading.Event | None = None,
) -> RunReport:
    """Poll ``name`` under its ``poll:<source>`` lease, then update its health alarm.

    Raises :class:`LeaseHeld` when another process is polling it. Runs left ``running`` by a
    process that died are closed first (holding the lease, nobody else can be writing them).
    """
    with leases.hold(poll_lease(name)):
        now = leases.clock()
        with pipeline.repo.write() as session:
            closed = leases_repo.close_running_runs(
                session, source=name, status="abandoned", now=now,
                note="the poller stopped before finishing (the process was killed)",
            )
        if closed:
            log.warning("%s: %d unfinished poll(s) of a dead process closed as abandoned",
                        name, closed)
        report = pipeline.poll(name, stop=stop)
        try:
            alarms.after_poll(pipeline.repo, source=name, run_id=report.run_id,
                              settings=pipeline.settings, registry=registry, now=leases.clock())
        except SQLAlchemyError as exc:
            log.error("%s: health alarm not updated: %s", name, str(exc).splitlines()[0])
    return report


# -- digests -----------------------------------------------------------------------------------


class DigestRunner(Protocol):
    """Routes, builds, queues and sends what is due at ``now``; returns a report to log."""

    def __call__(self, *, now: datetime) -> object: ...


def service_digest_runner(repo: Repository, settings: Settings) -> DigestRunner:
    """The real runner, ``notifiers.service.send_digests``."""

    def run(*, now: datetime) -> object:
        # Imported when the job first runs: rendering and transports are not needed to poll.
        from notifiers.service import send_digests

        return send_digests(repo, settings=settings, now=now)

    return run


def digest_summary(report: object) -> tuple[str, dict[str, Any]]:
    """One line and its fields for a digest run's report (``DeliveryReport`` or a test's)."""
    from notifiers.service import DeliveryReport

    if not isinstance(report, DeliveryReport):
        return str(report), {}
    fields: dict[str, Any] = {"queued": sum(1 for q in report.queued if q.new),
                              "problems": len(report.problems), "skipped": len(report.skipped)}
    line = (f"{fields['queued']} queued, {fields['problems']} problems, "
            f"{fields['skipped']} skipped")
    if report.send is not None:
        fields |= {"sent": report.send.count("sent"), "deferred": report.send.count("deferred"),
                   "failed": report.send.count("failed"), "transport": report.send.transport}
        line += f"; {report.send.summary_line()}"
    for problem in report.problems[:5]:
        log.warning("digests: %s", problem)
    return line, fields


# -- the service -------------------------------------------------------------------------------


class _Term:
    """One leadership term: its halt signal, and the jobs running in it."""

    def __init__(self) -> None:
        self.halt = threading.Event()
        self.started = threading.Event()
        self._idle = threading.Condition()
        self._active = 0

    @contextlib.contextmanager
    def job(self) -> Iterator[None]:
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the running jobs; True when none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout=timeout)


class Service:
    """One ``tracker run`` process: stands by or leads until :meth:`request_stop`."""

    def __init__(
        self, *, settings: Settings, repo: Repository, registry: Mapping[str, SourceFactory],
        build_pipeline: Callable[[], Pipeline], holder: str,
        options: ServiceOptions | None = None, digest_runner: DigestRunner | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.registry = registry
        self.options = options or ServiceOptions()
        self.clock = clock
        self.leases = Leases(repo, holder=holder, ttl=self.options.lease_ttl, clock=clock)
        self.digest_runner = digest_runner or service_digest_runner(repo, settings)
        self.stop = threading.Event()
        self._build_pipeline = build_pipeline
        self._pipeline: Pipeline | None = None
        self._term: _Term | None = None
        self._scheduler: BlockingScheduler | None = None
        self._polling: set[str] = set()
        # Reentrant: request_stop runs in a signal handler, on the main thread, which may be
        # holding it at that moment.
        self._lock = threading.RLock()

    @property
    def holder(self) -> str:
        return self.leases.holder

    def request_stop(self, reason: str = "stop requested") -> None:
        """Ask the service to stop (safe from a signal handler): see the module docstring."""
        if self.stop.is_set():
            log.info("already stopping")
            return
        log.info("stopping: %s", reason, extra={"fields": {"event": "stopping"}})
        self.stop.set()
        with self._lock:
            term = self._term
        if term is not None:
            term.halt.set()

    def run(self) -> bool:
        """Stand by or lead until stopped. False when running jobs had to be abandoned."""
        log.info("service started as %s", self.holder,
                 extra={"fields": {"event": "started", "holder": self.holder}})
        announced: str | None = None
        while not self.stop.is_set():
            try:
                clean = self._lead()
                announced = None
                if not clean:
                    return False
            except LeaseHeld as exc:
                if exc.lease.holder != announced:
                    announced = exc.lease.holder
                    log.info("standing by: %s is the scheduler (heartbeat %s UTC)",
                             exc.lease.holder, f"{exc.lease.heartbeat:%H:%M:%S}",
                             extra={"fields": {"event": "standby", "leader": exc.lease.holder}})
                self.stop.wait(self.options.standby_every)
            except SQLAlchemyError as exc:
                log.warning("cannot reach the database, retrying: %s",
                            str(exc).splitlines()[0])
                self.stop.wait(self.options.standby_every)
            except TrackerError as exc:
                log.error("cannot lead, retrying: %s", exc)
                self.stop.wait(self.options.standby_every)
        log.info("service stopped", extra={"fields": {"event": "stopped"}})
        return True

    # -- a leadership term --------------------------------------------------------------------

    def _lead(self) -> bool:
        with self.leases.hold(LEADER, on_lost=self._lost, on_renewed=self._record_jobs):
            # The scheduler runs on the real clock; the injected one stamps what is written.
            plans = plan_jobs(settings=self.settings, registry=self.registry,
                              last_polls=self._last_polls(), options=self.options,
                              now=datetime.now(UTC))
            for name, reason in pollable(self.settings, self.registry)[1].items():
                log.warning("%s: enabled but not polled: %s", name, reason)
            term = _Term()
            scheduler = build_scheduler(plans, run=lambda plan: self._run_job(term, plan),
                                        workers=self.options.workers)
            scheduler.add_listener(lambda _event: term.started.set(), EVENT_SCHEDULER_STARTED)
            stopper = threading.Thread(target=self._stopper, args=(term, scheduler),
                                       name="scheduler shutdown", daemon=True)
            self._pipeline = pipeline = self._build_pipeline()
            with self._lock:
                self._term, self._scheduler = term, scheduler
                if self.stop.is_set():
                    term.halt.set()
            stopper.start()
            self._save_jobs({p.id: (p.description, p.first_run) for p in plans})
            log.info("leading: %d jobs scheduled (%s)", len(plans),
                     ", ".join(p.id for p in plans),
                     extra={"fields": {"event": "leading", "holder": self.holder,
                                       "jobs": [p.id for p in plans]}})
            try:
                scheduler.start()  # blocks until the stopper has shut it down
            finally:
                term.started.set()
                term.halt.set()
                stopper.join()
                with self._lock:
                    self._term = self._scheduler = None
            if term.wait_idle(self.options.stop_grace):
                pipeline.close()
                return True
            if self.stop.is_set():
                self._abandon_polls()
                return False
            log.warning("jobs of the lost term still run; they finish on their own")
            return True

    def _stopper(self, term: _Term, scheduler: BlockingScheduler) -> None:
        """Shut the scheduler down once halted. Without waiting for running jobs: the main
        thread waits for them itself, with a deadline (shutdown(wait=True) has none)."""
        term.halt.wait()
        term.started.wait()
        with contextlib.suppress(SchedulerNotRunningError):  # start() failed before it ran
            scheduler.shutdown(wait=False)

    def _lost(self) -> None:
        log.error("lost the scheduler lease: stopping scheduling, standing by",
                  extra={"fields": {"event": "lease-lost"}})
        with self._lock:
            term = self._term
        if term is not None:
            term.halt.set()

    def _abandon_polls(self) -> None:
        """Close the runs of polls still stuck after the grace time (we exit under them)."""
        with self._lock:
            names = sorted(self._polling)
        for name in names:
            try:
                with self.repo.write() as session:
                    leases_repo.close_running_runs(
                        session, source=name, status="stopped", now=self.clock(),
                        note=f"stopped by a shutdown while waiting on upstream for more "
                             f"than {self.options.stop_grace:.0f} s; polled again next time",
                    )
                self.leases.release(poll_lease(name))
            except SQLAlchemyError as exc:
                log.error("%s: unfinished poll not closed: %s", name, str(exc).splitlines()[0])
            log.warning("%s: poll abandoned at shutdown", name)

    # -- jobs -------------------------------------------------------------------------------

    def _run_job(self, term: _Term, plan: JobPlan) -> None:
        if term.halt.is_set():
            return  # queued before the term ended
        with term.job():
            if plan.kind == "poll":
                self._poll(plan.target)
            else:
                self._digests()

    def _poll(self, name: str) -> None:
        pipeline = self._pipeline
        assert pipeline is not None, "jobs run only inside a leadership term"
        with self._lock:
            self._polling.add(name)
        try:
            poll_source(pipeline=pipeline, leases=self.leases, name=name,
                        registry=self.registry, stop=self.stop)
        except LeaseHeld as exc:
            log.info("%s: skipped: being polled by %s", name, exc.lease.holder,
                     extra={"fields": {"event": "poll-skipped", "source": name,
                                       "holder": exc.lease.holder}})
        except (TrackerError, SQLAlchemyError) as exc:
            log.error("%s: poll not run: %s", name, str(exc).splitlines()[0],
                      extra={"fields": {"event": "poll-error", "source": name}})
        finally:
            with self._lock:
                self._polling.discard(name)

    def _digests(self) -> None:
        try:
            report = self.digest_runner(now=self.clock())
        except (TrackerError, SQLAlchemyError) as exc:
            log.error("digests: not run: %s", str(exc).splitlines()[0],
                      extra={"fields": {"event": "digests-error"}})
            return
        line, fields = digest_summary(report)
        log.info("digests: %s", line, extra={"fields": {"event": "digests", **fields}})

    # -- bookkeeping --------------------------------------------------------------------------

    def _last_polls(self) -> dict[str, datetime]:
        with self.repo.read() as session:
            return {name: runs[0].started_at for name in self.settings.sources
                    if (runs := self.repo.runs(session, source=name, limit=1))}

    def _record_jobs(self) -> None:
        """On each lease renewal: the scheduler's next run times, for ``tracker status``."""
        with self._lock:
            term, scheduler = self._term, self._scheduler
        if term is None or scheduler is None or not term.started.is_set():
            return
        jobs = {job.id: (job.name, job.next_run_time) for job in scheduler.get_jobs()}
        self._save_jobs(jobs)

    def _save_jobs(self, jobs: Mapping[str, tuple[str, datetime | None]]) -> None:
        with self.repo.write() as session:
            leases_repo.save_jobs(session, jobs, holder=self.holder, now=self.clock())
