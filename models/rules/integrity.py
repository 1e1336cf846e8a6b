"""Rule kinds about duplicate and multiple submissions, flagged for a person to judge."""

from __future__ import annotations

from pydantic import Field

from models.duplicates import Thresholds, find_duplicates
from models.facts import Facts
from models.rules.base import Finding, Params, passed, review, rule


class NoDuplicate(Params):
    title_threshold: float = Field(default=90, gt=0, le=100)
    abstract_threshold: float = Field(default=85, gt=0, le=100)
    related_threshold: float = Field(default=80, gt=0, le=100)


@rule("no_duplicate", NoDuplicate)
def no_duplicate(p: NoDuplicate, facts: Facts) -> Finding:
    """No near-identical title or abstract among other applications and projects (any call, any year); for the
    same PI or unit a looser title similarity is flagged. Hits go to a person: similarity is a suspicion, not proof.

    000「同一单位及关联单位不得将内容相同或相近的研究内容同时申报不同的省级科技计划项目。」
    001「已获得其他财政支持的项目、同一单位研究内容相同或相近的项目不得重复、多头申报。」
    002「同一科研人员、同一成果、同一仪器设备、同一实验场所等科技资源不得多头申请、重复申请。」
    004「广西壮族自治区科学技术厅将随时对申报受理的项目进行查重，存在重复申报嫌疑的，一经核实将取消项目立项资助资格，追回已拨付财政科技经费，并将申报单位和项目负责人纳入科研诚信档案。」
    """
    form = facts.form
    others = [w for w in facts.registry.prior_work if w.ref != form.application_id]
    hits = find_duplicates(form.title, form.abstract, form.pi_id, form.unit_id, others,
                           Thresholds(p.title_threshold, p.abstract_threshold, p.related_threshold))
    if not hits:
        return passed(f"no similar title or abstract among {len(others)} applications and projects",
                      compared=len(others))
    return review(f"{len(hits)} similar: {hits[0].describe()}", **{f"hit_{i + 1}": h.describe()
                                                                    for i, h in enumerate(hits[:10])})
