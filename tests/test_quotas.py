"""Quotas (推荐名额): every form refuses exactly the recommendation beyond it, at once and under concurrency."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.notices import MemoryChannel
from activities.quotas import LimitInput, PlaceInput, QuotaActivities
from activities.records import RecordActivities, RecordInput
from audit.replay import replayer
from client.calls import manage, prepare, start_application, start_call
from client.errors import Conflict, Forbidden
from client.service import Service
from client.tokens import TokenConfig
from models.call import CallDefinition, CallFileError, QuotaDef, load_call, parse_call
from models.identity import Grant, Identity, in_process
from models.messages import QuotaRequest, TransitionRecord
from models.quotas import Claim, Held, applicable, overruns, refused_quota
from records.accounts import RefusalRow
from records.quota_tables import ApplicationPersonRow
from records.tables import CallEventRow
from tests.conftest import CALLS, Stack
from tests.helpers import PEOPLE, act, application_input, hours, opens, refused, sleep_until, state
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"
CALL_003 = CALLS / "003-sx-2017-key-rd-general.yaml"


def _quotas(*defs: dict[str, Any]) -> list[QuotaDef]:
    return [QuotaDef.model_validate(d) for d in defs]


def _place(app: str, quotas: list[QuotaDef], actor: str = "org-1", category: str = "a", flags: tuple[str, ...] = (),
           planned: dict[str, int] | None = None) -> PlaceInput:
    return PlaceInput("c1", quotas, planned or {}, app, "recommender_review", "recommender", actor, category,
                      list(flags))


def test_a_quota_gives_exactly_one_limit_and_names_known_categories() -> None:
    text = CALL_003.read_text(encoding="utf-8")
    bad = text.replace("    planned: true\n", "    planned: true\n    max: 3\n", 1)
    with pytest.raises(CallFileError, match="exactly one of max, ratio, planned, in_system"):
        parse_call(bad, "003.yaml")
    unknown = text.replace("    planned: true\n", "    max: 3\n    category: astrology\n", 1)
    with pytest.raises(CallFileError, match="quotas.planned_by_area.category: unknown category 'astrology'"):
        parse_call(unknown, "003.yaml")


def test_a_dedicated_quota_takes_its_institutions_out_of_the_general_one() -> None:
    quotas = _quotas({"id": "each", "step": "s", "max": 3}, {"id": "universities", "step": "s", "max": 10,
                                                             "actors": ["uni-1"]},
                     {"id": "province", "step": "s", "max": 136, "scope": "call"})
    assert [q.key for q in applicable(quotas, Claim("s", "org-1", "a"))] == ["each", "province"]
    assert [q.key for q in applicable(quotas, Claim("s", "uni-1", "a"))] == ["universities", "province"]


def test_concurrent_claims_never_exceed_a_cap(db: Engine) -> None:
    """40 recommendations at once from 8 recommenders against a cap of 5 for all: exactly 5 places are taken."""
    quotas = _quotas({"id": "province", "step": "recommender_review", "max": 5, "scope": "call"})
    activities = QuotaActivities(db)
    with ThreadPoolExecutor(16) as pool:
        places = list(pool.map(lambda i: activities.take_quota_place(_place(f"app-{i}", quotas, f"org-{i % 8}")),
                               range(40)))
    taken = [p for p in places if not p.refusal]
    assert len(taken) == 5 and sorted(p.uses["province"] for p in taken) == [1, 2, 3, 4, 5]
    assert {refused_quota(p.refusal) for p in places if p.refusal} == {"province"}
    assert "limit 5, used 5" in next(p.refusal for p in places if p.refusal)


def test_a_retry_takes_no_second_place(db: Engine) -> None:
    quotas = _quotas({"id": "one", "step": "recommender_review", "max": 1})
    activities = QuotaActivities(db)
    assert activities.take_quota_place(_place("app-1", quotas)).refusal == ""
    assert activities.take_quota_place(_place("app-1", quotas)).refusal == ""
    refusal = activities.take_quota_place(_place("app-2", quotas)).refusal
    assert refusal == "quota one (a count, each recommender): limit 1, used 1; org-1 cannot recommend app-2"


def test_a_ratio_counts_what_the_recommender_received(db: Engine) -> None:
    """At most 25% of what reached org-1 at the step: 4 received give 1 place, 8 give 2."""
    quotas = _quotas({"id": "quarter", "step": "recommender_review", "ratio": 0.25})
    activities, records = QuotaActivities(db), RecordActivities(db, MemoryChannel())
    at = datetime(2025, 4, 1, tzinfo=UTC)

    def arrive(i: int) -> None:
        with Session(db) as s:
            s.add(ApplicationPersonRow(application_id=f"app-{i}", role="recommender", actor_id="org-1"))
            s.commit()
        records.record_transition(RecordInput("c1", f"app-{i}", "awaiting_recommender_review", TransitionRecord(
            seq=0, trigger="approve", source="awaiting_unit_review", dest="awaiting_recommender_review",
            actor_id="unit-1", role="unit_admin", reason="", at=at)))

    for i in range(4):
        arrive(i)
    assert activities.take_quota_place(_place("app-0", quotas)).refusal == ""
    assert "limit 1, used 1" in activities.take_quota_place(_place("app-1", quotas)).refusal
    for i in range(4, 8):
        arrive(i)
    assert activities.take_quota_place(_place("app-1", quotas)).refusal == ""
    assert "(25% of those received, each recommender): limit 2, used 2" in \
        activities.take_quota_place(_place("app-2", quotas)).refusal


def test_a_minimum_share_keeps_places_for_enterprise_led_projects(db: Engine) -> None:
    """Enterprise-led at least 50% of 4 places: two others at most, the enterprise-led ones up to the limit."""
    quotas = _quotas({"id": "org", "step": "recommender_review", "max": 4,
                      "min_share": {"flag": "enterprise_led", "share": 0.5}})
    activities = QuotaActivities(db)
    assert [activities.take_quota_place(_place(f"u-{i}", quotas)).refusal for i in range(2)] == ["", ""]
    assert "places without enterprise_led limit 2, used 2" in activities.take_quota_place(_place("u-3", quotas)).refusal
    led = [activities.take_quota_place(_place(f"e-{i}", quotas, flags=("enterprise_led",))).refusal for i in range(3)]
    assert led[:2] == ["", ""] and "limit 4, used 4" in led[2]


def test_planned_counts_cap_each_category(db: Engine) -> None:
    quotas = _quotas({"id": "planned_by_area", "step": "recommender_review", "planned": True, "scope": "call"})
    activities = QuotaActivities(db)
    planned = {"a": 2, "b": 1}
    got = [activities.take_quota_place(_place(f"a-{i}", quotas, f"org-{i}", "a", planned=planned)).refusal
           for i in range(3)]
    assert got[:2] == ["", ""] and "each category's planned count, all recommenders): limit 2, used 2" in got[2]
    assert activities.take_quota_place(_place("b-0", quotas, "org-9", "b", planned=planned)).refusal == ""


def test_a_quota_shown_in_the_system_waits_for_its_limit(db: Engine) -> None:
    quotas = _quotas({"id": "system", "step": "recommender_review", "in_system": True})
    activities = QuotaActivities(db)
    assert "has no limit set in the system yet" in activities.take_quota_place(_place("a", quotas)).refusal
    assert activities.set_quota_limit(LimitInput("c1", "system", 1)) is None
    assert activities.take_quota_place(_place("a", quotas)).refusal == ""
    assert "limit 1, used 1" in activities.take_quota_place(_place("b", quotas)).refusal


def _with_quotas(path: Any, quotas: list[dict[str, Any]]) -> CallDefinition:
    data = load_call(path).model_dump()
    data["quotas"] = quotas
    return CallDefinition.model_validate(data)


async def test_parallel_recommendations_never_exceed_a_quota(stack: Stack) -> None:
    """Twelve applications approved by their unit at once against a cap of 5 across units: five pass, seven are
    refused with the quota's line and stay where they were."""
    call = _with_quotas(CALL_000, [{"id": "all_units", "step": "unit_review", "max": 5, "scope": "call"}])
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    async with stack.running():
        await start_call(stack.client, prepared, stack.task_queue)
        apps = [await start_application(stack.client, application_input(
            prepared, f"p{i}", people={**PEOPLE, "unit_admin": f"unit-{i % 3}"}), stack.task_queue) for i in range(12)]
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await asyncio.gather(*(act(a, "submit", "applicant") for a in apps))
        results = await asyncio.gather(*(act(a, "approve", "unit_admin", actor=f"unit-{i % 3}", reason="推荐")
                                         for i, a in enumerate(apps)), return_exceptions=True)
        lines = [str(getattr(r.cause, "message", r.cause)) for r in results if isinstance(r, BaseException)]
        assert len(lines) == 7 and all(line.startswith("quota all_units (a count, all recommenders): limit 5, used 5;")
                                       for line in lines)
        states = [await state(a) for a in apps]
        assert states.count("awaiting_organiser_review") == 5 and states.count("awaiting_unit_review") == 7


async def test_a_manager_sets_a_quota_the_system_shows_with_a_reason(stack: Stack, tmp_path: Path) -> None:
    call = _with_quotas(CALL_000, [{"id": "shown", "step": "unit_review", "in_system": True}])
    prepared = prepare(call, not_before=await stack.env.get_current_time())
    async with stack.running():
        handle = await start_call(stack.client, prepared, stack.task_queue)
        app = await start_application(stack.client, application_input(prepared, "s1"), stack.task_queue)
        await sleep_until(stack.env, opens(prepared, "application") + hours(1))
        await act(app, "submit", "applicant")
        await refused(act(app, "approve", "unit_admin", reason="推荐"), "quota shown (set in the system, each recommender) "
                      "has no limit set in the system yet")
        request = partial(QuotaRequest, "shown", 3, "pm-1", "manager", "系统名额下达")
        await refused(manage(handle, CallWorkflow.set_quota, QuotaRequest("shown", 3, "unit-1", "unit_admin", "x",
                                                                           in_process("unit-1", "unit_admin"))),
                      "may not set a quota")
        await refused(manage(handle, CallWorkflow.set_quota, request()), "the request carries no identity")
        await refused(manage(handle, CallWorkflow.set_quota, request(in_process("pm-2", "manager"))),
                      "the request acts as pm-1, but its identity is pm-2")
        elsewhere = Identity("pm-1", [Grant("manager", "call:another-call")])
        await refused(manage(handle, CallWorkflow.set_quota, request(elsewhere)), "pm-1 has no manager role for call")
        service = Service(stack.client, stack.engine, stack.task_queue, TokenConfig.from_env(tmp_path), tmp_path)
        with pytest.raises(Forbidden, match="pm-x may not set a quota of call"):
            await service.set_quota(Identity("pm-x", [Grant("manager", "call:another-call")]), call.id, "shown", 3,
                                    "系统名额下达")
        with pytest.raises(Conflict, match="quota 'other' is not one the system sets"):
            await service.set_quota(Identity("pm-1", [Grant("manager", f"call:{call.id}")]), call.id, "other", 3,
                                    "系统名额下达")
        event = await service.set_quota(Identity("pm-1", [Grant("manager", f"call:{call.id}")]), call.id, "shown", 3,
                                        "系统名额下达")
        assert (event.kind, event.actor_id, event.reason, event.detail) == ("quota_set", "pm-1", "系统名额下达",
                                                                             "quota shown: unset -> 3")
        with Session(stack.engine) as s:
            row = s.exec(select(CallEventRow).where(CallEventRow.kind == "quota_set")).one()
            assert (row.call_id, row.actor_id, row.reason) == (call.id, "pm-1", "系统名额下达")
            assert [r.subject for r in s.exec(select(RefusalRow)).all()] == ["pm-x", "pm-1"]
        await act(app, "approve", "unit_admin", reason="推荐")
        assert await state(app) == "awaiting_organiser_review"
        for history in (await app.fetch_history(), await handle.fetch_history()):
            await replayer().replay_workflow(history)


def test_the_simulation_audit_finds_places_held_beyond_a_quota() -> None:
    """A freed place counts until it is freed: a recommendation then fits; one more beside it overruns."""
    call = _with_quotas(CALL_000, [{"id": "two", "step": "unit_review", "max": 2}])
    t = [datetime(2025, 4, 1, h, tzinfo=UTC) for h in range(6)]
    held = [Held("unit_review", "unit-1", "key", t[0], t[2]), Held("unit_review", "unit-1", "key", t[1], None),
            Held("unit_review", "unit-1", "key", t[2], None), Held("unit_review", "unit-2", "key", t[3], None)]
    assert overruns(call, held) == []
    assert overruns(call, [*held, Held("unit_review", "unit-1", "key", t[4], None)]) == [
        f"quota two: 3 places held at {t[4].isoformat()} (limit 2)"]
