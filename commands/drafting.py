"""`grantflow calls draft NOTICE`: a draft call file from a notice's own text (and a review page beside it)."""

from __future__ import annotations

from pathlib import Path

import typer

from commands.common import fail

drafting_app = typer.Typer()


@drafting_app.command("draft")
def calls_draft(notice: Path,
                out_file: Path | None = typer.Option(None, "--out", help="write the draft call file here"),
                html: Path | None = typer.Option(None, "--html", help="write the review page here")) -> None:
    """Draft a call file from a notice (text, HTML or a PDF with a text layer): every value with its sentence, every
    undecided one a TODO; one line counts instants found and flagged, sentences mapped and left."""
    from drafting.draft import draft_notice  # the notice readers (opencc, cn2an, bs4, pypdf) load for this command only
    from drafting.review import render_review
    from drafting.source import NoticeError, read_notice

    try:
        draft = draft_notice(read_notice(notice))
    except NoticeError as exc:
        raise fail(str(exc)) from None
    if out_file is not None:
        out_file.write_text(draft.text(), encoding="utf-8")
    else:
        typer.echo(draft.text(), nl=False)
    if html is not None:
        html.write_text(render_review(draft), encoding="utf-8")
    typer.echo(draft.summary(), err=True)
