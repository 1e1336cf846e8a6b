"""Every rule kind on both sides of its boundary, with the notices' own numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from models.duplicates import PriorWork
from models.facts import Facts, PendingApplication, ProjectFacts, Snapshot
from models.forms import CentreFigures, Claims, PartnerUnit, TeamMember
from models.rules import KINDS
from tests.builders import ZONE, check, facts, form, outcome, pending, person, prior, project, unit

# ---- the PI ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("birth", "expected"), [(date(1967, 1, 1), "pass"), (date(1966, 12, 31), "fail")])
def test_born_on_or_after_1967(birth: date, expected: str) -> None:
    assert outcome("born_on_or_after", {"cutoff": "1967-01-01"}, facts(pi=person(birth_date=birth))) == expected


@pytest.mark.parametrize(("submitted", "expected"), [
    (datetime(2025, 3, 1, 15, 59, tzinfo=UTC), "pass"),  # 23:59 on 1 March in Shanghai: still 57
    (datetime(2025, 3, 1, 16, 0, tzinfo=UTC), "fail"),  # 00:00 on 2 March in Shanghai: 58 that day
])
def test_age_57_on_the_submission_day_in_shanghai(submitted: datetime, expected: str) -> None:
    f = facts(pi=person(birth_date=date(1967, 3, 2)), at=submitted)
    found = check("max_age", {"max_years": 57}, f)
    assert found.outcome == expected
    assert found.evidence["age"] == ("57" if expected == "pass" else "58")


def test_naive_submission_instant_is_an_error() -> None:
    with pytest.raises(ValueError, match="naive"):
        Facts(form(), Snapshot(pi=person()), datetime(2025, 3, 20, 10, 0), ZONE)


OLD = date(1960, 1, 1)


@pytest.mark.parametrize(("changes", "claims", "projects", "expected"), [
    ({"academician": True}, {}, [], "pass"),
    ({}, {"academician": True}, [], "review"),
    ({"talent_level": "B", "retirement_date": date(2026, 1, 1)}, {}, [], "pass"),
    ({"talent_level": "B", "retirement_date": date(2025, 3, 20)}, {}, [], "fail"),  # retired on the day
    ({"talent_level": "B", "retirement_date": None}, {}, [], "review"),
    ({"retirement_date": date(2026, 1, 1)}, {"listed_talent": True}, [], "review"),
    ({"retirement_date": date(2026, 1, 1)}, {}, [project("n1", province="CN", closed_on=date(2021, 1, 1),
                                                         status="closed", verdict="good")], "pass"),
    ({"retirement_date": date(2026, 1, 1)}, {}, [project("n1", province="CN", closed_on=date(2020, 3, 19),
                                                         status="closed", verdict="good")], "fail"),
    ({"retirement_date": date(2026, 1, 1)}, {}, [], "fail"),
])
def test_age_exceptions_of_004(changes: dict[str, Any], claims: dict[str, bool], projects: list[ProjectFacts],
                               expected: str) -> None:
    params = {"max_years": 57, "exceptions": ["academician", "listed_talent", "national_project"]}
    f = facts(form(claims=Claims(**claims)), pi=person(birth_date=OLD, **changes), projects=projects)
    assert outcome("max_age", params, f) == expected


def test_age_without_exceptions_fails_an_academician() -> None:
    assert outcome("max_age", {"max_years": 60}, facts(pi=person(birth_date=OLD, academician=True))) == "fail"


@pytest.mark.parametrize(("params", "title", "degree", "expected"), [
    ({"min_title": "associate_senior", "min_degree": "master"}, "associate_senior", "bachelor", "pass"),
    ({"min_title": "associate_senior", "min_degree": "master"}, "intermediate", "master", "pass"),
    ({"min_title": "associate_senior", "min_degree": "master"}, "intermediate", "bachelor", "fail"),
    ({"min_title": "associate_senior", "min_degree": "phd"}, "intermediate", "master", "fail"),
    ({"min_title": "associate_senior", "min_degree": "phd"}, "none", "phd", "pass"),
    ({"min_title": "associate_senior"}, "full_senior", "none", "pass"),
    ({"min_title": "associate_senior"}, "intermediate", "phd", "fail"),
])
def test_title_or_degree(params: dict[str, str], title: str, degree: str, expected: str) -> None:
    assert outcome("title_or_degree", params, facts(pi=person(title=title, degree=degree))) == expected


def test_title_or_degree_needs_a_minimum() -> None:
    with pytest.raises(ValidationError, match="min_title, min_degree or both"):
        KINDS["title_or_degree"].params.model_validate({})


LEVELS = {"by_level": {"county": "intermediate", "city": "intermediate", "provincial": "associate_senior"}}


@pytest.mark.parametrize(("level", "title", "below", "expected"), [
    ("city", "intermediate", "review", "pass"),
    ("county", "junior", "review", "review"),
    ("provincial", "intermediate", "review", "review"),
    ("provincial", "intermediate", "fail", "fail"),
    ("provincial", "associate_senior", "fail", "pass"),
    ("central", "full_senior", "fail", "review"),  # the guide states no title for central units
])
def test_title_by_unit_level_of_003(level: str, title: str, below: str, expected: str) -> None:
    f = facts(pi=person(title=title), units=[unit(admin_level=level)])
    assert outcome("title_by_unit_level", {**LEVELS, "below": below}, f) == expected


@pytest.mark.parametrize(("changes", "full_time", "expected"), [
    ({}, True, "pass"),
    ({"full_time": False}, True, "fail"),
    ({"full_time": False}, False, "pass"),
    ({"unit_id": "u2"}, False, "fail"),
])
def test_pi_employment(changes: dict[str, Any], full_time: bool, expected: str) -> None:
    assert outcome("pi_employment", {"full_time": full_time}, facts(pi=person(**changes))) == expected


def test_a_pi_missing_from_the_registry_needs_a_person() -> None:
    found = check("pi_employment", {}, facts(no_pi=True))
    assert found.outcome == "review" and "not in the registry" in found.reason


@pytest.mark.parametrize(("status", "expected"), [("full_time_phd", "fail"), ("in_service_graduate", "pass"),
                                                  ("none", "pass")])
def test_full_time_phd_students_may_not_apply(status: str, expected: str) -> None:
    f = facts(pi=person(student_status=status))
    assert outcome("not_student", {"statuses": ["full_time_phd"]}, f) == expected


@pytest.mark.parametrize(("civil_servant", "expected"), [(True, "fail"), (False, "pass")])
def test_civil_servants_may_not_lead(civil_servant: bool, expected: str) -> None:
    assert outcome("not_civil_servant", {}, facts(pi=person(civil_servant=civil_servant))) == expected


@pytest.mark.parametrize(("years", "expected"), [(3, "pass"), (2, "fail"), (None, "fail")])
def test_three_years_of_related_work(years: int | None, expected: str) -> None:
    f = facts(form(related_experience_years=years))
    assert outcome("related_experience", {"min_years": 3}, f) == expected


# ---- projects across calls ------------------------------------------------------------------------------------

COUNT = {"max": 2, "province": "CN-SX"}


@pytest.mark.parametrize(("projects", "applied", "expected"), [
    ([], [], "pass"),
    ([project("p1")], [], "pass"),  # 1 ongoing + this = 2
    ([], [pending("a1")], "pass"),  # 1 applied + this = 2
    ([project("p1")], [pending("a1")], "fail"),  # 3
    ([project("p1"), project("p2")], [], "fail"),
    ([project("p1", status="overdue")], [pending("a1")], "fail"),  # overdue is still in progress
    ([project("p1", status="closed", verdict="good", closed_on=date(2025, 1, 1))], [pending("a1")], "pass"),
    ([project("p1", province="CN-GX")], [pending("a1")], "pass"),  # another province's project
    ([project("p1", role="member", rank=2)], [pending("a1")], "pass"),  # only led projects count
    ([project("p1")], [pending("a1", call_id="call-1")], "pass"),  # this call is this application
    ([project("p1")], [pending("a1", pi_id="someone-else")], "pass"),  # the unit's, not the PI's
    ([project("p1"), project("p2", status="applied", call_id="c9")], [], "fail"),  # applied, known to the registry
])
def test_ongoing_plus_applied_at_most_2(projects: list[ProjectFacts], applied: list[PendingApplication],
                                        expected: str) -> None:
    f = facts(projects=projects, applied=applied)
    assert outcome("max_ongoing_plus_applied", COUNT, f) == expected


def test_ongoing_plus_applied_counts_only_the_listed_programmes() -> None:
    f = facts(projects=[project("p1"), project("p2", programme="广西自然科学基金", province="CN-GX")])
    params = {"max": 2, "programmes": ["广西自然科学基金"]}
    assert outcome("max_ongoing_plus_applied", params, f) == "pass"
    assert outcome("max_ongoing_plus_applied", {"max": 1, "programmes": ["广西自然科学基金"]}, f) == "fail"


@pytest.mark.parametrize(("changes", "claims", "expected"), [
    ({"academician": True}, {}, "pass"),
    ({"talent_level": "A"}, {}, "review"),
    ({}, {"listed_talent": True}, "review"),
    ({}, {}, "fail"),
])
def test_over_count_exceptions(changes: dict[str, Any], claims: dict[str, bool], expected: str) -> None:
    f = facts(form(claims=Claims(**claims)), pi=person(**changes), projects=[project("p1"), project("p2")])
    params = {**COUNT, "exceptions": ["academician", "listed_talent"]}
    assert outcome("max_ongoing_plus_applied", params, f) == expected


@pytest.mark.parametrize(("led", "expected"), [(1, "pass"), (2, "fail")])
def test_two_led_ongoing_projects_bar(led: int, expected: str) -> None:
    f = facts(projects=[project(f"p{i}") for i in range(led)])
    assert outcome("max_ongoing", {"max": 1}, f) == expected


@pytest.mark.parametrize(("ranks", "expected"), [([1, 2, 3], "pass"), ([1, 2, 3, 3], "fail"), ([1, 2, 3, 4], "pass")])
def test_four_ongoing_in_the_top_three_bar(ranks: list[int], expected: str) -> None:
    f = facts(projects=[project(f"p{i}", role="lead" if r == 1 else "member", rank=r) for i, r in enumerate(ranks)])
    assert outcome("max_ongoing", {"max": 3, "lead_only": False, "max_rank": 3}, f) == expected


@pytest.mark.parametrize(("applied", "funded", "expected"), [
    ([], [], "pass"),
    ([pending("a1", submitted_on=date(2025, 1, 2))], [], "fail"),
    ([pending("a1", submitted_on=date(2024, 12, 31))], [], "pass"),
    ([], [project("p1", started_on=date(2025, 1, 10))], "fail"),
    ([], [project("p1", started_on=date(2024, 12, 1))], "pass"),
])
def test_one_application_a_year(applied: list[PendingApplication], funded: list[ProjectFacts], expected: str) -> None:
    f = facts(projects=funded, applied=applied)
    assert outcome("applications_per_year", {"max": 1, "province": "CN-SX"}, f) == expected


def test_one_application_a_year_per_platform() -> None:
    params = {"max": 1, "holder": "unit", "programmes": ["山西省重点实验室", "山西省技术创新中心"]}
    lab = pending("a1", programme="山西省重点实验室", pi_id="another-pi", submitted_on=date(2025, 2, 1))
    assert outcome("applications_per_year", params, facts(applied=[lab])) == "fail"
    assert outcome("applications_per_year", params, facts(applied=[pending("a2", pi_id="x", unit_id="u2")])) == "pass"


POOR = {"verdicts": ["poor", "fail"], "years": 2, "programme_contains": ["联合资助"]}


@pytest.mark.parametrize(("at", "verdict", "programme", "expected"), [
    (datetime(2025, 3, 19, 10, tzinfo=ZONE), "poor", "山西省基础研究计划（产业发展类）联合资助（煤基）", "fail"),
    (datetime(2025, 3, 20, 10, tzinfo=ZONE), "poor", "山西省基础研究计划（产业发展类）联合资助（煤基）", "pass"),
    (datetime(2025, 3, 19, 10, tzinfo=ZONE), "fail", "山西省基础研究计划（产业发展类）联合资助（煤基）", "fail"),
    (datetime(2025, 3, 19, 10, tzinfo=ZONE), "good", "山西省基础研究计划（产业发展类）联合资助（煤基）", "pass"),
    (datetime(2025, 3, 19, 10, tzinfo=ZONE), "poor", "山西省重点研发计划", "pass"),
])
def test_barred_two_years_after_a_poor_verdict(at: datetime, verdict: str, programme: str, expected: str) -> None:
    closed = project("p1", status="closed", verdict=verdict, closed_on=date(2023, 3, 20), programme=programme)
    assert outcome("barred_after_verdict", POOR, facts(projects=[closed], at=at)) == expected


@pytest.mark.parametrize(("projects", "params", "expected"), [
    ([project("p1", status="overdue")], {}, "fail"),
    ([project("p1", status="overdue", role="member", rank=2)], {}, "pass"),
    ([project("p1", status="overdue", province="CN-GX")], {"province": "CN-SX"}, "pass"),
    ([project("p1", ends_on=date(2025, 3, 19))], {}, "review"),  # term over, still open: overdue?
    ([project("p1", ends_on=date(2025, 3, 20))], {}, "pass"),
    ([project("p1", status="closed", verdict="fail", closed_on=date(2024, 1, 1), funds_owed=True)],
     {"funds_owed": True}, "fail"),
    ([project("p1", status="closed", verdict="fail", closed_on=date(2024, 1, 1), funds_owed=True)], {}, "pass"),
])
def test_overdue_projects(projects: list[ProjectFacts], params: dict[str, Any], expected: str) -> None:
    assert outcome("no_overdue", params, facts(projects=projects)) == expected


COOPERATION = ["山西省科技合作交流专项", "山西省重点研发计划（国际科技合作）"]


@pytest.mark.parametrize(("projects", "expected"), [
    ([project("p1", programme="山西省重点研发计划（国际科技合作）")], "fail"),
    ([project("p1", programme="山西省重点研发计划（国际科技合作）", role="member", rank=2)], "pass"),
    ([project("p1", programme="山西省科技合作交流专项", status="closed", verdict="good",
              closed_on=date(2024, 1, 1))], "pass"),
    ([project("p1")], "pass"),
])
def test_no_ongoing_cooperation_project(projects: list[ProjectFacts], expected: str) -> None:
    f = facts(projects=projects)
    assert outcome("no_ongoing_in", {"programmes": COOPERATION, "holders": ["pi"]}, f) == expected


def test_existing_platforms_and_their_people_may_not_apply() -> None:
    params = {"programmes": ["山西省重点实验室"], "holders": ["unit", "pi"], "any_role": True}
    lab = project("lab", programme="山西省重点实验室", person_id="someone")
    assert outcome("no_ongoing_in", params, facts(unit_projects=[lab])) == "fail"
    member = project("lab", programme="山西省重点实验室", role="member", rank=5)
    assert outcome("no_ongoing_in", params, facts(projects=[member])) == "fail"
    assert outcome("no_ongoing_in", params, facts()) == "pass"


@pytest.mark.parametrize(("closed", "expected"), [(date(2020, 3, 20), "fail"), (date(2020, 3, 19), "pass")])
def test_no_lead_in_the_last_five_years(closed: date, expected: str) -> None:
    led = project("p1", programme="山西省科技合作交流专项", status="closed", verdict="good", closed_on=closed,
                  started_on=date(2017, 1, 1), ends_on=closed)
    f = facts(projects=[led])
    assert outcome("no_recent_lead", {"programmes": COOPERATION, "years": 5}, f) == expected


@pytest.mark.parametrize(("started", "programme", "expected"), [
    (date(2023, 1, 1), "山西省基础研究计划（产业发展类）联合资助（煤基）", "fail"),
    (date(2022, 12, 31), "山西省基础研究计划（产业发展类）联合资助（煤基）", "pass"),
    (date(2023, 6, 1), "山西省基础研究计划（产业发展类）联合资助", "pass"),  # this programme is not "another field"
    (date(2023, 6, 1), "山西省重点研发计划", "pass"),
])
def test_no_joint_funded_award_since_2023(started: date, programme: str, expected: str) -> None:
    f = facts(form(programme="山西省基础研究计划（产业发展类）联合资助"),
              projects=[project("p1", started_on=started, programme=programme)])
    params = {"since": "2023-01-01", "programme_contains": ["联合资助"]}
    assert outcome("no_award_since", params, f) == expected


@pytest.mark.parametrize(("ends", "expected"), [(date(2025, 3, 20), "fail"), (date(2025, 3, 19), "pass")])
def test_no_new_lead_within_a_withdrawn_projects_term(ends: date, expected: str) -> None:
    f = facts(projects=[project("p1", status="withdrawn", ends_on=ends)])
    assert outcome("no_withdrawal_in_term", {}, f) == expected


# ---- units ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "params", "expected"), [
    ({}, {"province": "CN-SX"}, "pass"),
    ({"province": "CN-BJ"}, {"province": "CN-SX"}, "fail"),
    ({"province": "CN-BJ"}, {"province": "CN-SX", "outside_province": "review"}, "review"),
    ({"legal_entity": False}, {"province": "CN-SX"}, "fail"),
    ({"registered_on": date(2023, 1, 1)}, {"registered_on_or_before": "2023-01-01"}, "pass"),
    ({"registered_on": date(2023, 1, 2)}, {"registered_on_or_before": "2023-01-01"}, "fail"),
])
def test_unit_registration(changes: dict[str, Any], params: dict[str, Any], expected: str) -> None:
    assert outcome("unit_registration", params, facts(units=[unit(**changes)])) == expected


def test_partners_must_be_legal_entities_where_stated() -> None:
    f = facts(form(partners=[PartnerUnit(unit_id="u2", staff=3)]), units=[unit(), unit("u2", legal_entity=False)])
    assert outcome("unit_registration", {"partners_legal_entity": True}, f) == "fail"
    assert outcome("unit_registration", {}, f) == "pass"
    assert outcome("unit_registration", {"partners_legal_entity": True}, facts(
        form(partners=[PartnerUnit(unit_id="u3", staff=3)]))) == "review"


@pytest.mark.parametrize(("kind", "partners", "expected"), [
    ("state_organ", True, "fail"), ("state_organ", False, "pass"), ("enterprise", True, "pass")])
def test_state_organs_may_not_apply(kind: str, partners: bool, expected: str) -> None:
    f = facts(form(partners=[PartnerUnit(unit_id="u2", staff=2)]), units=[unit(), unit("u2", kind=kind)])
    assert outcome("unit_kind_excluded", {"kinds": ["state_organ"], "partners": partners}, f) == expected


def partners(n: int, staff: int = 2) -> list[PartnerUnit]:
    return [PartnerUnit(unit_id=f"p{i}", staff=staff) for i in range(n)]


@pytest.mark.parametrize(("params", "given", "expected"), [
    ({"max_partners": 2}, partners(2), "pass"),
    ({"max_partners": 2}, partners(3), "fail"),
    ({"max_partners": 3, "min_staff": 2}, partners(3, staff=2), "pass"),
    ({"max_partners": 3, "min_staff": 2}, partners(3, staff=1), "fail"),
    ({"max_partners": 3, "min_staff": 2}, partners(4), "fail"),
    ({"min_staff": 5}, partners(2, staff=5), "pass"),
    ({"min_staff": 5}, partners(2, staff=4), "fail"),
])
def test_partner_limits(params: dict[str, int], given: list[PartnerUnit], expected: str) -> None:
    assert outcome("partner_limits", params, facts(form(partners=given))) == expected


def test_a_members_unit_counts_as_a_partner_in_000() -> None:
    f = facts(form(partners=partners(2), team=[TeamMember(person_id="m1", unit_id="elsewhere")]))
    assert outcome("partner_limits", {"max_partners": 2, "members_units_count": True}, f) == "fail"
    assert outcome("partner_limits", {"max_partners": 2}, f) == "pass"


@pytest.mark.parametrize(("inside", "outside", "expected"), [(8, 1, "pass"), (7, 1, "fail"), (0, 0, "pass")])
def test_team_share_at_least_90_percent(inside: int, outside: int, expected: str) -> None:
    team = [TeamMember(person_id=f"m{i}", unit_id="p0") for i in range(inside)]
    team += [TeamMember(person_id=f"x{i}", unit_id="elsewhere") for i in range(outside)]
    f = facts(form(partners=partners(1), team=team))  # PI + 8 inside of 10 = 90% passes; 8 of 9 = 88.9% fails
    assert outcome("team_share", {"min_percent": 90}, f) == expected


@pytest.mark.parametrize(("province", "expected"), [("CN-BJ", "pass"), ("CN-SX", "fail")])
def test_regional_partner_outside_shanxi(province: str, expected: str) -> None:
    f = facts(form(partners=[PartnerUnit(unit_id="p0", staff=3)]), units=[unit(), unit("p0", province=province)])
    assert outcome("partner_outside_province", {"province": "CN-SX"}, f) == expected
    assert outcome("partner_outside_province", {"province": "CN-SX"}, facts()) == "fail"


@pytest.mark.parametrize(("until", "expected"), [
    (date(2025, 3, 20), "fail"), (date(2025, 3, 19), "pass"), (None, "pass")])
def test_sanction_in_force_on_its_last_day(until: date | None, expected: str) -> None:
    assert outcome("not_blacklisted", {"who": ["unit"]}, facts(units=[unit(blacklisted_until=until)])) == expected
    assert outcome("not_blacklisted", {"who": ["pi"]}, facts(pi=person(blacklisted_until=until))) == expected
    team = facts(form(team=[TeamMember(person_id="m1", unit_id="u1")]), people=[person("m1", blacklisted_until=until)])
    assert outcome("not_blacklisted", {"who": ["team"]}, team) == expected
    assert outcome("not_blacklisted", {"who": ["unit", "pi"]}, team) == "pass"


@pytest.mark.parametrize(("kind", "flag", "expected"), [("enterprise", True, "pass"), ("enterprise", False, "fail"),
                                                        ("university", True, "fail"), ("university", False, "pass")])
def test_enterprise_led_flag_matches_the_lead(kind: str, flag: bool, expected: str) -> None:
    f = facts(form(flags={"enterprise_led": flag}), units=[unit(kind=kind)])
    assert outcome("enterprise_led_flag", {}, f) == expected


@pytest.mark.parametrize(("on_record", "named", "expected"), [("cto-1", "cto-1", "pass"), ("cto-1", "cto-2", "fail"),
                                                              (None, "cto-1", "fail")])
def test_cto_on_record_and_named(on_record: str | None, named: str, expected: str) -> None:
    f = facts(form(cto_id=named, flags={"enterprise_led": True}), units=[unit(kind="enterprise", cto_id=on_record)])
    assert outcome("cto_registered", {}, f) == expected


# ---- money, term, centres ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "matching", "expected"), [
    ("university", 400_000, "pass"), ("university", 399_999, "fail"),
    ("enterprise", 800_000, "pass"), ("enterprise", 799_999, "fail"),
])
def test_matching_funds_1_to_1_and_2_to_1_for_enterprises(kind: str, matching: int, expected: str) -> None:
    f = facts(form(requested_cny=400_000, matching_cny=matching), units=[unit(kind=kind)])
    assert outcome("matching_ratio", {"ratio": 1, "enterprise_ratio": 2}, f) == expected


@pytest.mark.parametrize(("matching", "expected"), [(3_000_000, "pass"), (2_999_999, "fail")])
def test_enterprise_led_matches_3x(matching: int, expected: str) -> None:
    f = facts(form(requested_cny=1_000_000, matching_cny=matching, flags={"enterprise_led": True}),
              units=[unit(kind="enterprise")])
    assert outcome("enterprise_matching", {"multiple": 3}, f) == expected


@pytest.mark.parametrize(("kind", "matching", "expected"), [("enterprise", 300_000, "pass"),
                                                            ("enterprise", 299_999, "fail"),
                                                            ("university", 0, "pass")])
def test_partner_enterprises_match_3x_their_share(kind: str, matching: int, expected: str) -> None:
    share = PartnerUnit(unit_id="p0", staff=2, requested_cny=100_000, matching_cny=matching)
    f = facts(form(partners=[share], matching_cny=0), units=[unit(), unit("p0", kind=kind)])
    assert outcome("enterprise_matching", {"multiple": 3}, f) == expected


@pytest.mark.parametrize(("starts", "ends", "expected"), [
    (date(2025, 3, 5), date(2027, 3, 4), "pass"),
    (date(2025, 3, 5), date(2027, 3, 5), "fail"),
    (date(2025, 3, 5), date(2027, 3, 3), "fail"),
    (date(2025, 3, 6), date(2027, 3, 5), "fail"),
])
def test_term_of_000_starts_2025_03_05_for_two_years(starts: date, ends: date, expected: str) -> None:
    params = {"starts_on": "2025-03-05", "min_months": 24, "max_months": 24}
    assert outcome("term", params, facts(form(starts_on=starts, ends_on=ends))) == expected


@pytest.mark.parametrize(("ends", "expected"), [(date(2026, 3, 31), "pass"), (date(2026, 4, 1), "review")])
def test_term_of_004_a_year_as_a_rule(ends: date, expected: str) -> None:
    f = facts(form(starts_on=date(2025, 4, 1), ends_on=ends))
    assert outcome("term", {"max_months": 12, "beyond": "review"}, f) == expected


def test_term_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="above max_months"):
        KINDS["term"].params.model_validate({"min_months": 36, "max_months": 24})


def centre(**changes: int) -> CentreFigures:
    figures = {"fixed_staff": 50, "floor_area_m2": 2000, "equipment_cny": 20_000_000, "rd_spend_3y_cny": 20_000_000}
    return CentreFigures(**(figures | changes))


@pytest.mark.parametrize("measure", ["fixed_staff", "floor_area_m2", "equipment_cny", "rd_spend_3y_cny"])
def test_centre_thresholds(measure: str) -> None:
    minimum = getattr(centre(), measure)
    params = {"measure": measure, "minimum": minimum}
    assert outcome("centre_minimum", params, facts(form(centre=centre()))) == "pass"
    below = facts(form(centre=centre(**{measure: minimum - 1})))
    assert outcome("centre_minimum", params, below) == "fail"
    assert outcome("centre_minimum", {**params, "below": "review"}, below) == "review"


@pytest.mark.parametrize(("staff", "expected"), [(50, "pass"), (51, "fail")])
def test_first_host_has_half_the_staff(staff: int, expected: str) -> None:
    f = facts(form(centre=centre(fixed_staff=100), partners=[PartnerUnit(unit_id="p0", staff=staff)]))
    assert outcome("lead_share", {"min_percent": 50}, f) == expected


@pytest.mark.parametrize(("lead", "partner_kind", "claims", "expected"), [
    ({"kind": "enterprise", "high_tech": True}, "university", {}, "pass"),
    ({"kind": "enterprise", "high_tech": True}, "enterprise", {}, "fail"),
    ({"kind": "enterprise"}, "university", {}, "fail"),
    ({"kind": "enterprise"}, "university", {"rd_institution": True}, "review"),
    ({"kind": "university", "key_discipline": True}, "enterprise", {}, "pass"),
    ({"kind": "university", "key_discipline": True}, "university", {}, "fail"),
])
def test_first_host_qualification(lead: dict[str, Any], partner_kind: str, claims: dict[str, bool],
                                  expected: str) -> None:
    f = facts(form(partners=[PartnerUnit(unit_id="p0", staff=5)], claims=Claims(**claims)),
              units=[unit(**lead), unit("p0", kind=partner_kind)])
    assert outcome("centre_first_host", {}, f) == expected


# ---- duplicates -------------------------------------------------------------------------------------------------

TITLE = "深部煤储层可改造性与裂缝扩展特征研究"


@pytest.mark.parametrize(("work", "expected"), [
    (prior("old", "深部煤储层可改造性与裂缝扩展特征研究。"), "review"),  # identical but for punctuation
    (prior("old", "深部煤储层可改造性与裂隙扩展规律研究"), "pass"),  # similar, another PI and unit
    (prior("old", "深部煤储层可改造性与裂隙扩展规律研究", pi_id="pi"), "review"),  # the same PI: looser
    (prior("old", "太原盆地层状地热资源赋存特征研究", pi_id="pi"), "pass"),
    (prior("app-1", TITLE), "pass"),  # the application itself
])
def test_near_identical_titles_across_calls(work: PriorWork, expected: str) -> None:
    assert outcome("no_duplicate", {}, facts(prior_work=[work])) == expected


def test_near_identical_abstracts_are_flagged() -> None:
    abstract = "以榆社-武乡地区煤层气区块深部煤储层为例，开展煤岩力学性质和储层可改造性评价研究，建立评价体系。"
    f = facts(form(abstract=abstract), prior_work=[prior("old", "另一个题目", abstract=abstract.replace("，", ","))])
    found = check("no_duplicate", {}, f)
    assert found.outcome == "review" and "abstract" in found.reason
