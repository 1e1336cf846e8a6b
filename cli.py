"""grantflow command line (typer + rich): call files, the embedded stack, programme managers' actions, simulate,
formal review, audit, the records database and the cluster. The command groups live in `commands/`; this module
assembles them."""

from __future__ import annotations

import logging
import os
import sys

import typer
from temporalio.runtime import Runtime

from commands.access import access_app, users_app
from commands.applications import applications_app
from commands.audit import audit_app
from commands.calendar import calendar_app
from commands.calls import calls_app
from commands.cluster import cluster_app
from commands.common import err
from commands.coverage import coverage_app
from commands.db import db_app
from commands.drafting import drafting_app
from commands.manage import deadline_app, phase_app
from commands.paper import ical_app, paper_app
from commands.quotas import quota_app
from commands.registry import registry_app
from commands.review import review_app
from commands.running import running_app
from commands.session import STATE
from commands.stages import stage_app
from commands.summary import summary as _summary  # noqa: F401  (adds `review summary`)
from infra import tracing
from infra.runtime import shut_down
from models.call import CallFileError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
calls_app.add_typer(drafting_app)
calls_app.add_typer(ical_app)
app.add_typer(calls_app, name="calls")
app.add_typer(applications_app)
app.add_typer(paper_app)
app.add_typer(phase_app, name="phase")
app.add_typer(deadline_app, name="deadline")
app.add_typer(quota_app, name="quota")
app.add_typer(registry_app, name="registry")
app.add_typer(review_app, name="review")
app.add_typer(stage_app, name="stage")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(db_app, name="db")
app.add_typer(cluster_app, name="cluster")
app.add_typer(running_app)
app.add_typer(coverage_app)
app.add_typer(access_app)
app.add_typer(users_app, name="users")


@app.callback()
def acting(operator: bool = typer.Option(False, "--operator", help="act as the operator of this machine (proven by "
                                         "var/operator.secret); recorded as operator@host on every change")) -> None:
    """Every action is taken as the account signed in with `grantflow login`, or as the operator."""
    STATE["operator"] = operator


def main() -> None:
    """Run the command, shut the Temporal runtimes down while the interpreter is whole, then leave without
    finalising it: a core thread of the SDK that is still waking the closed event loop would otherwise abort the
    process after its answer was printed (temporalio/sdk-python #300). Output and logs are flushed first."""
    Runtime.prevent_default()  # type: ignore[no-untyped-call]  # every client, worker and server takes grantflow's runtime (infra.runtime)
    code: str | int | None = 0
    try:
        app()
    except CallFileError as exc:
        err.print(str(exc), highlight=False)
        code = 1
    except SystemExit as exc:
        code = exc.code
    tracing.flush()
    shut_down()
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
