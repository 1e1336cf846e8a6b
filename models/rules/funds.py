"""Rule kinds about money and term: requested amounts, matching-fund ratios and the project's term."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal

from pydantic import Field, model_validator

from models.facts import Facts
from models.rules.base import Finding, Params, failed, review, rule


class MatchingRatio(Params):
    ratio: int = Field(ge=1)
    enterprise_ratio: int | None = Field(default=None, ge=1)


@rule("matching_ratio", MatchingRatio)
def matching_ratio(p: MatchingRatio, facts: Facts) -> Finding:
    """Matching funds are at least `ratio` times the requested funds (`enterprise_ratio` for an enterprise unit).

    001「申报各类项目均须有配套资金，项目配套资金与申请引导资金的比例不低于1:1。项目申报单位为企业的，项目配套资金与申请引导资金的比例不低于2:1。」
    """
    form, unit = facts.form, facts.lead_unit
    if p.enterprise_ratio is not None and unit is None:
        return review(f"the applicant unit {form.unit_id} is not in the registry", unit=form.unit_id)
    enterprise = unit is not None and unit.kind == "enterprise" and p.enterprise_ratio is not None
    ratio = p.enterprise_ratio if enterprise and p.enterprise_ratio else p.ratio
    evidence = {"matching_cny": str(form.matching_cny), "requested_cny": str(form.requested_cny),
                "required": f"{ratio}:1" + (" (enterprise)" if enterprise else "")}
    if form.matching_cny >= ratio * form.requested_cny:
        return Finding("pass", f"matching {form.matching_cny} for {form.requested_cny} requested, at least {ratio}:1",
                       evidence)
    return Finding("fail", f"matching {form.matching_cny} for {form.requested_cny} requested, below {ratio}:1",
                   evidence)


class EnterpriseMatching(Params):
    multiple: int = Field(ge=1)


@rule("enterprise_matching", EnterpriseMatching)
def enterprise_matching(p: EnterpriseMatching, facts: Facts) -> Finding:
    """Enterprise-led: matching at least `multiple` x the requested funds; otherwise each enterprise partner
    matches `multiple` x its own share.

    004「企业牵头申报的项目，申报时要按不低于申报额度3倍的比例配套投入研发经费，申报时要出具匹配资金承诺函，配套经费要以申报单位可用资金出资（指南中另行规定的除外）；非企业牵头申报的项目，参与企业要按不低于申请科技经费中本企业所占经费的3倍进行配套（指南中另行规定的除外），申报时要出具匹配资金承诺函。」
    """
    form = facts.form
    if form.enterprise_led:
        evidence = {"matching_cny": str(form.matching_cny), "requested_cny": str(form.requested_cny)}
        if form.matching_cny >= p.multiple * form.requested_cny:
            return Finding("pass", f"enterprise-led: matching {form.matching_cny} >= {p.multiple} x requested",
                           evidence)
        return Finding("fail", f"enterprise-led: matching {form.matching_cny} < {p.multiple} x requested", evidence)
    unknown = [x.unit_id for x in form.partners if facts.unit(x.unit_id) is None]
    if unknown:
        return review(f"partners not in the registry: {', '.join(unknown)}", missing=", ".join(unknown))
    enterprises = [x for x in form.partners if (u := facts.unit(x.unit_id)) is not None and u.kind == "enterprise"]
    short = [f"{x.unit_id} matches {x.matching_cny} < {p.multiple} x {x.requested_cny}" for x in enterprises
             if x.matching_cny < p.multiple * x.requested_cny]
    evidence = {x.unit_id: f"{x.matching_cny} for {x.requested_cny}" for x in enterprises}
    if short:
        return Finding("fail", "; ".join(short), evidence)
    return Finding("pass", f"{len(enterprises)} partner enterprise(s) match at least {p.multiple} x their share",
                   evidence)


class Term(Params):
    starts_on: date | None = None
    min_months: int | None = Field(default=None, ge=1)
    max_months: int | None = Field(default=None, ge=1)
    beyond: Literal["fail", "review"] = "fail"

    @model_validator(mode="after")
    def _range(self) -> Term:
        if self.min_months and self.max_months and self.min_months > self.max_months:
            raise ValueError(f"min_months {self.min_months} is above max_months {self.max_months}")
        return self


def month_end(start: date, months: int) -> date:
    """The last day of a term of `months` months from `start` (2025-03-05 + 24 months ends 2027-03-04)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


@rule("term", Term)
def term(p: Term, facts: Facts) -> Finding:
    """The project's term: a fixed start where the notice fixes it, and a length within bounds in months.

    000「项目申请书起始时间统一填写2025年3月5日。项目完成时间2年。」 Start on 2025-03-05; two years.
    001「项目执行期2—3年。」 Two to three years.
    004「原则上不超过1年，具体在项目指南中要求。」「如有特殊情况，请申报单位在项目申报材料中说明。」 At most a year, as a rule.
    """
    start, end = facts.form.starts_on, facts.form.ends_on
    if start is None or end is None:
        return failed("the form gives no term (starts_on, ends_on)")
    evidence = {"starts_on": str(start), "ends_on": str(end)}
    if p.starts_on is not None and start != p.starts_on:
        return Finding("fail", f"starts {start}; the notice fixes {p.starts_on}", evidence)
    if p.min_months is not None and end < (earliest := month_end(start, p.min_months)):
        return Finding(p.beyond, f"ends {end}, before {earliest} ({p.min_months} months)", evidence)
    if p.max_months is not None and end > (latest := month_end(start, p.max_months)):
        return Finding(p.beyond, f"ends {end}, after {latest} ({p.max_months} months)", evidence)
    return Finding("pass", f"{start} to {end}, within the term the notice allows", evidence)


class Range(Params):
    max_cny: int = Field(ge=1)
    min_cny: int = Field(default=0, ge=0)


class RequestedFunding(Params):
    by_category: dict[str, Range] = Field(min_length=1)
    beyond: Literal["fail", "review"] = "fail"


@rule("requested_funding", RequestedFunding)
def requested_funding(p: RequestedFunding, facts: Facts) -> Finding:
    """The requested funds are within the category's range (a cap, or a range where the notice gives one).

    000「项目资助分重点项目和一般项目两类，重点项目资助强度为50万元/项，一般项目资助强度为25万元/项，项目实施期均为2年、经费一次性拨付（由省科技厅、省地质勘查局按协议约定联合拨付）。」
    003「项目经费平均支持强度为20-30万元。」 An average, not a cap: a request beyond it goes to a person (beyond: review).
    """
    form = facts.form
    bounds = p.by_category.get(form.category)
    evidence = {"requested_cny": str(form.requested_cny), "category": form.category}
    if bounds is None:
        return Finding("pass", f"the notice states no amount for category {form.category}", evidence)
    evidence["range"] = f"{bounds.min_cny}-{bounds.max_cny}"
    if form.requested_cny > bounds.max_cny:
        return Finding(p.beyond, f"requested {form.requested_cny}, over {bounds.max_cny}", evidence)
    if form.requested_cny < bounds.min_cny:
        return Finding(p.beyond, f"requested {form.requested_cny}, under {bounds.min_cny}", evidence)
    return Finding("pass", f"requested {form.requested_cny}, within {bounds.min_cny}-{bounds.max_cny}", evidence)
