"""What a sampled form chooses from the guide (a topic, the goals it commits to), and where a profile errs."""

from __future__ import annotations

from typing import Any

from models.call import CallDefinition
from models.rules.guide import AgreementInForce, MinGoals, TopicInGuide


def guide_choices(call: CallDefinition, category: str, i: int, profile: str) -> dict[str, Any]:
    """The form's topic and goals, drawn in turn (no randomness, so other draws stay as they were): a topic of the
    guide for the category ("off_topic": one outside it), and from the minimum to all goals ("few_goals": one short)."""
    out: dict[str, Any] = {}
    for r in call.rules:
        if r.kind == "topic_in_guide":
            topics = TopicInGuide.model_validate(r.params).by_category.get(category) or ["0"]
            out["topic"] = "99" if profile == "off_topic" else topics[i % len(topics)]
        if r.kind == "min_goals":
            goals = MinGoals.model_validate(r.params)
            count = goals.min - 1 if profile == "few_goals" else goals.min + i % (len(goals.goals) - goals.min + 1)
            out["goals"] = goals.goals[:count]
    return out


def agreements(call: CallDefinition) -> set[str]:
    """The attachment kinds the call's agreement_in_force rules look at."""
    return {AgreementInForce.model_validate(r.params).attachment for r in call.rules if r.kind == "agreement_in_force"}
