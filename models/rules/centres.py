"""Rule kinds for innovation centres (002): capacity thresholds, the first host's share and qualification."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from models.facts import Facts
from models.rules.base import Finding, NoParams, Params, failed, review, rule

Measure = Literal["fixed_staff", "floor_area_m2", "equipment_cny", "rd_spend_3y_cny"]


class CentreMinimum(Params):
    measure: Measure
    minimum: int = Field(ge=1)
    below: Literal["fail", "review"] = "fail"


@rule("centre_minimum", CentreMinimum)
def centre_minimum(p: CentreMinimum, facts: Facts) -> Finding:
    """A declared capacity figure of the centre is at least `minimum`.

    002「人才队伍年龄结构合理、专业布局优化、评价激励有力，固定人员不少于50人。」 At least 50 fixed staff.
    002「研发场地面积不少于2000平方米；科研仪器设备原值不少于2000万元，并能统一管理，开放共享；近3年研发总投入不少于2000万元。」
    At least 2,000 m2, equipment worth 20M CNY, R&D spend of 20M CNY over three years.
    002「不能完全满足建设要求，但在某领域创新优势突出或发展急需的平台，也可申报，择优列为省创中心筹建对象予以培育。」 Below: reviewers decide.
    """
    centre = facts.form.centre
    if centre is None:
        return failed("the form gives no centre figures")
    value = getattr(centre, p.measure)
    evidence = {p.measure: str(value), "minimum": str(p.minimum)}
    if value >= p.minimum:
        return Finding("pass", f"{p.measure} {value}, at least {p.minimum}", evidence)
    return Finding(p.below, f"{p.measure} {value}, below {p.minimum}", evidence)


class LeadShare(Params):
    min_percent: int = Field(ge=1, le=100)


@rule("lead_share", LeadShare)
def lead_share(p: LeadShare, facts: Facts) -> Finding:
    """The first host's fixed staff (total less the other hosts') are at least `min_percent` of the centre's.

    002「其研发人员、科研条件、研发成果等应占所申请省创中心总量的50%以上。」 The first host has 50% or more.
    """
    centre = facts.form.centre
    if centre is None or centre.fixed_staff == 0:
        return failed("the form gives no centre staff")
    own = centre.fixed_staff - sum(x.staff for x in facts.form.partners)
    evidence = {"first_host_staff": str(own), "fixed_staff": str(centre.fixed_staff)}
    share = f"{own}/{centre.fixed_staff}"
    if own * 100 >= p.min_percent * centre.fixed_staff:
        return Finding("pass", f"first host has {share} of the staff, at least {p.min_percent}%", evidence)
    return Finding("fail", f"first host has {share} of the staff, below {p.min_percent}%", evidence)


@rule("centre_first_host", NoParams)
def centre_first_host(p: NoParams, facts: Facts) -> Finding:
    """An enterprise first host is high-tech or has an R&D institution and builds with a university; any other
    first host has a key discipline or doctoral programme and builds with an enterprise.

    002「第一依托单位为企业的，须为高新技术企业或建有专门研发机构的规模以上企业，须有高校共建；第一依托单位为非企业的，须拥有省级以上重点学科（临床重点专科）或博士学位授予点，须有企业共建。」
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the first host {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    partners = [facts.unit(x.unit_id) for x in facts.form.partners]
    if any(u is None for u in partners):
        return review("a host unit is not in the registry")
    kinds = {u.kind for u in partners if u is not None}
    enterprise = unit.kind == "enterprise"
    qualified = (unit.high_tech or unit.rd_institution) if enterprise else unit.key_discipline
    claimed = facts.form.claims.rd_institution if enterprise else facts.form.claims.key_discipline
    partner_kind = "university" if enterprise else "enterprise"
    evidence = {"kind": unit.kind, "high_tech": str(unit.high_tech), "rd_institution": str(unit.rd_institution),
                "key_discipline": str(unit.key_discipline), "co_builders": ", ".join(sorted(kinds)) or "none"}
    if partner_kind not in kinds:
        return Finding("fail", f"a {unit.kind.replace('_', ' ')} first host needs a {partner_kind} among the hosts",
                       evidence)
    if qualified:
        return Finding("pass", f"qualified {unit.kind.replace('_', ' ')} first host, co-built with a {partner_kind}",
                       evidence)
    if claimed:
        return Finding("review", "the qualification is claimed, not in the registry", evidence)
    need = "high-tech or an R&D institution" if enterprise else "a key discipline or a doctoral programme"
    return Finding("fail", f"the first host has neither {need}", evidence)
