"""Quota activities: take a recommendation's place under every quota it falls under, or refuse it; set a limit
that the notice leaves to the system.

A place is a `quota_uses` row, inserted and counted in one transaction that first takes the call's quota lock (a
PostgreSQL advisory lock, `records.statements.serialize`; on SQLite the process's writer lock and the file's single
write lock): concurrent recommendations of one call, from any worker, are decided one after another, each seeing
every place taken or freed before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.engine import Connection, Engine
from temporalio import activity

from models.call import QuotaDef
from models.lifecycle import step_state
from models.quotas import Claim, Pool, applicable, limit_of, pool, refusal, unflagged_limit
from records import statements as sql
from records.engine import writing
from records.quota_tables import ApplicationPersonRow, QuotaLimitRow

PEOPLE = ApplicationPersonRow.__table__  # type: ignore[attr-defined]
LIMITS = QuotaLimitRow.__table__  # type: ignore[attr-defined]


@dataclass
class PlaceInput:
    call_id: str
    quotas: list[QuotaDef]
    planned: dict[str, int]  # each category's planned count
    application_id: str
    step: str
    role: str  # the step's role: whose received applications a ratio counts
    actor_id: str
    category: str
    flags: list[str] = field(default_factory=list)


@dataclass
class Place:
    """Empty `refusal`: the place is taken (now, or by an earlier attempt); else the one line saying why not."""

    refusal: str = ""
    uses: dict[str, int] = field(default_factory=dict)


@dataclass
class LimitInput:
    call_id: str
    quota: str
    limit: int


class _Full(Exception):
    pass


class QuotaActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def take_quota_place(self, inp: PlaceInput) -> Place:
        claim = Claim(inp.step, inp.actor_id, inp.category, frozenset(inp.flags))
        quotas = applicable(list(inp.quotas), claim)
        try:
            with writing(self.engine), self.engine.begin() as c:
                sql.serialize(c, "quota", inp.call_id)
                key = {"call_id": inp.call_id, "step": inp.step, "application_id": inp.application_id}
                if c.execute(select(sql.QUOTA_USES.c.actor_id).filter_by(**key)).first() is not None:
                    return Place()
                c.execute(sql.QUOTA_USES.insert(), {**key, "actor_id": inp.actor_id, "category": inp.category,
                                                    "flags": "," + ",".join(sorted(inp.flags)) + ","})
                uses = {q.key: self._check(c, inp, claim, q) for q in quotas}
        except _Full as full:
            return Place(str(full))
        return Place("", uses)

    def _check(self, c: Connection, inp: PlaceInput, claim: Claim, q: QuotaDef) -> int:
        """Places used under quota `q` with this one counted; raises _Full when that is beyond its limit."""
        where = pool(q, claim)
        received = self._received(c, inp, where) if q.ratio is not None else 0
        system = c.execute(select(LIMITS.c.limit).where(LIMITS.c.call_id == inp.call_id, LIMITS.c.quota == q.key)
                           ).scalar() if q.in_system else None
        limit = limit_of(q, inp.planned, claim, received, system)
        used = self._used(c, inp, where)
        if limit is None or used > limit:
            raise _Full(refusal(q, limit, used - 1, inp.actor_id, inp.application_id))
        rest = unflagged_limit(q, limit)
        if rest is not None and q.min_share is not None and q.min_share.flag not in claim.flags:
            others = self._used(c, inp, where, without=q.min_share.flag)
            if others > rest:
                raise _Full(refusal(q, rest, others - 1, inp.actor_id, inp.application_id, unflagged=True))
        return used

    def _used(self, c: Connection, inp: PlaceInput, where: Pool, without: str | None = None) -> int:
        u = sql.QUOTA_USES.c
        stmt = select(func.count()).where(u.call_id == inp.call_id, u.step == inp.step)
        if where.actors is not None:
            stmt = stmt.where(u.actor_id.in_(where.actors))
        if where.category is not None:
            stmt = stmt.where(u.category == where.category)
        if without is not None:
            stmt = stmt.where(u.flags.not_like(f"%,{without},%"))
        return int(c.execute(stmt).scalar_one())

    def _received(self, c: Connection, inp: PlaceInput, where: Pool) -> int:
        """Applications that reached the step for these actors (the base of a ratio), returned ones included."""
        t, a = sql.TRANSITIONS.c, sql.APPLICATIONS.c
        stmt = (select(func.count(distinct(t.application_id)))
                .join(PEOPLE, (PEOPLE.c.application_id == t.application_id) & (PEOPLE.c.role == inp.role))
                .where(t.call_id == inp.call_id, t.dest == step_state(inp.step)))
        if where.actors is not None:
            stmt = stmt.where(PEOPLE.c.actor_id.in_(where.actors))
        if where.category is not None:
            stmt = stmt.join(sql.APPLICATIONS, a.id == t.application_id).where(a.category == where.category)
        return int(c.execute(stmt).scalar_one())

    @activity.defn
    def set_quota_limit(self, inp: LimitInput) -> int | None:
        """Store a limit set in the system; the previous one (None at first). Setting it again to the same is a
        no-op, so a retry changes nothing."""
        with writing(self.engine), self.engine.begin() as c:
            sql.serialize(c, "quota", inp.call_id)  # a limit changes between two recommendations, never beside one
            key = (LIMITS.c.call_id == inp.call_id) & (LIMITS.c.quota == inp.quota)
            previous = c.execute(select(LIMITS.c.limit).where(key)).scalar()
            if previous is None:
                c.execute(LIMITS.insert(), {"call_id": inp.call_id, "quota": inp.quota, "limit": inp.limit,
                                            "set_at": datetime.now(UTC)})
            else:
                c.execute(LIMITS.update().where(key).values(limit=inp.limit, set_at=datetime.now(UTC)))
        return None if previous is None else int(previous)
