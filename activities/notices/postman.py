"""The postman: delivers queued notices from the outbox over its transports (e-mail, then SMS), retrying with backoff.

Guarantee: a notice is recorded `sent` only after a server accepted it, and is handed over again only while no
acceptance is recorded. So every notice arrives at least once, and more than once only if a worker dies between the
server's acceptance and the commit that records it (acceptances are group-committed: about `concurrency` of them at
most wait for one commit); a message sent again then carries the same Message-ID, by which the receiving side
recognises it. Claims (with a lease) keep two postmen off one notice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from activities.notices.render import CallNames, render
from activities.notices.smtp import message_id
from activities.notices.transport import Refused, Transport
from infra.metrics import NOTICES_FAILED, NOTICES_SENT
from records import outbox
from records import statements as sql
from records.outbox import Claimed, Route

log = structlog.get_logger("grantflow.postman")
FAILED_KIND = "delivery_failed"  # the notice that tells the call's manager; never itself followed by another


class Postman:
    def __init__(self, engine: Engine, transports: Sequence[Transport], *, domain: str = "grantflow.localhost",
                 lease: timedelta = timedelta(minutes=2), poll_s: float = 1.0, batch: int = 32, concurrency: int = 4,
                 max_attempts: int = 8, backoff: timedelta = timedelta(seconds=5),
                 backoff_cap: timedelta = timedelta(minutes=30)) -> None:
        self.engine, self.transports = engine, {t.name: t for t in transports}
        self.routes = [Route(t.name, t.field) for t in transports]
        self.domain, self.lease, self.poll_s, self.batch = domain, lease, poll_s, batch
        self.max_attempts, self.backoff, self.backoff_cap = max_attempts, backoff, backoff_cap
        self.token = uuid.uuid4().hex
        self._gate = asyncio.Semaphore(concurrency)
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Look at the outbox now (called from activity threads once their transaction committed)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def run(self) -> None:
        """Deliver until cancelled: a round whenever woken, and at least every `poll_s` seconds."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._event.clear()
            try:
                if await self.round():
                    continue
            except SQLAlchemyError as exc:  # the records DB is busy or away: the next round tries again
                log.warning("outbox round failed", error=str(exc).splitlines()[0])
            try:
                await asyncio.wait_for(self._event.wait(), self.poll_s)
            except TimeoutError:
                pass

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Postman]:
        task = asyncio.create_task(self.run())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.gather(*(t.close() for t in self.transports.values()), return_exceptions=True)

    async def round(self) -> int:
        """Claim the notices due now and deliver them; how many were claimed. Acceptances are recorded as a group
        commit: one transaction at a time records every acceptance that came in while the previous one ran."""
        claimed = await asyncio.to_thread(outbox.claim, self.engine, self.token, _now(), self.lease, self.batch,
                                          self.routes, lambda key: message_id(key, self.domain))
        pending: list[outbox.Accepted] = []
        recording = asyncio.Lock()

        async def one(n: Claimed) -> None:
            if (done := await self.deliver(n)) is not None:
                pending.append(done)
                async with recording:
                    taken = pending[:]
                    pending.clear()
                    await self._record(taken)
        try:
            await asyncio.gather(*(one(n) for n in claimed))
        finally:  # stopped: what was accepted is recorded all the same
            await self._record(pending)
        return len(claimed)

    async def _record(self, taken: list[outbox.Accepted]) -> None:
        if taken:
            await asyncio.to_thread(outbox.accepted, self.engine, taken, _now())
            for done in taken:
                NOTICES_SENT.labels(done.notice.channel).inc()

    async def drain(self, timeout_s: float = 300.0) -> None:
        """Deliver until nothing is queued (retries included); TimeoutError if that takes longer than `timeout_s`."""
        async with asyncio.timeout(timeout_s):
            while await asyncio.to_thread(outbox.queued, self.engine):
                if not await self.round():
                    await asyncio.sleep(0.05)

    async def deliver(self, n: Claimed) -> outbox.Accepted | None:
        """Hand `n` to its transport: the acceptance, for the caller to record, or None (a refusal, recorded here)."""
        async with self._gate:
            try:
                code, reply = await self.transports[n.channel].send(n)
            except Refused as refusal:
                await asyncio.to_thread(self._refused, n, refusal)
                return None
            return outbox.Accepted(n, code, reply)

    def _refused(self, n: Claimed, refusal: Refused) -> None:
        now = _now()
        if not refusal.permanent and n.attempt < self.max_attempts:
            delay = min(self.backoff * 2 ** (n.attempt - 1), self.backoff_cap)
            outbox.deferred(self.engine, n, now, refusal.code, refusal.reply, now + delay)
            log.info("notice deferred", key=n.key, attempt=n.attempt, reply=str(refusal), retry_in_s=delay.seconds)
            return
        failure = str(refusal) if refusal.permanent else f"gave up after {n.attempt} attempts: {refusal}"
        outbox.failed(self.engine, n, now, "rejected" if refusal.permanent else "deferred", refusal.code,
                      refusal.reply, failure, None if n.kind == FAILED_KIND else self._tell_manager(n, failure, now))
        NOTICES_FAILED.labels(n.channel, "rejected" if refusal.permanent else "gave_up").inc()
        log.warning("notice failed", key=n.key, recipient=n.recipient, failure=failure)

    def _tell_manager(self, n: Claimed, failure: str, now: datetime) -> dict[str, Any]:
        """Outbox values of the notice that tells the call's programme manager that `n` did not reach its recipient."""
        with self.engine.connect() as c:
            definition = c.execute(sql.CALL_DEFINITION, {"b_id": n.call_id}).scalar()
        recipient = f"manager:{n.call_id}"
        data = {"recipient": n.recipient, "address": n.address, "subject": n.subject, "reply": failure}
        subject, body = render(FAILED_KIND, data, CallNames.of(n.call_id, definition), None, recipient)
        return {"key": f"{n.key}:{FAILED_KIND}", "call_id": n.call_id, "application_id": None, "recipient": recipient,
                "kind": FAILED_KIND, "subject": subject, "body": body, "created_at": now, "status": "queued"}


def _now() -> datetime:
    return datetime.now(UTC)
