"""Builders for rule tests: registry facts, forms and Facts with sensible eligible defaults."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.duplicates import PriorWork
from models.facts import Facts, PendingApplication, PersonFacts, ProjectFacts, Snapshot, UnitFacts
from models.forms import ApplicationForm
from models.rules import KINDS, Finding

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 3, 20, 10, 0, tzinfo=ZONE)


def unit(uid: str = "u1", **changes: Any) -> UnitFacts:
    base = UnitFacts(uid, f"unit {uid}", True, date(2010, 1, 1), "CN-SX", "university", "provincial")
    return replace(base, **changes)


def person(pid: str = "pi", **changes: Any) -> PersonFacts:
    base = PersonFacts(pid, f"person {pid}", date(1975, 6, 1), "associate_senior", "phd", "u1",
                       retirement_date=date(2035, 6, 1))
    return replace(base, **changes)


def project(pid: str, **changes: Any) -> ProjectFacts:
    base = ProjectFacts(pid, "pi", "u1", "山西省重点研发计划", "CN-SX", "lead", 1, "ongoing", date(2024, 1, 1),
                        date(2026, 1, 1))
    return replace(base, **changes)


def pending(aid: str, **changes: Any) -> PendingApplication:
    base = PendingApplication(aid, "other-call", "山西省基础研究计划", "CN-SX", date(2025, 2, 1), "awaiting_unit_review",
                              "pi", "u1")
    return replace(base, **changes)


def prior(ref: str, title: str, **changes: Any) -> PriorWork:
    return replace(PriorWork(ref, "old-call", 2023, "someone", "u9", title), **changes)


def form(**fields: Any) -> ApplicationForm:
    data: dict[str, Any] = {
        "application_id": "app-1", "call_id": "call-1", "programme": "山西省科技合作交流专项", "category": "general",
        "title": "深部煤储层可改造性与裂缝扩展特征研究", "pi_id": "pi", "unit_id": "u1",
        "requested_cny": 400_000, "matching_cny": 400_000,
        "starts_on": date(2025, 3, 5), "ends_on": date(2027, 3, 4),
    }
    data.update(fields)
    return ApplicationForm.model_validate(data)


def facts(f: ApplicationForm | None = None, *, pi: PersonFacts | None = None, units: list[UnitFacts] | None = None,
          people: list[PersonFacts] | None = None, projects: list[ProjectFacts] | None = None,
          unit_projects: list[ProjectFacts] | None = None, applied: list[PendingApplication] | None = None,
          prior_work: list[PriorWork] | None = None, at: datetime = AT, no_pi: bool = False) -> Facts:
    snapshot = Snapshot(
        pi=None if no_pi else (pi or person()),
        units={u.id: u for u in (units if units is not None else [unit()])},
        people={p.id: p for p in people or []},
        projects=tuple(projects or ()), unit_projects=tuple(unit_projects or ()), pending=tuple(applied or ()),
        prior_work=tuple(prior_work or ()),
    )
    return Facts(f or form(), snapshot, at, ZONE)


def check(kind: str, params: dict[str, Any], f: Facts) -> Finding:
    return KINDS[kind].run(params, f)


def outcome(kind: str, params: dict[str, Any], f: Facts) -> str:
    return check(kind, params, f).outcome
