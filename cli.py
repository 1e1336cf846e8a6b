"""grantflow command line (typer + rich): call files, the embedded stack, programme managers' actions, simulate,
formal review, audit, the records database and the cluster. The command groups live in `commands/`; this module
assembles them."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from commands.state import STATE

if TYPE_CHECKING:  # the types TyperGroup's methods are declared with (typer's own copy of click)
    from typer._click import Command, Context, HelpFormatter


class Entry(NamedTuple):
    """A top-level command: the module and Typer app it comes from, whether that app is a group of its own (`calls
    show`) or lends its commands to the top level (`apply`), and the help `grantflow --help` lists for it."""

    module: str
    app: str
    group: bool
    help: str


# In the order `grantflow --help` lists them. A command's module (and what it imports: the Temporal client, the
# solvers, the PDF and spreadsheet writers, the HTTP server) is imported only when that command runs, so each help line
# is kept here; tests/test_cli_imports.py checks that they say what the commands' own help says.
COMMANDS: dict[str, Entry] = {
    "calls": Entry("commands.calls", "calls_app", True, "Call definition files: validate, diagram, show, load, clone."),
    "apply": Entry("commands.applications", "applications_app", False,
                   "Create an application (a draft) in a call, as the signed-in applicant: the unit comes from the "
                   "registry,\nthe recommender and CTO from the accounts and the registry."),
    "act": Entry("commands.applications", "applications_app", False,
                 "Send an event (submit, approve, return, ...) to an application as the signed-in account, with a "
                 "reason."),
    "status": Entry("commands.applications", "applications_app", False,
                    "State of an application and every transition: instant, actor, role, reason."),
    "migrate": Entry("commands.applications", "applications_app", False,
                     "Move a running application to its call's current (revised) definition, with a reason "
                     "(managers)."),
    "counts": Entry("commands.applications", "applications_app", False,
                    "Applications of a call per state, from the records database (the call's managers, agency, "
                    "auditors)."),
    "form": Entry("commands.paper", "paper_app", False,
                  "The printable application form and paper checklist (PDF) of the submitted version, with the QR code "
                  "a clerk\nscans when the paper copy arrives (receipt number and content hash)."),
    "paper": Entry("commands.paper", "paper_app", False,
                   "Reconcile a paper copy with the online version from its scanned QR code: \"matches the online "
                   "version\", or\nhow it differs (exit 1)."),
    "phase": Entry("commands.manage", "phase_app", True, "Programme managers move a call's phases."),
    "deadline": Entry("commands.manage", "deadline_app", True, "Programme managers extend deadlines."),
    "quota": Entry("commands.quotas", "quota_app", True, "Quotas (推荐名额): set a limit the system shows; places used."),
    "registry": Entry("commands.registry", "registry_app", True,
                      "The registry of units, people and projects: import, sample."),
    "review": Entry("commands.review", "review_app", True,
                    "Formal review: verdict table, explanations, pre-check, override, decide, duplicates, summary."),
    "stage": Entry("commands.stages", "stage_app", True,
                   "Expert review stages: tasks, reviews, reopening, the ranked list, defences."),
    "audit": Entry("commands.audit", "audit_app", True,
                   "Audit a call from its Temporal histories: trail, at, export, replay, verify, report."),
    "calendar": Entry("commands.calendar", "calendar_app", True,
                      "Working-day calendars: import a holiday notice, show a year."),
    "db": Entry("commands.db", "db_app", True, "The records database: upgrade its schema, show its revision, prune payloads."),
    "cluster": Entry("commands.cluster", "cluster_app", True,
                     "The Temporal cluster: register what grantflow's workflows use."),
    "simulate": Entry("commands.running", "running_app", False,
                      "Run a call's whole lifecycle on the time-skipping server with a seeded population; report "
                      "invariants. The\nrecords go to GRANTFLOW_DATABASE_URL when it is set (upgraded first), else to "
                      "a temporary SQLite file. On a\nterminal, a bar on standard error shows the phase and how many applications "
                      "have reached a final state."),
    "worker": Entry("commands.running", "running_app", False,
                    "Run a worker against GRANTFLOW_TEMPORAL_ADDRESS (an existing cluster or `grantflow up`)."),
    "up": Entry("commands.running", "running_app", False,
                "Embedded stack: Temporal dev server (SQLite file under var/), Web UI, worker, the HTTP API\n"
                "(GRANTFLOW_HTTP_ADDRESS, 127.0.0.1:8080 by default); loads calls/. SIGINT or SIGTERM stops it in "
                "order: the API\nand the worker take no more work, running activities finish or go back, then the "
                "server stops."),
    "api": Entry("commands.running", "running_app", False,
                 "Serve the HTTP API against an existing cluster (GRANTFLOW_TEMPORAL_ADDRESS) at "
                 "GRANTFLOW_HTTP_ADDRESS, its\ncounters at /metrics (and the Temporal SDK's at "
                 "GRANTFLOW_SDK_METRICS_ADDRESS when set)."),
    "coverage": Entry("commands.coverage", "coverage_app", False,
                      "Which states and transitions of each call's machine were visited, and which never were (a "
                      "finding)."),
    "login": Entry("commands.access", "access_app", False,
                   "Sign in: the access token is kept in your config directory until it expires or you log out."),
    "logout": Entry("commands.access", "access_app", False, "Forget the kept access token."),
    "whoami": Entry("commands.access", "access_app", False,
                    "The signed-in account and its grants (ROLE@SCOPE), read afresh."),
    "refusals": Entry("commands.access", "access_app", False,
                      "Refused attempts, newest first: when, who (and how proven), role, what, on what, why "
                      "(auditors)."),
    "users": Entry("commands.access", "users_app", True, "Local accounts: add, disable, enable, reset, grant, list."),
}


BEFORE_LOADING: list[Callable[[], None]] = []  # run before a command's module is imported (by `main`)


@cache
def sub_app(module: str, name: str) -> typer.Typer:
    """The Typer app `name` of `module`, imported now (once per process); `calls` gains the drafting and iCalendar
    commands and `review` its summary, which live in modules of their own."""
    found: typer.Typer = getattr(importlib.import_module(module), name)
    if module == "commands.calls":
        from commands.drafting import drafting_app
        from commands.paper import ical_app

        found.add_typer(drafting_app)
        found.add_typer(ical_app)
    if module == "commands.review":
        import commands.summary  # noqa: F401  (adds `review summary`)
    return found


def command(name: str) -> Command:
    """The top-level command `name` as typer builds it, its module imported."""
    for step in BEFORE_LOADING:
        step()
    entry = COMMANDS[name]
    holder = typer.Typer()
    holder.add_typer(sub_app(entry.module, entry.app), name=name if entry.group else None)
    return typer.main.get_group(holder).commands[name]


class LazyGroup(TyperGroup):
    """The top level: it holds each command's name and help line (for help and suggestions), and builds the command
    from its module when it runs."""

    listing = False

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.commands.update({name: TyperCommand(name, help=entry.help) for name, entry in COMMANDS.items()})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in COMMANDS and not self.listing:
            return command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, help=__doc__)


@app.callback()
def acting(operator: bool = typer.Option(False, "--operator", help="act as the operator of this machine (proven by "
                                         "var/operator.secret); recorded as operator@host on every change")) -> None:
    """Every action is taken as the account signed in with `grantflow login`, or as the operator."""
    STATE["operator"] = operator


def no_default_runtime() -> None:
    """Every client, worker and server of this process takes grantflow's runtime (infra.runtime), never the SDK's
    default one."""
    from temporalio.runtime import Runtime

    Runtime.prevent_default()  # type: ignore[no-untyped-call]


def main() -> None:
    """Run the command, shut the Temporal runtimes down while the interpreter is whole, then leave without
    finalising it: a core thread of the SDK that is still waking the closed event loop would otherwise abort the
    process after its answer was printed (temporalio/sdk-python #300). Output and logs are flushed first. The SDK's
    default runtime is refused before a command's module loads: help, which loads none, does not load the SDK."""
    from infra import tracing

    BEFORE_LOADING.append(no_default_runtime)
    code: str | int | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        from models.call import CallFileError

        if not isinstance(exc, CallFileError):
            raise
        from commands.common import err

        err.print(str(exc), highlight=False)
        code = 1
    tracing.flush()
    runtimes = sys.modules.get("infra.runtime")  # only a command that made a runtime has loaded it
    if runtimes is not None:
        runtimes.shut_down()
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
