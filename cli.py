"""grantflow command line (typer + rich): call files, the embedded stack, programme managers' actions, simulate,
formal review and audit. The command groups live in `commands/`; this module assembles them."""

from __future__ import annotations

import sys

import typer

from commands.applications import applications_app
from commands.audit import audit_app
from commands.calendar import calendar_app
from commands.calls import calls_app
from commands.common import err
from commands.coverage import coverage_app
from commands.drafting import drafting_app
from commands.manage import deadline_app, phase_app
from commands.quotas import quota_app
from commands.registry import registry_app
from commands.review import review_app
from commands.running import running_app
from commands.summary import summary as _summary  # noqa: F401  (adds `review summary`)
from models.call import CallFileError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
calls_app.add_typer(drafting_app)
app.add_typer(calls_app, name="calls")
app.add_typer(applications_app)
app.add_typer(phase_app, name="phase")
app.add_typer(deadline_app, name="deadline")
app.add_typer(quota_app, name="quota")
app.add_typer(registry_app, name="registry")
app.add_typer(review_app, name="review")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(running_app)
app.add_typer(coverage_app)


def main() -> None:
    try:
        app()
    except CallFileError as exc:
        err.print(str(exc), highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
