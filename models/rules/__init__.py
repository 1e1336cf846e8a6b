"""Formal-review rules as data: rule kinds in code (one small function each), parameters and ids in call files."""

from models.rules import centres, funds, guide, integrity, people, projects, units  # noqa: F401  (register the kinds)
from models.rules.attachments import CONDITIONS, check_attachment, upload_problem
from models.rules.base import KINDS, Finding, Outcome, Params, RuleKind, Verdict
from models.rules.definitions import FORMAL, RECOMMENDATION, AttachmentDef, Condition, RuleDef
from models.rules.engine import (
    ATTACHMENT_PREFIX,
    at_recommendation,
    evaluate,
    evaluate_attachment,
    evaluate_rule,
    failure_reasons,
    formal_failures,
    needs_person,
    recommendation_failures,
    recommendation_refusal,
    rule_ids,
    waiting_for_person,
)
from models.rules.overrides import Override, apply_overrides

__all__ = [
    "ATTACHMENT_PREFIX", "CONDITIONS", "AttachmentDef", "RuleDef", "KINDS", "Condition", "Finding", "Outcome", "Override", "Params", "RuleKind",
    "Verdict", "apply_overrides", "check_attachment", "evaluate", "evaluate_attachment", "evaluate_rule",
    "failure_reasons", "formal_failures", "needs_person", "rule_ids", "upload_problem", "FORMAL", "RECOMMENDATION",
    "at_recommendation", "recommendation_failures", "recommendation_refusal", "waiting_for_person",
]
