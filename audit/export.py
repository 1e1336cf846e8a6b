"""Export a call's workflow histories as JSON, with a manifest naming each file's SHA-256 and the code version."""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import temporalio
from sqlalchemy.engine import Engine
from temporalio.client import Client

from audit.history import Execution, fetch_call, instant
from audit.records import Records, load_records, records_to_json

MANIFEST = "manifest.json"
RECORDS = "records.json"
HISTORIES = "histories"
ROOT = Path(__file__).resolve().parents[2]
REPLAYED_CODE = ("workflows", "activities", "models")  # what a replay of these histories runs


def code_version() -> str:
    """SHA-256 over the sources a replay runs (workflows, activities, models): equal means the same code."""
    digest = hashlib.sha256()
    for path in sorted(p for d in REPLAYED_CODE for p in (ROOT / d).glob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def git_commit() -> str | None:
    """The checked-out commit, when the code runs from a git work tree (read only)."""
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def read_text(path: Path) -> str:
    """A file of an export, gunzipped when its name ends in .gz."""
    data = path.read_bytes()
    return (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")


def write_export(out: Path, call_id: str, executions: list[Execution], records: Records | None,
                 since: datetime | None = None, extra: dict[str, Any] | None = None,
                 compress: bool = False) -> dict[str, Any]:
    """Write every run of every execution (with `since`: only executions with an event at or after it), the
    records snapshot and `extra` JSON files (gzipped with `compress`), then the manifest; returns the manifest."""
    if (out / MANIFEST).exists():
        raise FileExistsError(f"{out} already holds an export; choose a new directory")
    files: list[dict[str, Any]] = []

    def _write(rel: str, text: str, entry: dict[str, Any]) -> dict[str, Any]:
        path = out / (rel + ".gz" if compress else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
        return {"path": path.relative_to(out).as_posix(), **entry, "sha256": sha256_of(path)}

    for ex in executions:
        if since is not None and instant(ex.runs[-1].events[-1]) < since:
            continue
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", ex.workflow_id)
        for i, run in enumerate(ex.runs):
            files.append(_write(f"{HISTORIES}/{stem}.{i}.json", json.dumps(run.to_json_dict(), separators=(",", ":")), {
                "kind": "history", "workflow_id": ex.workflow_id, "workflow_type": ex.workflow_type,
                "run_id": run.run_id, "run": i, "events": len(run.events),
                "first_event_at": instant(run.events[0]).isoformat(),
                "last_event_at": instant(run.events[-1]).isoformat(),
            }))
    if records is not None:
        files.append(_write(RECORDS, json.dumps(records_to_json(records), ensure_ascii=False, indent=1),
                            {"kind": "records"}))
    for name, data in (extra or {}).items():
        files.append(_write(name, json.dumps(data, ensure_ascii=False, indent=2, default=str), {"kind": "extra"}))
    manifest = {
        "format": 1, "call_id": call_id, "created_at": datetime.now(UTC).isoformat(),
        "since": since.isoformat() if since else None, "code_version": code_version(), "git_commit": git_commit(),
        "grantflow_version": _version("grantflow"), "temporalio_version": temporalio.__version__, "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


async def export_call(client: Client, engine: Engine, call_id: str, out: Path, since: datetime | None = None,
                      extra: dict[str, Any] | None = None, compress: bool = False) -> dict[str, Any]:
    executions = await fetch_call(client, engine, call_id)
    return write_export(out, call_id, executions, load_records(engine, call_id), since, extra, compress)
