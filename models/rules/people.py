"""Rule kinds about the PI as a person: title and degree, age, employment, study, public office, experience."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from models.facts import (
    DEGREES,
    TITLE_LEVELS,
    AdminLevel,
    Degree,
    Facts,
    PersonFacts,
    StudentStatus,
    TitleLevel,
    add_years,
    age_on,
)
from models.rules.base import Finding, NoParams, Params, failed, passed, review, rule

Exception_ = Literal["academician", "listed_talent", "national_project", "foreign_expert"]


def unknown_pi(facts: Facts) -> Finding:
    return review(f"the PI {facts.form.pi_id} is not in the registry", pi=facts.form.pi_id)


class TitleOrDegree(Params):
    min_title: TitleLevel | None = None
    min_degree: Degree | None = None

    @model_validator(mode="after")
    def _some(self) -> TitleOrDegree:
        if self.min_title is None and self.min_degree is None:
            raise ValueError("give min_title, min_degree or both")
        return self


@rule("title_or_degree", TitleOrDegree)
def title_or_degree(p: TitleOrDegree, facts: Facts) -> Finding:
    """The PI holds at least the title, or at least the degree (高级 is 副高 and above).

    000「项目申请人须具有高级专业技术职务（职称）或硕士（含）以上学位。」 A senior title or a master's degree.
    001「具有副高以上技术职称资格（含副高）或博士学位」 Associate-senior title or above, or a PhD.
    002「省创中心主任应在省内本领域处于领军地位，年龄不超过60周岁，具有高级专业技术职称」 The director holds a senior title.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    title_ok = p.min_title is not None and TITLE_LEVELS.index(pi.title) >= TITLE_LEVELS.index(p.min_title)
    degree_ok = p.min_degree is not None and DEGREES.index(pi.degree) >= DEGREES.index(p.min_degree)
    wanted = " or ".join(f"{k} {v}+" for k, v in (("title", p.min_title), ("degree", p.min_degree)) if v)
    if title_ok or degree_ok:
        return passed(f"title {pi.title}, degree {pi.degree} meet {wanted}", title=pi.title, degree=pi.degree)
    return failed(f"title {pi.title}, degree {pi.degree}: {wanted} is required", title=pi.title, degree=pi.degree)


class TitleByUnitLevel(Params):
    by_level: dict[AdminLevel, TitleLevel] = Field(min_length=1)
    below: Literal["fail", "review"] = "review"


@rule("title_by_unit_level", TitleByUnitLevel)
def title_by_unit_level(p: TitleByUnitLevel, facts: Facts) -> Finding:
    """The PI's minimum title depends on the applicant unit's level; 同等能力 (equivalent ability) needs a person.

    003「县、市级企事业单位申报的项目，项目负责人须具有中级以上技术职称（含中级）或同等能力；省级单位申报的项目，项目负责人须具有副高以上技术职称（含副高）或同等能力。」
    County and city units: intermediate title or above; provincial units: associate-senior or above; or equivalent
    ability.
    """
    pi, unit = facts.registry.pi, facts.lead_unit
    if pi is None:
        return unknown_pi(facts)
    if unit is None:
        return review(f"the applicant unit {facts.form.unit_id} is not in the registry", unit=facts.form.unit_id)
    need = p.by_level.get(unit.admin_level)
    if need is None:
        return review(f"the notice states no title for a {unit.admin_level} unit", unit_level=unit.admin_level)
    evidence: dict[str, str] = {"unit_level": unit.admin_level, "title": pi.title, "required": need}
    if TITLE_LEVELS.index(pi.title) >= TITLE_LEVELS.index(need):
        return Finding("pass", f"title {pi.title} meets {need}+ for a {unit.admin_level} unit", evidence)
    return Finding(p.below, f"title {pi.title} is below {need} for a {unit.admin_level} unit "
                   "(equivalent ability is for the reviewers to judge)", evidence)


class Cutoffs(Params):
    cutoff: date
    female_cutoff: date | None = None


class BornOnOrAfter(Cutoffs):
    by_category: dict[str, Cutoffs] = Field(default_factory=dict)
    inclusive: bool = True
    exceptions: list[Exception_] = Field(default_factory=list)


def exempt(pi: PersonFacts, exceptions: list[Exception_]) -> str | None:
    """The listed exemption the registry confirms for the person (院士, foreign expert, listed talent), or None."""
    grounds = {"academician": pi.academician, "foreign_expert": pi.foreign_expert,
               "listed_talent": pi.talent_level is not None}
    return next((e for e in exceptions if grounds.get(e)), None)


@rule("born_on_or_after", BornOnOrAfter)
def born_on_or_after(p: BornOnOrAfter, facts: Facts) -> Finding:
    """The PI's birth date is on or after a cutoff (after it, where `inclusive` is false), which may differ by sex
    (`female_cutoff`) and by category (`by_category`); listed exemptions pass.

    001「项目负责人须为1967年1月1日（含）以后出生。」 The PI must be born on or after 1 January 1967.
    FIELD_NOTES「Eligibility that differs by category or by sex (birth-date limits)」 e.g. men born after 1986-01-01,
    women after 1983-01-01.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    c = p.by_category.get(facts.form.category, p)
    cutoff = c.female_cutoff if c.female_cutoff is not None and pi.sex == "female" else c.cutoff
    evidence = {"birth_date": str(pi.birth_date), "sex": pi.sex or "unknown", "cutoff": str(cutoff),
                "inclusive": str(p.inclusive)}
    if c.female_cutoff not in (None, c.cutoff) and pi.sex is None:
        return Finding("review", "the cutoff differs by sex and the registry does not record the PI's", evidence)
    on = "on or after" if p.inclusive else "after"
    if pi.birth_date > cutoff or (p.inclusive and pi.birth_date == cutoff):
        return Finding("pass", f"born {pi.birth_date}, {on} {cutoff}", evidence)
    exemption = exempt(pi, p.exceptions)
    if exemption is not None:
        return Finding("pass", f"born {pi.birth_date}, not {on} {cutoff}; exempt: {exemption}", evidence)
    return Finding("fail", f"born {pi.birth_date}, not {on} {cutoff}", evidence)


class MaxAge(Params):
    max_years: int = Field(ge=1)
    exceptions: list[Exception_] = Field(default_factory=list)
    national_within_years: int = Field(default=5, ge=1)


def age_exception(pi: PersonFacts, facts: Facts, exceptions: list[Exception_], national_years: int) -> Finding | None:
    """An allowed exception: 院士; or, within retirement age on the submission day (the notice counts to the day the
    system closes, which a manual phase does not know in advance), a listed talent or a recent national PI."""
    claims = facts.form.claims
    if "foreign_expert" in exceptions and pi.foreign_expert:
        return passed("exception: foreign expert (外籍专家)", foreign_expert=True)
    if "academician" in exceptions:
        if pi.academician:
            return passed("exception: academician (院士)", academician=True)
        if claims.academician:
            return review("academician claimed, not confirmed by the registry", academician="claimed")
    if not {"listed_talent", "national_project"} & set(exceptions):
        return None
    if pi.retirement_date is not None and pi.retirement_date <= facts.day:
        return None
    cutoff = add_years(facts.day, -national_years)
    national = [x.project_id for x in facts.registry.projects
                if x.role == "lead" and x.province == "CN" and x.status in ("ongoing", "overdue", "closed")
                and x.closed_or_end >= cutoff]
    grounds = [f"listed talent (class {pi.talent_level})"] if "listed_talent" in exceptions and pi.talent_level else []
    grounds += [f"led national project {national[0]}"] if "national_project" in exceptions and national else []
    if grounds and pi.retirement_date is None:
        return review(f"exception {grounds[0]}, but the registry has no retirement date", retirement_date="unknown")
    if grounds:
        return passed(f"exception: {grounds[0]}, within retirement age", retirement_date=pi.retirement_date)
    if "listed_talent" in exceptions and claims.listed_talent:
        return review("listed talent claimed (未经认定但符合其相应条件), for the reviewers to judge",
                      listed_talent="claimed")
    return None


@rule("max_age", MaxAge)
def max_age(p: MaxAge, facts: Facts) -> Finding:
    """The PI's age in completed years on the submission day (call timezone) is at most `max_years`.

    004「项目负责人应具有较高的学术水平和较强的科研能力，在系统提交项目申报书时年龄不超过57周岁。」 At most 57 at submission.
    004「在桂工作的中国科学院院士、中国工程院院士，在身体条件允许的情况下，支持院士不受年龄和项数等影响，领衔开展重大科研攻关。」 Academicians are exempt.
    004「科研人员超年龄牵头申报广西科技计划项目的，应在国家法定退休年龄内或经自治区有关部门批准同意的延迟退休年龄内（截至项目申报系统关闭日），并须满足以下条件之一：」
    004「属我区认定的A、B、C、D、E类高层次科技人才或未经认定但符合其相应条件的；」「近年5年内曾主持过国家级科技项目；」 Listed talents, recent national PIs.
    002「年龄不超过60周岁」 The centre director is at most 60.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    age = age_on(pi.birth_date, facts.day)
    if age <= p.max_years:
        return passed(f"aged {age} on {facts.day}, at most {p.max_years}", birth_date=pi.birth_date, age=age)
    exception = age_exception(pi, facts, p.exceptions, p.national_within_years)
    if exception is not None:
        return Finding(exception.outcome, f"aged {age} on {facts.day}, over {p.max_years}; {exception.reason}",
                       {"birth_date": str(pi.birth_date), "age": str(age), **exception.evidence})
    return failed(f"aged {age} on {facts.day}, over {p.max_years}", birth_date=pi.birth_date, age=age)


class PiEmployment(Params):
    full_time: bool = False


@rule("pi_employment", PiEmployment)
def pi_employment(p: PiEmployment, facts: Facts) -> Finding:
    """The PI works for the applicant unit (full-time where the notice says so).

    000「项目申请人应为项目申请单位全职科研人员」「项目申请人不得通过兼职单位或挂靠单位申报。」 Full-time at the applicant unit.
    001「项目负责人必须是项目申报单位的在职、在岗或在聘人员」 Employed by the applicant unit.
    003「必须是在职在岗的科研人员或管理人员」 In post.
    002「全职全时在省创中心工作，人事关系须在依托单位。」 The centre director works full-time for the host.
    004「项目负责人原则上是项目申报单位的在职人员（可包括外籍在职人员）。」 Employed by the applicant unit.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    if pi.unit_id != facts.form.unit_id:
        return failed(f"the PI works for {pi.unit_id}, not the applicant unit {facts.form.unit_id}",
                      registry_unit=pi.unit_id, applicant_unit=facts.form.unit_id)
    if p.full_time and not pi.full_time:
        return failed("the PI is not full-time at the applicant unit", full_time=pi.full_time)
    return passed(f"the PI works {'full-time ' if pi.full_time else ''}for {pi.unit_id}", registry_unit=pi.unit_id)


class NotStudent(Params):
    statuses: list[StudentStatus] = Field(min_length=1)


@rule("not_student", NotStudent)
def not_student(p: NotStudent, facts: Facts) -> Finding:
    """The PI is not a student of the excluded kinds.

    000「全日制在读博士研究生不得申报。」 Full-time PhD students may not apply.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    if pi.student_status in p.statuses:
        return failed(f"the PI is a {pi.student_status.replace('_', ' ')} student", student_status=pi.student_status)
    return passed(f"student status {pi.student_status}", student_status=pi.student_status)


@rule("not_civil_servant", NoParams)
def not_civil_servant(p: NoParams, facts: Facts) -> Finding:
    """The PI is not a civil servant.

    004「各级国家机关公务人员（包括行使科技计划管理职能的其他人员）（指南中有其他要求的除外）。」 Civil servants may not be PI.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    if pi.civil_servant:
        return failed("the PI is a civil servant (公务人员)", civil_servant=True)
    return passed("the PI is not a civil servant", civil_servant=False)


class RelatedExperience(Params):
    min_years: int = Field(ge=1)


@rule("related_experience", RelatedExperience)
def related_experience(p: RelatedExperience, facts: Facts) -> Finding:
    """The PI declares at least `min_years` of work related to the project.

    003「并有三年以上与项目相关的工作经历」 At least three years of related work.
    """
    years = facts.form.related_experience_years
    if years is None:
        return failed("the form does not state the PI's years of related work")
    if years >= p.min_years:
        return passed(f"{years} years of related work declared, at least {p.min_years}", declared_years=years)
    return failed(f"{years} years of related work declared, fewer than {p.min_years}", declared_years=years)


class Qualification(Params):
    """One way to qualify: at least this title, at least this degree, and at least this many years of work."""

    title: TitleLevel | None = None
    degree: Degree | None = None
    work_years: int = Field(default=0, ge=0)

    def describe(self) -> str:
        parts = [f"title {self.title}+" if self.title else "", f"degree {self.degree}+" if self.degree else "",
                 f"{self.work_years} years' work" if self.work_years else ""]
        return " and ".join(x for x in parts if x) or "anyone"


class BudgetTier(Params):
    from_cny: int = Field(ge=0)
    any_of: list[Qualification] = Field(min_length=1)


class QualificationByBudget(Params):
    tiers: list[BudgetTier] = Field(min_length=1)

    @model_validator(mode="after")
    def _ascending(self) -> QualificationByBudget:
        bounds = [t.from_cny for t in self.tiers]
        if bounds != sorted(set(bounds)):
            raise ValueError(f"tiers: from_cny must rise strictly, got {bounds}")
        return self


def years_worked(pi: PersonFacts, day: date) -> int | None:
    return None if pi.work_started_on is None else age_on(pi.work_started_on, day)


@rule("qualification_by_budget", QualificationByBudget)
def qualification_by_budget(p: QualificationByBudget, facts: Facts) -> Finding:
    """The PI qualifies in one of the ways the tier of the requested budget allows (the tier whose `from_cny` is
    the highest at or below the request; below every tier nothing is required).

    FIELD_NOTES「a title requirement that depends on the requested budget」 e.g. from 1,000,000 yuan an
    associate-senior title or a PhD; below, an intermediate title, a bachelor's and 5 years' work, or a master's and 2.
    """
    pi = facts.registry.pi
    if pi is None:
        return unknown_pi(facts)
    requested = facts.form.requested_cny
    tier = next((t for t in reversed(p.tiers) if t.from_cny <= requested), None)
    worked = years_worked(pi, facts.day)
    evidence = {"requested_cny": str(requested), "title": pi.title, "degree": pi.degree,
                "years_worked": "unknown" if worked is None else str(worked)}
    if tier is None:
        return Finding("pass", f"requested {requested}, below every tier", evidence)
    ways = " or ".join(q.describe() for q in tier.any_of)
    for q in tier.any_of:
        title_ok = q.title is None or TITLE_LEVELS.index(pi.title) >= TITLE_LEVELS.index(q.title)
        degree_ok = q.degree is None or DEGREES.index(pi.degree) >= DEGREES.index(q.degree)
        if title_ok and degree_ok and (q.work_years == 0 or (worked is not None and worked >= q.work_years)):
            return Finding("pass", f"requested {requested}: meets {q.describe()}", evidence)
    if worked is None and any(q.work_years for q in tier.any_of):
        return Finding("review", f"requested {requested}: needs {ways}; the registry has no start of work", evidence)
    return Finding("fail", f"requested {requested}: needs {ways}", evidence)
