"""The command line signs in instead of declaring who it is, and refuses bad input with one line and exit 1
before anything is stored or sent; text it prints is escaped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli import app
from commands.common import safe
from records.accounts import AccountRow, RefusalRow
from tests.conftest import CALLS

CALL = "sx-2025-basic-geology"


@pytest.fixture
def env(db: Engine, tmp_path: Path) -> dict[str, str]:
    return {"GRANTFLOW_DATABASE_URL": str(db.url), "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9",
            "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_login_whoami_logout_and_the_operator(env: dict[str, str], db: Engine) -> None:
    assert run(env, "users", "add", "pm-1", "--grant", f"manager@call:{CALL}", "--password-stdin",
               stdin="a long enough password\n")[0] == 0
    code, output = run(env, "phase", "advance", CALL, "--reason", "开始")
    assert (code, output.count("\n")) == (1, 1) and "not signed in" in output
    assert run(env, "login", "pm-1", "--password-stdin", stdin="wrong password here\n") == (
        1, "error: wrong account or password\n")
    assert run(env, "login", "pm-1", "--password-stdin", stdin="a long enough password\n")[0] == 0
    assert run(env, "whoami") == (0, f"pm-1 (local): manager@call:{CALL}\n")
    assert run(env, "users", "disable", "pm-1")[0] == 0
    assert run(env, "whoami") == (1, "error: account pm-1 is disabled or unknown\n")
    assert run(env, "logout") == (0, "signed out\n")
    code, output = run(env, "--operator", "whoami")
    assert code == 0 and output.startswith("operator@") and "(operator): manager@*" in output
    code, output = run(env, "users", "add", "x-1", "--grant", "manager@*", "--password-stdin", stdin="0123456789\n")
    assert code == 1 and "a manager is granted scope call or programme, not '*'" in output
    with Session(db) as s:
        assert [a.id for a in s.exec(select(AccountRow)).all()] == ["pm-1"]


@pytest.mark.parametrize("args, fragment", [
    (["act", "a1", "submit", "--as", "manager"], "No such option: --as"),
    (["deadline", "extend", CALL, "application", "2025-04-10T17:00:00", "--reason", "r"], "naive datetime"),
    (["deadline", "extend", CALL, "application", "2025-04-10", "--reason", "r"], "a date without a time"),
    (["deadline", "extend", CALL, "application", "tomorrow", "--reason", "r"], "not an ISO 8601 date"),
    (["--operator", "phase", "advance", CALL, "--reason", "\x1b[2J\a\u202eok"], "control or formatting character"),
    (["--operator", "phase", "advance", CALL, "--reason", "  "], "reason is empty"),
    (["--operator", "act", "a/b", "submit"], "application id 'a/b' must be"),
    (["--operator", "act", "it's\"", "submit"], "must be 1-80 letters"),
    (["--operator", "status", "x" * 100], "must be 1-80 letters"),
    (["--operator", "apply", CALL, "--category", "key", "--title", ""], "title is empty"),
    (["--operator", "apply", CALL, "--category", "key", "--title", "t" * 100_000], "at most 300"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(env: dict[str, str], db: Engine, args: list[str],
                                                   fragment: str) -> None:
    code, output = run(env, *args)
    assert code != 0 and fragment in output, output
    if code == 1:
        assert output.count("\n") == 1 and "\x1b" not in output and "\u202e" not in output
    with Session(db) as s:
        assert s.exec(select(RefusalRow)).all() == []  # bad input is not an attempt: nothing is stored


def test_a_ten_megabyte_call_file_is_refused_in_one_line(env: dict[str, str], tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text((CALLS / "000-sx-2025-basic-research-geology.yaml").read_text(encoding="utf-8")
                   + "#" * 10_000_000 + "\n", encoding="utf-8")
    code, output = run(env, "calls", "validate", str(big))
    assert code == 1 and output == f"{big}: {big.stat().st_size} bytes; a call file has at most 1000000\n"


def test_text_for_the_terminal_is_escaped() -> None:
    assert safe("同意\x1b[31m[bold]x[/bold]\a\u202e") == "同意\\x1b[31m\\[bold]x\\[/bold]\\x07\\u202e"
