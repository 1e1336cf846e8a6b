"""Where a call's eligibility rules are checked: at formal review (the default) or at the recommender's step
(`at: recommendation`, 不予推荐); a rule with no place in the call to run it is a problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.rules import FORMAL, RECOMMENDATION

if TYPE_CHECKING:
    from models.call.schema import CallDefinition, StepDef


def recommender_steps(call: CallDefinition) -> list[StepDef]:
    """The recommender's steps of the chain: where rules `at: recommendation` are checked."""
    return [s for s in call.chain if s.role == "recommender"]


def rule_problems(call: CallDefinition) -> list[str]:
    """Rule ids unique, their flags and categories known, and each checked where the call has a place for it."""
    ids = [r.id for r in call.rules]
    problems = [f"rules: duplicate rule id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    flags = {f.id for f in call.flags}
    category_ids = {c.id for c in call.categories}
    for r in call.rules:
        if r.when and r.when not in flags:
            problems.append(f"rules.{r.id}.when: unknown flag {r.when!r} (declare it under flags)")
        problems += [f"rules.{r.id}.categories: unknown category {c!r}" for c in r.categories if c not in category_ids]
        if r.at == RECOMMENDATION and not recommender_steps(call):
            problems.append(f"rules.{r.id}.at: recommendation, but the chain has no recommender's step to check it at "
                            f"(a step with role: recommender; steps: {', '.join(s.id for s in call.chain)})")
    formal = [r.id for r in call.rules if r.at == FORMAL]
    if formal and not any(p.kind == "formal_review" for p in call.phases):
        problems.append(f"rules: {', '.join(formal)} would be checked at formal review, but the call has no "
                        f"formal_review phase: add one, or check them at the recommender's step (at: recommendation)")
    return problems
