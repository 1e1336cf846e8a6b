"""Local accounts in the records DB: add, disable, reset, grant, list; argon2 password hashes; the identity an
account holds at this moment (a disabled account has none)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from client.errors import Conflict, Invalid, NotFound, Unauthenticated
from models.identity import Grant, Identity, parse_scope
from models.inputs import BadInput, identifier
from records.accounts import AccountRow, GrantRow

HASHER = PasswordHasher()


@cache
def _dummy() -> str:
    """A hash verified against when the account is unknown, so timing says nothing (made once, when first needed:
    hashing costs half a second, which every command would otherwise pay at import)."""
    return HASHER.hash("not a password")


MIN_PASSWORD = 10


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters")
    return HASHER.hash(value)


def grants_of(specs: list[str]) -> list[Grant]:
    """`ROLE@SCOPE` items (scope `*`, `self` or key:value[,key:value]) as grants, or Invalid naming the bad one."""
    out = []
    for spec in specs:
        role, _, scope = spec.partition("@")
        try:
            out.append(parse_scope(role, scope or ("self" if role == "applicant" else "*")))
        except ValueError as exc:
            raise Invalid(f"grant {spec!r}: {exc}") from None
    return out


def add(engine: Engine, account_id: str, password: str | None, grants: list[Grant],
        person_id: str | None = None) -> None:
    try:
        identifier(account_id, "account id")
    except BadInput as exc:
        raise Invalid(str(exc)) from None
    with Session(engine) as s:
        if s.get(AccountRow, account_id) is not None:
            raise Conflict(f"account {account_id} exists")
        s.add(AccountRow(id=account_id, person_id=person_id, created_at=datetime.now(UTC),
                         password_hash=_password(password) if password is not None else None))
        s.add_all(GrantRow(account_id=account_id, role=g.role, scope=g.scope) for g in grants)
        s.commit()


def _account(s: Session, account_id: str) -> AccountRow:
    row = s.get(AccountRow, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return row


def set_disabled(engine: Engine, account_id: str, disabled: bool) -> None:
    with Session(engine) as s:
        _account(s, account_id).disabled = disabled
        s.commit()


def reset(engine: Engine, account_id: str, password: str) -> None:
    with Session(engine) as s:
        _account(s, account_id).password_hash = _password(password)
        s.commit()


def grant(engine: Engine, account_id: str, grants: list[Grant], revoke: bool = False) -> None:
    with Session(engine) as s:
        _account(s, account_id)
        for g in grants:
            row = s.get(GrantRow, (account_id, g.role, g.scope))
            if revoke and row is not None:
                s.delete(row)
            elif not revoke and row is None:
                s.add(GrantRow(account_id=account_id, role=g.role, scope=g.scope))
        s.commit()


def listing(engine: Engine) -> list[tuple[AccountRow, list[GrantRow]]]:
    with Session(engine) as s:
        rows = s.exec(select(AccountRow).order_by(AccountRow.id)).all()
        grants = s.exec(select(GrantRow)).all()
    return [(r, [g for g in grants if g.account_id == r.id]) for r in rows]


def check_password(engine: Engine, account_id: str, password: str) -> None:
    """Nothing when `password` is the account's; Unauthenticated (the same message whatever was wrong) otherwise."""
    with Session(engine) as s:
        row = s.get(AccountRow, account_id)
    try:
        HASHER.verify(row.password_hash if row and row.password_hash else _dummy(), password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong account or password") from None
    if row is None or row.password_hash is None or row.disabled:
        raise Unauthenticated("wrong account or password")


def identity_of(engine: Engine, account_id: str, via: str) -> Identity:
    """The account's identity with a snapshot of its grants now; a disabled or unknown account has none."""
    with Session(engine) as s:
        row = s.get(AccountRow, account_id)
        if row is None or row.disabled:
            raise Unauthenticated(f"account {account_id} is disabled or unknown")
        grants = s.exec(select(GrantRow).where(GrantRow.account_id == account_id)).all()
    return Identity(account_id, [Grant(g.role, g.scope) for g in grants], via)


def person_of(engine: Engine, account_id: str) -> str:
    """The registry person an account is (its own id unless set)."""
    with Session(engine) as s:
        row = _account(s, account_id)
    return row.person_id or row.id
