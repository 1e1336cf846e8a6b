"""The contract (任务书) as a stage of its own: task book, division review with a return-and-revise loop, signatures
in order (PI, CTO where enterprise-led, unit, recommender) on the accepted content's hash, receipt."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from client.calls import prepare, start_application
from models.call import load_call
from models.messages import ApplicationState
from tests.conftest import CALLS, Stack
from tests.helpers import act, application_input, refused, sleep_until, state

V1, V2 = (hashlib.sha256(f"任务书 v{n}".encode()).hexdigest() for n in (1, 2))


async def test_return_loop_then_signatures_in_order_on_the_accepted_content(stack: Stack) -> None:
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    prepared.timetable.mark_opened("contract", opened, prepared.input.calendar)
    async with stack.running():
        app = await start_application(stack.client, application_input(
            prepared, f"k1-{stack.task_queue}", flags={"enterprise_led": True}, carried=ApplicationState(state="approved")),
            stack.task_queue)
        await sleep_until(stack.env, opened + timedelta(hours=1))
        await refused(act(app, "submit_taskbook", "applicant"), "needs data content_sha256")
        await act(app, "submit_taskbook", "applicant", content_sha256=V1)
        await refused(act(app, "return_taskbook", "manager"), "needs a reason")
        await act(app, "return_taskbook", "manager", reason="预算需调整")
        assert await state(app) == "approved"
        await act(app, "submit_taskbook", "applicant", content_sha256=V2)
        await act(app, "accept_taskbook", "manager", reason="同意")
        assert await state(app) == "signing_applicant"
        await refused(act(app, "sign", "unit_admin", content_sha256=V2), "may not sign")
        await refused(act(app, "sign", "applicant", content_sha256=V1), "is not the accepted task book")
        await refused(act(app, "sign", "applicant", "someone-else", content_sha256=V2), "is not the applicant of")
        for role, after in (("applicant", "signing_cto"), ("cto", "signing_unit_admin"),
                            ("unit_admin", "signing_recommender"), ("recommender", "signed_unreceived")):
            record = await act(app, "sign", role, content_sha256=V2)
            assert (record.role, record.data["content_sha256"]) == (role, V2)
            assert await state(app) == after
        await act(app, "receive_contract", "agency")
        assert await state(app) == "contract_signed"


async def test_without_an_enterprise_lead_the_cto_signs_nothing(stack: Stack) -> None:
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    opened = await stack.env.get_current_time() + timedelta(minutes=1)
    prepared.timetable.mark_opened("contract", opened, prepared.input.calendar)
    async with stack.running():
        app = await start_application(stack.client, application_input(
            prepared, f"k2-{stack.task_queue}", carried=ApplicationState(state="approved")), stack.task_queue)
        await sleep_until(stack.env, opened + timedelta(hours=1))
        await act(app, "submit_taskbook", "applicant", content_sha256=V1)
        await act(app, "accept_taskbook", "manager", reason="同意")
        await act(app, "sign", "applicant", content_sha256=V1)
        assert await state(app) == "signing_unit_admin"
