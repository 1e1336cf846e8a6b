"""Evaluate a call's rules and attachments on one application's facts: one verdict per rule id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from models.facts import Facts
from models.rules.attachments import check_attachment
from models.rules.base import KINDS, Finding, Outcome, Verdict
from models.rules.definitions import AttachmentDef, RuleDef


class CallDefinition(Protocol):
    """What evaluating a call's formal review reads of its definition (models.call.CallDefinition)."""

    @property
    def rules(self) -> Sequence[RuleDef]: ...

    @property
    def attachments(self) -> Sequence[AttachmentDef]: ...

ATTACHMENT_PREFIX = "attachment."


def applicability(r: RuleDef, facts: Facts) -> str | None:
    """Why the rule does not apply to this application (category, flag), or None when it does."""
    if r.categories and facts.form.category not in r.categories:
        return f"not applicable: category {facts.form.category} (rule is for {', '.join(r.categories)})"
    if r.when is not None and not facts.form.flags.get(r.when, False):
        return f"not applicable: flag {r.when} not set"
    return None


def evaluate_rule(r: RuleDef, facts: Facts) -> Verdict:
    skip = applicability(r, facts)
    found = Finding("pass", skip) if skip else KINDS[r.kind].run(r.params, facts)
    return Verdict(r.id, r.kind, found.outcome, found.reason, found.evidence, r.seed)


def evaluate_attachment(a: AttachmentDef, facts: Facts) -> Verdict:
    found = check_attachment(a, facts)
    return Verdict(ATTACHMENT_PREFIX + a.kind, "attachment", found.outcome, found.reason, found.evidence,
                   a.seed or a.name)


def evaluate(call: CallDefinition, facts: Facts) -> list[Verdict]:
    """Every rule of the call, then every attachment kind, in file order (COLLECT: all verdicts, not the first)."""
    return [evaluate_rule(r, facts) for r in call.rules] + [evaluate_attachment(a, facts) for a in call.attachments]


def rule_ids(call: CallDefinition) -> list[str]:
    """The ids `evaluate` gives verdicts for, in the same order (for reports that list every rule, zero included)."""
    return [r.id for r in call.rules] + [ATTACHMENT_PREFIX + a.kind for a in call.attachments]


def failure_reasons(verdicts: list[Verdict]) -> list[str]:
    """One line per failed rule, for the formal_failed transition's reason."""
    return [f"{v.rule_id}: {v.reason}" for v in verdicts if v.outcome == "fail"]


def count_outcomes(call: CallDefinition, verdict_lists: Iterable[list[Verdict]], outcome: Outcome) -> dict[str, int]:
    """Rule id -> applications whose verdict on it has `outcome`, every rule id of the call present (zero included)."""
    counts = dict.fromkeys(rule_ids(call), 0)
    for verdicts in verdict_lists:
        for v in verdicts:
            if v.outcome == outcome:
                counts[v.rule_id] += 1
    return counts


def formal_failures(call: CallDefinition, verdict_lists: Iterable[list[Verdict]]) -> dict[str, int]:
    """Rule id -> applications that failed it, every rule id of the call present (zero included)."""
    return count_outcomes(call, verdict_lists, "fail")


def needs_person(call: CallDefinition, verdict_lists: Iterable[list[Verdict]]) -> dict[str, int]:
    """Rule id -> applications whose verdict on it was for a person to decide ("review"), zero included: still
    waiting, or decided since (the overridden verdict was "review")."""
    counts = dict.fromkeys(rule_ids(call), 0)
    for verdicts in verdict_lists:
        for v in verdicts:
            if v.outcome == "review" or v.evidence.get("overridden", "").startswith("review:"):
                counts[v.rule_id] += 1
    return counts
