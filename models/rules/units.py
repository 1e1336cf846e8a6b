"""Rule kinds about units: registration, kind, partners, team share, credit, the enterprise lead and its CTO."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from models.facts import Facts, Province, UnitFacts, UnitKind, add_years
from models.rules.base import Finding, NoParams, Params, failed, passed, review, rule


def registered(facts: Facts, ids: list[str]) -> dict[str, UnitFacts] | Finding:
    """The units by id, or a review finding naming those the registry does not know."""
    found = {u: x for u in ids if (x := facts.unit(u)) is not None}
    missing = [u for u in ids if u not in found]
    return review(f"not in the registry: {', '.join(missing)}", missing=", ".join(missing)) if missing else found


class UnitRegistration(Params):
    province: Province | None = None
    registered_on_or_before: date | None = None
    legal_entity: bool = True
    partners_legal_entity: bool = False
    outside_province: Literal["fail", "review"] = "fail"


@rule("unit_registration", UnitRegistration)
def unit_registration(p: UnitRegistration, facts: Facts) -> Finding:
    """The applicant unit is a legal entity registered in the province (by a date); partners too where stated.

    000「项目申请单位应当是在山西省内依法注册，具有独立法人资格的高等院校、科研机构、企业以及其他具有基础研究能力的创新载体。」
    001「项目申报单位须为山西省行政区域内注册、具有独立法人资格的企事业单位（包括中央驻晋企事业单位）, 注册时间为2023年1月1日（含）前」
    002「依托单位要求具有独立法人资格」「第一依托单位须在山西注册」 Hosts are legal entities; the first is registered in Shanxi.
    003「申报单位为在我省境内注册，具有独立法人资格且无不良信用记录的企事业单位。」
    004「申报单位应为独立法人单位。」「牵头申报单位原则上应为广西壮族自治区内注册的单位」 A lead outside may qualify (8.): a person decides.
    """
    units = registered(facts, facts.form.applicant_units if p.partners_legal_entity else [facts.form.unit_id])
    if isinstance(units, Finding):
        return units
    unit = units[facts.form.unit_id]
    evidence = {"province": unit.province, "registered_on": str(unit.registered_on),
                "legal_entity": str(unit.legal_entity)}
    not_entities = [u for u, x in units.items() if not x.legal_entity] if p.legal_entity else []
    if not_entities:
        return Finding("fail", f"not an independent legal entity: {', '.join(not_entities)}", evidence)
    if p.registered_on_or_before and unit.registered_on > p.registered_on_or_before:
        return Finding("fail", f"registered {unit.registered_on}, after {p.registered_on_or_before}", evidence)
    if p.province and unit.province != p.province:
        return Finding(p.outside_province, f"registered in {unit.province}, not {p.province}", evidence)
    return Finding("pass", f"{unit.name}: registered {unit.registered_on} in {unit.province}, legal entity", evidence)


class UnitKindExcluded(Params):
    kinds: list[UnitKind] = Field(min_length=1)
    partners: bool = True


@rule("unit_kind_excluded", UnitKindExcluded)
def unit_kind_excluded(p: UnitKindExcluded, facts: Facts) -> Finding:
    """No applicant unit (partners included where stated) is of an excluded kind.

    004「各级国家机关不得作为申报单位。」 State organs may not apply.
    003「申报单位为在我省境内注册，具有独立法人资格且无不良信用记录的企事业单位。」 Enterprises and institutions only.
    001「项目申报单位须为山西省行政区域内注册、具有独立法人资格的企事业单位（包括中央驻晋企事业单位）」
    """
    units = registered(facts, facts.form.applicant_units if p.partners else [facts.form.unit_id])
    if isinstance(units, Finding):
        return units
    evidence: dict[str, str] = {u: x.kind for u, x in units.items()}
    bad = [f"{u} ({k})" for u, k in evidence.items() if k in p.kinds]
    if bad:
        return Finding("fail", f"excluded kind: {', '.join(bad)}", evidence)
    return Finding("pass", "no applicant unit is a " + " or ".join(k.replace("_", " ") for k in p.kinds), evidence)


class PartnerLimits(Params):
    max_partners: int | None = Field(default=None, ge=0)
    min_staff: int | None = Field(default=None, ge=1)
    members_units_count: bool = False

    @model_validator(mode="after")
    def _some(self) -> PartnerLimits:
        if self.max_partners is None and self.min_staff is None:
            raise ValueError("give max_partners, min_staff or both")
        return self


@rule("partner_limits", PartnerLimits)
def partner_limits(p: PartnerLimits, facts: Facts) -> Finding:
    """At most `max_partners` partner units; each with at least `min_staff` staff on the project.

    000「项目申请单位只能通过一个组织单位进行申报，项目合作研究单位一般不超过2个。」「项目组成员与项目申请人不是同一单位的，其所在单位视为合作研究单位。」
    004「联合申报单位不超过3个（指南中有其他申报要求的除外），每个联合申报单位均有相应的专业团队（具有相应研究基础的单位在职人员2人以上）实际参与到项目中。」
    002「原则上不超过3家单位」「其他依托单位固定人员每家不少于5人」 At most 3 hosts; each other host has 5 fixed staff.
    """
    form = facts.form
    partners = [x.unit_id for x in form.partners]
    if p.members_units_count:
        partners += sorted({m.unit_id for m in form.team} - {form.unit_id, *partners})
    evidence = {"partners": ", ".join(f"{x.unit_id} ({x.staff} staff)" for x in form.partners) or "none",
                "counted": str(len(partners))}
    if p.max_partners is not None and len(partners) > p.max_partners:
        return Finding("fail", f"{len(partners)} partner units, over {p.max_partners}", evidence)
    small = [f"{x.unit_id} ({x.staff})" for x in form.partners if p.min_staff is not None and x.staff < p.min_staff]
    if small:
        return Finding("fail", f"fewer than {p.min_staff} staff: {', '.join(small)}", evidence)
    limits = [f"at most {p.max_partners}" if p.max_partners is not None else "",
              f"each with {p.min_staff}+ staff" if p.min_staff is not None else ""]
    return Finding("pass", f"{len(partners)} partner units, " + ", ".join(x for x in limits if x), evidence)


class TeamShare(Params):
    min_percent: int = Field(ge=1, le=100)


@rule("team_share", TeamShare)
def team_share(p: TeamShare, facts: Facts) -> Finding:
    """At least `min_percent` of the team (PI included) work for the applicant units.

    004「项目组成员中属于项目申报单位的在职人员所占比例应达到90%以上。」 At least 90% from the applicant units.
    """
    form = facts.form
    units = set(form.applicant_units)
    inside = 1 + sum(m.unit_id in units for m in form.team)
    total = 1 + len(form.team)
    outside = [f"{m.person_id} ({m.unit_id})" for m in form.team if m.unit_id not in units]
    evidence = {"inside": str(inside), "team": str(total), "outside": ", ".join(outside) or "none"}
    share = f"{inside}/{total} = {inside * 100 / total:.1f}%"
    if inside * 100 >= p.min_percent * total:
        return Finding("pass", f"{share} from the applicant units, at least {p.min_percent}%", evidence)
    return Finding("fail", f"{share} from the applicant units, below {p.min_percent}%", evidence)


class PartnerOutsideProvince(Params):
    province: Province


@rule("partner_outside_province", PartnerOutsideProvince)
def partner_outside_province(p: PartnerOutsideProvince, facts: Facts) -> Finding:
    """The main (first listed) partner is registered outside the province.

    001「区域合作项目的主要合作单位注册地须在山西省外。」 The main partner of a regional project is outside Shanxi.
    """
    if not facts.form.partners:
        return failed("no partner unit is named")
    main = facts.form.partners[0].unit_id
    unit = facts.unit(main)
    if unit is None:
        return review(f"the main partner {main} is not in the registry", partner=main)
    where = f"the main partner {unit.name} is registered in {unit.province}"
    if unit.province == p.province:
        return failed(where, partner=main, province=unit.province)
    return passed(where, partner=main, province=unit.province)


class NotBlacklisted(Params):
    who: list[Literal["unit", "partners", "pi", "team"]] = Field(min_length=1)


@rule("not_blacklisted", NotBlacklisted)
def not_blacklisted(p: NotBlacklisted, facts: Facts) -> Finding:
    """No one named is under a credit or integrity sanction on the submission day (`blacklisted_until` inclusive).

    000「项目申请单位、合作研究单位应当具备良好的诚信状况，无在惩戒执行期内的科研严重失信行为记录和相关社会领域信用“黑名单”记录。」
    001「项目申报单位、项目负责人和参与人员信誉良好，无在惩戒执行期内的科研严重失信行为记录和相关社会领域信用“黑名单”记录。」
    001「因不良信用记录正在接受处罚的个人，不得申报或参与申报本年度计划项目。」
    002「不存在重大安全、重大质量、严重环境问题或违法失信情况。」
    003「具有独立法人资格且无不良信用记录的企事业单位」
    004「历年承担项目（课题）信用不良，被取消项目（课题）申报资格，取消资格期限未满的单位不得申报。」「被各级部门认定为学术不端行为责任人。」
    """
    form, reg = facts.form, facts.registry
    until: dict[str, date | None] = {}
    if "unit" in p.who:
        until[form.unit_id] = u.blacklisted_until if (u := facts.unit(form.unit_id)) else None
    if "partners" in p.who:
        until |= {x.unit_id: u.blacklisted_until if (u := facts.unit(x.unit_id)) else None for x in form.partners}
    if "pi" in p.who:
        until[form.pi_id] = reg.pi.blacklisted_until if reg.pi else None
    if "team" in p.who:
        until |= {m.person_id: x.blacklisted_until if (x := reg.people.get(m.person_id)) else None for m in form.team}
    sanctioned = {k: v for k, v in until.items() if v is not None and facts.day <= v}
    if sanctioned:
        return failed("under sanction: " + ", ".join(f"{k} until {v}" for k, v in sanctioned.items()),
                      **{k: f"until {v}" for k, v in sanctioned.items()})
    return passed(f"no sanction in force for {len(until)} checked ({', '.join(p.who)})")


@rule("enterprise_led_flag", NoParams)
def enterprise_led_flag(p: NoParams, facts: Facts) -> Finding:
    """The enterprise_led flag (which routes the application to the CTO) matches the lead unit's kind.

    004「企业牵头申报的，应先经首席技术官审核后才到申报单位管理员审核」 Enterprise-led: the CTO reviews first.
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    is_enterprise = unit.kind == "enterprise"
    evidence = {"unit_kind": unit.kind, "enterprise_led": str(facts.form.enterprise_led)}
    said = f"lead unit is {unit.kind.replace('_', ' ')}, enterprise_led is {facts.form.enterprise_led}"
    return Finding("pass" if is_enterprise == facts.form.enterprise_led else "fail", said, evidence)


@rule("cto_registered", NoParams)
def cto_registered(p: NoParams, facts: Facts) -> Finding:
    """An enterprise lead has a CTO on record, and the application names that CTO to review and sign.

    004「企业牵头申报的项目，牵头企业应在“广西科技管理信息平台”完成首席技术官备案」「申报书须经首席技术官在系统审核签字，否则不予受理。」
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    if unit.cto_id is None:
        return failed(f"{unit.name} has no CTO on record (首席技术官备案)", unit=unit.id)
    if facts.form.cto_id != unit.cto_id:
        return failed(f"the application names CTO {facts.form.cto_id}, the unit's CTO on record is {unit.cto_id}",
                      named=facts.form.cto_id, on_record=unit.cto_id)
    return passed(f"CTO {unit.cto_id} on record and named", cto=unit.cto_id)


class UnitStatus(Params):
    any_of: list[str] = Field(min_length=1)
    categories_exempt: list[str] = Field(default_factory=list)


@rule("unit_status", UnitStatus)
def unit_status(p: UnitStatus, facts: Facts) -> Finding:
    """The applicant unit holds one of the listed statuses on record: high_tech, gazelle, sme:<year rated>,
    top100:<list>, ... (a category in `categories_exempt` needs none).

    FIELD_NOTES「Eligibility that differs by category」 e.g. only high-tech enterprises, "gazelle" enterprises, SMEs
    rated in a given year or units on a listed top-100 may apply.
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    held = [*unit.statuses, *(["high_tech"] if unit.high_tech else [])]
    evidence = {"statuses": ", ".join(held) or "none", "wanted": ", ".join(p.any_of)}
    if facts.form.category in p.categories_exempt:
        return Finding("pass", f"category {facts.form.category} needs no listed status", evidence)
    found = [s for s in p.any_of if s in held]
    if found:
        return Finding("pass", f"{unit.name} is listed: {found[0]}", evidence)
    return Finding("fail", f"{unit.name} holds none of {', '.join(p.any_of)}", evidence)


class UnitKindForCategories(Params):
    kinds: list[UnitKind] = Field(min_length=1)
    categories: list[str] = Field(min_length=1)


@rule("unit_kind_for_categories", UnitKindForCategories)
def unit_kind_for_categories(p: UnitKindForCategories, facts: Facts) -> Finding:
    """An applicant unit of the listed kinds applies only in the listed categories.

    FIELD_NOTES「Several categories or applicant cohorts in one call」 e.g. social organisations may apply for
    soft science and popularisation only.
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    evidence = {"kind": unit.kind, "category": facts.form.category}
    if unit.kind not in p.kinds or facts.form.category in p.categories:
        return Finding("pass", f"a {unit.kind.replace('_', ' ')} unit in category {facts.form.category}", evidence)
    return Finding("fail", f"a {unit.kind.replace('_', ' ')} unit may apply only in {', '.join(p.categories)}",
                   evidence)


class RdRegistration(Params):
    year: int = Field(ge=2000)
    enterprises_older_than_years: int = Field(default=1, ge=0)


@rule("rd_registration", RdRegistration)
def rd_registration(p: RdRegistration, facts: Facts) -> Finding:
    """An enterprise registered at least `enterprises_older_than_years` before the submission day has filed its
    R&D activity registration for `year`.

    004「申报单位为企业且已注册一年及以上的，在申报前须先在广西科技管理信息平台填报企业在税务部门备案的上一年度研发投入数据以及企业创新发展计划等情况」
    """
    unit = facts.lead_unit
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    evidence = {"kind": unit.kind, "registered_on": str(unit.registered_on),
                "rd_registered_years": ", ".join(map(str, unit.rd_registered_years)) or "none"}
    if unit.kind != "enterprise" or unit.registered_on > add_years(facts.day, -p.enterprises_older_than_years):
        return Finding("pass", "not an enterprise registered long enough to owe the registration", evidence)
    if p.year in unit.rd_registered_years:
        return Finding("pass", f"R&D activity registration for {p.year} filed", evidence)
    return Finding("fail", f"no R&D activity registration for {p.year} (研发活动登记)", evidence)
