"""Running things: `simulate` a call, a `worker` for an existing cluster, the embedded stack (`up`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Engine
from temporalio.client import Client

from audit.export import export_call
from commands.common import err, load, out, run, settings
from infra.settings import SIMULATION_CACHE, configured_database
from simulation.launch import Finished
from simulation.report import Report

running_app = typer.Typer()


def export_to(call_id: str, directory: Path) -> Finished:
    """What a simulation does when it has finished, for `--export`: write the audit export of the run (histories,
    records, the report as `simulation.json`) before its server stops."""
    async def write(client: Client, engine: Engine, report: Report) -> None:
        await export_call(client, engine, call_id, directory, extra={"simulation.json": dataclasses.asdict(report)})
    return write


@running_app.command("simulate")
def simulate(file: Path, applications: int = typer.Option(500), seed: int = typer.Option(1),
             as_json: bool = typer.Option(False, "--json"),
             export: Path | None = typer.Option(None, "--export", help="write the audit export of the run here"),
             replace: bool = typer.Option(False, "--replace", help="delete the call's rows an earlier run left in "
                                                                   "GRANTFLOW_DATABASE_URL first"),
             late_share: float = typer.Option(0.05, min=0.0, max=1.0, help="share of units, recommenders, agencies "
                                              "and reviewers who act after their deadline or never"),
             cache: int = typer.Option(SIMULATION_CACHE, min=1, help="workflows the worker keeps in memory (0.3 to 0.5 MB "
                                       "each); the others are replayed when touched")) -> None:
    """Run a call's whole lifecycle on the time-skipping server with a seeded population; report invariants. The
    records go to GRANTFLOW_DATABASE_URL when it is set (upgraded first), else to a temporary SQLite file. On a
    terminal, a bar on standard error shows the phase and how many applications have reached a final state."""
    from infra.logs import configure
    from simulation.launch import simulate as run_simulation

    configure("json", level=40)
    call = load(file)
    from simulation.progress import TerminalBar

    async def shown() -> Report:
        bar = TerminalBar(applications)
        async with bar.shown():
            return await run_simulation(call, applications, seed, database=configured_database(),
                                        finished=export_to(call.id, export) if export else None, replace=replace,
                                        late_share=late_share, shown=bar, cache=cache)

    report = run(shown())
    if as_json:
        print(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2))
    else:
        out.print(f"{report.call}: {report.applications} applications, seed {report.seed}")
        for state, n in report.final_states.items():
            out.print(f"  {state:<20} {n}")
        out.print(f"notices: {report.notices}; late attempts refused: {report.late_attempts - report.late_accepted}")
        out.print(f"late actors ({report.late_share:.0%}): {report.late_actors or 'none'}; lapses {report.lapses}, "
                  f"overdue {report.overdue}, escalations {report.escalations}", highlight=False)
        for phase, times in report.phases.items():
            out.print(f"  {phase:<16} {times['opened']} -> {times['closed']}")
        for batch, n in report.batches.items():
            out.print(f"  batch {batch:<10} {n} applications")
        out.print("violations: " + ("none" if not report.violations else str(len(report.violations))))
        for v in report.violations[:20]:
            err.print(f"  {v}", highlight=False)
    raise typer.Exit(1 if report.violations else 0)


@running_app.command("worker")
def worker_command() -> None:
    """Run a worker against GRANTFLOW_TEMPORAL_ADDRESS (an existing cluster or `grantflow up`)."""
    from client.stack import run_worker

    supervised(run_worker(settings()))


@running_app.command("up")
def up(calls_dir: Path = typer.Option(Path("calls"), "--calls"), port: int = 7233, ui_port: int = 8233) -> None:
    """Embedded stack: Temporal dev server (SQLite file under var/), Web UI, worker, the HTTP API
    (GRANTFLOW_HTTP_ADDRESS, 127.0.0.1:8080 by default); loads calls/. SIGINT or SIGTERM stops it in order: the API
    and the worker take no more work, running activities finish or go back, then the server stops."""
    from api.serve import HttpApi
    from client.stack import run_stack

    supervised(run_stack(settings(), calls_dir, port, ui_port, lambda context: [HttpApi(context)]))


def supervised(stack: Coroutine[Any, Any, None]) -> None:
    from client.supervisor import StackError

    try:
        run(stack)  # a setting that cannot be used (GRANTFLOW_SMTP_URL, ...) is one line there
    except StackError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # before the stack took over the signals: nothing had started
        pass
    out.print("stopped")


@running_app.command("api")
def api_command() -> None:
    """Serve the HTTP API against an existing cluster (GRANTFLOW_TEMPORAL_ADDRESS) at GRANTFLOW_HTTP_ADDRESS, its
    counters at /metrics (and the Temporal SDK's at GRANTFLOW_SDK_METRICS_ADDRESS when set)."""
    from api.serve import server
    from infra.runtime import serve_sdk_metrics

    s = settings()
    if s.telemetry.sdk_metrics_address is not None:
        serve_sdk_metrics(s.telemetry.sdk_metrics_address)
    run(server(s).serve())
