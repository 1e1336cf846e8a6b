"""`grantflow calls gantt`: a call's timeline as an SVG, a row per phase and per category with its own close."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from audit.gantt import gantt_svg
from cli import app
from client.calls import prepare
from models.call import load_call

CALLS = Path(__file__).resolve().parent.parent / "calls"
SVG = "{http://www.w3.org/2000/svg}"


def test_every_dated_phase_is_a_bar_and_every_category_close_a_mark() -> None:
    call = load_call(next(CALLS.glob("009-*.yaml")))
    prepared = prepare(call)
    timetable = prepared.timetable
    svg = ET.fromstring(gantt_svg(call, timetable, prepared.input.calendar))
    bars = svg.findall(f"{SVG}rect")
    assert len(bars) == sum(1 for p in timetable.phases if p.opens is not None)
    own = [(c.id, pid) for c in call.categories for pid, t in c.closes.items() if t != timetable.get(pid).closes]
    marks = svg.findall(f"{SVG}line[@class='close']")
    assert own and len(marks) == len(own)
    assert all((m.find(f"{SVG}title").text or "").endswith(tuple("0123456789")) for m in marks)
    labels = [t.text or "" for t in svg.findall(f"{SVG}text[@class='label']")]
    assert all(any(f"({p.id})" in label for label in labels) for p in call.phases)


def test_a_phase_without_dates_says_who_opens_it() -> None:
    call = load_call(next(CALLS.glob("003-*.yaml")))  # every window is opened by the programme office
    prepared = prepare(call)
    text = gantt_svg(call, prepared.timetable, prepared.input.calendar)
    assert "opens by a manager" in text


def test_the_command_writes_the_picture(tmp_path: Path) -> None:
    out = tmp_path / "000.svg"
    done = CliRunner().invoke(app, ["calls", "gantt", str(next(CALLS.glob("000-*.yaml"))), "--out", str(out)])
    assert done.exit_code == 0, done.output
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.tag == f"{SVG}svg" and "2025" in out.read_text(encoding="utf-8")
