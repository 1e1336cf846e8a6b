"""Addresses for the sample registry: every person and unit gets a plausible e-mail and mobile derived from its id (the
seeded draw is not disturbed), and the accounts the simulation acts as (unit administrators, recommending units,
CTOs, the issuing department) are registered with theirs."""

from __future__ import annotations

import hashlib
from datetime import date

from models.call import CallDefinition
from records.registry_tables import PersonRow, UnitRow

SUFFIX = {"university": "edu.cn", "research_institute": "ac.cn", "state_organ": "gov.cn"}
UNIT_ADMINS, RECOMMENDERS = 20, 5  # simulate's unit-<i % 20> and org-<i % 5>


def _digits(key: str, n: int) -> str:
    return str(int(hashlib.sha256(key.encode()).hexdigest(), 16))[-n:]


def domain(unit_id: str, kind: str) -> str:
    return f"{unit_id.lower()}.example.{SUFFIX.get(kind, 'com.cn')}"


def mobile(key: str) -> str:
    return f"1{'3589'[int(_digits(key, 1)) % 4]}{_digits(key + '/m', 9)}"


def with_addresses(units: list[UnitRow], people: list[PersonRow]) -> None:
    """Give each unit its research office's address and each person one at their unit, in place."""
    kinds = {u.id: u.kind for u in units}
    for u in units:
        u.email, u.mobile = f"kyc@{domain(u.id, u.kind)}", mobile(u.id)
    for p in people:
        home = p.unit_id or "individual"
        p.email, p.mobile = f"m{p.id[-6:].lower()}@{domain(home, kinds.get(home, ''))}", mobile(p.id)


def accounts(call: CallDefinition, applications: int) -> list[UnitRow | PersonRow]:
    """The registry entries behind the simulation's actors, each with an address: the issuing department (where the
    call's own notices go), the administrators' units, the recommending units and the CTOs."""
    province, founded = call.province or "CN", date(2000, 1, 1)
    rows: list[UnitRow | PersonRow] = [UnitRow(
        id=f"issuer-{call.id}", name=call.issuer, registered_on=founded, province=province, kind="state_organ",
        email=f"office@{domain(call.id, 'state_organ')}", mobile=mobile(call.id))]
    rows += [UnitRow(id=f"unit-{k}", name=f"模拟申请单位{k}", registered_on=founded, province=province, kind="university",
                     email=f"admin@{domain(f'unit-{k}', 'university')}", mobile=mobile(f"unit-{k}"))
             for k in range(UNIT_ADMINS)]
    rows += [UnitRow(id=f"org-{k}", name=f"模拟推荐单位{k}", registered_on=founded, province=province, kind="state_organ",
                     email=f"tj@{domain(f'org-{k}', 'state_organ')}", mobile=mobile(f"org-{k}"))
             for k in range(RECOMMENDERS)]
    rows += [PersonRow(id=f"cto-{i}", id_type="other", name=f"首席技术官{i}", birth_date=date(1975, 1, 1),
                       email=f"cto{i}@{domain(f'cto-{i}', 'enterprise')}", mobile=mobile(f"cto-{i}"))
             for i in range(applications)]
    return rows
