"""The call workflow's side of review stages: it starts a stage workflow when an expert-review phase opens and tells
it when its phase (or publicity) closes."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

from workflows.review_stage import ReviewStageWorkflow

with workflow.unsafe.imports_passed_through():
    from models.calendar import WorkingCalendar
    from models.call import CallDefinition
    from models.messages import CallEvent
    from models.review.messages import StageInput, stage_workflow_id
    from models.timetable import Timetable


async def tell_stages(call: CallDefinition, calendar: WorkingCalendar, timetable: Timetable,
                      events: list[CallEvent]) -> None:
    """Start a stage workflow when an expert-review phase opens; tell it when its phase (or, for the deciding
    stage, publicity) closes: one start or one signal per phase change, never one per application."""
    reviews = [p.id for p in call.phases if p.kind == "expert_review"]
    for event in events:
        phase = timetable.get(event.phase) if event.phase else None
        if phase is None or event.new is None:
            continue
        if phase.kind == "expert_review" and event.kind == "opened":
            i = reviews.index(phase.id)
            await workflow.start_child_workflow(
                ReviewStageWorkflow.run,
                StageInput(call, calendar, phase.id, event.new, phase.closes, i == len(reviews) - 1,
                           stage_workflow_id(call.id, reviews[i - 1]) if i else None),
                id=stage_workflow_id(call.id, phase.id), parent_close_policy=ParentClosePolicy.ABANDON)
        elif event.kind == "closed" and phase.kind in ("expert_review", "publicity"):
            target = phase.id if phase.kind == "expert_review" else reviews[-1]
            signal = "phase_closed" if phase.kind == "expert_review" else "publicity_closed"
            try:
                await workflow.get_external_workflow_handle(stage_workflow_id(call.id, target)).signal(signal)
            except ApplicationError:  # the stage has already finished: nothing left to tell it
                pass
