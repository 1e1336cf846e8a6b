"""What SQLite's single writer hides: several workers (each its own engine, all at once) on one records database.
Outbox claims, quota counts, closure reports and the transition chain stay exact on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select, update
from temporalio.testing import ActivityEnvironment

from activities.closure import ClosureActivities
from activities.notices import MemoryChannel
from activities.quotas import PlaceInput, QuotaActivities
from activities.records import CloseInput, QuotaInput, RecordActivities, RecordInput
from models.call import QuotaDef
from models.messages import NoticeDraft, TransitionRecord
from records.engine import make_engine
from records.statements import serialize
from records.tables import ApplicationRow, ClosureReportRow, NoticeRow, QuotaUseRow, TransitionRow

WORKERS = 6
AT = datetime.fromisoformat("2025-03-06T10:00:00+08:00")
T = TypeVar("T")


@pytest.fixture
def workers(database_url: str) -> Iterator[list[RecordActivities]]:
    """Workers that share one channel (what reached people) and nothing else: each has its own engine and pool."""
    channel = MemoryChannel()
    engines = [make_engine(database_url) for _ in range(WORKERS)]
    yield [RecordActivities(engine, channel) for engine in engines]
    for engine in engines:
        engine.dispose()


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads that start together."""
    barrier = threading.Barrier(len(calls))

    def go(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(go, calls))


def _submit(application: str, notices: list[str]) -> RecordInput:
    t = TransitionRecord(seq=0, trigger="submit", source="draft", dest="awaiting_unit_review", actor_id="pi-1",
                         role="applicant", reason="", at=AT)
    return RecordInput(call_id="c", application_id=application, state=t.dest, transition=t, notices=[
        NoticeDraft(key=k, call_id="c", application_id=application, recipient="pi-1", kind="transition",
                    data={"trigger": t.trigger, "source": t.source, "dest": t.dest, "role": t.role,
                          "actor_id": t.actor_id, "reason": t.reason})
        for k in notices])


def _engine(workers: list[RecordActivities]) -> Engine:
    return workers[0].engine


def test_one_transition_recorded_by_every_worker_at_once_is_stored_once_and_notified_once(
        workers: list[RecordActivities]) -> None:
    """An abandoned attempt and its retries on other workers: one row, one chain hash, each notice delivered once."""
    notices = [f"a1:0:{who}" for who in ("applicant", "unit", "recommender")]
    done = at_once([lambda w=w: w.record_transition(_submit("a1", notices)) for w in workers])
    assert {d.chain_hash for d in done} == {done[0].chain_hash} != {None}
    assert all(sorted(d.delivered) == sorted(notices) for d in done)
    assert sorted(workers[0].channel.delivered) == sorted(notices)  # type: ignore[attr-defined]
    with Session(_engine(workers)) as s:
        assert s.exec(select(func.count()).select_from(TransitionRow)).one() == 1
        assert all(n.delivered_at is not None for n in s.exec(select(NoticeRow)).all())


def test_a_transition_found_stored_is_answered_without_queueing_behind_the_writer(
        workers: list[RecordActivities]) -> None:
    """A workflow catching up with its window's bulk closure (or a retry) finds everything written: it reads and
    answers while another transaction holds the write lock (SQLite's file lock, the call's chain lock on
    PostgreSQL), and says what the first attempt said."""
    first, second, holder = workers[0], workers[1], workers[2].engine
    with Session(first.engine) as s:
        s.add(ApplicationRow(id="a1", call_id="c", workflow_id="application-a1", category="k", title="a1",
                             applicant="pi-1", version="v", state="draft", updated_at=AT))
        s.commit()
    notices = ["a1:0:applicant", "a1:0:unit"]
    recorded = first.record_transition(_submit("a1", notices))
    with holder.begin() as c:
        serialize(c, "chain", "c")
        c.execute(update(ApplicationRow).where(col(ApplicationRow.id) == "other").values(title="x"))  # SQLite's lock
        answer = concurrent.futures.ThreadPoolExecutor(1).submit(second.record_transition, _submit("a1", notices))
        again = answer.result(timeout=20)  # the write path would wait here until this transaction ends
    assert again.chain_hash == recorded.chain_hash and again.transition == recorded.transition
    assert sorted(again.delivered) == sorted(notices)
    assert sorted(first.channel.delivered) == sorted(notices)  # type: ignore[attr-defined]


def test_notices_shared_by_many_transitions_are_claimed_by_one_worker_each(workers: list[RecordActivities]) -> None:
    shared = ["c:phase_closed:unit-1", "c:phase_closed:unit-2"]
    inputs = [_submit(f"a{i}", [f"a{i}:0:applicant", *shared[i % 2:], *shared[:i % 2]]) for i in range(WORKERS * 3)]
    at_once([lambda w=workers[i % WORKERS], inp=inp: w.record_transition(inp) for i, inp in enumerate(inputs)])
    delivered = Counter(workers[0].channel.delivered)  # type: ignore[attr-defined]
    assert set(delivered) == {*shared, *(f"a{i}:0:applicant" for i in range(len(inputs)))}
    assert set(delivered.values()) == {1}


def test_endorsements_at_once_never_exceed_the_quota(workers: list[RecordActivities]) -> None:
    limit, asked = 4, WORKERS * 2
    used = at_once([lambda i=i: workers[i % WORKERS].reserve_quota(QuotaInput(
        call_id="c", step="unit_review", actor_id="unit-1", application_id=f"a{i}", limit=limit)) for i in range(asked)])
    assert sorted(n for n in used if n > 0) == list(range(1, limit + 1))
    assert used.count(-1) == asked - limit
    with Session(_engine(workers)) as s:
        assert s.exec(select(func.count()).select_from(QuotaUseRow)).one() == limit


def test_recommendations_of_one_call_on_every_worker_at_once_never_exceed_a_cap_across_recommenders(
        database_url: str) -> None:
    """The quota forms' lock is the call's, not the recommender's: a cap across recommenders and a per-recommender
    count hold together while twelve workers, each with its own engine, ask for places at once."""
    quotas = [QuotaDef.model_validate(q) for q in ({"id": "province", "step": "s", "max": 5, "scope": "call"},
                                                   {"id": "each", "step": "s", "max": 2})]
    engines = [make_engine(database_url) for _ in range(WORKERS)]
    try:
        places = at_once([lambda i=i: QuotaActivities(engines[i % WORKERS]).take_quota_place(PlaceInput(
            "c", quotas, {}, f"a{i}", "s", "recommender", f"org-{i % 4}", "key")) for i in range(WORKERS * 2)])
        with Session(engines[0]) as s:
            held = Counter(s.exec(select(QuotaUseRow.actor_id)).all())
    finally:
        for engine in engines:
            engine.dispose()
    taken = [p for p in places if not p.refusal]
    assert len(taken) == 5 and sorted(p.uses["province"] for p in taken) == [1, 2, 3, 4, 5]
    assert sum(held.values()) == 5 and max(held.values()) <= 2


def test_a_closure_settled_by_every_worker_at_once_has_one_report(workers: list[RecordActivities]) -> None:
    close = CloseInput(call_id="c", phase="application", instant=AT, settling_states=["draft"], max_wait_s=1)
    closures = [ClosureActivities(w.engine, w.channel) for w in workers]
    summaries = at_once([lambda a=a: asyncio.run(ActivityEnvironment().run(a.close_window, close)) for a in closures])
    assert {(s.phase, s.unsettled) for s in summaries} == {("application", 0)}
    with Session(_engine(workers)) as s:
        reports = s.exec(select(ClosureReportRow)).all()
    assert [(r.call_id, r.phase, r.instant) for r in reports] == [("c", "application", AT)]
