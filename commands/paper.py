"""Calendars and paper on the command line: a call's or an application's deadlines as iCalendar (`calls ical`),
the printable form and paper checklist (`form`), and the reconciliation of a scanned paper copy (`paper`)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from client.errors import Invalid
from commands.common import Failure, out, run, safe
from commands.session import session

ical_app = typer.Typer()
paper_app = typer.Typer()


def _write(content: bytes, path: Path | None, what: str) -> None:
    if path is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise Failure(f"{path}: {exc.strerror}") from None
    out.print(f"wrote {safe(path)} ({what}, {len(content)} bytes)", highlight=False, soft_wrap=True)


@ical_app.command("ical")
def calls_ical(call_id: str, application: str | None = typer.Option(
        None, help="only the deadlines that bind this application (its extensions included)"),
               output: Path | None = typer.Option(None, "--out", help="write the feed here (default: stdout)")) -> None:
    """Deadlines as an iCalendar feed: every close of the call, or every close that binds one application; instants
    in the call's timezone, an alarm per reminder offset of the call."""
    async def go() -> bytes:
        async with session() as (service, identity):
            if application is None:
                return await service.call_ical(identity, call_id)
            st, _ = await service.application(application)
            if st.call_id != call_id:
                raise Invalid(f"application {application} is in call {st.call_id}, not {call_id}")
            return await service.application_ical(identity, application)
    _write(run(go()), output, "iCalendar")


@paper_app.command("form")
def form(application_id: str, output: Path = typer.Option(..., "--out", help="the PDF to write")) -> None:
    """The printable application form and paper checklist (PDF) of the submitted version, with the QR code a clerk
    scans when the paper copy arrives (receipt number and content hash)."""
    async def go() -> bytes:
        async with session() as (service, identity):
            return await service.printable(identity, application_id)
    _write(run(go()), output, "PDF")


@paper_app.command("paper")
def paper(application_id: str, code: str = typer.Argument(..., help="the text of the paper copy's QR code"),
          receive: bool = typer.Option(False, "--receive", help="register the paper copy as received when it matches "
                                                                 "(agency, manager)")) -> None:
    """Reconcile a paper copy with the online version from its scanned QR code: "matches the online version", or
    how it differs (exit 1)."""
    async def go() -> bool:
        async with session() as (service, identity):
            verdict, record = await service.reconcile_paper(identity, application_id, code, receive)
        out.print(safe(verdict.line), highlight=False, soft_wrap=True)
        if record is not None:
            out.print(f"{application_id}: {record.source} -> {record.dest} ({record.trigger} by {record.role}:"
                      f"{safe(record.actor_id)})", highlight=False)
        return verdict.matches
    if not run(go()):
        raise typer.Exit(1)
