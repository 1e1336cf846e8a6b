"""What starting the command line loads: `import cli` and `grantflow --help` none of the command modules, showing a
call file neither the service layer nor Temporal's client, and the service layer none of the solvers or writers;
the help listed from cli.COMMANDS is the help the commands give themselves."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.core import TyperGroup
from typer.testing import CliRunner

import cli
from tests.conftest import CALLS, ROOT

CALL_000 = next(CALLS.glob("000-*.yaml"))
SOLVERS_AND_WRITERS = ("scipy", "ortools.graph", "numpy", "rapidfuzz", "reportlab", "segno", "icalendar", "openpyxl",
                       "cn2an", "opencc", "bs4", "pypdf", "alembic", "opentelemetry.sdk", "playwright", "uvicorn",
                       "fastapi", "sqlalchemy.dialects.postgresql")
SERVICE = ("client.service", "workflows", "activities", "temporalio.client", "sqlalchemy", "records")


def loaded(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` in the project's root."""
    done = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=120)
    return set(done.stdout.split())


def under(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == r or m.startswith(f"{r}.") for r in roots))


def test_importing_the_command_line_loads_no_command_module() -> None:
    modules = loaded("import cli")
    assert "typer" in modules
    assert under(modules, ("commands",)) == ["commands", "commands.state"]
    assert under(modules, SOLVERS_AND_WRITERS + SERVICE + ("models", "temporalio")) == []


def test_the_help_listing_loads_no_command_module() -> None:
    modules = loaded("from typer.testing import CliRunner\nimport cli\n"
                     "assert 'calls' in CliRunner().invoke(cli.app, ['--help']).output")
    assert under(modules, ("commands",)) == ["commands", "commands.state"]


def test_showing_a_call_file_loads_neither_the_service_layer_nor_temporals_client() -> None:
    modules = loaded("from typer.testing import CliRunner\nimport cli\n"
                     f"done = CliRunner().invoke(cli.app, ['calls', 'show', {str(CALL_000)!r}])\n"
                     "assert done.exit_code == 0 and 'sx-2025-basic-geology' in done.output, done.output")
    assert "commands.calls" in modules and "models.call" in modules
    assert under(modules, SOLVERS_AND_WRITERS + SERVICE) == []


def test_the_service_layer_loads_no_solver_and_no_writer() -> None:
    """What `deadline explain`, `whoami` and the other service commands import before they connect."""
    modules = loaded("import cli, commands.manage, commands.access, client.service")
    assert "workflows.application" in modules and "temporalio.client" in modules
    assert under(modules, SOLVERS_AND_WRITERS) == []


@pytest.mark.parametrize("args", [["--help"], []], ids=["help", "no-arguments"])
def test_the_listed_help_is_the_commands_own(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    listed = CliRunner().invoke(cli.app, args, env={"COLUMNS": "200"})
    monkeypatch.setattr(cli.LazyGroup, "format_help", TyperGroup.format_help)  # every command built from its module
    built = CliRunner().invoke(cli.app, args, env={"COLUMNS": "200"})
    assert "review" in built.output and "whoami" in built.output
    assert (listed.exit_code, listed.output) == (built.exit_code, built.output)


def test_a_mistyped_command_is_still_answered_with_the_nearest_name() -> None:
    done = CliRunner().invoke(cli.app, ["deadlines"], env={"COLUMNS": "200"})
    assert done.exit_code == 2
    assert "No such command 'deadlines'. Did you mean 'deadline'?" in done.output
