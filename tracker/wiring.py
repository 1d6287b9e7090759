"""Building the service's parts from Settings, once, for the CLI and the scheduler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from scrapers import REGISTRY
from tracker.heap import freeze_startup_objects
from tracker.http import HttpClient
from tracker.ingest_workers import IngestWorkers, default_workers
from tracker.matching import topic_hook
from tracker.pipeline import Pipeline, RunReport
from tracker.settings import Settings, load_settings
from tracker.source import SourceFactory
from tracker.storage.engine import make_engine, migrate
from tracker.storage.repository import Repository


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    return load_settings(environ, known_sources=set(REGISTRY))


def open_repository(settings: Settings) -> Repository:
    """The repository on the configured database, migrated to the newest schema."""
    engine = make_engine(settings.database_url)
    migrate(engine)
    return Repository(engine)


def build_pipeline(
    *,
    settings: Settings,
    repo: Repository,
    registry: Mapping[str, SourceFactory] | None = None,
    progress: Callable[[RunReport], None] | None = None,
) -> Pipeline:
    http = HttpClient.from_settings(settings.http)
    count = default_workers() if settings.ingest_workers is None else settings.ingest_workers
    # Started only when a poll has enough documents to hand over; Pipeline.close stops them.
    workers = IngestWorkers(workers=count, preload=("scrapers",)) if count else None
    pipeline = Pipeline(
        settings=settings,
        repo=repo,
        http=http,
        registry=REGISTRY if registry is None else registry,
        # Topic matching re-runs on every stored change, in the bill's own transaction (in
        # the worker that stores it, for documents handed to the workers).
        on_stored=topic_hook(repo=repo, topics=settings.topics),
        worker_hook=partial(topic_hook, topics=settings.topics),
        progress=progress,
        workers=workers,
    )
    freeze_startup_objects()  # a process builds its pipeline once
    return pipeline
