"""`grantflow coverage`: per call file, the states and transitions of its machine that the test suite and exported
histories visited, and those never exercised."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import typer

from audit.coverage import MachineCoverage, Visit, coverage, export_visits, read_visits
from commands.common import load, out

coverage_app = typer.Typer()


@coverage_app.command("coverage")
def coverage_command(files: list[Path],
                     visits: list[Path] = typer.Option([], "--visits", help="JSON lines of visits (the test suite "
                                                         "writes var/coverage/suite.jsonl)"),
                     histories: list[Path] = typer.Option([], "--histories", help="audit export directories"),
                     as_json: bool = typer.Option(False, "--json"),
                     strict: bool = typer.Option(False, help="exit 1 when a declared transition was never visited")
                     ) -> None:
    """Which states and transitions of each call's machine were visited, and which never were (a finding)."""
    seen: list[Visit] = [v for p in visits for v in read_visits(p)]
    for directory in histories:
        seen += export_visits(directory)
    results = [coverage(load(f), seen) for f in files]
    if as_json:
        print(json.dumps([dataclasses.asdict(r) for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            _print(r)
    raise typer.Exit(1 if strict and any(r.never()[1] for r in results) else 0)


def _print(r: MachineCoverage) -> None:
    out.print(r.summary(), highlight=False)
    states, transitions = r.never()
    for s in states:
        out.print(f"  never in state {s}", highlight=False)
    for t in transitions:
        out.print(f"  never: {t}", highlight=False)
    for t in r.undeclared:
        out.print(f"  visited but not declared: {t}", highlight=False)
