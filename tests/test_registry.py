"""The registry: import errors per row, the seeded sample (deterministic, with ineligible cases), snapshots."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from operator import attrgetter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from activities.eligibility import EligibilityActivities, EvaluateInput
from cli import app
from infra.temporal import DATA_CONVERTER
from models.call import CallDefinition, load_call
from models.facts import Facts
from models.rules import Verdict, evaluate, rule_ids
from records.engine import make_engine
from records.registry import RowError, id_check_digit, import_file, import_rows, snapshot
from records.registry_tables import PersonRow, ProjectRow, UnitRow
from records.tables import ApplicationRow, CallRow, TransitionRow
from simulation.population import PERSON_PROFILES, PROFILES, sample_population, sample_registry
from tests.builders import AT, form
from tests.conftest import CALLS

PEOPLE_HEADER = "id,name,birth_date,title,degree,unit_id\n"


def resident_id(birth: str, seq: str = "001") -> str:
    first17 = f"140105{birth.replace('-', '')}{seq}"
    return first17 + id_check_digit(first17)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    yield e
    e.dispose()


def units_json(tmp_path: Path) -> Path:
    path = tmp_path / "units.json"
    path.write_text(json.dumps({"units": [
        {"id": "u1", "name": "山西示范大学", "registered_on": "2001-05-01", "province": "CN-SX", "kind": "university"},
        {"id": "u2", "name": "广西示范公司", "registered_on": "2019-05-01", "province": "CN-GX", "kind": "enterprise",
         "cto_id": "cto-1"},
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


def test_csv_import_reports_every_bad_row_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    good = resident_id("1975-06-01")
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE_HEADER + "\n".join([
        f"{good},王伟,1975-06-01,associate_senior,phd,u1",  # line 2: fine
        f"{resident_id('1980-01-01', '002')},李娜,1980-02-30,full_senior,phd,u1",  # 3: no such date
        f"{good[:17]}0,张强,1975-06-01,associate_senior,phd,u1",  # 4: wrong check character
        f"{resident_id('1981-01-01', '003')},刘敏,1982-01-01,associate_senior,phd,u1",  # 5: birth date differs
        f"{resident_id('1983-01-01', '004')},陈静,1983-01-01,professor,phd,u1",  # 6: unknown title
        f"{resident_id('1984-01-01', '005')},杨洋,1984-01-01,associate_senior,phd,u9",  # 7: unknown unit
        f"{good},王伟,1975-06-01,associate_senior,phd,u1",  # 8: the same person again
        f"{resident_id('1985-01-01', '006')},,1985-01-01,associate_senior,phd,u1",  # 9: no name
    ]) + "\n", encoding="utf-8")
    with Session(engine) as s:
        import_file(s, units_json(tmp_path))
        report = import_file(s, path)
        written = s.exec(select(PersonRow)).all()
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "birth_date"), (4, "id"), (5, "birth_date"), (6, "title"), (7, "unit_id"), (8, "id"), (9, "name")]
    assert "check character 0 is wrong" in report.errors[1].reason
    assert str(report.errors[4]) == "people row 7: unit_id: unknown unit 'u9'"
    assert report.counts == {} and written == []


def test_json_import_merges_by_key(engine: Engine, tmp_path: Path) -> None:
    person = {"id": resident_id("1975-06-01"), "name": "王伟", "birth_date": "1975-06-01", "unit_id": "u1"}
    projects = [{"project_id": "p1", "person_id": person["id"], "unit_id": "u1", "programme": "山西省重点研发计划",
                 "province": "CN-SX", "status": "closed", "verdict": "poor", "closed_on": "2024-01-01",
                 "started_on": "2021-01-01", "ends_on": "2023-12-31"}]
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"people": [person], "projects": projects}, ensure_ascii=False), encoding="utf-8")
    with Session(engine) as s:
        import_file(s, units_json(tmp_path))
        assert import_file(s, path).counts == {"people": 1, "projects": 1}
        person["title"] = "full_senior"
        path.write_text(json.dumps({"people": [person]}, ensure_ascii=False), encoding="utf-8")
        assert import_file(s, path).errors == []
        assert [p.title for p in s.exec(select(PersonRow)).all()] == ["full_senior"]


@pytest.mark.parametrize(("project", "column", "reason"), [
    ({"status": "closed"}, "verdict", "a closed project has a verdict and a closed_on date"),
    ({"status": "ongoing", "verdict": "good"}, "verdict", "only a closed project has one"),
    ({"status": "ongoing", "ends_on": "2020-12-31"}, "ends_on", "is before started_on"),
    ({"status": "ongoing", "role": "lead", "rank": 2}, "rank", "the lead is ranked 1"),
    ({"status": "pending"}, "status", "Input should be 'applied', 'ongoing', 'closed', 'overdue' or 'withdrawn'"),
    ({"status": "ongoing", "person_id": "nobody"}, "person_id", "unknown person 'nobody'"),
    ({"status": "ongoing", "colour": "red"}, "colour", "unknown column"),
])
def test_project_rows_are_checked(engine: Engine, project: dict[str, str], column: str, reason: str) -> None:
    row = {"project_id": "p1", "person_id": "x1", "unit_id": "u1", "programme": "山西省重点研发计划",
           "province": "CN-SX", "started_on": "2021-01-01", "ends_on": "2023-12-31", **project}
    unit = {"id": "u1", "name": "大学", "registered_on": "2001-05-01", "province": "CN-SX", "kind": "university"}
    person = {"id": "x1", "id_type": "passport", "name": "Ann", "birth_date": "1970-01-01"}
    with Session(engine) as s:
        report = import_rows(s, {"units": [(1, unit)], "people": [(1, person)], "projects": [(4, row)]})
    assert len(report.errors) == 1
    assert (report.errors[0].row, report.errors[0].column) == (4, column) and reason in report.errors[0].reason


def test_cli_import_prints_row_errors(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'registry.db'}")
    runner = CliRunner()
    done = runner.invoke(app, ["registry", "import", str(units_json(tmp_path))])
    assert done.exit_code == 0 and "imported 2 units" in done.output
    bad = tmp_path / "staff.csv"
    bad.write_text(PEOPLE_HEADER + f"{resident_id('1975-06-01')},王伟,1975-06-01,associate_senior,phd,u7\n",
                   encoding="utf-8")
    failed = runner.invoke(app, ["registry", "import", str(bad), "--table", "people"])
    assert failed.exit_code == 1
    assert f"{bad}: people row 2: unit_id: unknown unit 'u7'" in failed.output
    unnamed = runner.invoke(app, ["registry", "import", str(bad)])
    assert unnamed.exit_code == 1 and "say which table it holds" in unnamed.output


# ---- the sample --------------------------------------------------------------------------------------------------


def test_the_sample_registry_is_deterministic_and_importable(engine: Engine, tmp_path: Path) -> None:
    first, again = sample_registry(7, date(2025, 1, 1), 120), sample_registry(7, date(2025, 1, 1), 120)
    assert first.rows() == again.rows()
    assert first.rows() != sample_registry(8, date(2025, 1, 1), 120).rows()
    assert set(PERSON_PROFILES) <= set(first.profiles.values())
    path = tmp_path / "sample.json"
    runner = CliRunner()
    for out in (path, tmp_path / "again.json"):
        done = runner.invoke(app, ["registry", "sample", "--seed", "7", "--people", "30", "--out", str(out)])
        assert done.exit_code == 0
    assert path.read_bytes() == (tmp_path / "again.json").read_bytes()
    with Session(engine) as s:
        report = import_file(s, path)
        assert report.errors == []
        assert report.counts["people"] == len(s.exec(select(PersonRow)).all()) > 30


AS_OF = {"000": date(2025, 3, 20), "001": date(2024, 11, 20), "002": date(2024, 4, 1), "003": date(2017, 3, 1),
         "004": date(2025, 6, 1)}
# A profile and a rule it must fail, per call (the notices differ in what they bar).
EXPECTED = {
    "000": {"phd_student": "no_full_time_phd_student", "overdue": "no_overdue", "three_ongoing": "ongoing_plus_applied",
            "poor_verdict": "barred_after_poor_verdict", "part_time": "pi_full_time", "low_title": "pi_title_or_degree",
            "stale_document": "attachment.employment_proof", "too_many_papers": "attachment.representative_paper",
            "blacklisted_unit": "units_not_blacklisted", "too_many_partners": "partners_at_most_2",
            "bad_term": "term_fixed", "outside_unit": "unit_in_shanxi", "not_pdf": "attachment.integrity_pledge",
            "over_cap": "requested_within_cap", "off_topic": "topic_in_guide"},
    "001": {"too_old": "pi_born_from_1967", "recent_cooperation_lead": "no_lead_in_5_years",
            "young_unit": "unit_in_shanxi_by_2023", "short_matching": "matching_funds", "blacklisted": "good_standing",
            "stale_document": "attachment.novelty_search", "elsewhere": "pi_employed", "bad_term": "term_2_to_3_years",
            "expired_agreement": "agreement_in_force"},
    "002": {"too_old": "director_age", "platform_unit": "no_existing_platform", "too_many_partners": "hosts_at_most_3",
            "outside_unit": "first_host_in_shanxi", "part_time": "director_full_time"},
    "003": {"inexperienced": "pi_related_experience", "civil_servant": "unit_is_enterprise_or_institution",
            "blacklisted_unit": "unit_good_credit"},
    "004": {"too_old": "pi_age_57", "civil_servant": "not_civil_servant", "team_outsiders": "team_share_90",
            "oversized": "attachment.feasibility_report", "flag_mismatch": "enterprise_led_flag",
            "no_cto": "cto_on_record",
            "overdue": "no_overdue", "three_ongoing": "led_ongoing_below_2", "branch_unit": "applicants_legal_entities",
            "short_matching": "enterprise_matching_3x", "blacklisted": "no_misconduct", "unverified": "real_name_authentication",
            "restricted_unit": "unit_credit", "no_rd_unit": "rd_activity_registration"},
}


# The seed calls, whose profiles and rules are listed above (every call file: tests/test_population_provinces.py).
@pytest.mark.parametrize("path", [p for p in sorted(CALLS.glob("*.yaml")) if p.name[:3] in AS_OF],
                         ids=lambda p: p.name[:3])
def test_sampled_populations_include_ineligible_applicants(path: Path) -> None:
    call, number = load_call(path), path.name[:3]
    population = sample_population(call, 140, 3, AS_OF[number])
    assert [f.application_id for f in population.forms[:2]] == [f"{call.id}.00000", f"{call.id}.00001"]
    at = datetime(*AS_OF[number].timetuple()[:3], 10, tzinfo=call.zone)
    failures: Counter[str] = Counter({rule: 0 for rule in rule_ids(call)})
    seen: set[str] = set()
    for f in population.forms:
        profile = population.registry.profiles[f.pi_id]
        verdicts = {v.rule_id: v for v in evaluate(call, population.facts(call, f, at))}
        failures.update(r for r, v in verdicts.items() if v.outcome == "fail")
        if profile == "eligible":
            assert {r: v.reason for r, v in verdicts.items() if v.outcome != "pass"} == {}, f.application_id
        elif profile in EXPECTED[number]:
            seen.add(profile)
            assert verdicts[EXPECTED[number][profile]].outcome == "fail", (profile, verdicts[EXPECTED[number][profile]])
    assert seen == set(EXPECTED[number])
    assert set(failures) == set(rule_ids(call)) and sum(failures.values()) > 10
    assert set(PROFILES) == set(population.registry.profiles.values())


def test_the_sample_population_is_deterministic() -> None:
    call = load_call(CALLS / "004-gx-key-rd-heavy-metal.yaml")
    one, two = (sample_population(call, 40, 5, date(2025, 6, 1)) for _ in range(2))
    assert one.forms == two.forms and one.registry.rows() == two.registry.rows()


# ---- snapshots from the database ----------------------------------------------------------------------------------


def add_application(s: Session, call: CallDefinition, app_id: str, applicant: str, state: str,
                    submitted: datetime | None = None) -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    if s.get(CallRow, call.id) is None:
        s.add(CallRow(id=call.id, title=call.title, version="v", definition_json=call.model_dump_json(),
                      timetable_json="{}", updated_at=now))
    s.add(ApplicationRow(id=app_id, call_id=call.id, workflow_id=app_id, category="c", title=f"title {app_id}",
                         applicant=applicant, unit="u1", version="v", state=state, updated_at=now))
    if submitted:
        s.add(TransitionRow(call_id=call.id, application_id=app_id, seq=1, trigger="submit", source="draft",
                            dest="awaiting_unit_review", actor_id=applicant, role="applicant", reason="", at=submitted))


def test_snapshot_reads_the_registry_and_applications_in_flight(engine: Engine) -> None:
    cooperation = load_call(CALLS / "001-sx-2024-cooperation-exchange.yaml")
    geology = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
    pi = resident_id("1975-06-01")
    with Session(engine) as s:
        s.add(UnitRow(id="u1", name="大学", registered_on=date(2001, 1, 1), province="CN-SX", kind="university"))
        s.add(PersonRow(id=pi, name="王伟", birth_date=date(1975, 6, 1), title="associate_senior", degree="phd",
                        unit_id="u1"))
        s.add(ProjectRow(project_id="p1", person_id=pi, unit_id="u1", programme="山西省重点研发计划", province="CN-SX",
                         status="ongoing", started_on=date(2024, 1, 1), ends_on=date(2026, 1, 1), title="旧项目"))
        submitted = datetime(2024, 12, 3, 16, 30, tzinfo=UTC)
        add_application(s, cooperation, "coop-1", pi, "awaiting_unit_review", submitted)
        add_application(s, cooperation, "coop-2", pi, "draft")
        add_application(s, cooperation, "coop-3", pi, "not_funded")
        add_application(s, geology, "geo-other", pi, "formal_passed")
        s.commit()
        facts_now = snapshot(s, form(application_id="geo-mine", call_id=geology.id, pi_id=pi))
    assert facts_now.pi is not None and facts_now.pi.title == "associate_senior"
    assert [p.project_id for p in facts_now.projects] == ["p1"]
    assert [(a.application_id, a.programme, a.province, a.submitted_on) for a in facts_now.pending] == [
        ("coop-1", "山西省科技合作交流专项", "CN-SX", date(2024, 12, 4))]  # 00:30 on 4 December in Shanghai
    assert {w.ref for w in facts_now.prior_work} == {"coop-1", "coop-2", "coop-3", "geo-other", "p1"}


def test_snapshot_projects_read_from_columns_equal_the_validated_rows(engine: Engine) -> None:
    """`project_facts` builds facts from columns by position; the sample's own snapshot validates each row."""
    call = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
    population = sample_population(call, 80, 5, AS_OF["000"])
    with Session(engine) as s:
        population.registry.write(s)
    key = attrgetter("project_id", "person_id")
    read = 0
    for f in population.forms:
        with Session(engine) as s:
            stored = snapshot(s, f, ())
        expected = population.registry.snapshot(f, ())
        assert sorted(stored.projects, key=key) == sorted(expected.projects, key=key)
        assert sorted(stored.unit_projects, key=key) == sorted(expected.unit_projects, key=key)
        read += len(stored.unit_projects)
    kinds = {(p.status, p.verdict is None, p.closed_on is None) for p in population.registry.snapshot(
        population.forms[0], ()).unit_projects}
    assert read > 0 and len(kinds) > 1


def test_a_units_projects_closed_before_the_submission_year_are_left_out_and_decide_nothing(engine: Engine) -> None:
    """The unit's lead projects that no unit rule counts (closed, started before the submission year) are not read;
    one closed in that year still counts against 002's one application a year, and every verdict is unchanged."""
    call = load_call(CALLS / "002-sx-2024-innovation-centres.yaml")
    population = sample_population(call, 60, 2, AS_OF["002"])
    at = datetime(2024, 4, 1, 10, tzinfo=call.zone)
    with Session(engine) as s:
        population.registry.write(s)
        unit = population.forms[0].unit_id
        for pid, started in (("closed-2023", date(2023, 2, 1)), ("closed-2024", date(2024, 1, 15))):
            s.add(ProjectRow(project_id=pid, person_id="someone", unit_id=unit, programme="山西省技术创新中心",
                             province="CN-SX", status="closed", verdict="pass", started_on=started,
                             ends_on=date(2024, 3, 1), closed_on=date(2024, 3, 1)))
        s.commit()
        every, countable = snapshot(s, population.forms[0], ()), snapshot(s, population.forms[0], (), 2024)
        assert {"closed-2023", "closed-2024"} <= {p.project_id for p in every.unit_projects}
        assert "closed-2024" in {p.project_id for p in countable.unit_projects}
        assert {p.project_id for p in every.unit_projects} - {p.project_id for p in countable.unit_projects} == {
            p.project_id for p in every.unit_projects if p.status == "closed" and p.started_on.year < 2024}
        verdict = {v.rule_id: v for v in evaluate(call, Facts(population.forms[0], countable, at, call.zone))}
        assert verdict["one_application_a_year"].outcome == "fail"
        for f in population.forms:
            assert evaluate(call, Facts(f, snapshot(s, f, ()), at, call.zone)) == evaluate(
                call, Facts(f, snapshot(s, f, (), 2024), at, call.zone)), f.application_id


def test_a_signed_contract_counts_until_the_registry_lists_its_project(engine: Engine) -> None:
    cooperation = load_call(CALLS / "001-sx-2024-cooperation-exchange.yaml")
    mine = form(application_id="geo-mine", call_id="sx-2025-basic-geology", pi_id="pi-1")
    with Session(engine) as s:
        add_application(s, cooperation, "coop-9", "pi-1", "contract_signed")
        s.commit()
        assert [a.application_id for a in snapshot(s, mine).pending] == ["coop-9"]
        s.add(ProjectRow(project_id="p9", person_id="pi-1", unit_id="u1", programme=cooperation.programme,
                         province="CN-SX", call_id=cooperation.id, status="ongoing", started_on=date(2025, 1, 1),
                         ends_on=date(2027, 12, 31)))
        s.commit()
        assert snapshot(s, mine).pending == ()
        add_application(s, cooperation, "coop-8", "pi-2", "contract_signed")  # listed under the unit's other person,
        s.add(ProjectRow(project_id="p8", person_id="pi-3", unit_id="u1", programme=cooperation.programme,  # closed
                         province="CN-SX", call_id=cooperation.id, status="closed", verdict="pass",  # years ago
                         started_on=date(2021, 1, 1), ends_on=date(2023, 12, 31), closed_on=date(2024, 2, 1)))
        s.commit()
        assert snapshot(s, mine, (), 2025).pending == ()  # found although the unit's projects read leave it out
        assert "p8" not in {p.project_id for p in snapshot(s, mine, (), 2025).unit_projects}


def test_the_activity_evaluates_every_rule_of_the_call(engine: Engine) -> None:
    call = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
    verdicts = EligibilityActivities(engine).evaluate_formal(EvaluateInput(call, form(call_id=call.id), AT))
    assert [v.rule_id for v in verdicts] == rule_ids(call)
    by_id = {v.rule_id: v for v in verdicts}
    assert by_id["pi_full_time"].outcome == "review"  # the PI is not in this empty registry
    assert by_id["attachment.id_card"].outcome == "fail"


def test_the_duplicate_check_reads_applications_added_since_the_last_review(engine: Engine) -> None:
    """The corpus is read once for a burst of reviews, but a new application (or project) is in the next one."""
    call = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
    mine = form(call_id=call.id)
    activities = EligibilityActivities(engine)

    def duplicate_check() -> Verdict:
        return next(v for v in activities.evaluate_formal(EvaluateInput(call, mine, AT)) if v.rule_id == "no_duplicate")

    assert duplicate_check().outcome == "pass"
    with Session(engine) as s:
        add_application(s, call, "geo-copy", "someone-else", "awaiting_unit_review")
        s.get_one(ApplicationRow, "geo-copy").title = mine.title
        s.commit()
    found = duplicate_check()
    assert found.outcome == "review" and "geo-copy" in found.reason


def test_row_errors_read_as_file_row_column_reason() -> None:
    assert str(RowError("units", 3, "province", "bad")) == "units row 3: province: bad"


def test_activity_input_and_verdicts_cross_the_temporal_boundary(engine: Engine) -> None:
    call = load_call(CALLS / "004-gx-key-rd-heavy-metal.yaml")
    inp = EvaluateInput(call, form(call_id=call.id, flags={"enterprise_led": True}), AT)
    converter = DATA_CONVERTER.payload_converter
    travelled = EvaluateInput(call.model_copy(update={"unchecked": []}), inp.form, inp.submitted_at)
    assert call.unchecked  # documentation of the file: it stays home, the rules travel
    assert converter.from_payloads(converter.to_payloads([inp]), [EvaluateInput]) == [travelled]
    verdicts = EligibilityActivities(engine).evaluate_formal(inp)
    assert converter.from_payloads(converter.to_payloads([verdicts]), [list[Verdict]]) == [verdicts]
