"""Where a recipient (`role:id`) is reached: the e-mail and mobile of the registry person or unit with that id (an
expert's from the expert pool), or, for the call itself (`manager:CALL`, `public:CALL`), of the issuing department's unit in the registry."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from records.registry_tables import PersonRow, UnitRow
from records.review_tables import ExpertRow
from records.tables import CallRow

PEOPLE, UNITS, CALLS = PersonRow.__table__, UnitRow.__table__, CallRow.__table__  # type: ignore[attr-defined]
EXPERTS = ExpertRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Address:
    email: str | None = None
    mobile: str | None = None

    def get(self, field: str) -> str | None:
        value: str | None = getattr(self, field)
        return value


def address_of(c: Connection, recipient: str) -> Address | None:
    """The registry's address for `recipient`, or None when the registry has no entry with one."""
    role, _, who = recipient.partition(":")
    if role == "expert":
        stored = c.execute(select(EXPERTS.c.expert_json).where(EXPERTS.c.id == who)).scalar()
        reached = json.loads(stored) if stored else {}
        if reached.get("email") or reached.get("mobile"):
            return Address(reached.get("email"), reached.get("mobile"))
    for table, key in ((PEOPLE, PEOPLE.c.id), (UNITS, UNITS.c.id)):
        row = c.execute(select(table.c.email, table.c.mobile).where(key == who)).first()
        if row is not None and (row.email or row.mobile):
            return Address(row.email, row.mobile)
    definition = c.execute(select(CALLS.c.definition_json).where(CALLS.c.id == who)).scalar()
    if definition is None:
        return None
    issuer = json.loads(definition).get("issuer", "")
    row = c.execute(select(UNITS.c.email, UNITS.c.mobile).where(UNITS.c.name == issuer).limit(1)).first()
    return Address(row.email, row.mobile) if row is not None and (row.email or row.mobile) else None
