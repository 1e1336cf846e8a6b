"""`grantflow audit ...`: trail, at, export, replay, verify and report, from the server or an export directory."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from commands.common import Failure, err, out, records_db, run
from infra.settings import Settings
from infra.temporal import connect

if TYPE_CHECKING:
    from temporalio.client import Client

    from audit.at import AtResult
    from audit.findings import Result
    from audit.source import Bundle
    from audit.trail import Trail

audit_app = typer.Typer(no_args_is_help=True,
                        help="Audit a call from its Temporal histories: trail, at, export, replay, verify, report.")
FROM = typer.Option(None, "--from", help="an export directory (grantflow audit export / simulate --export)")
CALL = typer.Option(None, "--call", help="the call's id on the Temporal server")
AS_JSON = typer.Option(False, "--json", help='print {"workflows": N, "events": N, "findings": [...]}')


async def _client(s: Settings, db: str | None = None) -> Client:
    """A client of the server that reads the payloads its histories keep in the records database (`db`)."""
    from records.payloads import payload_storage

    return await connect(s.temporal_address, s.namespace, s.temporal_access, payload_storage(records_db(db)))


def _instant(text: str, option: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise Failure(f"{option} {text!r} is a naive datetime: give the offset, e.g. 2025-04-07T17:00:00+08:00")
    return value


async def _bundle(directory: Path | None, call_id: str | None, db: str | None = None) -> Bundle:
    """An export directory, or a call on the server with the records DB (GRANTFLOW_DATABASE_URL or --db)."""
    from audit.source import from_server, read_export

    if (directory is None) == (call_id is None):
        raise Failure("give an export directory or --call ID (exactly one of them)")
    s = Settings.from_env()
    if directory is not None:
        return read_export(directory, records_db(db) if db else None)
    assert call_id is not None
    return await from_server(await _client(s, db), records_db(db), call_id)


def _quiet_replays() -> None:
    """A history that no longer replays is reported as a finding; the SDK's own log of it would only repeat it."""
    logging.getLogger("temporalio").setLevel(logging.CRITICAL)


def _findings(result: Result, as_json: bool, what: str) -> None:
    if as_json:
        print(result.to_json())
    else:
        for f in result.findings:
            out.print(f.line(), markup=False, highlight=False, soft_wrap=True)
        verdict = "[green]ok[/green]" if not result.findings else f"[red]{len(result.findings)} findings[/red]"
        out.print(f"{what} {result.workflows} workflows, {result.events} events: {verdict}")
    raise typer.Exit(1 if result.findings else 0)


# ---- trail and at -------------------------------------------------------------------------------------------


@audit_app.command("trail")
def trail(application_id: str, fmt: str = typer.Option("table", "--format", help="table, json or csv"),
          directory: Path | None = FROM) -> None:
    """Every change of an application (instant in the call's zone and UTC, actor, role, reason, deadline), the
    timers that fired, closures and notices: rebuilt from the histories, each compared with the records DB."""
    from audit.source import application_from_server, read_export
    from audit.trail import build_trail, trail_csv, trail_json

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter(f"--format {fmt!r}: use table, json or csv")

    async def go() -> Trail:
        if directory is not None:
            bundle = read_export(directory)
        else:
            s = Settings.from_env()
            bundle = await application_from_server(await _client(s), records_db(), application_id)
        return build_trail(bundle.application(application_id), bundle.call(), bundle.records)

    t = run(go())
    if fmt == "json":
        print(trail_json(t))
    elif fmt == "csv":
        print(trail_csv(t), end="")
    else:
        _trail_table(t)


def _trail_table(t: Trail) -> None:
    zone = ZoneInfo(t.zone)
    table = Table(title=f"{t.application_id}: {t.state} (call {t.call_id})", caption="records DB: " + (
        ", ".join(f"{n} {verdict}" for verdict, n in sorted(t.summary().items())) or "not compared"))
    for name in ("event", t.zone, "UTC", "kind", "what", "actor", "role", "reason", "deadline", "records DB"):
        table.add_column(name, overflow="fold")
    for r in t.rows:
        event = str(r.event) if r.workflow == t.workflow_id else f"call {r.event}"
        db = r.db if r.db in ("", "agrees") else f"[red]{escape(r.db)}[/red]"
        deadline = r.deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M") if r.deadline else ""
        table.add_row(event, r.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                      r.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), r.kind, escape(r.what),
                      escape(r.actor_id), r.role, escape(r.reason), deadline, db)
    out.print(table)


@audit_app.command("at")
def at(application_id: str, instant: str, directory: Path | None = FROM,
       as_json: bool = typer.Option(False, "--json")) -> None:
    """The state and data of an application at INSTANT, rebuilt by replaying its history up to that instant."""
    from audit.at import application_at
    from audit.history import fetch_execution
    from audit.source import read_export

    when = _instant(instant, "INSTANT")
    _quiet_replays()

    async def go() -> AtResult:
        if directory is not None:
            bundle = read_export(directory)
            life = bundle.application(application_id)
            execution = next(e for e in bundle.executions if e.workflow_id == life.workflow_id)
        else:
            from models.messages import application_workflow_id

            s = Settings.from_env()
            execution = await fetch_execution(await _client(s), application_workflow_id(application_id))
        return await application_at(execution, when)

    result = run(go())
    if as_json:
        print(_at_json(result))
    else:
        _at_text(result)
    raise typer.Exit(1 if result.replay_failure or result.disagreements else 0)


def _at_json(r: AtResult) -> str:
    import json

    life = r.life
    return json.dumps({
        "application": life.application_id, "instant": r.instant.isoformat(), "run_id": r.run_id,
        "last_event_id": r.last_event_id, "state": life.state,
        "transitions": [{"seq": p.record.seq, "trigger": p.record.trigger, "source": p.record.source,
                         "dest": p.record.dest, "at": p.record.at.isoformat(), "actor_id": p.record.actor_id,
                         "role": p.record.role, "reason": p.record.reason, "event_id": p.event_id}
                        for p in life.transitions],
        "deadlines": {k: v.isoformat() if v else None for k, v in life.deadlines().items()},
        "extensions": {k: v.isoformat() for k, v in life.extensions.items()},
        "formal_findings": life.formal_findings, "notices": len(life.notices),
        "timetable_seq": life.timetable.seq,
        "replay": {"failure": r.replay_failure, "divergence_event": r.divergence_event,
                   "disagreements": r.disagreements},
    }, ensure_ascii=False, indent=2)


def _at_text(r: AtResult) -> None:
    life = r.life
    zone = life.call.zone
    last = life.transitions[-1].record if life.transitions else None
    since = (f", since {last.at.astimezone(zone).isoformat()} ({last.trigger} by {last.role} {last.actor_id})"
             if last else "")
    out.print(f"{life.application_id} at {r.instant.astimezone(zone).isoformat()} "
              f"({r.instant.astimezone(UTC).isoformat()}): [bold]{life.state}[/bold]{escape(since)}")
    out.print(f"history up to event {r.last_event_id} of run {r.run_id}; {len(life.notices)} notices sent so far; "
              f"timetable seq {life.timetable.seq}")
    table = Table(title="deadlines in force")
    table.add_column("window")
    table.add_column(str(zone))
    table.add_column("extended")
    for window, closes in life.deadlines().items():
        table.add_row(window, closes.astimezone(zone).isoformat() if closes else "not set",
                      "yes" if window in life.extensions else "")
    out.print(table)
    if life.formal_findings:
        out.print("formal review findings: " + escape("; ".join(life.formal_findings)))
    if r.replay_failure:
        out.print(f"[red]the current code does not replay this history[/red] (event {r.divergence_event}): "
                  f"{escape(r.replay_failure)}", highlight=False)
    elif r.disagreements:
        for d in r.disagreements:
            out.print(f"[red]replay and history disagree[/red]: {escape(d)}", highlight=False)
    else:
        out.print("[green]the current code replays the history to this instant and holds the same state[/green]")


# ---- export, replay, verify, report --------------------------------------------------------------------


@audit_app.command("export")
def export(call_id: str = typer.Option(..., "--call"), out_dir: Path = typer.Option(..., "--out"),
           since: str | None = typer.Option(None, "--since", help="only workflows with events at or after this"),
           compress: bool = typer.Option(False, "--gzip", help="gzip every file but the manifest")) -> None:
    """Every workflow history of a call as JSON, the records snapshot, and a manifest (SHA-256s, code version)."""
    from audit.export import export_call

    async def go() -> dict[str, object]:
        s = Settings.from_env()
        return await export_call(await _client(s), records_db(), call_id, out_dir,
                                 _instant(since, "--since") if since else None, compress=compress)

    manifest = run(go())
    files = manifest["files"]
    assert isinstance(files, list)
    histories = [f for f in files if f["kind"] == "history"]
    out.print(f"{out_dir}: {len(histories)} histories ({sum(f['events'] for f in histories)} events), "
              f"code version {str(manifest['code_version'])[:12]}")


@audit_app.command("replay")
def replay(directory: Path | None = typer.Argument(None), call_id: str | None = CALL, as_json: bool = AS_JSON) -> None:
    """Replay every history against the current code; name each workflow that no longer replays and the event."""
    from audit.replay import replay_all

    _quiet_replays()

    async def go() -> Result:
        bundle = await _bundle(directory, call_id)
        if as_json:
            return await replay_all(bundle.executions)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("replaying", total=len(bundle.executions))
            return await replay_all(bundle.executions, progress=lambda _: progress.advance(task))

    _findings(run(go()), as_json, "replayed")


@audit_app.command("verify")
def verify(directory: Path | None = typer.Argument(None), call_id: str | None = CALL, as_json: bool = AS_JSON,
           db: str | None = typer.Option(None, "--db", help="compare with this records DB (SQLAlchemy URL) instead "
                                                            "of the export's snapshot")) -> None:
    """Check deadlines, roles, notices, the records DB and its hash chain, and the manifest, over the histories."""
    from audit.verify import verify as check

    _findings(check(run(_bundle(directory, call_id, db))), as_json, "verified")


@audit_app.command("report")
def report(call_id: str | None = CALL, directory: Path | None = FROM,
           out_file: Path = typer.Option(..., "--out", help="the HTML file to write")) -> None:
    """One self-contained HTML page for readers who are not engineers: timeline, states, exceptions, checks."""
    from audit.report import render_report
    from audit.verify import lives
    from audit.verify import verify as check

    bundle = run(_bundle(directory, call_id))
    result = check(bundle)
    call, apps, _ = lives(bundle)
    out_file.write_text(render_report(bundle, result, call, apps), encoding="utf-8")
    out.print(f"{out_file}: {len(apps)} applications, "
              + ("all checks passed" if not result.findings else f"{len(result.findings)} findings"))
