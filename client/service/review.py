"""Formal review and quotas through the service layer: a manager's decision on a verdict that waits for a person, a
quota the system shows, the places taken, the duplicate check at any time, what a recommender endorsed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, func, select
from temporalio.client import WorkflowUpdateFailedError

from client.calls import manage
from client.errors import Conflict, Invalid
from client.service.actions import Actions, required_reason
from client.service.core import checked
from models.duplicates import THRESHOLD, PriorWork
from models.identity import Identity, Target
from models.inputs import MAX_VALUE, identifier, text
from models.messages import CallEvent, QuotaRequest, TransitionRecord, call_workflow_id
from records.quota_tables import QuotaLimitRow
from records.registry import prior_work
from records.tables import ApplicationRow, QuotaUseRow, TransitionRow
from workflows.call import CallWorkflow

if TYPE_CHECKING:  # the index (numpy) loads when duplicates are checked
    from models.duplicate_index import Match

READERS = ("manager", "agency", "committee", "auditor")
VOID = ("returned", "withdrawn")  # a recommendation followed by one of these no longer counts


@dataclass(frozen=True)
class Endorsed:
    """One application the recommender endorsed and did not see returned or withdrawn since."""

    application_id: str
    title: str
    category: str
    applicant: str
    unit: str
    at: datetime
    state: str


@dataclass(frozen=True)
class Places:
    """Places taken per (step, recommender, category), and the limits managers set in the system."""

    used: list[tuple[str, str, str, int]]
    limits: Sequence[QuotaLimitRow]


@dataclass(frozen=True)
class Suspected:
    """An application of the call and one suspected duplicate of it, with score and reasons."""

    application: ApplicationRow
    match: Match


class Review(Actions):
    def _reader(self, identity: Identity, call_id: str, action: str, roles: tuple[str, ...] = READERS) -> Target:
        target = self.call_target(call_id)
        if not any(identity.may(r, target) for r in roles):
            self.refuse(identity, roles[0], action, target,
                        f"{identity.subject} may not {action} {target.describe()} (needs {' or '.join(roles)})")
        return target

    async def set_quota(self, identity: Identity, call_id: str, quota: str, limit: int, why: str) -> CallEvent:
        """A manager sets the limit of a quota the notice leaves to the system (名额以系统显示为准)."""
        why = required_reason(why)
        checked(identifier, quota, "quota")
        if limit < 0:
            raise Invalid(f"a quota's limit is a count, not {limit}")
        target = self.call_target(call_id)
        self.require(identity, "manager", "set a quota of", target)
        request = QuotaRequest(quota, limit, identity.subject, "manager", why, identity)
        try:
            return await manage((await self.temporal()).get_workflow_handle(call_workflow_id(call_id)),
                                CallWorkflow.set_quota, request)
        except WorkflowUpdateFailedError as exc:
            self.refuse(identity, "manager", "set a quota of", target, str(getattr(exc.cause, "message", exc.cause)),
                        Conflict)

    def places(self, identity: Identity, call_id: str) -> Places:
        """The places each recommender holds and the limits set in the system (managers, agency, committee,
        auditors of the call)."""
        self._reader(identity, call_id, "read the quotas of")
        u = QuotaUseRow
        with Session(self.engine) as s:
            used = s.exec(select(u.step, u.actor_id, u.category, func.count()).where(u.call_id == call_id)
                          .group_by(u.step, u.actor_id, u.category).order_by(u.step, u.actor_id, u.category)).all()
            limits = s.exec(select(QuotaLimitRow).where(QuotaLimitRow.call_id == call_id)
                            .order_by(col(QuotaLimitRow.quota))).all()
        return Places([(a, b, c, int(n)) for a, b, c, n in used], limits)

    async def decide(self, identity: Identity, application_id: str, rule: str, outcome: str, why: str,
                     evidence: str) -> TransitionRecord:
        """A manager decides a verdict that waits for a person (pass or fail), with the evidence it rests on."""
        if outcome not in ("pass", "fail"):
            raise Invalid(f"a decision's outcome is pass or fail, not {outcome!r}")
        checked(identifier, rule, "rule")
        evidence = checked(text, evidence, "evidence", MAX_VALUE, True)
        _, target = await self.application(application_id)
        self.require(identity, "manager", "decide a verdict of", target)
        return await self.act(identity, application_id, "decide", required_reason(why),
                              [f"rule={rule}", f"outcome={outcome}", f"evidence={evidence}"], "manager")

    def duplicates(self, identity: Identity, call_id: str, threshold: float = THRESHOLD
                   ) -> tuple[int, int, list[Suspected]]:
        """The duplicate check now (004: 随时查重): each application of the call against every application and
        project in the records; (corpus size, applications checked, suspected pairs). Managers and auditors."""
        from models.duplicate_index import index_for

        self._reader(identity, call_id, "check duplicates in", ("manager", "auditor"))
        if not 0 < threshold <= 1:
            raise Invalid(f"a threshold is a score in (0, 1], not {threshold}")
        with Session(self.engine) as s:
            rows = s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id)
                          .order_by(col(ApplicationRow.id))).all()
            corpus = prior_work(s)
        index = index_for(corpus)
        found = [Suspected(row, m) for row in rows for m in index.check(
            PriorWork(row.id, row.call_id, None, row.applicant, row.unit, row.title), threshold)]
        return len(corpus), len(rows), found

    def endorsed(self, identity: Identity, call_id: str, recommender: str) -> list[Endorsed]:
        """Applications `recommender` approved at a recommender step, unless returned or withdrawn since: for the
        recommender itself, or the call's managers and auditors."""
        checked(identifier, recommender, "recommender")
        if identity.subject != recommender:
            self._reader(identity, call_id, f"read what {recommender} recommended in", ("manager", "auditor"))
        t = TransitionRow
        with Session(self.engine) as s:
            rows = s.exec(select(t).where(t.call_id == call_id, t.actor_id == recommender, t.role == "recommender",
                                          t.trigger == "approve").order_by(col(t.seq))).all()
            out: list[Endorsed] = []
            for app_id, last in sorted({r.application_id: r for r in rows}.items()):
                voided = s.exec(select(t.id).where(t.application_id == app_id, col(t.seq) > last.seq,
                                                   col(t.dest).in_(VOID))).first()
                app = s.get(ApplicationRow, app_id)
                if voided is None and app is not None:
                    out.append(Endorsed(app_id, app.title, app.category, app.applicant, app.unit or "", last.at,
                                        app.state))
        return out
