"""Rule version per case: a corrected call definition applies to new applications; running ones migrate explicitly."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from client.calls import manage, prepare, start_application, start_call
from models.call import CallDefinition, load_call, shared
from models.identity import in_process
from models.lifecycle import build_lifecycle
from models.messages import MigrateRequest, ReviseRequest
from records.tables import CallRow
from tests.conftest import CALLS, Stack
from tests.helpers import application_input, refused
from workflows.application import ApplicationWorkflow
from workflows.call import CallWorkflow

CALL_000 = CALLS / "000-sx-2025-basic-research-geology.yaml"


def test_applications_of_one_version_share_its_definition_and_lifecycle() -> None:
    """Each workflow decodes its own copy of the definition; equal content maps to one instance, other content not."""
    first, second = load_call(CALL_000), load_call(CALL_000)
    same = first.model_copy(update={"unchecked": [], "documents": []})  # they document the file and stay home
    assert first is not second and shared(first) is shared(second) and shared(first) == same
    assert build_lifecycle(first) is build_lifecycle(second)
    revised = first.model_copy(update={"title": first.title + "（修订）"})
    assert shared(revised) is not shared(first) and shared(revised).title == revised.title
    assert build_lifecycle(revised) is not build_lifecycle(first)


async def test_a_revision_reaches_new_applications_and_running_ones_only_by_migration(stack: Stack) -> None:
    prepared = prepare(load_call(CALL_000), not_before=await stack.env.get_current_time())
    old = prepared.definition
    data = old.model_dump()
    data["categories"][0]["name"] += "（更正）"
    corrected = CallDefinition.model_validate(data)
    moved = old.model_dump()
    moved["phases"][0]["id"] = "online"
    moved["phases"][1]["opens"] = "previous"

    def revise(definition: CallDefinition, reason: str = "更正类别名称") -> ReviseRequest:
        return ReviseRequest(definition, "pm-1", "manager", reason, in_process("pm-1", "manager"))

    async with stack.running():
        call = await start_call(stack.client, prepared, stack.task_queue)
        running = await start_application(stack.client, application_input(prepared, "v1"), stack.task_queue)
        await refused(call.execute_update(CallWorkflow.revise_definition, revise(old)), "unchanged")
        await refused(call.execute_update(CallWorkflow.revise_definition, revise(corrected, "")), "reason")
        await refused(call.execute_update(CallWorkflow.revise_definition,
                                          revise(CallDefinition.model_validate(moved))), "keeps the call's phases")
        later = old.model_dump()
        later["phases"][0]["closes"] += timedelta(days=1)
        await refused(call.execute_update(CallWorkflow.revise_definition, revise(CallDefinition.model_validate(later))),
                      "phases.application.closes: the revision moves it from ")
        event = await manage(call, CallWorkflow.revise_definition, revise(corrected))
        assert (event.kind, event.detail) == ("revised", f"version {old.version()} -> {corrected.version()}")

        current = await call.query(CallWorkflow.definition)
        fresh = await start_application(stack.client, application_input(prepared, "v2", call=current.call),
                                        stack.task_queue)
        assert (await fresh.query(ApplicationWorkflow.status)).version == corrected.version()
        assert (await running.query(ApplicationWorkflow.status)).version == old.version()

        migrate = ApplicationWorkflow.migrate
        await refused(running.execute_update(migrate, MigrateRequest(corrected, "pm-1", "manager", " ", in_process("pm-1", "manager"))), "reason")
        await refused(running.execute_update(migrate, MigrateRequest(corrected, "pi-1", "applicant", "想要", in_process("pi-1", "applicant"))),
                      "may not migrate")
        record = await running.execute_update(migrate, MigrateRequest(corrected, "pm-1", "manager", "统一按更正版执行", in_process("pm-1", "manager")))
        status = await running.query(ApplicationWorkflow.status)
    assert record.data == {"from_version": old.version(), "to_version": corrected.version()}
    assert (status.version, status.transitions[-1].trigger, status.transitions[-1].reason) == (
        corrected.version(), "migrate", "统一按更正版执行")
    with Session(stack.engine) as s:
        row = s.get(CallRow, old.id)
        assert row is not None and row.version == corrected.version()
