"""Publishing a call's publicity result: objections counted from the records trail, the final list as the deciding
stage holds it, one row per call written once (a retry returns the row stored), and who is told."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from temporalio import activity

from models.review.publicity import RESULT, Listed, PublicityResult, Published, PublishResultInput
from records import statements as sql
from records.engine import writing
from records.publicity_tables import PublicityResultRow

RESULTS = PublicityResultRow.__table__  # type: ignore[attr-defined]
APPS, TRANSITIONS = sql.APPLICATIONS, sql.TRANSITIONS
OBJECTIONS = ("object", "uphold_objection", "dismiss_objection")


class PublicityActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def publish_result(self, inp: PublishResultInput) -> Published:
        """Store the call's publicity result unless one is stored; return the stored one and its recipients."""
        with writing(self.engine), self.engine.begin() as c:
            counts: dict[str, int] = dict(c.execute(
                select(TRANSITIONS.c.trigger, func.count()).where(
                    TRANSITIONS.c.call_id == inp.call_id, TRANSITIONS.c.trigger.in_(OBJECTIONS))
                .group_by(TRANSITIONS.c.trigger)).all())
            reached = set(inp.publicised) | set(inp.promoted) | set(c.execute(select(TRANSITIONS.c.application_id).where(
                TRANSITIONS.c.call_id == inp.call_id, TRANSITIONS.c.dest.in_(("publicised", "objection_raised"))))
                .scalars())
            listed_ids = sorted(reached | {a for ids in inp.funded.values() for a in ids})
            rows = {r.id: r for r in c.execute(select(APPS).where(APPS.c.id.in_(listed_ids)))}

            def listed(a: str) -> Listed:
                row = rows.get(a)
                return Listed(a, row.category if row else "", row.title if row else a, (row.unit or "") if row else "")
            pending = sum(1 for a in reached if a in rows and rows[a].state == "objection_raised")
            result = PublicityResult(
                inp.call_id, inp.phase, inp.published_at, counts.get("object", 0), counts.get("uphold_objection", 0),
                counts.get("dismiss_objection", 0), pending, [listed(a) for a in inp.promoted],
                [listed(a) for ids in inp.funded.values() for a in ids])
            c.execute(sql.insert_new(c, RESULTS), {"call_id": inp.call_id, "phase": inp.phase,
                                                   "published_at": inp.published_at,
                                                   "result_json": RESULT.dump_json(result).decode()})
            stored = c.execute(select(RESULTS.c.result_json).where(RESULTS.c.call_id == inp.call_id)).scalar_one()
        applicants = sorted({rows[a].applicant for a in reached if a in rows})
        return Published(RESULT.validate_json(stored),
                         [f"manager:{inp.call_id}"] + [f"applicant:{who}" for who in applicants])
