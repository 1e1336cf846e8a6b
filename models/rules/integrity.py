"""Rule kinds about integrity: duplicate submissions (flagged for a person), restriction periods, real names."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from models.duplicates import THRESHOLD, PriorWork
from models.facts import Facts
from models.rules.base import Finding, Params, failed, passed, review, rule


class NoDuplicate(Params):
    threshold: float = Field(default=THRESHOLD, gt=0, le=1.5)


@rule("no_duplicate", NoDuplicate)
def no_duplicate(p: NoDuplicate, facts: Facts) -> Finding:
    """No other application or project (any call, any year) scoring as a duplicate: title, abstract and wording
    weighed, raised by the same PI, unit or budget (models/duplicate_index.py). Hits go to a person with their
    reasons: similarity is a suspicion, not proof.

    000「同一单位及关联单位不得将内容相同或相近的研究内容同时申报不同的省级科技计划项目。」
    001「已获得其他财政支持的项目、同一单位研究内容相同或相近的项目不得重复、多头申报。」
    002「同一科研人员、同一成果、同一仪器设备、同一实验场所等科技资源不得多头申请、重复申请。」
    004「广西壮族自治区科学技术厅将随时对申报受理的项目进行查重，存在重复申报嫌疑的，一经核实将取消项目立项资助资格，追回已拨付财政科技经费，并将申报单位和项目负责人纳入科研诚信档案。」
    """
    from models.duplicate_index import index_for  # numpy loads when a duplicate check runs, not with the rules

    form = facts.form
    corpus = facts.registry.prior_work
    query = PriorWork(form.application_id, form.call_id, None, form.pi_id, form.unit_id, form.title, form.abstract,
                      form.requested_cny or None)
    hits = index_for(corpus).check(query, p.threshold)
    compared = sum(w.ref != form.application_id for w in corpus)
    if not hits:
        return passed(f"no duplicate among {compared} applications and projects", compared=compared)
    return review(f"{len(hits)} suspected: {hits[0].describe()}", **{f"hit_{i + 1}": h.describe()
                                                                    for i, h in enumerate(hits[:10])})


class NotRestricted(Params):
    who: list[Literal["unit", "partners", "pi", "team"]] = Field(min_length=1)


@rule("not_restricted", NotRestricted)
def not_restricted(p: NotRestricted, facts: Facts) -> Finding:
    """No one named is barred from applying on the submission day (`restricted_until` inclusive).

    004「历年承担项目（课题）信用不良，被取消项目（课题）申报资格，取消资格期限未满的单位不得申报。」
    """
    form, reg = facts.form, facts.registry
    until: dict[str, date | None] = {}
    if "unit" in p.who:
        until[form.unit_id] = u.restricted_until if (u := facts.unit(form.unit_id)) else None
    if "partners" in p.who:
        until |= {x.unit_id: u.restricted_until if (u := facts.unit(x.unit_id)) else None for x in form.partners}
    if "pi" in p.who:
        until[form.pi_id] = reg.pi.restricted_until if reg.pi else None
    if "team" in p.who:
        until |= {m.person_id: x.restricted_until if (x := reg.people.get(m.person_id)) else None for m in form.team}
    barred = {k: v for k, v in until.items() if v is not None and facts.day <= v}
    if barred:
        return failed("barred from applying: " + ", ".join(f"{k} until {v}" for k, v in barred.items()),
                      **{k: f"until {v}" for k, v in barred.items()})
    return passed(f"no restriction in force for {len(until)} checked ({', '.join(p.who)})")


class IdentityVerified(Params):
    who: list[Literal["pi", "team", "cto"]] = Field(min_length=1)


@rule("identity_verified", IdentityVerified)
def identity_verified(p: IdentityVerified, facts: Facts) -> Finding:
    """Everyone named has completed real-name authentication; a person the registry does not know needs a person.

    004「特别说明：项目负责人、首席技术官、单位管理员、推荐单位须在系统完成实名认证，并提前通过系统制作电子签章，以备项目申报通过专业机构审核后可及时快速完成签章步骤。」
    """
    form, reg = facts.form, facts.registry
    ids = [form.pi_id] if "pi" in p.who else []
    ids += [m.person_id for m in form.team] if "team" in p.who else []
    ids += [form.cto_id] if "cto" in p.who and form.cto_id else []
    people = {form.pi_id: reg.pi, **reg.people} if reg.pi else dict(reg.people)
    unknown = [i for i in ids if people.get(i) is None]
    unverified = [i for i in ids if (x := people.get(i)) is not None and not x.identity_verified]
    if unverified:
        return failed(f"no real-name authentication: {', '.join(unverified)}", unverified=", ".join(unverified))
    if unknown:
        return review(f"not in the registry: {', '.join(unknown)}", unknown=", ".join(unknown))
    return passed(f"real-name authentication done for {len(ids)} ({', '.join(p.who)})")
