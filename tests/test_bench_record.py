"""Benchmark bookkeeping: a run's figures measured by a second command join it and never overwrite it; the
baseline's workflow module stays a plain Temporal one."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.record import record
from tests.conftest import ROOT


def machine(date: str, cores: int = 2) -> dict[str, Any]:
    return {"date": date, "cores": cores, "memory_gb": 23.5}


def test_amend_adds_the_lifecycle_to_the_newest_run(tmp_path: Path) -> None:
    history, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    record({"applications": 10, "deadline_ratio": 1.1, "machine": machine("2026-11-30T19:00")}, history, markdown)
    record({"applications": 10, "lifecycle_s": 42.0, "machine": machine("2026-11-30T20:00")}, history, markdown,
           amend=True)
    runs = json.loads(history.read_text())
    assert len(runs) == 1
    assert runs[0]["figures"]["deadline_ratio"] == 1.1 and runs[0]["figures"]["lifecycle_s"] == 42.0
    assert runs[0]["figures"]["machine"]["amended"] == "2026-11-30T20:00"
    assert " && " in runs[0]["command"]
    text = markdown.read_text()
    assert "| lifecycle: simulated call end to end, s | 42 |" in text
    assert "2026-11-30T19:00, amended 2026-11-30T20:00" in text


def test_amend_never_overwrites_a_figure(tmp_path: Path) -> None:
    history, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    record({"applications": 10, "lifecycle_s": 40.0, "machine": machine("a")}, history, markdown)
    with pytest.raises(SystemExit, match="already has lifecycle_s"):
        record({"applications": 10, "lifecycle_s": 42.0, "machine": machine("b")}, history, markdown, amend=True)
    assert json.loads(history.read_text())[0]["figures"]["lifecycle_s"] == 40.0


def test_amend_needs_a_run_of_the_same_machine(tmp_path: Path) -> None:
    history, markdown = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    with pytest.raises(SystemExit, match="no recorded run"):
        record({"applications": 10, "lifecycle_s": 1.0, "machine": machine("a")}, history, markdown, amend=True)
    record({"applications": 10, "deadline_ratio": 1.0, "machine": machine("a", cores=8)}, history, markdown)
    with pytest.raises(SystemExit, match="another machine"):
        record({"applications": 10, "lifecycle_s": 1.0, "machine": machine("b")}, history, markdown, amend=True)


def test_the_baseline_workflow_module_imports_only_the_sdk_and_the_standard_library() -> None:
    """The sandbox re-imports a workflow's module, and what it imports, for every run: anything of grantflow's
    imported there would be paid by the baseline and make grantflow's ratios look better than they are."""
    tree = ast.parse((ROOT / "bench" / "baseline.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - {"__future__", "temporalio", *sys.stdlib_module_names} == set()
