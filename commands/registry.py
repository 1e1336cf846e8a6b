"""`grantflow registry ...`: import units, people and projects; write a seeded sample registry."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from sqlmodel import Session

from commands.common import out, records_db
from records.registry import RegistryFileError, import_file
from simulation.contacts import with_addresses
from simulation.population import sample_registry

registry_app = typer.Typer(no_args_is_help=True, help="The registry of units, people and projects: import, sample.")


@registry_app.command("import")
def registry_import(file: Path, table: str | None = typer.Option(
        None, help="the table a CSV file holds: units, people or projects (default: from the file name)")) -> None:
    """Import units, people or projects (CSV or JSON): every bad row is reported by row and column, and then
    nothing is written."""
    try:
        with Session(records_db()) as session:
            report = import_file(session, file, table)
    except RegistryFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for problem in report.errors:
        typer.echo(f"{file}: {problem}", err=True)
    if report.errors:
        raise typer.Exit(1)
    out.print(f"{file}: imported " + ", ".join(f"{n} {t}" for t, n in report.counts.items()))


@registry_app.command("sample")
def registry_sample(seed: int = typer.Option(1), out_file: Path = typer.Option(..., "--out"),
                    as_of: datetime = typer.Option("2025-01-01", "--as-of", formats=["%Y-%m-%d"],
                                                   help="the day ages and dates are relative to"),
                    people: int = typer.Option(200, min=1)) -> None:
    """Write a seeded sample registry as JSON (the import format): mostly eligible PIs, some of every ineligible
    kind."""
    data = sample_registry(seed, as_of.date(), people)
    with_addresses(data.units, data.people)
    out_file.write_text(json.dumps(data.rows(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.print(f"{out_file}: {len(data.units)} units, {len(data.people)} people, {len(data.projects)} projects")
