"""The contract (任务书) as a stage of its own: task book, division review with a return-and-revise loop, signatures
in order (PI, CTO where enterprise-led, unit, recommender) on the accepted content's hash, receipt."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

from audit.history import fetch_execution
from audit.life import ApplicationLife, application_life
from audit.signatures import signature_rules
from client.calls import prepare, start_application
from models.call import load_call
from models.identity import in_process
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
        life = application_life(app.id, (await fetch_execution(stack.client, app.id)).runs)
    assert [p.record.role for p in life.transitions if p.record.trigger == "sign"] == [
        "applicant", "cto", "unit_admin", "recommender"]
    assert list(signature_rules(life)) == []
    _tampered_signatures_are_found(life)


def _tampered_signatures_are_found(life: ApplicationLife) -> None:
    """The audit finds a signature on other content, by an identity it does not name, out of turn, or missing."""
    signs = [i for i, p in enumerate(life.transitions) if p.record.trigger == "sign"]

    def with_sign(k: int, **change: object) -> ApplicationLife:
        proven = life.transitions[signs[k]]
        record = replace(proven.record, **{k2: v for k2, v in change.items() if k2 != "identity"})
        edited = replace(proven, record=record, identity=change.get("identity", proven.identity))  # type: ignore[arg-type]
        return replace(life, transitions=[edited if i == signs[k] else p for i, p in enumerate(life.transitions)])

    def rules(edited: ApplicationLife) -> set[str]:
        return {f.rule for f in signature_rules(edited)}

    assert rules(with_sign(0, data={"content_sha256": V1})) == {"signature.content"}
    assert rules(with_sign(1, identity=None)) == {"signature.identity"}
    assert rules(with_sign(1, identity=in_process("someone-else", "cto"))) == {"signature.identity"}
    swapped = with_sign(0, role="cto")
    swapped = replace(swapped, transitions=[replace(p, record=replace(p.record, role="applicant")) if i == signs[1] else p
                                            for i, p in enumerate(swapped.transitions)])
    assert [f.rule for f in signature_rules(swapped)] == ["signature.order", "signature.order"]
    dropped = replace(life, transitions=[p for i, p in enumerate(life.transitions) if i != signs[-1]])
    assert rules(dropped) == {"signature.missing"}


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
