"""An application workflow's formal review: the verdicts (pass, fail, needs a person), and managers' overrides and
decisions on them. One verdict table, with or without a form, from the patch `formal-verdicts` on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow

from workflows.application_due import Model
from workflows.application_patches import Patched

with workflow.unsafe.imports_passed_through():
    from activities.eligibility import EligibilityActivities, EvaluateInput
    from activities.formal import FormalInput, attachment_verdicts, check_formal
    from models.call import CallDefinition
    from models.messages import ActRequest, ApplicationInput, ApplicationState
    from models.rules import (
        Outcome,
        Override,
        Verdict,
        apply_overrides,
        at_recommendation,
        failure_reasons,
        waiting_for_person,
    )

FORMAL_TIMEOUT = timedelta(seconds=30)


class FormalReview(Patched):
    """The formal-review part of ApplicationWorkflow, over the state its workflow class keeps."""

    inp: ApplicationInput
    call: CallDefinition
    s: ApplicationState
    model: Model

    def _judge(self, three_valued: bool) -> None:
        """Set the machine's facts from the verdicts: passed with none failing (nor, three-valued, waiting for a
        person), pending with none failing and some waiting."""
        self.s.formal_findings = failure_reasons(self.s.verdicts)
        waiting = three_valued and bool(waiting_for_person(self.s.verdicts))
        self.model.formal_ok = not self.s.formal_findings and not waiting
        self.model.formal_pending = not self.s.formal_findings and waiting

    async def _formal_review(self) -> list[Verdict] | None:
        """Evaluate the call's rules on the form (or, without a form, the required attachment kinds), beside the
        verdicts of a recommender's step."""
        verdicts = self._patched("formal-verdicts")
        kept = [v for v in self.s.verdicts if at_recommendation(v)]
        form = self.inp.form
        if form is None and not verdicts:
            self.s.formal_findings = await workflow.execute_activity(
                check_formal,
                FormalInput(self.inp.application_id, list(self.call.attachments), self.inp.attachments,
                            self.inp.flags),
                start_to_close_timeout=FORMAL_TIMEOUT,
            )
            self.model.formal_ok = not self.s.formal_findings
            return None
        if form is None:
            self.s.verdicts = kept + await workflow.execute_activity(
                attachment_verdicts,
                FormalInput(self.inp.application_id, list(self.call.attachments), self.inp.attachments,
                            self.inp.flags),
                start_to_close_timeout=FORMAL_TIMEOUT,
            )
        else:
            submitted = [t.at for t in self.s.transitions if t.trigger in ("submit", "resubmit")]
            at = (submitted[-1] if submitted else workflow.now()) - timedelta(days=self.inp.shift_days)
            self.s.verdicts = kept + await workflow.execute_activity_method(
                EligibilityActivities.evaluate_formal, EvaluateInput(self.call, form, at),
                start_to_close_timeout=FORMAL_TIMEOUT,
            )
        self._judge(verdicts)
        return self.s.verdicts

    def _override(self, req: ActRequest) -> list[Verdict]:
        """A manager's reinstate (pass) or disqualify (fail) naming a rule overrides that rule's verdict; a decision
        (`decide`) settles a verdict that waits for a person, with its evidence, and the application moves on when
        none waits any more."""
        decides = req.trigger == "decide"
        outcome: Outcome = ("pass" if req.data["outcome"] == "pass" else "fail") if decides else (
            "pass" if req.trigger == "reinstate" else "fail")
        override = Override(req.data["rule"], outcome, req.actor_id, req.reason, workflow.now())
        self.s.verdicts = apply_overrides(self.s.verdicts, [override])
        if decides:
            self.s.verdicts = [replace(v, evidence={**v.evidence, "decision_evidence": req.data.get("evidence", "")})
                               if v.rule_id == override.rule_id else v for v in self.s.verdicts]
            self._judge(True)
        else:
            self.s.formal_findings = failure_reasons(self.s.verdicts)
        return self.s.verdicts
