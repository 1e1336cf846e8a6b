"""The bulk closure's batched writes: several attempts of `close_window` at once, each on its own engine (a retry
beside the attempt it replaces, or another worker), close every application once, in one hash chain, and deliver
every notice once, worded as the notice renderer words it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from typing import Any

from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.closure import ClosureActivities
from activities.notices import CallNames, MemoryChannel, render
from bench.closure import close_input, prepare
from records.chain import GENESIS, row_hash
from records.engine import make_engine
from records.tables import ApplicationRow, CallRow, NoticeRow, TransitionRow
from tests.test_concurrency import at_once

APPLICATIONS = 24  # half drafts, half in the chain: 36 closing notices
ATTEMPTS = 4


def attempt_until_done(closure: ClosureActivities, inp: Any, client: Client) -> None:
    """Run the activity as Temporal would: after a failure, again from the details it last heartbeated."""
    details: tuple[Any, ...] = ()
    for _ in range(8):
        env = ActivityEnvironment(client)
        env.info = dataclasses.replace(env.info, heartbeat_details=list(details))

        def beat(*d: Any) -> None:
            nonlocal details
            details = d
        env.on_heartbeat = beat
        try:
            asyncio.run(env.run(closure.close_window, inp))
            return
        except Exception:  # noqa: BLE001 (any failure is retried, as the activity's retry policy does)
            continue
    raise AssertionError("the closure did not finish in 8 attempts")


def test_attempts_at_once_close_each_application_once_in_one_chain_and_deliver_each_notice_once(
        env: WorkflowEnvironment, database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(ATTEMPTS)]
    try:
        call_id, instant = prepare(engines[0], APPLICATIONS)
        inp = close_input(engines[0], call_id, instant)
        channel = MemoryChannel()
        at_once([lambda e=e: attempt_until_done(ClosureActivities(e, channel), inp, env.client) for e in engines])
        with Session(engines[0]) as s:
            closes = Counter(s.exec(select(TransitionRow.application_id).where(TransitionRow.role == "system")).all())
            states = set(s.exec(select(ApplicationRow.state)).all())
            chain = s.exec(select(TransitionRow).where(TransitionRow.call_id == call_id)
                           .order_by(col(TransitionRow.id))).all()
            notices = s.exec(select(NoticeRow).where(NoticeRow.call_id == call_id,
                                                     col(NoticeRow.application_id).is_not(None))).all()
            definition = s.exec(select(CallRow.definition_json).where(CallRow.id == call_id)).one()
    finally:
        for e in engines:
            e.dispose()
    assert len(closes) == APPLICATIONS and set(closes.values()) == {1}
    assert states == {"closed_unsubmitted", "lapsed"}
    prev = GENESIS
    for row in chain:
        assert (row.prev_hash, row.hash) == (prev, row_hash(prev, row.model_dump()))
        prev = row.hash
    assert len(notices) == APPLICATIONS * 3 // 2 and all(n.delivered_at is not None for n in notices)
    assert Counter(channel.delivered) == Counter({n.key: 1 for n in notices})
    names = CallNames.of(call_id, definition)
    data = {"trigger": "", "source": "", "dest": "", "dest_label": "", "actor_id": "grantflow", "role": "system",
            "reason": chain[-1].reason}
    for n in notices:
        t = next(r for r in chain if r.application_id == n.application_id and r.role == "system")
        words = data | {"trigger": t.trigger, "source": t.source, "dest": t.dest, "dest_label": t.dest.replace("_", " ")}
        assert (n.subject, n.body) == render("transition", words, names, n.application_id, n.recipient), json.dumps(
            {"key": n.key, "subject": n.subject})
