"""Formal review (形式审查) of one application: required attachments present for its flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity

from models.call import AttachmentDef


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
