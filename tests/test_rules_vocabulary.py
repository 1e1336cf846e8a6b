"""Boundary tests of the eligibility vocabulary of issue 20: amounts, birth dates by sex and category, exemptions,
qualification by budget, unit status and kind, per-person limits, restrictions, topics, goals, agreements, identity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from models.forms import Attachment, TeamMember
from models.rules import KINDS
from tests.builders import AT, ZONE, facts, form, outcome, person, project, unit

SHA = "0" * 64


@pytest.mark.parametrize(("category", "requested", "expected"), [
    ("key", 500_000, "pass"), ("key", 500_001, "fail"), ("general", 250_001, "fail"), ("general", 0, "pass"),
    ("other", 9_000_000, "pass"),
])
def test_requested_funding_within_the_categorys_cap_of_000(category: str, requested: int, expected: str) -> None:
    params = {"by_category": {"key": {"max_cny": 500_000}, "general": {"max_cny": 250_000}}}
    assert outcome("requested_funding", params, facts(form(category=category, requested_cny=requested))) == expected


@pytest.mark.parametrize(("requested", "expected"), [(199_999, "review"), (200_000, "pass"), (300_000, "pass"),
                                                     (300_001, "review")])
def test_requested_funding_outside_an_average_range_goes_to_a_person(requested: int, expected: str) -> None:
    params = {"beyond": "review", "by_category": {"general": {"min_cny": 200_000, "max_cny": 300_000}}}
    assert outcome("requested_funding", params, facts(form(requested_cny=requested))) == expected


YOUTH = {"cutoff": date(1966, 1, 1), "inclusive": False,
         "by_category": {"youth": {"cutoff": date(1986, 1, 1), "female_cutoff": date(1983, 1, 1)}}}


@pytest.mark.parametrize(("category", "sex", "birth", "expected"), [
    ("youth", "male", date(1986, 1, 1), "fail"), ("youth", "male", date(1986, 1, 2), "pass"),
    ("youth", "female", date(1983, 1, 1), "fail"), ("youth", "female", date(1983, 1, 2), "pass"),
    ("youth", "female", date(1985, 1, 1), "pass"), ("youth", None, date(1990, 1, 1), "review"),
    ("general", "male", date(1966, 1, 2), "pass"), ("general", "female", date(1966, 1, 1), "fail"),
])
def test_birth_date_cutoffs_by_sex_and_category_exclusive(category: str, sex: str | None, birth: date,
                                                          expected: str) -> None:
    f = facts(form(category=category), pi=person(birth_date=birth, sex=sex))
    assert outcome("born_on_or_after", YOUTH, f) == expected


@pytest.mark.parametrize(("inclusive", "expected"), [(True, "pass"), (False, "fail")])
def test_inclusive_or_exclusive_is_stated(inclusive: bool, expected: str) -> None:
    f = facts(pi=person(birth_date=date(1967, 1, 1)))
    assert outcome("born_on_or_after", {"cutoff": date(1967, 1, 1), "inclusive": inclusive}, f) == expected


@pytest.mark.parametrize(("changes", "expected"), [
    ({"foreign_expert": True}, "pass"), ({"academician": True}, "pass"), ({"talent_level": "B"}, "fail"), ({}, "fail"),
])
def test_exemptions_from_a_birth_date_cutoff(changes: dict[str, Any], expected: str) -> None:
    params = {"cutoff": date(1980, 1, 1), "exceptions": ["academician", "foreign_expert"]}
    assert outcome("born_on_or_after", params, facts(pi=person(birth_date=date(1960, 1, 1), **changes))) == expected


def test_a_foreign_expert_is_exempt_from_the_age_limit_only_where_listed() -> None:
    old = facts(pi=person(birth_date=date(1950, 1, 1), foreign_expert=True))
    assert outcome("max_age", {"max_years": 57, "exceptions": ["foreign_expert"]}, old) == "pass"
    assert outcome("max_age", {"max_years": 57}, old) == "fail"


BUDGET = {"tiers": [
    {"from_cny": 0, "any_of": [{"title": "intermediate"}, {"degree": "bachelor", "work_years": 5},
                               {"degree": "master", "work_years": 2}]},
    {"from_cny": 1_000_000, "any_of": [{"title": "associate_senior"}, {"degree": "phd"}]},
]}


@pytest.mark.parametrize(("requested", "title", "degree", "started", "expected"), [
    (1_000_000, "associate_senior", "bachelor", None, "pass"), (1_000_000, "intermediate", "phd", None, "pass"),
    (1_000_000, "intermediate", "master", None, "fail"), (999_999, "intermediate", "none", None, "pass"),
    (999_999, "junior", "bachelor", date(2020, 3, 20), "pass"), (999_999, "junior", "bachelor", date(2020, 3, 21), "fail"),
    (999_999, "junior", "master", date(2023, 3, 20), "pass"), (999_999, "junior", "master", date(2023, 3, 21), "fail"),
    (999_999, "junior", "master", None, "review"),
])
def test_qualification_depends_on_the_requested_budget(requested: int, title: str, degree: str, started: date | None,
                                                       expected: str) -> None:
    f = facts(form(requested_cny=requested), pi=person(title=title, degree=degree, work_started_on=started))
    assert outcome("qualification_by_budget", BUDGET, f) == expected


def test_budget_tiers_must_rise() -> None:
    with pytest.raises(ValidationError, match="must rise strictly"):
        KINDS["qualification_by_budget"].params.model_validate({"tiers": [BUDGET["tiers"][1], BUDGET["tiers"][0]]})


@pytest.mark.parametrize(("changes", "category", "expected"), [
    ({"statuses": ("gazelle",)}, "key", "pass"), ({"statuses": ("sme:2024",)}, "key", "pass"),
    ({"statuses": ("sme:2023",)}, "key", "fail"), ({"high_tech": True}, "key", "pass"), ({}, "key", "fail"),
    ({}, "youth", "pass"),
])
def test_unit_status_lists(changes: dict[str, Any], category: str, expected: str) -> None:
    params = {"any_of": ["high_tech", "gazelle", "sme:2024"], "categories_exempt": ["youth"]}
    assert outcome("unit_status", params, facts(form(category=category), units=[unit(**changes)])) == expected


@pytest.mark.parametrize(("kind", "category", "expected"), [
    ("social_organisation", "soft_science", "pass"), ("social_organisation", "key", "fail"),
    ("university", "key", "pass"),
])
def test_social_organisations_only_for_soft_science_and_popularisation(kind: str, category: str,
                                                                       expected: str) -> None:
    params = {"kinds": ["social_organisation"], "categories": ["soft_science", "popularisation"]}
    assert outcome("unit_kind_for_categories", params, facts(form(category=category), units=[unit(kind=kind)])) == expected


@pytest.mark.parametrize(("role", "any_role", "expected"), [
    ("member", True, "fail"), ("member", False, "pass"), ("lead", False, "fail"),
])
def test_applications_counted_across_roles(role: str, any_role: bool, expected: str) -> None:
    other = project("p-9", role=role, rank=1 if role == "lead" else 3, status="applied", call_id="c-9",
                    started_on=date(2025, 2, 1))
    params = {"max": 1, "any_role": any_role}
    assert outcome("applications_per_year", params, facts(projects=[other])) == expected


@pytest.mark.parametrize(("until", "expected"), [(None, "pass"), (date(2025, 3, 19), "pass"),
                                                 (date(2025, 3, 20), "fail")])
def test_restriction_period_ends_on_its_last_day(until: date | None, expected: str) -> None:
    assert outcome("not_restricted", {"who": ["unit"]}, facts(units=[unit(restricted_until=until)])) == expected
    assert outcome("not_restricted", {"who": ["pi"]}, facts(pi=person(restricted_until=until))) == expected


@pytest.mark.parametrize(("topic", "category", "expected"), [
    ("11", "key", "pass"), ("12", "key", "fail"), ("12", "general", "pass"), (None, "key", "fail"),
    ("99", "open", "pass"),
])
def test_only_the_guides_topics(topic: str | None, category: str, expected: str) -> None:
    params = {"by_category": {"key": [str(i) for i in range(1, 12)], "general": ["12"]}}
    assert outcome("topic_in_guide", params, facts(form(topic=topic, category=category))) == expected


GOALS = {"goals": ["a", "b", "c", "d", "e", "f"], "min": 4}


@pytest.mark.parametrize(("goals", "expected"), [
    (["a", "b", "c", "d"], "pass"), (["a", "b", "c"], "fail"), (["a", "b", "c", "c"], "fail"),
    (["a", "b", "c", "x"], "fail"),
])
def test_at_least_4_of_6_goals(goals: list[str], expected: str) -> None:
    assert outcome("min_goals", GOALS, facts(form(goals=goals))) == expected


def test_goals_minimum_must_be_reachable() -> None:
    with pytest.raises(ValidationError, match="more than the 2 goals"):
        KINDS["min_goals"].params.model_validate({"goals": ["a", "b"], "min": 3})


def agreement(signed: date | None, until: date | None) -> Attachment:
    return Attachment(kind="cooperation_agreement", filename="agreement.pdf", media_type="application/pdf", size=9,
                      sha256=SHA, document_date=signed, valid_until=until)


@pytest.mark.parametrize(("signed", "until", "expected"), [
    (date(2025, 3, 20), None, "pass"), (date(2025, 3, 21), None, "fail"), (date(2024, 1, 1), date(2025, 3, 20), "pass"),
    (date(2024, 1, 1), date(2025, 3, 19), "fail"), (None, None, "review"),
])
def test_agreement_in_force_on_the_application_day(signed: date | None, until: date | None, expected: str) -> None:
    f = facts(form(attachments=[agreement(signed, until)]))
    assert outcome("agreement_in_force", {"attachment": "cooperation_agreement"}, f) == expected


def test_agreement_day_is_the_submission_day_in_the_calls_zone() -> None:
    early_morning = datetime(2025, 3, 20, 1, 0, tzinfo=ZONE).astimezone(UTC)  # still the 19th in UTC
    f = facts(form(attachments=[agreement(date(2025, 3, 20), None)]), at=early_morning)
    assert outcome("agreement_in_force", {"attachment": "cooperation_agreement"}, f) == "pass"


@pytest.mark.parametrize(("pi", "member", "known", "expected"), [
    (True, True, True, "pass"), (False, True, True, "fail"), (True, False, True, "fail"), (True, True, False, "review"),
])
def test_real_name_authentication(pi: bool, member: bool, known: bool, expected: str) -> None:
    f = facts(form(team=[TeamMember(person_id="m1", unit_id="u1")]), pi=person(identity_verified=pi),
              people=[person("m1", identity_verified=member)] if known else [])
    assert outcome("identity_verified", {"who": ["pi", "team"]}, f) == expected


@pytest.mark.parametrize(("changes", "expected"), [
    ({"kind": "enterprise", "rd_registered_years": (2024,)}, "pass"), ({"kind": "enterprise"}, "fail"),
    ({"kind": "enterprise", "registered_on": date(2024, 3, 21)}, "pass"),
    ({"kind": "enterprise", "registered_on": date(2024, 3, 20)}, "fail"), ({"kind": "university"}, "pass"),
])
def test_rd_registration_of_enterprises_a_year_old(changes: dict[str, Any], expected: str) -> None:
    assert AT.date() == date(2025, 3, 20)
    assert outcome("rd_registration", {"year": 2024}, facts(units=[unit(**changes)])) == expected
