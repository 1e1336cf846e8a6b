"""The deciding stage's side of the publicity result: when publicity closes, the result is published (one activity,
one row per call) and drafted as one call-level notice to each of its recipients, keyed so that none goes twice."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.publicity import PublicityActivities
    from models.call import CallDefinition
    from models.messages import NoticeDraft
    from models.review.messages import StageState
    from models.review.publicity import Published, PublishResultInput, notice_data

PUBLICITY_RESULT = "publicity-result"  # the patch that publishes the result when publicity closes
KIND = "publicity_result"


async def publicity_result(call: CallDefinition, s: StageState) -> list[NoticeDraft]:
    """Publish the result of the call's publicity from the deciding stage's state `s` (decided); the notices to send:
    the call's managers and the applicant of every application that reached publicity."""
    assert s.settled is not None
    phase = next((p.id for p in call.phases if p.kind == "publicity"), "publicity")
    publicised = [o.application_id for o in s.settled.outcomes if o.trigger == "fund"]
    published: Published = await workflow.execute_activity_method(
        PublicityActivities.publish_result,
        PublishResultInput(call.id, phase, workflow.now(), s.settled.funded, list(s.promoted), publicised),
        start_to_close_timeout=timedelta(minutes=5))
    data = notice_data(published.result, {c.id: c.name for c in call.categories})
    s.notices += len(published.recipients)
    return [NoticeDraft(key=f"{workflow.info().workflow_id}:{KIND}:{to}", call_id=call.id, application_id=None,
                        recipient=to, kind=KIND, data=data) for to in published.recipients]
