"""An application workflow's rules at the recommender's step (`at: recommendation`, 不予推荐): evaluated when the
application reaches the step and kept beside formal review's verdicts; a failing one refuses the recommendation."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.eligibility import EligibilityActivities, EvaluateInput
    from models.call import CallDefinition
    from models.call.rule_places import recommender_steps
    from models.lifecycle import state_step
    from models.messages import ApplicationInput, ApplicationState
    from models.rules import RECOMMENDATION, Verdict, at_recommendation

EVALUATE_TIMEOUT = timedelta(seconds=30)


def at_recommender_step(call: CallDefinition, state: str) -> bool:
    """An application in `state` waits for a recommender's step (where rules `at: recommendation` are checked)."""
    return state_step(state) in {s.id for s in recommender_steps(call)}


class RecommendationRules:
    """The recommender-step rules of ApplicationWorkflow, over the state its workflow class keeps. `rec_rules`: the
    patch `application_patches.RECOMMENDATION_PATCH`; `checking`: an evaluation is under way (a recommendation waits for it)."""

    inp: ApplicationInput
    call: CallDefinition
    s: ApplicationState
    rec_rules: bool
    checking: bool

    async def _check_recommendation(self, dest: str) -> list[Verdict] | None:
        """The application has just reached `dest`: at a recommender's step, the call's rules checked there are
        evaluated on its form (reads only) and replace the ones given at an earlier step; None where nothing ran
        (no such rules, no form, another state, a run from before the patch)."""
        form = self.inp.form
        if not (self.rec_rules and form is not None and at_recommender_step(self.call, dest)
                and any(r.at == RECOMMENDATION for r in self.call.rules)):
            return None
        submitted = [t.at for t in self.s.transitions if t.trigger in ("submit", "resubmit")]
        at = (submitted[-1] if submitted else workflow.now()) - timedelta(days=self.inp.shift_days)
        self.checking = True
        try:
            verdicts = await workflow.execute_activity_method(
                EligibilityActivities.evaluate_formal, EvaluateInput(self.call, form, at, RECOMMENDATION),
                start_to_close_timeout=EVALUATE_TIMEOUT,
            )
        finally:
            self.checking = False
        self.s.verdicts = [v for v in self.s.verdicts if not at_recommendation(v)] + verdicts
        return self.s.verdicts

    def _judged_by_recommender(self, trigger: str, state: str) -> dict[str, str]:
        """A recommendation made while rules checked at the step need a person: the recommender judged them, and the
        transition says which (so the audit shows it)."""
        if trigger != "approve" or not at_recommender_step(self.call, state):
            return {}
        open_ = [v.rule_id for v in self.s.verdicts if at_recommendation(v) and v.outcome == "review"]
        return {"judged_by_recommender": ", ".join(open_)} if open_ else {}
