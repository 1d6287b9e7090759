"""Properties of the change log (hypothesis): any sequence of upstream states of one bill,
diffed state after state, gives events whose replay rebuilds the final state, and re-applying
a state gives nothing. Checked on ``tracker.changes.diff`` alone and through the repository's
stored events (SQLite or PostgreSQL), where removals are kept as ``removed_at``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.changes import ChangeKind, diff
from tracker.models import ActionClass, Bill, BillType, Chamber
from tracker.normalize import normalize
from tracker.records import ActionRecord, BillRecord, VersionRecord
from tracker.storage.repository import EventFilter, Repository

#: A small pool, so that states share actions, repeat rows and bring removed ones back.
ACTIONS = st.builds(
    ActionRecord,
    date=st.sampled_from([date(2026, 1, d) for d in (5, 6, 20)]),
    actor=st.sampled_from([Chamber.LOWER, Chamber.UPPER]),
    description=st.sampled_from(["Referred to Committee", "Reported  favorably",
                                 "Passed\tthe House", "Read first time"]),
    classification=st.sampled_from([(), (ActionClass.REFERRAL_COMMITTEE,),
                                    (ActionClass.COMMITTEE_PASSAGE,), (ActionClass.PASSAGE,)]),
)
VERSIONS = st.sampled_from([VersionRecord("Introduced", None, "http://x/1"),
                            VersionRecord("Engrossed", None, "http://x/2"),
                            VersionRecord("Enrolled", date(2026, 2, 1), None)])
_numbers = itertools.count(1)


def state(identifier: str) -> st.SearchStrategy[Bill]:
    return st.builds(
        lambda actions, title, versions: normalize(BillRecord(
            source="test", jurisdiction="va", session="2026", identifier=identifier,
            title=title, bill_type=BillType.BILL, actions=tuple(actions),
            versions=tuple(versions))),
        st.lists(ACTIONS, max_size=6),
        st.sampled_from(["A bill", "A bill; penalty", "Shell bill"]),
        st.lists(VERSIONS, max_size=3, unique=True),
    )


def histories(identifier: str = "HB 1") -> st.SearchStrategy[list[Bill]]:
    return st.lists(state(identifier), min_size=1, max_size=6)


def replay(first: Bill, events: list[tuple[ChangeKind, dict[str, object], str | None]]
           ) -> tuple[Counter[str], str, str, set[tuple[object, object]]]:
    """What the log says the bill is now: live action uids, title, stage, versions seen."""
    live = Counter(a.uid for a in first.actions)
    title, stage = first.title, first.stage.value
    versions: set[tuple[object, object]] = {(v.name, v.url) for v in first.versions}
    for kind, details, uid in events:
        if kind is ChangeKind.NEW_ACTION:
            assert uid is not None and live[uid] == 0, "an action announced twice"
            live[uid] += 1
        elif kind is ChangeKind.ACTION_REMOVED:
            assert uid is not None and live[uid] == 1, "a removal of what was not there"
            live[uid] -= 1
        elif kind is ChangeKind.TITLE_CHANGE:
            assert details["from"] == title
            title = str(details["to"])
        elif kind is ChangeKind.STAGE_CHANGE:
            assert details["from"] == stage
            stage = str(details["to"])
        elif kind is ChangeKind.NEW_VERSION:
            versions.add((details["name"], details["url"]))
    return +live, title, stage, versions


@given(histories())
def test_replaying_the_diffs_rebuilds_the_last_state(states: list[Bill]) -> None:
    events = []
    for before, after in itertools.pairwise(states):
        events += [(c.kind, c.details, c.action_uid) for c in diff(before, after)]
    live, title, stage, versions = replay(states[0], events)
    last = states[-1]
    assert live == Counter(a.uid for a in last.actions)
    assert (title, stage) == (last.title, last.stage.value)
    assert {(v.name, v.url) for v in last.versions} <= versions


@given(histories())
def test_a_state_applied_again_gives_nothing(states: list[Bill]) -> None:
    for bill in states:
        assert diff(bill, bill) == []
    assert [c.kind for c in diff(None, states[0])] == [ChangeKind.NEW_BILL]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_the_stored_log_replays_to_the_stored_bill(repo: Repository, data: st.DataObject) -> None:
    # One database for all examples (a migration per example would be slow): each example
    # is a bill of its own.
    identifier = f"HB {next(_numbers)}"
    states = data.draw(histories(identifier))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for step, bill in enumerate([*states, states[-1]]):  # the last state twice
        with repo.write() as session:
            result = repo.upsert_bill(session, bill, baseline=step == 0, run_id=None,
                                      now=now + timedelta(minutes=step))
        if step == len(states):
            assert result.kind == "noop" and result.changes == ()
    key = f"va/2026/{identifier}"
    with repo.read() as session:
        stored = list(repo.events(session, EventFilter(bill=key)))
        bill_id = repo.bill_id(session, states[-1].key)
        assert bill_id is not None
        actions = repo.actions_of(session, bill_id)
    assert [e.kind for e in stored][:1] == ["new-bill"]
    assert [e.baseline for e in stored] == [True] + [False] * (len(stored) - 1)
    events = [(ChangeKind(e.kind), e.details, e.action_uid) for e in stored[1:]]
    live, title, stage, _ = replay(states[0], events)
    assert live == Counter(a.uid for a in actions if a.removed_at is None)
    assert live == Counter(a.uid for a in states[-1].actions)
    assert (title, stage) == (states[-1].title, states[-1].stage.value)
    removed = {e.action_uid for e in stored if e.kind == "action-removed"}
    kept = {a.uid for a in actions}
    assert removed <= kept, "a removed action stays in the history"
