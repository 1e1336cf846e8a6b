"""Rule kinds about the PI's (or unit's) projects across calls: counts, bars after verdicts, overdue projects."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from models.facts import ClosingVerdict, Facts, PendingApplication, ProjectFacts, Province, add_years
from models.rules.base import Finding, NoParams, Params, failed, passed, review, rule
from models.rules.people import Exception_


class Scope(Params):
    """Which projects count: a province (ISO 3166-2, e.g. CN-SX; CN for national) and programme names."""

    province: Province | None = None
    programmes: list[str] = Field(default_factory=list)

    def covers(self, item: ProjectFacts | PendingApplication) -> bool:
        in_province = self.province is None or item.province in (None, self.province)
        return in_province and (not self.programmes or item.programme in self.programmes)


def listing(items: list[ProjectFacts] | list[PendingApplication]) -> str:
    return ", ".join(f"{x.ref} ({x.programme})" for x in items) or "none"


def applied(facts: Facts, scope: Scope, unit: bool = False, any_role: bool = False) -> list[PendingApplication]:
    """Applications in flight elsewhere, for this scope: grantflow's own and those the registry knows of."""
    form, mine = facts.form, (facts.form.unit_id if unit else facts.form.pi_id)
    pending = [a for a in facts.registry.pending
               if (a.unit_id if unit else a.pi_id) == mine and a.application_id != form.application_id
               and a.call_id != form.call_id and scope.covers(a)]
    source = facts.registry.unit_projects if unit else facts.registry.projects
    known = {a.call_id for a in pending}
    pending += [PendingApplication(x.project_id, x.call_id or "", x.programme, x.province, x.started_on, "applied",
                                   x.person_id, x.unit_id)
                for x in source if x.status == "applied" and (x.role == "lead" or any_role) and scope.covers(x)
                and x.call_id != form.call_id and (x.call_id is None or x.call_id not in known)]
    return pending


class MaxOngoingPlusApplied(Scope):
    max: int = Field(ge=1)
    lead_only: bool = True
    exceptions: list[Exception_] = Field(default_factory=list)


def over_count_exception(facts: Facts, exceptions: list[Exception_]) -> Finding | None:
    """004's over-count exceptions: 院士 pass; a listed talent needs the reviewers (the matching programme)."""
    pi = facts.registry.pi
    if "academician" in exceptions and pi is not None and pi.academician:
        return passed("exception: academician (院士)")
    talent = pi is not None and pi.talent_level is not None
    if ("listed_talent" in exceptions and (talent or facts.form.claims.listed_talent)) or (
            "academician" in exceptions and facts.form.claims.academician):
        return review("an over-count exception is claimed (talent programme, platform): for the reviewers to judge")
    return None


@rule("max_ongoing_plus_applied", MaxOngoingPlusApplied)
def max_ongoing_plus_applied(p: MaxOngoingPlusApplied, facts: Facts) -> Finding:
    """Ongoing projects plus applications in flight, this one included, are at most `max`.

    000「在研和申报省科技计划项目总数原则不超过2项。」 Ongoing plus applied provincial projects at most 2.
    001「有其他类别计划在研项目的，在研项目和申报项目总数不得超过2项」 Ongoing plus applied at most 2.
    004「项目负责人主持在研项目和申报项目总数不超过2项。」 Led ongoing plus applied at most 2.
    004「科研人员超项数牵头申报广西科技计划项目的，应符合相关年龄或超年龄要求，并须满足以下条件之一：」 Over-count exceptions.
    """
    ongoing = [x for x in facts.registry.projects if x.in_progress(facts.day) and p.covers(x)
               and (x.role == "lead" or not p.lead_only)]
    pending = applied(facts, p)
    total = len(ongoing) + len(pending) + 1
    evidence = {"ongoing": listing(ongoing), "applied": listing(pending), "total_with_this": str(total)}
    if total <= p.max:
        return Finding("pass", f"{len(ongoing)} ongoing + {len(pending)} applied + this one = {total}, at most {p.max}",
                       evidence)
    exception = over_count_exception(facts, p.exceptions)
    reason = f"{len(ongoing)} ongoing + {len(pending)} applied + this one = {total}, over {p.max}"
    if exception is not None:
        return Finding(exception.outcome, f"{reason}; {exception.reason}", evidence)
    return Finding("fail", reason, evidence)


class MaxOngoing(Scope):
    max: int = Field(ge=0)
    lead_only: bool = True
    max_rank: int | None = Field(default=None, ge=1)
    exceptions: list[Exception_] = Field(default_factory=list)


@rule("max_ongoing", MaxOngoing)
def max_ongoing(p: MaxOngoing, facts: Facts) -> Finding:
    """The PI has at most `max` ongoing projects (led, or in the top `max_rank` places).

    004「主持在研项目2项（含）以上。」 Two or more led ongoing projects bar the PI (max 1).
    004「参加（含主持）且排位在前三（含）的在研项目4项（含）以上。」 Four or more ongoing in the top three bar (max 3).
    """
    ongoing = [x for x in facts.registry.projects if x.in_progress(facts.day) and p.covers(x)
               and (x.role == "lead" or not p.lead_only) and (p.max_rank is None or x.rank <= p.max_rank)]
    what = "led" if p.lead_only else f"in the top {p.max_rank}" if p.max_rank else "joined"
    evidence = {"ongoing": listing(ongoing)}
    if len(ongoing) <= p.max:
        return Finding("pass", f"{len(ongoing)} ongoing projects {what}, at most {p.max}", evidence)
    exception = over_count_exception(facts, p.exceptions)
    reason = f"{len(ongoing)} ongoing projects {what}, over {p.max}"
    if exception is not None:
        return Finding(exception.outcome, f"{reason}; {exception.reason}", evidence)
    return Finding("fail", reason, evidence)


class ApplicationsPerYear(Scope):
    max: int = Field(default=1, ge=1)
    holder: Literal["pi", "unit"] = "pi"
    any_role: bool = False  # count the person's applications as a member too (the registry's, grantflow's as PI)


@rule("applications_per_year", ApplicationsPerYear)
def applications_per_year(p: ApplicationsPerYear, facts: Facts) -> Finding:
    """At most `max` applications in the submission year, this one included; a failed one frees the place.

    001「同一年度限申报1项省科技计划项目，如申报的计划未能立项时，方可再次申报」 One provincial application a year.
    002「同一平台同一年度仅限申报一次省重点实验室或省技术创新中心。」 One lab or centre application a year per platform.
    FIELD_NOTES「limits per person across roles (at most 2 applications, at most 1 as PI)」: two rules, one `any_role`.
    """
    year = facts.day.year
    unit = p.holder == "unit"
    pending = [a for a in applied(facts, p, unit, p.any_role and not unit)
               if a.submitted_on is None or a.submitted_on.year == year]
    source = facts.registry.unit_projects if unit else facts.registry.projects
    funded = [x for x in source if (x.role == "lead" or p.any_role) and x.status in ("ongoing", "overdue", "closed")
              and x.started_on.year == year and p.covers(x) and x.call_id != facts.form.call_id]
    total = len(pending) + len(funded) + 1
    evidence = {"applied": listing(pending), "funded_this_year": listing(funded), "year": str(year)}
    if total <= p.max:
        return Finding("pass", f"{total} application(s) by the {p.holder} in {year}, at most {p.max}", evidence)
    return Finding("fail", f"{total} applications by the {p.holder} in {year}, over {p.max}", evidence)


class BarredAfterVerdict(Params):
    verdicts: list[ClosingVerdict] = Field(min_length=1)
    years: int = Field(ge=1)
    programme_contains: list[str] = Field(default_factory=list)


@rule("barred_after_verdict", BarredAfterVerdict)
def barred_after_verdict(p: BarredAfterVerdict, facts: Facts) -> Finding:
    """A led project closed with a listed verdict bars the PI until `years` after its closing day.

    000「项目申请人作为负责人承担联合资助项目，结题验收结论为“差”或“不通过”的，自该项目结题起两年内不得申请省基础研究计划内的各类项目（含联合资助项目）。」
    A "poor" or "fail" closing verdict on a joint-funded project bars its PI for two years from the closing.
    """
    bars: list[tuple[date, ProjectFacts]] = []
    for x in facts.registry.projects:
        named = not p.programme_contains or any(s in x.programme for s in p.programme_contains)
        if x.role == "lead" and x.status == "closed" and x.verdict in p.verdicts and named:
            until = add_years(x.closed_or_end, p.years)
            if facts.day < until:
                bars.append((until, x))
    if not bars:
        return passed(f"no led project closed {'/'.join(p.verdicts)} within {p.years} years")
    until, x = max(bars, key=lambda b: b[0])
    return failed(f"project {x.project_id} closed {x.verdict} on {x.closed_or_end}; barred until {until}",
                  project=x.project_id, verdict=x.verdict, closed_on=x.closed_or_end, barred_until=until)


class NoOverdue(Params):
    province: Province | None = None
    funds_owed: bool = False


@rule("no_overdue", NoOverdue)
def no_overdue(p: NoOverdue, facts: Facts) -> Finding:
    """The PI leads no overdue project (and, where stated, owes no funds from a failed or terminated one).

    000「有逾期未验收的省级各类科技计划项目负责人不得申报。」 Overdue unaccepted projects bar the PI.
    004「主持的项目实施期满仍未完成验收的，或验收不通过、终止且有需要退回经费而未退回的。」 So do unreturned funds.
    """
    led = [x for x in facts.registry.projects if x.role == "lead" and (p.province is None or x.province == p.province)]
    overdue = [x for x in led if x.status == "overdue"]
    owed = [x for x in led if p.funds_owed and x.funds_owed]
    if overdue or owed:
        return failed("overdue: " + listing(overdue) + ("; funds owed: " + listing(owed) if owed else ""),
                      overdue=listing(overdue), funds_owed=listing(owed))
    late = [x for x in led if x.status == "ongoing" and x.ends_on < facts.day]
    if late:
        return review(f"term ended, still open in the registry: {listing(late)}", ended=listing(late))
    return passed("no overdue project led")


class NoOngoingIn(Params):
    programmes: list[str] = Field(min_length=1)
    holders: list[Literal["pi", "unit"]] = Field(min_length=1)
    any_role: bool = False


@rule("no_ongoing_in", NoOngoingIn)
def no_ongoing_in(p: NoOngoingIn, facts: Facts) -> Finding:
    """Neither the PI nor (where stated) the unit holds an ongoing project of the listed programmes.

    001「未有主持在研的山西省科技合作交流专项（包括原山西省重点研发计划（国际科技合作））项目」 No led ongoing project of this programme.
    002「已建设国家或省（重点）实验室、国家或省技术创新中心、国家或省临床医学研究中心的平台及其人员不得重复申请。」 Existing platforms and their people may not apply again.
    """
    found = [x for x in facts.registry.projects if "pi" in p.holders and x.in_progress(facts.day)
             and x.programme in p.programmes and (x.role == "lead" or p.any_role)]
    found += [x for x in facts.registry.unit_projects if "unit" in p.holders and x.in_progress(facts.day)
              and x.programme in p.programmes]
    if found:
        return failed(f"ongoing: {listing(found)}", ongoing=listing(found))
    return passed(f"nothing ongoing in {', '.join(p.programmes)}")


class NoRecentLead(Params):
    programmes: list[str] = Field(min_length=1)
    years: int = Field(ge=1)


@rule("no_recent_lead", NoRecentLead)
def no_recent_lead(p: NoRecentLead, facts: Facts) -> Finding:
    """The PI led no project of the listed programmes during the last `years` years.

    001「近五年内承担过山西省科技合作交流专项（包括原山西省重点研发计划（国际科技合作））的项目负责人不得申报」
    Whoever led a project of this programme in the past five years may not apply.
    """
    cutoff = add_years(facts.day, -p.years)
    recent = [x for x in facts.registry.projects if x.role == "lead" and x.programme in p.programmes
              and x.status not in ("applied", "withdrawn") and x.started_on <= facts.day
              and (x.closed_on or (facts.day if x.status in ("ongoing", "overdue") else x.ends_on)) >= cutoff]
    if recent:
        return failed(f"led within {p.years} years (since {cutoff}): {listing(recent)}", projects=listing(recent))
    return passed(f"no project of these programmes led since {cutoff}")


class NoAwardSince(Params):
    since: date
    programme_contains: list[str] = Field(min_length=1)


@rule("no_award_since", NoAwardSince)
def no_award_since(p: NoAwardSince, facts: Facts) -> Finding:
    """No award since `since` in another programme whose name contains one of the given words.

    000「2023年至今，已获其他领域联合资助项目的，本次不得申报。」 A joint-funded award in another field since 2023 bars.
    """
    awards = [x for x in facts.registry.projects if x.role == "lead" and x.started_on >= p.since
              and x.status in ("ongoing", "overdue", "closed") and x.programme != facts.form.programme
              and any(s in x.programme for s in p.programme_contains)]
    if awards:
        return failed(f"awarded since {p.since}: {listing(awards)}", awards=listing(awards))
    return passed(f"no such award since {p.since}")


@rule("no_withdrawal_in_term", NoParams)
def no_withdrawal_in_term(p: NoParams, facts: Facts) -> Finding:
    """A PI who withdrew from a led project may not lead a new one within that project's term.

    000「在研项目负责人不得因申报新项目而退出在研项目。退出后在原项目执行期内，原则上不得作为负责人申报新项目。」
    """
    within = [x for x in facts.registry.projects if x.role == "lead" and x.status == "withdrawn"
              and x.ends_on >= facts.day]
    if within:
        return failed(f"withdrew from {listing(within)}, whose term has not ended", projects=listing(within))
    return passed("no withdrawal from a project still in its term")
