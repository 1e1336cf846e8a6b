"""The contract's signatures as the audit proves them: each a record of the accepted task book's hash by an
authenticated identity, in the order the signatories are due (PI, CTO where enterprise-led, unit, recommender)."""

from __future__ import annotations

from collections.abc import Iterable

from audit.findings import Finding
from audit.life import ApplicationLife
from models.lifecycle_stages import SIGNATORIES


def due_signatories(flags: dict[str, bool]) -> list[str]:
    """The roles that sign this application's task book, in order."""
    return [role for role, flag in SIGNATORIES if flag is None or flags.get(flag, False)]


def signature_rules(app: ApplicationLife) -> Iterable[Finding]:
    """Every signature is on the task book the division accepted, by the identity it names, in its turn; a contract
    is received only with every signature due."""
    w = app.workflow_id
    due = due_signatories(dict(app.inp.flags))
    submitted = accepted = ""
    signed: list[str] = []
    for p in app.transitions:
        t = p.record
        what = f"#{t.seq} {t.trigger} by {t.role} {t.actor_id}"
        if t.trigger == "submit_taskbook":
            submitted, accepted, signed = t.data.get("content_sha256", ""), "", []
        elif t.trigger == "return_taskbook":
            submitted = ""
        elif t.trigger == "accept_taskbook":
            accepted, signed = submitted, []
            if not accepted:
                yield Finding("signature.content", w, p.event_id, f"{what}: no task book with a content hash was "
                                                                  "submitted", p.run_id)
        elif t.trigger == "sign":
            given = t.data.get("content_sha256", "")
            if not accepted or given != accepted:
                yield Finding("signature.content", w, p.event_id, f"{what}: signed content {given[:12] or '-'}, the "
                                                                  f"accepted task book is {accepted[:12] or 'none'}",
                              p.run_id)
            if p.identity is None or p.identity.subject != t.actor_id:
                yield Finding("signature.identity", w, p.event_id, f"{what}: the signature carries no authenticated "
                                                                   f"identity of {t.actor_id}", p.run_id)
            expected = due[len(signed)] if len(signed) < len(due) else None
            if t.role != expected:
                yield Finding("signature.order", w, p.event_id, f"{what}: the {expected or 'nobody'} signs next "
                                                                f"(order: {', '.join(due)})", p.run_id)
            signed.append(t.role)
        elif t.trigger == "receive_contract" and set(due) - set(signed):
            missing = ", ".join(r for r in due if r not in signed)
            yield Finding("signature.missing", w, p.event_id, f"{what}: received without the signature of {missing}",
                          p.run_id)
