"""Call files: the seeds validate; every malformed file gets "file: field.path: reason" lines; `calls clone`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from cli import app
from models.call import CallDefinition, CallFileError, load_call
from models.holidays import build_calendar
from models.timetable import Timetable

CALLS = Path(__file__).resolve().parent.parent / "calls"
SEEDS = sorted(CALLS.glob("*.yaml"))
CALL_000 = next(CALLS.glob("000-*.yaml"))
YEAR_OF_WEEKS = timedelta(days=364)
Edit = Callable[[dict[str, Any]], None]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def seed_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CALL_000.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def item(items: list[dict[str, Any]], ident: str) -> dict[str, Any]:
    return next(x for x in items if x["id"] == ident)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CallFileError) as raised:
        load_call(path)
    assert raised.value.path == str(path)
    return raised.value.problems


def assert_cli_reports(args: list[str], problems: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an escaped exception
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == problems


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_every_seed_call_validates(path: Path) -> None:
    call = load_call(path)
    result = invoke("calls", "validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok {path}: {call.id} ")
    assert result.stderr == ""


def _set(kind: str, ident: str, key: str, value: object) -> Edit:
    return lambda data: item(data[kind], ident).__setitem__(key, value)


MALFORMED: dict[str, tuple[Edit, str, str]] = {
    "naive-datetime": (
        _set("phases", "application", "opens", "2025-03-05T09:30:00"),
        "phases.application.opens",
        "naive datetime '2025-03-05T09:30:00': write its offset, 2025-03-05T09:30:00+08:00",
    ),
    "date-without-an-hour": (
        _set("phases", "application", "closes", "2025-04-07"),
        "phases.application.closes",
        "'2025-04-07': a date without an hour: for the end of that day write 2025-04-08T00:00:00+08:00 "
        "(00:00 of the next day)",
    ),
    "twenty-four-hundred": (
        _set("phases", "application", "closes", "2025-04-07T24:00+08:00"),
        "phases.application.closes",
        "'2025-04-07T24:00+08:00': 24:00 is not an hour here: for the end of that day write "
        "2025-04-08T00:00:00+08:00 (00:00 of the next day)",
    ),
    "no-such-day": (
        _set("phases", "application", "closes", "2025-02-30T17:00:00+08:00"),
        "phases.application.closes",
        "'2025-02-30T17:00:00+08:00' is not an instant (input should be a valid datetime or date, day value is "
        "outside expected range): write one like 2025-04-07T17:00:00+08:00",
    ),
    "end-before-start": (
        _set("phases", "application", "closes", "2025-03-01T17:00:00+08:00"),
        "phases.application",
        "closes 2025-03-01T17:00:00+08:00 is not after opens 2025-03-05T09:30:00+08:00",
    ),
    "end-before-previous-end": (
        _set("phases", "recommendation", "closes", "2025-04-01T17:00:00+08:00"),
        "phases.recommendation.closes",
        "2025-04-01T17:00:00+08:00 is not after application closes 2025-04-07T17:00:00+08:00, when recommendation "
        "opens (opens: previous): a window with no valid instant (give recommendation an opening date of its own if "
        "it overlaps application)",
    ),
    "unknown-role": (
        _set("chain", "organiser_review", "role", "dean"),
        "chain.organiser_review.role",
        "unknown role 'dean' (roles: applicant, cto, unit_admin, recommender, agency, manager, expert, committee)",
    ),
    "unknown-flag": (
        _set("chain", "organiser_review", "when", "enterprise_led"),
        "chain.organiser_review.when",
        "unknown flag 'enterprise_led' (declare it under flags)",
    ),
    "deadline-unknown-phase": (
        _set("chain", "unit_review", "deadline", {"phase": "papers"}),
        "chain.unit_review.deadline.phase",
        "unknown phase 'papers'",
    ),
    "unknown-top-level-key": (
        lambda data: data.update(deadline="2025-04-07T17:00:00+08:00"),
        "deadline",
        "unknown field (not part of a call file here: check its spelling and indentation)",
    ),
    "missing-required-key": (lambda data: data.pop("title"), "title", "required field missing"),
    "close-in-words": (
        _set("phases", "publicity", "closes", "5 working days"),
        "phases.publicity.closes",
        "'5 working days' is not a datetime with its offset, {working_days: N}, {days: N} or manual",
    ),
    "unknown-key-in-a-close": (
        _set("phases", "publicity", "closes", {"working_days": 5, "weeks": 1}),
        "phases.publicity.closes.weeks",
        "unknown field (not part of a call file here: check its spelling and indentation)",
    ),
    "todo-left-in-a-text-field": (
        _set("phases", "publicity", "name", "TODO"),
        "phases.publicity.name",
        "TODO left for a person by `calls draft` (the comment beside it gives the sentence and the readings)",
    ),
    "hours-with-an-offset": (
        _set("phases", "paper", "hours", {"start": "08:30", "end": "17:30+08:00"}),
        "phases.paper.hours.end",
        "17:30:00+08:00 has an offset: daily hours are wall-clock times in the call's timezone",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=str)
def test_a_malformed_call_file_names_the_field(tmp_path: Path, case: str) -> None:
    edit, field, reason = MALFORMED[case]
    data = seed_data()
    edit(data)
    path = write(tmp_path / f"{case}.yaml", data)
    problems = problems_of(path)
    assert problems == [f"{path}: {field}: {reason}"]
    assert_cli_reports(["calls", "validate", str(path)], problems)


def test_unquoted_hours_are_refused_with_the_time_to_write(tmp_path: Path) -> None:
    text = CALL_000.read_text(encoding="utf-8").replace('start: "08:30", end: "17:30"', "start: 8:30, end: 17:30")
    path = tmp_path / "unquoted-hours.yaml"
    path.write_text(text, encoding="utf-8")
    assert problems_of(path) == [
        f'{path}: phases.paper.hours.start: write the time in quotes, e.g. "08:30" '
        "(unquoted, YAML reads it as the number 510)",
        f'{path}: phases.paper.hours.end: write the time in quotes, e.g. "17:30" '
        "(unquoted, YAML reads it as the number 1050)",
    ]


def test_every_problem_is_one_line(tmp_path: Path) -> None:
    data = seed_data()
    item(data["chain"], "organiser_review")["when"] = "enterprise_led"
    item(data["chain"], "unit_review")["deadline"] = {"phase": "papers"}
    path = write(tmp_path / "two-problems.yaml", data)
    problems = problems_of(path)
    assert problems == [
        f"{path}: chain.unit_review.deadline.phase: unknown phase 'papers'",
        f"{path}: chain.organiser_review.when: unknown flag 'enterprise_led' (declare it under flags)",
    ]
    assert_cli_reports(["calls", "validate", str(path)], problems)


def test_a_yaml_syntax_error_is_one_line_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("id: sx-broken\ntitle: [unclosed\nissuer: x\n", encoding="utf-8")
    problems = problems_of(path)
    assert problems == [
        f"{path}: line 3, column 7: not valid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started at line 2)"
    ]
    assert_cli_reports(["calls", "validate", str(path)], problems)


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- id: x\n", encoding="utf-8")
    assert problems_of(path) == [f"{path}: (file): expected a mapping of call fields"]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such-call.yaml"
    problems = problems_of(path)
    assert problems == [f"{path}: cannot read: No such file or directory"]
    assert_cli_reports(["calls", "validate", str(path)], problems)


def test_validate_reports_every_file_and_fails_if_any_fails(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-call.yaml"
    result = invoke("calls", "validate", str(CALL_000), str(missing))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"ok {CALL_000}: sx-2025-basic-geology ")
    assert result.stderr.splitlines() == [f"{missing}: cannot read: No such file or directory"]


@pytest.mark.parametrize("command", ["show", "diagram", "clone"])
def test_other_call_commands_report_a_malformed_file_the_same_way(tmp_path: Path, command: str) -> None:
    data = seed_data()
    item(data["phases"], "application")["opens"] = "2025-03-05T09:30:00"
    path = write(tmp_path / "naive.yaml", data)
    extra = ["--open", "2026-03-04T09:30:00+08:00", "--id", "x"] if command == "clone" else []
    assert_cli_reports(["calls", command, str(path), *extra], problems_of(path))


def test_a_call_beyond_the_calendar_is_reported_naming_the_year(tmp_path: Path) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text(CALL_000.read_text(encoding="utf-8").replace("2025-", "2027-"), encoding="utf-8")
    for command in ("validate", "show"):
        result = invoke("calls", command, str(path))
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"{path}: call sx-2027-basic-geology: no official working-day data for 2027 ")


def test_show_prints_every_instant_in_full() -> None:
    result = invoke("calls", "show", str(CALL_000))
    assert result.exit_code == 0
    for instant in ("2025-03-05 09:30", "2025-04-07 17:00", "2025-04-11 17:00", "2025-04-14 08:30", "2025-04-16 17:30"):
        assert instant in result.stdout
    assert "instants in Asia/Shanghai" in result.stdout
    assert "…" not in result.stdout


# ---- calls clone ---------------------------------------------------------------------------------------


def clone(source: Path, target: Path, opens: str, new_id: str = "sx-2026-basic-geology") -> Result:
    return invoke("calls", "clone", str(source), "--open", opens, "--id", new_id, "--out", str(target))


def test_clone_writes_the_next_edition_a_year_of_weeks_later(tmp_path: Path) -> None:
    target = tmp_path / "next.yaml"
    result = clone(CALL_000, target, "2026-03-04T09:30:00+08:00")
    assert result.exit_code == 0, result.output
    old, new = load_call(CALL_000), load_call(target)
    assert new.id == "sx-2026-basic-geology"
    assert new.issued == date(2026, 2, 27)
    assert new.dated_instants() == [i + YEAR_OF_WEEKS for i in old.dated_instants()]
    assert [(i.weekday(), i.timetz()) for i in new.dated_instants()] == [
        (i.weekday(), i.timetz()) for i in old.dated_instants()
    ]
    assert new.model_dump(exclude={"id", "issued", "phases", "categories"}) == old.model_dump(
        exclude={"id", "issued", "phases", "categories"}
    )
    assert invoke("calls", "validate", str(target)).exit_code == 0


def test_clone_recomputes_working_day_closes_from_the_new_years_calendar(tmp_path: Path) -> None:
    data = seed_data()
    item(data["phases"], "publicity")["opens"] = "2025-09-22T09:00:00+08:00"
    source = write(tmp_path / "dated-publicity.yaml", data)
    target = tmp_path / "next.yaml"
    assert clone(source, target, "2026-03-04T09:30:00+08:00").exit_code == 0
    old, new = load_call(source), load_call(target)
    assert new.phase("publicity").closes == old.phase("publicity").closes  # still {working_days: 5}

    def publicity_closes(call: CallDefinition) -> object:
        return Timetable.from_definition(call, build_calendar(call)).get("publicity").closes

    # 2025: Tue 23 .. Fri 26, Sun 28 (make-up) -> 24:00 on the 28th
    assert str(publicity_closes(old)) == "2025-09-29 00:00:00+08:00"
    # 2026: Tue 22 .. Thu 24, (Mid-Autumn Fri 25 - Sun 27), Mon 28, Tue 29 -> 24:00 on the 29th, not a year of weeks later
    assert str(publicity_closes(new)) == "2026-09-30 00:00:00+08:00"


def test_clone_prints_to_stdout_without_out() -> None:
    result = invoke("calls", "clone", str(CALL_000), "--open", "2026-03-04T09:30:00+08:00", "--id", "sx-next")
    assert result.exit_code == 0
    data = yaml.safe_load(result.stdout)
    assert data["id"] == "sx-next"
    CallDefinition.model_validate(data)


@pytest.mark.parametrize(
    ("opens", "message"),
    [
        (
            "2026-03-04T09:30:00",
            "error: --open '2026-03-04T09:30:00' is a naive datetime: give the offset, e.g. 2026-03-04T09:30:00+08:00",
        ),
        ("next march", "error: --open 'next march' is not an ISO datetime, e.g. 2026-03-04T09:30:00+08:00"),
        (
            "2026-03-05T09:30:00+08:00",
            "error: --open 2026-03-05T09:30:00+08:00: a clone moves the call by whole weeks, so it opens on a "
            "Wednesday at 09:30 as the original does (2025-03-05T09:30:00+08:00): use 2026-03-04T09:30:00+08:00 "
            "or 2026-03-11T09:30:00+08:00",
        ),
    ],
    ids=["naive", "not-a-datetime", "not-whole-weeks"],
)
def test_clone_refuses_an_open_it_cannot_honour(tmp_path: Path, opens: str, message: str) -> None:
    target = tmp_path / "next.yaml"
    assert_cli_reports(["calls", "clone", str(CALL_000), "--open", opens, "--id", "x", "--out", str(target)], [message])
    assert not target.exists()


def test_clone_refuses_a_bad_id(tmp_path: Path) -> None:
    target = tmp_path / "next.yaml"
    result = clone(CALL_000, target, "2026-03-04T09:30:00+08:00", new_id="Shanxi 2026")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [f"{target}: id: String should match pattern '^[a-z0-9][a-z0-9-]*$'"]
    assert not target.exists()


def test_clone_refuses_an_undated_call(tmp_path: Path) -> None:
    source = next(CALLS.glob("003-*.yaml"))
    assert_cli_reports(
        ["calls", "clone", str(source), "--open", "2026-03-04T09:30:00+08:00", "--id", "x"],
        [f"error: {source}: the call has no dates to shift"],
    )


def test_clone_into_a_year_without_a_calendar_is_refused_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "next.yaml"
    result = clone(CALL_000, target, "2027-03-03T09:30:00+08:00")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    [line] = result.stderr.splitlines()
    assert line.startswith("error: call sx-2026-basic-geology: no official working-day data for 2027 ")
    assert not target.exists()


def test_a_todo_left_by_the_draft_is_named_as_such_and_nothing_else(tmp_path: Path) -> None:
    data = seed_data()
    data["issued"] = "TODO"
    item(data["phases"], "application")["closes"] = "TODO"  # a union field: date, relative close or manual
    path = write(tmp_path / "draft.yaml", data)
    left = "TODO left for a person by `calls draft` (the comment beside it gives the sentence and the readings)"
    assert problems_of(path) == [f"{path}: issued: {left}", f"{path}: phases.application.closes: {left}"]
