"""``tracker demo``: a one-minute offline tour, from upstream documents to digests in a mailbox.

Everything runs on this machine, with no network and no configuration:

1. the project-written demo bills (``tracker/demo_data``: a fictional 999th Congress in the
   BILLSTATUS format) are served from a loopback HTTP server in a thread;
2. a temporary SQLite database and config point the real ``us-govinfo`` source at it, and a
   baseline poll stores the bills (a first poll alerts nobody);
3. three demo subscribers, in English, Korean and Spanish, follow a bill, a topic (or all of
   Congress when no topics are configured) and a whole jurisdiction; each gets a welcome
   digest with the current state;
4. upstream changes (new versions of two bill files and their sitemaps' ``<lastmod>``), and a
   second poll stores what changed;
5. the instant subscriber gets an alert at once; the next morning the daily subscribers get
   their digests;
6. every message is written as an ``.eml`` file (the embedded default, no SMTP) with its HTML
   part beside it as ``.html``, and the paths are printed.

The clock is simulated (the tour covers a day in a few seconds), so the output is the same on
every run. Building blocks (:class:`DemoUpstream`, :func:`demo_settings`,
:func:`subscribe_demo_people`) are reused by the tests with a real SMTP server.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from notifiers.outbox import SENT, SendReport
from notifiers.service import DeliveryReport, send_digests
from notifiers.transport import Transport
from tracker.digest import Frequency, Language, TargetKind
from tracker.errors import ConfigError
from tracker.pipeline import Pipeline
from tracker.settings import Settings
from tracker.storage import subscriptions_repo as store
from tracker.storage.repository import Repository
from tracker.subscriptions import SubscriberProfile
from tracker.wiring import build_pipeline, open_repository, settings_from_env

SOURCE = "us-govinfo"
SESSION = "999"
#: The simulated clock: a Monday in March (New York 08:00), then that evening, then the next
#: morning (07:30 in New York's and Chicago's digest hour).
BASELINE_AT = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
CHANGE_AT = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 3, 13, 30, tzinfo=UTC)
PREFERRED_TOPIC = "language-access"


@dataclass(frozen=True, slots=True)
class DemoPerson:
    profile: SubscriberProfile
    follows: tuple[TargetKind, str]
    note: str


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        SubscriberProfile(email="ana.demo@example.org", name="Ana Park (demo)",
                          affiliate="national policy desk", language=Language.EN,
                          timezone="America/New_York", frequency=Frequency.DAILY),
        (TargetKind.BILL, f"us/{SESSION}/HR 101"),
        "English, daily, follows one bill",
    ),
    DemoPerson(
        SubscriberProfile(email="minji.demo@example.org", name="김민지 (demo)",
                          affiliate="NY affiliate", language=Language.KO,
                          timezone="America/New_York", frequency=Frequency.INSTANT),
        (TargetKind.TOPIC, PREFERRED_TOPIC),
        "Korean, instant alerts, follows a topic",
    ),
    DemoPerson(
        SubscriberProfile(email="lucia.demo@example.org", name="Lucía Gómez (demo)",
                          affiliate="IL affiliate", language=Language.ES,
                          timezone="America/Chicago", frequency=Frequency.DAILY),
        (TargetKind.JURISDICTION, "us"),
        "Spanish, daily, follows all of Congress",
    ),
)


# --- the upstream -------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the folder; no conditional answers (the tracker then compares body hashes, so a
    file replaced within the same second still counts as changed), no request log."""

    def send_head(self) -> Any:
        del self.headers["If-Modified-Since"]
        return super().send_head()

    def log_message(self, format: str, *args: Any) -> None:
        return


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can stall
        # for seconds on a machine with no network; a loopback server needs no name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class DemoUpstream:
    """The demo bills, copied to ``folder`` and served on a loopback port while in use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo upstream is not serving")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoUpstream:
        _copy_demo_data("upstream", self.folder)
        handler = partial(_QuietHandler, directory=str(self.folder))
        self._server = _LoopbackServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-upstream",
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def apply_change(self) -> None:
        """Lay the changed bill files and sitemaps over the served ones."""
        _copy_demo_data("change", self.folder)


def _copy_demo_data(part: str, target: Path) -> None:
    with as_file(files("tracker") / "demo_data" / part) as source:
        shutil.copytree(source, target, dirs_exist_ok=True)


# --- settings, people, polls --------------------------------------------------------------------


def demo_settings(folder: Path, *, base_url: str, extra_env: dict[str, str] | None = None
                  ) -> Settings:
    """Settings for a demo in ``folder``: its own config, SQLite database and outbox."""
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "sources.toml").write_text(
        "# Written by `tracker demo`: the real us-govinfo source, pointed at the demo server.\n"
        f'[sources.{SOURCE}]\nenabled = true\nbase_url = "{base_url}"\n'
        f'sessions = ["{SESSION}"]\ninterval = "4h"\n',
        encoding="utf-8",
    )
    (config / "tracker.toml").write_text(
        "# Written by `tracker demo`: a loopback server needs no politeness delay.\n"
        '[http]\ncontact = "tracker-demo@example.org"\nmin_interval = 0\nretries = 0\n'
        "connect_timeout = 2\nread_timeout = 10\n",
        encoding="utf-8",
    )
    environ = {
        "TRACKER_CONFIG": str(config),
        "TRACKER_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "TRACKER_OUTBOX_DIR": str(folder / "outbox"),
        "TRACKER_MAIL_FROM": "tracker-demo@example.org",
        "TRACKER_PUBLIC_URL": "http://localhost:8080",
    }
    environ.update(extra_env or {})
    return settings_from_env(environ)


def demo_follow(person: DemoPerson, settings: Settings) -> tuple[TargetKind, str]:
    """What ``person`` follows; a topic falls back to all of Congress when it is not configured."""
    kind, target = person.follows
    if kind is TargetKind.TOPIC and target not in {topic.id for topic in settings.topics}:
        return TargetKind.JURISDICTION, "us"
    return kind, target


def subscribe_demo_people(
    repo: Repository, *, settings: Settings, now: datetime,
    people: Sequence[DemoPerson] = DEMO_PEOPLE,
) -> list[tuple[DemoPerson, TargetKind, str]]:
    """Store the demo subscribers and what each follows."""
    done = []
    with repo.write() as session:
        for person in people:
            subscriber = store.upsert_subscriber(session, person.profile, origin="cli", now=now)
            kind, target = demo_follow(person, settings)
            store.add_subscription(
                session, subscriber_id=subscriber.id, target_kind=kind.value, target=target,
                jurisdictions=(), kinds=(), stages=(), origin="cli", now=now,
            )
            done.append((person, kind, target))
    return done


class DemoClock:
    """The simulated time: set by the tour, read by the pipeline (a tick per reading)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, moment: datetime) -> None:
        self.now = moment

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def demo_pipeline(settings: Settings, repo: Repository, clock: DemoClock) -> Pipeline:
    pipeline = build_pipeline(settings=settings, repo=repo)
    pipeline.clock = clock  # the wiring's pipeline (and its hooks), on simulated time
    return pipeline


# --- the tour -----------------------------------------------------------------------------------


@dataclass
class DemoResult:
    folder: Path
    database: Path
    messages: list[Path] = field(default_factory=list)
    html: list[Path] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)


def html_beside(eml: Path) -> Path | None:
    """Write the HTML part of ``eml`` to ``<same name>.html``; its path (None without one)."""
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    part = message.get_body(("html",))
    if part is None:
        return None
    target = eml.with_suffix(".html")
    target.write_text(part.get_content(), encoding="utf-8")
    return target


@contextmanager
def _folder(out: Path | None) -> Iterator[Path]:
    if out is None:
        yield Path(tempfile.mkdtemp(prefix="tracker-demo-"))
        return
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out}: folder is not empty; give --out a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    yield out


def run_demo(
    *,
    out: Path | None = None,
    say: Callable[[str], Any] = print,
    transport: Transport | None = None,
) -> DemoResult:
    """The tour (see the module docstring); ``transport`` replaces the ``.eml`` files."""
    with _folder(out) as folder, DemoUpstream(folder / "upstream") as upstream:
        settings = demo_settings(folder, base_url=upstream.base_url)
        result = DemoResult(folder=folder, database=folder / "demo.db")
        say(f"Demo folder: {folder}")
        say(f"1. Serving the demo bills (a fictional 999th Congress, GovInfo BILLSTATUS format) "
            f"at {upstream.base_url}")
        repo = open_repository(settings)
        clock = DemoClock(BASELINE_AT)
        pipeline = demo_pipeline(settings, repo, clock)

        report = pipeline.poll(SOURCE)
        say(f"2. Baseline poll ({BASELINE_AT:%a %d %b %H:%M} UTC): {report.summary_line()}")
        say("   The first poll of a session is a baseline: bills are stored, nobody is alerted.")

        subscribed_at = BASELINE_AT + timedelta(minutes=5)
        people = subscribe_demo_people(repo, settings=settings, now=subscribed_at)
        say("3. Three demo subscribers; each first gets a welcome digest with the current state:")
        for person, kind, target in people:
            say(f"   - {person.profile.name} <{person.profile.email}>: {person.note} "
                f"({kind.value}:{target})")
        _deliver(repo, settings, subscribed_at, transport, result, say)

        clock.set(CHANGE_AT)
        upstream.apply_change()
        report = pipeline.poll(SOURCE)
        say(f"4. Upstream change: HR 101 passes the House, S 103 reaches the House. Second poll "
            f"({CHANGE_AT:%a %d %b %H:%M} UTC): {report.summary_line()}")

        say("5. Instant subscribers hear about an advocacy moment at once:")
        _deliver(repo, settings, CHANGE_AT + timedelta(minutes=1), transport, result, say)

        say(f"6. The next morning ({NEXT_MORNING:%a %d %b %H:%M} UTC), daily digests go out:")
        _deliver(repo, settings, NEXT_MORNING, transport, result, say)

        if result.messages:
            say(f"Open the .eml files in a mail client, or the .html files in a browser: "
                f"{settings.mail.outbox_dir}")
        repo.engine.dispose()
    return result


def _deliver(
    repo: Repository, settings: Settings, now: datetime, transport: Transport | None,
    result: DemoResult, say: Callable[[str], Any],
) -> None:
    report = send_digests(repo, settings=settings, now=now, transport=transport,
                          clock=lambda: now)
    result.reports.append(report)
    for problem in report.problems:
        say(f"   problem: {problem}")
    send: SendReport | None = report.send
    outcomes = send.outcomes if send is not None else []
    if not outcomes:
        say("   (nothing is due)")
    for outcome in outcomes:
        if outcome.status != SENT:
            say(f"   {outcome.status}: {outcome.recipient}: {outcome.subject}: {outcome.detail}")
            continue
        say(f"   {outcome.recipient}: {outcome.subject}")
        eml = Path(outcome.detail)
        if transport is None and eml.suffix == ".eml" and eml.is_file():
            result.messages.append(eml)
            say(f"     {eml}")
            page = html_beside(eml)
            if page is not None:
                result.html.append(page)
                say(f"     {page}")
