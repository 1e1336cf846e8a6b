"""The outbox's delivery side: claim due notices in one transaction each batch, and record every attempt and its end.

A claim holds a notice for one postman until its lease ends; a notice is `sent` only once a channel accepted it, so
a notice whose claim outlived its postman (a killed worker) is claimed again and sent again, never one recorded sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Engine

from infra.metrics import NOTICES_FAILED
from records.addresses import address_of
from records.engine import writing
from records.tables import NoticeAttemptRow, NoticeRow

NOTICES, ATTEMPTS = NoticeRow.__table__, NoticeAttemptRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Route:
    """A channel and the address field it needs (smtp: email, sms: mobile)."""

    channel: str
    field: str


@dataclass(frozen=True)
class Claimed:
    key: str
    call_id: str
    recipient: str
    kind: str
    subject: str
    body: str
    attempt: int
    channel: str
    address: str
    message_id: str


def _free(now: datetime) -> Any:
    return or_(NOTICES.c.claimed_until.is_(None), NOTICES.c.claimed_until < now)


def claim(engine: Engine, token: str, now: datetime, lease: timedelta, limit: int, routes: Sequence[Route],
          message_id: Callable[[str], str]) -> list[Claimed]:
    """Claim up to `limit` due notices for `token` until `now + lease`, each routed to the first channel its
    recipient has an address for, with a new attempt row; a recipient with none is marked undeliverable."""
    out: list[Claimed] = []
    unaddressed = 0
    with writing(engine), engine.begin() as c:
        due = c.execute(select(NOTICES).where(
            NOTICES.c.status == "queued", _free(now),
            or_(NOTICES.c.next_attempt_at.is_(None), NOTICES.c.next_attempt_at <= now),
        ).order_by(NOTICES.c.created_at).limit(limit).with_for_update(skip_locked=True)).all()
        for row in due:
            mine = update(NOTICES).where(NOTICES.c.key == row.key, NOTICES.c.status == "queued", _free(now))
            if c.execute(mine.values(claim=token, claimed_until=now + lease)).rowcount != 1:
                continue
            c.execute(update(ATTEMPTS).where(ATTEMPTS.c.notice_key == row.key, ATTEMPTS.c.outcome.is_(None)).values(
                outcome="interrupted", finished_at=now, reply="the worker stopped before an answer was recorded"))
            found = address_of(c, row.recipient)
            route = next(((r, a) for r in routes if found and (a := found.get(r.field))), None)
            this = update(NOTICES).where(NOTICES.c.key == row.key)
            if route is None:
                wanted = " or ".join(dict.fromkeys(r.field for r in routes))
                c.execute(this.values(status="undeliverable", claim=None, claimed_until=None,
                                      failure=f"the registry has no {wanted} for {row.recipient}"))
                unaddressed += 1
                continue
            (chosen, address), attempt, mid = route, row.attempts + 1, message_id(row.key)
            c.execute(this.values(attempts=attempt, channel=chosen.channel, address=address, message_id=mid))
            c.execute(ATTEMPTS.insert().values(notice_key=row.key, attempt=attempt, channel=chosen.channel,
                                               address=address, started_at=now))
            out.append(Claimed(row.key, row.call_id, row.recipient, row.kind, row.subject, row.body, attempt,
                               chosen.channel, address, mid))
    NOTICES_FAILED.labels("none", "undeliverable").inc(unaddressed)
    return out


@dataclass(frozen=True)
class Accepted:
    """A channel took the notice: its answer."""

    notice: Claimed
    code: int | None
    reply: str


def _attempt(n: Claimed) -> Any:
    return update(ATTEMPTS).where(ATTEMPTS.c.notice_key == n.key, ATTEMPTS.c.attempt == n.attempt)


ACCEPTED_ATTEMPT = update(ATTEMPTS).where(ATTEMPTS.c.notice_key == bindparam("b_key"),
                                          ATTEMPTS.c.attempt == bindparam("b_attempt"))
SENT = update(NOTICES).where(NOTICES.c.key == bindparam("b_key"))


def accepted(engine: Engine, done: Sequence[Accepted], now: datetime) -> None:
    """The channels took these notices: their attempts and the notices say so, in one transaction."""
    with writing(engine), engine.begin() as c:
        c.execute(ACCEPTED_ATTEMPT, [{"b_key": a.notice.key, "b_attempt": a.notice.attempt, "outcome": "accepted",
                                      "finished_at": now, "code": a.code, "reply": a.reply} for a in done])
        c.execute(SENT, [{"b_key": a.notice.key, "status": "sent", "delivered_at": now, "claim": None,
                          "claimed_until": None, "failure": None} for a in done])


def deferred(engine: Engine, n: Claimed, now: datetime, code: int | None, reply: str, retry_at: datetime) -> None:
    """A temporary failure: the notice waits for `retry_at` and is then claimed again."""
    with writing(engine), engine.begin() as c:
        c.execute(_attempt(n).values(outcome="deferred", finished_at=now, code=code, reply=reply))
        c.execute(update(NOTICES).where(NOTICES.c.key == n.key).values(
            next_attempt_at=retry_at, claim=None, claimed_until=None, failure=reply))


def failed(engine: Engine, n: Claimed, now: datetime, outcome: str, code: int | None, reply: str, failure: str,
           tell: dict[str, Any] | None) -> None:
    """A permanent failure (or retries given up): the notice is failed, and `tell` (a notice to the call's manager,
    as outbox values) is queued in the same transaction, once."""
    with writing(engine), engine.begin() as c:
        c.execute(_attempt(n).values(outcome=outcome, finished_at=now, code=code, reply=reply))
        c.execute(update(NOTICES).where(NOTICES.c.key == n.key).values(
            status="failed", claim=None, claimed_until=None, failure=failure))
        if tell is not None and c.execute(select(NOTICES.c.key).where(NOTICES.c.key == tell["key"])).first() is None:
            c.execute(NOTICES.insert().values(**tell))


def queued(engine: Engine) -> int:
    """How many notices still wait for delivery."""
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(NOTICES).where(NOTICES.c.status == "queued")).scalar_one())
