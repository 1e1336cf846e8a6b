"""What the contract stage refuses: a task book without its content hash, and a signature on other content than the
task book the division accepted (the signer is checked as every actor is: the owner of the role)."""

from __future__ import annotations

import re

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.messages import ActRequest, TransitionRecord

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def accepted_taskbook(transitions: list[TransitionRecord]) -> str:
    """The content hash of the task book last submitted (the one under review or accepted), or ""."""
    return next((t.data.get("content_sha256", "") for t in reversed(transitions) if t.trigger == "submit_taskbook"), "")


def taskbook_refusal(req: ActRequest, transitions: list[TransitionRecord]) -> str | None:
    given = req.data.get("content_sha256", "")
    if not SHA256.match(given):
        return f"{req.trigger} needs data content_sha256=<the task book's SHA-256, 64 hex digits>"
    if req.trigger == "sign" and given != accepted_taskbook(transitions):
        return (f"the signed content {given[:12]} is not the accepted task book "
                f"{accepted_taskbook(transitions)[:12]}: sign the version the division accepted")
    return None
