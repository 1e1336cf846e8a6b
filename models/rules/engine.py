"""Evaluate a call's rules and attachments on one application's facts: one verdict per rule id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from models.facts import Facts
from models.rules.attachments import check_attachment
from models.rules.base import KINDS, Finding, Verdict
from models.rules.definitions import FORMAL, RECOMMENDATION, AttachmentDef, RuleDef


class CallDefinition(Protocol):
    """What evaluating a call's formal review reads of its definition (models.call.CallDefinition)."""

    @property
    def rules(self) -> Sequence[RuleDef]: ...

    @property
    def attachments(self) -> Sequence[AttachmentDef]: ...

ATTACHMENT_PREFIX = "attachment."
CHECKED_AT = "checked_at"  # evidence of a verdict given at the recommender's step (value: recommendation)


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
    evidence = {**found.evidence, CHECKED_AT: RECOMMENDATION} if r.at == RECOMMENDATION else found.evidence
    return Verdict(r.id, r.kind, found.outcome, found.reason, evidence, r.seed)


def evaluate_attachment(a: AttachmentDef, facts: Facts) -> Verdict:
    found = check_attachment(a, facts)
    return Verdict(ATTACHMENT_PREFIX + a.kind, "attachment", found.outcome, found.reason, found.evidence,
                   a.seed or a.name)


def evaluate(call: CallDefinition, facts: Facts, at: str | None = None) -> list[Verdict]:
    """Every rule of the call checked `at` (formal_review, recommendation; None: every rule), then at formal review
    every attachment kind, in file order (COLLECT: all verdicts, not the first)."""
    rules = [evaluate_rule(r, facts) for r in call.rules if at is None or r.at == at]
    return rules + ([evaluate_attachment(a, facts) for a in call.attachments] if at != RECOMMENDATION else [])


def rule_ids(call: CallDefinition, at: str | None = None) -> list[str]:
    """The ids `evaluate` gives verdicts for, in the same order (for reports that list every rule, zero included)."""
    return ([r.id for r in call.rules if at is None or r.at == at]
            + ([ATTACHMENT_PREFIX + a.kind for a in call.attachments] if at != RECOMMENDATION else []))


def at_recommendation(v: Verdict) -> bool:
    """A verdict given at the recommender's step (not at formal review)."""
    return v.evidence.get(CHECKED_AT) == RECOMMENDATION


def recommendation_refusal(verdicts: Sequence[Verdict], application_id: str) -> str | None:
    """Why the recommender may not recommend: a rule checked at its step fails (不予推荐). A verdict that needs a
    person does not refuse: the recommender is that person."""
    failing = [v for v in verdicts if at_recommendation(v) and v.outcome == "fail"]
    if not failing:
        return None
    first, others = failing[0], ", ".join(v.rule_id for v in failing[1:])
    return (f"application {application_id} may not be recommended: rule {first.rule_id} fails ({first.reason}): "
            f"{first.seed}" + (f" (also failing: {others})" if others else ""))


def failure_reasons(verdicts: list[Verdict]) -> list[str]:
    """One line per rule failed at formal review, for the formal_failed transition's reason."""
    return [f"{v.rule_id}: {v.reason}" for v in verdicts if v.outcome == "fail" and not at_recommendation(v)]


def waiting_for_person(verdicts: Sequence[Verdict]) -> list[str]:
    """The rules of formal review whose verdict waits for a person's decision (the recommender judged its own)."""
    return [v.rule_id for v in verdicts if v.outcome == "review" and not at_recommendation(v)]


def _failures(call: CallDefinition, verdict_lists: Iterable[list[Verdict]], at: str) -> dict[str, int]:
    counts = dict.fromkeys(rule_ids(call, at), 0)
    for verdicts in verdict_lists:
        for v in verdicts:
            if v.outcome == "fail" and at_recommendation(v) == (at == RECOMMENDATION):
                counts[v.rule_id] += 1
    return counts


def formal_failures(call: CallDefinition, verdict_lists: Iterable[list[Verdict]]) -> dict[str, int]:
    """Rule id -> applications that failed it at formal review, every formal rule id of the call (zero included)."""
    return _failures(call, verdict_lists, FORMAL)


def recommendation_failures(call: CallDefinition, verdict_lists: Iterable[list[Verdict]]) -> dict[str, int]:
    """Rule id -> applications that failed it at the recommender's step (不予推荐), every such rule (zero included)."""
    return _failures(call, verdict_lists, RECOMMENDATION)


def needs_person(call: CallDefinition, verdict_lists: Iterable[list[Verdict]]) -> dict[str, int]:
    """Rule id -> applications whose verdict on it was for a person to decide ("review"), zero included: still
    waiting, or decided since (the overridden verdict was "review")."""
    counts = dict.fromkeys(rule_ids(call), 0)
    for verdicts in verdict_lists:
        for v in verdicts:
            if v.outcome == "review" or v.evidence.get("overridden", "").startswith("review:"):
                counts[v.rule_id] += 1
    return counts
