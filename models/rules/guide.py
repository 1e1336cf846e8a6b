"""Rule kinds about what the guide allows: its topics, the goals a project commits to, agreements in force."""

from __future__ import annotations

from pydantic import Field, model_validator

from models.facts import Facts
from models.rules.base import Finding, Params, rule


class TopicInGuide(Params):
    by_category: dict[str, list[str]] = Field(min_length=1)


@rule("topic_in_guide", TopicInGuide)
def topic_in_guide(p: TopicInGuide, facts: Facts) -> Finding:
    """The application names one of the guide's topics for its category (the guide's numbering).

    000「二、研究内容」 The guide's 12 numbered topics: 1-11 for key projects, 12 for general projects.
    003「一、支持范围」 Each area's numbered directions (an area without numbered directions is open: not listed).
    """
    form = facts.form
    topics = p.by_category.get(form.category)
    evidence = {"topic": form.topic or "none", "category": form.category, "guide": ", ".join(topics or []) or "open"}
    if topics is None:
        return Finding("pass", f"the guide lists no topics for {form.category}", evidence)
    if form.topic is None:
        return Finding("fail", "the form names no topic of the guide", evidence)
    if form.topic in topics:
        return Finding("pass", f"topic {form.topic} is in the guide for {form.category}", evidence)
    return Finding("fail", f"topic {form.topic} is not in the guide for {form.category}", evidence)


class MinGoals(Params):
    goals: list[str] = Field(min_length=1)
    min: int = Field(ge=1)

    @model_validator(mode="after")
    def _reachable(self) -> MinGoals:
        if self.min > len(self.goals):
            raise ValueError(f"min {self.min} is more than the {len(self.goals)} goals listed")
        return self


@rule("min_goals", MinGoals)
def min_goals(p: MinGoals, facts: Facts) -> Finding:
    """The application commits to at least `min` of the listed goals (unknown goal ids do not count).

    001「以上4类合作项目单项支持额度40万元左右，完成后要实现以下至少4项任务目标：」
    """
    chosen = [g for g in dict.fromkeys(facts.form.goals) if g in p.goals]
    evidence = {"goals": ", ".join(chosen) or "none", "unknown": ", ".join(
        g for g in facts.form.goals if g not in p.goals) or "none"}
    if len(chosen) >= p.min:
        return Finding("pass", f"{len(chosen)} of the listed goals, at least {p.min}", evidence)
    return Finding("fail", f"{len(chosen)} of the listed goals, fewer than {p.min}", evidence)


class AgreementInForce(Params):
    attachment: str = Field(min_length=1)


@rule("agreement_in_force", AgreementInForce)
def agreement_in_force(p: AgreementInForce, facts: Facts) -> Finding:
    """An attachment of the given kind is signed on or before the submission day and still valid on it (no end
    date: valid); no such attachment is for the attachment check to report, not this rule.

    001「申报各类项目均须签署合作文件（合作协议书或意向书），国内合作文件须由双方项目负责人签字并加盖单位公章」 Signed before applying.
    003「国际科技合作项目申报单位应已与海外相关机构建立长期稳定的合作关系（包括港澳台地区），合作方有较强的科研实力和人才优势，并签署正在实施的国际科技合作项目协议书」
    """
    files = [x for x in facts.form.attachments if x.kind == p.attachment]
    if not files:
        return Finding("pass", f"no {p.attachment} attached (see attachment.{p.attachment})")
    day = facts.day
    evidence = {x.filename: f"signed {x.document_date}, valid until {x.valid_until or 'open'}" for x in files}
    valid = [x for x in files if x.document_date is not None and x.document_date <= day
             and (x.valid_until is None or x.valid_until >= day)]
    if valid:
        return Finding("pass", f"{valid[0].filename} is in force on {day}", evidence)
    undated = [x.filename for x in files if x.document_date is None]
    if undated:
        return Finding("review", f"undated: {', '.join(undated)}", evidence)
    return Finding("fail", f"no {p.attachment} in force on {day}", evidence)
