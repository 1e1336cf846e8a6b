"""Account tables (sqlmodel): local and external accounts, their grants, refused attempts, idempotency keys, and
the claim that keeps one application per applicant and call."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from records.tables import AwareDateTime


class AccountRow(SQLModel, table=True):
    """A person or office that signs in; no password hash: it signs in only through the OIDC provider."""

    __tablename__ = "accounts"
    id: str = Field(primary_key=True)
    person_id: str | None = None  # the registry person an applicant is (default: the account id)
    password_hash: str | None = None
    disabled: bool = False
    created_at: datetime = Field(sa_type=AwareDateTime)


class GrantRow(SQLModel, table=True):
    """One role of an account, bound to a scope (models/identity.py)."""

    __tablename__ = "grants"
    account_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)


class RefusalRow(SQLModel, table=True):
    """An attempt refused at an interface or by a workflow: who, in which role, what, on what, and why."""

    __tablename__ = "refusals"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=AwareDateTime)
    subject: str = Field(index=True)
    via: str
    role: str
    action: str
    target: str
    reason: str


class IdempotencyRow(SQLModel, table=True):
    """The response to the first POST with a key; a retry with the same key gets it again and acts no more."""

    __tablename__ = "idempotency_keys"
    subject: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    fingerprint: str  # method, path and SHA-256 of the body
    status: int = 0  # 0 while the first request is still running
    body: str = ""
    created_at: datetime = Field(sa_type=AwareDateTime)


class ApplicantClaimRow(SQLModel, table=True):
    """One application per applicant and call, claimed before its workflow starts."""

    __tablename__ = "applicant_claims"
    call_id: str = Field(primary_key=True)
    applicant: str = Field(primary_key=True)
    application_id: str = Field(unique=True)
