"""What every operation of the service layer shares: who the caller is, what an application or call is to a scope,
and recording a refused attempt before refusing it."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from client.accounts import check_password, identity_of
from client.calls import ask
from client.errors import Forbidden, Invalid, NotFound, Problem, Unauthenticated
from client.lockouts import application_lockout, call_lockout
from client.tokens import TokenConfig, is_operator, issue, verify
from infra.metrics import LATE_CHANGES_REFUSED, REFUSALS
from infra.settings import TemporalAccess
from infra.temporal import connect
from models.call import CallDefinition, definition_from_json
from models.identity import Grant, Identity, Target
from models.inputs import BadInput, identifier
from models.messages import ApplicationStatus, CallInput, application_workflow_id, call_workflow_id
from records.accounts import RefusalRow
from records.payloads import payload_storage
from records.tables import CallRow
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

OPERATOR_ROLES = ("manager", "agency", "auditor")
# Why a refusal was given, from its one line, as the metrics count it: the texts of the lockouts
# (client/lockouts.py) and of the workflows' checks (workflows/application_checks.py, application.py, call.py).
REASONS = (
    ("late", re.compile(r"deadline passed|is locked: .+ closed at|was closed at .+ with its window|"
                        r"was not made: the window closed|closed at .+; a closed phase cannot")),
    ("not_open", re.compile(r"is not open yet|no phase of call .+ is open|accepts this only in its hours")),
    ("quota", re.compile(r"places of its quota")),
    ("state", re.compile(r"cannot .+ in state |; nothing to extend")),
)


def reason_of(why: str, kind: type[Problem]) -> str:
    """The reason a refusal is counted under: forbidden (identity, role or scope), late, not_open, quota, state, or
    other (a request that does not hold: a missing reason, a bad extension...)."""
    if kind is Forbidden:
        return "forbidden"
    return next((name for name, pattern in REASONS if pattern.search(why)), "other")


def checked(check: Any, *args: Any) -> Any:
    """`check(*args)` from models.inputs, its BadInput as Invalid (one line, 422)."""
    try:
        return check(*args)
    except BadInput as exc:
        raise Invalid(str(exc)) from None


@dataclass
class Core:
    client: Client | None  # None: connected to `temporal_address` on first use
    engine: Engine
    task_queue: str
    tokens: TokenConfig
    var_dir: Path
    temporal_address: tuple[str, str] = ("localhost:7233", "default")  # address, namespace
    temporal_access: TemporalAccess = field(default_factory=TemporalAccess)  # TLS, API key

    async def temporal(self) -> Client:
        if self.client is None:
            self.client = await connect(*self.temporal_address, self.temporal_access, payload_storage(self.engine))
        return self.client

    # ---- who is asking ------------------------------------------------------------------------------

    def login(self, account_id: str, password: str) -> str:
        check_password(self.engine, account_id, password)
        return issue(self.tokens, account_id, datetime.now(UTC))

    def identify(self, token: str) -> Identity:
        """The identity behind an access token, read afresh: a disabled account is refused at once."""
        subject, via = verify(self.tokens, token)
        return identity_of(self.engine, subject, via)

    def operator(self, secret: str) -> Identity:
        """The machine that runs the worker, proven by var/operator.secret; recorded as operator@host."""
        if not is_operator(self.var_dir, secret):
            raise Unauthenticated("the operator secret does not match var/operator.secret")
        return Identity(f"operator@{socket.gethostname()}", [Grant(r, "*") for r in OPERATOR_ROLES], "operator")

    # ---- refusing -----------------------------------------------------------------------------------

    def refuse(self, identity: Identity, role: str, action: str, target: Target, why: str,
               kind: type[Problem] = Forbidden) -> NoReturn:
        """Record the refused attempt (who, in which role, what, on what, why), count it by reason, then refuse it."""
        with Session(self.engine) as s:
            s.add(RefusalRow(at=datetime.now(UTC), subject=identity.subject, via=identity.via, role=role,
                             action=action, target=target.describe(), reason=why))
            s.commit()
        counted = reason_of(why, kind)
        REFUSALS.labels(counted).inc()
        if counted == "late":
            LATE_CHANGES_REFUSED.inc()
        raise kind(why)

    def require(self, identity: Identity, role: str, action: str, target: Target) -> None:
        if not identity.may(role, target):
            self.refuse(identity, role, action, target, f"{identity.subject} may not {action} {target.describe()} "
                                                        f"(needs the {role} role for it)")

    # ---- what things are to a scope ------------------------------------------------------------------

    def call_row(self, call_id: str) -> CallRow:
        checked(identifier, call_id, "call id")
        with Session(self.engine) as s:
            row = s.get(CallRow, call_id)
        if row is None:
            raise NotFound(f"unknown call {call_id}")
        return row

    def call_target(self, call_id: str) -> Target:
        return Target(call=call_id, programme=json.loads(self.call_row(call_id).definition_json)["programme"])

    def definition(self, call_id: str) -> CallDefinition:
        return definition_from_json(self.call_row(call_id).definition_json)

    async def call_input(self, call_id: str) -> CallInput:
        self.call_row(call_id)
        return await self._ask(call_workflow_id(call_id), CallWorkflow.definition, f"call {call_id}")  # type: ignore[no-any-return]

    async def application(self, application_id: str) -> tuple[ApplicationStatus, Target]:
        checked(identifier, application_id, "application id")
        st: ApplicationStatus = await self._ask(application_workflow_id(application_id), ApplicationWorkflow.status,
                                                f"application {application_id}")
        people = st.people
        return st, Target(call=st.call_id, programme=self.call_target(st.call_id).programme,
                          unit=people.get("unit_admin", ""), application=application_id,
                          applicant=people.get("applicant", ""))

    async def _ask(self, workflow_id: str, query: Any, what: str) -> Any:
        try:
            return await ask((await self.temporal()).get_workflow_handle(workflow_id), query)
        except (RPCError, WorkflowQueryFailedError) as exc:
            if isinstance(exc, RPCError) and exc.status != RPCStatusCode.NOT_FOUND:
                raise
            raise NotFound(f"unknown {what}") from None

    def locked(self, call_id: str, phase: str) -> str | None:
        with Session(self.engine) as s:
            return call_lockout(s, call_id, phase)

    def app_locked(self, application_id: str, trigger: str) -> str | None:
        with Session(self.engine) as s:
            return application_lockout(s, application_id, trigger)
