"""Keeping the stored topic matches in step with the stored bills: the I/O side of topics.

:mod:`tracker.topics` decides, purely, which topics a bill matches and why. This module runs
it where bills are stored:

* :func:`topic_hook` is the pipeline's ``on_stored`` hook: every bill that was inserted or
  changed is matched again inside its own transaction, and its stored matches replaced whole
  (an Illinois shell bill that gets new content can gain a topic and lose another);
* :func:`rematch` runs the topics over every stored bill, for when ``topics.toml`` changed;
* :func:`verdicts_over_stored` runs a topic fresh over the stored bills without storing
  anything, for ``tracker topics test``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracker.models import Bill
from tracker.storage.repository import Repository, UpsertResult
from tracker.topics import Field, Topic, TopicMatcher, Verdict, find_topic

StoredHook = Callable[[Session, UpsertResult], None]
#: ``(bills done, bills in all)`` after each page of a rematch.
Progress = Callable[[int, int], None]

_PAGE = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def topic_hook(
    *, repo: Repository, topics: Sequence[Topic], clock: Callable[[], datetime] = utcnow
) -> StoredHook:
    """The ``on_stored`` hook that re-matches each inserted or updated bill (noops are skipped:
    nothing about the bill changed) in the transaction that stored it."""
    matcher = TopicMatcher(topics)

    def on_stored(session: Session, result: UpsertResult) -> None:
        if result.kind not in ("insert", "update"):
            return
        repo.replace_topic_matches(session, result.bill_id, matcher.match(result.after),
                                   now=clock())

    return on_stored


@dataclass(frozen=True, slots=True)
class RematchReport:
    """What a rematch did: bills looked at, how many match a topic, rows added and removed."""

    bills: int
    matching_bills: int
    added: int
    removed: int

    def summary_line(self, *, topics: int) -> str:
        return (
            f"rematched {self.bills} bills against {topics} topics: {self.matching_bills} match "
            f"at least one; {self.added} matches added, {self.removed} removed"
        )


def rematch(
    *,
    repo: Repository,
    topics: Sequence[Topic],
    clock: Callable[[], datetime] = utcnow,
    progress: Progress | None = None,
    page_size: int = _PAGE,
) -> RematchReport:
    """Match every stored bill again and store the result (matches of topics no longer
    configured are removed). One short write transaction per page of bills, each holding its
    bills while it works, so a poll running meanwhile never has its fresher matches
    overwritten with ones derived from an older state."""
    matcher = TopicMatcher(topics)
    with repo.read() as session:
        total = repo.count_bills(session)
    done = matching = added = removed = 0
    after_id = 0
    while True:
        with repo.write() as session:
            page = repo.stored_bills(session, after_id=after_id, limit=page_size, lock=True)
            now = clock()
            for bill_id, bill in page:
                matches = matcher.match(bill)
                gained, lost = repo.replace_topic_matches(session, bill_id, matches, now=now)
                matching += bool(matches)
                added += len(gained)
                removed += len(lost)
        if not page:
            break
        after_id = page[-1][0]
        done += len(page)
        if progress is not None:
            progress(done, max(total, done))
    return RematchReport(bills=done, matching_bills=matching, added=added, removed=removed)


def verdicts_over_stored(
    *,
    repo: Repository,
    topics: Sequence[Topic],
    topic_id: str,
    jurisdiction: str | None = None,
    page_size: int = _PAGE,
) -> Iterator[tuple[Bill, Verdict]]:
    """Each stored bill (of ``jurisdiction``, if given) with ``topic_id``'s fresh verdict on it,
    in storage order; nothing is stored. An unknown topic is refused at once with a
    ConfigError naming the known ones."""
    topic = find_topic(topics, topic_id)
    return _verdicts(repo=repo, topic=topic, jurisdiction=jurisdiction, page_size=page_size)


def _verdicts(
    *, repo: Repository, topic: Topic, jurisdiction: str | None, page_size: int
) -> Iterator[tuple[Bill, Verdict]]:
    matcher = TopicMatcher([topic])
    after_id = 0
    while True:
        # One short read per page: a long listing never holds a transaction open.
        with repo.read() as session:
            page = repo.stored_bills(session, after_id=after_id, limit=page_size,
                                     jurisdiction=jurisdiction,
                                     with_actions=Field.ACTIONS in topic.fields)
        if not page:
            return
        for _, bill in page:
            yield bill, matcher.verdicts(bill)[0]
        after_id = page[-1][0]
