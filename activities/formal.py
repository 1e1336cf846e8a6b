"""Formal review (形式审查) of an application filed without a form: the required attachments present for its flags,
as findings (runs before the patch `formal-verdicts`) or as verdicts, one per attachment, like a form's."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity

from models.call import AttachmentDef
from models.rules import Outcome, Verdict


@dataclass
class FormalInput:
    application_id: str
    required: list[AttachmentDef]
    attachments: list[str]
    flags: dict[str, bool] = field(default_factory=dict)


@activity.defn
def check_formal(inp: FormalInput) -> list[str]:
    """Findings, one per failed requirement; an empty list passes."""
    present = set(inp.attachments)
    return [
        f"missing attachment {a.kind} ({a.name})"
        for a in inp.required
        if a.required and (a.when is None or inp.flags.get(a.when)) and a.kind not in present
    ]


@activity.defn
def attachment_verdicts(inp: FormalInput) -> list[Verdict]:
    """One verdict per attachment of the call (`attachment.<kind>`, as a form's evaluation names them). Without a
    form only flags say what applies: an attachment required `when` a flag, or under a condition (an enterprise
    unit, an international project), is required only when the application's flags set that flag or condition."""
    present = set(inp.attachments)
    out: list[Verdict] = []
    for a in inp.required:
        gate = a.when or a.condition
        evidence = {"attached": "yes" if a.kind in present else "no"}
        if gate is not None:
            evidence["flag"] = f"{gate}={'set' if inp.flags.get(gate) else 'not set'}"
        outcome: Outcome
        if not a.required or (gate is not None and not inp.flags.get(gate)):
            outcome, reason = "pass", f"{a.name} not required" + (f": {gate} not set" if gate else "")
        elif a.kind in present:
            outcome, reason = "pass", f"{a.name} attached"
        else:
            outcome, reason = "fail", f"missing attachment {a.kind} ({a.name})"
        out.append(Verdict(f"attachment.{a.kind}", "attachment", outcome, reason, evidence, a.seed or ""))
    return out
