"""Where an audit reads from: a running Temporal server with the records DB, or an export directory."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowHistory

from audit.export import MANIFEST, read_text
from audit.history import Execution, fetch_call, fetch_execution
from audit.life import ApplicationLife, CallLife, application_life, call_life
from audit.records import Records, load_records, records_from_json
from models.messages import application_workflow_id, call_workflow_id
from records.tables import ApplicationRow


@dataclass
class Bundle:
    """A call's executions (call workflow first), its records and, from a directory, the manifest."""

    call_id: str
    executions: list[Execution]
    records: Records | None = None
    directory: Path | None = None
    manifest: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of files that did not parse

    @property
    def events(self) -> int:
        return sum(e.events for e in self.executions)

    def call(self) -> CallLife | None:
        ex = next((e for e in self.executions if e.workflow_type == "CallWorkflow"), None)
        return call_life(ex.workflow_id, ex.runs) if ex else None

    def applications(self) -> list[ApplicationLife]:
        return [application_life(e.workflow_id, e.runs) for e in self.executions
                if e.workflow_type == "ApplicationWorkflow"]

    def application(self, application_id: str) -> ApplicationLife:
        for e in self.executions:
            if e.workflow_type == "ApplicationWorkflow":
                life = application_life(e.workflow_id, e.runs)
                if life.application_id == application_id or e.workflow_id == application_id:
                    return life
        raise KeyError(f"application {application_id} is not in the histories of call {self.call_id}")


async def from_server(client: Client, engine: Engine, call_id: str) -> Bundle:
    return Bundle(call_id, await fetch_call(client, engine, call_id), load_records(engine, call_id))


async def application_from_server(client: Client, engine: Engine, application_id: str) -> Bundle:
    """The application's execution and its call's, with the call's records."""
    with Session(engine) as s:
        row = s.get(ApplicationRow, application_id)
    ex = await fetch_execution(client, row.workflow_id if row else application_workflow_id(application_id))
    call_id = application_life(ex.workflow_id, ex.runs).call.id
    return Bundle(call_id, [await fetch_execution(client, call_workflow_id(call_id)), ex],
                  load_records(engine, call_id))


def read_export(directory: Path, engine: Engine | None = None) -> Bundle:
    """An export directory as a bundle; with `engine`, the records come from that DB instead of the snapshot."""
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        raise FileNotFoundError(f"{directory} has no {MANIFEST}: not an export directory")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    runs: dict[str, list[tuple[int, WorkflowHistory]]] = {}
    extras: dict[str, Any] = {}
    snapshot: Records | None = None
    unreadable: list[tuple[str, str]] = []
    for f in manifest["files"]:
        path = directory / f["path"]
        if not path.exists():
            continue
        try:
            if f["kind"] == "history":
                history = WorkflowHistory.from_json(f["workflow_id"], read_text(path))
                runs.setdefault(f["workflow_id"], []).append((f["run"], history))
            elif f["kind"] == "records":
                snapshot = records_from_json(json.loads(read_text(path)))
            else:
                extras[f["path"].removesuffix(".gz")] = json.loads(read_text(path))
        except (ValueError, KeyError, OSError, EOFError, zlib.error, json_format.ParseError) as exc:
            unreadable.append((f["path"], str(exc)))
    executions = [Execution(w, [h for _, h in sorted(rs, key=lambda r: r[0])]) for w, rs in runs.items()]
    executions.sort(key=lambda e: (e.workflow_type != "CallWorkflow", e.workflow_id))
    call_id = str(manifest["call_id"])
    records = load_records(engine, call_id) if engine is not None else snapshot
    return Bundle(call_id, executions, records, directory, manifest, extras, unreadable)
